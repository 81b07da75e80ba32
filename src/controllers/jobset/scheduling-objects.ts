// I/O for spec.scheduling (controller/scheduling.ts): observing a JobSet's Workload and PodGroups and
// carrying out the scheduling part of a Plan.
//
// Observation is by name with GETs, not informers: the names are deterministic, only JobSets with
// spec.scheduling pay for it, and a cluster that does not serve scheduling.k8s.io/v1alpha2 costs one
// discovery request (re-checked at most every 30 s) instead of informers that could never sync and
// would hold the whole controller back. PodGroup status is therefore polled: the plan requeues a
// JobSet every few seconds while one of its gangs is not scheduled (docs/adr: gang scheduling).
import { WorkloadApi } from "../../api/constants.ts";
import type { JobSet } from "../../api/types.ts";
import type {
  PodGroup,
  SchedulingActions,
  SchedulingObjectRef,
  SchedulingObserved,
  Workload,
} from "../../controller/scheduling.ts";
import { desiredScheduling } from "../../controller/scheduling.ts";
import { ApiError, isConflict, isNotFound, type KubeClient } from "../../runtime/client.ts";
import { type GroupVersionResource, groupVersionPath, resourcePath } from "../../runtime/resources.ts";

type Client = Pick<KubeClient, "get" | "create" | "delete">;

const schedulingResource = (resource: string): GroupVersionResource => ({
  group: WorkloadApi.Group,
  version: WorkloadApi.Version,
  resource,
});

/** The Workload API's resources (scheduling.k8s.io/v1alpha2), by kind. */
export const SchedulingResources = {
  Workload: schedulingResource("workloads"),
  PodGroup: schedulingResource("podgroups"),
} as const;

/** Discovery path of scheduling.k8s.io/v1alpha2. */
const schedulingGroupVersionPath = groupVersionPath({ group: WorkloadApi.Group, version: WorkloadApi.Version });

/** `/apis/scheduling.k8s.io/v1alpha2/namespaces/<ns>/<workloads|podgroups>[/<name>]`. */
export function schedulingPath(kind: keyof typeof SchedulingResources, namespace: string, name?: string): string {
  return resourcePath({ ...SchedulingResources[kind], namespace, name });
}

/** How long a "not served" discovery answer is trusted before asking again. */
const NotServedRecheckMs = 30_000;

export class SchedulingObjects {
  private readonly client: Client;
  private readonly now: () => number;
  private served: boolean | undefined;
  private checkedAt = 0;

  constructor(client: Client, now: () => number = Date.now) {
    this.client = client;
    this.now = now;
  }

  /** Whether the API server serves Workloads and PodGroups in scheduling.k8s.io/v1alpha2. */
  async apiServed(): Promise<boolean> {
    if (this.served === true) return true;
    if (this.served === false && this.now() - this.checkedAt < NotServedRecheckMs) return false;
    try {
      const list = await this.client.get<{ resources?: { name?: string }[] }>(schedulingGroupVersionPath);
      const names = new Set((list.resources ?? []).map((r) => r.name));
      this.served =
        names.has(SchedulingResources.Workload.resource) && names.has(SchedulingResources.PodGroup.resource);
    } catch (e) {
      if (!isNotFound(e)) throw e;
      this.served = false;
    }
    this.checkedAt = this.now();
    return this.served;
  }

  /** The objects named like the JobSet's Workload and PodGroups, whoever owns them. */
  async observe(js: JobSet): Promise<SchedulingObserved> {
    if (!(await this.apiServed())) return { served: false, podGroups: [] };
    const desired = desiredScheduling(js);
    const ns = js.metadata?.namespace ?? "";
    const getOrUndefined = async <T>(path: string): Promise<T | undefined> => {
      try {
        return await this.client.get<T>(path);
      } catch (e) {
        if (isNotFound(e)) return undefined;
        throw e;
      }
    };
    const workload = await getOrUndefined<Workload>(schedulingPath("Workload", ns, desired?.workload.metadata?.name));
    const podGroups: PodGroup[] = [];
    for (const pg of desired?.podGroups ?? []) {
      const have = await getOrUndefined<PodGroup>(schedulingPath("PodGroup", ns, pg.metadata?.name ?? ""));
      if (have) podGroups.push(have);
    }
    return { served: true, workload, podGroups };
  }
}

export interface SchedulingExecution {
  /** Counts one write. */
  onWrite?: () => void;
  /** Immediate Warning event for a create that failed for another reason than AlreadyExists. */
  onCreateFailed?: (message: string) => void;
}

/**
 * Deletes (NotFound and UID-precondition conflicts are success), then creates in order (Workload
 * first). A failed create stops here and throws: the reconcile is retried with backoff, which also
 * covers AlreadyExists of an object still being deleted and the 403 the PodGroup admission returns
 * while the Workload is missing or terminating.
 */
export async function executeScheduling(actions: SchedulingActions, client: Client, o: SchedulingExecution = {}) {
  for (const ref of actions.deletes) await deleteRef(ref, client, o);
  for (const obj of actions.creates) {
    const kind = obj.kind === "Workload" ? "Workload" : "PodGroup";
    const ns = obj.metadata?.namespace ?? "";
    o.onWrite?.();
    try {
      await client.create(schedulingPath(kind, ns), obj);
    } catch (e) {
      if (!(e instanceof ApiError && e.reason === "AlreadyExists")) {
        o.onCreateFailed?.(
          `${kind} ${obj.metadata?.name ?? ""} creation failed: ${e instanceof Error ? e.message : String(e)}`,
        );
      }
      throw e;
    }
  }
}

async function deleteRef(ref: SchedulingObjectRef, client: Client, o: SchedulingExecution): Promise<void> {
  o.onWrite?.();
  try {
    await client.delete(schedulingPath(ref.kind, ref.namespace, ref.name), {
      propagationPolicy: "Background",
      ...(ref.uid ? { preconditions: { uid: ref.uid } } : {}),
    });
  } catch (e) {
    if (isNotFound(e) || (ref.uid && isConflict(e))) return;
    throw e;
  }
}
