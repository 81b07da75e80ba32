// Helm for the deployment tests: `helm lint` / `helm template` of charts/jobset. Helm is a Go module, so
// it is built from the Go module proxy like the Kubernetes binaries (src/local/binaries.ts) and cached:
// $JOBSET_HELM (a helm binary), else ${XDG_CACHE_HOME:-~/.cache}/jobset-ts/helm/<version>/helm, built on
// first use with `go install helm.sh/helm/v4/cmd/helm@<version>` (a few minutes, once).
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";

const execFileP = promisify(execFile);

/** The Helm release the tests use (major 4: the current Helm; charts are apiVersion v2 either way). */
export const HelmVersion = "v4.3.2";
export const HelmModule = "helm.sh/helm/v4/cmd/helm";

export function helmCachePath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return join(base, "jobset-ts", "helm", HelmVersion, "helm");
}

/** Path of a helm binary: $JOBSET_HELM, the cache, or a fresh build into the cache. */
export async function ensureHelm(log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<string> {
  const fromEnv = process.env.JOBSET_HELM;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`JOBSET_HELM=${fromEnv} does not exist`);
    return fromEnv;
  }
  const cached = helmCachePath();
  if (existsSync(cached)) return cached;
  mkdirSync(dirname(cached), { recursive: true });
  const tmp = mkdtempSync(`${dirname(cached)}.build-`);
  log(`building helm ${HelmVersion} with go install (once; cached in ${dirname(cached)})`);
  try {
    await execFileP("go", ["install", `${HelmModule}@${HelmVersion}`], {
      env: { ...process.env, GOBIN: tmp, CGO_ENABLED: "0" },
      maxBuffer: 64 << 20,
    });
    renameSync(join(tmp, "helm"), cached);
  } catch (e) {
    const err = e as { code?: string; stderr?: string; message: string };
    if (err.code === "ENOENT") {
      throw new Error("helm is not installed and Go is missing to build it: set JOBSET_HELM=/path/to/helm");
    }
    throw new Error(`building helm failed: ${err.stderr || err.message}`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return cached;
}

/** Runs helm; resolves with stdout, rejects with stderr (HOME-independent: config/cache in a temp dir). */
export async function helm(bin: string, args: string[], scratch: string): Promise<string> {
  try {
    const { stdout } = await execFileP(bin, args, {
      maxBuffer: 64 << 20,
      env: {
        ...process.env,
        HELM_CACHE_HOME: join(scratch, "cache"),
        HELM_CONFIG_HOME: join(scratch, "config"),
        HELM_DATA_HOME: join(scratch, "data"),
      },
    });
    return stdout;
  } catch (e) {
    const err = e as { stderr?: string; stdout?: string; message: string };
    throw new Error(`helm ${args.join(" ")} failed: ${err.stderr || err.stdout || err.message}`);
  }
}
