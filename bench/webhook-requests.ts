// The AdmissionReview requests of the webhook benchmarks (webhook.bench.ts over TLS, webhook-cpu.bench.ts
// in process): per endpoint, a fixed set of bodies cycled through. JobSet validation: a small and a
// 4-replicated-job CREATE, an invalid CREATE, an unchanged, a suspended-and-edited and an immutable-field
// UPDATE; JobSet defaulting: small and large; the pod webhooks: a plain pod and a JobSet pod.
import { defaultJobSet } from "../src/api/defaults.ts";
import type { Pod } from "../src/api/k8s.ts";
import type { JobSet } from "../src/api/types.ts";
import type { AdmissionRequest, AdmissionReview } from "../src/webhooks/admission.ts";
import { Paths } from "../src/webhooks/configurations.ts";
import { jobSet, rjob, testContainer } from "../test/builders.ts";

const gvkJobSet = { group: "jobset.x-k8s.io", version: "v1alpha2", kind: "JobSet" };
const gvrJobSet = { group: "jobset.x-k8s.io", version: "v1alpha2", resource: "jobsets" };
const gvkPod = { group: "", version: "v1", kind: "Pod" };
const gvrPod = { group: "", version: "v1", resource: "pods" };

let uid = 0;
function body(r: Omit<AdmissionRequest, "uid" | "userInfo">): string {
  uid++;
  const review: AdmissionReview = {
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: { uid: `bench-${uid}`, userInfo: { username: "bench" }, ...r },
  };
  return JSON.stringify(review);
}

/** What the API server sends after the CRD defaults and the mutating webhook (validation sees this). */
const asStored = (js: JobSet): JobSet => {
  const d = defaultJobSet(js);
  for (const r of d.spec?.replicatedJobs ?? []) {
    r.groupName ??= "default";
    r.replicas ??= 1;
  }
  return d;
};

const small = (): JobSet => jobSet("small").replicatedJob(rjob("workers").replicas(2)).obj();

/** Four replicated jobs with resources, env, volumes, probes, a failure policy: a realistic training JobSet. */
function large(): JobSet {
  const c = {
    ...testContainer(),
    env: Array.from({ length: 10 }, (_, i) => ({ name: `ENV_${i}`, value: `value-${i}` })),
    resources: { requests: { cpu: "4", memory: "16Gi" }, limits: { cpu: "4", memory: "16Gi", "nvidia.com/gpu": "8" } },
    ports: [{ containerPort: 8080, name: "http" }],
    readinessProbe: { httpGet: { path: "/healthz", port: "http" }, periodSeconds: 5 },
    volumeMounts: [{ name: "scratch", mountPath: "/scratch" }],
  };
  const b = jobSet("large");
  for (const name of ["driver", "workers", "ps", "eval"]) {
    b.replicatedJob(
      rjob(name)
        .replicas(name === "workers" ? 16 : 1)
        .parallelism(4)
        .completions(4)
        .podLabels({ team: "ml", app: name })
        .containers(c),
    );
  }
  const js = b.obj();
  for (const r of js.spec?.replicatedJobs ?? []) {
    const pod = r.template.spec?.template?.spec;
    if (pod) {
      pod.volumes = [{ name: "scratch", emptyDir: { sizeLimit: "100Gi" } }];
      pod.tolerations = [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }];
      pod.nodeSelector = { "cloud.google.com/gke-accelerator": "nvidia-h100" };
    }
  }
  js.spec = {
    ...js.spec,
    failurePolicy: {
      maxRestarts: 3,
      rules: [
        { name: "oom", action: "FailJobSet", onJobFailureMessagePatterns: ["OOMKilled", "exit code 13[0-9]"] },
        { name: "retry", action: "RestartJobSet", onJobFailureReasons: ["BackoffLimitExceeded"] },
      ],
    },
    successPolicy: { operator: "All", targetReplicatedJobs: ["driver"] },
  };
  return js;
}

function invalid(): JobSet {
  const js = large();
  js.metadata = { ...js.metadata, name: "Invalid_Name" };
  js.spec = { ...js.spec, network: { subdomain: "Bad_Subdomain" }, coordinator: { replicatedJob: "nope" } };
  return js;
}

/** The request bodies sent to each endpoint (cycled through), as AdmissionReview JSON. */
export function requests(): Record<string, string[]> {
  const jobsetReq = (operation: "CREATE" | "UPDATE", object: unknown, oldObject?: unknown) => ({
    kind: gvkJobSet,
    resource: gvrJobSet,
    namespace: "default",
    operation,
    object,
    ...(oldObject ? { oldObject } : {}),
  });
  const stored = asStored(large());
  const suspended = structuredClone(stored);
  if (suspended.spec) suspended.spec.suspend = true;
  const resumedElsewhere = structuredClone(suspended);
  const pod = resumedElsewhere.spec?.replicatedJobs?.[1]?.template.spec?.template?.spec;
  if (pod) pod.nodeSelector = { pool: "other" };
  const changed = structuredClone(stored);
  const c = changed.spec?.replicatedJobs?.[1]?.template.spec?.template?.spec?.containers[0];
  if (c) c.image = "busybox:2";

  const plainPod: Pod = { metadata: { name: "p", namespace: "default" }, spec: { containers: [testContainer()] } };
  const jobsetPod: Pod = {
    metadata: {
      name: "large-workers-3-2-abcde",
      namespace: "default",
      labels: {
        "jobset.sigs.k8s.io/jobset-name": "large",
        "jobset.sigs.k8s.io/replicatedjob-name": "workers",
        "jobset.sigs.k8s.io/job-index": "3",
        "batch.kubernetes.io/job-completion-index": "2",
      },
      annotations: { "jobset.sigs.k8s.io/jobset-name": "large" },
    },
    spec: { containers: [testContainer()] },
  };
  const podReq = (object: Pod) => ({
    kind: gvkPod,
    resource: gvrPod,
    namespace: "default",
    operation: "CREATE" as const,
    object,
  });
  return {
    [Paths.ValidateJobSet]: [
      body(jobsetReq("CREATE", asStored(small()))),
      body(jobsetReq("CREATE", stored)),
      body(jobsetReq("CREATE", asStored(invalid()))),
      body(jobsetReq("UPDATE", stored, stored)),
      body(jobsetReq("UPDATE", resumedElsewhere, suspended)),
      body(jobsetReq("UPDATE", changed, stored)),
    ],
    [Paths.MutateJobSet]: [body(jobsetReq("CREATE", small())), body(jobsetReq("CREATE", large()))],
    [Paths.MutatePod]: [body(podReq(plainPod)), body(podReq(jobsetPod))],
    [Paths.ValidatePod]: [body(podReq(plainPod)), body(podReq(jobsetPod))],
  };
}
