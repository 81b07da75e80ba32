// The engine that follows JobSets until they finish: `jobset run` shows what it sees, the SDK's
// waitFor() reports it as progress. Every interval it reads each JobSet with its Jobs, pods and events
// (one snapshot per JobSet) and hands the snapshots over, until every JobSet finished (Completed or
// Failed), was deleted, the deadline passed, or the signal aborted.
import type { JobSet } from "../api/types.ts";
import { jobsetsPath } from "../cli/cluster.ts";
import { fetchChildren } from "../cli/fetch.ts";
import { finished, type Snapshot } from "../cli/render.ts";
import { ApiError, isNotFound, type KubeClient } from "../runtime/client.ts";

export type { Snapshot } from "../cli/render.ts";

/** How the followed JobSets ended up. */
export interface Outcome {
  /** The last snapshot of each JobSet, by UID. */
  last: Map<string, Snapshot>;
  /** UIDs of JobSets deleted while followed (e.g. by their TTL). */
  deleted: Set<string>;
  timedOut: boolean;
}

export interface FollowOptions {
  /** Called after each round with one snapshot per JobSet (in the order given) and the time. */
  onSnapshots?: (snapshots: Snapshot[], now: number) => void | Promise<void>;
  /** Give up at this time (ms since the epoch; default: never). */
  deadline?: number;
  signal?: AbortSignal;
  /** Time between two rounds (default 500 ms). */
  intervalMs?: number;
}

/** The current snapshot of a created JobSet; its last one (or a bare one) once it is gone. */
async function look(client: KubeClient, js: JobSet, o: Outcome): Promise<Snapshot> {
  const key = js.metadata?.uid ?? "";
  const prev = o.last.get(key);
  if (o.deleted.has(key) && prev) return prev;
  try {
    const cur = await client.get<JobSet>(jobsetsPath(js.metadata?.namespace, js.metadata?.name));
    if (cur.metadata?.uid !== key) throw new ApiError(404, "NotFound", "replaced");
    const snap = await fetchChildren(client, cur);
    o.last.set(key, snap);
    return snap;
  } catch (e) {
    if (!isNotFound(e)) throw e;
    o.deleted.add(key); // deleted (e.g. its TTL after finishing): keep the last view
    return prev ?? { jobset: js, jobs: [], pods: [], events: [] };
  }
}

const pause = (ms: number, signal: AbortSignal | undefined) =>
  new Promise<void>((r) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      r();
    }
    signal?.addEventListener("abort", done, { once: true });
  });

/** Follows created JobSets (each with its uid) until all finished, the deadline passes, or the signal aborts. */
export async function followJobSets(client: KubeClient, created: JobSet[], f: FollowOptions = {}): Promise<Outcome> {
  const o: Outcome = { last: new Map(), deleted: new Set(), timedOut: false };
  const deadline = f.deadline ?? Number.POSITIVE_INFINITY;
  for (;;) {
    const snaps: Snapshot[] = [];
    for (const js of created) snaps.push(await look(client, js, o));
    await f.onSnapshots?.(snaps, Date.now());
    const allDone = snaps.every(
      (s, i) => finished(s.jobset) !== undefined || o.deleted.has(created[i]?.metadata?.uid ?? ""),
    );
    if (allDone || f.signal?.aborted) return o;
    if (Date.now() > deadline) {
      o.timedOut = true;
      return o;
    }
    await pause(f.intervalMs ?? 500, f.signal);
  }
}

/** Polls until the object at `path` is gone (404), or throws once `deadline` passed. */
export async function waitGone(client: KubeClient, path: string, deadline: number): Promise<void> {
  for (;;) {
    try {
      await client.get(path);
    } catch (e) {
      if (isNotFound(e)) return;
      throw e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${path} to be deleted`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
