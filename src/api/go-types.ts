// The Go type model of JobSet and Pod, compiled once and shared by src/api/go-value.ts (Go's decode
// errors, json.Marshal renderings, semantic equality) and src/api/roundtrip.ts (the mutating webhook's
// typed round trip). The table, src/api/go-types.generated.json, is printed by scripts/gotypes from the
// Go types by reflection (`npm run generate`). Each struct lists [json name, Go type, flags] in
// declaration order (embedded structs flattened); flags: o = omitempty, z = omitzero, i = inline. Go
// types: scalars by kind, *T pointer, []T slice, map[K]V, bytes ([]byte), and the types with their own
// JSON encoding: Quantity, Time, MicroTime, IntOrString, RawExtension, Duration, FieldsV1; a named scalar
// type is kind@GoName, e.g. string@v1.RestartPolicy. A field of an embedded struct also names the
// embedding path and the embedded type (for decode errors).
import table from "./go-types.generated.json" with { type: "json" };

export type GoField = readonly [name: string, type: string, flags: string, via?: string, declaredIn?: string];
const goStructs = table.structs as unknown as Readonly<Record<string, readonly GoField[]>>;

/** A Go type in the model: `jobset/v1alpha2.ReplicatedJob`, `[]…`, `*…`, `map[string]…`, `int32`, `Quantity`, … */
export type GoType = string;

export const GoTypes = {
  JobSet: "jobset/v1alpha2.JobSet",
  ReplicatedJobs: "[]jobset/v1alpha2.ReplicatedJob",
  PersistentVolumeClaimSpec: "core/v1.PersistentVolumeClaimSpec",
  Pod: "core/v1.Pod",
} as const;

export const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
export const absent = (v: unknown): boolean => v === undefined || v === null;

// ---------------------------------------------------------------------------------------------- compiled model

export type Special =
  | "Quantity"
  | "Time"
  | "MicroTime"
  | "IntOrString"
  | "RawExtension"
  | "Duration"
  | "FieldsV1"
  | "bytes"
  | "any";

export interface CField {
  name: string;
  node: Node;
  omitempty: boolean;
  omitzero: boolean;
  /** Decode-error path segment: the JSON name, after the embedded Go fields it was flattened from. */
  pathSegment: string;
  /** The struct Go names in decode errors for this field (the embedded type for flattened fields). */
  errorStruct: string;
}

export type Node =
  | { k: "ptr"; type: GoType; elem: Node }
  | { k: "slice"; type: GoType; elem: Node }
  | { k: "map"; type: GoType; elem: Node }
  | { k: "struct"; type: GoType; fields: CField[]; byName: Map<string, CField> }
  | { k: "special"; type: GoType; special: Special }
  | { k: "string" | "bool" | "float"; type: GoType }
  | { k: "int"; type: GoType; lo: number; hi: number };

const specials = new Set<string>([
  "Quantity",
  "Time",
  "MicroTime",
  "IntOrString",
  "RawExtension",
  "Duration",
  "FieldsV1",
  "bytes",
  "any",
]);

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

const nodes = new Map<GoType, Node>();

/** The compiled form of a model type (built once, shared; recursive types are fine). */
export function nodeOf(t: GoType): Node {
  const hit = nodes.get(t);
  if (hit) return hit;
  let n: Node;
  if (t.startsWith("*")) n = { k: "ptr", type: t, elem: nodeOf(t.slice(1)) };
  else if (t.startsWith("[]")) n = { k: "slice", type: t, elem: nodeOf(t.slice(2)) };
  else if (t.startsWith("map[")) {
    const close = t.indexOf("]");
    n = { k: "map", type: t, elem: nodeOf(t.slice(close + 1)) };
  } else if (specials.has(t)) n = { k: "special", type: t, special: t as Special };
  else if (goStructs[t]) {
    const fields: CField[] = [];
    const sn: Node = { k: "struct", type: t, fields, byName: new Map() };
    nodes.set(t, sn); // before the fields: a struct may contain itself (through pointers or lists)
    const own = structName(t);
    for (const [name, ft, flags, via, declaredIn] of goStructs[t] ?? []) {
      const f: CField = {
        name,
        node: nodeOf(ft),
        omitempty: flags.includes("o"),
        omitzero: flags.includes("z"),
        pathSegment: via ? `${via}.${name}` : name,
        errorStruct: declaredIn || own,
      };
      fields.push(f);
      sn.byName.set(name, f);
    }
    return sn;
  } else {
    const kind = t.split("@")[0] ?? t;
    if (kind === "string") n = { k: "string", type: t };
    else if (kind === "bool") n = { k: "bool", type: t };
    else if (kind === "float64" || kind === "float32") n = { k: "float", type: t };
    else if (Object.hasOwn(intRanges, kind)) {
      const [lo, hi] = intRanges[kind] ?? [0, 0];
      n = { k: "int", type: t, lo, hi };
    } else
      throw new Error(
        `go-types: unknown Go type ${t} (regenerate src/api/go-types.generated.json with npm run generate)`,
      );
  }
  nodes.set(t, n);
  return n;
}

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
export const structName = (t: GoType): string => {
  const dot = t.lastIndexOf(".");
  return dot >= 0 ? t.slice(dot + 1) : t;
};
