// ttlSecondsAfterFinished (spec §6.9): a finished JobSet is deleted (foreground) `ttl` seconds after
// it finished; until then the reconcile is requeued for the remaining time. Finish time = the
// `lastTransitionTime` of the first True `Completed` or `Failed` condition in the list.
import { ConditionTypes } from "../api/constants.ts";
import type { JobSet } from "../api/types.ts";

export type TtlDecision =
  | { kind: "none" }
  | { kind: "delete" }
  | { kind: "requeue"; afterMs: number }
  | { kind: "error"; error: string };

/** Finish time in ms since the epoch, or undefined when no finished condition carries a time. */
export function finishTime(js: JobSet): number | undefined {
  const c = js.status?.conditions?.find(
    (x) => (x.type === ConditionTypes.Completed || x.type === ConditionTypes.Failed) && x.status === "True",
  );
  if (!c?.lastTransitionTime) return undefined;
  const t = Date.parse(c.lastTransitionTime);
  return Number.isNaN(t) ? undefined : t;
}

/** What TTL asks of a finished JobSet at `now` (`ttlSecondsAfterFinished` unset ⇒ nothing). */
export function ttlDecision(js: JobSet, now: Date): TtlDecision {
  const ttl = js.spec?.ttlSecondsAfterFinished;
  if (ttl === undefined || ttl === null) return { kind: "none" };
  const finished = finishTime(js);
  if (finished === undefined) {
    return {
      kind: "error",
      error: `unable to find the time when the JobSet ${js.metadata?.namespace ?? ""}/${js.metadata?.name ?? ""} finished`,
    };
  }
  const remaining = finished + ttl * 1000 - now.getTime();
  return remaining <= 0 ? { kind: "delete" } : { kind: "requeue", afterMs: remaining };
}
