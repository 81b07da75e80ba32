// The gang-scheduling side of the read commands (docs/gang-scheduling.md): a JobSet's Workload and
// PodGroups (scheduling.k8s.io/v1alpha2) with how far the scheduler got placing each group, for
// `jobset tree`, `jobset describe` and `jobset run` (which says why a gang waits instead of waiting
// silently).
//
// How many pods of a gang are placeable comes from the kube-scheduler v1.36 pod-group cycle: it tries
// every pod of the group; a pod that fits on its own waits at Permit ("waiting for minCount pods from a
// gang to be scheduled"), one that does not gets the usual fit error ("0/4 nodes are available: …").
// When the group as a whole fails, every pod ends PodScheduled=False/Unschedulable, the first kind with
// "pod group is unschedulable, waiting for minCount pods …", the second with its fit error, and the
// PodGroup gets PodGroupScheduled=False with the group's reason.
import { Labels } from "../api/constants.ts";
import type { Pod } from "../api/k8s.ts";
import { workloadName } from "../api/scheduling.ts";
import type { JobSet } from "../api/types.ts";
import type { PodGroup, Workload } from "../controller/scheduling.ts";
import { schedulingPath } from "../controllers/jobset/scheduling-objects.ts";
import { isNotFound, type KubeClient } from "../runtime/client.ts";
import { formatTable, type Snapshot, type Style } from "./render.ts";

/** What the cluster holds for a JobSet's gang scheduling. */
export interface GangObjects {
  /** False when the cluster does not serve scheduling.k8s.io/v1alpha2. */
  served: boolean;
  workload?: Workload;
  podGroups: PodGroup[];
  /** Why they could not be read (e.g. forbidden), if so. */
  error?: string;
}

/** Where the scheduler is with one PodGroup. */
export type PodGroupState = "Scheduled" | "Unschedulable" | "SchedulerError" | "Waiting" | "Terminating";

export interface PodGroupView {
  name: string;
  policy: string;
  /** minCount of a gang policy (0 for basic). */
  minCount: number;
  /** The topology keys of its constraint. */
  topology: string[];
  state: PodGroupState;
  /** The PodGroupScheduled condition's message (the scheduler's reason). */
  message: string;
  /** Live pods linked to the group (spec.schedulingGroup.podGroupName), bound to a node. */
  pods: number;
  bound: number;
  /** Pods not bound but which fit a node on their own in the last try (they wait for the others). */
  placeable: number;
  /** A fit error of a pod that did not fit ("0/4 nodes are available: …"), if any. */
  fitError: string;
}

export interface GangView {
  served: boolean;
  error?: string;
  workload: string;
  podGroups: PodGroupView[];
}

const GangPermitWait = "waiting for minCount pods from a gang to be scheduled";

const controlledBy =
  (uid: string) => (o: { metadata?: { ownerReferences?: { uid: string; controller?: boolean }[] } }) =>
    (o.metadata?.ownerReferences ?? []).some((r) => r.controller && r.uid === uid);

/** The JobSet's Workload and PodGroups (those it controls); undefined for a JobSet without spec.scheduling. */
export async function fetchGang(client: KubeClient, js: JobSet): Promise<GangObjects | undefined> {
  if (js.spec?.scheduling == null) return undefined;
  const ns = js.metadata?.namespace ?? "default";
  const uid = js.metadata?.uid ?? "";
  try {
    const [groups, workload] = await Promise.all([
      client.list<PodGroup>(schedulingPath("PodGroup", ns), {
        labelSelector: `${Labels.JobSetName}=${js.metadata?.name ?? ""}`,
      }),
      client.get<Workload>(schedulingPath("Workload", ns, workloadName(js))).catch((e: unknown) => {
        if (isNotFound(e)) return undefined;
        throw e;
      }),
    ]);
    const out: GangObjects = { served: true, podGroups: groups.items.filter(controlledBy(uid)) };
    if (workload && controlledBy(uid)(workload)) out.workload = workload;
    return out;
  } catch (e) {
    // The list answers 404 when the group version is not served.
    if (isNotFound(e)) return { served: false, podGroups: [] };
    return { served: true, podGroups: [], error: e instanceof Error ? e.message : String(e) };
  }
}

const podScheduled = (p: Pod) => p.status?.conditions?.find((c) => c.type === "PodScheduled");

function stateOf(pg: PodGroup, unbound: readonly Pod[]): { state: PodGroupState; message: string } {
  if (pg.metadata?.deletionTimestamp) return { state: "Terminating", message: "" };
  const c = pg.status?.conditions?.find((x) => x.type === "PodGroupScheduled");
  // PodGroupScheduled=True never goes back to False (v1.36): after a restart, the new attempt's pods
  // tell whether the group is placed again.
  const rejected = unbound.some(
    (p) => podScheduled(p)?.status === "False" && podScheduled(p)?.reason === "Unschedulable",
  );
  if (c?.status === "True" && rejected)
    return { state: "Unschedulable", message: "the pods of this attempt do not fit (placed before)" };
  if (c?.status === "True") return { state: "Scheduled", message: c.message ?? "" };
  if (c?.status === "False")
    return { state: c.reason === "SchedulerError" ? "SchedulerError" : "Unschedulable", message: c.message ?? "" };
  return { state: "Waiting", message: "" };
}

/** One view per PodGroup (sorted by name), counting the given pods linked to it. */
export function gangView(g: GangObjects, pods: readonly Pod[]): GangView {
  const podGroups = g.podGroups
    .map((pg): PodGroupView => {
      const name = pg.metadata?.name ?? "";
      const mine = pods.filter((p) => p.spec?.schedulingGroup?.podGroupName === name && !p.metadata?.deletionTimestamp);
      const unbound = mine.filter((p) => !p.spec?.nodeName);
      const waitsForOthers = (p: Pod) => podScheduled(p)?.message?.includes(GangPermitWait) === true;
      const placeable = unbound.filter(waitsForOthers).length;
      const fit = unbound
        .filter((p) => !waitsForOthers(p))
        .map((p) => podScheduled(p))
        .find((c) => c?.status === "False" && c.message);
      const policy = pg.spec?.schedulingPolicy;
      return {
        name,
        policy: policy?.gang ? "gang" : policy?.basic ? "basic" : "",
        minCount: policy?.gang?.minCount ?? 0,
        topology: (pg.spec?.schedulingConstraints?.topology ?? []).map((t) => t.key),
        ...stateOf(pg, unbound),
        pods: mine.length,
        bound: mine.length - unbound.length,
        placeable,
        fitError: fit?.message ?? "",
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
  const v: GangView = { served: g.served, workload: g.workload?.metadata?.name ?? "", podGroups };
  if (g.error) v.error = g.error;
  return v;
}

const policyText = (v: PodGroupView) =>
  `${v.policy === "gang" ? `gang minCount ${v.minCount}` : v.policy || "no policy"}${v.topology.length > 0 ? `, one ${v.topology.join("/")} domain` : ""}`;

/** `6 of 8 pods placeable`, `8/8 bound`: the pod counts of a group, as far as they are known. */
function countsText(v: PodGroupView): string {
  if (v.state === "Unschedulable") return `${v.bound + v.placeable} of ${v.pods} pods placeable, ${v.bound} bound`;
  return `${v.bound}/${v.pods} pods bound`;
}

/** The block under `jobset tree`: the Workload, then one line per PodGroup (and its message). */
export function renderGangTree(v: GangView, st: Style): string[] {
  if (!v.served) return [st.dim("Scheduling: the cluster does not serve scheduling.k8s.io/v1alpha2 (no gang)")];
  if (v.error) return [st.dim(`Scheduling: cannot read the Workload and PodGroups (${v.error})`)];
  const lines = [`${st.bold(`Workload ${v.workload || "(none yet)"}`)}`];
  if (v.podGroups.length === 0) lines.push(`└─ ${st.dim("(no PodGroups yet)")}`);
  v.podGroups.forEach((g, i) => {
    const last = i === v.podGroups.length - 1;
    lines.push(
      `${last ? "└─ " : "├─ "}PodGroup ${g.name}  ${st.phase(g.state, podGroupPhase(g.state))}  ${st.dim(`${policyText(g)}; ${countsText(g)}`)}`,
    );
    if (g.state !== "Scheduled" && g.message) lines.push(`${last ? "   " : "│  "}${st.dim(g.message)}`);
  });
  return lines;
}

/** The color of a PodGroup state, in the pod-phase palette of the tree. */
const podGroupPhase = (s: PodGroupState): string =>
  s === "Scheduled" ? "Running" : s === "Unschedulable" || s === "SchedulerError" ? "Failed" : "Pending";

/** The `Scheduling:` section of `jobset describe`. */
export function describeGang(v: GangView): string[] {
  if (!v.served) return ["Scheduling:", "  the cluster does not serve scheduling.k8s.io/v1alpha2"];
  if (v.error) return ["Scheduling:", `  cannot read the Workload and PodGroups: ${v.error}`];
  const rows = v.podGroups.map((g) => [
    g.name,
    g.state,
    g.policy === "gang" ? `gang(${g.minCount})` : g.policy || "-",
    g.topology.join(",") || "-",
    String(g.pods),
    String(g.bound),
    g.state === "Unschedulable" ? String(g.bound + g.placeable) : "-",
    g.message || "-",
  ]);
  return [
    "Scheduling:",
    `  Workload:               ${v.workload || "<none>"}`,
    "  PodGroups:",
    ...(rows.length === 0
      ? ["    <none>"]
      : formatTable(["NAME", "STATE", "POLICY", "TOPOLOGY", "PODS", "BOUND", "PLACEABLE", "MESSAGE"], rows).map(
          (l) => `    ${l}`,
        )),
  ];
}

/**
 * What `jobset run` says of a PodGroup the scheduler cannot place; undefined while it is not
 * Unschedulable. Names the group, how many of its pods fit, and the scheduler's reasons.
 */
export function blockedLine(v: PodGroupView): string | undefined {
  if (v.state !== "Unschedulable") return undefined;
  const why = [v.message, v.fitError && v.fitError !== v.message ? `a pod that does not fit: ${v.fitError}` : ""]
    .filter((x) => x !== "")
    .join("; ")
    .replace(/\.+$/, "");
  return (
    `PodGroup ${v.name} cannot be placed: ${v.bound + v.placeable} of ${v.pods} pods placeable (${policyText(v)})` +
    `${why ? ` — ${why}` : ""}. The scheduler binds none until all fit; it retries when nodes or pods change`
  );
}

/**
 * Follows the PodGroups of the JobSets `jobset run` shows and prints a line when one cannot be placed
 * (again, when what it says changes) and when a blocked one got placed.
 */
export class GangReporter {
  private readonly client: KubeClient;
  private readonly print: (text: string) => void;
  /** PodGroup key → the last line printed for it. */
  private readonly said = new Map<string, string>();

  constructor(client: KubeClient, print: (text: string) => void) {
    this.client = client;
    this.print = print;
  }

  async poll(snaps: readonly Snapshot[]): Promise<void> {
    for (const s of snaps) {
      const g = await fetchGang(this.client, s.jobset);
      if (!g) continue;
      for (const line of this.changes(s.jobset, gangView(g, s.pods))) this.print(`${line}\n`);
    }
  }

  /** The lines to print for this view, given what was printed before (pure, for tests). */
  changes(js: JobSet, v: GangView): string[] {
    const out: string[] = [];
    const prefix = `jobset ${js.metadata?.name ?? ""}:`;
    for (const g of v.podGroups) {
      const key = `${js.metadata?.uid ?? ""}/${g.name}`;
      const prev = this.said.get(key);
      const blocked = blockedLine(g);
      if (blocked) {
        if (blocked !== prev) out.push(`${prefix} ${blocked}`);
        this.said.set(key, blocked);
      } else if (g.state === "Scheduled" && prev !== undefined && prev !== "scheduled") {
        out.push(`${prefix} PodGroup ${g.name} placed: ${g.bound}/${g.pods} pods bound`);
        this.said.set(key, "scheduled");
      }
    }
    return out;
  }
}
