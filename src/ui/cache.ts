// What the UI server knows about the cluster: shared informers (LIST + WATCH, src/runtime/informer.ts)
// on JobSets, the Jobs and pods that carry a JobSet label, and the events about JobSets and Jobs, in one
// namespace or all. The UI never polls: pages are rebuilt from these caches when a watch event arrives.
//
// It also remembers the Jobs and pods it saw deleted (with when), per JobSet, so that a restart — which
// deletes every Job of the failed attempt — still shows the old attempt on the timeline. That memory is
// dropped when the JobSet goes, and capped per JobSet.
import { JobSetResource, Labels } from "../api/constants.ts";
import type { Event, Job, KubeObject, Pod } from "../api/k8s.ts";
import type { JobSet } from "../api/types.ts";
import type { KubeClient } from "../runtime/client.ts";
import { Informer } from "../runtime/informer.ts";
import type { Logger } from "../runtime/logger.ts";
import { Resources, resourcePath } from "../runtime/resources.ts";
import type { Gone } from "./timeline.ts";

/** At most this many deleted Jobs and as many deleted pods are remembered per JobSet. */
export const GONE_CAP = 5000;

export type ChangeKind = "jobset" | "job" | "pod" | "event";
export type ChangeListener = (kind: ChangeKind, namespace: string) => void;

interface History {
  jobs: Map<string, Gone<Job>>;
  pods: Map<string, Gone<Pod>>;
}

export interface CacheOptions {
  client: KubeClient;
  /** Watch this namespace only (default: all namespaces). */
  namespace?: string;
  logger?: Logger;
  now?: () => number;
}

export class UiCache {
  readonly jobsets: Informer<JobSet>;
  readonly jobs: Informer<Job>;
  readonly pods: Informer<Pod>;
  readonly jobsetEvents: Informer<Event>;
  readonly jobEvents: Informer<Event>;
  readonly namespace: string | undefined;
  private readonly history = new Map<string, History>();
  private readonly listeners = new Set<ChangeListener>();
  private readonly now: () => number;

  constructor(o: CacheOptions) {
    const ns = o.namespace;
    this.namespace = ns;
    this.now = o.now ?? Date.now;
    const common = { client: o.client, ...(o.logger ? { logger: o.logger } : {}) };
    this.jobsets = new Informer<JobSet>({
      ...common,
      name: "ui-jobsets",
      path: resourcePath({ ...JobSetResource, namespace: ns }),
    });
    this.jobs = new Informer<Job>({
      ...common,
      name: "ui-jobs",
      path: resourcePath({ ...Resources.jobs, namespace: ns }),
      labelSelector: Labels.JobSetName,
    });
    this.pods = new Informer<Pod>({
      ...common,
      name: "ui-pods",
      path: resourcePath({ ...Resources.pods, namespace: ns }),
      labelSelector: Labels.JobSetName,
    });
    this.jobsetEvents = new Informer<Event>({
      ...common,
      name: "ui-jobset-events",
      path: resourcePath({ ...Resources.events, namespace: ns }),
      fieldSelector: "regarding.kind=JobSet",
    });
    this.jobEvents = new Informer<Event>({
      ...common,
      name: "ui-job-events",
      path: resourcePath({ ...Resources.events, namespace: ns }),
      fieldSelector: "regarding.kind=Job",
    });
    const ownerUid = (o: { metadata?: { ownerReferences?: { uid: string }[] } }) =>
      (o.metadata?.ownerReferences ?? []).map((r) => r.uid);
    this.jobs.addIndex("owner", ownerUid);
    this.pods.addIndex("jobset", (p) => [p.metadata?.labels?.[Labels.JobSetUID] ?? ""]);

    const watch = <T extends KubeObject>(inf: Informer<T>, kind: ChangeKind) => {
      const notify = (obj: T) => {
        for (const l of this.listeners) l(kind, obj.metadata?.namespace ?? "");
      };
      inf.addEventHandler({ onAdd: notify, onUpdate: (_old, obj) => notify(obj), onDelete: notify });
    };
    watch(this.jobsets, "jobset");
    watch(this.jobs, "job");
    watch(this.pods, "pod");
    watch(this.jobsetEvents, "event");
    watch(this.jobEvents, "event");

    this.jobs.onDelete((j) => {
      for (const uid of ownerUid(j)) this.remember(uid, "jobs", j);
    });
    this.pods.onDelete((p) => {
      const uid = p.metadata?.labels?.[Labels.JobSetUID];
      if (uid) this.remember(uid, "pods", p);
    });
    this.jobsets.onDelete((js) => this.history.delete(js.metadata?.uid ?? ""));
  }

  private remember(jobsetUid: string, kind: "jobs", obj: Job): void;
  private remember(jobsetUid: string, kind: "pods", obj: Pod): void;
  private remember(jobsetUid: string, kind: keyof History, obj: Job | Pod): void {
    let h = this.history.get(jobsetUid);
    if (!h) {
      h = { jobs: new Map(), pods: new Map() };
      this.history.set(jobsetUid, h);
    }
    const m = h[kind] as Map<string, Gone<Job | Pod>>;
    m.set(obj.metadata?.uid ?? "", { obj, deletedAt: this.now() });
    if (m.size > GONE_CAP) {
      const oldest = m.keys().next().value;
      if (oldest !== undefined) m.delete(oldest);
    }
  }

  /** Called on every watch event (kind and namespace of the object). Returns an unsubscribe function. */
  subscribe(l: ChangeListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  start(): void {
    for (const i of this.informers()) i.start();
  }

  async waitForSync(signal?: AbortSignal): Promise<boolean> {
    const ok = await Promise.all(this.informers().map((i) => i.waitForSync(signal)));
    return ok.every(Boolean);
  }

  hasSynced(): boolean {
    return this.informers().every((i) => i.hasSynced());
  }

  async stop(): Promise<void> {
    this.listeners.clear();
    await Promise.all(this.informers().map((i) => i.stop()));
  }

  private informers(): {
    start(): void;
    stop(): Promise<void>;
    hasSynced(): boolean;
    waitForSync(s?: AbortSignal): Promise<boolean>;
  }[] {
    return [this.jobsets, this.jobs, this.pods, this.jobsetEvents, this.jobEvents];
  }

  /** Every object a JobSet page is built from. */
  snapshot(js: JobSet): {
    jobs: Job[];
    pods: Pod[];
    goneJobs: Gone<Job>[];
    gonePods: Gone<Pod>[];
    events: Event[];
  } {
    const uid = js.metadata?.uid ?? "";
    const ns = js.metadata?.namespace ?? "";
    const h = this.history.get(uid);
    return {
      jobs: this.jobs.byIndex("owner", uid),
      pods: this.pods.byIndex("jobset", uid),
      goneJobs: [...(h?.jobs.values() ?? [])],
      gonePods: [...(h?.pods.values() ?? [])],
      events: [...this.jobsetEvents.list(ns), ...this.jobEvents.list(ns)],
    };
  }
}
