// The RBAC proof (issue 7, docs/rbac.md "Proving the rules"): on a private API server that enforces
// RBAC — with the OwnerReferencesPermissionEnforcement admission plugin on, so `jobsets/finalizers`
// is checked too — the controller runs with a token of the shipped ServiceAccount and exactly the
// shipped roles (rendered from config/default), webhooks, certificate manager, pod controller, leader
// election and secure metrics on (test/support/rbac.ts), and:
//
// 1. every probe passes with the shipped rules (and again when the install ships an empty webhook
//    Secret, which the certificate manager must update);
// 2. for every verb of every rule of every role bound to the controller, a run whose role lacks just
//    that verb makes the probe mapped to it fail within the same deadline, and the controller's own
//    client was answered 403 for the operation the verb allows.
//
// Probes create JobSets and drive Job/pod status as the admin (the apiserver profile has no Kubernetes
// controllers). Each run has its own namespace, ServiceAccount, suffixed cluster-scoped roles and
// webhook configurations; runs go several at a time.
import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { apiRules, Roles } from "../../scripts/rbac.ts";
import { Annotations, JobCompletionIndexAnnotation, Labels } from "../../src/api/constants.ts";
import { parseFeatureGates } from "../../src/api/features.ts";
import type { Job, Node, Pod } from "../../src/api/k8s.ts";
import { workloadName } from "../../src/api/scheduling.ts";
import type { JobSet } from "../../src/api/types.ts";
import { schedulingPath } from "../../src/controllers/jobset/scheduling-objects.ts";
import { type ControlPlane, startControlPlane } from "../../src/local/controlplane.ts";
import { ApiError, isNotFound, type KubeClient } from "../../src/runtime/client.ts";
import type { Store } from "../../src/runtime/store.ts";
import { type ClusterInfo, clusterInfo, waitFor } from "../support/cluster.ts";
import { httpsGet } from "../support/controller-process.ts";
import {
  type ControllerRbac,
  type ControllerRun,
  controllerRbac,
  type RbacRule,
  renderInstall,
  startControllerRun,
} from "../support/rbac.ts";
import { jobSetsPath, jobsPath, ScenarioContext } from "./scenario.ts";

/** Deadline of every probe, in the passing runs and in the runs meant to fail alike. */
const PROBE_MS = 10_000;
/** Runs at once (each is a controller in this process plus a few API objects). */
const CONCURRENCY = 6;
const gates = parseFeatureGates({ ElasticJobSet: true, JobSetWorkloadAwareSchedulingAPI: true });
const TOPOLOGY = "rbac.jobset-ts.test/rack";

let cp: ControlPlane;
let cluster: ClusterInfo;
let admin: KubeClient;
let rbac: ControllerRbac;

before(async () => {
  cp = await startControlPlane({
    profile: "apiserver",
    unref: true,
    apiServerArgs: ["--enable-admission-plugins=OwnerReferencesPermissionEnforcement"],
    workloadApi: true,
    log: (l) => process.stderr.write(`[control plane] ${l}\n`),
  });
  cluster = clusterInfo(cp);
  admin = await cp.client();
  rbac = controllerRbac(await renderInstall(cluster));
});
after(async () => {
  await cp?.stop();
});

// ---------------------------------------------------------------------------------------------- probes

interface ProbeEnv {
  ns: string;
  suffix: string;
  run: ControllerRun;
  deadline: number;
  /** Cluster-scoped objects to delete after the run. */
  cleanups: (() => Promise<unknown>)[];
}

const until = <T>(
  env: ProbeEnv,
  message: string,
  fn: () => T | undefined | null | false | Promise<T | undefined | null | false>,
) => waitFor(fn, { timeoutMs: Math.max(1, env.deadline - Date.now()), intervalMs: 100, message });

interface RJob {
  name: string;
  replicas?: number;
  parallelism?: number;
  completions?: number;
  mount?: string;
}

/** A JobSet without restartPolicy: the mutating webhook must default it (OnFailure). */
function jobSetObj(name: string, ns: string, rjobs: RJob[], spec: Record<string, unknown> = {}): JobSet {
  return {
    apiVersion: "jobset.x-k8s.io/v1alpha2",
    kind: "JobSet",
    metadata: { name, namespace: ns },
    spec: {
      ...spec,
      replicatedJobs: rjobs.map((r) => ({
        name: r.name,
        replicas: r.replicas ?? 1,
        template: {
          spec: {
            ...(r.parallelism !== undefined ? { parallelism: r.parallelism } : {}),
            ...(r.completions !== undefined ? { completions: r.completions } : {}),
            template: {
              spec: {
                containers: [
                  {
                    name: "c",
                    image: "busybox",
                    ...(r.mount ? { volumeMounts: [{ name: r.mount, mountPath: `/${r.mount}` }] } : {}),
                  },
                ],
              },
            },
          },
        },
      })),
    },
  } as JobSet;
}

/** Creates the JobSet through the webhooks (retried until they admit it) and returns a scenario context. */
async function createJobSet(env: ProbeEnv, js: JobSet): Promise<ScenarioContext> {
  const ctx = new ScenarioContext(admin, env.ns, js);
  const created = await until(env, `JobSet ${js.metadata?.name} admitted`, async () => {
    try {
      return await admin.create<JobSet>(jobSetsPath(env.ns), js);
    } catch (e) {
      if (e instanceof ApiError && e.reason === "AlreadyExists")
        return admin.get<JobSet>(`${jobSetsPath(env.ns)}/${js.metadata?.name}`);
      throw e;
    }
  });
  ctx.uid = created.metadata?.uid ?? "";
  return ctx;
}

const active = (jobs: Job[]) =>
  jobs.filter(
    (j) =>
      !j.metadata?.deletionTimestamp &&
      !(j.status?.conditions ?? []).some((c) => (c.type === "Complete" || c.type === "Failed") && c.status === "True"),
  );

const exists = async (path: string) => {
  try {
    return await admin.get<{ metadata?: { uid?: string; deletionTimestamp?: string } }>(path);
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
};

/** Waits until `ready(JobSet)` holds and the controller is idle (nothing queued, in flight or delayed) at three polls in a row. */
async function idle(env: ProbeEnv, ctx: ScenarioContext, ready: (js: JobSet) => boolean): Promise<void> {
  const c = (await env.run.started).controller;
  let streak = 0;
  await until(env, `JobSet ${ctx.name} reconciled and the controller idle`, async () => {
    const ok = ready(await ctx.jobSet()) && c.queue.len === 0 && c.queue.inFlight === 0 && c.queue.delayed === 0;
    streak = ok ? streak + 1 : 0;
    return streak >= 3;
  });
}

type Probe = (env: ProbeEnv) => Promise<void>;

const probes = {
  /**
   * Webhooks (a refusal, a default), create → Jobs + headless Service → Jobs complete → Completed with
   * event AllJobsCompleted.
   */
  async lifecycle(env) {
    await until(env, "the validating webhook to refuse an invalid JobSet", async () => {
      const bad = jobSetObj("bad", env.ns, [{ name: "w" }], { network: { subdomain: "Not-A-DNS-Label" } });
      try {
        await admin.create(jobSetsPath(env.ns), bad, { dryRun: "All" });
        return false;
      } catch (e) {
        return e instanceof ApiError && e.message.includes('admission webhook "vjobset.kb.io" denied the request');
      }
    });
    const ctx = await createJobSet(env, jobSetObj("life", env.ns, [{ name: "w", replicas: 2 }]));
    const stored = await ctx.jobSet();
    assert.equal(
      stored.spec?.replicatedJobs?.[0]?.template.spec?.template?.spec?.restartPolicy,
      "OnFailure",
      "the mutating webhook defaulted restartPolicy",
    );
    await until(env, "2 Jobs and the headless Service", async () => {
      const jobs = await ctx.jobs();
      return jobs.length === 2 && (await exists(`/api/v1/namespaces/${env.ns}/services/life`)) !== undefined;
    });
    await ctx.completeJobs();
    await until(env, "Completed and event AllJobsCompleted", async () => {
      const js = await ctx.jobSet();
      const done = (js.status?.conditions ?? []).some((c) => c.type === "Completed" && c.status === "True");
      return done && (await ctx.events()).some((e) => e.reason === "AllJobsCompleted");
    });
  },

  /** A deleted headless Service comes back (the Service informer's delete event triggers the reconcile). */
  async serviceRecreate(env) {
    const ctx = await createJobSet(env, jobSetObj("svc", env.ns, [{ name: "w" }]));
    const path = `/api/v1/namespaces/${env.ns}/services/svc`;
    const first = await until(env, "the headless Service", () => exists(path));
    // nothing else may make the controller look at the JobSet again (its own status write would)
    await idle(env, ctx, (js) => (js.status?.replicatedJobsStatus ?? []).length === 1);
    await admin.delete(path);
    await until(env, "the Service created again", async () => {
      const s = await exists(path);
      return s !== undefined && s.metadata?.uid !== first.metadata?.uid;
    });
  },

  /** ttlSecondsAfterFinished: 0 → the finished JobSet is deleted. */
  async ttl(env) {
    const ctx = await createJobSet(env, jobSetObj("ttl", env.ns, [{ name: "w" }], { ttlSecondsAfterFinished: 0 }));
    await until(env, "1 Job", async () => (await ctx.jobs()).length === 1);
    await ctx.completeJobs();
    await until(env, "the JobSet deleted", async () => {
      const js = await exists(`${jobSetsPath(env.ns)}/ttl`);
      return js === undefined || Boolean(js.metadata?.deletionTimestamp);
    });
  },

  /**
   * volumeClaimPolicies: the validating webhook reads the PVC cache (its first LIST must have arrived),
   * the controller creates the PVC, and the webhook then sees it through the cache's watch: the same
   * JobSet (retention Delete) is refused because the PVC exists.
   */
  async pvc(env) {
    const js = jobSetObj("pvc", env.ns, [{ name: "w", mount: "data" }], {
      volumeClaimPolicies: [
        {
          templates: [
            {
              metadata: { name: "data" },
              spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
            },
          ],
        },
      ],
    });
    await createJobSet(env, js);
    await until(env, "PVC data-pvc", () => exists(`/api/v1/namespaces/${env.ns}/persistentvolumeclaims/data-pvc`));
    await until(env, "the webhook to see PVC data-pvc", async () => {
      try {
        await admin.create(jobSetsPath(env.ns), js, { dryRun: "All" });
        return false;
      } catch (e) {
        return e instanceof ApiError && e.message.includes("retentionPolicy must be retain when PVC exists");
      }
    });
  },

  /** Suspend (Job update) and resume of a started Job (status update clearing startTime, then update). */
  async suspend(env) {
    const ctx = await createJobSet(env, jobSetObj("sus", env.ns, [{ name: "w" }]));
    await until(env, "1 Job", async () => (await ctx.jobs()).length === 1);
    await ctx.setJobActive("sus-w-0", 1);
    await ctx.updateJobSet((js) => {
      if (js.spec) js.spec.suspend = true;
    });
    await until(env, "the Job suspended", async () => (await ctx.job("sus-w-0")).spec?.suspend === true);
    await ctx.updateJobSet((js) => {
      if (js.spec) js.spec.suspend = false;
    });
    await until(env, "the Job resumed", async () => (await ctx.job("sus-w-0")).spec?.suspend === false);
  },

  /** failurePolicy maxRestarts 1: a failed Job → Jobs deleted and recreated for attempt 1. */
  async restart(env) {
    const ctx = await createJobSet(
      env,
      jobSetObj("rst", env.ns, [{ name: "w" }], { failurePolicy: { maxRestarts: 1 } }),
    );
    await until(env, "1 Job", async () => (await ctx.jobs()).length === 1);
    await ctx.failJob("rst-w-0");
    await until(env, "a Job of restart attempt 1", async () => {
      await ctx.finalizeDeleted();
      return active(await ctx.jobs()).some((j) => j.metadata?.labels?.[Labels.RestartAttempt] === "1");
    });
  },

  /** ElasticJobSet: parallelism/completions of the rjob change → the live Job is merge-patched. */
  async elastic(env) {
    const ctx = await createJobSet(env, jobSetObj("ela", env.ns, [{ name: "w", parallelism: 1, completions: 1 }]));
    await until(env, "1 Job", async () => (await ctx.jobs()).length === 1);
    await ctx.updateJobSet((js) => {
      const t = js.spec?.replicatedJobs?.[0]?.template.spec;
      if (t) {
        t.parallelism = 2;
        t.completions = 2;
      }
    });
    await until(env, "the Job scaled to 2", async () => (await ctx.job("ela-w-0")).spec?.parallelism === 2);
  },

  /** A foreign Job holds the name: JobCreationFailed repeats, aggregated into one event's series. */
  async eventSeries(env) {
    await admin.create(jobsPath(env.ns), {
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name: "ser-w-0" },
      spec: {
        suspend: true,
        template: { spec: { restartPolicy: "Never", containers: [{ name: "c", image: "busybox" }] } },
      },
    });
    const ctx = await createJobSet(env, jobSetObj("ser", env.ns, [{ name: "w" }]));
    await until(env, "event JobCreationFailed with a series", async () =>
      (await ctx.events()).some((e) => e.reason === "JobCreationFailed" && (e.series?.count ?? 0) >= 2),
    );
  },

  /**
   * A Job the cache has not shown yet (simulated: removed from the controller's Job cache) is created
   * again → AlreadyExists → the GET shows it is ours → the reconcile goes on and writes status.
   */
  async staleCache(env) {
    const ctx = await createJobSet(env, jobSetObj("stl", env.ns, [{ name: "a" }, { name: "b" }]));
    const jobs = (await env.run.started).controller.jobs;
    await idle(
      env,
      ctx,
      (js) =>
        jobs.get(env.ns, "stl-a-0") !== undefined &&
        jobs.get(env.ns, "stl-b-0") !== undefined &&
        (js.status?.replicatedJobsStatus ?? []).length === 2,
    );
    (jobs as unknown as { store: Store<Job> }).store.delete(`${env.ns}/stl-a-0`);
    await ctx.completeJob("stl-b-0");
    await until(env, "status: b succeeded", async () => {
      const js = await ctx.jobSet();
      return (js.status?.replicatedJobsStatus ?? []).some((s) => s.name === "b" && s.succeeded === 1);
    });
  },

  /**
   * Exclusive placement: the pod webhook pins a follower to its leader's rack (Node GET); after the
   * leader's node moves to another rack, the pod controller marks the follower (pods/status) and
   * deletes it.
   */
  async placement(env) {
    const node = `rbac-${env.suffix}-a`;
    await admin.create<Node>("/api/v1/nodes", {
      apiVersion: "v1",
      kind: "Node",
      metadata: { name: node, labels: { [TOPOLOGY]: "a" } },
    });
    env.cleanups.push(() => admin.delete(`/api/v1/nodes/${node}`));
    const jobKey = randomBytes(8).toString("hex");
    const pod = (name: string, index: string, nodeName?: string): Pod => ({
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name,
        labels: {
          [Labels.JobSetName]: "plc",
          [Labels.ReplicatedJobName]: "w",
          [Labels.JobIndex]: "0",
          [Labels.JobKey]: jobKey,
        },
        annotations: {
          [Labels.JobSetName]: "plc",
          [Annotations.ExclusiveTopology]: TOPOLOGY,
          [JobCompletionIndexAnnotation]: index,
        },
        ownerReferences: [{ apiVersion: "batch/v1", kind: "Job", name: "plc-w-0", uid: jobUid, controller: true }],
      },
      spec: { ...(nodeName ? { nodeName } : {}), containers: [{ name: "c", image: "busybox" }] },
    });
    const jobUid = randomUUID();
    const podsPath = `/api/v1/namespaces/${env.ns}/pods`;
    await until(env, "the leader pod admitted", async () =>
      admin.create<Pod>(podsPath, pod("plc-w-0-0-lead1", "0", node)),
    );
    const follower = await until(env, "the follower pod admitted", async () => {
      try {
        return await admin.create<Pod>(podsPath, pod("plc-w-0-1-foll1", "1"));
      } catch (e) {
        if (e instanceof ApiError && e.reason === "AlreadyExists") return admin.get<Pod>(`${podsPath}/plc-w-0-1-foll1`);
        throw e;
      }
    });
    assert.equal(
      follower.spec?.nodeSelector?.[TOPOLOGY],
      "a",
      "the pod webhook pinned the follower to the leader's rack",
    );
    // the leader's node moves to rack c; a change of the leader makes the pod controller look again
    await admin.patch(`/api/v1/nodes/${node}`, { metadata: { labels: { [TOPOLOGY]: "c" } } }, "merge");
    await admin.patch(`${podsPath}/plc-w-0-0-lead1`, { metadata: { labels: { touched: "1" } } }, "merge");
    await until(env, "the misplaced follower deleted", async () => {
      const f = await exists(`${podsPath}/plc-w-0-1-foll1`);
      return f === undefined || Boolean(f.metadata?.deletionTimestamp);
    });
  },

  /** spec.scheduling: Workload and PodGroup created (GET first) before the Job; deleted on suspend. */
  async gang(env) {
    const js = jobSetObj("gang", env.ns, [{ name: "w", parallelism: 2, completions: 2 }], {
      scheduling: { schedulingPolicy: { gang: {} } },
    });
    const ctx = await createJobSet(env, js);
    const name = workloadName(js);
    const wlPath = schedulingPath("Workload", env.ns, name);
    const pgPath = schedulingPath("PodGroup", env.ns, name);
    await until(env, "the gang's Workload, PodGroup and Job", async () => {
      return (await exists(wlPath)) && (await exists(pgPath)) && (await ctx.jobs()).length === 1;
    });
    await ctx.updateJobSet((x) => {
      if (x.spec) x.spec.suspend = true;
    });
    await until(env, "the gang's PodGroup and Workload deleted on suspend", async () => {
      const pg = await exists(pgPath);
      if (pg?.metadata?.deletionTimestamp) {
        // no kube-controller-manager here: drop the podgroup-protection finalizer as it would
        await admin.patch(pgPath, { metadata: { finalizers: null } }, "merge").catch(() => undefined);
      }
      const wl = await exists(wlPath);
      return pg === undefined && (wl === undefined || Boolean(wl.metadata?.deletionTimestamp));
    });
  },

  /** /metrics answers a scraper bound to jobset-metrics-reader (TokenReview + SubjectAccessReview). */
  async metrics(env) {
    await until(
      env,
      "/metrics answered 200",
      async () => (await httpsGet(env.run.metricsUrl, env.run.readerToken)).status === 200,
    );
  },

  /** The leader renews its Lease. */
  async leaseRenew(env) {
    const path = `/apis/coordination.k8s.io/v1/namespaces/${env.ns}/leases/${env.run.leaseName}`;
    type Lease = { spec?: { holderIdentity?: string; renewTime?: string } };
    const first = await until(env, "a held Lease", async () => {
      const l = (await exists(path)) as Lease | undefined;
      return l?.spec?.holderIdentity ? l : undefined;
    });
    await until(env, "the Lease renewed", async () => {
      const l = (await admin.get(path)) as Lease;
      return l.spec?.renewTime !== first.spec?.renewTime && l.spec?.holderIdentity === first.spec?.holderIdentity;
    });
  },
} satisfies Record<string, Probe>;

type ProbeName = keyof typeof probes;

// ---------------------------------------------------------------------------------------------- map

/**
 * Which probe fails without a verb: `<resources>:<verb>` → probe, the step it must fail at (what it
 * waits for: failing earlier would prove nothing about this verb), and run options. A rule verb that
 * maps to nothing fails the test: a new rule needs a probe.
 */
const ruleProbes: Record<string, { probe: ProbeName; at: string; emptySecret?: boolean }> = {
  "jobsets:list": { probe: "lifecycle", at: "2 Jobs and the headless Service" },
  "jobsets:watch": { probe: "lifecycle", at: "2 Jobs and the headless Service" },
  "jobsets:delete": { probe: "ttl", at: "the JobSet deleted" },
  "jobsets/status:update": { probe: "lifecycle", at: "Completed and event" },
  "jobsets/finalizers:update": { probe: "lifecycle", at: "2 Jobs and the headless Service" },
  "jobs:list": { probe: "lifecycle", at: "2 Jobs and the headless Service" },
  "jobs:watch": { probe: "lifecycle", at: "Completed and event" },
  "jobs:get": { probe: "staleCache", at: "status: b succeeded" },
  "jobs:create": { probe: "lifecycle", at: "2 Jobs and the headless Service" },
  "jobs:patch": { probe: "elastic", at: "the Job scaled" },
  "jobs:delete": { probe: "restart", at: "a Job of restart attempt 1" },
  "jobs/status:patch": { probe: "suspend", at: "the Job resumed" },
  "services:list": { probe: "lifecycle", at: "2 Jobs and the headless Service" },
  "services:watch": { probe: "serviceRecreate", at: "the Service created again" },
  "services:create": { probe: "lifecycle", at: "2 Jobs and the headless Service" },
  "persistentvolumeclaims:list": { probe: "pvc", at: "JobSet pvc admitted" },
  "persistentvolumeclaims:watch": { probe: "pvc", at: "the webhook to see PVC data-pvc" },
  "persistentvolumeclaims:create": { probe: "pvc", at: "PVC data-pvc" },
  "pods:list": { probe: "placement", at: "the follower pod admitted" },
  "pods:watch": { probe: "placement", at: "the follower pod admitted" },
  "pods:delete": { probe: "placement", at: "the misplaced follower deleted" },
  "pods/status:update": { probe: "placement", at: "the misplaced follower deleted" },
  "nodes:get": { probe: "placement", at: "the follower pod admitted" },
  "workloads:get": { probe: "gang", at: "the gang's Workload, PodGroup and Job" },
  "workloads:create": { probe: "gang", at: "the gang's Workload, PodGroup and Job" },
  "workloads:delete": { probe: "gang", at: "the gang's PodGroup and Workload deleted" },
  "podgroups:get": { probe: "gang", at: "the gang's Workload, PodGroup and Job" },
  "podgroups:create": { probe: "gang", at: "the gang's Workload, PodGroup and Job" },
  "podgroups:delete": { probe: "gang", at: "the gang's PodGroup and Workload deleted" },
  "events:create": { probe: "lifecycle", at: "Completed and event" },
  "events:patch": { probe: "eventSeries", at: "event JobCreationFailed with a series" },
  "mutatingwebhookconfigurations:get": { probe: "lifecycle", at: "the validating webhook to refuse" },
  "mutatingwebhookconfigurations:update": { probe: "lifecycle", at: "the validating webhook to refuse" },
  "validatingwebhookconfigurations:get": { probe: "lifecycle", at: "the validating webhook to refuse" },
  "validatingwebhookconfigurations:update": { probe: "lifecycle", at: "the validating webhook to refuse" },
  "secrets:get": { probe: "lifecycle", at: "the validating webhook to refuse" },
  "secrets:update": { probe: "lifecycle", emptySecret: true, at: "the validating webhook to refuse" },
  "secrets:create": { probe: "lifecycle", at: "the validating webhook to refuse" },
  "leases:get": { probe: "lifecycle", at: "2 Jobs and the headless Service" },
  "leases:update": { probe: "leaseRenew", at: "the Lease renewed" },
  "leases:create": { probe: "lifecycle", at: "2 Jobs and the headless Service" },
  "tokenreviews:create": { probe: "metrics", at: "/metrics answered 200" },
  "subjectaccessreviews:create": { probe: "metrics", at: "/metrics answered 200" },
};

const httpMethod: Record<string, string> = {
  get: "GET",
  list: "GET",
  watch: "GET",
  create: "POST",
  update: "PUT",
  patch: "PATCH",
  delete: "DELETE",
};

/** Does a 403 answer to `method path` fit `verb` on `resource` (`jobs`, `jobs/status`)? */
function forbiddenFits(resource: string, verb: string, method: string, path: string): boolean {
  if (resource === "jobsets/finalizers") {
    // OwnerReferencesPermissionEnforcement refuses creating children that block their owner's deletion
    return method === "POST" && /\/(jobs|services|persistentvolumeclaims)$/.test(path);
  }
  if (httpMethod[verb] !== method) return false;
  const [res, sub] = resource.split("/");
  const re = sub ? new RegExp(`/${res}/[^/]+/${sub}$`) : new RegExp(`/${res}(/[^/]+)?$`);
  return re.test(path);
}

interface Removal {
  role: string;
  ruleIndex: number;
  rule: RbacRule;
  verb: string;
  key: string;
}

function removals(roles: ControllerRbac["roles"]): Removal[] {
  const out: Removal[] = [];
  for (const role of roles) {
    (role.rules ?? []).forEach((rule, ruleIndex) => {
      for (const verb of rule.verbs) {
        out.push({
          role: `${role.kind} ${role.metadata.name}`,
          ruleIndex,
          rule,
          verb,
          key: `${(rule.resources ?? rule.nonResourceURLs ?? []).join(",")}:${verb}`,
        });
      }
    });
  }
  return out;
}

const without = (rm: Removal) => (roleName: string, rules: RbacRule[]) => {
  if (rm.role.split(" ")[1] !== roleName) return rules;
  return rules.flatMap((rule, i) => {
    if (i !== rm.ruleIndex) return [rule];
    const verbs = rule.verbs.filter((v) => v !== rm.verb);
    return verbs.length > 0 ? [{ ...rule, verbs }] : [];
  });
};

// ---------------------------------------------------------------------------------------------- runs

interface RunResult {
  failures: Record<string, string>;
  forbidden: { method: string; path: string }[];
}

async function withRun(
  name: string,
  opts: { editRules?: ReturnType<typeof without>; emptySecret?: boolean; sequential?: boolean },
  probeNames: ProbeName[],
): Promise<RunResult> {
  const suffix = randomBytes(3).toString("hex");
  const ns = `rbac-${name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .slice(0, 40)}-${suffix}`.replace(/-+/g, "-");
  await admin.create("/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
  const cleanups: (() => Promise<unknown>)[] = [];
  let run: ControllerRun | undefined;
  try {
    run = await startControllerRun({
      admin,
      cluster,
      rbac,
      namespace: ns,
      suffix,
      gates,
      leaseDurationMs: 4_000,
      renewDeadlineMs: 3_000,
      retryPeriodMs: 500,
      ...(opts.editRules ? { editRules: opts.editRules } : {}),
      ...(opts.emptySecret ? { emptySecret: true } : {}),
    });
    const failures: Record<string, string> = {};
    const runProbe = async (p: ProbeName) => {
      const env: ProbeEnv = { ns, suffix, run: run as ControllerRun, deadline: Date.now() + PROBE_MS, cleanups };
      try {
        await probes[p](env);
      } catch (e) {
        failures[p] = e instanceof Error ? e.message : String(e);
      }
    };
    if (opts.sequential) for (const p of probeNames) await runProbe(p);
    else await Promise.all(probeNames.map(runProbe));
    return { failures, forbidden: run.forbidden.map((r) => ({ method: r.method, path: r.path })) };
  } finally {
    await run?.stop();
    for (const c of cleanups) await c().catch(() => undefined);
    await admin.delete(`/api/v1/namespaces/${ns}`).catch(() => undefined);
  }
}

const allProbes = Object.keys(probes) as ProbeName[];
/** Probes that wait for the whole controller to be idle (others keep it busy, e.g. eventSeries forever). */
const needIdle: ReadonlySet<ProbeName> = new Set(["serviceRecreate", "staleCache"]);

describe("RBAC proof: the shipped rules suffice", { concurrency: 2 }, () => {
  test("every probe passes under the shipped ServiceAccount", async () => {
    // probes that need the controller otherwise idle run one after the other, the rest at once
    const r = await withRun(
      "all",
      {},
      allProbes.filter((p) => !needIdle.has(p)),
    );
    assert.deepEqual(r.failures, {}, "probes that failed");
    const s = await withRun("all-idle", { sequential: true }, [...needIdle]);
    assert.deepEqual(s.failures, {}, "probes that failed");
  });
  test("an empty webhook Secret shipped with the install is filled (secrets update)", async () => {
    const r = await withRun("empty-secret", { emptySecret: true }, ["lifecycle"]);
    assert.deepEqual(r.failures, {}, "probes that failed");
  });
});

describe("RBAC proof: every verb of every bound rule is needed", { concurrency: CONCURRENCY }, () => {
  // The tests are declared from scripts/rbac.ts (the rendered install is known only after `before`);
  // the first test checks that the install binds exactly these roles and rules.
  const bound = Roles.filter((r) => r.boundToController);
  const defined = bound.map((r) => ({
    kind: r.kind,
    metadata: { name: r.name },
    rules: apiRules(r, "kustomize") as unknown as RbacRule[],
  })) as ControllerRbac["roles"];
  test("the install binds exactly the roles of scripts/rbac.ts, and every rule verb maps to a probe", () => {
    const rendered = rbac.roles.map((r) => ({ kind: r.kind, name: r.metadata.name, rules: r.rules }));
    assert.deepEqual(
      sortBy(rendered),
      sortBy(defined.map((r) => ({ kind: r.kind, name: r.metadata.name, rules: r.rules }))),
    );
    const unmapped = removals(defined).filter((rm) => !ruleProbes[rm.key]);
    assert.deepEqual(
      unmapped.map((u) => `${u.role} ${u.key}`),
      [],
      "rules without a probe",
    );
  });
  for (const rm of removals(defined)) {
    const mapped = ruleProbes[rm.key];
    if (!mapped) continue;
    test(`${rm.role} without ${rm.key} → ${mapped.probe} fails`, async (t) => {
      const r = await withRun(
        `no-${rm.key}`,
        { editRules: without(rm), ...(mapped.emptySecret ? { emptySecret: true } : {}) },
        [mapped.probe],
      );
      assert.ok(r.failures[mapped.probe], `probe ${mapped.probe} passed without ${rm.key}`);
      t.diagnostic(`${mapped.probe}: ${r.failures[mapped.probe]}`);
      assert.match(
        r.failures[mapped.probe] ?? "",
        new RegExp(`waiting for ${escapeRe(mapped.at)}`),
        "failed at the step of this verb",
      );
      t.diagnostic(`403: ${[...new Set(r.forbidden.map((f) => `${f.method} ${f.path}`))].join(", ")}`);
      const resource = (rm.rule.resources ?? [])[0] ?? "";
      const fits = r.forbidden.filter((f) => forbiddenFits(resource, rm.verb, f.method, f.path));
      assert.ok(
        fits.length > 0,
        `no 403 for ${rm.verb} ${resource} among the controller's forbidden requests: ${JSON.stringify(r.forbidden.slice(0, 5))}`,
      );
    });
  }
});

const escapeRe = (x: string) => x.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

const sortBy = <T extends { kind: string; name: string }>(xs: T[]) =>
  [...xs].sort((a, b) => `${a.kind}/${a.name}`.localeCompare(`${b.kind}/${b.name}`));
