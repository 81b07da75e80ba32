import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createLogger, formatConsoleLine, parseLogLevel, reconcileLogger } from "../../src/runtime/logger.ts";

const capture = (format?: "json" | "console") => {
  const lines: string[] = [];
  const log = createLogger({ name: "jobset", format, level: "debug", destination: { write: (s) => lines.push(s) } });
  return { log, lines };
};

describe("logger", () => {
  for (const [input, want] of [
    [undefined, "info"],
    ["debug", "debug"],
    ["0", "info"],
    [2, "debug"],
    ["5", "trace"],
    ["-1", "warn"],
    [-2, "error"],
    ["panic", "fatal"],
  ] as const) {
    test(`level ${JSON.stringify(input)} → ${want}`, () => assert.equal(parseLogLevel(input), want));
  }
  test("unknown level names are rejected", () => assert.throws(() => parseLogLevel("loud"), /unknown log level/));

  test("JSON lines with level names, logger name and reconcile fields", () => {
    const { log, lines } = capture();
    reconcileLogger(log, { controller: "jobset", namespace: "ns", name: "js", reconcileID: "r1" }).info("hello");
    const rec = JSON.parse(lines[0] ?? "{}") as Record<string, unknown>;
    assert.equal(rec.level, "info");
    assert.equal(rec.logger, "jobset");
    assert.equal(rec.msg, "hello");
    assert.deepEqual([rec.controller, rec.namespace, rec.name, rec.reconcileID], ["jobset", "ns", "js", "r1"]);
    assert.match(String(rec.time), /^\d{4}-\d\d-\d\dT/);
  });

  test("a fresh reconcileID per reconcile logger", () => {
    const { log, lines } = capture();
    reconcileLogger(log, { controller: "c", name: "a" }).info("x");
    reconcileLogger(log, { controller: "c", name: "a" }).info("x");
    const ids = lines.map((l) => (JSON.parse(l) as { reconcileID: string }).reconcileID);
    assert.notEqual(ids[0], ids[1]);
  });

  test("credentials are redacted", () => {
    const { log, lines } = capture();
    log.info({ token: "s3cret", headers: { authorization: "Bearer s3cret" }, user: { password: "s3cret" } }, "m");
    assert.doesNotMatch(lines.join(""), /s3cret/);
    assert.match(lines.join(""), /\[REDACTED\]/);
  });

  test("console format: one line with time, level, logger, message and fields", () => {
    const { log, lines } = capture("console");
    log.child({ controller: "jobset" }).warn({ attempt: 2, note: "a b" }, "retrying");
    assert.equal(lines.length, 1);
    assert.match(lines[0] ?? "", /^\S+ WARN {2}jobset retrying controller=jobset attempt=2 note="a b"\n$/);
  });

  test("console format keeps non-JSON input and shows errors", () => {
    assert.equal(formatConsoleLine("plain"), "plain\n");
    const out = formatConsoleLine(
      JSON.stringify({ time: "t", level: "error", msg: "m", err: { message: "boom", stack: "Error: boom\n  at x" } }),
    );
    assert.match(out, /^t ERROR m error=boom\nError: boom\n {2}at x\n$/);
  });
});
