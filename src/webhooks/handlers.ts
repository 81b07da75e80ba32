// The four admission handlers by path (spec §9.6), ready for the WebhookServer.
import { Paths } from "./configurations.ts";
import { type JobSetWebhookOptions, jobSetMutatingHandler, jobSetValidatingHandler } from "./jobset-webhook.ts";
import { mutatePodRequest, type PodWebhookLookups, validatePodRequest } from "./pod-webhook.ts";
import type { AdmissionHandler } from "./server.ts";

export interface WebhookHandlersOptions extends JobSetWebhookOptions {
  pods: PodWebhookLookups;
}

export function webhookHandlers(o: WebhookHandlersOptions): Record<string, AdmissionHandler> {
  return {
    [Paths.MutateJobSet]: jobSetMutatingHandler(),
    [Paths.ValidateJobSet]: jobSetValidatingHandler(o),
    [Paths.MutatePod]: (req) => mutatePodRequest(req, o.pods),
    [Paths.ValidatePod]: (req) => validatePodRequest(req, o.pods),
  };
}
