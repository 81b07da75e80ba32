// What controller-runtime's admission decoder does with an admission object before a handler sees it:
// the universal deserializer checks apiVersion/kind against the scheme, then Go's JSON decoder
// (sigs.k8s.io/json) decodes into the typed struct: a JSON type that does not fit a Go field is an error
// (answered 400), `null` is the zero value (absent), unknown fields are ignored. Enums, patterns, required
// fields and ranges are *not* checked here: that is schema validation, which the API server runs after
// mutating admission. Both JobSets and Pods go through the Go type model of upstream's types
// (src/api/go-value.ts), so the error text is Go's (checked against Go in test/unit/go-value.test.ts).
import { GoTypes, goDecode } from "../api/go-value.ts";
import { interpretError } from "./admission.ts";
import schemeKindsJson from "./scheme-kinds.generated.json" with { type: "json" };

/** Kinds by group/version ("v1", "batch/v1", …) in the scheme of upstream's manager. */
const schemeKinds: Readonly<Record<string, readonly string[]>> = schemeKindsJson;

export type DecodeResult<T> = { ok: true; value: T } | { ok: false; message: string };

/** The name apimachinery gives the scheme of a program (runtime.NewScheme's call site), as upstream's errors show it. */
export const SchemeName = "pkg/runtime/scheme.go:111";

interface Gvk {
  group: string;
  version: string;
  kind: string;
}

/**
 * The group/version/kind check of the universal deserializer decoding into a typed object of `want`
 * (`goName`, as Go's reflect prints the pointer type): a missing kind or version is taken from the type;
 * another kind the scheme knows is decoded into a new object of that kind, which `runtime.DecodeInto` then
 * refuses (`unable to decode /v1, Kind=Pod into *v1alpha2.JobSet`); a kind the scheme does not know is
 * "no kind … is registered". The scheme is upstream's manager's (scheme-kinds.generated.json).
 */
export function kindError(v: Record<string, unknown>, want: Gvk, goName: string): string | undefined {
  const apiVersion = typeof v.apiVersion === "string" ? v.apiVersion : "";
  let kind = typeof v.kind === "string" ? v.kind : "";
  const slash = apiVersion.indexOf("/");
  let group = slash >= 0 ? apiVersion.slice(0, slash) : "";
  let version = slash >= 0 ? apiVersion.slice(slash + 1) : apiVersion;
  if (kind === "") kind = want.kind;
  if (version === "" && group === "") {
    group = want.group;
    version = want.version;
  }
  if (version === "" && group === want.group) version = want.version;
  if (group === want.group && version === want.version && kind === want.kind) return undefined;
  const gv = group === "" ? version : `${group}/${version}`;
  // GroupVersionKind.String() is group + "/" + version, so the core group shows as "/v1".
  if (schemeKinds[gv]?.includes(kind)) return `unable to decode ${group}/${version}, Kind=${kind} into *${goName}`;
  return `no kind ${JSON.stringify(kind)} is registered for version ${JSON.stringify(gv)} in scheme ${JSON.stringify(SchemeName)}`;
}

function decodeAs<T>(v: unknown, want: Gvk, goType: string, goName: string): DecodeResult<T> {
  // controller-runtime's DecodeRaw: an absent or null object (an empty RawExtension) has no content.
  if (v === undefined || v === null) return { ok: false, message: "there is no content to decode" };
  const interpreted = interpretError(v);
  if (interpreted) return { ok: false, message: interpreted };
  // interpretError refuses anything but an object (null was handled above).
  const kindErr = kindError(v as Record<string, unknown>, want, goName);
  if (kindErr) return { ok: false, message: kindErr };
  const d = goDecode<T>(v, goType);
  return d.ok ? { ok: true, value: d.value } : { ok: false, message: d.message };
}

const JobSetGvk: Gvk = { group: "jobset.x-k8s.io", version: "v1alpha2", kind: "JobSet" };
const PodGvk: Gvk = { group: "", version: "v1", kind: "Pod" };

/** Decodes an admission object into upstream's typed JobSet (Go's errors; nulls dropped). */
export const decodeJobSet = <T>(v: unknown): DecodeResult<T> =>
  decodeAs<T>(v, JobSetGvk, GoTypes.JobSet, "v1alpha2.JobSet");

/** Decodes an admission object into a typed core/v1 Pod (Go's errors; nulls dropped). */
export const decodePod = <T>(v: unknown): DecodeResult<T> => decodeAs<T>(v, PodGvk, "core/v1.Pod", "v1.Pod");
