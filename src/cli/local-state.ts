// The state of a detached `jobset up`: a directory holding the control plane's data, the fake
// kubelet's captured logs, the kubeconfig and `cluster.json` (pid of the process that owns it all).
//
// Directory: $JOBSET_STATE_DIR, else $XDG_STATE_HOME/jobset, else ~/.local/state/jobset.
import { readFileSync, rmSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { pidAlive } from "../local/supervise.ts";

export interface LocalState {
  /** The `jobset up` process: stopping it (SIGTERM) stops everything. */
  pid: number;
  kubeconfig: string;
  server: string;
  /** The control plane's data dir. */
  dataDir: string;
  /** The fake kubelet's dir: exec logs at <kubeletDir>/logs/<ns>/<pod>/<container>.log. */
  kubeletDir: string;
  runtime: "simulate" | "exec";
  nodes: string[];
  startedAt: string;
}

export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.JOBSET_STATE_DIR) return env.JOBSET_STATE_DIR;
  const base = env.XDG_STATE_HOME || join(homedir(), ".local", "state");
  return join(base, "jobset");
}

export const stateFile = (dir: string = stateDir()): string => join(dir, "cluster.json");

/** The running local cluster, or undefined (a state file whose process is gone is stale: removed). */
export function readLocalState(dir: string = stateDir()): LocalState | undefined {
  let s: LocalState;
  try {
    s = JSON.parse(readFileSync(stateFile(dir), "utf8")) as LocalState;
  } catch {
    return undefined;
  }
  if (typeof s.pid !== "number" || !pidAlive(s.pid)) {
    rmSync(stateFile(dir), { force: true });
    return undefined;
  }
  return s;
}
