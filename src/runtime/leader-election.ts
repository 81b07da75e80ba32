// Lease-based leader election (coordination.k8s.io/v1), after client-go's tools/leaderelection:
// - acquire: try every retryPeriod (+ up to 1.2× jitter) until the Lease is free, expired, or ours;
//   a Lease held by someone else counts as expired only when its record has not changed for
//   leaseDuration as measured by *our* clock (never by comparing timestamps across machines);
// - renew: every retryPeriod; if renewing keeps failing for renewDeadline, leadership is lost;
// - release on cancel: the holderIdentity is cleared (leaseDurationSeconds 1), so a successor takes
//   over at once instead of waiting for the lease to expire;
// - optimistic concurrency on every write (resourceVersion), MicroTime timestamps (6 fractional digits).
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type { Lease } from "../api/k8s.ts";
import { isAlreadyExists, isConflict, isNotFound, type KubeClient } from "./client.ts";
import { type Clock, microTime, realClock, sleep } from "./clock.ts";
import { type Logger, silentLogger } from "./logger.ts";
import { Resources, resourcePath } from "./resources.ts";

/** Where the Lease lives; `KubeLeaseStore` is the real one, tests use an in-memory one. */
export interface LeaseStore {
  /** The Lease, or undefined if it does not exist. */
  get(): Promise<Lease | undefined>;
  /** Creates the Lease; throws (AlreadyExists) if it exists. */
  create(lease: Lease): Promise<Lease>;
  /** Replaces the Lease; throws (Conflict) if its resourceVersion is stale. */
  update(lease: Lease): Promise<Lease>;
  /** `namespace/name`, for logs. */
  readonly description: string;
}

export class KubeLeaseStore implements LeaseStore {
  private readonly client: Pick<KubeClient, "get" | "create" | "update">;
  readonly namespace: string;
  readonly name: string;
  constructor(client: Pick<KubeClient, "get" | "create" | "update">, namespace: string, name: string) {
    this.client = client;
    this.namespace = namespace;
    this.name = name;
  }
  get description(): string {
    return `${this.namespace}/${this.name}`;
  }
  private get collection(): string {
    return resourcePath({ ...Resources.leases, namespace: this.namespace });
  }
  async get(): Promise<Lease | undefined> {
    try {
      return await this.client.get<Lease>(`${this.collection}/${encodeURIComponent(this.name)}`);
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }
  create(lease: Lease): Promise<Lease> {
    return this.client.create<Lease>(this.collection, {
      ...lease,
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: { ...lease.metadata, name: this.name, namespace: this.namespace },
    });
  }
  update(lease: Lease): Promise<Lease> {
    return this.client.update<Lease>(`${this.collection}/${encodeURIComponent(this.name)}`, {
      ...lease,
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
    });
  }
}

/** `<hostname>_<uuid>`, as controller-runtime builds its leader election identity. */
export function defaultIdentity(): string {
  return `${hostname()}_${randomUUID()}`;
}

export interface LeaderElectorOptions {
  store: LeaseStore;
  /** Default: `defaultIdentity()`. */
  identity?: string;
  /** Default 15 s. */
  leaseDurationMs?: number;
  /** Default 10 s. */
  renewDeadlineMs?: number;
  /** Default 2 s. */
  retryPeriodMs?: number;
  /** Clear the holder when `run`'s signal aborts while leading (default true). */
  releaseOnCancel?: boolean;
  /** Called when this process becomes leader; `signal` aborts when it stops leading. */
  onStartedLeading(signal: AbortSignal): void | Promise<void>;
  /** Called once when leadership ends (lost, or released on cancel). */
  onStoppedLeading?(): void;
  /** Called when the observed leader changes (including to ourselves). */
  onNewLeader?(identity: string): void;
  clock?: Clock;
  random?: () => number;
  logger?: Logger;
  /** Leadership status (leader_election_master_status). */
  onLeaderStatus?(leading: boolean): void;
}

const JITTER_FACTOR = 1.2;

type Spec = NonNullable<Lease["spec"]>;

function sameSpec(a: Spec | undefined, b: Spec | undefined): boolean {
  return (
    a?.holderIdentity === b?.holderIdentity &&
    a?.leaseDurationSeconds === b?.leaseDurationSeconds &&
    a?.acquireTime === b?.acquireTime &&
    a?.renewTime === b?.renewTime &&
    a?.leaseTransitions === b?.leaseTransitions
  );
}

export class LeaderElector {
  readonly identity: string;
  private readonly o: LeaderElectorOptions;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly log: Logger;
  private readonly leaseMs: number;
  private readonly renewMs: number;
  private readonly retryMs: number;
  private observed: Lease | undefined;
  private observedAt = 0;
  private leading = false;
  private reportedLeader: string | undefined;

  constructor(o: LeaderElectorOptions) {
    this.o = o;
    this.identity = o.identity ?? defaultIdentity();
    this.clock = o.clock ?? realClock;
    this.random = o.random ?? Math.random;
    this.leaseMs = o.leaseDurationMs ?? 15_000;
    this.renewMs = o.renewDeadlineMs ?? 10_000;
    this.retryMs = o.retryPeriodMs ?? 2_000;
    if (this.leaseMs <= this.renewMs) throw new Error("leaseDuration must be greater than renewDeadline");
    if (this.renewMs <= JITTER_FACTOR * this.retryMs)
      throw new Error("renewDeadline must be greater than retryPeriod*JitterFactor");
    if (this.retryMs < 1) throw new Error("retryPeriod must be positive");
    if (!this.identity) throw new Error("leader election identity must not be empty");
    this.log = (o.logger ?? silentLogger()).child({ component: "leader-election", lease: o.store.description });
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** The holder of the Lease as last observed ("" when released, undefined when never seen). */
  getLeader(): string | undefined {
    return this.observed?.spec?.holderIdentity;
  }

  private setLeading(v: boolean): void {
    this.leading = v;
    this.o.onLeaderStatus?.(v);
  }

  private noteLeader(): void {
    const holder = this.observed?.spec?.holderIdentity;
    if (holder && holder !== this.reportedLeader) {
      this.reportedLeader = holder;
      if (holder !== this.identity) this.log.info({ leader: holder }, "new leader elected");
      try {
        this.o.onNewLeader?.(holder);
      } catch (e) {
        this.log.error({ err: e }, "onNewLeader failed");
      }
    }
  }

  /** One attempt to acquire or renew (client-go tryAcquireOrRenew). */
  async tryAcquireOrRenew(): Promise<boolean> {
    const now = this.clock.now();
    const leaseSeconds = Math.ceil(this.leaseMs / 1000);
    let current: Lease | undefined;
    try {
      current = await this.o.store.get();
    } catch (e) {
      this.log.warn({ err: e }, "error retrieving lease");
      return false;
    }
    if (!current) {
      const lease: Lease = {
        metadata: {},
        spec: {
          holderIdentity: this.identity,
          leaseDurationSeconds: leaseSeconds,
          acquireTime: microTime(now),
          renewTime: microTime(now),
          leaseTransitions: 0,
        },
      };
      try {
        this.observed = await this.o.store.create(lease);
        this.observedAt = this.clock.now();
        this.noteLeader();
        return true;
      } catch (e) {
        if (!isAlreadyExists(e) && !isConflict(e)) this.log.warn({ err: e }, "error creating lease");
        return false;
      }
    }
    const spec = current.spec ?? {};
    if (!sameSpec(spec, this.observed?.spec)) {
      this.observedAt = this.clock.now();
    }
    this.observed = current;
    this.noteLeader();
    const holder = spec.holderIdentity ?? "";
    const durationMs = (spec.leaseDurationSeconds ?? leaseSeconds) * 1000;
    if (holder !== "" && holder !== this.identity && this.observedAt + durationMs > now) {
      return false; // held by someone else and not expired
    }
    const mine = holder === this.identity;
    const next: Lease = {
      ...current,
      spec: {
        ...spec,
        holderIdentity: this.identity,
        leaseDurationSeconds: leaseSeconds,
        acquireTime: mine && spec.acquireTime ? spec.acquireTime : microTime(now),
        renewTime: microTime(now),
        leaseTransitions: mine ? (spec.leaseTransitions ?? 0) : (spec.leaseTransitions ?? 0) + 1,
      },
    };
    try {
      this.observed = await this.o.store.update(next);
      this.observedAt = this.clock.now();
      this.noteLeader();
      return true;
    } catch (e) {
      if (!isConflict(e)) this.log.warn({ err: e }, "error updating lease");
      return false;
    }
  }

  /** Gives the Lease up if we hold it: clears holderIdentity so a successor may acquire it at once. */
  async release(): Promise<boolean> {
    const cur = this.observed;
    if (!cur || cur.spec?.holderIdentity !== this.identity) return true;
    const now = this.clock.now();
    try {
      this.observed = await this.o.store.update({
        ...cur,
        spec: {
          holderIdentity: "",
          leaseDurationSeconds: 1,
          acquireTime: microTime(now),
          renewTime: microTime(now),
          leaseTransitions: cur.spec?.leaseTransitions ?? 0,
        },
      });
      this.observedAt = this.clock.now();
      this.log.info("released the lease");
      return true;
    } catch (e) {
      this.log.warn({ err: e }, "could not release the lease");
      return false;
    }
  }

  /** An attempt bounded by `ms` (a hung request counts as a failure). */
  private attempt(ms: number): Promise<boolean> {
    let cancel: (() => void) | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      cancel = this.clock.setTimer(() => resolve(false), ms);
    });
    return Promise.race([this.tryAcquireOrRenew().catch(() => false), timeout]).finally(() => cancel?.());
  }

  /**
   * Campaigns until leader, leads until `signal` aborts or the lease cannot be renewed, then (on
   * abort) releases it. Resolves when leadership is over (or `signal` aborted before acquiring).
   * Returns true if it led and stopped because of `signal`, false if leadership was lost (or never won).
   */
  async run(signal: AbortSignal): Promise<boolean> {
    // acquire
    this.log.info({ identity: this.identity }, "attempting to acquire leader lease");
    for (;;) {
      if (signal.aborted) return false;
      if (await this.attempt(this.renewMs)) break;
      if (signal.aborted) return false;
      await sleep(this.clock, this.retryMs + this.random() * JITTER_FACTOR * this.retryMs, signal);
    }
    if (signal.aborted) {
      await this.release();
      return false;
    }
    this.log.info({ identity: this.identity }, "successfully acquired lease");
    this.setLeading(true);
    const leaderCtl = new AbortController();
    void (async () => {
      try {
        await this.o.onStartedLeading(leaderCtl.signal);
      } catch (e) {
        this.log.error({ err: e }, "onStartedLeading failed");
      }
    })();
    // renew
    let lost = false;
    while (!signal.aborted) {
      await sleep(this.clock, this.retryMs, signal);
      if (signal.aborted) break;
      const cycleStart = this.clock.now();
      let ok = false;
      while (!signal.aborted) {
        const left = cycleStart + this.renewMs - this.clock.now();
        if (left <= 0) break;
        ok = await this.attempt(left);
        if (ok || signal.aborted) break;
        const wait = Math.min(this.retryMs, cycleStart + this.renewMs - this.clock.now());
        if (wait <= 0) break;
        await sleep(this.clock, wait, signal);
      }
      if (!ok && !signal.aborted) {
        lost = true;
        break;
      }
    }
    this.setLeading(false);
    leaderCtl.abort();
    if (lost) this.log.error({ identity: this.identity }, "leader election lost");
    else if (this.o.releaseOnCancel !== false) await this.release();
    try {
      this.o.onStoppedLeading?.();
    } catch (e) {
      this.log.error({ err: e }, "onStoppedLeading failed");
    }
    return !lost;
  }
}
