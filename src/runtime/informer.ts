// A shared informer (client-go's reflector + indexer + shared informer, in one small class):
// - paginated LIST, then WATCH from the list's resourceVersion with allowWatchBookmarks;
// - 410 Gone (HTTP or in-stream) → relist at once and diff the list against the cache (deletes for
//   vanished objects, updates for changed ones, adds for new ones);
// - any other error, a stream end or a stalled stream → reconnect from the last resourceVersion after a
//   jittered exponential backoff that resets whenever a watch connects; it never stops on its own;
// - periodic resync (re-deliver update(old=new) for every cached object, no API call) and optional
//   periodic relist;
// - `hasSynced()` / `waitForSync()`, a cache with `get`, `list`, `addIndex`, `byIndex`;
// - handlers onAdd(obj), onUpdate(old, new), onDelete(obj); metrics hooks.
import type { KubeObject } from "../api/k8s.ts";
import type { ListResult, RequestOptions, WatchEvent, WatchOptions } from "./client.ts";
import { isGone } from "./client.ts";
import { Backoff, type Clock, realClock, sleep } from "./clock.ts";
import type { Logger } from "./logger.ts";
import { silentLogger } from "./logger.ts";
import { type IndexFunc, type Notification, Store } from "./store.ts";
import { dropManagedFields } from "./transforms.ts";

/** What an informer needs from the client (KubeClient satisfies it; tests may fake it). */
export interface ListWatcher {
  list<T>(
    path: string,
    query?: RequestOptions["query"],
    pageSize?: number,
    signal?: AbortSignal,
  ): Promise<ListResult<T>>;
  watch<T>(
    path: string,
    query: RequestOptions["query"],
    signal?: AbortSignal,
    opts?: WatchOptions,
  ): AsyncGenerator<WatchEvent<T>>;
}

export interface InformerMetricsSink {
  /** A watch event arrived (ADDED, MODIFIED, DELETED, BOOKMARK). */
  event(type: string): void;
  /** A full LIST completed: initial, expired (410), periodic, error (after a failed attempt). */
  relist(reason: string): void;
  /** The watch is being re-established: closed (server ended it), error, stalled, expired, relist. */
  reconnect(reason: string): void;
}

export interface EventHandler<T> {
  onAdd?(obj: T): void;
  onUpdate?(old: T, obj: T): void;
  onDelete?(obj: T): void;
}

export interface InformerOptions {
  client: ListWatcher;
  /** Collection path, e.g. `/apis/batch/v1/jobs` or `/api/v1/namespaces/ns/services`. */
  path: string;
  /** For logs and metrics (default: the path). */
  name?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Re-deliver every cached object as an update this often; 0 disables. Default 10 min. */
  resyncPeriodMs?: number;
  /** LIST again this often (±10 % jitter) even if the watch is healthy; 0 (default) disables. */
  relistPeriodMs?: number;
  /** LIST page size (default 500). */
  pageSize?: number;
  /** Server-side watch timeout range in seconds, picked at random per watch (default 300–600, as client-go). */
  watchTimeoutSeconds?: [number, number];
  /** A watch silent for this long is considered dead and reconnected (default: its timeout + 30 s). */
  stallTimeoutMs?: number;
  /** Reconnect backoff (default 200 ms doubling to 30 s, +0–100 % jitter). */
  backoff?: { initialMs: number; maxMs: number };
  clock?: Clock;
  random?: () => number;
  logger?: Logger;
  metrics?: InformerMetricsSink;
  /**
   * Trims every object before it is cached and handed to handlers (controller-runtime's cache
   * transform), e.g. dropping fields no reader of this cache uses; see transforms.ts. `metadata.
   * managedFields` is always dropped first unless `keepManagedFields` is set.
   */
  transform?: (obj: KubeObject) => KubeObject;
  keepManagedFields?: boolean;
}

class Aborted extends Error {
  readonly why: string;
  constructor(why: string) {
    super(`watch aborted: ${why}`);
    this.why = why;
  }
}

export class Informer<T extends KubeObject = KubeObject> {
  readonly name: string;
  private readonly o: InformerOptions;
  private readonly store = new Store<T>({
    onIndexError: (index, key, err) =>
      this.log.error({ index, key, err }, "index function failed: object left out of the index"),
  });
  private readonly handlers: EventHandler<T>[] = [];
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly log: Logger;
  private readonly backoff: Backoff;
  private readonly stopCtl = new AbortController();
  private watchCtl: AbortController | undefined;
  private watchAbortWhy: string | undefined;
  private loop: Promise<void> | undefined;
  private synced = false;
  private syncWaiters: ((ok: boolean) => void)[] = [];
  private rv: string | undefined;
  private relistRequested = false;
  private cancelResync: (() => void) | undefined;
  private cancelRelist: (() => void) | undefined;
  private lastEventAt = 0;
  private readonly trim: (obj: T) => T;
  /** Counters since start (also fed to the metrics sink). */
  readonly stats = { lists: 0, watches: 0, reconnects: 0, events: 0, errors: 0 };

  constructor(o: InformerOptions) {
    this.o = o;
    this.name = o.name ?? o.path;
    this.clock = o.clock ?? realClock;
    this.random = o.random ?? Math.random;
    this.log = (o.logger ?? silentLogger()).child({ informer: this.name });
    const custom = o.transform;
    const keep = o.keepManagedFields === true;
    this.trim = (obj) => {
      const kept = keep ? obj : dropManagedFields(obj);
      return (custom ? custom(kept) : kept) as T;
    };
    this.backoff = new Backoff({
      initialMs: o.backoff?.initialMs ?? 200,
      maxMs: o.backoff?.maxMs ?? 30_000,
      random: this.random,
    });
  }

  // ---- cache ----

  get(namespace: string, name: string): T | undefined {
    return this.store.get(namespace, name);
  }
  getByKey(key: string): T | undefined {
    return this.store.getByKey(key);
  }
  list(namespace?: string): T[] {
    return this.store.list(namespace);
  }
  /** Adds an index over the cache (may be called before or after start). */
  addIndex(name: string, fn: IndexFunc<T>): void {
    this.store.addIndex(name, fn);
  }
  byIndex(name: string, value: string): T[] {
    return this.store.byIndex(name, value);
  }
  indexKeys(name: string, value: string): string[] {
    return this.store.indexKeys(name, value);
  }
  /** The resourceVersion the informer is watching from. */
  get resourceVersion(): string | undefined {
    return this.rv;
  }

  // ---- handlers ----

  /**
   * Registers handlers. If the informer has synced already, `onAdd` is called at once for every cached
   * object (as client-go does for late handlers). Returns a function that unregisters them.
   */
  addEventHandler(h: EventHandler<T>): () => void {
    this.handlers.push(h);
    if (this.synced && h.onAdd) for (const obj of this.store.list()) this.call(() => h.onAdd?.(obj));
    return () => {
      const i = this.handlers.indexOf(h);
      if (i >= 0) this.handlers.splice(i, 1);
    };
  }
  onAdd(fn: (obj: T) => void): () => void {
    return this.addEventHandler({ onAdd: fn });
  }
  onUpdate(fn: (old: T, obj: T) => void): () => void {
    return this.addEventHandler({ onUpdate: fn });
  }
  onDelete(fn: (obj: T) => void): () => void {
    return this.addEventHandler({ onDelete: fn });
  }

  private call(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.log.error({ err: e }, "informer event handler failed");
    }
  }

  private dispatch(n: Notification<T>): void {
    for (const h of this.handlers) {
      if (n.type === "add") {
        if (h.onAdd) this.call(() => h.onAdd?.(n.obj));
      } else if (n.type === "update") {
        if (h.onUpdate) this.call(() => h.onUpdate?.(n.old, n.obj));
      } else if (h.onDelete) this.call(() => h.onDelete?.(n.obj));
    }
  }

  // ---- sync ----

  hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves true once the first LIST is in the cache; false if `signal` aborts or the informer stops first. */
  waitForSync(signal?: AbortSignal): Promise<boolean> {
    if (this.synced) return Promise.resolve(true);
    if (signal?.aborted || this.stopCtl.signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        signal?.removeEventListener("abort", onAbort);
        resolve(ok);
      };
      const onAbort = () => {
        this.syncWaiters = this.syncWaiters.filter((w) => w !== done);
        done(false);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.syncWaiters.push(done);
    });
  }

  // ---- lifecycle ----

  /** Starts listing and watching in the background. */
  start(): void {
    if (this.loop || this.stopCtl.signal.aborted) return;
    this.loop = this.run().catch((e: unknown) => {
      // run() handles every error itself; this is a bug guard, never a silent stop
      this.log.fatal({ err: e }, "informer loop crashed");
      throw e;
    });
    this.armResync();
    this.armRelist();
  }

  /** Stops the informer and waits for its loop to end. */
  async stop(): Promise<void> {
    if (!this.stopCtl.signal.aborted) {
      this.stopCtl.abort();
      this.abortWatch("stop");
      this.cancelResync?.();
      this.cancelRelist?.();
      for (const w of this.syncWaiters.splice(0)) w(false);
    }
    await this.loop?.catch(() => undefined);
  }

  get stopped(): boolean {
    return this.stopCtl.signal.aborted;
  }

  /** Forces a relist + diff on the next loop turn (aborts the current watch). */
  relist(): void {
    this.relistRequested = true;
    this.abortWatch("relist");
  }

  /** Cuts the current watch (as a network failure would); the informer reconnects. For tests and diagnostics. */
  cutWatch(): void {
    this.abortWatch("cut");
  }

  private abortWatch(why: string): void {
    if (this.watchCtl && !this.watchCtl.signal.aborted) {
      this.watchAbortWhy = why;
      this.watchCtl.abort(new Aborted(why));
    }
  }

  private abortReason(): string {
    return this.watchAbortWhy ?? "aborted";
  }

  private armResync(): void {
    const period = this.o.resyncPeriodMs ?? 600_000;
    if (period <= 0 || this.stopped) return;
    this.cancelResync = this.clock.setTimer(() => {
      if (this.stopped) return;
      if (this.synced) for (const obj of this.store.list()) this.dispatch({ type: "update", old: obj, obj });
      this.armResync();
    }, period);
  }

  private armRelist(): void {
    const period = this.o.relistPeriodMs ?? 0;
    if (period <= 0 || this.stopped) return;
    const jittered = period * (0.9 + 0.2 * this.random());
    this.cancelRelist = this.clock.setTimer(() => {
      if (this.stopped) return;
      this.relist();
      this.armRelist();
    }, jittered);
  }

  private baseQuery(): Record<string, string | undefined> {
    return { labelSelector: this.o.labelSelector, fieldSelector: this.o.fieldSelector };
  }

  private async doList(reason: string): Promise<void> {
    const res = await this.o.client.list<T>(this.o.path, this.baseQuery(), this.o.pageSize ?? 500, this.stopCtl.signal);
    if (this.stopped) return;
    this.relistRequested = false;
    this.stats.lists++;
    this.o.metrics?.relist(reason);
    this.rv = res.metadata?.resourceVersion;
    const items = res.items ?? [];
    for (let i = 0; i < items.length; i++) items[i] = this.trim(items[i] as T);
    const notes = this.store.replace(items);
    this.log.debug(
      { reason, items: res.items?.length ?? 0, changes: notes.length, resourceVersion: this.rv },
      "listed",
    );
    if (!this.synced) {
      // the first list: handlers see adds, then the informer counts as synced
      for (const n of notes) this.dispatch(n);
      this.synced = true;
      for (const w of this.syncWaiters.splice(0)) w(true);
    } else for (const n of notes) this.dispatch(n);
  }

  private async doWatch(): Promise<"closed" | "stalled"> {
    const [lo, hi] = this.o.watchTimeoutSeconds ?? [300, 600];
    const timeoutSeconds = Math.floor(lo + (hi - lo) * this.random());
    const stallMs = this.o.stallTimeoutMs ?? (timeoutSeconds + 30) * 1000;
    const ctl = new AbortController();
    this.watchCtl = ctl;
    this.watchAbortWhy = undefined;
    if (this.stopped) ctl.abort(new Aborted("stop"));
    this.lastEventAt = this.clock.now();
    let cancelWatchdog: (() => void) | undefined;
    const watchdog = (ms: number) => {
      cancelWatchdog = this.clock.setTimer(() => {
        const idle = this.clock.now() - this.lastEventAt;
        if (idle >= stallMs) this.abortWatch("stalled");
        else watchdog(stallMs - idle);
      }, ms);
    };
    watchdog(stallMs);
    this.stats.watches++;
    try {
      const events = this.o.client.watch<T>(
        this.o.path,
        { ...this.baseQuery(), resourceVersion: this.rv, allowWatchBookmarks: true, timeoutSeconds },
        ctl.signal,
        {
          onConnect: () => {
            this.backoff.reset();
            this.lastEventAt = this.clock.now();
          },
        },
      );
      for await (const ev of events) {
        this.lastEventAt = this.clock.now();
        this.stats.events++;
        this.o.metrics?.event(ev.type);
        const rv = ev.object?.metadata?.resourceVersion;
        if (rv) this.rv = rv;
        if (ev.type === "BOOKMARK") continue;
        ev.object = this.trim(ev.object);
        const n = this.store.applyEvent(ev);
        if (n) this.dispatch(n);
      }
      if (ctl.signal.aborted) throw new Aborted(this.abortReason());
      return "closed";
    } catch (e) {
      if (ctl.signal.aborted) {
        const why = this.abortReason();
        if (why === "stalled") return "stalled";
        throw new Aborted(why);
      }
      throw e;
    } finally {
      cancelWatchdog?.();
      this.watchCtl = undefined;
    }
  }

  private async run(): Promise<void> {
    let needList = true;
    let listReason = "initial";
    const stop = this.stopCtl.signal;
    while (!stop.aborted) {
      let delay = false;
      try {
        if (this.relistRequested && !needList) {
          needList = true;
          listReason = "periodic";
        }
        if (needList) {
          await this.doList(listReason);
          needList = false;
          this.backoff.reset();
        }
        if (stop.aborted) break;
        const started = this.clock.now();
        const how = await this.doWatch();
        this.stats.reconnects++;
        this.o.metrics?.reconnect(how);
        // a watch that the server closed after a while (its timeout) is simply renewed; one that ended at
        // once, or stalled, waits a backoff step so a misbehaving server cannot make us spin
        delay = how === "stalled" || this.clock.now() - started < 1000;
        if (how === "stalled") this.log.warn({ resourceVersion: this.rv }, "watch stalled: no data, reconnecting");
      } catch (e) {
        if (stop.aborted) break;
        if (e instanceof Aborted) {
          this.stats.reconnects++;
          this.o.metrics?.reconnect(e.why);
          if (e.why === "relist") {
            needList = true;
            listReason = "periodic";
          }
          continue;
        }
        this.stats.errors++;
        if (isGone(e)) {
          // the resourceVersion is too old: list again at once and diff
          this.log.info({ resourceVersion: this.rv }, "watch expired (410 Gone): relisting");
          this.stats.reconnects++;
          this.o.metrics?.reconnect("expired");
          this.rv = undefined;
          needList = true;
          listReason = "expired";
          continue;
        }
        this.stats.reconnects++;
        this.o.metrics?.reconnect("error");
        if (needList && listReason === "initial" && this.synced) listReason = "error";
        this.log.warn({ err: e, resourceVersion: this.rv, listing: needList }, "list/watch failed: retrying");
        delay = true;
      }
      if (delay) await sleep(this.clock, this.backoff.next(), stop);
    }
  }
}
