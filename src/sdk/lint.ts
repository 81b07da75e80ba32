// The offline judgement of a JobSet, shared by the SDK (`lint`, `plan`, the builder) and the CLI
// (`jobset lint`, `jobset plan`): one code path, so a JobSet built in code gets exactly the field-path
// errors `jobset lint` prints for the same JobSet in YAML. (plan.ts holds the first-reconcile plan, so
// that `jobset lint` does not load the reconcile core.)
//
// lint follows the API server's order on CREATE: CRD structural defaults on decode, mutating admission
// (the JobSet defaulting webhook), structural defaults again on the patched object, object metadata and
// OpenAPI schema validation, then validating admission (the JobSet validating webhook).
import jsonpatch from "fast-json-patch";
import { ApiVersion, Group, Kind } from "../api/constants.ts";
import { defaultFeatureGates, type FeatureGates, type FeatureName, parseFeatureGates } from "../api/features.ts";
import {
  aggregateMessage,
  type FieldError,
  formatFieldError,
  invalid,
  isDNS1123Subdomain,
  notSupported,
  required,
} from "../api/field-errors.ts";
import { applySchemaDefaults, checkSchema } from "../api/schema.ts";
import type { JobSet } from "../api/types.ts";
import { validateCreate } from "../api/validation.ts";
import { decodePatch } from "../webhooks/admission.ts";
import { mutateJobSet } from "../webhooks/jobset-webhook.ts";

/** Feature gates of the controller the JobSet is judged for (unset gates take their defaults). */
export type FeatureGateSettings = Partial<Record<FeatureName, boolean>>;

/** A deterministic source of "random" generateName suffixes, so lint output is reproducible. */
function seededRandom(seed = 42): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** The metadata checks the API server makes before admission: name or generateName, DNS subdomain. */
function checkMetadata(js: JobSet): FieldError[] {
  const meta = js.metadata;
  if (!meta?.name && !meta?.generateName) return [required("metadata.name", "name or generateName is required")];
  if (meta.name) return isDNS1123Subdomain(meta.name).map((m) => invalid("metadata.name", meta.name, m));
  return [];
}

/** What lintJobSet found, and the JobSet as the API server would store it (defaults applied). */
export interface Judgement {
  errors: FieldError[];
  warnings: string[];
  /** The defaulted JobSet (meaningful when there are no errors). */
  object: JobSet;
}

/** Judges one JobSet document: schema errors stop before the validating webhook, like the API server. */
export function lintJobSet(
  value: Record<string, unknown>,
  gates: FeatureGates,
  random: () => number = seededRandom(),
): Judgement {
  if (value.apiVersion !== undefined && value.apiVersion !== ApiVersion)
    return { errors: [notSupported("apiVersion", value.apiVersion, [ApiVersion])], warnings: [], object: value };
  let obj = applySchemaDefaults(structuredClone(value)) as JobSet;
  // The mutating webhook's own answer (its patch is Go's typed round trip plus the defaults). An object
  // Go cannot decode is not patched; the schema check below reports why.
  const m = mutateJobSet({
    uid: "lint",
    kind: { group: Group, version: "v1alpha2", kind: Kind },
    resource: { group: Group, version: "v1alpha2", resource: "jobsets" },
    operation: "CREATE",
    userInfo: {},
    object: obj,
  });
  if (m.allowed && m.patch) {
    obj = jsonpatch.applyPatch(obj, decodePatch(m) as jsonpatch.Operation[], false, false).newDocument;
  }
  obj = applySchemaDefaults(obj);
  const schema = checkSchema(obj);
  // The API server validates object metadata first, then the schema (and its CEL rules).
  const errors = checkMetadata(obj);
  const seen = new Set(errors.map(formatFieldError));
  for (const e of schema.errors) if (!seen.has(formatFieldError(e))) errors.push(e);
  if (errors.length > 0) return { errors, warnings: schema.warnings, object: obj };
  return { errors: validateCreate(obj, gates, { random }), warnings: schema.warnings, object: obj };
}

export interface LintOptions {
  /** Feature gates of the controller, e.g. { InPlaceRestart: true }. */
  featureGates?: FeatureGateSettings;
}

export interface LintResult {
  valid: boolean;
  /** Each problem with its field path, e.g. `spec.replicatedJobs[0].name`. */
  errors: FieldError[];
  /** The errors as `jobset lint` prints them: `FIELD.PATH: Type: value: detail`. */
  messages: string[];
  warnings: string[];
}

export const gatesOf = (s: FeatureGateSettings | undefined): FeatureGates =>
  s ? parseFeatureGates(s as Record<string, unknown>) : defaultFeatureGates;

/**
 * Judges a JobSet as the API server with the JobSet webhooks would on create (what `jobset lint`
 * prints for a file). Never throws for a bad JobSet: the result lists the problems.
 */
export function lint(jobset: JobSet | Record<string, unknown>, o: LintOptions = {}): LintResult {
  const { errors, warnings } = lintJobSet(jobset as Record<string, unknown>, gatesOf(o.featureGates));
  return { valid: errors.length === 0, errors, messages: errors.map(formatFieldError), warnings };
}

/** A JobSet the API server or the JobSet webhooks would reject; `errors` has each field path. */
export class JobSetInvalidError extends Error {
  override name = "JobSetInvalidError";
  readonly errors: FieldError[];
  /** The errors as `jobset lint` prints them: `FIELD.PATH: Type: value: detail`. */
  readonly messages: string[];
  constructor(name: string, errors: FieldError[]) {
    super(`${Kind}.${Group} ${JSON.stringify(name)} is invalid: ${aggregateMessage(errors)}`);
    this.errors = errors;
    this.messages = errors.map(formatFieldError);
  }
}

/**
 * The JobSet as the API server would store it (schema defaults and the defaulting webhook), or a
 * JobSetInvalidError listing what `jobset lint` would. The builder's last step.
 */
export function defaulted(jobset: JobSet, o: LintOptions = {}): JobSet {
  const { errors, object } = lintJobSet(jobset as Record<string, unknown>, gatesOf(o.featureGates));
  const name = jobset.metadata?.name ?? jobset.metadata?.generateName ?? "";
  if (errors.length > 0) throw new JobSetInvalidError(name, errors);
  return object;
}
