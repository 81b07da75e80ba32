// Schemas of the Kubernetes types embedded in a JobSet (batch/v1 JobTemplateSpec and core/v1
// PersistentVolumeClaim), derived from the Kubernetes OpenAPI v3 definitions vendored in
// ./openapi/ (scripts/vendor-openapi.ts explains how to refresh them).
//
// The OpenAPI definitions are turned into a CRD *structural* schema the way controller-gen renders
// embedded Go types: references are inlined, IntOrString and Quantity become
// `x-kubernetes-int-or-string` (Quantity with its pattern), Time becomes a date-time string, the
// `metadata` of an embedded object keeps only the fields the API server preserves for it, and only
// the keywords the API server acts on are kept (types, formats, required lists, list/map markers,
// declared defaults).
import Type from "typebox";
import type { JobTemplateSpec, PersistentVolumeClaim } from "./k8s.ts";
import openapi from "./openapi/k8s-v1.36.3.json" with { type: "json" };

/** A JSON schema as plain data. */
export type JsonSchema = { [key: string]: unknown };

const REF = "#/components/schemas/";
const META = "io.k8s.apimachinery.pkg.apis.meta.v1.";
const definitions = openapi.definitions as unknown as Record<string, JsonSchema>;

/** The canonical Kubernetes quantity grammar, as the API server's CRD schemas spell it. */
export const QUANTITY_PATTERN =
  "^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$";

const intOrString = (): JsonSchema => ({
  anyOf: [{ type: "integer" }, { type: "string" }],
  "x-kubernetes-int-or-string": true,
});

/** Types rendered specially instead of by inlining their definition. */
const SPECIAL: Record<string, () => JsonSchema> = {
  "io.k8s.apimachinery.pkg.util.intstr.IntOrString": intOrString,
  "io.k8s.apimachinery.pkg.api.resource.Quantity": () => ({ ...intOrString(), pattern: QUANTITY_PATTERN }),
  [`${META}Time`]: () => ({ type: "string", format: "date-time" }),
  [`${META}MicroTime`]: () => ({ type: "string", format: "date-time" }),
  // The metadata of an object embedded in another object: the API server keeps only these fields.
  [`${META}ObjectMeta`]: () => ({
    type: "object",
    properties: {
      annotations: { type: "object", additionalProperties: { type: "string" } },
      finalizers: { type: "array", items: { type: "string" } },
      labels: { type: "object", additionalProperties: { type: "string" } },
      name: { type: "string" },
      namespace: { type: "string" },
    },
  }),
};

/** Keywords copied from the OpenAPI definitions; everything else (descriptions, patch strategies,
 * union hints, readOnly) is left out, as in controller-gen's output. */
const KEEP = new Set([
  "type",
  "format",
  "enum",
  "minimum",
  "maximum",
  "minLength",
  "maxLength",
  "minItems",
  "maxItems",
  "pattern",
  "required",
  "nullable",
  "x-kubernetes-list-type",
  "x-kubernetes-list-map-keys",
  "x-kubernetes-map-type",
  "x-kubernetes-preserve-unknown-fields",
  "x-kubernetes-embedded-resource",
]);

/**
 * openapi-gen also writes a `default` for the zero value of every non-pointer field; those are not
 * defaults anyone declared, and controller-gen (which only reads declared `+default` markers) emits
 * none of them. We keep a default only on an optional scalar property, except these: two declared
 * with `+default=ref(...)` (a form controller-gen ignores) and one implicit zero-value default of an
 * optional non-pointer field.
 */
const IGNORED_DEFAULTS = new Set([
  "io.k8s.api.core.v1.AzureDiskVolumeSource.cachingMode",
  "io.k8s.api.core.v1.AzureDiskVolumeSource.kind",
  "io.k8s.api.batch.v1.PodFailurePolicyOnPodConditionsPattern.status",
]);

/**
 * Types that embed the atomic LocalObjectReference inline (`json:",inline"`). OpenAPI flattens the
 * embedding and loses its `+structType=atomic`; controller-gen keeps it on the embedding type.
 */
const INLINES_ATOMIC = new Set([
  "io.k8s.api.core.v1.ConfigMapEnvSource",
  "io.k8s.api.core.v1.SecretEnvSource",
  "io.k8s.api.core.v1.ConfigMapVolumeSource",
  "io.k8s.api.core.v1.ConfigMapProjection",
  "io.k8s.api.core.v1.SecretProjection",
]);

function refName(schema: JsonSchema): string | undefined {
  if (typeof schema.$ref === "string") return schema.$ref.slice(REF.length);
  const allOf = schema.allOf;
  if (Array.isArray(allOf) && allOf.length === 1) {
    const only = allOf[0] as JsonSchema;
    if (typeof only.$ref === "string") return only.$ref.slice(REF.length);
  }
  return undefined;
}

function isObject(v: unknown): v is JsonSchema {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Converts one OpenAPI schema (a definition or a property) to a structural CRD schema. */
function convert(schema: JsonSchema): JsonSchema {
  const ref = refName(schema);
  if (ref !== undefined) return convertDefinition(ref);
  if (schema.format === "int-or-string") return intOrString();
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (KEEP.has(key)) out[key] = structuredClone(value);
  }
  if (isObject(schema.properties)) {
    const props: JsonSchema = {};
    for (const [name, prop] of Object.entries(schema.properties)) props[name] = convert(prop as JsonSchema);
    out.properties = props;
  }
  if (isObject(schema.items)) out.items = convert(schema.items);
  if (isObject(schema.additionalProperties)) out.additionalProperties = convert(schema.additionalProperties);
  return out;
}

function convertDefinition(name: string): JsonSchema {
  const special = SPECIAL[name];
  if (special) return special();
  const def = definitions[name];
  if (def === undefined) throw new Error(`OpenAPI definition ${name} is not vendored`);
  const out = convert(def);
  if (INLINES_ATOMIC.has(name)) out["x-kubernetes-map-type"] = "atomic";
  // Declared defaults of optional scalar properties.
  const props = def.properties;
  const required = Array.isArray(def.required) ? (def.required as string[]) : [];
  if (isObject(props) && isObject(out.properties)) {
    for (const [prop, schema] of Object.entries(props)) {
      if (!isObject(schema) || !("default" in schema) || refName(schema) !== undefined) continue;
      if (required.includes(prop) || IGNORED_DEFAULTS.has(`${name}.${prop}`)) continue;
      (out.properties[prop] as JsonSchema).default = structuredClone(schema.default);
    }
  }
  return out;
}

/** The structural schema of a vendored Kubernetes definition, e.g. `io.k8s.api.batch.v1.JobTemplateSpec`. */
export function embeddedSchema(name: string): JsonSchema {
  return convertDefinition(name);
}

export const JobTemplateSpecSchema = Type.Unsafe<JobTemplateSpec>(
  embeddedSchema("io.k8s.api.batch.v1.JobTemplateSpec"),
);
export const PersistentVolumeClaimSchema = Type.Unsafe<PersistentVolumeClaim>(
  embeddedSchema("io.k8s.api.core.v1.PersistentVolumeClaim"),
);
