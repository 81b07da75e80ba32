// Runtime use of the JobSet CRD schema (crd.ts), reproducing what the API server does with a JobSet
// sent to it, for `jobset lint` and the webhooks:
//
//   decoding:   prune unknown fields (reported as warnings), drop nulls the schema does not allow,
//               apply the schema's `default`s                         -> applySchemaDefaults
//   validation: OpenAPI schema (types, enums, bounds, patterns, required), list-type invariants,
//               then the CEL rules of the CRD (CREATE: the two non-transition rules) -> checkSchema
//
// Messages and field paths follow k8s.io/apiextensions-apiserver and k8s.io/kube-openapi (v0.36):
// e.g. `spec.replicatedJobs[0].replicas: Invalid value: -1: spec.replicatedJobs[0].replicas in body
// should be greater than or equal to 0`. Webhook defaulting (failure policy rule names, ...) is
// not part of this: a caller emulating the whole admission chain runs it before checkSchema.
import { type FieldError, goJson, goQuote, NilPath, notSupported, tooLong, tooMany } from "./field-errors.ts";

// The CRD's openAPIV3Schema as `npm run generate` writes it from crd.ts (a test keeps it current):
// reading the JSON spares every process that checks JobSets (`jobset lint`, `plan`) loading TypeBox.
import openApiSchema from "./jobset-openapi-schema.generated.json" with { type: "json" };

export type { FieldError } from "./field-errors.ts";

/** The subset of a structural schema this module acts on. */
interface Schema {
  type?: string;
  format?: string;
  enum?: unknown[];
  default?: unknown;
  nullable?: boolean;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minItems?: number;
  maxItems?: number;
  required?: string[];
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: Schema | boolean;
  anyOf?: Schema[];
  "x-kubernetes-int-or-string"?: boolean;
  "x-kubernetes-preserve-unknown-fields"?: boolean;
  "x-kubernetes-list-type"?: string;
  "x-kubernetes-list-map-keys"?: string[];
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

let cached: Schema | undefined;
/** The openAPIV3Schema of the CRD, built once. */
function rootSchema(): Schema {
  cached ??= openApiSchema as Schema;
  return cached;
}

const isObject = (v: unknown): v is JsonObject => typeof v === "object" && v !== null && !Array.isArray(v);
const additional = (s: Schema): Schema | undefined =>
  typeof s.additionalProperties === "object" ? s.additionalProperties : undefined;
const childSchema = (s: Schema | undefined, key: string): Schema | undefined =>
  s === undefined ? undefined : (s.properties?.[key] ?? additional(s));
const clone = <T>(v: T): T => structuredClone(v);

// ---------------------------------------------------------------------------------------------- decoding

const META_FIELDS = new Set(["apiVersion", "kind", "metadata"]);

/** Pruning (k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning): deletes fields the schema
 * does not know, in place, and records their paths. The resource root keeps apiVersion/kind/metadata. */
function prune(x: Json, s: Schema | undefined, path: string, unknown: string[], root: boolean): void {
  if (s?.["x-kubernetes-preserve-unknown-fields"]) return;
  const join = (k: string) => (path === "" ? k : `${path}.${k}`);
  if (Array.isArray(x)) {
    x.forEach((v, i) => {
      prune(v, s?.items, `${path}[${i}]`, unknown, false);
    });
  } else if (isObject(x)) {
    for (const k of Object.keys(x)) {
      if (root && META_FIELDS.has(k)) continue;
      const sub = childSchema(s, k);
      if (sub !== undefined) prune(x[k] as Json, sub, join(k), unknown, false);
      else {
        unknown.push(join(k));
        delete x[k];
      }
    }
  }
}

/** Drops `null`s where the schema allows neither null nor a default (PruneNonNullableNullsWithoutDefaults). */
function pruneNulls(x: Json, s: Schema | undefined): void {
  if (Array.isArray(x)) {
    for (const v of x) pruneNulls(v, s?.items);
  } else if (isObject(x)) {
    for (const k of Object.keys(x)) {
      const sub = childSchema(s, k);
      if (x[k] === null && sub !== undefined && !sub.nullable && sub.default === undefined) delete x[k];
      else pruneNulls(x[k] as Json, sub);
    }
  }
}

const nonNullableNull = (v: unknown, s: Schema | undefined) => v === null && s !== undefined && !s.nullable;

/** Structural defaulting (k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting.Default), in place. */
function applyDefaults(x: Json, s: Schema | undefined): void {
  if (s === undefined) return;
  if (Array.isArray(x)) {
    x.forEach((v, i) => {
      if (nonNullableNull(v, s.items) && s.items?.default !== undefined) x[i] = clone(s.items.default as Json);
      applyDefaults(x[i] as Json, s.items);
    });
  } else if (isObject(x)) {
    for (const [k, prop] of Object.entries(s.properties ?? {})) {
      if (prop.default === undefined) continue;
      if (!(k in x) || nonNullableNull(x[k], prop)) x[k] = clone(prop.default as Json);
    }
    const extra = additional(s);
    for (const k of Object.keys(x)) {
      const prop = s.properties?.[k];
      if (prop !== undefined) applyDefaults(x[k] as Json, prop);
      else if (extra !== undefined) {
        if (nonNullableNull(x[k], extra) && extra.default !== undefined) x[k] = clone(extra.default as Json);
        applyDefaults(x[k] as Json, extra);
      }
    }
  }
}

/**
 * Applies every `default` of the JobSet CRD schema the way the API server does when it decodes a
 * request: for absent fields (and non-nullable nulls) only, recursing into present objects and
 * arrays, including inside the embedded Job and PVC templates (e.g. container port `protocol: TCP`).
 * Returns a new object; the argument is not modified.
 */
export function applySchemaDefaults<T>(obj: T): T {
  const copy = clone(obj) as Json;
  applyDefaults(copy, rootSchema());
  return copy as T;
}

// ---------------------------------------------------------------------------------------------- OpenAPI validation

/** A kube-openapi error before the apiserver converts it to a field error. */
const typeInvalid = (path: string, value: string, typeName: string): FieldError => ({
  type: "FieldValueTypeInvalid",
  field: path,
  value,
  detail: `${path} in body must be of type ${typeName}: ${goQuote(value)}`,
});
const invalidAt = (path: string, value: unknown, detail: string): FieldError => ({
  type: "FieldValueInvalid",
  field: path,
  value,
  detail,
});

/** JSON type and (go-openapi) format of a decoded JSON value. */
function typeOf(v: Json): [string, string] {
  if (typeof v === "string") return ["string", ""];
  if (typeof v === "boolean") return ["boolean", ""];
  if (typeof v === "number") return Number.isInteger(v) ? ["integer", "int64"] : ["number", "float64"];
  if (Array.isArray(v)) return ["array", ""];
  return ["object", ""];
}

function schemaTypes(s: Schema): string[] {
  if (s["x-kubernetes-int-or-string"]) return ["integer", "string"];
  return s.type === undefined ? [] : [s.type];
}

/** kube-openapi's typeValidator. */
function checkType(v: Json, s: Schema, path: string, errs: FieldError[]): void {
  const types = schemaTypes(s);
  const fmt = s.format ?? "";
  if (types.length === 0 && fmt === "") return;
  if (v === null) {
    if (types.length > 0 && !s.nullable) errs.push(typeInvalid(path, "null", types.join(",")));
    return;
  }
  const [schType, format] = typeOf(v);
  const isIntFloat = schType === "integer" && types.includes("number");
  const isScalarOrObject = schType !== "string" && schType !== "array";
  if (isScalarOrObject && fmt !== "" && !(types.includes(schType) || format === fmt || isIntFloat)) {
    errs.push(typeInvalid(path, format, fmt));
    return;
  }
  if (!(types.includes("number") || types.includes("integer")) && fmt !== "" && !isScalarOrObject) return;
  if (!(types.includes(schType) || isIntFloat)) errs.push(typeInvalid(path, schType, types.join(",")));
}

const INT32 = [-2147483648, 2147483647] as const;

function validateNode(v: Json, s: Schema, path: string, errs: FieldError[]): void {
  checkType(v, s, path, errs);
  if (v === null) {
    checkEnum(v, s, path, errs);
    return;
  }
  // anyOf (int-or-string): at least one branch must accept the value.
  if (s.anyOf !== undefined && s.anyOf.length > 0) {
    let best: FieldError[] | undefined;
    for (const branch of s.anyOf) {
      const branchErrs: FieldError[] = [];
      validateNode(v, branch, path, branchErrs);
      if (branchErrs.length === 0) {
        best = undefined;
        break;
      }
      best ??= branchErrs;
    }
    if (best !== undefined) {
      errs.push(invalidAt(NilPath, "", `${goQuote(path)} must validate at least one schema (anyOf)`), ...best);
    }
  }
  if (typeof v === "string") {
    const runes = [...v].length;
    if (s.maxLength !== undefined && runes > s.maxLength) errs.push(tooLong(path, s.maxLength));
    else if (s.minLength !== undefined && runes < s.minLength) {
      errs.push(invalidAt(path, v, `${path} in body should be at least ${s.minLength} chars long`));
    } else if (s.pattern !== undefined && !new RegExp(s.pattern, "u").test(v)) {
      errs.push(invalidAt(path, v, `${path} in body should match '${s.pattern}'`));
    }
    if (s.format === "date-time" && !isDateTime(v)) errs.push(typeInvalid(path, v, "date-time"));
  }
  if (typeof v === "number") checkNumber(v, s, path, errs);
  if (Array.isArray(v)) {
    if (s.items !== undefined) {
      const items = s.items;
      v.forEach((item, i) => {
        validateNode(item, items, `${path}[${i}]`, errs);
      });
    }
    if (s.minItems !== undefined && v.length < s.minItems) {
      errs.push(invalidAt(path, v.length, `${path} in body should have at least ${s.minItems} items`));
    }
    if (s.maxItems !== undefined && v.length > s.maxItems) errs.push(tooMany(path, v.length, s.maxItems));
  }
  checkEnum(v, s, path, errs);
  if (isObject(v)) {
    const join = (k: string) => (path === "" ? k : `${path}.${k}`);
    for (const [k, value] of Object.entries(v)) {
      const sub = childSchema(s, k);
      if (sub !== undefined) validateNode(value, sub, join(k), errs);
    }
    for (const k of s.required ?? []) {
      if (!(k in v)) errs.push({ type: "FieldValueRequired", field: join(k), value: "", detail: "" });
    }
  }
}

function checkEnum(v: Json, s: Schema, path: string, errs: FieldError[]): void {
  if (s.enum === undefined || s.enum.length === 0) return;
  if (s.enum.some((e) => e === v)) return;
  const values = s.enum.map((e) => (typeof e === "string" ? e : goJson(e)));
  errs.push(notSupported(path, v, values));
}

function checkNumber(v: number, s: Schema, path: string, errs: FieldError[]): void {
  const types = schemaTypes(s);
  if (types.length === 1 && types[0] === "integer") {
    const fmt = s.format === "int32" || s.format === "int64" ? s.format : "";
    const inRange =
      Number.isInteger(v) &&
      (fmt === "int32" ? v >= INT32[0] && v <= INT32[1] : Number.isSafeInteger(v) || Math.abs(v) < 2 ** 63);
    if (!inRange) {
      const detail =
        fmt === ""
          ? `Checked value must be of type integer (default format) in ${path}`
          : `Checked value must be of type integer with format ${fmt} in ${path}`;
      errs.push(invalidAt(NilPath, "", detail));
    }
  }
  if (s.maximum !== undefined && (s.exclusiveMaximum ? v >= s.maximum : v > s.maximum)) {
    const op = s.exclusiveMaximum ? "less than" : "less than or equal to";
    errs.push(invalidAt(path, v, `${path} in body should be ${op} ${s.maximum}`));
  }
  if (s.minimum !== undefined && (s.exclusiveMinimum ? v <= s.minimum : v < s.minimum)) {
    const op = s.exclusiveMinimum ? "greater than" : "greater than or equal to";
    errs.push(invalidAt(path, v, `${path} in body should be ${op} ${s.minimum}`));
  }
}

/** strfmt's date-time: RFC 3339 (as accepted by Go's time.Parse with the formats strfmt tries). */
function isDateTime(v: string): boolean {
  return (
    /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})?$/.test(v) && !Number.isNaN(Date.parse(v))
  );
}

// ---------------------------------------------------------------------------------------------- list types

/** x-kubernetes-list-type map/set invariants (k8s.io/apiextensions-apiserver/pkg/apiserver/schema/listtype). */
function validateLists(x: Json, s: Schema | undefined, path: string, errs: FieldError[]): void {
  if (s === undefined) return;
  if (Array.isArray(x)) {
    const listType = s["x-kubernetes-list-type"];
    if (listType === "set") {
      for (const i of duplicates(x)) errs.push(duplicateAt(`${path}[${i}]`, x[i]));
    } else if (listType === "map") {
      validateListMap(x, s["x-kubernetes-list-map-keys"] ?? [], path, errs);
    }
    x.forEach((item, i) => {
      validateLists(item, s.items, `${path}[${i}]`, errs);
    });
  } else if (isObject(x)) {
    for (const [k, v] of Object.entries(x)) {
      const prop = s.properties?.[k];
      if (prop !== undefined) validateLists(v, prop, path === "" ? k : `${path}.${k}`, errs);
      else if (additional(s) !== undefined) validateLists(v, additional(s), `${path}[${k}]`, errs);
    }
  }
}

const duplicateAt = (field: string, value: unknown): FieldError => ({
  type: "FieldValueDuplicate",
  field,
  value,
  detail: "",
});

/** Indices of the second occurrence of every value that occurs more than once. */
function duplicates(values: readonly unknown[]): number[] {
  const seen = new Map<string, number>();
  const out: number[] = [];
  values.forEach((v, i) => {
    const key = v !== null && typeof v === "object" ? `c${goJson(sortKeys(v))}` : `s${typeof v}:${String(v)}`;
    const times = seen.get(key) ?? 0;
    seen.set(key, times + 1);
    if (times === 1) out.push(i);
  });
  return out;
}

/** Go marshals maps with sorted keys. */
function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (isObject(v))
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, sortKeys(v[k])]),
    );
  return v;
}

function validateListMap(x: Json[], keys: readonly string[], path: string, errs: FieldError[]): void {
  for (const [i, item] of x.entries()) {
    if (item !== null && !isObject(item)) {
      errs.push(invalidAt(`${path}[${i}]`, item, "must be an object for an array of list-type map"));
      return;
    }
  }
  if (x.length <= 1) return;
  const keyValues = x.map((item) => {
    const key: JsonObject = {};
    if (isObject(item)) for (const k of keys) if (k in item) key[k] = item[k] as Json;
    return sortKeys(key);
  });
  for (const i of duplicates(keyValues)) errs.push(duplicateAt(`${path}[${i}]`, keyValues[i]));
}

// ---------------------------------------------------------------------------------------------- CEL rules

/** A CEL value: a boolean result or an evaluation error (`no such key: x`). */
type Cel = boolean | { error: string };
const noSuchKey = (key: string): Cel => ({ error: `no such key: ${key}` });

/** CEL `&&`/`all()`: false wins over errors; otherwise the first error; otherwise true. */
function celAnd(values: readonly Cel[]): Cel {
  if (values.includes(false)) return false;
  return values.find((v) => typeof v === "object") ?? true;
}
/** CEL `||`/`exists()`: true wins over errors; otherwise the first error; otherwise false. */
function celOr(values: readonly Cel[]): Cel {
  if (values.includes(true)) return true;
  return values.find((v) => typeof v === "object") ?? false;
}
const celNot = (v: Cel): Cel => (typeof v === "boolean" ? !v : v);
/** `has(obj.key)` evaluated on a value that must be a present object. */
const celGet = (obj: JsonObject, key: string): Json | { error: string } =>
  key in obj ? (obj[key] as Json) : { error: `no such key: ${key}` };
const isCelError = (v: unknown): v is { error: string } => isObject(v) && typeof v.error === "string";

export const SPEC_RULE_MESSAGE = "StartupPolicy and DependsOn APIs are mutually exclusive";
export const VOLUME_CLAIM_RULE_MESSAGE = "namespace cannot be set for VolumeClaimPolicies templates";

/** `!(has(self.startupPolicy) && self.startupPolicy.startupPolicyOrder == 'InOrder' &&
 *    self.replicatedJobs.exists(x, has(x.dependsOn)))` on `spec`. */
function specRule(spec: JsonObject): Cel {
  const hasStartup = "startupPolicy" in spec;
  const sp = spec.startupPolicy;
  let inOrder: Cel;
  if (!hasStartup) inOrder = noSuchKey("startupPolicy");
  else if (!isObject(sp) || !("startupPolicyOrder" in sp)) inOrder = noSuchKey("startupPolicyOrder");
  else inOrder = sp.startupPolicyOrder === "InOrder";
  const rjobs = celGet(spec, "replicatedJobs");
  const exists: Cel = isCelError(rjobs)
    ? rjobs
    : celOr((Array.isArray(rjobs) ? rjobs : []).map((x) => isObject(x) && "dependsOn" in x));
  return celNot(celAnd([celAnd([hasStartup, inOrder]), exists]));
}

/** `self.templates.all(t, !has(t.metadata.namespace) || size(t.metadata.namespace) == 0)` on a policy. */
function volumeClaimRule(policy: JsonObject): Cel {
  const templates = celGet(policy, "templates");
  if (isCelError(templates)) return templates;
  return celAnd(
    (Array.isArray(templates) ? templates : []).map((t): Cel => {
      if (!isObject(t)) return false;
      const meta = celGet(t, "metadata");
      if (isCelError(meta)) return meta;
      if (!isObject(meta) || !("namespace" in meta)) return true;
      return celOr([false, typeof meta.namespace === "string" && meta.namespace.length === 0]);
    }),
  );
}

function celError(path: string, result: Cel, message: string): FieldError | undefined {
  if (result === true) return undefined;
  // A rule that evaluates to false reports no value (field.OmitValueType); an evaluation error
  // reports the schema type of the node.
  if (result === false) return { type: "FieldValueInvalid", field: path, detail: message };
  return invalidAt(path, "object", `${result.error} evaluating rule: ${message}`);
}

function validateCel(obj: JsonObject): FieldError[] {
  const errs: FieldError[] = [];
  const spec = obj.spec;
  if (!isObject(spec)) return errs;
  const e = celError("spec", specRule(spec), SPEC_RULE_MESSAGE);
  if (e) errs.push(e);
  const policies = spec.volumeClaimPolicies;
  if (Array.isArray(policies)) {
    policies.forEach((p, i) => {
      if (!isObject(p)) return;
      const pe = celError(`spec.volumeClaimPolicies[${i}]`, volumeClaimRule(p), VOLUME_CLAIM_RULE_MESSAGE);
      if (pe) errs.push(pe);
    });
  }
  return errs;
}

// ---------------------------------------------------------------------------------------------- entry point

export interface SchemaCheckResult {
  /** What the API server would reject the object for, in its words. */
  errors: FieldError[];
  /** Warnings the API server would return, e.g. `unknown field "spec.foo"` for pruned fields. */
  warnings: string[];
}

const BLOCKING = new Set(["FieldValueNotSupported", "FieldValueRequired", "FieldValueTooLong", "FieldValueTooMany"]);

/**
 * Checks a JobSet as the API server does on CREATE after decoding it: unknown fields are pruned
 * (warnings), defaults applied, `status` dropped (status subresource), then the OpenAPI schema, the
 * list-type invariants and the CRD's CEL rules are checked. Object metadata (name format etc.) is the
 * API server's generic ObjectMeta validation and is not checked here.
 */
export function checkSchema(obj: unknown): SchemaCheckResult {
  if (!isObject(obj)) {
    const [t] = typeOf((obj ?? null) as Json);
    return {
      errors: [
        {
          type: "FieldValueTypeInvalid",
          field: NilPath,
          value: obj === null ? "null" : t,
          detail: "must be of type object",
        },
      ],
      warnings: [],
    };
  }
  const schema = rootSchema();
  const copy = clone(obj);
  const unknown: string[] = [];
  prune(copy, schema, "", unknown, true);
  pruneNulls(copy, schema);
  applyDefaults(copy, schema);
  delete copy.status;

  const errors: FieldError[] = [];
  validateNode(copy, schema, "", errors);
  validateLists(copy, schema, "", errors);
  if (errors.some((e) => BLOCKING.has(e.type) || e.type === "FieldValueTypeInvalid")) {
    errors.push(
      invalidAt(
        NilPath,
        null,
        "some validation rules were not checked because the object was invalid; correct the existing errors to complete validation",
      ),
    );
  } else {
    errors.push(...validateCel(copy));
  }
  return { errors, warnings: unknown.sort().map((p) => `unknown field ${goJson(p)}`) };
}
