// Schemas of the Kubernetes types embedded in a JobSet (batch/v1 JobTemplateSpec and core/v1
// PersistentVolumeClaim). They are derived from the Kubernetes OpenAPI schema (see crd.ts); until
// then they accept any object.
import Type from "typebox";
import type { JobTemplateSpec, PersistentVolumeClaim } from "./k8s.ts";

export const JobTemplateSpecSchema = Type.Unsafe<JobTemplateSpec>({ type: "object" });
export const PersistentVolumeClaimSchema = Type.Unsafe<PersistentVolumeClaim>({ type: "object" });
