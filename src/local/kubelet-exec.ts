// The fake kubelet's exec runtime: container processes run locally, each in its own process group
// (so a pod deletion kills everything the container started), with stdout and stderr appended to one
// log file per container. A registry of live groups makes sure nothing outlives the kubelet.
import { spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync, writeSync } from "node:fs";
import { constants } from "node:os";
import { dirname } from "node:path";

export interface ProcessExit {
  /** The container's exit code: the process's code, or 128 + signal number when a signal ended it. */
  exitCode: number;
  signal?: string;
  /** Set when the process could not be started at all (e.g. command not found: exit code 127). */
  error?: string;
}

export interface ContainerProcess {
  readonly pid: number | undefined;
  readonly exited: Promise<ProcessExit>;
  /** SIGTERM to the group, SIGKILL after `graceMs`; resolves when the main process has exited. */
  kill(graceMs: number): Promise<ProcessExit>;
}

/** Every live process group started by any exec runtime in this Node process. */
const liveGroups = new Set<number>();
let exitHookInstalled = false;

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is gone.
  }
}

/** SIGKILLs every live group, synchronously (for process exit paths). */
export function killAllGroupsSync(): void {
  for (const pid of liveGroups) killGroup(pid, "SIGKILL");
  liveGroups.clear();
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", killAllGroupsSync);
}

/** How many process groups are alive (for tests and stats). */
export function liveProcessGroups(): number {
  return liveGroups.size;
}

const signalNumber = (sig: string | null): number =>
  sig ? ((constants.signals as Record<string, number>)[sig] ?? 9) : 0;

export interface SpawnOptions {
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  /** stdout and stderr are appended here. */
  logFile: string;
}

/** Starts a container's process in its own process group. Never throws: start failures resolve `exited`. */
export function spawnContainer(o: SpawnOptions): ContainerProcess {
  installExitHook();
  mkdirSync(dirname(o.logFile), { recursive: true });
  const fd = openSync(o.logFile, "a");
  let resolveExit!: (e: ProcessExit) => void;
  const exited = new Promise<ProcessExit>((r) => {
    resolveExit = r;
  });
  let done = false;
  const finish = (e: ProcessExit) => {
    if (done) return;
    done = true;
    if (child.pid !== undefined) {
      // Like a container whose PID 1 ends: whatever else it started dies with it.
      killGroup(child.pid, "SIGKILL");
      liveGroups.delete(child.pid);
    }
    resolveExit(e);
  };
  const [cmd = "", ...args] = o.argv;
  const child = spawn(cmd, args, { cwd: o.cwd, env: o.env, stdio: ["ignore", fd, fd], detached: true });
  closeSync(fd);
  if (child.pid !== undefined) liveGroups.add(child.pid);
  child.on("error", (err: NodeJS.ErrnoException) => {
    const msg = `fake-kubelet: cannot start ${JSON.stringify(cmd)}: ${err.message}\n`;
    try {
      const f = openSync(o.logFile, "a");
      writeSync(f, msg);
      closeSync(f);
    } catch {
      // the log is best effort
    }
    finish({ exitCode: err.code === "ENOENT" ? 127 : 126, error: msg.trim() });
  });
  child.on("exit", (code, signal) => {
    const e: ProcessExit = { exitCode: code ?? 128 + signalNumber(signal) };
    if (signal) e.signal = signal;
    finish(e);
  });
  return {
    pid: child.pid,
    exited,
    kill(graceMs: number): Promise<ProcessExit> {
      if (!done && child.pid !== undefined) {
        killGroup(child.pid, "SIGTERM");
        const t = setTimeout(() => {
          if (child.pid !== undefined) killGroup(child.pid, "SIGKILL");
        }, graceMs);
        t.unref();
        void exited.then(() => clearTimeout(t));
      }
      return exited;
    },
  };
}

/** Runs an exec probe: success when the command exits 0 within `timeoutMs`. */
export async function runProbe(o: Omit<SpawnOptions, "logFile">, timeoutMs: number): Promise<boolean> {
  installExitHook();
  const [cmd = "", ...args] = o.argv;
  return new Promise<boolean>((resolve) => {
    const child = spawn(cmd, args, { cwd: o.cwd, env: o.env, stdio: "ignore", detached: true });
    if (child.pid !== undefined) liveGroups.add(child.pid);
    let settled = false;
    const settle = (ok: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (child.pid !== undefined) {
        killGroup(child.pid, "SIGKILL");
        liveGroups.delete(child.pid);
      }
      resolve(ok);
    };
    const timer = setTimeout(() => settle(false), timeoutMs);
    child.on("error", () => settle(false));
    child.on("exit", (code) => settle(code === 0));
  });
}
