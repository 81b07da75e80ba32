// The crash-loop back-off of containers that restart in place, kept as a kubelet keeps it (per pod and
// container: the first restart is immediate; each further one waits twice as long as the previous, up to
// a maximum; a container that ran quietly for twice the maximum starts over), with short durations so
// local runs stay fast. Pure: times come in as arguments. docs/fake-kubelet.md, "Pod lifecycle".

export interface BackOffPolicy {
  /** The wait before the second restart. */
  initialMs: number;
  /** The longest wait. */
  maxMs: number;
}

/** 1/50 of the kubelet's 10 s, capped at 5 s instead of 300 s. */
export const DefaultRestartBackOff: BackOffPolicy = { initialMs: 200, maxMs: 5000 };

interface Entry {
  backoffMs: number;
  lastUpdate: number;
}

export class RestartBackOff {
  private readonly entries = new Map<string, Entry>();
  private readonly policy: BackOffPolicy;

  constructor(policy: BackOffPolicy = DefaultRestartBackOff) {
    if (!(policy.initialMs >= 0) || !(policy.maxMs >= policy.initialMs))
      throw new Error(
        `restartBackOff: need 0 <= initialMs <= maxMs, got initialMs=${policy.initialMs} maxMs=${policy.maxMs}`,
      );
    this.policy = policy;
  }

  /** The entry of `key`, unless it expired (no restart for twice the maximum before `at`). */
  private live(key: string, at: number): Entry | undefined {
    const e = this.entries.get(key);
    if (e && at - e.lastUpdate > 2 * this.policy.maxMs) {
      this.entries.delete(key);
      return undefined;
    }
    return e;
  }

  /** How long a container that exited at `finishedAt` still waits at `now` before it restarts (0: now). */
  delayMs(key: string, finishedAt: number, now: number): number {
    const e = this.live(key, finishedAt);
    return e ? Math.max(0, e.backoffMs - (now - finishedAt)) : 0;
  }

  /** The container (exited at `finishedAt`) restarts at `now`: the next wait doubles, up to the maximum. */
  restarted(key: string, finishedAt: number, now: number): void {
    const e = this.live(key, finishedAt);
    const backoffMs = e ? Math.min(e.backoffMs * 2, this.policy.maxMs) : this.policy.initialMs;
    this.entries.set(key, { backoffMs, lastUpdate: now });
  }
}

/** A duration as Go prints it (`200ms`, `1.6s`, `5s`), for the CrashLoopBackOff message. */
export function goDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  return `${Number((ms / 1000).toFixed(3))}s`;
}
