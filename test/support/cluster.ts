// Test harness: the shared control plane of a test run, per-test namespaces, and deadline polling.
//
// scripts/test.ts starts ONE control plane per profile ("apiserver" for test/integration, "full" for
// test/e2e) and passes it to every test file (each runs in its own process under node:test) through
// $JOBSET_TEST_CLUSTER_<PROFILE> (a cluster.json path) and $JOBSET_TEST_KUBECONFIG_<PROFILE>. A test
// file run on its own (`npx node --test test/integration/x.test.ts`) starts a private control plane
// instead, which ends with the process. A file that needs the Kubernetes Workload API
// (`useCluster(profile, { workloadApi: true })`) gets the shared control plane when it serves that API,
// else a private one with it (started once per process, like the above).
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { promisify } from "node:util";
import { type ControlPlane, type Profile, startControlPlane } from "../../src/local/controlplane.ts";
import { isNotFound, KubeClient } from "../../src/runtime/client.ts";
import { Resources, resourcePath } from "../../src/runtime/resources.ts";

const execFileP = promisify(execFile);

/** What a test file knows about the shared control plane (serialized as cluster.json). */
export interface ClusterInfo {
  profile: Profile;
  server: string;
  kubeconfigPath: string;
  dataDir: string;
  /** CA certificate and key: issue client certs (other users) or serving certs (webhooks) with src/pki/x509.ts loadCa. */
  caCert: string;
  caKey: string;
  binDir: string;
  /** Our kubectl (same version as the server), if the binary set has one. */
  kubectl?: string;
  /** The control plane serves the Workload API with the gang scheduler plugins (src/local/workload-api.ts). */
  workloadApi?: boolean;
}

export const envName = (kind: "CLUSTER" | "KUBECONFIG", profile: Profile) =>
  `JOBSET_TEST_${kind}_${profile.toUpperCase()}`;

export function clusterInfo(cp: ControlPlane, o: { workloadApi?: boolean } = {}): ClusterInfo {
  const info: ClusterInfo = {
    profile: cp.profile,
    server: cp.server,
    kubeconfigPath: cp.kubeconfigPath,
    dataDir: cp.dataDir,
    caCert: cp.pki.caCert,
    caKey: cp.pki.caKey,
    binDir: cp.binaries.dir,
  };
  if (cp.binaries.kubectl) info.kubectl = cp.binaries.kubectl;
  if (o.workloadApi) info.workloadApi = true;
  return info;
}

/** Writes cluster.json into the control plane's dir; returns the env vars test processes need. */
export async function exportCluster(cp: ControlPlane): Promise<Record<string, string>> {
  const path = join(cp.dataDir, "cluster.json");
  await writeFile(path, JSON.stringify(clusterInfo(cp), null, 2));
  return { [envName("CLUSTER", cp.profile)]: path, [envName("KUBECONFIG", cp.profile)]: cp.kubeconfigPath };
}

export interface TestCluster extends ClusterInfo {
  /** An admin client, shared by the test file (closed when the process ends). */
  client: KubeClient;
}

const clusters = new Map<string, Promise<TestCluster>>();

export interface UseClusterOptions {
  /** The cluster must serve the Workload API (scheduling.k8s.io/v1alpha2) with the gang plugins. */
  workloadApi?: boolean;
}

/**
 * The run's shared control plane of `profile`. Outside scripts/test.ts, or when the shared one lacks
 * what `o` asks for, starts a private one (once per process and kind) that stops when the process exits.
 */
export function useCluster(profile: Profile, o: UseClusterOptions = {}): Promise<TestCluster> {
  const workloadApi = o.workloadApi === true;
  const key = `${profile}${workloadApi ? "+workload-api" : ""}`;
  let p = clusters.get(key);
  if (!p) {
    p = (async () => {
      const path = process.env[envName("CLUSTER", profile)];
      const shared = path ? (JSON.parse(readFileSync(path, "utf8")) as ClusterInfo) : undefined;
      let info: ClusterInfo;
      if (shared && (shared.workloadApi === true) === workloadApi) info = shared;
      else {
        const cp = await startControlPlane({
          profile,
          unref: true,
          ...(workloadApi ? { workloadApi } : {}),
          log: (l) => process.stderr.write(`[control plane] ${l}\n`),
        });
        info = clusterInfo(cp, { workloadApi });
      }
      const client = await KubeClient.create({ kubeconfig: info.kubeconfigPath, userAgent: "jobset-ts-tests" });
      return { ...info, client };
    })();
    clusters.set(key, p);
  }
  return p;
}

export interface WaitOptions {
  /** Default 30 s. */
  timeoutMs?: number;
  /** Default 100 ms. */
  intervalMs?: number;
  /** What was awaited, for the timeout error. */
  message?: string;
}

/**
 * GETs `path`: the object, or undefined when the API server answers NotFound. Any other error (403,
 * 500, a refused connection) is thrown, so that a test never mistakes it for "deleted".
 */
export async function getIfExists<T>(client: Pick<KubeClient, "get">, path: string): Promise<T | undefined> {
  try {
    return await client.get<T>(path);
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

/**
 * Polls `fn` until it returns a value other than undefined, null or false, and returns that value.
 * Errors thrown by `fn` count as "not yet" (the last one is reported). Throws at the deadline.
 */
export async function waitFor<T>(
  fn: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  o: WaitOptions = {},
): Promise<T> {
  const timeoutMs = o.timeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  let lastValue: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== null && v !== false) return v;
      lastValue = v;
      lastError = undefined;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() >= deadline) {
      const why = lastError instanceof Error ? `last error: ${lastError.message}` : `last value: ${String(lastValue)}`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${o.message ?? "a condition"} (${why})`);
    }
    await new Promise((r) => setTimeout(r, o.intervalMs ?? 100));
  }
}

const slug = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 40)
    .replace(/-+$/g, "");

/**
 * Creates a namespace unique to this test (named after it) and deletes it when the test ends.
 * The namespace carries the label `jobset-ts.test/namespace=true`.
 */
export async function testNamespace(t: TestContext, cluster?: TestCluster): Promise<string> {
  const c = cluster ?? (await useCluster("apiserver"));
  const name = `${slug(t.name) || "test"}-${randomBytes(3).toString("hex")}`;
  await c.client.create(resourcePath(Resources.namespaces), {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name, labels: { "jobset-ts.test/namespace": "true" } },
  });
  t.after(async () => {
    await c.client.delete(resourcePath({ ...Resources.namespaces, name })).catch(() => {});
  });
  return name;
}

/** Runs our kubectl against the cluster; resolves with stdout, rejects with stderr on failure. */
export async function kubectl(cluster: ClusterInfo, args: string[], input?: string): Promise<string> {
  if (!cluster.kubectl) throw new Error(`no kubectl in ${cluster.binDir}`);
  const p = execFileP(cluster.kubectl, [`--kubeconfig=${cluster.kubeconfigPath}`, ...args], {
    maxBuffer: 16 << 20,
  });
  if (input !== undefined) {
    p.child.stdin?.end(input);
  }
  try {
    return (await p).stdout;
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`kubectl ${args.join(" ")} failed: ${err.stderr || err.message}`);
  }
}
