// AdmissionReview v1 (admission.k8s.io/v1) as plain JSON, and the responses controller-runtime's
// webhook handlers give, so that the API server sees exactly what upstream JobSet would send:
//
// - allowed: `{allowed: true, status: {metadata: {}, code: 200}}` (controller-runtime `Allowed("")`);
// - a plain error: `{allowed: false, status: {metadata: {}, message: <text>, reason: "Forbidden", code: 403}}`
//   (`Denied`);
// - a Kubernetes StatusError (the JobSet webhook's 422 Invalid): the Status as is, code kept;
// - a request the handler cannot process (bad JSON, wrong content type): `{metadata: {}, message, code: 400}`
//   (`Errored`);
// - a mutation: `{allowed: true, status: {metadata: {}, code: 200}, patch: base64(JSON Patch), patchType:
//   "JSONPatch"}` (`PatchResponseFromRaw`; no patch when nothing changed), the patch being the diff original →
//   mutated with removals dropped (controller-runtime keeps unknown fields by default).
// Every Status is written as Go's encoding/json writes a metav1.Status: `metadata: {}` always (an empty struct
// is never omitted), then status, message, reason, details, code; responses and reviews in Go's field order.
// These shapes are checked against upstream's server (test/compat/upstream-webhook.test.ts, ADR 0022).
import { isDeepStrictEqual } from "node:util";
import jsonpatch from "fast-json-patch";
import { parse as parseYaml } from "yaml";
import { jsonKind } from "../api/go-value.ts";
import type { Status } from "../api/k8s.ts";
import { goJsonSyntaxError } from "./go-json-syntax.ts";

export const AdmissionGroupVersion = "admission.k8s.io/v1";

export type Operation = "CREATE" | "UPDATE" | "DELETE" | "CONNECT";

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

export interface GroupVersionResource {
  group: string;
  version: string;
  resource: string;
}

export interface UserInfo {
  username?: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

export interface AdmissionRequest {
  uid: string;
  kind: GroupVersionKind;
  resource: GroupVersionResource;
  subResource?: string;
  requestKind?: GroupVersionKind;
  requestResource?: GroupVersionResource;
  requestSubResource?: string;
  name?: string;
  namespace?: string;
  operation: Operation;
  userInfo: UserInfo;
  object?: unknown;
  oldObject?: unknown;
  dryRun?: boolean;
  options?: unknown;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: Status;
  patch?: string;
  patchType?: "JSONPatch";
  auditAnnotations?: Record<string, string>;
  warnings?: string[];
}

export interface AdmissionReview {
  /** As the request wrote them (echoed in the answer); absent in the answer to an undecodable body. */
  apiVersion?: string;
  kind?: string;
  request?: AdmissionRequest;
  response?: AdmissionResponse;
}

/** What a handler decides; the server adds the request's uid. */
export type Outcome = Omit<AdmissionResponse, "uid">;

/** One JSON Patch (RFC 6902) operation, as sent in `response.patch`. */
export interface PatchOperation {
  op: "add" | "remove" | "replace" | "move" | "copy" | "test";
  path: string;
  value?: unknown;
  from?: string;
}

// ---------------------------------------------------------------------------------------------- outcomes

const withWarnings = (o: Outcome, warnings?: readonly string[]): Outcome =>
  warnings && warnings.length > 0 ? { ...o, warnings: [...warnings] } : o;

/**
 * A metav1.Status as Go encodes it: `metadata: {}` first (ListMeta is a struct, which `omitempty` never
 * drops), then the fields that are set, in the struct's order (status, message, reason, details, code);
 * no kind/apiVersion (an empty TypeMeta).
 */
export function goStatus(s: Status): Status {
  const out: Status = { metadata: s.metadata ?? {} };
  if (s.status) out.status = s.status;
  if (s.message) out.message = s.message;
  if (s.reason) out.reason = s.reason;
  if (s.details) out.details = s.details;
  if (s.code) out.code = s.code;
  return out;
}

/** controller-runtime `Allowed(message)`: code 200, plus the message when non-empty. */
export function allowed(message = "", warnings?: readonly string[]): Outcome {
  return withWarnings({ allowed: true, status: goStatus({ message, code: 200 }) }, warnings);
}

/** controller-runtime `Denied(message)`: a plain error → 403 Forbidden with the error text. */
export function denied(message: string, warnings?: readonly string[]): Outcome {
  return withWarnings({ allowed: false, status: goStatus({ message, reason: "Forbidden", code: 403 }) }, warnings);
}

/** A denial carrying a complete metav1.Status (a Kubernetes StatusError): code, reason and details kept. */
export function deniedWithStatus(status: Status, warnings?: readonly string[]): Outcome {
  return withWarnings({ allowed: false, status: goStatus(status) }, warnings);
}

/** controller-runtime `Errored(code, err)`: the request could not be processed. */
export function errored(code: number, message: string): Outcome {
  return { allowed: false, status: goStatus({ message, code }) };
}

/** An error that carries a Kubernetes Status (apierrors.StatusError): denials keep its code and details. */
export class StatusError extends Error {
  readonly status: Status;
  constructor(status: Status) {
    super(status.message ?? "");
    this.name = "StatusError";
    this.status = status;
  }
}

const hasStatus = (e: unknown): e is { status: Status } =>
  typeof e === "object" &&
  e !== null &&
  "status" in e &&
  typeof (e as { status: unknown }).status === "object" &&
  (e as { status: unknown }).status !== null &&
  typeof (e as { status: { code?: unknown } }).status.code === "number";

/**
 * The response controller-runtime's handlers give for an error returned by a defaulter or validator:
 * an error carrying a Status keeps it (JobSet validation: 422 Invalid), anything else is a plain
 * 403 Forbidden denial with the error text.
 */
export function deniedFromError(e: unknown, warnings?: readonly string[]): Outcome {
  if (e instanceof StatusError || hasStatus(e)) return deniedWithStatus(e.status, warnings);
  return denied(e instanceof Error ? e.message : String(e), warnings);
}

/**
 * What controller-runtime's validators do with operations other than CREATE and UPDATE (JobSet and Pod
 * alike: neither upstream validator checks deletions): DELETE decodes the old object and is allowed,
 * CONNECT is allowed, anything else is `unknown operation`.
 */
export function otherOperation(
  req: AdmissionRequest,
  decodeOld: (raw: unknown) => { ok: true } | { ok: false; message: string },
): Outcome {
  if (req.operation === "CONNECT") return allowed();
  if (req.operation === "DELETE") {
    const d = decodeOld(req.oldObject);
    return d.ok ? allowed() : errored(400, d.message);
  }
  return errored(400, `unknown operation ${JSON.stringify(req.operation ?? "")}`);
}

// ---------------------------------------------------------------------------------------------- patches

/**
 * Whether `v` is already what a JSON round trip gives back: plain objects and arrays of strings, finite
 * numbers (not -0), booleans and null, with no `undefined`, functions or `toJSON`. Requests parsed from
 * JSON and objects our handlers build are; checking costs one walk and no allocation.
 */
function isPlainJSON(v: unknown): boolean {
  switch (typeof v) {
    case "string":
    case "boolean":
      return true;
    case "number":
      return Number.isFinite(v) && !Object.is(v, -0);
    case "object": {
      if (v === null) return true;
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) if (!isPlainJSON(v[i])) return false;
        return true;
      }
      const proto = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) return false;
      const o = v as Record<string, unknown>;
      if (typeof o.toJSON === "function") return false;
      for (const k in o) if (!isPlainJSON(o[k])) return false;
      return true;
    }
    default:
      return false;
  }
}

/**
 * Normalizes a value the way a JSON round trip does (drops `undefined`, turns Dates into strings); a
 * value that is plain JSON already is returned as it is.
 */
const toJSONValue = (v: unknown): unknown =>
  v === undefined ? undefined : isPlainJSON(v) ? v : JSON.parse(JSON.stringify(v));

/**
 * The JSON Patch turning `original` into `mutated`. Removals are dropped, as controller-runtime does
 * for defaulters by default (a typed decode would otherwise "remove" fields it does not know).
 */
export function computePatch(original: unknown, mutated: unknown, keepRemovals = false): PatchOperation[] {
  const a = toJSONValue(original);
  const b = toJSONValue(mutated);
  if (typeof a !== "object" || a === null || typeof b !== "object" || b === null) {
    return JSON.stringify(a) === JSON.stringify(b) ? [] : [{ op: "replace", path: "", value: b }];
  }
  const ops = jsonpatch.compare(a, b) as PatchOperation[];
  return keepRemovals ? ops : ops.filter((o) => o.op !== "remove");
}

/**
 * What controller-runtime's defaulter answers (defaulterForType.Handle): `encoded` is the request's object
 * as Go encodes it once decoded (before defaulting), `defaulted` the same after defaulting. When defaulting
 * changed nothing, the answer is a plain allowed, without a patch, even if the Go encoding differs from
 * the request's text; otherwise the patch is request object → defaulted, the round trip's additions
 * included (PatchResponseFromRaw; removals dropped as dropSchemeRemovals drops the scheme's).
 */
export function defaulterResponse(requestObject: unknown, encoded: unknown, defaulted: unknown): Outcome {
  if (isDeepStrictEqual(encoded, defaulted)) return allowed();
  return patchResponse(requestObject, defaulted);
}

/**
 * controller-runtime `PatchResponseFromRaw`: allowed with code 200, and a base64 JSON Patch when anything
 * changed.
 */
export function patchResponse(original: unknown, mutated: unknown, warnings?: readonly string[]): Outcome {
  const ops = computePatch(original, mutated);
  const status = goStatus({ code: 200 });
  if (ops.length === 0) return withWarnings({ allowed: true, status }, warnings);
  // Upstream's patch library holds values as Go maps, which json.Marshal writes with sorted keys.
  for (const op of ops) if (op.value !== undefined) op.value = sortedKeys(op.value);
  return withWarnings(
    { allowed: true, status, patch: Buffer.from(JSON.stringify(ops)).toString("base64"), patchType: "JSONPatch" },
    warnings,
  );
}

/** A copy of a JSON value whose objects have their keys in sorted (UTF-16 code unit = Go's byte) order. */
function sortedKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortedKeys);
  if (typeof v !== "object" || v === null) return v;
  const src = v as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(src).sort()) out[k] = sortedKeys(src[k]);
  return out;
}

/** Decodes the patch of a response (tests, logging). */
export function decodePatch(response: Pick<AdmissionResponse, "patch">): PatchOperation[] {
  if (!response.patch) return [];
  return JSON.parse(Buffer.from(response.patch, "base64").toString("utf8")) as PatchOperation[];
}

// ---------------------------------------------------------------------------------------------- reviews

/**
 * Wraps an outcome into the AdmissionReview answered for a request, in Go's field order: kind and the
 * request's apiVersion, then the response (uid, allowed, status, patch, patchType, auditAnnotations,
 * warnings). Without an apiVersion (the body could not be decoded as a review: empty, not JSON, wrong
 * content type, too large) the review has no kind or apiVersion, as controller-runtime writes it then.
 */
export function reviewResponse(uid: string, outcome: Outcome, apiVersion?: string, kind?: string): AdmissionReview {
  const response: AdmissionResponse = { uid, allowed: outcome.allowed };
  if (outcome.status) response.status = outcome.status;
  if (outcome.patch) response.patch = outcome.patch;
  if (outcome.patchType) response.patchType = outcome.patchType;
  if (outcome.auditAnnotations) response.auditAnnotations = outcome.auditAnnotations;
  if (outcome.warnings) response.warnings = outcome.warnings;
  // The review's own type, echoed as the request wrote it (parseAdmissionReview); none for a body that was
  // never decoded as a review.
  if (apiVersion === undefined && kind === undefined) return { response };
  return { ...(kind !== undefined ? { kind } : {}), ...(apiVersion !== undefined ? { apiVersion } : {}), response };
}

export type ParsedReview =
  | { ok: true; apiVersion?: string; kind?: string; request: AdmissionRequest }
  | { ok: false; message: string };

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: unknown): v is string => typeof v === "string";

/**
 * The first step of apimachinery's JSON serializer for any object: reading `apiVersion` and `kind` into an
 * anonymous struct. Undefined when they read fine (strings, null or absent), else the error text.
 */
export function interpretError(v: unknown): string | undefined {
  const prefix = "couldn't get version/kind; json parse error: ";
  if (v === null) return undefined;
  if (!isRecord(v)) {
    return (
      `${prefix}json: cannot unmarshal ${jsonKind(v)} into Go value of type ` +
      'struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" }'
    );
  }
  for (const key in v) {
    if ((key === "apiVersion" || key === "kind") && v[key] !== null && !str(v[key])) {
      return `${prefix}json: cannot unmarshal ${jsonKind(v[key])} into Go struct field .${key} of type string`;
    }
  }
  return undefined;
}

// The Go types of admission/v1's AdmissionRequest, for the decode errors of a review's `request` (the
// struct that holds each field, the field's Go type). Fields not listed (object, oldObject, options: raw
// JSON) take anything.
type GoField = { type: string; fields?: Record<string, GoField>; elem?: GoField; map?: GoField };
const goString = (type = "string"): GoField => ({ type });
const gvk: GoField = {
  type: "v1.GroupVersionKind",
  fields: { group: goString(), version: goString(), kind: goString() },
};
const gvr: GoField = {
  type: "v1.GroupVersionResource",
  fields: { group: goString(), version: goString(), resource: goString() },
};
const requestType: GoField = {
  type: "v1.AdmissionRequest",
  fields: {
    uid: goString("types.UID"),
    kind: gvk,
    resource: gvr,
    subResource: goString(),
    requestKind: gvk,
    requestResource: gvr,
    requestSubResource: goString(),
    name: goString(),
    namespace: goString(),
    operation: goString("v1.Operation"),
    userInfo: {
      type: "v1.UserInfo",
      fields: {
        username: goString(),
        uid: goString(),
        groups: { type: "[]string", elem: goString() },
        extra: { type: "map[string]v1.ExtraValue", map: { type: "v1.ExtraValue", elem: goString() } },
      },
    },
    dryRun: { type: "bool" },
  },
};
const structName = (t: GoField): string => t.type.slice(t.type.lastIndexOf(".") + 1);

/**
 * The first error (in document order, as Go's decoder reports it) of decoding `v` into Go type `t`, the
 * field `path` of struct `holder`; undefined when it decodes. `null` decodes into anything.
 */
function goFieldError(v: unknown, t: GoField, holder: string, path: string): string | undefined {
  if (v === null) return undefined;
  const fail = (type: string) =>
    `json: cannot unmarshal ${jsonKind(v)} into Go struct field ${holder}.AdmissionReview${path} of type ${type}`;
  if (t.fields) {
    if (!isRecord(v)) return fail(t.type);
    for (const key in v) {
      const f = Object.hasOwn(t.fields, key) ? t.fields[key] : undefined;
      const e = f && goFieldError(v[key], f, structName(t), `${path}.${key}`);
      if (e) return e;
    }
    return undefined;
  }
  if (t.elem && !t.map) {
    if (!Array.isArray(v)) return fail(t.type);
    for (const item of v) {
      const e = goFieldError(item, t.elem, holder, path);
      if (e) return e;
    }
    return undefined;
  }
  if (t.map) {
    if (!isRecord(v)) return fail(t.type);
    for (const key in v) {
      const e = goFieldError(v[key], t.map, holder, path);
      if (e) return e;
    }
    return undefined;
  }
  if (t.type === "bool") return typeof v === "boolean" ? undefined : fail("bool");
  return str(v) ? undefined : fail(t.type);
}

/**
 * A body JSON.parse refused, as apimachinery's universal deserializer reads it: a text starting with `{` is
 * JSON, refused with encoding/json's syntax error; anything else is YAML (sigs.k8s.io/yaml, YAML 1.1),
 * converted to the JSON value it denotes. A YAML syntax error is reported in our words: go-yaml's are not
 * reproduced (ADR 0022).
 */
function parseNotJson(body: string): { value: unknown } | { message: string } {
  if (body.replace(/^[ \t\r\n]+/, "").startsWith("{")) {
    const syntax = goJsonSyntaxError(body);
    return { message: `couldn't get version/kind; json parse error: ${syntax ?? "invalid JSON"}` };
  }
  try {
    // Through JSON, as YAMLToJSON does: timestamps become strings.
    return { value: JSON.parse(JSON.stringify(parseYaml(body, { version: "1.1" }) ?? null)) as unknown };
  } catch (e) {
    const msg = e instanceof Error ? e.message.split("\n")[0] : String(e);
    return { message: `error converting YAML to JSON: ${msg}` };
  }
}

/**
 * Decodes an AdmissionReview body as controller-runtime does (the universal deserializer into an
 * unversioned review): `apiVersion` and `kind` are read but not checked, and echoed in the answer (v1
 * AdmissionReview when both are absent); a missing or null `request` is an empty one; a field of the wrong
 * JSON type is Go's decode error. Nothing is required: the handlers answer what is missing (`unknown
 * operation ""`, `there is no content to decode`). A failure means the body is not a review at all, and is
 * answered without kind and apiVersion. Checked against upstream's server (test/compat/upstream-webhook.test.ts).
 */
export function parseAdmissionReview(body: string): ParsedReview {
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch {
    const parsed = parseNotJson(body);
    if ("message" in parsed) return { ok: false, message: parsed.message };
    doc = parsed.value;
  }
  const interpreted = interpretError(doc);
  if (interpreted) return { ok: false, message: interpreted };
  const review = isRecord(doc) ? doc : {};
  const req = review.request ?? null;
  const fieldErr = goFieldError(req, requestType, "unversionedAdmissionReview", ".request");
  if (fieldErr) return { ok: false, message: fieldErr };
  const apiVersion = str(review.apiVersion) ? review.apiVersion : "";
  const kind = str(review.kind) ? review.kind : "";
  // Decoded fine: every field present has its Go type (or is null, Go's zero value).
  const request = { ...(req as Record<string, unknown> | null) } as unknown as AdmissionRequest;
  request.uid ??= "";
  request.userInfo ??= {};
  if (request.object === null) delete request.object;
  if (request.oldObject === null) delete request.oldObject;
  if (apiVersion === "" && kind === "")
    return { ok: true, apiVersion: AdmissionGroupVersion, kind: "AdmissionReview", request };
  return { ok: true, ...(apiVersion ? { apiVersion } : {}), ...(kind ? { kind } : {}), request };
}

/** Structural check of an answered AdmissionReview (tests and fuzzing). Returns the problems found. */
export function checkAdmissionReviewResponse(doc: unknown, uid?: string): string[] {
  const problems: string[] = [];
  if (!isRecord(doc)) return ["not a JSON object"];
  // kind and apiVersion echo the request's (either may be absent); the answer to a body that was never
  // decoded as a review has neither (reviewResponse).
  const undecoded = doc.kind === undefined && doc.apiVersion === undefined;
  if (doc.kind !== undefined && !str(doc.kind)) problems.push(`kind is ${JSON.stringify(doc.kind)}`);
  if (doc.apiVersion !== undefined && !str(doc.apiVersion)) {
    problems.push(`apiVersion is ${JSON.stringify(doc.apiVersion)}`);
  }
  if (undecoded && isRecord(doc.response) && doc.response.uid !== "") {
    problems.push("a review without kind and apiVersion answers an undecoded body: its uid must be empty");
  }
  const r = doc.response;
  if (!isRecord(r)) return [...problems, "no response"];
  if (!str(r.uid)) problems.push("response.uid is not a string");
  else if (uid !== undefined && r.uid !== uid) problems.push(`response.uid ${r.uid} != request uid ${uid}`);
  if (typeof r.allowed !== "boolean") problems.push("response.allowed is not a boolean");
  if (r.status !== undefined) {
    if (!isRecord(r.status)) problems.push("response.status is not an object");
    else if (typeof r.status.code !== "number") problems.push("response.status.code is not a number");
  }
  if (r.allowed === false && !isRecord(r.status)) problems.push("denial without status");
  if (r.patch !== undefined) {
    if (r.patchType !== "JSONPatch") problems.push("patch without patchType JSONPatch");
    if (!str(r.patch)) problems.push("patch is not a string");
    else {
      try {
        const ops = JSON.parse(Buffer.from(r.patch, "base64").toString("utf8"));
        if (!Array.isArray(ops)) problems.push("patch is not a JSON array");
      } catch {
        problems.push("patch is not base64 JSON");
      }
    }
  } else if (r.patchType !== undefined) problems.push("patchType without patch");
  if (r.warnings !== undefined && (!Array.isArray(r.warnings) || !r.warnings.every(str))) {
    problems.push("warnings is not a list of strings");
  }
  return problems;
}
