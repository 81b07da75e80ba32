// The fake kubelet's log endpoint: query decoding and validation as the kubelet's, the rendering of
// tailLines / sinceSeconds / timestamps / limitBytes, per-run segments of a container's log file, and
// the HTTPS server (errors, follow) against a stub lookup.
import assert from "node:assert/strict";
import { appendFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import https from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  ContainerLog,
  type LogLine,
  type LogQuery,
  LogRenderer,
  parseLogQuery,
  rfc3339Nano,
  splitLines,
} from "../../src/local/kubelet-logs.ts";
import { type KubeletServer, type LogLookup, startKubeletServer } from "../../src/local/kubelet-server.ts";
import { waitFor } from "../support/cluster.ts";

const NOW = Date.parse("2026-01-01T00:01:00.000Z");
const q = (s: string) => parseLogQuery(new URLSearchParams(s), NOW);
const base: LogQuery = { follow: false, previous: false, timestamps: false };

describe("parseLogQuery", () => {
  const ok: [string, Partial<LogQuery>][] = [
    ["", {}],
    ["follow=true&previous=1&timestamps=T", { follow: true, previous: true, timestamps: true }],
    ["follow", { follow: true }],
    ["follow=false", {}],
    ["tailLines=0", { tailLines: 0 }],
    ["tailLines=5", { tailLines: 5 }],
    ["tail=7", { tailLines: 7 }],
    ["tailLines=5&tail=all", {}],
    ["limitBytes=10", { limitBytes: 10 }],
    ["sinceSeconds=30", { sinceMs: NOW - 30_000 }],
    ["sinceTime=2026-01-01T00:00:10Z", { sinceMs: Date.parse("2026-01-01T00:00:10Z") }],
    ["stream=All", {}],
    ["container=main", {}],
  ];
  for (const [query, want] of ok)
    test(`?${query}`, () => assert.deepEqual(q(query), { ok: true, query: { ...base, ...want } }));

  const bad: [string, number][] = [
    ["follow=yes", 400],
    ["tailLines=x", 400],
    ["tailLines=1.5", 400],
    ["limitBytes=", 400],
    ["sinceTime=yesterday", 400],
    ["tailLines=-1", 422],
    ["limitBytes=0", 422],
    ["sinceSeconds=0", 422],
    ["sinceSeconds=5&sinceTime=2026-01-01T00:00:10Z", 422],
    ["stream=Stdout", 400],
  ];
  for (const [query, status] of bad)
    test(`?${query} → ${status}`, () => {
      const r = q(query);
      assert.equal(r.ok, false);
      if (!r.ok) assert.equal(r.status, status);
    });
  test("the kubelet's messages", () => {
    assert.deepEqual(q("tailLines=x"), { ok: false, status: 400, message: '{"message": "Unable to decode query."}' });
    assert.deepEqual(q("tailLines=-1"), { ok: false, status: 422, message: '{"message": "Invalid request."}' });
  });
});

describe("rendering", () => {
  const lines = (n: number, t0 = NOW): LogLine[] =>
    Array.from({ length: n }, (_, i) => ({ text: Buffer.from(`line ${i}\n`), time: t0 + i * 1000 }));
  const render = (over: Partial<LogQuery>, ls: LogLine[]) =>
    new LogRenderer({ ...base, ...over }).render(ls).toString();

  test("rfc3339Nano trims the fraction as Go does", () => {
    assert.equal(rfc3339Nano(Date.parse("2026-01-01T00:00:00.120Z")), "2026-01-01T00:00:00.12Z");
    assert.equal(rfc3339Nano(Date.parse("2026-01-01T00:00:00.000Z")), "2026-01-01T00:00:00Z");
    assert.equal(rfc3339Nano(Date.parse("2026-01-01T00:00:00.007Z")), "2026-01-01T00:00:00.007Z");
  });
  const cases: [string, Partial<LogQuery>, string][] = [
    ["everything", {}, "line 0\nline 1\nline 2\nline 3\n"],
    ["tailLines 2", { tailLines: 2 }, "line 2\nline 3\n"],
    ["tailLines 0", { tailLines: 0 }, ""],
    ["tailLines beyond the length", { tailLines: 10 }, "line 0\nline 1\nline 2\nline 3\n"],
    ["limitBytes cuts inside a line", { limitBytes: 10 }, "line 0\nlin"],
    ["tailLines then limitBytes", { tailLines: 1, limitBytes: 3 }, "lin"],
    ["sinceMs drops older lines", { sinceMs: NOW + 2000 }, "line 2\nline 3\n"],
    [
      "timestamps prefix each line",
      { timestamps: true, tailLines: 2 },
      "2026-01-01T00:01:02Z line 2\n2026-01-01T00:01:03Z line 3\n",
    ],
    ["limitBytes counts the timestamps", { timestamps: true, limitBytes: 12 }, "2026-01-01T0"],
  ];
  for (const [name, over, want] of cases) test(name, () => assert.equal(render(over, lines(4)), want));

  test("tailLines applies to the initial read only; limitBytes to everything written", () => {
    const r = new LogRenderer({ ...base, tailLines: 1, limitBytes: 13 });
    assert.equal(r.render(lines(3)).toString(), "line 2\n");
    assert.equal(r.full, false);
    assert.equal(r.render(lines(2)).toString(), "line 0");
    assert.equal(r.full, true);
    assert.equal(r.render(lines(2)).toString(), "");
  });

  test("splitLines keeps newlines; the partial tail only on request", () => {
    const b = Buffer.from("a\nbb\nc");
    assert.deepEqual(
      splitLines(b, false).lines.map((l) => l.toString()),
      ["a\n", "bb\n"],
    );
    assert.equal(splitLines(b, false).used, 5);
    assert.deepEqual(
      splitLines(b, true).lines.map((l) => l.toString()),
      ["a\n", "bb\n", "c"],
    );
    assert.equal(splitLines(b, true).used, 6);
  });
});

describe("ContainerLog", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "kubelet-logs-"));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test("runs are byte ranges of one file; lines keep the time they were indexed at", () => {
    const log = new ContainerLog(join(dir, "a", "main.log"));
    log.beginRun(0, 1000, false);
    log.append("one\n", 1100);
    appendFileSync(log.path, "two\npart"); // another process writing
    log.sync(1200);
    assert.equal(log.open(0), true);
    const r = log.read(0, log.size, false, 0);
    assert.deepEqual(
      r.lines.map((l) => [l.text.toString(), l.time]),
      [
        ["one\n", 1100],
        ["two\n", 1200],
      ],
    );
    assert.equal(r.next, 8);
    appendFileSync(log.path, "ial\n");
    log.endRun(0);
    assert.equal(log.open(0), false);
    assert.deepEqual(log.segment(0), { start: 0, end: 16, startedAt: 1000 });
    const again = log.read(8, 16, true, 0);
    assert.equal(again.lines[0]?.text.toString(), "partial\n");
    assert.equal(again.lines[0]?.time, 1200, "a line's time is when it started");

    log.beginRun(1, 2000, false);
    log.append("second run\n", 2100);
    log.endRun(0); // not the current run: ignored
    assert.equal(log.open(1), true);
    log.endRun(1);
    assert.deepEqual(log.segment(1), { start: 16, end: 27, startedAt: 2000 });
  });

  test("an adopted run covers the file so far, dated at the run's start", () => {
    const path = join(dir, "b", "main.log");
    new ContainerLog(path).append("before restart\n", 5);
    const log = new ContainerLog(path);
    log.beginRun(3, 777, false, true);
    assert.deepEqual(log.segment(3), { start: 0, end: undefined, startedAt: 777 });
    assert.equal(log.read(0, log.size, true, 0).lines[0]?.time, 777);
  });

  test("subscribers hear about appends and the end of the run", () => {
    const log = new ContainerLog(join(dir, "c", "main.log"));
    log.beginRun(0, 0, false);
    let calls = 0;
    const off = log.subscribe(() => calls++);
    log.append("x\n", 1);
    log.endRun();
    off();
    log.append("y\n", 2);
    assert.equal(calls, 2);
  });
});

describe("kubelet log server", () => {
  let dir: string;
  let server: KubeletServer;
  let log: ContainerLog;
  let lookup: LogLookup = () => ({ status: 404, message: "unset" });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "kubelet-server-"));
    log = new ContainerLog(join(dir, "main.log"));
    server = await startKubeletServer((...a) => lookup(...a));
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  function get(path: string, onData?: (chunk: string) => void): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = https.get({ host: "127.0.0.1", port: server.port, path, ca: server.caCert }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => {
          body += c;
          onData?.(c);
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        res.on("error", reject);
      });
      req.on("error", reject);
    });
  }

  test("the serving certificate is for 127.0.0.1 and verifies against the CA", async () => {
    const r = await get("/healthz");
    assert.deepEqual(r, { status: 200, body: "ok" });
  });

  test("unknown paths, pods and containers: 404 with the kubelet's text; bad queries: 400/422", async () => {
    lookup = (_ns, pod, container) =>
      pod === "p"
        ? { status: 404, message: `container "${container}" not found in pod "${pod}"` }
        : { status: 404, message: `pod "${pod}" does not exist` };
    assert.deepEqual(await get("/nope"), { status: 404, body: "404 page not found\n" });
    assert.deepEqual(await get("/containerLogs/ns/q/main"), { status: 404, body: 'pod "q" does not exist\n' });
    assert.deepEqual(await get("/containerLogs/ns/p/side"), {
      status: 404,
      body: 'container "side" not found in pod "p"\n',
    });
    assert.deepEqual(await get("/containerLogs/ns/p/main?tailLines=-2"), {
      status: 422,
      body: '{"message": "Invalid request."}\n',
    });
    assert.equal((await get("/containerLogs/ns/p/main?limitBytes=abc")).status, 400);
  });

  test("a run's lines with tailLines and limitBytes; previous without a recorded run: 400", async () => {
    log.beginRun(0, Date.now(), false);
    log.append("a\nb\nc\n", Date.now());
    log.endRun(0);
    log.beginRun(1, Date.now(), false);
    log.append("d\ne\n", Date.now());
    log.endRun(1);
    lookup = (_ns, _pod, _c, previous) => ({ log, run: previous ? 0 : 1, fallbackTime: 0 });
    assert.deepEqual(await get("/containerLogs/ns/p/main"), { status: 200, body: "d\ne\n" });
    assert.deepEqual(await get("/containerLogs/ns/p/main?previous=true"), { status: 200, body: "a\nb\nc\n" });
    assert.deepEqual(await get("/containerLogs/ns/p/main?previous=true&tailLines=1"), { status: 200, body: "c\n" });
    assert.deepEqual(await get("/containerLogs/ns/p/main?limitBytes=3"), { status: 200, body: "d\ne" });
    lookup = () => ({ log, run: 7, fallbackTime: 0 });
    assert.deepEqual(await get("/containerLogs/ns/p/main?previous=true"), {
      status: 400,
      body: 'previous terminated container "main" in pod "p_ns" not found\n',
    });
  });

  test("follow streams lines as they are appended and ends with the run", async () => {
    const flog = new ContainerLog(join(dir, "follow.log"));
    flog.beginRun(0, Date.now(), false);
    flog.append("first\n", Date.now());
    lookup = () => ({ log: flog, run: 0, fallbackTime: 0 });
    const seen: string[] = [];
    const done = get("/containerLogs/ns/p/main?follow=true", (c) => seen.push(c));
    await waitFor(() => seen.join("") === "first\n", { timeoutMs: 5000, message: "the first line" });
    flog.append("second\nhalf", Date.now());
    await waitFor(() => seen.join("") === "first\nsecond\n", { timeoutMs: 5000, message: "the second line" });
    flog.endRun(0);
    assert.deepEqual(await done, { status: 200, body: "first\nsecond\nhalf" });
  });

  test("follow with limitBytes ends once the limit is reached", async () => {
    const flog = new ContainerLog(join(dir, "limit.log"));
    flog.beginRun(0, Date.now(), false);
    lookup = () => ({ log: flog, run: 0, fallbackTime: 0 });
    const done = get("/containerLogs/ns/p/main?follow=true&limitBytes=5");
    flog.append("abc\n", Date.now());
    flog.append("defgh\n", Date.now());
    assert.deepEqual(await done, { status: 200, body: "abc\nd" });
    assert.equal(flog.open(0), true);
    flog.endRun(0);
  });
});
