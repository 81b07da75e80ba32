// What the parts of the fake kubelet share: its log callback, its counters, and small helpers.
import { ApiError } from "../runtime/client.ts";

export type KubeletLogLevel = "debug" | "info" | "warn" | "error";
/** Structured log callback: a level, a message and fields (pod, node, error...). */
export type KubeletLog = (level: KubeletLogLevel, msg: string, fields?: Record<string, unknown>) => void;

export interface KubeletStats {
  nodes: number;
  podsStarted: number;
  podsAdopted: number;
  podsSucceeded: number;
  podsFailed: number;
  podsKilled: number;
  podsDeleted: number;
  containerRestarts: number;
  /** Pods whose containers all restarted in place (RestartAllContainers). */
  podRestartsAll: number;
  statusPatches: number;
  apiErrors: number;
  watchRestarts: number;
  relists: number;
  /** Pods currently tracked (started and not yet gone from the API). */
  tracked: number;
}

export const newKubeletStats = (): KubeletStats => ({
  nodes: 0,
  podsStarted: 0,
  podsAdopted: 0,
  podsSucceeded: 0,
  podsFailed: 0,
  podsKilled: 0,
  podsDeleted: 0,
  containerRestarts: 0,
  podRestartsAll: 0,
  statusPatches: 0,
  apiErrors: 0,
  watchRestarts: 0,
  relists: 0,
  tracked: 0,
});

export const defaultKubeletLog: KubeletLog = (level, msg, fields) => {
  if (level === "warn" || level === "error")
    process.stderr.write(`fake-kubelet ${level}: ${msg}${fields ? ` ${JSON.stringify(fields)}` : ""}\n`);
};

export const nowIso = (): string => new Date().toISOString();
export const errMsg = (e: unknown): string => (e instanceof Error ? e.message : String(e));
/** Worth retrying: no answer, throttled, or a server error. */
export const transient = (e: unknown): boolean =>
  e instanceof ApiError && (e.code === 0 || e.code === 429 || e.code >= 500);
export const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
