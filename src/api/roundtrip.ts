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

// ---------------------------------------------------------------------------------------------- compiled table

/** A type expression of the table, parsed once. */
type GoType =
  | { k: "ptr" | "slice" | "map"; elem: GoType; name: string }
  | { k: "struct"; name: string; fields: CompiledField[] }
  | {
      k: "string" | "bytes" | "int" | "float" | "bool" | "Quantity" | "Time" | "IntOrString" | "RawJSON";
      name: string;
    };

interface CompiledField {
  name: string;
  type: GoType;
  omitempty: boolean;
  omitzero: boolean;
}

const compiled = new Map<string, GoType>();

function goType(expr: string): GoType {
  const known = compiled.get(expr);
  if (known) return known;
  let t: GoType;
  if (expr.startsWith("*")) t = { k: "ptr", elem: goType(expr.slice(1)), name: expr };
  else if (expr.startsWith("[]")) t = { k: "slice", elem: goType(expr.slice(2)), name: expr };
  else if (expr.startsWith("map")) t = { k: "map", elem: goType(expr.slice(3)), name: expr };
  else if (Object.hasOwn(structs, expr)) {
    const st: GoType = { k: "struct", name: expr, fields: [] };
    compiled.set(expr, st); // before the fields: types can be recursive
    for (const [name, type, flags] of structs[expr] ?? []) {
      st.fields.push({ name, type: goType(type), omitempty: flags.includes("o"), omitzero: flags.includes("z") });
    }
    return st;
  } else if (["string", "bytes", "int", "float", "bool", "Quantity", "Time", "IntOrString", "RawJSON"].includes(expr)) {
    t = { k: expr as "string", name: expr };
  } else throw new Error(`go-types.generated.json: unknown type ${expr}: regenerate it (npm run generate)`);
  compiled.set(expr, t);
  return t;
}

/** The Go value of a field is "empty" for omitempty: false, 0, "", nil pointer, empty slice or map. */
function isEmpty(t: GoType, goValue: unknown): boolean {
  switch (t.k) {
    case "ptr":
      return goValue === null;
    case "slice":
    case "map":
    case "bytes":
      if (goValue === null || goValue === "") return true;
      return Array.isArray(goValue) ? goValue.length === 0 : isRecord(goValue) && Object.keys(goValue).length === 0;
    case "string":
      return goValue === "";
    case "int":
    case "float":
      return goValue === 0;
    case "bool":
      return goValue === false;
    default:
      return false; // structs (including Quantity, Time, IntOrString) are never empty
  }
}

/** The zero value for omitzero (Time uses its IsZero method: encoded as null). */
function isZero(t: GoType, goValue: unknown): boolean {
  switch (t.k) {
    case "Time":
    case "RawJSON":
    case "ptr":
    case "slice":
    case "map":
      return goValue === null;
    case "Quantity":
      return goValue === "0";
    case "IntOrString":
      return goValue === 0;
    case "struct":
      return isRecord(goValue) && t.fields.every((f) => !(f.name in goValue) || isZero(f.type, goValue[f.name]));
    default:
      return isEmpty(t, goValue);
  }
}

/**
 * The JSON that encoding/json writes for a Go value of type `t` decoded from `v` (undefined: the field
 * was absent, i.e. Go's zero value). `path` names the value in errors only.
 */
function encode(t: GoType, v: unknown, path: () => string): unknown {
  switch (t.k) {
    case "ptr":
      return v === undefined || v === null ? null : encode(t.elem, v, path);
    case "slice": {
      if (v === undefined || v === null) return null;
      if (!Array.isArray(v)) return mismatch(path(), v, t.name);
      const elem = t.elem;
      return v.map((x, i) => encode(elem, x === null ? undefined : x, () => `${path()}[${i}]`));
    }
    case "map": {
      if (v === undefined || v === null) return null;
      if (!isRecord(v)) return mismatch(path(), v, t.name);
      const out: Record<string, unknown> = {};
      for (const k in v) out[k] = encode(t.elem, v[k] === null ? undefined : v[k], () => `${path()}.${k}`);
      return out;
    }
    case "struct":
      return encodeStruct(t, v, path);
    case "string":
    case "bytes":
      if (v === undefined) return t.k === "bytes" ? null : "";
      return typeof v === "string" ? v : mismatch(path(), v, t.k);
    case "int":
      if (v === undefined) return 0;
      return typeof v === "number" && Number.isInteger(v) ? v : mismatch(path(), v, "int");
    case "float":
      if (v === undefined) return 0;
      return typeof v === "number" ? v : mismatch(path(), v, "float64");
    case "bool":
      if (v === undefined) return false;
      return typeof v === "boolean" ? v : mismatch(path(), v, "bool");
    case "Quantity":
      if (v === undefined) return "0";
      if (typeof v !== "string" && typeof v !== "number") return mismatch(path(), v, "resource.Quantity");
      try {
        return roundTripQuantity(v);
      } catch (e) {
        if (e instanceof QuantityError) throw new RoundTripError(e.message);
        throw e;
      }
    case "Time":
      return v === undefined ? null : roundTripTime(v, path());
    case "IntOrString":
      if (v === undefined) return 0;
      if (typeof v === "string") return v;
      return typeof v === "number" && Number.isInteger(v) ? v : mismatch(path(), v, "intstr.IntOrString");
    case "RawJSON":
      return v === undefined ? null : v;
  }
}

function encodeStruct(t: GoType & { k: "struct" }, v: unknown, path: () => string): Record<string, unknown> {
  if (v !== undefined && !isRecord(v)) return mismatch(path(), v, t.name);
  const out: Record<string, unknown> = {};
  for (const f of t.fields) {
    let raw = v?.[f.name];
    if (raw === null) raw = undefined;
    // An absent pointer, slice, map or scalar with omitempty is not written: skip the work.
    if (raw === undefined && f.omitempty && f.type.k !== "struct" && !(f.type.k in specialStructs)) continue;
    const goValue = encode(f.type, raw, () => (path() ? `${path()}.${f.name}` : f.name));
    if (f.omitempty && isEmpty(f.type, goValue)) continue;
    if (f.omitzero && isZero(f.type, goValue)) continue;
    out[f.name] = goValue;
  }
  return out;
}

/** Struct types with their own encoding: omitempty never omits them. */
const specialStructs = { Quantity: 1, Time: 1, IntOrString: 1, RawJSON: 1 } as const;

/**
 * The object upstream's webhook would encode after decoding `obj` into its Go JobSet type (before
 * defaulting). `obj` is a JobSet as JSON; throws RoundTripError where Go's decoder would fail.
 */
export function goRoundTrip<T>(obj: T): T {
  const root = goType(goTypes.root);
  if (root.k !== "struct") throw new Error(`go-types.generated.json: the root ${goTypes.root} is not a struct`);
  return encodeStruct(root, obj, () => "") as T;
}
