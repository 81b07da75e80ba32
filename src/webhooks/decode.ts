// What Go's encoding/json does when controller-runtime decodes an admission object into a typed struct:
// a JSON type that does not fit the Go field is an error (answered 400), `null` becomes the zero value
// (absent), and unknown fields are ignored. Enums, patterns, required fields and ranges are *not*
// checked here: that is schema validation, which the API server runs after mutating admission.
// JobSets are decoded through the Go type model of upstream's types (src/api/go-value.ts: exact error
// text, checked against Go); pods through the structural schema of the PodSpec.

import type { JsonSchema } from "../api/embedded.ts";
import { embeddedSchema } from "../api/embedded.ts";
import { GoTypes, goDecode } from "../api/go-value.ts";

export type DecodeResult<T> = { ok: true; value: T } | { ok: false; message: string };

const INT32 = [-2147483648, 2147483647] as const;

const jsonType = (v: unknown): string =>
  v === null ? "null" : Array.isArray(v) ? "array" : typeof v === "object" ? "object" : typeof v;

class DecodeError extends Error {}

const fail = (path: string, v: unknown, want: string): never => {
  throw new DecodeError(`json: cannot unmarshal ${jsonType(v)} into Go struct field ${path || "."} of type ${want}`);
};

const zeroOf = (s: JsonSchema): unknown => {
  switch (s.type) {
    case "object":
      return {};
    case "array":
      return [];
    case "string":
      return "";
    case "integer":
    case "number":
      return 0;
    case "boolean":
      return false;
    default:
      return {};
  }
};

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function walk(s: JsonSchema, v: unknown, path: string): unknown {
  if (s["x-kubernetes-int-or-string"] === true) {
    if (typeof v === "number") {
      if (!Number.isInteger(v)) fail(path, v, "intstr.IntOrString");
      return v;
    }
    if (typeof v === "string") {
      if (typeof s.pattern === "string" && !new RegExp(s.pattern).test(v)) {
        throw new DecodeError(`quantities must match the regular expression '${s.pattern}' (field ${path})`);
      }
      return v;
    }
    return fail(path, v, "intstr.IntOrString");
  }
  if (s["x-kubernetes-preserve-unknown-fields"] === true && s.properties === undefined) return v;
  switch (s.type) {
    case "object": {
      if (!isRecord(v)) return fail(path, v, "object");
      const props = isRecord(s.properties) ? (s.properties as Record<string, JsonSchema>) : undefined;
      const extra = isRecord(s.additionalProperties) ? (s.additionalProperties as JsonSchema) : undefined;
      const out: Record<string, unknown> = {};
      for (const [k, child] of Object.entries(v)) {
        const sub = props && Object.hasOwn(props, k) ? props[k] : extra;
        const p = path ? `${path}.${k}` : k;
        if (child === null) {
          // nil pointer / zero value: absent after Go's round trip; map values become their zero value.
          if (!props?.[k] && extra) out[k] = zeroOf(extra);
          continue;
        }
        out[k] = sub ? walk(sub, child, p) : child;
      }
      return out;
    }
    case "array": {
      if (!Array.isArray(v)) return fail(path, v, "array");
      const items = isRecord(s.items) ? (s.items as JsonSchema) : undefined;
      return v.map((item, i) => {
        if (!items) return item;
        if (item === null) return zeroOf(items);
        return walk(items, item, `${path}[${i}]`);
      });
    }
    case "string":
      if (typeof v !== "string") return fail(path, v, "string");
      if (s.format === "date-time" && Number.isNaN(Date.parse(v))) {
        throw new DecodeError(`parsing time ${JSON.stringify(v)} as RFC 3339 (field ${path})`);
      }
      return v;
    case "integer": {
      if (typeof v !== "number" || !Number.isInteger(v)) return fail(path, v, s.format === "int64" ? "int64" : "int32");
      if (s.format !== "int64" && (v < INT32[0] || v > INT32[1])) return fail(path, v, "int32");
      return v;
    }
    case "number":
      if (typeof v !== "number") return fail(path, v, "float64");
      return v;
    case "boolean":
      if (typeof v !== "boolean") return fail(path, v, "bool");
      return v;
    default:
      return v;
  }
}

const stringMap: JsonSchema = { type: "object", additionalProperties: { type: "string" } };
const TopLevelMeta: JsonSchema = {
  type: "object",
  properties: {
    name: { type: "string" },
    generateName: { type: "string" },
    namespace: { type: "string" },
    uid: { type: "string" },
    resourceVersion: { type: "string" },
    generation: { type: "integer", format: "int64" },
    labels: stringMap,
    annotations: stringMap,
    finalizers: { type: "array", items: { type: "string" } },
    creationTimestamp: { type: "string", format: "date-time" },
    deletionTimestamp: { type: "string", format: "date-time" },
    deletionGracePeriodSeconds: { type: "integer", format: "int64" },
    ownerReferences: {
      type: "array",
      items: {
        type: "object",
        properties: {
          apiVersion: { type: "string" },
          kind: { type: "string" },
          name: { type: "string" },
          uid: { type: "string" },
          controller: { type: "boolean" },
          blockOwnerDeletion: { type: "boolean" },
        },
      },
    },
  },
};

let podSchema: JsonSchema | undefined;

function podDecodeSchema(): JsonSchema {
  if (!podSchema) {
    podSchema = {
      type: "object",
      properties: {
        apiVersion: { type: "string" },
        kind: { type: "string" },
        metadata: TopLevelMeta,
        spec: embeddedSchema("io.k8s.api.core.v1.PodSpec"),
        status: {
          type: "object",
          properties: {
            phase: { type: "string" },
            conditions: {
              type: "array",
              items: {
                type: "object",
                properties: {
                  type: { type: "string" },
                  status: { type: "string" },
                  reason: { type: "string" },
                  message: { type: "string" },
                },
              },
            },
          },
        },
      },
    };
  }
  return podSchema;
}

function decodeWith<T>(schema: JsonSchema, v: unknown, kind: string): DecodeResult<T> {
  if (!isRecord(v))
    return { ok: false, message: `json: cannot unmarshal ${jsonType(v)} into Go value of type ${kind}` };
  try {
    return { ok: true, value: walk(schema, v, "") as T };
  } catch (e) {
    if (e instanceof DecodeError) return { ok: false, message: e.message };
    throw e;
  }
}

/** The name apimachinery gives the scheme of a program (runtime.NewScheme's call site), as upstream's errors show it. */
export const SchemeName = "pkg/runtime/scheme.go:111";
const JobSetGroup = "jobset.x-k8s.io";
const JobSetVersion = "v1alpha2";

/**
 * The group/version/kind check of the universal deserializer decoding into a typed JobSet: a missing
 * kind or version is taken from the JobSet type, anything else must be jobset.x-k8s.io/v1alpha2 JobSet.
 */
export function jobSetKindError(v: Record<string, unknown>): string | undefined {
  const apiVersion = typeof v.apiVersion === "string" ? v.apiVersion : "";
  let kind = typeof v.kind === "string" ? v.kind : "";
  const slash = apiVersion.indexOf("/");
  let group = slash >= 0 ? apiVersion.slice(0, slash) : "";
  let version = slash >= 0 ? apiVersion.slice(slash + 1) : apiVersion;
  if (kind === "") kind = "JobSet";
  if (version === "" && group === "") {
    group = JobSetGroup;
    version = JobSetVersion;
  }
  if (version === "" && group === JobSetGroup) version = JobSetVersion;
  if (group === JobSetGroup && version === JobSetVersion && kind === "JobSet") return undefined;
  const gv = group === "" ? version : `${group}/${version}`;
  return `no kind ${JSON.stringify(kind)} is registered for version ${JSON.stringify(gv)} in scheme ${JSON.stringify(SchemeName)}`;
}

/**
 * Decodes an admission object as controller-runtime's decoder does into upstream's typed JobSet:
 * an unknown group/version/kind and JSON type errors are refused with Go's wording; nulls are dropped.
 */
export function decodeJobSet<T>(v: unknown): DecodeResult<T> {
  if (!isRecord(v))
    return { ok: false, message: `json: cannot unmarshal ${jsonType(v)} into Go value of type v1alpha2.JobSet` };
  const kindErr = jobSetKindError(v);
  if (kindErr) return { ok: false, message: kindErr };
  const d = goDecode<T>(v, GoTypes.JobSet);
  return d.ok ? { ok: true, value: d.value } : { ok: false, message: d.message };
}

/** Decodes an admission object as a Pod (type errors → message; nulls dropped). */
export const decodePod = <T>(v: unknown): DecodeResult<T> => decodeWith<T>(podDecodeSchema(), v, "v1.Pod");
