// The agent's decision for one observed JobSet (behavior spec §8.2, per-reconcile logic). Pure: the
// agent's in-memory state and the JobSet come in, the next step comes out; the runner (agent.ts) carries
// the step out, updates the state and asks again until there is nothing to do.
import { Annotations } from "../api/constants.ts";
import type { JobSet } from "../api/types.ts";

export interface AgentState {
  /** The attempt this agent process wrote on its pod (unset until the annotation was applied). */
  podAttempt: number | undefined;
  /** Whether the worker is still held back. */
  barrierActive: boolean;
}

export const initialAgentState = (): AgentState => ({ podAttempt: undefined, barrierActive: true });

export type AgentStep =
  /** Server-side-apply the pod annotation with this attempt; on success it becomes `podAttempt`. */
  | { kind: "annotate"; attempt: number }
  /** Exit with the in-place restart exit code: the pod restarts in place and the next agent annotates anew. */
  | { kind: "restart"; podAttempt: number; previous: number }
  /** Let the worker run (serve the startup probe, or run the worker command). */
  | { kind: "lift"; reason: "bypass" | "synced" };

/** The JobSet does not use in-place restart (or disables it): the agent only lets the worker run. */
export function bypassesBarrier(js: JobSet): boolean {
  if (js.metadata?.annotations && Object.hasOwn(js.metadata.annotations, Annotations.DisableInPlaceRestart))
    return true;
  return js.spec?.failurePolicy?.restartStrategy !== "InPlaceRestart";
}

/** The next step for `state` given the JobSet (undefined: NotFound); undefined when there is nothing to do. */
export function nextStep(state: AgentState, js: JobSet | undefined): AgentStep | undefined {
  if (!js) return undefined;
  if (bypassesBarrier(js)) return state.barrierActive ? { kind: "lift", reason: "bypass" } : undefined;
  const current = js.status?.currentInPlaceRestartAttempt ?? undefined;
  const previous = js.status?.previousInPlaceRestartAttempt ?? undefined;
  if (state.podAttempt === undefined) return { kind: "annotate", attempt: current === undefined ? 0 : current + 1 };
  if (previous !== undefined && state.podAttempt <= previous)
    return { kind: "restart", podAttempt: state.podAttempt, previous };
  if (state.barrierActive && current !== undefined && state.podAttempt === current)
    return { kind: "lift", reason: "synced" };
  return undefined;
}

/** The state after `step` was carried out successfully. */
export function applyStep(state: AgentState, step: AgentStep): AgentState {
  switch (step.kind) {
    case "annotate":
      return { ...state, podAttempt: step.attempt };
    case "lift":
      return { ...state, barrierActive: false };
    case "restart":
      return state;
  }
}

/** The server-side apply body that sets the attempt annotation on the agent's own pod (nothing else). */
export function attemptApplyBody(namespace: string, podName: string, attempt: number) {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: podName, namespace, annotations: { [Annotations.InPlaceRestartAttempt]: String(attempt) } },
  };
}

/** The exit code of the agent in main container mode once the worker ended (spec: its code; 1 on other errors). */
export function workerExitCode(r: { code: number | null; signal: NodeJS.Signals | null; error?: Error }): number {
  if (r.error) return 1;
  if (r.code !== null) return r.code;
  return 1;
}
