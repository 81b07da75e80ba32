// What the machine's cores did while a scenario ran: the CPU seconds of kube-apiserver, etcd, the
// controller and the benchmark's own process (the driver: it creates the JobSets and watches the Jobs),
// read from /proc, and the rest of the machine's busy time. From them, the least time the scenario's work
// other than the controller's needs on all the cores: the floor a controller that cost no CPU at all would
// still meet on this machine.

import { readFileSync } from "node:fs";
import os from "node:os";

/** Clock ticks per second of /proc/<pid>/stat: USER_HZ, 100 in Linux's ABI on every architecture Node runs on. */
const UserHz = 100;

export interface CpuSnapshot {
  atMs: number;
  /** Busy milliseconds summed over all cores (user, nice, system, irq) since boot. */
  busyMs: number;
  /** CPU seconds of each watched process since it started, and of this process. */
  seconds: Record<string, number>;
}

export interface CpuWindow {
  seconds: number;
  cores: number;
  /** Mean number of busy cores over the window. */
  busyCores: number;
  /** CPU seconds in the window: each watched process, `driver` (this process) and `rest` (all others). */
  cpuSeconds: Record<string, number>;
  /**
   * The CPU seconds of every watched process but the controller, and the driver's, spread over every core:
   * the least wall time their share of the work needs here, whatever the controller costs.
   */
  floorSeconds: number;
}

/** CPU seconds (user + system) of a process from /proc/<pid>/stat; undefined when it is gone or not Linux. */
function processSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // fields after the command name, which is in parentheses and may hold spaces
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / UserHz;
  } catch {
    return undefined;
  }
}

function machineBusyMs(): number {
  let busy = 0;
  for (const c of os.cpus()) busy += c.times.user + c.times.nice + c.times.sys + c.times.irq;
  return busy;
}

/** A process and its children (upstream's controller runs as a child of the benchmark's runner). */
export function withChildren(pid: number): number[] {
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim();
    return [pid, ...(children ? children.split(" ").map(Number) : [])];
  } catch {
    return [pid];
  }
}

/** Watches the given processes (name → pid) and this one, as `driver`. */
export class CpuMeter {
  private readonly pids: Record<string, number>;

  constructor(pids: Record<string, number>) {
    this.pids = pids;
  }

  /** `more`: further processes for this snapshot, name → pids whose CPU seconds are summed. */
  snapshot(more: Record<string, number[]> = {}): CpuSnapshot {
    const seconds: Record<string, number> = {};
    for (const [name, pid] of Object.entries(this.pids)) {
      const s = processSeconds(pid);
      if (s !== undefined) seconds[name] = s;
    }
    for (const [name, pids] of Object.entries(more)) {
      const each = pids.map(processSeconds).filter((s): s is number => s !== undefined);
      if (each.length > 0) seconds[name] = each.reduce((a, b) => a + b, 0);
    }
    const u = process.cpuUsage();
    seconds.driver = (u.user + u.system) / 1e6;
    return { atMs: performance.now(), busyMs: machineBusyMs(), seconds };
  }

  static between(a: CpuSnapshot, b: CpuSnapshot): CpuWindow {
    const seconds = (b.atMs - a.atMs) / 1000;
    const cores = os.availableParallelism();
    const cpuSeconds: Record<string, number> = {};
    let named = 0;
    let others = 0;
    for (const [name, end] of Object.entries(b.seconds)) {
      const start = a.seconds[name];
      if (start === undefined) continue;
      cpuSeconds[name] = round(end - start);
      named += end - start;
      if (name !== "controller") others += end - start;
    }
    const busy = (b.busyMs - a.busyMs) / 1000;
    cpuSeconds.rest = round(Math.max(0, busy - named));
    return {
      seconds: round(seconds, 3),
      cores,
      busyCores: round(seconds > 0 ? busy / seconds : 0),
      cpuSeconds,
      floorSeconds: round(others / cores, 3),
    };
  }
}

const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;
