// `jobset controller` as a child process for process-level tests: spawn with captured output and
// parsed JSON log lines, signal and wait for exit with a deadline, HTTPS/HTTP reads of its servers,
// Prometheus text samples, and a ServiceAccount token allowed (or not) to read /metrics.
import { type ChildProcess, spawn } from "node:child_process";
import { request as httpsRequest } from "node:https";
import type { TestContext } from "node:test";
import { fileURLToPath } from "node:url";
import type { KubeClient } from "../../src/runtime/client.ts";

export { freePort } from "../../src/local/controlplane.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ControllerProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** The JSON log lines so far (non-JSON lines are skipped). */
  logs(): Record<string, unknown>[];
  /** The first log line with this `msg` (and these fields), if any. */
  findLog(msg: string | RegExp, fields?: Record<string, unknown>): Record<string, unknown> | undefined;
  readonly exited: Promise<Exit>;
  /** Sends `signal` and waits up to `timeoutMs` for the exit (rejects on timeout). */
  stop(signal: NodeJS.Signals, timeoutMs?: number): Promise<Exit>;
}

/**
 * Spawns `jobset controller <args>` (JSON logs unless args say otherwise). The process is SIGKILLed when
 * the test ends if it is still running.
 */
export function spawnController(t: TestContext | undefined, args: string[]): ControllerProcess {
  const child = spawn(process.execPath, ["bin/jobset.js", "controller", ...args], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout?.on("data", (d) => {
    out += String(d);
  });
  child.stderr?.on("data", (d) => {
    out += String(d);
  });
  const exited = new Promise<Exit>((resolve) => {
    child.on("exit", (code, signal) => resolve({ code, signal }));
  });
  const logs = () =>
    out
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as Record<string, unknown>];
        } catch {
          return [];
        }
      });
  const p: ControllerProcess = {
    child,
    pid: child.pid ?? 0,
    output: () => out,
    logs,
    findLog: (msg, fields = {}) =>
      logs().find(
        (l) =>
          (typeof msg === "string" ? l.msg === msg : msg.test(String(l.msg))) &&
          Object.entries(fields).every(([k, v]) => l[k] === v),
      ),
    exited,
    stop: async (signal, timeoutMs = 20_000) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      let timer: NodeJS.Timeout | undefined;
      const r = await Promise.race([
        exited,
        new Promise<"timeout">((res) => {
          timer = setTimeout(() => res("timeout"), timeoutMs);
        }),
      ]);
      clearTimeout(timer);
      if (r === "timeout")
        throw new Error(`controller ${child.pid} did not exit within ${timeoutMs} ms after ${signal}`);
      return r;
    },
  };
  t?.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
  return p;
}

export interface HttpAnswer {
  status: number;
  body: string;
}

/** GET over HTTPS without verifying the (self-signed) server certificate; optional bearer token. */
export function httpsGet(url: string, token?: string): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      url,
      {
        method: "GET",
        rejectUnauthorized: false,
        headers: token ? { authorization: `Bearer ${token}` } : {},
        timeout: 10_000,
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => {
          body += d;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on("error", reject);
    req.end();
  });
}

/**
 * Sum of the samples of metric `name` in Prometheus text whose labels include `labels` (a label given
 * as `!value` must differ from value). 0 when there are none.
 */
export function metricSum(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const have: Record<string, string> = {};
    for (const lm of (m[3] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      have[lm[1] as string] = lm[2] as string;
    }
    const ok = Object.entries(labels).every(([k, v]) => (v.startsWith("!") ? have[k] !== v.slice(1) : have[k] === v));
    if (ok) sum += Number(m[4]);
  }
  return sum;
}

/**
 * A ServiceAccount in `namespace` and a token for it (an hour) from the TokenRequest API. With
 * `canReadMetrics`, a ClusterRole allowing `get` on the non-resource URL /metrics is bound to it (both
 * removed by `t.after`: when the test ends; the benchmark, whose control plane goes away, passes a no-op).
 */
export async function serviceAccountToken(
  t: { after(fn: () => Promise<void>): void },
  client: KubeClient,
  namespace: string,
  name: string,
  canReadMetrics: boolean,
): Promise<string> {
  await client.create(`/api/v1/namespaces/${namespace}/serviceaccounts`, {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: { name },
  });
  if (canReadMetrics) {
    const role = `${namespace}-${name}-metrics-reader`;
    await client.create("/apis/rbac.authorization.k8s.io/v1/clusterroles", {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: role },
      rules: [{ nonResourceURLs: ["/metrics"], verbs: ["get"] }],
    });
    await client.create("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: role },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role },
      subjects: [{ kind: "ServiceAccount", name, namespace }],
    });
    t.after(async () => {
      await client.delete(`/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/${role}`).catch(() => undefined);
      await client.delete(`/apis/rbac.authorization.k8s.io/v1/clusterroles/${role}`).catch(() => undefined);
    });
  }
  const tr = await client.create<{ status?: { token?: string } }>(
    `/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`,
    { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { expirationSeconds: 3600 } },
  );
  const token = tr.status?.token;
  if (!token) throw new Error(`no token in the TokenRequest answer for ${namespace}/${name}`);
  return token;
}
