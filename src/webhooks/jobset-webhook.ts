// The JobSet webhooks (spec §2.2, §3): mutating = defaultJobSet (CREATE only), validating =
// validateCreate (with PVC look-ups in the webhook's PVC cache, pvc-cache.ts) / validateUpdate. Denials are the 422 Invalid
// Status of §3.1 (`details.name` is metadata.name: empty for generateName creates).
import { cloneJSON } from "../api/clone.ts";
import { defaultJobSetInPlace } from "../api/defaults.ts";
import type { FeatureGates } from "../api/features.ts";
import { type FieldError, toStatus } from "../api/field-errors.ts";
import type { PersistentVolumeClaim } from "../api/k8s.ts";
import { goEncode } from "../api/roundtrip.ts";
import type { JobSet } from "../api/types.ts";
import { nameForValidation, validateCreate, validateCreateWithLookup, validateUpdate } from "../api/validation.ts";
import {
  type AdmissionRequest,
  allowed,
  defaulterResponse,
  deniedWithStatus,
  errored,
  type Outcome,
  otherOperation,
} from "./admission.ts";
import { decodeJobSet } from "./decode.ts";
import type { AdmissionHandler } from "./server.ts";

export interface JobSetWebhookOptions {
  gates: FeatureGates;
  /**
   * Existing PVC `name` in `namespace`: undefined when it does not exist; rejects on other errors.
   * `signal` aborts when the server gives the request up. The process reads its PVC cache
   * (pvcCacheGetter in pvc-cache.ts).
   */
  getPVC: (namespace: string, name: string, signal?: AbortSignal) => Promise<PersistentVolumeClaim | undefined>;
  /** Random source of the generateName suffix used for name-length checks (tests inject one). */
  random?: () => number;
}

/** The object of a request, decoded as Go would (type errors → 400), with the request's namespace filled in. */
function decode(req: AdmissionRequest, raw: unknown): { js: JobSet } | { outcome: Outcome } {
  const d = decodeJobSet<JobSet>(raw);
  if (!d.ok) return { outcome: errored(400, d.message) };
  // The decoded object may share structure with the request (copy on write): never modify it in place.
  const js = d.value;
  if (req.namespace && !js.metadata?.namespace) {
    return { js: { ...js, metadata: { ...js.metadata, namespace: req.namespace } } };
  }
  return { js };
}

/**
 * `/mutate-jobset-x-k8s-io-v1alpha2-jobset`: defaulting. The webhook is registered for CREATE; as with
 * controller-runtime's defaulter, DELETE is allowed untouched and any other operation is defaulted.
 */
export function mutateJobSet(req: AdmissionRequest): Outcome {
  if (req.operation === "DELETE") return allowed();
  const d = decode(req, req.object);
  if ("outcome" in d) return d.outcome;
  // Upstream defaults its decoded Go object and encodes it again: the patch carries that round trip.
  // decode() already decoded as Go does (errors answered 400 there); this is the encoding half.
  // goEncode builds a new object (nothing shared with the request): default it in place.
  const encoded = goEncode(d.js);
  if (req.namespace && !(req.object as { metadata?: { namespace?: string } }).metadata?.namespace) {
    // The namespace was only filled in for validation; do not patch it.
    if (encoded.metadata) delete encoded.metadata.namespace;
  }
  const defaulted = defaultJobSetInPlace(cloneJSON(encoded));
  // No patch at all when defaulting changed nothing; removals dropped, as controller-runtime drops those
  // the scheme's round trip causes (defaulting never removes): unknown fields and nulls stay as sent.
  return defaulterResponse(req.object, encoded, defaulted);
}

/**
 * `/validate-jobset-x-k8s-io-v1alpha2-jobset`: CREATE and UPDATE rules. As controller-runtime's validator
 * does: DELETE decodes the old object and is allowed, CONNECT is allowed, any other operation is refused.
 */
export function validateJobSet(
  req: AdmissionRequest,
  o: JobSetWebhookOptions,
  signal?: AbortSignal,
): Outcome | Promise<Outcome> {
  if (req.operation === "CREATE") {
    const d = decode(req, req.object);
    if ("outcome" in d) return d.outcome;
    const answer = (errs: FieldError[]) =>
      errs.length === 0 ? allowed() : deniedWithStatus(toStatus(d.js.metadata?.name ?? "", errs));
    // Without volume claim policies nothing is looked up: answered synchronously.
    if ((d.js.spec?.volumeClaimPolicies ?? []).length === 0) {
      return answer(validateCreate(d.js, o.gates, { nameForValidation: nameForValidation(d.js, o.random) }));
    }
    const getPVC = (namespace: string, name: string) => o.getPVC(namespace, name, signal);
    return validateCreateWithLookup(d.js, o.gates, getPVC, o.random).then(answer);
  }
  if (req.operation === "UPDATE") {
    const n = decode(req, req.object);
    if ("outcome" in n) return n.outcome;
    const old = decode(req, req.oldObject);
    if ("outcome" in old) return old.outcome;
    const errs = validateUpdate(n.js, old.js, o.gates);
    return errs.length === 0 ? allowed() : deniedWithStatus(toStatus(n.js.metadata?.name ?? "", errs));
  }
  return otherOperation(req, decodeJobSet);
}

export function jobSetMutatingHandler(): AdmissionHandler {
  return (req) => mutateJobSet(req);
}

export function jobSetValidatingHandler(o: JobSetWebhookOptions): AdmissionHandler {
  return (req, signal) => validateJobSet(req, o, signal);
}
