// Runs a child process under a tiny /bin/sh supervisor that dies with us.
//
// The supervisor holds the read end of a pipe whose write end only this Node process holds (its
// stdin). When this process exits for any reason, including SIGKILL, the kernel closes the write end,
// the supervisor reads EOF, sends the child SIGTERM and, after a grace period, SIGKILL. Stopping on
// purpose is the same path: close the pipe. The supervisor runs in its own session (detached), so a
// Ctrl-C in the terminal reaches only us, and we shut down in order. See docs/adr/0003-no-leaked-processes.md.
import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

/** $1 grace in tenths of a second, $2 pid file, then the command. */
export const SUPERVISOR_SCRIPT = `g=$1; pidfile=$2; shift 2
exec 3<&0 0</dev/null
"$@" 3<&- &
c=$!
echo "$c" > "$pidfile"
trap 'kill -TERM "$c" 2>/dev/null' TERM INT HUP
(
  trap - TERM INT HUP
  while read -r _ <&3; do :; done
  kill -TERM "$c" 2>/dev/null
  i=0
  while kill -0 "$c" 2>/dev/null; do
    if [ "$i" -ge "$g" ]; then kill -KILL "$c" 2>/dev/null; break; fi
    sleep 0.1; i=$((i+1))
  done
) &
w=$!
exec 3<&-
while :; do
  wait "$c"; rc=$?
  kill -0 "$c" 2>/dev/null || break
done
kill "$w" 2>/dev/null
exit "$rc"
`;

/** On EOF of stdin: wait $1 seconds (the supervisors' grace), then remove directory $2. */
export const JANITOR_SCRIPT = `while read -r _; do :; done
sleep "$1"
rm -rf "$2"
`;

export interface Supervised {
  readonly name: string;
  /** The supervisor (/bin/sh) pid; also the process group id of supervisor and child. */
  readonly supervisorPid: number;
  /** Resolves with the child's exit code (as the supervisor reports it) once the supervisor is gone. */
  readonly exited: Promise<number>;
  /** True once the supervisor has exited. */
  readonly done: () => boolean;
  /** The supervised child's pid (read from the pid file; undefined until the supervisor wrote it). */
  childPid(): number | undefined;
  /** SIGTERM, then SIGKILL after the grace period; resolves when everything has exited. */
  stop(): Promise<number>;
  /** SIGKILL to supervisor and child at once (a crash); resolves when the supervisor has exited. */
  kill(): Promise<number>;
  /** Lets this Node process exit while the child runs; the supervisor then ends the child on our exit. */
  unref(): void;
}

export interface SuperviseOptions {
  name: string;
  command: string;
  args: string[];
  /** File descriptor (opened for append) that receives the child's stdout and stderr. */
  logFd: number | "ignore";
  pidFile: string;
  graceMs?: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export function supervise(o: SuperviseOptions): Supervised {
  const graceMs = o.graceMs ?? 5000;
  const child: ChildProcess = spawn(
    "/bin/sh",
    [
      "-c",
      SUPERVISOR_SCRIPT,
      `jobset-supervise:${o.name}`,
      String(Math.ceil(graceMs / 100)),
      o.pidFile,
      o.command,
      ...o.args,
    ],
    { detached: true, stdio: ["pipe", o.logFd, o.logFd], env: o.env ?? process.env, cwd: o.cwd },
  );
  child.stdin?.on("error", () => {});
  let finished = false;
  const exited = new Promise<number>((resolve) => {
    child.on("exit", (code, signal) => {
      finished = true;
      resolve(code ?? (signal ? 128 : 1));
    });
    child.on("error", () => {
      finished = true;
      resolve(127);
    });
  });
  const pid = child.pid ?? -1;
  return {
    name: o.name,
    supervisorPid: pid,
    exited,
    done: () => finished,
    childPid() {
      try {
        const n = Number.parseInt(readFileSync(o.pidFile, "utf8"), 10);
        return Number.isFinite(n) && n > 0 ? n : undefined;
      } catch {
        return undefined;
      }
    },
    async stop() {
      if (!finished) {
        child.stdin?.end();
        const hard = setTimeout(() => {
          try {
            process.kill(-pid, "SIGKILL"); // the whole group: supervisor, watcher, child
          } catch {
            // already gone
          }
        }, graceMs + 3000);
        await exited;
        clearTimeout(hard);
      }
      return exited;
    },
    unref() {
      child.unref();
      (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    },
    async kill() {
      if (!finished) {
        const cpid = this.childPid();
        for (const p of [-pid, ...(cpid ? [cpid] : [])]) {
          try {
            process.kill(p, "SIGKILL");
          } catch {
            // already gone
          }
        }
        await exited;
        // The supervisor can be gone before the killed child is torn down and reaped (by init, now):
        // until then the child still holds its ports, and a restart on the same port fails with
        // EADDRINUSE. Wait for the child itself (at most 5 s).
        const deadline = Date.now() + 5000;
        while (cpid && pidRunning(cpid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      }
      return exited;
    },
  };
}

export interface Janitor {
  readonly pid: number;
  /** Cancels the deferred removal (call after removing the directory yourself). */
  cancel(): void;
  unref(): void;
}

/** Removes `dir` `afterMs` after this process dies, unless cancelled. */
export function janitor(dir: string, afterMs: number): Janitor {
  const child = spawn("/bin/sh", ["-c", JANITOR_SCRIPT, "jobset-janitor", String(Math.ceil(afterMs / 1000)), dir], {
    detached: true,
    stdio: ["pipe", "ignore", "ignore"],
  });
  child.stdin?.on("error", () => {});
  const pid = child.pid ?? -1;
  return {
    pid,
    unref() {
      child.unref();
      (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    },
    cancel() {
      // Kill it while it is still blocked in `read`: closing the pipe first would start the removal.
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    },
  };
}

/**
 * Whether a process exists and has not finished exiting (Linux). A zombie counts as gone, except a
 * multi-threaded one whose leader is a zombie while other threads still exit: its files (listening
 * sockets included) are released only when the last thread is gone, so it still counts as running.
 */
export function pidRunning(pid: number): boolean {
  if (!pidAlive(pid)) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    if (state !== "Z") return true;
    return readdirSync(`/proc/${pid}/task`).length > 1;
  } catch {
    return pidAlive(pid);
  }
}

/** Whether a process exists (zombies count as gone only once reaped). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}
