// Feature gates of the JobSet controller (spec §1.18). Set only through the Configuration file's
// `featureGates` map; an unknown name or a change to a locked gate is a startup error.

export const FeatureNames = [
  "InPlaceRestart",
  "RestartJob",
  "ElasticJobSet",
  "TLSOptions",
  "JobSetWorkloadAwareSchedulingAPI",
] as const;
export type FeatureName = (typeof FeatureNames)[number];

export type FeatureGates = Readonly<Record<FeatureName, boolean>>;

export interface FeatureSpec {
  default: boolean;
  stage: "Alpha" | "Beta" | "GA";
  /** A locked gate cannot be set to anything but its default. */
  locked: boolean;
}

export const FeatureSpecs: Readonly<Record<FeatureName, FeatureSpec>> = {
  InPlaceRestart: { default: false, stage: "Alpha", locked: false },
  RestartJob: { default: false, stage: "Alpha", locked: false },
  ElasticJobSet: { default: false, stage: "Alpha", locked: false },
  TLSOptions: { default: true, stage: "GA", locked: true },
  JobSetWorkloadAwareSchedulingAPI: { default: false, stage: "Alpha", locked: false },
};

export const defaultFeatureGates: FeatureGates = Object.freeze({
  InPlaceRestart: false,
  RestartJob: false,
  ElasticJobSet: false,
  TLSOptions: true,
  JobSetWorkloadAwareSchedulingAPI: false,
});

export class FeatureGateError extends Error {
  override name = "FeatureGateError";
}

const isFeatureName = (name: string): name is FeatureName => (FeatureNames as readonly string[]).includes(name);

/**
 * Applies a `featureGates` map (`{Name: bool}`) to the defaults. Throws FeatureGateError for an unknown
 * gate, a non-boolean value, or an attempt to change a locked gate.
 */
export function parseFeatureGates(map: Readonly<Record<string, unknown>> | undefined): FeatureGates {
  const gates: Record<FeatureName, boolean> = { ...defaultFeatureGates };
  for (const [name, value] of Object.entries(map ?? {})) {
    if (!isFeatureName(name)) {
      throw new FeatureGateError(`unrecognized feature gate: ${name} (known gates: ${FeatureNames.join(", ")})`);
    }
    if (typeof value !== "boolean") {
      throw new FeatureGateError(
        `invalid value of feature gate ${name}: ${JSON.stringify(value)} (want true or false)`,
      );
    }
    const spec = FeatureSpecs[name];
    if (spec.locked && value !== spec.default) {
      throw new FeatureGateError(`cannot set feature gate ${name} to ${value}, feature is locked to ${spec.default}`);
    }
    gates[name] = value;
  }
  return Object.freeze(gates);
}

/** Parses the `--feature-gates Name=true,Other=false` flag syntax into a map for parseFeatureGates. */
export function parseFeatureGatesFlag(flag: string): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  for (const part of flag.split(",")) {
    const item = part.trim();
    if (item === "") continue;
    const eq = item.indexOf("=");
    if (eq < 0) throw new FeatureGateError(`missing bool value for feature gate ${item} (want Name=true|false)`);
    const name = item.slice(0, eq).trim();
    const raw = item
      .slice(eq + 1)
      .trim()
      .toLowerCase();
    if (raw !== "true" && raw !== "false") {
      throw new FeatureGateError(`invalid value of ${name}=${item.slice(eq + 1)}, want true or false`);
    }
    out[name] = raw === "true";
  }
  return out;
}
