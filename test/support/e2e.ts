// Small helpers shared by the JobSet e2e files: paths, typed reads, condition waits and the exact
// child-Job check (names, controller owner UID, restart attempt).
import assert from "node:assert/strict";
import { JobSetResource, Labels } from "../../src/api/constants.ts";
import type { Job, Pod } from "../../src/api/k8s.ts";
import type { JobSet, JobSetCondition } from "../../src/api/types.ts";
import type { KubeClient } from "../../src/runtime/client.ts";
import { Resources, resourcePath } from "../../src/runtime/resources.ts";
import { waitFor } from "./cluster.ts";

export const jobSetsPath = (namespace: string) => resourcePath({ ...JobSetResource, namespace });
export const jobsPath = (namespace: string) => resourcePath({ ...Resources.jobs, namespace });
export const podsPath = (namespace: string) => resourcePath({ ...Resources.pods, namespace });

export const getJobSet = (c: KubeClient, ns: string, name: string) => c.get<JobSet>(`${jobSetsPath(ns)}/${name}`);

export const condition = (js: JobSet | undefined, type: string): JobSetCondition | undefined =>
  js?.status?.conditions?.find((c) => c.type === type && c.status === "True");

/** Waits until the JobSet has condition `type` = True; returns the JobSet. */
export function waitJobSetCondition(
  c: KubeClient,
  ns: string,
  name: string,
  type: "Completed" | "Failed" | "Suspended" | "StartupPolicyCompleted" | "StartupPolicyInProgress",
  timeoutMs = 60_000,
): Promise<JobSet> {
  return waitFor(
    async () => {
      const js = await getJobSet(c, ns, name);
      return condition(js, type) ? js : undefined;
    },
    { timeoutMs, message: `JobSet ${ns}/${name} condition ${type}` },
  );
}

/** Jobs in `ns`, sorted by name (optionally only those labelled with JobSet `jobSet`). */
export async function listJobs(c: KubeClient, ns: string, jobSet?: string): Promise<Job[]> {
  const q = jobSet ? { labelSelector: `${Labels.JobSetName}=${jobSet}` } : {};
  const list = await c.list<Job>(jobsPath(ns), q);
  return list.items.sort((a, b) => (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? ""));
}

export async function listPods(c: KubeClient, ns: string, labelSelector?: string): Promise<Pod[]> {
  const list = await c.list<Pod>(podsPath(ns), labelSelector ? { labelSelector } : {});
  return list.items.sort((a, b) => (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? ""));
}

/** One line per Job: `name owner=<controller owner UID> attempt=<restart-attempt>`. */
export const jobSummary = (j: Job): string => {
  const owner = j.metadata?.ownerReferences?.filter((r) => r.controller).map((r) => `${r.kind}/${r.uid}`);
  return `${j.metadata?.name} owner=${owner?.join(",") ?? "none"} attempt=${j.metadata?.labels?.[Labels.RestartAttempt]}`;
};

/** Asserts the exact set of Jobs in `ns`: names, one controller owner (the JobSet UID), restart attempt. */
export function assertJobs(jobs: Job[], jobSetUid: string, names: string[], attempt: number, msg?: string): void {
  assert.deepEqual(
    jobs.map(jobSummary),
    [...names].sort().map((n) => `${n} owner=JobSet/${jobSetUid} attempt=${attempt}`),
    msg,
  );
}

/** Names `<js>-<rjob>-<i>` for every rjob `[name, replicas]`. */
export const jobNames = (js: string, rjobs: [string, number][]): string[] =>
  rjobs.flatMap(([r, n]) => Array.from({ length: n }, (_, i) => `${js}-${r}-${i}`));

export const jobCondition = (j: Job | undefined, type: string): boolean =>
  j?.status?.conditions?.some((c) => c.type === type && c.status === "True") ?? false;

/** Pins every pod of `js` to nodes labelled `key=value` (the test file's own fake nodes); returns `js`. */
export function pinToNodes(js: JobSet, key: string, value: string): JobSet {
  for (const r of js.spec?.replicatedJobs ?? []) {
    const pod = r.template.spec?.template.spec;
    if (pod) pod.nodeSelector = { ...pod.nodeSelector, [key]: value };
  }
  return js;
}
