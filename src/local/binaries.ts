// Finds the Kubernetes control-plane binaries, or builds them from the Go wrapper module in kube/.
//
// Order: $JOBSET_KUBE_BIN_DIR (all components), $KUBEBUILDER_ASSETS (envtest layout: etcd and
// kube-apiserver, sometimes kubectl), then the content-keyed cache
// ${XDG_CACHE_HOME:-~/.cache}/jobset-ts/kube/<key>/, built on first use with kube/build.sh.
import { execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { mkdir } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { packagePath } from "../package-root.ts";

const execFileP = promisify(execFile);

/** The Kubernetes version kube/go.mod pins (shown in progress messages). */
export const KUBE_VERSION = "v1.36.3";

/** Where the Go wrapper module lives: kube/ at the package root (a checkout, dist/ or an installed package). */
export const KUBE_MODULE_DIR = packagePath("kube");

export type BinarySource = "JOBSET_KUBE_BIN_DIR" | "KUBEBUILDER_ASSETS" | "cache" | "built";

export interface KubeBinaries {
  dir: string;
  etcd: string;
  kubeApiserver: string;
  /** Absent in an envtest (KUBEBUILDER_ASSETS) layout: only the `apiserver` profile can run then. */
  kubeControllerManager?: string;
  kubeScheduler?: string;
  kubectl?: string;
  source: BinarySource;
}

export interface EnsureOptions {
  /** Progress and status lines (default: stderr). */
  log?: (line: string) => void;
  /** Default: process.env. */
  env?: NodeJS.ProcessEnv;
  /** Default: kube/ of this repository. */
  moduleDir?: string;
  /** Whether progress goes to a terminal (one updating line) or a log (a line every few seconds). */
  tty?: boolean;
}

const NAMES = {
  etcd: "etcd",
  kubeApiserver: "kube-apiserver",
  kubeControllerManager: "kube-controller-manager",
  kubeScheduler: "kube-scheduler",
  kubectl: "kubectl",
} as const;

function isExecutable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** Reads a directory of binaries; returns undefined if etcd or kube-apiserver is missing. */
export function binariesIn(dir: string, source: BinarySource): KubeBinaries | undefined {
  const at = (n: string) => (isExecutable(join(dir, n)) ? join(dir, n) : undefined);
  const etcd = at(NAMES.etcd);
  const kubeApiserver = at(NAMES.kubeApiserver);
  if (!etcd || !kubeApiserver) return undefined;
  const b: KubeBinaries = { dir, etcd, kubeApiserver, source };
  const kcm = at(NAMES.kubeControllerManager);
  const sched = at(NAMES.kubeScheduler);
  const kubectl = at(NAMES.kubectl);
  if (kcm) b.kubeControllerManager = kcm;
  if (sched) b.kubeScheduler = sched;
  if (kubectl) b.kubectl = kubectl;
  return b;
}

/** True when the binaries can run the `full` profile (controller manager and scheduler present). */
export function canRunFull(b: KubeBinaries): boolean {
  return b.kubeControllerManager !== undefined && b.kubeScheduler !== undefined;
}

export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return join(base, "jobset-ts", "kube");
}

/** The files whose content (with `go version`) keys the binary cache, in a fixed (byte) order. */
export function keyInputs(moduleDir: string): string[] {
  const cmds = readdirSync(join(moduleDir, "cmd")).sort();
  return [
    join(moduleDir, "go.mod"),
    join(moduleDir, "go.sum"),
    ...cmds.map((c) => join(moduleDir, "cmd", c, "main.go")).filter((p) => existsSync(p)),
    join(moduleDir, "build.sh"),
  ];
}

/**
 * sha256 (first 16 hex digits) of `go version` output followed by go.mod, go.sum, cmd/*\/main.go and
 * build.sh. Equivalent shell: `cd kube && { go version; LC_ALL=C cat go.mod go.sum cmd/*\/main.go build.sh; } | sha256sum | cut -c1-16`.
 */
export function cacheKey(goVersionOutput: string, moduleDir: string = KUBE_MODULE_DIR): string {
  const h = createHash("sha256");
  h.update(goVersionOutput.endsWith("\n") ? goVersionOutput : `${goVersionOutput}\n`);
  for (const f of keyInputs(moduleDir)) h.update(readFileSync(f));
  return h.digest("hex").slice(0, 16);
}

/** Thrown when nothing is configured and Go is not installed. */
export class GoMissingError extends Error {
  constructor() {
    super(
      "Go is not installed: install Go >= 1.26 (https://go.dev/doc/install) to build the local Kubernetes control plane once, or set JOBSET_KUBE_BIN_DIR to a directory with etcd, kube-apiserver, kube-controller-manager and kube-scheduler.",
    );
    this.name = "GoMissingError";
  }
}

async function goVersion(env: NodeJS.ProcessEnv): Promise<string> {
  try {
    const { stdout } = await execFileP("go", ["version"], { env: { ...env, GOTOOLCHAIN: "local" } });
    return stdout;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") throw new GoMissingError();
    throw e;
  }
}

const pidAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
};

/** Takes `<path>` as an exclusive lock file holding our pid; returns the holder's pid if someone alive has it. */
function tryLock(path: string): { ok: true } | { ok: false; holder: number } {
  for (;;) {
    try {
      const fd = openSync(path, "wx");
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return { ok: true };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      let holder = 0;
      try {
        holder = Number.parseInt(readFileSync(path, "utf8"), 10);
      } catch {
        continue; // released between our open and read
      }
      if (holder > 0 && pidAlive(holder)) return { ok: false, holder };
      rmSync(path, { force: true }); // stale: its builder died
    }
  }
}

/** Locates the binaries, building them into the cache on first use (with progress). */
export async function ensureBinaries(opts: EnsureOptions = {}): Promise<KubeBinaries> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  if (env.JOBSET_KUBE_BIN_DIR) {
    const b = binariesIn(env.JOBSET_KUBE_BIN_DIR, "JOBSET_KUBE_BIN_DIR");
    if (!b)
      throw new Error(`JOBSET_KUBE_BIN_DIR=${env.JOBSET_KUBE_BIN_DIR} has no etcd and kube-apiserver executables`);
    return b;
  }
  if (env.KUBEBUILDER_ASSETS) {
    const b = binariesIn(env.KUBEBUILDER_ASSETS, "KUBEBUILDER_ASSETS");
    if (!b) throw new Error(`KUBEBUILDER_ASSETS=${env.KUBEBUILDER_ASSETS} has no etcd and kube-apiserver executables`);
    if (!canRunFull(b))
      log(
        `using KUBEBUILDER_ASSETS=${env.KUBEBUILDER_ASSETS}: it has no kube-controller-manager/kube-scheduler, so only the "apiserver" profile can run (e2e tests need JOBSET_KUBE_BIN_DIR or the built binaries)`,
      );
    return b;
  }
  const moduleDir = opts.moduleDir ?? KUBE_MODULE_DIR;
  const key = cacheKey(await goVersion(env), moduleDir);
  const root = cacheRoot(env);
  const dir = join(root, key);
  const done = () => {
    const b = binariesIn(dir, "cache");
    return b && canRunFull(b) ? b : undefined;
  };
  const cached = done();
  if (cached) return cached;
  await mkdir(root, { recursive: true });
  const lock = join(root, `${key}.lock`);
  let waitingSaid = false;
  for (;;) {
    const l = tryLock(lock);
    if (l.ok) break;
    if (!waitingSaid) {
      log(`waiting for another process (pid ${l.holder}) that is building the Kubernetes binaries into ${dir}…`);
      waitingSaid = true;
    }
    await new Promise((r) => setTimeout(r, 2000));
    const b = done();
    if (b) return b;
  }
  try {
    const again = done();
    if (again) return again;
    await build(moduleDir, dir, env, log, opts.tty ?? process.stderr.isTTY === true);
    const b = done();
    if (!b) throw new Error(`kube/build.sh finished but ${dir} lacks the binaries`);
    return { ...b, source: "built" };
  } finally {
    rmSync(lock, { force: true });
  }
}

async function build(
  moduleDir: string,
  dir: string,
  env: NodeJS.ProcessEnv,
  log: (l: string) => void,
  tty: boolean,
): Promise<void> {
  const goEnv = { ...env, GOTOOLCHAIN: "local", CGO_ENABLED: "0", GOFLAGS: "-modcacherw" };
  log(
    `building Kubernetes ${KUBE_VERSION} control plane from source (first time only, ~4 min on 2 cores with downloaded modules, more if the Go module cache is empty)…`,
  );
  log(`  into ${dir} (set JOBSET_KUBE_BIN_DIR to use existing binaries instead)`);
  let total = 0;
  try {
    const { stdout } = await execFileP("go", ["list", "-deps", "./cmd/..."], {
      cwd: moduleDir,
      env: goEnv,
      maxBuffer: 64 << 20,
    });
    total = stdout.split("\n").filter((l) => l.trim()).length;
  } catch {
    // `go list` downloads modules; if it fails here, the build below reports the real error.
  }
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  const started = Date.now();
  const child = spawn("bash", [join(moduleDir, "build.sh"), tmp], {
    cwd: moduleDir,
    env: goEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let compiled = 0;
  let lastPrinted = 0;
  const tail: string[] = [];
  const show = (final: boolean) => {
    const secs = Math.round((Date.now() - started) / 1000);
    const line = `  compiled ${compiled}${total ? `/${total}` : ""} packages, ${Math.floor(secs / 60)}m${String(secs % 60).padStart(2, "0")}s`;
    if (tty) process.stderr.write(`\r${line}${final ? "\n" : ""}`);
    else if (final || Date.now() - lastPrinted >= 5000) {
      log(line);
      lastPrinted = Date.now();
    }
  };
  let buf = "";
  const onData = (chunk: Buffer) => {
    buf += chunk.toString();
    let nl = buf.indexOf("\n");
    while (nl >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      nl = buf.indexOf("\n");
      // `go build -v` prints one import path per compiled package; anything else is a message.
      if (/^[\w.-]+(\/[\w.~+-]+)*$/.test(line)) compiled++;
      else if (line.trim()) {
        tail.push(line);
        if (tail.length > 40) tail.shift();
      }
    }
    if (tty) show(false);
  };
  child.stdout.on("data", onData);
  child.stderr.on("data", onData);
  const timer = tty ? undefined : setInterval(() => show(false), 5000);
  const code = await new Promise<number>((res) => child.on("close", (c) => res(c ?? 1)));
  if (timer) clearInterval(timer);
  show(true);
  if (code !== 0) {
    rmSync(tmp, { recursive: true, force: true });
    throw new Error(`building the Kubernetes binaries failed (exit ${code}):\n${tail.join("\n")}`);
  }
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  const secs = Math.round((Date.now() - started) / 1000);
  log(`built the Kubernetes control plane in ${Math.floor(secs / 60)}m${String(secs % 60).padStart(2, "0")}s: ${dir}`);
}
