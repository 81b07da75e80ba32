// Container logs of the fake kubelet: one file per container (exec: the process's stdout and stderr;
// simulate: a few synthetic lines), an in-memory index of when each line appeared and where each run
// of the container starts and ends, and the kubelet's `/containerLogs` query semantics (follow,
// tailLines, limitBytes, timestamps, previous, sinceSeconds/sinceTime). docs/fake-kubelet.md.
import { closeSync, type FSWatcher, fstatSync, mkdirSync, openSync, readSync, watch, writeSync } from "node:fs";
import { dirname } from "node:path";
import { rfc3339Nano } from "../api/time.ts";

// ---------------------------------------------------------------------------------------------- query

export interface LogQuery {
  follow: boolean;
  previous: boolean;
  timestamps: boolean;
  tailLines?: number;
  limitBytes?: number;
  /** Epoch ms: only lines at or after this time (from sinceSeconds or sinceTime). */
  sinceMs?: number;
}

export type LogQueryResult = { ok: true; query: LogQuery } | { ok: false; status: number; message: string };

/** Go's strconv.ParseBool. */
function parseBool(v: string): boolean | undefined {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(v)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(v)) return false;
  return undefined;
}

/**
 * The query of `GET /containerLogs/{ns}/{pod}/{container}`, decoded and validated as the kubelet does
 * (PodLogOptions): 400 "Unable to decode query." for values that do not parse, 422 "Invalid request."
 * for values that fail validation. `tail` is the legacy spelling of tailLines ("all" = no limit).
 */
export function parseLogQuery(q: URLSearchParams, nowMs: number): LogQueryResult {
  const bad = { ok: false, status: 400, message: '{"message": "Unable to decode query."}' } as const;
  const invalid = { ok: false, status: 422, message: '{"message": "Invalid request."}' } as const;
  const query: LogQuery = { follow: false, previous: false, timestamps: false };
  for (const key of ["follow", "previous", "timestamps"] as const) {
    const v = q.get(key);
    if (v === null) continue;
    // An empty value of a boolean query parameter means true (url.Values → bool conversion).
    const b = v === "" ? true : parseBool(v);
    if (b === undefined) return bad;
    query[key] = b;
  }
  const int = (v: string | null): number | undefined | null => {
    if (v === null) return undefined;
    if (!/^[+-]?\d+$/.test(v)) return null;
    return Number(v);
  };
  let tail = q.get("tailLines");
  const legacy = q.get("tail");
  if (legacy) tail = legacy === "all" ? null : legacy;
  const tailLines = int(tail);
  const limitBytes = int(q.get("limitBytes"));
  const sinceSeconds = int(q.get("sinceSeconds"));
  if (tailLines === null || limitBytes === null || sinceSeconds === null) return bad;
  const sinceTime = q.get("sinceTime");
  let sinceTimeMs: number | undefined;
  if (sinceTime !== null) {
    sinceTimeMs = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(sinceTime)
      ? Date.parse(sinceTime)
      : Number.NaN;
    if (Number.isNaN(sinceTimeMs)) return bad;
  }
  if (tailLines !== undefined && tailLines < 0) return invalid;
  if (limitBytes !== undefined && limitBytes < 1) return invalid;
  if (sinceSeconds !== undefined && sinceTimeMs !== undefined) return invalid;
  if (sinceSeconds !== undefined && sinceSeconds < 1) return invalid;
  const stream = q.get("stream");
  if (stream !== null && stream !== "All")
    return {
      ok: false,
      status: 400,
      message: `unable to return the given log stream: "${stream}". Please enable PodLogsQuerySplitStreams feature gate in kubelet`,
    };
  if (tailLines !== undefined) query.tailLines = tailLines;
  if (limitBytes !== undefined) query.limitBytes = limitBytes;
  if (sinceSeconds !== undefined) query.sinceMs = nowMs - sinceSeconds * 1000;
  if (sinceTimeMs !== undefined) query.sinceMs = sinceTimeMs;
  return { ok: true, query };
}

// ---------------------------------------------------------------------------------------------- rendering

/** Go's time.RFC3339Nano of an epoch-ms time: trailing zeros of the fraction dropped (api/time.ts). */
export { rfc3339Nano };

export interface LogLine {
  /** The line's bytes, with its "\n" (the last line of a finished run may lack it). */
  text: Buffer;
  /** When the line appeared (epoch ms). */
  time: number;
}

/**
 * Applies a query to the lines of one container run: `tailLines` to the lines there are when the
 * request comes in, then `sinceMs`, the `timestamps` prefix, and `limitBytes` over everything written
 * (prefixes included), as the kubelet's log reader does. Pure.
 */
export class LogRenderer {
  private readonly q: LogQuery;
  private written = 0;
  private first = true;

  constructor(q: LogQuery) {
    this.q = q;
  }

  /** True once limitBytes is used up: nothing more will be written. */
  get full(): boolean {
    return this.q.limitBytes !== undefined && this.written >= this.q.limitBytes;
  }

  /** The bytes to send for `lines`; the first call is the initial read (tailLines applies to it). */
  render(lines: readonly LogLine[]): Buffer {
    let ls = lines;
    if (this.first) {
      this.first = false;
      if (this.q.tailLines !== undefined) ls = this.q.tailLines === 0 ? [] : ls.slice(-this.q.tailLines);
    }
    const out: Buffer[] = [];
    for (const l of ls) {
      if (this.full) break;
      if (this.q.sinceMs !== undefined && l.time < this.q.sinceMs) continue;
      let b = this.q.timestamps ? Buffer.concat([Buffer.from(`${rfc3339Nano(l.time)} `), l.text]) : l.text;
      if (this.q.limitBytes !== undefined) b = b.subarray(0, this.q.limitBytes - this.written);
      this.written += b.length;
      out.push(b);
    }
    return Buffer.concat(out);
  }
}

/** Splits bytes into lines that keep their "\n"; a trailing partial line is included when `partial`. */
export function splitLines(buf: Buffer, partial: boolean): { lines: Buffer[]; used: number } {
  const lines: Buffer[] = [];
  let at = 0;
  for (;;) {
    const nl = buf.indexOf(10, at);
    if (nl < 0) break;
    lines.push(buf.subarray(at, nl + 1));
    at = nl + 1;
  }
  if (partial && at < buf.length) {
    lines.push(buf.subarray(at));
    at = buf.length;
  }
  return { lines, used: at };
}

// ---------------------------------------------------------------------------------------------- one container's log

interface RunSegment {
  start: number;
  end: number | undefined;
  startedAt: number;
}

/**
 * The log file of one container of one pod, shared by its runs (restarts append). Knows the byte
 * range of each run it saw start (by restart count) and when each line appeared; bytes written while
 * nobody watched (before a kubelet restart) are dated at their run's start.
 */
export class ContainerLog {
  readonly path: string;
  /** Bytes indexed so far. */
  size = 0;
  private lineTimes = new Map<number, number>();
  private atLineStart = true;
  private readonly runs = new Map<number, RunSegment>();
  private current: number | undefined;
  private watcher: FSWatcher | undefined;
  private readonly listeners = new Set<() => void>();

  constructor(path: string) {
    this.path = path;
    mkdirSync(dirname(path), { recursive: true });
    closeSync(openSync(path, "a"));
  }

  /**
   * A run (restart count `index`) starts; `watchFile`: another process appends (exec). `adopted`: the
   * run began before this kubelet did (a kubelet restart), so the whole file counts as this run.
   */
  beginRun(index: number, startedAt: number, watchFile: boolean, adopted = false): void {
    this.endRun();
    this.sync(startedAt);
    this.runs.set(index, { start: adopted ? 0 : this.size, end: undefined, startedAt });
    this.current = index;
    if (watchFile) {
      try {
        this.watcher = watch(this.path, () => this.sync(Date.now()));
        this.watcher.on("error", () => this.unwatch());
      } catch {
        // Without a watcher, lines are picked up on reads and at the end of the run.
      }
    }
  }

  /** The current run (or only run `index`, if given) ended: index what it wrote, wake followers. */
  endRun(index?: number): void {
    if (this.current === undefined || (index !== undefined && index !== this.current)) return;
    this.unwatch();
    this.sync(Date.now());
    const seg = this.runs.get(this.current);
    if (seg) seg.end = this.size;
    this.current = undefined;
    this.notify();
  }

  /** Appends text written by the kubelet itself (simulated containers). */
  append(text: string, now: number): void {
    const fd = openSync(this.path, "a");
    try {
      writeSync(fd, text);
    } finally {
      closeSync(fd);
    }
    this.sync(now);
  }

  /** Indexes what was appended since the last call; wakes followers when there is something new. */
  sync(now: number): void {
    let fd: number;
    try {
      fd = openSync(this.path, "r");
    } catch {
      return;
    }
    try {
      const total = fstatSync(fd).size;
      if (total < this.size) {
        // Truncated or replaced under us: start over.
        this.size = 0;
        this.lineTimes.clear();
        this.atLineStart = true;
      }
      if (total === this.size) return;
      const buf = Buffer.alloc(total - this.size);
      const n = readSync(fd, buf, 0, buf.length, this.size);
      for (let i = 0; i < n; i++) {
        if (this.atLineStart) this.lineTimes.set(this.size + i, now);
        this.atLineStart = buf[i] === 10;
      }
      this.size += n;
    } finally {
      closeSync(fd);
    }
    this.notify();
  }

  /** The byte range of run `index`, if this kubelet saw it start. */
  segment(index: number): { start: number; end: number | undefined; startedAt: number } | undefined {
    return this.runs.get(index);
  }

  /** Whether any run was begun. */
  get started(): boolean {
    return this.runs.size > 0;
  }

  /** Whether run `index` is still being written. */
  open(index: number): boolean {
    return this.current === index;
  }

  /** The lines in [from, to) with their times; a trailing partial line only when `partial`. */
  read(from: number, to: number, partial: boolean, fallbackTime: number): { lines: LogLine[]; next: number } {
    if (to <= from) return { lines: [], next: from };
    const buf = Buffer.alloc(to - from);
    let n = 0;
    try {
      const fd = openSync(this.path, "r");
      try {
        n = readSync(fd, buf, 0, buf.length, from);
      } finally {
        closeSync(fd);
      }
    } catch {
      return { lines: [], next: from };
    }
    const { lines, used } = splitLines(buf.subarray(0, n), partial);
    let at = from;
    const out = lines.map((text) => {
      const time = this.lineTimes.get(at) ?? fallbackTime;
      at += text.length;
      return { text, time };
    });
    return { lines: out, next: from + used };
  }

  /** Calls `fn` whenever new bytes are indexed or the run ends; returns the unsubscribe. */
  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private notify(): void {
    for (const fn of [...this.listeners]) fn();
  }

  private unwatch(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }
}
