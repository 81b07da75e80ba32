// Reads what the read-side commands show: a JobSet with its Jobs (by owner UID), their pods (by the
// jobset-uid label) and the events.k8s.io/v1 events regarding it; and container logs, from the pods/log
// API (on the local cluster too: kube-apiserver proxies it to the fake kubelet's log endpoint).
import { Labels } from "../api/constants.ts";
import type { Event, Job, Pod } from "../api/k8s.ts";
import type { JobSet } from "../api/types.ts";
import type { KubeClient } from "../runtime/client.ts";
import { Resources, resourcePath } from "../runtime/resources.ts";
import { explain, explainNotFound, jobsetsPath } from "./cluster.ts";
import type { Snapshot } from "./render.ts";

export const jobsPath = (namespace: string) => resourcePath({ ...Resources.jobs, namespace });
export const podsPath = (namespace: string) => resourcePath({ ...Resources.pods, namespace });
export const eventsPath = (namespace: string) => resourcePath({ ...Resources.events, namespace });

const ownedBy = (uid: string) => (o: { metadata?: { ownerReferences?: { uid: string }[] } }) =>
  (o.metadata?.ownerReferences ?? []).some((r) => r.uid === uid);

/** The JobSet's Jobs, pods and events, given the JobSet itself. */
export async function fetchChildren(client: KubeClient, js: JobSet): Promise<Snapshot> {
  const ns = js.metadata?.namespace ?? "default";
  const name = js.metadata?.name ?? "";
  const uid = js.metadata?.uid ?? "";
  const [jobs, pods, events] = await Promise.all([
    client.list<Job>(jobsPath(ns), { labelSelector: `${Labels.JobSetName}=${name}` }),
    client.list<Pod>(podsPath(ns), { labelSelector: `${Labels.JobSetUID}=${uid}` }),
    client.list<Event>(eventsPath(ns), { fieldSelector: `regarding.uid=${uid}` }).catch(() => ({ items: [] })),
  ]);
  return { jobset: js, jobs: jobs.items.filter(ownedBy(uid)), pods: pods.items, events: events.items };
}

export async function fetchSnapshot(client: KubeClient, ns: string, name: string): Promise<Snapshot> {
  const js = await client.get<JobSet>(jobsetsPath(ns, name));
  return fetchChildren(client, js);
}

/** fetchSnapshot for a command: API errors become one line for the user (`JobSet ns/name not found`, …). */
export async function fetchSnapshotForUser(client: KubeClient, ns: string, name: string): Promise<Snapshot> {
  try {
    return await fetchSnapshot(client, ns, name);
  } catch (e) {
    throw explainNotFound(explain(e, client.server), `JobSet ${ns}/${name}`);
  }
}

/** Containers whose logs `jobset logs` shows for a pod: init containers that ran, then the main ones. */
export function logContainers(p: Pod, only?: string): string[] {
  const names = [
    ...(p.spec?.initContainers ?? []).map((c) => c.name),
    ...(p.spec?.containers ?? []).map((c) => c.name),
  ];
  return only ? names.filter((n) => n === only) : names;
}

/**
 * Whether the kubelet has a log for the container: it has run (or runs), or, with `previous`, it was
 * restarted. A container still waiting to start has none (the kubelet answers 400).
 */
export function containerStarted(p: Pod, container: string, previous = false): boolean {
  const s = [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])].find(
    (c) => c.name === container,
  );
  if (!s) return false;
  if (previous) return s.lastState?.terminated !== undefined;
  return s.state?.running !== undefined || s.state?.terminated !== undefined || s.lastState?.terminated !== undefined;
}

/** A container's log from the pods/log subresource. */
export function podLog(
  client: KubeClient,
  ns: string,
  pod: string,
  container: string,
  o: { previous?: boolean; tailLines?: number } = {},
): Promise<string> {
  return client.requestText("GET", podLogPath(ns, pod), {
    query: { container, previous: o.previous || undefined, tailLines: o.tailLines },
  });
}

/** The pods/log path of a pod (follow it with client.streamText). */
export const podLogPath = (namespace: string, pod: string) =>
  resourcePath({ ...Resources.pods, namespace, name: pod, subresource: "log" });

/** Prefixes every line of `text` (a trailing partial line too). */
export function prefixLines(text: string, prefix: string): string {
  if (text === "") return "";
  const lines = text.endsWith("\n") ? text.slice(0, -1).split("\n") : text.split("\n");
  return `${lines.map((l) => `${prefix}${l}`).join("\n")}\n`;
}
