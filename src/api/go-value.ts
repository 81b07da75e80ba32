// Plain JSON seen through the Go types of JobSet (the model of src/api/go-types.ts, generated from the Go
// types by reflection): what Go's JSON decoder refuses and how it words it, how json.Marshal prints the
// typed value (`Invalid value: <JSON>` in field errors), and apimachinery's `equality.Semantic.DeepEqual`
// (the immutability checks). The value is the typed object a Go decode would build: an absent or null
// field is the Go zero value, so `{}` equals an absent struct but not an absent pointer, `0` equals an
// absent int32 but not an absent *int32, nil and empty lists and maps are equal, and quantities compare
// by value (`1024Mi` = `1Gi`). goReflectEqual is plain reflect.DeepEqual instead (nil ≠ empty, `1024Mi` ≠ `1Gi`).
import { absent, type GoType, goTypeName, isRecord, type Node, nodeOf, type Special } from "./go-types.ts";
import {
  compareQuantities,
  isQuantity,
  parseQuantity,
  type Quantity,
  quantityIdentity,
  quantityString,
} from "./quantity.ts";

export { type GoType, GoTypes, goTypeName } from "./go-types.ts";

// ---------------------------------------------------------------------------------------------- decoding

export class GoDecodeError extends Error {}

/** The JSON type of a value (not null) as Go's encoding/json names it in "cannot unmarshal <type> into …". */
export const jsonKind = (v: unknown): string =>
  Array.isArray(v) ? "array" : isRecord(v) ? "object" : typeof v === "boolean" ? "bool" : typeof v;

/** Where the decoder is: the innermost struct's Go name and the JSON path segments from the top. */
interface Ctx {
  struct: string;
  path: string[];
}

function typeError(v: unknown, ctx: Ctx, t: GoType, literal = false): never {
  const what = typeof v === "number" && literal ? `number ${String(v)}` : jsonKind(v);
  const into = ctx.struct ? `Go struct field ${ctx.struct}.${ctx.path.join(".")}` : "Go value";
  throw new GoDecodeError(`json: cannot unmarshal ${what} into ${into} of type ${goTypeName(t)}`);
}

/** The zero value a `null` list item or map value becomes (plain JSON; absent for pointers). */
function zeroJson(n: Node): unknown {
  switch (n.k) {
    case "struct":
      return {};
    case "string":
      return "";
    case "bool":
      return false;
    case "int":
    case "float":
      return 0;
    default:
      return null;
  }
}

/**
 * Decodes `v` as `n`: throws Go's error for a type mismatch; returns the value with nulls dropped. Copy on
 * write: a value without nulls is returned as it is (same reference), so a clean object costs one walk.
 */
function decodeNode(v: unknown, n: Node, ctx: Ctx): unknown {
  switch (n.k) {
    case "ptr":
      return decodeNode(v, n.elem, ctx);
    case "slice": {
      if (!Array.isArray(v)) typeError(v, ctx, n.type);
      let out: unknown[] | undefined;
      for (let i = 0; i < v.length; i++) {
        const item = v[i];
        const d = item === null ? zeroJson(n.elem) : decodeNode(item, n.elem, ctx);
        if (d !== item) out ??= v.slice(0, i);
        if (out) out.push(d);
      }
      return out ?? v;
    }
    case "map": {
      if (!isRecord(v)) typeError(v, ctx, n.type);
      let out: Record<string, unknown> | undefined;
      for (const k in v) {
        const item = v[k];
        const d = item === null ? zeroJson(n.elem) : decodeNode(item, n.elem, ctx);
        if (d !== item) {
          out ??= { ...v };
          out[k] = d;
        }
      }
      return out ?? v;
    }
    case "struct": {
      if (!isRecord(v)) typeError(v, ctx, n.type);
      let out: Record<string, unknown> | undefined;
      const outer = ctx.struct;
      for (const k in v) {
        const child = v[k];
        if (child === null) {
          out ??= { ...v };
          delete out[k];
          continue;
        }
        const f = n.byName.get(k);
        if (!f) continue; // unknown to Go: ignored by the decoder, kept in the object (patches never remove it)
        ctx.struct = f.errorStruct;
        ctx.path.push(f.pathSegment);
        const d = decodeNode(child, f.node, ctx);
        ctx.path.pop();
        if (d !== child) {
          out ??= { ...v };
          out[k] = d;
        }
      }
      ctx.struct = outer;
      return out ?? v;
    }
    case "special":
      return decodeSpecial(v, n.special, ctx);
    case "string":
      if (typeof v !== "string") typeError(v, ctx, n.type);
      return v;
    case "bool":
      if (typeof v !== "boolean") typeError(v, ctx, n.type);
      return v;
    case "float":
      if (typeof v !== "number") typeError(v, ctx, n.type);
      return v;
    case "int":
      if (typeof v !== "number") typeError(v, ctx, n.type);
      if (!Number.isInteger(v) || v < n.lo || v > n.hi) typeError(v, ctx, n.type, true);
      return v;
  }
}

function decodeSpecial(v: unknown, t: Special, ctx: Ctx): unknown {
  switch (t) {
    case "Quantity": {
      if (typeof v === "number") return v;
      if (typeof v !== "string") typeError(v, ctx, t);
      if (toQuantity(v) === undefined) {
        const q = parseQuantity(v.trim());
        if (!isQuantity(q)) throw new GoDecodeError(q.error);
      }
      return v;
    }
    case "IntOrString":
      if (typeof v === "string") return v;
      if (typeof v === "number" && Number.isInteger(v) && v >= -2147483648 && v <= 2147483647) return v;
      return typeError(v, ctx, "int32", typeof v === "number");
    case "Time":
    case "MicroTime":
      if (typeof v !== "string") typeError(v, ctx, "string");
      if (timeMillis(v) === undefined) {
        throw new GoDecodeError(`parsing time ${JSON.stringify(v)} as "2006-01-02T15:04:05Z07:00": cannot parse`);
      }
      return v;
    case "Duration":
    case "bytes":
      if (typeof v !== "string") typeError(v, ctx, t);
      return v;
    default:
      return v;
  }
}

export type GoDecoded<T> = { ok: true; value: T } | { ok: false; message: string };

/**
 * Decodes `value` into `type` as Go's JSON decoder (sigs.k8s.io/json, which the admission decoder uses)
 * does: the first type error in document order is refused with Go's text (`json: cannot unmarshal
 * string into Go struct field ReplicatedJob.spec.replicatedJobs.replicas of type int32`); `null` is the
 * zero value (dropped); fields unknown to Go are kept as they are.
 */
export function goDecode<T>(value: unknown, type: GoType): GoDecoded<T> {
  try {
    return { ok: true, value: decodeNode(value, nodeOf(type), { struct: "", path: [] }) as T };
  } catch (e) {
    if (e instanceof GoDecodeError) return { ok: false, message: e.message };
    throw e;
  }
}

/** The decode error of `value` as `type` (see goDecode), or undefined. */
export function goDecodeError(value: unknown, type: GoType): string | undefined {
  const d = goDecode(value, type);
  return d.ok ? undefined : d.message;
}

// ---------------------------------------------------------------------------------------------- json.Marshal

const htmlUnsafe = /[<>&\u2028\u2029]/g;

/** Strings that JSON.stringify and Go print alike, with nothing to escape: printable ASCII but `"`, `\`, `<`, `>`, `&`. */
const plainAscii = /^[ !#-%'-;=?-[\]-~]*$/;

/** Go's json string encoding (HTML-safe: `<`, `>`, `&` escaped; U+2028/U+2029; lone surrogates → U+FFFD). */
export function goJsonString(s: string): string {
  if (plainAscii.test(s)) return `"${s}"`;
  const j = JSON.stringify(s.toWellFormed());
  return j.search(htmlUnsafe) < 0
    ? j
    : j.replace(htmlUnsafe, (c) => `\\u${(c.codePointAt(0) ?? 0).toString(16).padStart(4, "0")}`);
}

const quantityCache = new Map<string, Quantity | undefined>();

/** The parsed quantity (cached: the same few spellings recur in every request). */
const toQuantity = (v: unknown): Quantity | undefined => {
  if (typeof v === "number") v = String(v);
  if (typeof v !== "string") return undefined;
  if (quantityCache.has(v)) return quantityCache.get(v);
  const parsed = parseQuantity(v.trim());
  const q = isQuantity(parsed) ? parsed : undefined;
  if (quantityCache.size >= 4096) quantityCache.clear();
  quantityCache.set(v, q);
  return q;
};

const RFC3339 = /^(\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})$/;

/** The instant (ms) of a time Go's time.Parse(time.RFC3339) accepts (`""` and `2024-01-01` are refused), or undefined. */
function timeMillis(v: unknown): number | undefined {
  const m = typeof v === "string" ? RFC3339.exec(v) : null;
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}${m[3]}`.toUpperCase());
  return Number.isNaN(ms) ? undefined : ms + Math.floor(Number(`0.${m[2] ?? "0"}`) * 1000);
}

const ZERO_TIME = "0001-01-01T00:00:00";

/** metav1.Time/MicroTime as Go prints them: UTC, whole seconds (micro: 6 digits); undefined for null (zero or absent). */
const rfc3339 = (v: unknown, micro: boolean): string | undefined => {
  const ms = timeMillis(v);
  if (ms === undefined || typeof v !== "string") return undefined;
  const iso = new Date(ms).toISOString();
  if (iso.startsWith(ZERO_TIME) && ms === Date.parse(`${ZERO_TIME}Z`)) return undefined;
  if (!micro) return `${iso.slice(0, 19)}Z`;
  const frac = /\.(\d+)/.exec(v.replace(/[zZ]|[+-]\d\d:\d\d$/, ""))?.[1] ?? "";
  return `${iso.slice(0, 19)}.${frac.padEnd(6, "0").slice(0, 6)}Z`;
};

/** Whether Go's encoding/json `omitempty` drops this (typed) value. */
function isEmptyValue(v: unknown, n: Node): boolean {
  switch (n.k) {
    case "ptr":
      return absent(v);
    case "slice":
      return !Array.isArray(v) || v.length === 0;
    case "map":
      return !isRecord(v) || hasNoKeys(v);
    case "struct":
      return false;
    case "special":
      if (n.special === "bytes" || n.special === "FieldsV1") return absent(v) || v === "" || isEmptyObject(v);
      return n.special === "any" || n.special === "RawExtension" ? absent(v) : false;
    case "string":
      return absent(v) || v === "";
    case "bool":
      return absent(v) || v === false;
    default:
      return absent(v) || v === 0;
  }
}

const EmptyRecord: Readonly<Record<string, unknown>> = Object.freeze({});

const isEmptyObject = (v: unknown): boolean => isRecord(v) && hasNoKeys(v);

/** Whether `omitzero` drops it (the zero value; metav1.Time's IsZero). */
function isZeroValue(v: unknown, n: Node): boolean {
  if (n.k === "special" && (n.special === "Time" || n.special === "MicroTime")) return rfc3339(v, false) === undefined;
  if (n.k === "special" && n.special === "Quantity") return absent(v);
  if (n.k === "struct") return absent(v) || (isRecord(v) && n.fields.every((f) => isZeroValue(v[f.name], f.node)));
  if (n.k === "slice" || n.k === "map") return absent(v);
  return isEmptyValue(v, n);
}

/** Whether a record has no own enumerable key (without allocating the key list). */
function hasNoKeys(v: Record<string, unknown>): boolean {
  for (const _ in v) return false;
  return true;
}

/** `"<name>":` of struct fields, printed once per field name. */
const fieldKeys = new Map<string, string>();
const fieldKey = (name: string): string => {
  let k = fieldKeys.get(name);
  if (k === undefined) {
    k = `${goJsonString(name)}:`;
    fieldKeys.set(name, k);
  }
  return k;
};

function marshalNode(v: unknown, n: Node): string {
  switch (n.k) {
    case "ptr":
      return absent(v) ? "null" : marshalNode(v, n.elem);
    case "slice": {
      if (!Array.isArray(v)) return "null";
      let out = "[";
      for (let i = 0; i < v.length; i++) out += `${i > 0 ? "," : ""}${marshalNode(v[i], n.elem)}`;
      return `${out}]`;
    }
    case "map": {
      if (!isRecord(v)) return "null";
      const keys = Object.keys(v).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      return `{${keys.map((k) => `${goJsonString(k)}:${marshalNode(v[k], n.elem)}`).join(",")}}`;
    }
    case "struct": {
      const obj = isRecord(v) ? v : {};
      let out = "{";
      let first = true;
      for (const f of n.fields) {
        const fv = obj[f.name];
        if (f.omitempty && isEmptyValue(fv, f.node)) continue;
        if (f.omitzero && isZeroValue(fv, f.node)) continue;
        out += `${first ? "" : ","}${fieldKey(f.name)}${marshalNode(fv, f.node)}`;
        first = false;
      }
      return `${out}}`;
    }
    case "special":
      return marshalSpecial(v, n.special);
    case "string":
      return goJsonString(typeof v === "string" ? v : "");
    case "bool":
      return v === true ? "true" : "false";
    default:
      return typeof v === "number" ? String(v) : "0";
  }
}

function marshalSpecial(v: unknown, t: Special): string {
  switch (t) {
    case "Quantity": {
      const q = toQuantity(v);
      return goJsonString(q ? quantityString(q) : "0");
    }
    case "IntOrString":
      return typeof v === "string" ? goJsonString(v) : String(typeof v === "number" ? v : 0);
    case "Time":
    case "MicroTime": {
      const s = rfc3339(v, t === "MicroTime");
      return s === undefined ? "null" : goJsonString(s);
    }
    case "Duration":
      return typeof v === "string" ? goJsonString(v) : '"0s"';
    case "bytes":
      return typeof v === "string" ? goJsonString(v) : "null";
    default:
      return absent(v) ? "null" : JSON.stringify(v);
  }
}

// The same encoding as plain JSON values, without the text: what `JSON.parse(goMarshal(v, t))` returns,
// built directly (the mutating webhook's round trip; no string to build, flatten and parse again). Every
// object and array is new, so callers may modify the result without touching `v`.

/** A JSON value as JSON.parse would return it after JSON.stringify (a deep copy; undefined dropped). */
const jsonCopy = (v: unknown): unknown => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));

/** Sets `o[k] = v` as JSON.parse does, also for the key `__proto__` (an own property, not the prototype). */
function setOwn(o: Record<string, unknown>, k: string, v: unknown): void {
  if (k === "__proto__")
    Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  else o[k] = v;
}

function valueNode(v: unknown, n: Node): unknown {
  switch (n.k) {
    case "ptr":
      return absent(v) ? null : valueNode(v, n.elem);
    case "slice": {
      if (!Array.isArray(v)) return null;
      const out = new Array<unknown>(v.length);
      for (let i = 0; i < v.length; i++) out[i] = valueNode(v[i], n.elem);
      return out;
    }
    case "map": {
      if (!isRecord(v)) return null;
      const keys = Object.keys(v).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      const out: Record<string, unknown> = {};
      for (const k of keys) setOwn(out, k.toWellFormed(), valueNode(v[k], n.elem));
      return out;
    }
    case "struct": {
      const obj = isRecord(v) ? v : EmptyRecord;
      const out: Record<string, unknown> = {};
      for (const f of n.fields) {
        const fv = obj[f.name];
        if (f.omitempty && isEmptyValue(fv, f.node)) continue;
        if (f.omitzero && isZeroValue(fv, f.node)) continue;
        out[f.name] = valueNode(fv, f.node);
      }
      return out;
    }
    case "special":
      return valueSpecial(v, n.special);
    case "string":
      return typeof v === "string" ? v.toWellFormed() : "";
    case "bool":
      return v === true;
    default:
      // String(-0) is "0": Go prints 0 for a negative zero as well
      return typeof v === "number" ? (v === 0 ? 0 : v) : 0;
  }
}

function valueSpecial(v: unknown, t: Special): unknown {
  switch (t) {
    case "Quantity": {
      const q = toQuantity(v);
      return q ? quantityString(q) : "0";
    }
    case "IntOrString":
      return typeof v === "string" ? v.toWellFormed() : typeof v === "number" ? (v === 0 ? 0 : v) : 0;
    case "Time":
    case "MicroTime":
      return rfc3339(v, t === "MicroTime") ?? null;
    case "Duration":
      return typeof v === "string" ? v.toWellFormed() : "0s";
    case "bytes":
      return typeof v === "string" ? v.toWellFormed() : null;
    default:
      return absent(v) ? null : jsonCopy(v);
  }
}

/** `JSON.parse(goMarshal(value, type))`, built without the text (a new object; value must decode). */
export function goMarshalValue<T>(value: unknown, type: GoType): T {
  return valueNode(value, nodeOf(type)) as T;
}

/** Go's json.Marshal of `value` decoded into `type` (value must decode: see goDecode). */
export function goMarshal(value: unknown, type: GoType): string {
  return marshalNode(value, nodeOf(type));
}

/** A value that renders as Go's json.Marshal of a typed Go value in field errors (`Invalid value: …`). */
export class GoValue {
  readonly json: string;
  constructor(value: unknown, type: GoType) {
    this.json = goMarshal(value, type);
  }
  toJSON(): unknown {
    return JSON.parse(this.json);
  }
}

// ---------------------------------------------------------------------------------------------- semantic equality

/** `exact`: plain reflect.DeepEqual (nil ≠ empty, quantities by representation) instead of Semantic. */
function equalNode(a: unknown, b: unknown, n: Node, exact = false): boolean {
  if (a === b && (typeof a !== "object" || a === null)) {
    // Identical scalars (or both absent) are equal whatever the type, except quantities spelled alike: also equal.
    return true;
  }
  switch (n.k) {
    case "ptr":
      if (absent(a) || absent(b)) return absent(a) && absent(b);
      return equalNode(a, b, n.elem, exact);
    case "slice": {
      if (exact && absent(a) !== absent(b)) return false; // a nil slice is not an empty one
      const x = Array.isArray(a) ? a : [];
      const y = Array.isArray(b) ? b : [];
      if (x.length !== y.length) return false;
      for (let i = 0; i < x.length; i++) if (!equalNode(x[i], y[i], n.elem, exact)) return false;
      return true;
    }
    case "map": {
      if (exact && absent(a) !== absent(b)) return false; // nor a nil map an empty one
      const x = isRecord(a) ? a : EmptyRecord;
      const y = isRecord(b) ? b : EmptyRecord;
      const kx = Object.keys(x);
      if (kx.length !== Object.keys(y).length) return false;
      for (const k of kx) if (!Object.hasOwn(y, k) || !equalNode(x[k], y[k], n.elem, exact)) return false;
      return true;
    }
    case "struct": {
      const x = isRecord(a) ? a : EmptyRecord;
      const y = isRecord(b) ? b : EmptyRecord;
      for (const f of n.fields) if (!equalNode(x[f.name], y[f.name], f.node, exact)) return false;
      return true;
    }
    case "special":
      if (exact && n.special === "Quantity") {
        // A number is read as its text, as Quantity's UnmarshalJSON does (toQuantity).
        const id = (v: unknown) =>
          absent(v)
            ? ""
            : typeof v === "string" || typeof v === "number"
              ? quantityIdentity(String(v).trim())
              : undefined;
        return id(a) === id(b) && id(a) !== undefined;
      }
      return equalSpecial(a, b, n.special);
    case "string":
      return (typeof a === "string" ? a : "") === (typeof b === "string" ? b : "");
    case "bool":
      return (a === true) === (b === true);
    default:
      return (typeof a === "number" ? a : 0) === (typeof b === "number" ? b : 0);
  }
}

function equalSpecial(a: unknown, b: unknown, t: Special): boolean {
  switch (t) {
    case "Quantity": {
      const qa = absent(a) ? undefined : toQuantity(a);
      const qb = absent(b) ? undefined : toQuantity(b);
      if (!qa || !qb) return !qa && !qb;
      return compareQuantities(qa, qb) === 0;
    }
    case "Time":
    case "MicroTime":
      return timeMillis(a) === timeMillis(b);
    case "IntOrString": {
      const norm = (v: unknown) => (typeof v === "string" ? `s${v}` : `i${typeof v === "number" ? v : 0}`);
      return norm(a) === norm(b);
    }
    case "Duration":
    case "bytes":
      return (typeof a === "string" ? a : "") === (typeof b === "string" ? b : "");
    default:
      return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
  }
}

/**
 * apimachinery's `equality.Semantic.DeepEqual` of `a` and `b` decoded into `type`: the forked
 * reflect.DeepEqual (nil and empty slices and maps are equal) with the Quantity (by value) and
 * metav1.Time/MicroTime (same instant) equalities.
 */
export function goSemanticEqual(a: unknown, b: unknown, type: GoType): boolean {
  return equalNode(a, b, nodeOf(type));
}

/**
 * Go's plain `reflect.DeepEqual` of `a` and `b` decoded into `type`: an absent (nil) slice or map differs
 * from an empty one, and quantities are equal only when ParseQuantity built the same struct (quantityIdentity),
 * so "1024Mi" and "1Gi" differ. Scalars compare as Go zero values, as in goSemanticEqual.
 */
export function goReflectEqual(a: unknown, b: unknown, type: GoType): boolean {
  return equalNode(a, b, nodeOf(type), true);
}
