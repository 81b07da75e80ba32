// `jobset-ts/api`: the JobSet v1alpha2 API alone — its TypeScript types, the TypeBox schemas they come
// from, the enum values, and the constants (group/version, label and annotation keys, condition types,
// reasons). No I/O and nothing of the client: safe to import anywhere.
export * from "../api/constants.ts";
export type { FeatureName } from "../api/features.ts";
export { FeatureNames } from "../api/features.ts";
export type { FieldError, FieldErrorType } from "../api/field-errors.ts";
export { formatFieldError } from "../api/field-errors.ts";
export type {
  Container,
  Event,
  Job,
  JobSpec,
  JobTemplateSpec,
  KubeObject,
  ObjectMeta,
  Pod,
  PodSpec,
  PodTemplateSpec,
  Service,
} from "../api/k8s.ts";
export * from "../api/types.ts";
