// The controller under benchmark, in its own process so that its CPU time and peak RSS are its own.
// Runs the compiled controller from dist/ (`npm run build`), in one of two modes:
//
//   deployed (default)  `jobset controller` itself, loaded from the bundle dist/bundle/jobset.js as the
//                       container image runs it (the CLI's command table loads the controller's chunk;
//                       a build without a bundle: dist/src/cli/controller.js), as deployed: admission
//                       webhooks on (registered at --webhook-url with their own certificates), the pod
//                       informer on, logging flags as shipped (upstream's development defaults), leader
//                       election off, /metrics over plain HTTP on 127.0.0.1; the
//                       counters below are read from its /metrics (rest_client_*, controller_runtime_*).
//   upstream            upstream's own controller (sigs.k8s.io/jobset v0.12.0's main, built by the driver from
//                       the Go module proxy: --upstream-bin) as a child process, configured as its manifests
//                       deploy it but with internal certificate management off: webhooks served from
//                       --cert-dir (the driver registers them), leader election off, its /metrics (HTTPS
//                       with authentication, as upstream ships it) read with the bearer token in
//                       --metrics-token. CPU seconds and peak RSS are that process's, from /proc.
//   library             startControllerManager with a short informer resync (--resync-ms), no webhooks:
//                       the steady-state scenario (the deployed command has no resync flag). From the
//                       tsc emit dist/src/: the bundle exports only the CLI. (The scenario counts
//                       requests; its RSS and CPU are not those of the shipped process.)
//
// It talks JSON lines: commands on stdin, answers on file descriptor 3 (stdout carries the controller's
// own logs, which the driver discards):
//
//   fd 3   {"type":"ready"}                      caches synced, webhooks serving (deployed), workers running
//   stdin  report                                → fd 3 {"type":"report", ...Report}
//   stdin  stop (or SIGTERM)                     → stops, then fd 3 {"type":"final", ...Report}, exit 0
//
// Usage: npx node bench/runner.ts --kubeconfig PATH [--mode deployed|library|upstream] [--resync-ms N]
//        [--upstream-bin PATH --cert-dir DIR --metrics-token FILE]
//        [--namespace NS] [--workers N] [--qps N] [--cpu-prof PATH] [--dist DIR] [--webhook-port N --metrics-port N --health-port N]
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

export interface RunnerReport {
  /** process.cpuUsage() of this process, seconds (user + system). */
  cpuSeconds: number;
  cpuUserSeconds: number;
  cpuSystemSeconds: number;
  /** process.resourceUsage().maxRSS: peak resident set size, MiB. */
  peakRssMiB: number;
  /** Current RSS and V8 heap used, MiB. */
  rssMiB: number;
  heapUsedMiB: number;
  /** The controller client's requests by HTTP method (watches and list pages are GETs). */
  requests: Record<string, number>;
  /** The same requests by the answer's status code (from /metrics; absent in the library mode). */
  requestsByCode?: Record<string, number>;
  /** Every request: summed seconds to the answer's status line (watches: to the stream's start), summed rate-limiter waits. */
  latency: { requests: number; seconds: number; rateLimiterSeconds: number };
  /** Reconciles and reconcile errors of the JobSet controller. */
  stats: Record<string, number>;
}

const { values } = parseArgs({
  options: {
    kubeconfig: { type: "string" },
    mode: { type: "string", default: "deployed" },
    "resync-ms": { type: "string" },
    namespace: { type: "string" },
    "cpu-prof": { type: "string" },
    workers: { type: "string" },
    qps: { type: "string" },
    "webhook-port": { type: "string", default: "9443" },
    "metrics-port": { type: "string", default: "18080" },
    "health-port": { type: "string", default: "18081" },
    dist: { type: "string" },
    "upstream-bin": { type: "string" },
    "cert-dir": { type: "string" },
    "metrics-token": { type: "string" },
  },
});
if (!values.kubeconfig) throw new Error("--kubeconfig is required");
// --dist: another build's dist/ (the "before" figures of docs/benchmarks.md came from the base commit's)
// (the benchmark always passes it: it runs this file as JavaScript from a temporary directory)
const distDir = values.dist ? pathToFileURL(join(values.dist, "/")) : new URL("../dist/", import.meta.url);
const dist = new URL("src/", distDir);
const bundle = new URL("bundle/jobset.js", distDir);

let profiler: Session | undefined;
if (values["cpu-prof"]) {
  profiler = new Session();
  profiler.connect();
  await profiler.post("Profiler.enable");
  await profiler.post("Profiler.start");
}

const MiB = 1024 * 1024;
const say = (o: object) => writeSync(3, `${JSON.stringify(o)}\n`);

function processFigures() {
  const cpu = process.cpuUsage();
  const mem = process.memoryUsage();
  return {
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    cpuUserSeconds: cpu.user / 1e6,
    cpuSystemSeconds: cpu.system / 1e6,
    peakRssMiB: (process.resourceUsage().maxRSS * 1024) / MiB,
    rssMiB: mem.rss / MiB,
    heapUsedMiB: mem.heapUsed / MiB,
  };
}

interface Mode {
  report(): Promise<RunnerReport>;
  stop(): Promise<void>;
}

/** Prometheus text: the summed value of every sample of `name` whose labels contain `match`, grouped by `by`. */
function samples(text: string, name: string, by?: string, match: Record<string, string> = {}): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-z_]+)(?:\{([^}]*)\})? ([^ ]+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(/([a-z_]+)="([^"]*)"/g)) labels[l[1] ?? ""] = l[2] ?? "";
    if (Object.entries(match).some(([k, v]) => labels[k] !== v)) continue;
    const key = by ? (labels[by] ?? "") : "";
    out[key] = (out[key] ?? 0) + Number(m[3]);
  }
  return out;
}

// node:http taken as the controller takes it (src/runtime/node-http.ts): `fetch` or an ESM import of node:http
// would load Node's internal undici into the measured process (≈ 13 MiB, ≈ 50 ms CPU), which the deployed
// controller never loads.
const http = process.getBuiltinModule("node:http");

/** GET, the answer as text; with `bearer`, over HTTPS with that token (upstream's self-signed metrics server). */
function get(url: string, bearer?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const done = (res: import("node:http").IncomingMessage) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => {
        text += c;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
      res.on("error", reject);
    };
    const req =
      bearer === undefined
        ? http.get(url, done)
        : process
            .getBuiltinModule("node:https")
            .get(url, { headers: { authorization: `Bearer ${bearer}` }, rejectUnauthorized: false }, done);
    req.on("error", reject);
  });
}

/** Polls the health port's /readyz until it answers 200; `exited` names why to give up. */
async function waitReady(exited: () => string | undefined): Promise<void> {
  for (;;) {
    const why = exited();
    if (why) throw new Error(why);
    try {
      if ((await get(`http://127.0.0.1:${values["health-port"]}/readyz`)).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The counters of a report, from a controller's /metrics text (the same metric names in ours and upstream's). */
function fromMetrics(text: string): Pick<RunnerReport, "requests" | "requestsByCode" | "latency" | "stats"> {
  const reconciles = samples(text, "controller_runtime_reconcile_total", "result", { controller: "jobset" });
  return {
    requests: samples(text, "rest_client_requests_total", "method"),
    requestsByCode: samples(text, "rest_client_requests_total", "code"),
    latency: {
      requests: samples(text, "rest_client_request_duration_seconds_count")[""] ?? 0,
      seconds: samples(text, "rest_client_request_duration_seconds_sum")[""] ?? 0,
      rateLimiterSeconds: samples(text, "rest_client_rate_limiter_duration_seconds_sum")[""] ?? 0,
    },
    stats: {
      reconciles: Object.values(reconciles).reduce((s, n) => s + n, 0),
      errors: reconciles.error ?? 0,
    },
  };
}

/** `jobset controller`'s entry point: from the bundle as the image runs it (its chunk, loaded as the CLI loads it). */
async function loadController(): Promise<(argv: string[]) => Promise<number>> {
  if (existsSync(bundle)) {
    const { commands } = (await import(bundle.href)) as typeof import("../src/cli/jobset.ts");
    const command = commands.find((c) => c.name === "controller");
    if (!command) throw new Error(`${bundle.href}: no controller command`);
    return command.load();
  }
  return ((await import(new URL("cli/controller.js", dist).href)) as typeof import("../src/cli/controller.ts"))
    .controller;
}

async function deployed(): Promise<Mode> {
  const controller = await loadController();
  const dir = mkdtempSync(join(tmpdir(), "jobset-bench-runner-"));
  const config = join(dir, "config.yaml");
  writeFileSync(
    config,
    [
      "apiVersion: config.jobset.x-k8s.io/v1alpha1",
      "kind: Configuration",
      `webhook: {host: 127.0.0.1, port: ${values["webhook-port"]}}`,
      "",
    ].join("\n"),
  );
  const args = [
    "--config",
    config,
    "--kubeconfig",
    values.kubeconfig ?? "",
    "--leader-elect=false",
    `--webhook-url=https://127.0.0.1:${values["webhook-port"]}`,
    "--metrics-secure=false",
    `--metrics-bind-address=127.0.0.1:${values["metrics-port"]}`,
    `--health-probe-bind-address=127.0.0.1:${values["health-port"]}`,
    ...(values.namespace ? ["--namespace", values.namespace] : []),
    ...(values.workers ? ["--workers", values.workers] : []),
    ...(values.qps ? ["--kube-api-qps", values.qps, "--kube-api-burst", values.qps] : []),
  ];
  const done = controller(args);
  let exited = false;
  void done.finally(() => {
    exited = true;
  });
  /** /metrics, retried: on a loaded machine a connection may be reset. */
  const scrape = async (): Promise<string> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return (await get(`http://127.0.0.1:${values["metrics-port"]}/metrics`)).text;
      } catch (e) {
        if (attempt >= 10) throw e;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  };
  await waitReady(() => (exited ? "the controller exited before it was ready" : undefined));
  return {
    async report() {
      return { ...processFigures(), ...fromMetrics(await scrape()) };
    },
    async stop() {
      process.kill(process.pid, "SIGTERM"); // the controller's own graceful shutdown
      await done;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** CPU seconds and RSS of another process, from /proc (clock ticks of 1/100 s, as on Linux). */
function procFigures(pid: number) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const user = Number(fields[11]) / 100; // utime: field 14 of stat(5)
  const system = Number(fields[12]) / 100; // stime: field 15
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0);
  return {
    cpuSeconds: user + system,
    cpuUserSeconds: user,
    cpuSystemSeconds: system,
    peakRssMiB: (kib("VmHWM") * 1024) / MiB,
    rssMiB: (kib("VmRSS") * 1024) / MiB,
    heapUsedMiB: 0, // not a V8 process
  };
}

async function upstream(): Promise<Mode> {
  const bin = values["upstream-bin"];
  const certDir = values["cert-dir"];
  const tokenFile = values["metrics-token"];
  if (!bin || !certDir || !tokenFile)
    throw new Error("--mode upstream needs --upstream-bin, --cert-dir and --metrics-token");
  const dir = mkdtempSync(join(tmpdir(), "jobset-bench-upstream-"));
  const config = join(dir, "config.yaml");
  writeFileSync(
    config,
    [
      "apiVersion: config.jobset.x-k8s.io/v1alpha1",
      "kind: Configuration",
      "leaderElection:",
      "  leaderElect: false",
      "internalCertManagement:",
      "  enable: false",
      "webhook:",
      "  host: 127.0.0.1",
      `  port: ${values["webhook-port"]}`,
      `  certDir: ${certDir}`,
      "metrics:",
      `  bindAddress: 127.0.0.1:${values["metrics-port"]}`,
      "health:",
      `  healthProbeBindAddress: 127.0.0.1:${values["health-port"]}`,
      "",
    ].join("\n"),
  );
  // its logs (zap, development mode as shipped) go where the deployed controller's go: discarded
  const child = spawn(bin, ["--config", config, "--kubeconfig", values.kubeconfig ?? ""], {
    stdio: ["ignore", "ignore", "ignore"],
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`cannot start ${bin}`);
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  let exitCode: number | null | undefined;
  void exited.then((c) => {
    exitCode = c;
  });
  const token = readFileSync(tokenFile, "utf8").trim();
  await waitReady(() =>
    exitCode !== undefined ? `upstream's controller exited before it was ready (code ${exitCode})` : undefined,
  );
  // Its readiness means the webhooks serve; its controllers start once their caches synced, which with
  // nothing to list takes well under a second. (Ours reports ready only then.)
  await new Promise((r) => setTimeout(r, 1000));
  return {
    async report() {
      const r = await get(`https://127.0.0.1:${values["metrics-port"]}/metrics`, token);
      if (r.status !== 200) throw new Error(`upstream's /metrics answered ${r.status}: ${r.text.slice(0, 200)}`);
      return { ...procFigures(pid), ...fromMetrics(r.text) };
    },
    async stop() {
      child.kill("SIGTERM");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function library(): Promise<Mode> {
  const { startControllerManager } = (await import(
    new URL("app/controller-manager.js", dist).href
  )) as typeof import("../src/app/controller-manager.ts");
  const { silentLogger } = (await import(
    new URL("runtime/logger.js", dist).href
  )) as typeof import("../src/runtime/logger.ts");
  const running = await startControllerManager({
    client: { kubeconfig: values.kubeconfig ?? "", userAgent: "jobset-bench-controller" },
    telemetry: { logger: silentLogger() },
    ...(values.namespace ? { namespace: values.namespace } : {}),
    jobset: {
      ...(values.workers ? { workers: Number(values.workers) } : {}),
      ...(values["resync-ms"] ? { resyncPeriodMs: Number(values["resync-ms"]) } : {}),
    },
  });
  const latency = { requests: 0, seconds: 0, rateLimiterSeconds: 0 };
  running.client.requestObservers.push((r) => {
    latency.requests++;
    latency.seconds += r.seconds;
    latency.rateLimiterSeconds += r.rateLimiterSeconds;
  });
  return {
    report: () =>
      Promise.resolve({
        ...processFigures(),
        requests: { ...running.client.requestCounts },
        latency: { ...latency },
        stats: { ...running.controller.stats },
      }),
    stop: () => running.stop(),
  };
}

const mode =
  values.mode === "library" ? await library() : values.mode === "upstream" ? await upstream() : await deployed();

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  const final = await mode.report(); // before shutdown traffic
  if (profiler && values["cpu-prof"]) {
    const { profile } = await profiler.post("Profiler.stop");
    writeFileSync(values["cpu-prof"], JSON.stringify(profile));
  }
  await mode.stop();
  say({ type: "final", ...final });
  process.exit(0);
}

if (values.mode !== "deployed") {
  process.on("SIGTERM", () => void stop());
  process.on("SIGINT", () => void stop());
}
const rl = createInterface({ input: process.stdin });
rl.on("line", (line) => {
  const cmd = line.trim();
  if (cmd === "report") void mode.report().then((r) => say({ type: "report", ...r }));
  else if (cmd === "stop") void stop();
});
rl.on("close", () => void stop());
say({ type: "ready" });
