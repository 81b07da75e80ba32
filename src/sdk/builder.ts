// Building JobSets in code: plain functions over the API's own types, so an editor completes every
// field and a wrong field or enum value is a compile error. `jobSet()` returns the JobSet as the API
// server would store it (schema defaults and the defaulting webhook applied) or throws
// JobSetInvalidError with the same field-path errors `jobset lint` prints: it runs the same code.
import { ApiVersion, Kind } from "../api/constants.ts";
import type { Container, JobSpec, ObjectMeta, PodSpec } from "../api/k8s.ts";
import type { DependsOn, JobSet, JobSetSpec, ReplicatedJob } from "../api/types.ts";
import { defaulted, type FeatureGateSettings } from "./lint.ts";

/** The spec of a JobSet, with its replicated jobs required (a JobSet without any is invalid). */
export type JobSetSpecInput = Omit<JobSetSpec, "replicatedJobs"> & { replicatedJobs: ReplicatedJob[] };

export interface JobSetOptions {
  /** Namespace (default: the client's namespace when created). */
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Name prefix for a server-generated name; `name` is then "" (ignored). */
  generateName?: string;
  /** Feature gates of the controller the JobSet is validated for (e.g. { InPlaceRestart: true }). */
  featureGates?: FeatureGateSettings;
}

/**
 * A JobSet named `name`, defaulted and validated. Throws JobSetInvalidError (its `errors` carry field
 * paths such as `spec.replicatedJobs[0].name`) when the API server or the JobSet webhook would refuse it.
 */
export function jobSet(name: string, spec: JobSetSpecInput, o: JobSetOptions = {}): JobSet {
  const metadata: ObjectMeta = {};
  if (name) metadata.name = name;
  if (o.generateName) metadata.generateName = o.generateName;
  if (o.namespace) metadata.namespace = o.namespace;
  if (o.labels) metadata.labels = { ...o.labels };
  if (o.annotations) metadata.annotations = { ...o.annotations };
  const js: JobSet = { apiVersion: ApiVersion, kind: Kind, metadata, spec: structuredClone(spec) };
  return defaulted(js, o.featureGates ? { featureGates: o.featureGates } : {});
}

/** A replicated job: `replicas` identical Jobs whose pods run `pod`. */
export interface ReplicatedJobInput {
  name: string;
  /** Number of Jobs (default 1). */
  replicas?: number;
  groupName?: string;
  dependsOn?: DependsOn[];
  /** The Job spec around the pod template: parallelism, completions, completionMode, backoffLimit… */
  job?: Omit<JobSpec, "template">;
  /** Labels and annotations of each Job. */
  jobMetadata?: ObjectMeta;
  /** The pod spec of every pod (restartPolicy defaults to Never when unset). */
  pod: PodSpec;
  /** Labels and annotations of each pod. */
  podMetadata?: ObjectMeta;
}

/** A replicated job without the template.spec.template.spec nesting of the raw API. */
export function replicatedJob(r: ReplicatedJobInput): ReplicatedJob {
  const out: ReplicatedJob = {
    name: r.name,
    template: {
      ...(r.jobMetadata ? { metadata: r.jobMetadata } : {}),
      spec: {
        ...r.job,
        template: {
          ...(r.podMetadata ? { metadata: r.podMetadata } : {}),
          spec: { restartPolicy: "Never", ...r.pod },
        },
      },
    },
  };
  if (r.replicas !== undefined) out.replicas = r.replicas;
  if (r.groupName !== undefined) out.groupName = r.groupName;
  if (r.dependsOn !== undefined) out.dependsOn = r.dependsOn;
  return out;
}

/** The other fields of a container: env, ports, resources, args… */
export type ContainerExtra = Omit<Container, "name" | "image" | "command">;

/** A container running `command` (argv) in `image`; `extra` adds env, ports, resources… */
export function container(name: string, image: string, command: string[], extra: ContainerExtra = {}): Container {
  return { name, image, command, ...extra };
}
