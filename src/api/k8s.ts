// Plain-JSON views of the Kubernetes types we use. The shapes come from @kubernetes/client-node's
// generated models (themselves generated from the Kubernetes OpenAPI schema); `Plain` turns the
// models' `Date` fields into the RFC 3339 strings that actually travel over the wire, so these types
// describe exactly what JSON.parse gives us. Type-only imports: nothing from the client runs here.
import type {
  CoreV1Event,
  EventsV1Event,
  V1Condition,
  V1Container,
  V1Job,
  V1JobCondition,
  V1JobSpec,
  V1JobTemplateSpec,
  V1Lease,
  V1Node,
  V1ObjectMeta,
  V1OwnerReference,
  V1PersistentVolumeClaim,
  V1Pod,
  V1PodSpec,
  V1PodTemplateSpec,
  V1Secret,
  V1Service,
  V1Status,
  V1Toleration,
} from "@kubernetes/client-node";

/** Maps a client-node model type to the JSON it is sent and received as (Date → string). */
export type Plain<T> = T extends Date
  ? string
  : T extends (infer U)[]
    ? Plain<U>[]
    : T extends Record<string, unknown>
      ? { [K in keyof T]: Plain<T[K]> }
      : T extends object
        ? { [K in keyof T]: Plain<T[K]> }
        : T;

export type ObjectMeta = Plain<V1ObjectMeta>;
export type OwnerReference = Plain<V1OwnerReference>;
export type Condition = Plain<V1Condition>;
export type Job = Plain<V1Job>;
export type JobSpec = Plain<V1JobSpec>;
export type JobCondition = Plain<V1JobCondition>;
export type JobTemplateSpec = Plain<V1JobTemplateSpec>;
export type PodTemplateSpec = Plain<V1PodTemplateSpec>;
export type PodSpec = Plain<V1PodSpec>;
export type Pod = Plain<V1Pod>;
export type Container = Plain<V1Container>;
export type Toleration = Plain<V1Toleration>;
export type Service = Plain<V1Service>;
export type PersistentVolumeClaim = Plain<V1PersistentVolumeClaim>;
export type Node = Plain<V1Node>;
export type Lease = Plain<V1Lease>;
export type Secret = Plain<V1Secret>;
export type Status = Plain<V1Status>;
export type Event = Plain<EventsV1Event>;
export type CoreEvent = Plain<CoreV1Event>;

/** Any Kubernetes object as it comes over the wire. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  [key: string]: unknown;
}
