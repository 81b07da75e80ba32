// Upstream's webhook server (test/support/upstream-webhook: sigs.k8s.io/jobset v0.12.0 on controller-runtime,
// in Go) built with the machine's `go` and started on 127.0.0.1 with a throwaway serving certificate; and
// upstream's whole controller manager (the module's own main package) for the controller benchmark. The
// first build downloads the modules from the Go module proxy and compiles for a few minutes (progress on
// stderr); Go's build cache makes later builds take seconds.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { freePort } from "../../src/local/ports.ts";
import { createCa, issueServingCert } from "../../src/pki/x509.ts";

const source = fileURLToPath(new URL("./upstream-webhook/", import.meta.url));

export interface UpstreamWebhook {
  port: number;
  url: string;
  pid: number;
  /** PEM of the CA that signed its serving certificate. */
  caPem: string;
  stop(): Promise<void>;
}

const built = new Map<string, string>();
/** `go build` of `pkg` in the helper module (once per process); the binary's path; throws with go's own message. */
function goBuild(pkg: string, name: string, what: string): string {
  const done = built.get(pkg);
  if (done) return done;
  const bin = join(tmpdir(), `${name}-${process.getuid?.() ?? 0}`);
  process.stderr.write(`building ${what} (sigs.k8s.io/jobset v0.12.0; the first build takes minutes)…\n`);
  const r = spawnSync("go", ["build", "-o", bin, pkg], { cwd: source, stdio: ["ignore", "inherit", "inherit"] });
  if (r.error || r.status !== 0) {
    throw new Error(
      `cannot build ${pkg} in ${source} (${r.error?.message ?? `go build exited ${r.status}`}); it needs Go 1.26 and the Go module proxy`,
    );
  }
  built.set(pkg, bin);
  return bin;
}

/** Builds the webhook server (once per process) and returns the binary's path. */
export function buildUpstreamWebhook(): string {
  return goBuild(".", "jobset-upstream-webhook", "upstream's webhook server");
}

/**
 * Builds upstream's own controller manager, the main package of sigs.k8s.io/jobset v0.12.0 as published
 * (its main.go, unmodified), for `bench/controller.bench.ts --upstream`; returns the binary's path.
 */
export function buildUpstreamController(): string {
  return goBuild("sigs.k8s.io/jobset", "jobset-upstream-controller", "upstream's controller manager");
}

/** Where Go keeps the source of sigs.k8s.io/jobset v0.12.0 (downloaded by a build first); throws with go's message. */
export function upstreamModuleDir(): string {
  const r = spawnSync("go", ["list", "-m", "-f", "{{.Dir}}", "sigs.k8s.io/jobset"], { cwd: source, encoding: "utf8" });
  const dir = r.stdout?.trim();
  if (r.error || r.status !== 0 || !dir) {
    throw new Error(`cannot find sigs.k8s.io/jobset's source (${r.error?.message ?? (r.stderr || "go list failed")})`);
  }
  return dir;
}

/** A directory with tls.crt and tls.key, as controller-runtime's webhook server reads them, from a throwaway CA. */
export function servingCertDir(prefix: string): { dir: string; caPem: string; remove(): void } {
  const ca = createCa(`${prefix}-ca`, 1);
  const leaf = issueServingCert(ca);
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  writeFileSync(join(dir, "tls.crt"), leaf.certPem);
  writeFileSync(join(dir, "tls.key"), leaf.keyPem, { mode: 0o600 });
  return { dir, caPem: ca.certPem, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Starts upstream's webhook server and resolves once it serves; `featureGates` as its flag takes them,
 * `kubeconfig` an API server its cache reads PVCs from.
 */
export async function startUpstreamWebhook(
  o: { featureGates?: string; kubeconfig?: string } = {},
): Promise<UpstreamWebhook> {
  const bin = buildUpstreamWebhook();
  const certs = servingCertDir("jobset-upstream-webhook");
  const port = await freePort();
  const args = ["-port", String(port), "-cert-dir", certs.dir];
  if (o.featureGates) args.push("-feature-gates", o.featureGates);
  if (o.kubeconfig) args.push("-cluster-kubeconfig", o.kubeconfig);
  const child = spawn(bin, args, { stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (c: Buffer) => {
    stderr = (stderr + c.toString()).slice(-4000);
  });
  try {
    await new Promise<void>((resolve, reject) => {
      createInterface({ input: child.stdout }).on("line", (l) => l === "ready" && resolve());
      child.once("exit", (code) => reject(new Error(`upstream's webhook server exited (${code}): ${stderr}`)));
    });
  } catch (e) {
    certs.remove();
    throw e;
  }
  return {
    port,
    url: `https://127.0.0.1:${port}`,
    pid: child.pid ?? 0,
    caPem: certs.caPem,
    async stop() {
      child.stdin.end();
      if (child.exitCode === null && child.signalCode === null) await new Promise((r) => child.once("exit", r));
      certs.remove();
    },
  };
}

/**
 * An AdmissionReview answer as text to compare with upstream's, key order included, its JSON Patch decoded
 * and its operations sorted: upstream's operation order comes from iterating Go maps and is random.
 */
export function answerText(body: string): string {
  const doc = JSON.parse(body) as { response?: { patch?: string } };
  const patch = doc.response?.patch;
  if (patch === undefined) return JSON.stringify(doc);
  const ops = (JSON.parse(Buffer.from(patch, "base64").toString("utf8")) as unknown[]).map((o) => JSON.stringify(o));
  return JSON.stringify({ ...doc, response: { ...doc.response, patch: ops.sort() } });
}
