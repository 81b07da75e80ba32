// Plain JSON seen through the Go types of JobSet (src/api/go-types.generated.ts, generated from the Go
// types by reflection): what Go's JSON decoder refuses and how it words it, how json.Marshal prints the
// typed value (`Invalid value: <JSON>` in field errors), and apimachinery's `equality.Semantic.DeepEqual`
// (the immutability checks). The value is the typed object a Go decode would build: an absent or null
// field is the Go zero value, so `{}` equals an absent struct but not an absent pointer, `0` equals an
// absent int32 but not an absent *int32, nil and empty lists and maps are equal, and quantities compare
// by value (`1024Mi` = `1Gi`).
import { goStructs } from "./go-types.generated.ts";
import { compareQuantities, formatQuantity, isQuantity, parseQuantity, type Quantity } from "./quantity.ts";

/** A Go type in the model: `jobset/v1alpha2.ReplicatedJob`, `[]…`, `*…`, `map[string]…`, `int32`, `Quantity`, … */
export type GoType = string;

export const GoTypes = {
  JobSet: "jobset/v1alpha2.JobSet",
  ReplicatedJobs: "[]jobset/v1alpha2.ReplicatedJob",
  PersistentVolumeClaimSpec: "core/v1.PersistentVolumeClaimSpec",
} as const;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const absent = (v: unknown): boolean => v === undefined || v === null;

interface Field {
  name: string;
  type: GoType;
  omitempty: boolean;
  omitzero: boolean;
  via: string;
  declaredIn: string;
}

const fieldCache = new Map<string, readonly Field[]>();

function fieldsOf(type: GoType): readonly Field[] | undefined {
  const hit = fieldCache.get(type);
  if (hit) return hit;
  const raw = goStructs[type];
  if (!raw) return undefined;
  const out = raw.map(([name, t, flags, via, declaredIn]) => ({
    name,
    type: t,
    omitempty: flags.includes("o"),
    omitzero: flags.includes("z"),
    via: via ?? "",
    declaredIn: declaredIn ?? "",
  }));
  fieldCache.set(type, out);
  return out;
}

const scalarKind = (t: GoType): string => t.split("@")[0] ?? t;

// ---------------------------------------------------------------------------------------------- names Go prints

/** The Go spelling of a model type (`[]v1alpha2.ReplicatedJob`, `v1.RestartPolicy`, `int32`). */
export function goTypeName(t: GoType): string {
  if (t.startsWith("*")) return `*${goTypeName(t.slice(1))}`;
  if (t.startsWith("[]")) return `[]${goTypeName(t.slice(2))}`;
  const map = /^map\[([^\]]+)\](.*)$/.exec(t);
  if (map) return `map[${goTypeName(map[1] ?? "")}]${goTypeName(map[2] ?? "")}`;
  const at = t.indexOf("@");
  if (at >= 0) return t.slice(at + 1);
  switch (t) {
    case "Quantity":
      return "resource.Quantity";
    case "Time":
      return "v1.Time";
    case "MicroTime":
      return "v1.MicroTime";
    case "IntOrString":
      return "intstr.IntOrString";
    case "RawExtension":
      return "runtime.RawExtension";
    case "Duration":
      return "v1.Duration";
    case "FieldsV1":
      return "v1.FieldsV1";
    case "bytes":
      return "[]uint8";
    case "any":
      return "interface {}";
  }
  const slash = t.indexOf("/");
  return slash >= 0 ? t.slice(slash + 1) : t;
}

/** The bare Go type name of a struct (`ReplicatedJob`). */
const structName = (t: GoType): string => {
  const dot = t.lastIndexOf(".");
  return dot >= 0 ? t.slice(dot + 1) : t;
};

// ---------------------------------------------------------------------------------------------- decoding

export class GoDecodeError extends Error {}

const jsonKind = (v: unknown): string =>
  Array.isArray(v) ? "array" : isRecord(v) ? "object" : typeof v === "boolean" ? "bool" : typeof v;

interface Ctx {
  struct: string;
  path: string;
}

function typeError(v: unknown, ctx: Ctx, t: GoType, literal = false): never {
  const what = typeof v === "number" && literal ? `number ${String(v)}` : jsonKind(v);
  const into = ctx.struct ? `Go struct field ${ctx.struct}.${ctx.path}` : "Go value";
  throw new GoDecodeError(`json: cannot unmarshal ${what} into ${into} of type ${goTypeName(t)}`);
}

const intRanges: Readonly<Record<string, readonly [number, number]>> = {
  int8: [-128, 127],
  int16: [-32768, 32767],
  int32: [-2147483648, 2147483647],
  int: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  uint8: [0, 255],
  uint16: [0, 65535],
  uint32: [0, 4294967295],
  uint: [0, Number.MAX_SAFE_INTEGER],
  uint64: [0, Number.MAX_SAFE_INTEGER],
};

function checkDecode(v: unknown, t: GoType, ctx: Ctx): void {
  if (v === null) return;
  if (t.startsWith("*")) {
    checkDecode(v, t.slice(1), ctx);
    return;
  }
  if (t.startsWith("[]")) {
    if (!Array.isArray(v)) typeError(v, ctx, t);
    for (const item of v) checkDecode(item, t.slice(2), ctx);
    return;
  }
  const map = /^map\[[^\]]+\](.*)$/.exec(t);
  if (map) {
    if (!isRecord(v)) typeError(v, ctx, t);
    for (const item of Object.values(v)) checkDecode(item, map[1] ?? "", ctx);
    return;
  }
  switch (t) {
    case "Quantity":
      if (typeof v === "number") return;
      if (typeof v !== "string") typeError(v, ctx, t);
      {
        const q = parseQuantity(v.trim());
        if (!isQuantity(q)) throw new GoDecodeError(q.error);
      }
      return;
    case "IntOrString":
      if (typeof v === "string") return;
      if (typeof v === "number" && Number.isInteger(v) && v >= -2147483648 && v <= 2147483647) return;
      typeError(v, ctx, "int32", typeof v === "number");
      return;
    case "Time":
    case "MicroTime":
      if (typeof v !== "string") typeError(v, ctx, "string");
      if (v !== "" && Number.isNaN(Date.parse(v))) {
        throw new GoDecodeError(`parsing time ${JSON.stringify(v)} as "2006-01-02T15:04:05Z07:00": cannot parse`);
      }
      return;
    case "RawExtension":
    case "FieldsV1":
    case "any":
      return;
    case "Duration":
    case "bytes":
      if (typeof v !== "string") typeError(v, ctx, t);
      return;
  }
  const fields = fieldsOf(t);
  if (fields) {
    if (!isRecord(v)) typeError(v, ctx, t);
    const byName = new Map(fields.map((f) => [f.name, f] as const));
    for (const [k, child] of Object.entries(v)) {
      const f = byName.get(k);
      if (!f) continue;
      const prefix = ctx.path ? `${ctx.path}.` : "";
      checkDecode(child, f.type, {
        struct: f.declaredIn || structName(t),
        path: `${prefix}${f.via ? `${f.via}.` : ""}${k}`,
      });
    }
    return;
  }
  const kind = scalarKind(t);
  if (kind === "string") {
    if (typeof v !== "string") typeError(v, ctx, t);
  } else if (kind === "bool") {
    if (typeof v !== "boolean") typeError(v, ctx, t);
  } else if (kind === "float64" || kind === "float32") {
    if (typeof v !== "number") typeError(v, ctx, t);
  } else if (Object.hasOwn(intRanges, kind)) {
    if (typeof v !== "number") typeError(v, ctx, t);
    const [lo, hi] = intRanges[kind] ?? [0, 0];
    if (!Number.isInteger(v) || v < lo || v > hi) typeError(v, ctx, t, true);
  }
}

/**
 * What Go's JSON decoder (sigs.k8s.io/json, as the admission decoder uses it) says about `value`
 * decoded into `type`: undefined when it decodes, else its error text (the first error in document
 * order, e.g. `json: cannot unmarshal string into Go struct field ReplicatedJob.spec.replicatedJobs.replicas of type int32`).
 */
export function goDecodeError(value: unknown, type: GoType): string | undefined {
  try {
    checkDecode(value, type, { struct: "", path: "" });
    return undefined;
  } catch (e) {
    if (e instanceof GoDecodeError) return e.message;
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------- json.Marshal

/** Go's json string encoding (HTML-safe: `<`, `>`, `&` escaped; U+2028/U+2029; lone surrogates → U+FFFD). */
export function goJsonString(s: string): string {
  return JSON.stringify(s.toWellFormed()).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${(c.codePointAt(0) ?? 0).toString(16).padStart(4, "0")}`,
  );
}

const toQuantity = (v: unknown): Quantity | undefined => {
  if (typeof v === "number") v = String(v);
  if (typeof v !== "string") return undefined;
  const q = parseQuantity(v.trim());
  return isQuantity(q) ? q : undefined;
};

const rfc3339 = (v: unknown, micro: boolean): string | undefined => {
  if (typeof v !== "string" || v === "") return undefined;
  const ms = Date.parse(v);
  if (Number.isNaN(ms)) return undefined;
  const iso = new Date(ms).toISOString();
  if (!micro) return `${iso.slice(0, 19)}Z`;
  const frac = /\.(\d+)/.exec(v.replace(/[zZ]|[+-]\d\d:\d\d$/, ""))?.[1] ?? "";
  return `${iso.slice(0, 19)}.${frac.padEnd(6, "0").slice(0, 6)}Z`;
};

/** Whether Go's encoding/json `omitempty` drops this (typed) value. */
function isEmptyValue(v: unknown, t: GoType): boolean {
  if (t.startsWith("*") || t === "any" || t === "RawExtension") return absent(v);
  if (t.startsWith("[]") || t.startsWith("map[") || t === "bytes" || t === "FieldsV1") {
    if (absent(v)) return true;
    if (Array.isArray(v)) return v.length === 0;
    if (isRecord(v)) return Object.keys(v).length === 0;
    return typeof v === "string" ? v.length === 0 : false;
  }
  if (fieldsOf(t) || t === "Quantity" || t === "Time" || t === "MicroTime" || t === "IntOrString") return false;
  if (t === "Duration") return false;
  const kind = scalarKind(t);
  if (kind === "string") return absent(v) || v === "";
  if (kind === "bool") return absent(v) || v === false;
  return absent(v) || v === 0;
}

/** Whether `omitzero` drops it (the zero value; metav1.Time's IsZero). */
function isZeroValue(v: unknown, t: GoType): boolean {
  if (t === "Time" || t === "MicroTime") return rfc3339(v, false) === undefined;
  if (t === "Quantity") return absent(v);
  const fields = fieldsOf(t);
  if (fields) return absent(v) || (isRecord(v) && fields.every((f) => isZeroValue(v[f.name], f.type)));
  if (t.startsWith("[]") || t.startsWith("map[")) return absent(v);
  return isEmptyValue(v, t);
}

/** Go's json.Marshal of `value` decoded into `type` (value must decode: see goDecodeError). */
export function goMarshal(value: unknown, type: GoType): string {
  const v = value;
  const t = type;
  if (t.startsWith("*")) return absent(v) ? "null" : goMarshal(v, t.slice(1));
  if (t.startsWith("[]")) {
    if (!Array.isArray(v)) return "null";
    const elem = t.slice(2);
    return `[${v.map((item) => goMarshal(item, elem)).join(",")}]`;
  }
  const map = /^map\[[^\]]+\](.*)$/.exec(t);
  if (map) {
    if (!isRecord(v)) return "null";
    const elem = map[1] ?? "";
    const keys = Object.keys(v).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${keys.map((k) => `${goJsonString(k)}:${goMarshal(v[k], elem)}`).join(",")}}`;
  }
  switch (t) {
    case "Quantity": {
      const q = toQuantity(v);
      return goJsonString(q ? formatQuantity(q) : "0");
    }
    case "IntOrString":
      return typeof v === "string" ? goJsonString(v) : String(typeof v === "number" ? v : 0);
    case "Time":
    case "MicroTime": {
      const s = rfc3339(v, t === "MicroTime");
      return s === undefined ? "null" : goJsonString(s);
    }
    case "RawExtension":
    case "FieldsV1":
    case "any":
      return absent(v) ? "null" : JSON.stringify(v);
    case "Duration":
    case "bytes":
      return typeof v === "string" ? goJsonString(v) : t === "bytes" ? "null" : '"0s"';
  }
  const fields = fieldsOf(t);
  if (fields) {
    const obj = isRecord(v) ? v : {};
    const parts: string[] = [];
    for (const f of fields) {
      const fv = obj[f.name];
      if (f.omitempty && isEmptyValue(fv, f.type)) continue;
      if (f.omitzero && isZeroValue(fv, f.type)) continue;
      parts.push(`${goJsonString(f.name)}:${goMarshal(fv, f.type)}`);
    }
    return `{${parts.join(",")}}`;
  }
  const kind = scalarKind(t);
  if (kind === "string") return goJsonString(typeof v === "string" ? v : "");
  if (kind === "bool") return v === true ? "true" : "false";
  return typeof v === "number" ? String(v) : "0";
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

const timeKey = (v: unknown): number | undefined => {
  if (typeof v !== "string" || v === "") return undefined;
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? undefined : ms;
};

/**
 * apimachinery's `equality.Semantic.DeepEqual` of `a` and `b` decoded into `type`: the forked
 * reflect.DeepEqual (nil and empty slices and maps are equal) with the Quantity (by value) and
 * metav1.Time/MicroTime (same instant) equalities.
 */
export function goSemanticEqual(a: unknown, b: unknown, type: GoType): boolean {
  const t = type;
  if (t.startsWith("*")) {
    if (absent(a) || absent(b)) return absent(a) && absent(b);
    return goSemanticEqual(a, b, t.slice(1));
  }
  if (t.startsWith("[]")) {
    const x = Array.isArray(a) ? a : [];
    const y = Array.isArray(b) ? b : [];
    if (x.length !== y.length) return false;
    const elem = t.slice(2);
    return x.every((item, i) => goSemanticEqual(item, y[i], elem));
  }
  const map = /^map\[[^\]]+\](.*)$/.exec(t);
  if (map) {
    const x = isRecord(a) ? a : {};
    const y = isRecord(b) ? b : {};
    const kx = Object.keys(x);
    if (kx.length !== Object.keys(y).length) return false;
    const elem = map[1] ?? "";
    return kx.every((k) => Object.hasOwn(y, k) && goSemanticEqual(x[k], y[k], elem));
  }
  switch (t) {
    case "Quantity": {
      const qa = absent(a) ? undefined : toQuantity(a);
      const qb = absent(b) ? undefined : toQuantity(b);
      if (!qa || !qb) return !qa && !qb;
      return compareQuantities(qa, qb) === 0;
    }
    case "Time":
    case "MicroTime":
      return timeKey(a) === timeKey(b);
    case "IntOrString": {
      const norm = (v: unknown) => (typeof v === "string" ? `s${v}` : `i${typeof v === "number" ? v : 0}`);
      return norm(a) === norm(b);
    }
    case "RawExtension":
    case "FieldsV1":
    case "any":
      return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
    case "Duration":
    case "bytes":
      return (typeof a === "string" ? a : "") === (typeof b === "string" ? b : "");
  }
  const fields = fieldsOf(t);
  if (fields) {
    const x = isRecord(a) ? a : {};
    const y = isRecord(b) ? b : {};
    return fields.every((f) => goSemanticEqual(x[f.name], y[f.name], f.type));
  }
  const kind = scalarKind(t);
  if (kind === "string") return (typeof a === "string" ? a : "") === (typeof b === "string" ? b : "");
  if (kind === "bool") return (a === true) === (b === true);
  return (typeof a === "number" ? a : 0) === (typeof b === "number" ? b : 0);
}
