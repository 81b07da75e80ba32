// An events.k8s.io/v1 recorder (spec §5.6), after client-go's tools/events broadcaster:
// - regarding = the object, the controller's action and reportingController, reportingInstance
//   `<reportingController>-<hostname>`, type / reason / note, eventTime a MicroTime (6 fractional digits);
// - repeats of the same (regarding, reason, note, type, action) within 6 minutes are aggregated into
//   the first event's `series` {count, lastObservedTime} with a merge patch (a new event is created if
//   the old one is gone);
// - best effort: `emit` never throws and never blocks the reconcile; failures are logged;
// - the cache of recent events is bounded (least recently used entries are dropped).
import { hostname } from "node:os";
import type { KubeObject } from "../api/k8s.ts";
import { isNotFound, type KubeClient } from "./client.ts";
import { type Clock, microTime, realClock } from "./clock.ts";
import { type Logger, silentLogger } from "./logger.ts";
import { Resources, resourcePath } from "./resources.ts";

export type EventType = "Normal" | "Warning";

/** The part of KubeClient the recorder uses. */
export type EventClient = Pick<KubeClient, "create" | "patch">;

export interface EventRecorderOptions {
  client: EventClient;
  /** The reporting controller (JobSet's: `jobset`). */
  reportingController: string;
  /** Default `<reportingController>-<hostname>`. */
  reportingInstance?: string;
  /** The action of `emit` (JobSet's: `Reconciling`). */
  action: string;
  clock?: Clock;
  logger?: Logger;
  /** Most recent distinct events remembered for aggregation (default 4096). */
  maxCacheEntries?: number;
  /** A repeat later than this after the last occurrence starts a new event (default 6 min, as client-go). */
  seriesWindowMs?: number;
}

/** The shape of an events.k8s.io/v1 Event as we send it. */
export interface EventV1 {
  apiVersion: "events.k8s.io/v1";
  kind: "Event";
  metadata: { name: string; namespace: string; resourceVersion?: string };
  eventTime: string;
  series?: { count: number; lastObservedTime: string };
  reportingController: string;
  reportingInstance: string;
  action: string;
  reason: string;
  note: string;
  type: EventType;
  regarding: {
    apiVersion?: string;
    kind?: string;
    namespace?: string;
    name?: string;
    uid?: string;
    resourceVersion?: string;
  };
}

interface CacheEntry {
  name: string;
  namespace: string;
  count: number;
  lastObserved: number;
}

/** events.k8s.io/v1 validation: note ≤ 1 kB. Cuts at a UTF-8 character boundary. */
export function truncateNote(note: string, maxBytes = 1024): string {
  const buf = Buffer.from(note, "utf8");
  if (buf.length <= maxBytes) return note;
  let end = maxBytes;
  while (end > 0 && ((buf[end] as number) & 0xc0) === 0x80) end--;
  return buf.subarray(0, end).toString("utf8");
}

export class EventRecorder {
  readonly reportingController: string;
  readonly reportingInstance: string;
  private readonly action: string;
  private readonly client: EventClient;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly max: number;
  private readonly windowMs: number;
  private readonly cache = new Map<string, CacheEntry>();
  /** Per-aggregation-key chains, so repeats of one event are written in order. */
  private readonly chains = new Map<string, Promise<void>>();
  private seq = 0;
  /** Counters (tests, diagnostics). */
  readonly stats = { created: 0, patched: 0, failed: 0 };

  constructor(o: EventRecorderOptions) {
    this.client = o.client;
    this.reportingController = o.reportingController;
    this.reportingInstance = o.reportingInstance ?? `${this.reportingController}-${hostname()}`;
    this.action = o.action;
    this.clock = o.clock ?? realClock;
    this.log = (o.logger ?? silentLogger()).child({ component: "events" });
    this.max = o.maxCacheEntries ?? 4096;
    this.windowMs = o.seriesWindowMs ?? 6 * 60_000;
  }

  /** Fire-and-forget form (the JobSet executor's `JobSetEventSink`). */
  emit(regarding: KubeObject, ev: { type: EventType; reason: string; message: string }): void {
    void this.record(regarding, ev.type, ev.reason, ev.message);
  }

  /** Records one event; resolves when it was written (or failed: it never rejects). */
  record(regarding: KubeObject, type: EventType, reason: string, note: string, action = this.action): Promise<void> {
    const m = regarding.metadata ?? {};
    const ref: EventV1["regarding"] = {
      apiVersion: regarding.apiVersion,
      kind: regarding.kind,
      namespace: m.namespace,
      name: m.name,
      uid: m.uid,
      resourceVersion: m.resourceVersion,
    };
    const text = truncateNote(note);
    // client-go's isomorphic key: regarding, related (none), action, reason, reporting controller and
    // instance, note, type. The resourceVersion is deliberately left out so repeats across updates aggregate.
    const key = JSON.stringify([
      ref.apiVersion,
      ref.kind,
      ref.namespace,
      ref.name,
      ref.uid,
      action,
      reason,
      text,
      type,
    ]);
    const at = this.clock.now(); // the time of the occurrence, not of the (possibly queued) write
    const prev = this.chains.get(key) ?? Promise.resolve();
    const next = prev.then(() => this.write(key, at, ref, type, reason, text, action));
    this.chains.set(key, next);
    void next.then(() => {
      if (this.chains.get(key) === next) this.chains.delete(key);
    });
    return next;
  }

  /** Resolves when every event recorded so far has been written or has failed. */
  async flush(): Promise<void> {
    while (this.chains.size > 0) await Promise.all([...this.chains.values()]);
  }

  private remember(key: string, e: CacheEntry): void {
    this.cache.delete(key);
    this.cache.set(key, e);
    while (this.cache.size > this.max) {
      const oldest = this.cache.keys().next().value;
      if (oldest === undefined) break;
      this.cache.delete(oldest);
    }
  }

  private async write(
    key: string,
    now: number,
    ref: EventV1["regarding"],
    type: EventType,
    reason: string,
    note: string,
    action: string,
  ): Promise<void> {
    try {
      const hit = this.cache.get(key);
      if (hit && now - hit.lastObserved <= this.windowMs) {
        const count = hit.count + 1;
        try {
          await this.client.patch(
            resourcePath({ ...Resources.events, namespace: hit.namespace, name: hit.name }),
            { series: { count, lastObservedTime: microTime(now) } },
            "merge",
          );
          this.stats.patched++;
          this.remember(key, { ...hit, count, lastObserved: now });
          return;
        } catch (e) {
          if (!isNotFound(e)) throw e;
          // the event expired or was deleted: start over with a new one
        }
      }
      const namespace = ref.namespace || "default";
      const nanos = BigInt(Math.floor(now)) * 1_000_000n + BigInt(this.seq++ % 1_000_000);
      const ev: EventV1 = {
        apiVersion: "events.k8s.io/v1",
        kind: "Event",
        metadata: { name: `${ref.name ?? "unknown"}.${nanos.toString(16)}`, namespace },
        eventTime: microTime(now),
        reportingController: this.reportingController,
        reportingInstance: this.reportingInstance,
        action,
        reason,
        note,
        type,
        regarding: ref,
      };
      await this.client.create(resourcePath({ ...Resources.events, namespace }), ev);
      this.stats.created++;
      this.remember(key, { name: ev.metadata.name, namespace, count: 1, lastObserved: now });
    } catch (e) {
      this.stats.failed++;
      this.log.warn(
        { err: e, reason, regarding: `${ref.kind}/${ref.namespace ? `${ref.namespace}/` : ""}${ref.name}` },
        "could not record event",
      );
    }
  }
}
