// Go's typed JSON round trip of a JobSet (ADR 0008). Upstream's mutating webhook decodes the request
// into its Go types, defaults them and encodes them again with encoding/json; its patch is the
// difference. goRoundTrip() reproduces that encoding by walking the object along go-types.generated.json, the
// table scripts/gotypes generates from the real Go types: non-pointer structs are always written
// (`metadata: {}`, `resources: {}`, `status: {restarts: 0}`), fields without omitempty are written with
// their zero value (`name: ""`), unknown fields are dropped, quantities and times are re-encoded, and a
// nil slice or map differs from an empty one as it does in Go.
import goTypes from "./go-types.generated.json" with { type: "json" };
import { QuantityError, roundTripQuantity } from "./quantity.ts";

/** A field of a Go struct: JSON name, type expression, flags ("o" omitempty, "z" omitzero). */
type Field = [name: string, type: string, flags: string];

const structs = goTypes.structs as unknown as Record<string, Field[]>;

/** Go would not decode the object (type mismatch, bad quantity or time): answered 400 like Go's decoder. */
export class RoundTripError extends Error {}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

const jsonType = (v: unknown): string =>
  v === null ? "null" : Array.isArray(v) ? "array" : typeof v === "object" ? "object" : typeof v;

const mismatch = (path: string, v: unknown, goType: string): never => {
  throw new RoundTripError(`json: cannot unmarshal ${jsonType(v)} into Go struct field ${path} of type ${goType}`);
};

const ZERO_TIME = "0001-01-01T00:00:00Z";

/** metav1.Time: RFC 3339 in, whole seconds in UTC out (`null` for the zero time). */
function roundTripTime(v: unknown, path: string): string | null {
  if (typeof v !== "string") return mismatch(path, v, "v1.Time");
  const m = /^(\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2})(?:\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.exec(v);
  const ms = m ? Date.parse(`${m[1]}${m[2]}`.toUpperCase()) : Number.NaN;
  if (!m || Number.isNaN(ms)) {
    throw new RoundTripError(`parsing time ${JSON.stringify(v)} as "2006-01-02T15:04:05Z07:00": cannot parse`);
  }
  const out = `${new Date(ms).toISOString().slice(0, 19)}Z`;
  return out === ZERO_TIME ? null : out;
}

/** The Go value of a field is "empty" for omitempty: false, 0, "", nil pointer, empty slice or map. */
function isEmpty(type: string, goValue: unknown): boolean {
  if (type.startsWith("*")) return goValue === null;
  if (type.startsWith("[]") || type.startsWith("map") || type === "bytes") {
    if (goValue === null) return true;
    return Array.isArray(goValue) ? goValue.length === 0 : isRecord(goValue) && Object.keys(goValue).length === 0;
  }
  if (type === "string") return goValue === "";
  if (type === "int" || type === "float") return goValue === 0;
  if (type === "bool") return goValue === false;
  return false; // structs (including Quantity, Time, IntOrString) are never empty
}

/** The zero value for omitzero (Time uses its IsZero method: encoded as null). */
function isZero(type: string, goValue: unknown): boolean {
  if (type === "Time") return goValue === null;
  if (type === "Quantity") return goValue === "0";
  if (type === "IntOrString") return goValue === 0;
  const fields = structs[type];
  if (fields) return isRecord(goValue) && fields.every(([n, t]) => !(n in goValue) || isZero(t, goValue[n]));
  if (type.startsWith("*") || type.startsWith("[]") || type.startsWith("map") || type === "bytes")
    return goValue === null;
  return isEmpty(type, goValue);
}

/**
 * The JSON that encoding/json writes for a Go value of `type` decoded from `v` (undefined: the field
 * was absent, i.e. Go's zero value).
 */
function encode(type: string, v: unknown, path: string): unknown {
  if (type.startsWith("*")) return v === undefined || v === null ? null : encode(type.slice(1), v, path);
  if (type.startsWith("[]")) {
    if (v === undefined || v === null) return null;
    if (!Array.isArray(v)) return mismatch(path, v, type);
    const item = type.slice(2);
    return v.map((x, i) => encode(item, x === null ? undefined : x, `${path}[${i}]`));
  }
  if (type.startsWith("map")) {
    if (v === undefined || v === null) return null;
    if (!isRecord(v)) return mismatch(path, v, type);
    const item = type.slice(3);
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = encode(item, x === null ? undefined : x, `${path}.${k}`);
    return out;
  }
  switch (type) {
    case "string":
    case "bytes":
      if (v === undefined) return type === "bytes" ? null : "";
      return typeof v === "string" ? v : mismatch(path, v, type);
    case "int":
      if (v === undefined) return 0;
      return typeof v === "number" && Number.isInteger(v) ? v : mismatch(path, v, "int");
    case "float":
      if (v === undefined) return 0;
      return typeof v === "number" ? v : mismatch(path, v, "float64");
    case "bool":
      if (v === undefined) return false;
      return typeof v === "boolean" ? v : mismatch(path, v, "bool");
    case "Quantity":
      if (v === undefined) return "0";
      if (typeof v !== "string" && typeof v !== "number") return mismatch(path, v, "resource.Quantity");
      try {
        return roundTripQuantity(v);
      } catch (e) {
        if (e instanceof QuantityError) throw new RoundTripError(e.message);
        throw e;
      }
    case "Time":
      return v === undefined ? null : roundTripTime(v, path);
    case "IntOrString":
      if (v === undefined) return 0;
      if (typeof v === "string") return v;
      return typeof v === "number" && Number.isInteger(v) ? v : mismatch(path, v, "intstr.IntOrString");
    case "RawJSON":
      return v === undefined ? null : v;
    default:
      return encodeStruct(type, v, path);
  }
}

function encodeStruct(type: string, v: unknown, path: string): Record<string, unknown> {
  const fields = structs[type];
  if (!fields) throw new Error(`go-types.generated.json has no struct ${type}: regenerate it (npm run generate)`);
  if (v !== undefined && !isRecord(v)) return mismatch(path, v, type);
  const out: Record<string, unknown> = {};
  for (const [name, t, flags] of fields) {
    const raw = v?.[name];
    const goValue = encode(t, raw === null ? undefined : raw, path ? `${path}.${name}` : name);
    if (flags.includes("o") && isEmpty(t, goValue)) continue;
    if (flags.includes("z") && isZero(t, goValue)) continue;
    out[name] = goValue;
  }
  return out;
}

/**
 * The object upstream's webhook would encode after decoding `obj` into its Go JobSet type (before
 * defaulting). `obj` is a JobSet as JSON; throws RoundTripError where Go's decoder would fail.
 */
export function goRoundTrip<T>(obj: T): T {
  return encodeStruct(goTypes.root, obj, "") as T;
}

/**
 * The object a patch leads to when it is computed as upstream's controller-runtime does: the diff from
 * the request's raw object to `encoded`, with the removals the scheme's round trip alone causes dropped
 * (fields unknown to the Go types, omitempty zero values and nulls stay as the request had them).
 * Defaulting never removes anything, so every key of `raw` that `encoded` lacks is kept.
 */
export function keepSchemeRemovals(raw: unknown, encoded: unknown): unknown {
  if (isRecord(raw) && isRecord(encoded)) {
    const out: Record<string, unknown> = { ...raw };
    for (const [k, v] of Object.entries(encoded)) out[k] = k in raw ? keepSchemeRemovals(raw[k], v) : v;
    return out;
  }
  if (Array.isArray(raw) && Array.isArray(encoded)) {
    const n = Math.min(raw.length, encoded.length);
    return [...encoded.slice(0, n).map((v, i) => keepSchemeRemovals(raw[i], v)), ...encoded.slice(n)];
  }
  return encoded;
}
