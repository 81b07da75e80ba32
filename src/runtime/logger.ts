// Structured logging on pino: JSON lines by default (like controller-runtime's zap production encoder),
// or a compact single-line "console" format for people at a terminal. Child loggers carry
// controller / namespace / name / reconcileID. Credentials never reach the output: known secret-bearing
// fields are redacted.
import { randomUUID } from "node:crypto";
import { type DestinationStream, type Logger, type LoggerOptions, pino } from "pino";

export type { Logger } from "pino";

export type LogFormat = "json" | "console";

export interface LoggerConfig {
  /** pino level name (trace, debug, info, warn, error, fatal, silent) or a zap-style verbosity number. */
  level?: string | number;
  name?: string;
  format?: LogFormat;
  /** Where lines go; default: stderr (as zap does). */
  destination?: { write(line: string): unknown };
}

/** Field paths that may hold credentials: their values are replaced by `[REDACTED]`. */
export const redactedPaths: readonly string[] = [
  "token",
  "*.token",
  "bearerToken",
  "*.bearerToken",
  "password",
  "*.password",
  "authorization",
  "*.authorization",
  "headers.authorization",
  "*.headers.authorization",
  "headers.cookie",
  "*.headers.cookie",
  "client-key-data",
  "*.client-key-data",
  "keyData",
  "*.keyData",
  "privateKey",
  "*.privateKey",
  "tls.key",
  "*.tls.key",
  "secret.data",
  "secret.stringData",
];

/**
 * Maps a level setting to pino: names pass through; numbers follow zap's `--zap-log-level`
 * (0 → info, ≥1 → debug, ≥5 → trace; negative → warn/error).
 */
export function parseLogLevel(level: string | number | undefined): string {
  if (level === undefined || level === "") return "info";
  const n = typeof level === "number" ? level : /^-?\d+$/.test(level) ? Number(level) : Number.NaN;
  if (Number.isNaN(n)) {
    const s = String(level).toLowerCase();
    if (s === "panic" || s === "dpanic") return "fatal";
    if (["trace", "debug", "info", "warn", "error", "fatal", "silent"].includes(s)) return s;
    throw new Error(`unknown log level ${JSON.stringify(level)}`);
  }
  if (n >= 5) return "trace";
  if (n >= 1) return "debug";
  if (n === 0) return "info";
  return n === -1 ? "warn" : "error";
}

const levelNames: Record<number, string> = {
  10: "TRACE",
  20: "DEBUG",
  30: "INFO",
  40: "WARN",
  50: "ERROR",
  60: "FATAL",
};

function formatValue(v: unknown): string {
  if (typeof v === "string") return /[\s"=]/.test(v) || v === "" ? JSON.stringify(v) : v;
  return JSON.stringify(v) ?? String(v);
}

/** Turns one pino JSON line into `time LEVEL logger msg key=value ...` (plus an error stack, if any). */
export function formatConsoleLine(line: string): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.endsWith("\n") ? line : `${line}\n`;
  }
  const { time, level, logger, msg, err, pid: _pid, hostname: _host, ...rest } = rec;
  const lvl = typeof level === "number" ? (levelNames[level] ?? String(level)) : String(level ?? "").toUpperCase();
  const parts = [String(time ?? ""), lvl.padEnd(5)];
  if (logger) parts.push(String(logger));
  if (msg !== undefined) parts.push(String(msg));
  for (const [k, v] of Object.entries(rest)) parts.push(`${k}=${formatValue(v)}`);
  let out = parts.join(" ");
  if (err && typeof err === "object") {
    const e = err as { message?: unknown; stack?: unknown };
    out += ` error=${formatValue(String(e.message ?? ""))}`;
    if (typeof e.stack === "string") out += `\n${e.stack}`;
  }
  return `${out}\n`;
}

/** Creates the process logger. */
export function createLogger(config: LoggerConfig = {}): Logger {
  const opts: LoggerOptions = {
    level: parseLogLevel(config.level),
    base: config.name ? { logger: config.name } : {}, // "name" is the object's name (zap convention)
    timestamp: pino.stdTimeFunctions.isoTime,
    messageKey: "msg",
    formatters: { level: (label) => ({ level: label }) },
    errorKey: "err",
    redact: { paths: [...redactedPaths], censor: "[REDACTED]" },
    serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
  };
  const out = config.destination ?? process.stderr;
  const dest: DestinationStream =
    config.format === "console"
      ? { write: (line: string) => void out.write(formatConsoleLine(line)) }
      : { write: (line: string) => void out.write(line) };
  return pino(opts, dest);
}

/** A logger that discards everything (tests, libraries used without a logger). */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}

export interface ReconcileLogContext {
  controller: string;
  namespace?: string;
  name: string;
  reconcileID?: string;
}

/** A child logger for one reconcile: controller, namespace, name and a fresh reconcileID. */
export function reconcileLogger(base: Logger, ctx: ReconcileLogContext): Logger {
  const fields: Record<string, string> = { controller: ctx.controller };
  if (ctx.namespace) fields.namespace = ctx.namespace;
  fields.name = ctx.name;
  fields.reconcileID = ctx.reconcileID ?? randomUUID();
  return base.child(fields);
}
