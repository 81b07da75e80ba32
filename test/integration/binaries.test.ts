// Where the control-plane binaries come from: env vars, the keyed cache, the build lock, and the
// error when Go is missing. (The build itself is exercised by the first `npm test` on a machine.)
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmod, mkdir, mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  cacheKey,
  canRunFull,
  ensureBinaries,
  GoMissingError,
  KUBE_MODULE_DIR,
  keyInputs,
} from "../../src/local/binaries.ts";
import { waitFor } from "../support/cluster.ts";

async function fakeBinDir(dir: string, names: string[]): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const n of names) {
    await writeFile(join(dir, n), "#!/bin/sh\n");
    await chmod(join(dir, n), 0o755);
  }
}

const ALL = ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl"];

describe("ensureBinaries", () => {
  let tmp: string;
  const logs: string[] = [];
  const log = (l: string) => logs.push(l);
  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), "bins-test-"));
  });
  after(() => rm(tmp, { recursive: true, force: true }));

  test("JOBSET_KUBE_BIN_DIR wins and is used as is", async () => {
    const dir = join(tmp, "custom");
    await fakeBinDir(dir, ALL);
    const b = await ensureBinaries({ env: { JOBSET_KUBE_BIN_DIR: dir, KUBEBUILDER_ASSETS: "/nonexistent" }, log });
    assert.equal(b.source, "JOBSET_KUBE_BIN_DIR");
    assert.equal(b.kubeApiserver, join(dir, "kube-apiserver"));
    assert.equal(b.kubectl, join(dir, "kubectl"));
    assert.ok(canRunFull(b));
  });

  test("JOBSET_KUBE_BIN_DIR without kube-apiserver is an error naming the dir", async () => {
    const dir = join(tmp, "broken");
    await fakeBinDir(dir, ["etcd"]);
    await assert.rejects(ensureBinaries({ env: { JOBSET_KUBE_BIN_DIR: dir }, log }), new RegExp(dir));
  });

  test("KUBEBUILDER_ASSETS (envtest layout) allows only the apiserver profile, and says so", async () => {
    const dir = join(tmp, "envtest");
    await fakeBinDir(dir, ["etcd", "kube-apiserver", "kubectl"]);
    logs.length = 0;
    const b = await ensureBinaries({ env: { KUBEBUILDER_ASSETS: dir }, log });
    assert.equal(b.source, "KUBEBUILDER_ASSETS");
    assert.equal(canRunFull(b), false);
    assert.equal(b.kubeControllerManager, undefined);
    assert.match(logs.join("\n"), /only the "apiserver" profile can run/);
  });

  test("without Go and without env vars: one clear error about Go >= 1.26 or JOBSET_KUBE_BIN_DIR", async () => {
    const err = await ensureBinaries({ env: { PATH: join(tmp, "empty"), HOME: tmp }, log }).catch((e: unknown) => e);
    assert.ok(err instanceof GoMissingError);
    assert.match(err.message, /Go >= 1\.26/);
    assert.match(err.message, /JOBSET_KUBE_BIN_DIR/);
  });

  test("the cache key matches the documented shell pipeline", () => {
    const go = execFileSync("go", ["version"]).toString();
    const shell = execFileSync(
      "bash",
      ["-c", "{ go version; LC_ALL=C cat go.mod go.sum cmd/*/main.go build.sh; } | sha256sum | cut -c1-16"],
      { cwd: KUBE_MODULE_DIR },
    )
      .toString()
      .trim();
    assert.equal(cacheKey(go), shell);
    assert.match(shell, /^[0-9a-f]{16}$/);
    assert.ok(keyInputs(KUBE_MODULE_DIR).some((f) => f.endsWith("cmd/kube-apiserver/main.go")));
    assert.notEqual(cacheKey("go version go0.0 other"), shell, "the Go version is part of the key");
  });

  test("a cached set under XDG_CACHE_HOME is found without building", async () => {
    const xdg = join(tmp, "xdg1");
    const key = cacheKey(execFileSync("go", ["version"]).toString());
    await fakeBinDir(join(xdg, "jobset-ts", "kube", key), ALL);
    const b = await ensureBinaries({ env: { ...process.env, XDG_CACHE_HOME: xdg, JOBSET_KUBE_BIN_DIR: "" }, log });
    assert.equal(b.source, "cache");
    assert.equal(b.dir, join(xdg, "jobset-ts", "kube", key));
  });

  test("while another live process holds the build lock, we wait (and say so) for its result", async () => {
    const xdg = join(tmp, "xdg2");
    const key = cacheKey(execFileSync("go", ["version"]).toString());
    const root = join(xdg, "jobset-ts", "kube");
    await mkdir(root, { recursive: true });
    await writeFile(join(root, `${key}.lock`), String(process.pid)); // a live "builder"
    logs.length = 0;
    const pending = ensureBinaries({ env: { ...process.env, XDG_CACHE_HOME: xdg, JOBSET_KUBE_BIN_DIR: "" }, log });
    await waitFor(() => logs.some((l) => l.includes(`waiting for another process (pid ${process.pid})`)), {
      message: "the waiting message",
    });
    // The "other builder" publishes its result; the waiter picks it up instead of building.
    await fakeBinDir(join(root, `${key}.tmp-other`), ALL);
    await rename(join(root, `${key}.tmp-other`), join(root, key));
    const b = await pending;
    assert.equal(b.dir, join(root, key));
    assert.equal(b.source, "cache");
  });
});
