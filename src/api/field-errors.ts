// Kubernetes-style field errors (k8s.io/apimachinery/pkg/util/validation/field) and the JobSet webhook's
// error envelope (a metav1.Status with code 422, reason Invalid).

/** The `type` strings Kubernetes uses in Status causes (field.ErrorType). */
export type FieldErrorType =
  | "FieldValueNotFound"
  | "FieldValueRequired"
  | "FieldValueDuplicate"
  | "FieldValueInvalid"
  | "FieldValueNotSupported"
  | "FieldValueForbidden"
  | "FieldValueTooLong"
  | "FieldValueTooMany"
  | "InternalError"
  | "FieldValueTypeInvalid";

export interface FieldError {
  type: FieldErrorType;
  /** Field path, e.g. `spec.network.subdomain`; `<nil>` for plain errors wrapped as internal errors. */
  field: string;
  /** The offending value (omitted in the rendering for Forbidden / Too long / Internal error / Required). */
  value?: unknown;
  detail: string;
}
