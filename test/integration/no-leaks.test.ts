// Nothing outlives us: components and temp dirs go away on stop(), and when the parent is SIGKILLed.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { describe, test } from "node:test";
import { ensureBinaries } from "../../src/local/binaries.ts";
import { startControlPlane } from "../../src/local/controlplane.ts";
import { waitFor } from "../support/cluster.ts";

/** Alive and not a zombie (an orphaned zombie is gone for our purposes; init reaps it). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

/** Starts test/support/leak-child.ts, waits for its JSON line, SIGKILLs it, returns what it reported. */
async function killChildAfterStart(args: string[]): Promise<{ pids: number[]; dir: string }> {
  const child = spawn(process.execPath, [join(import.meta.dirname, "../support/leak-child.ts"), ...args], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout });
  const first = await new Promise<string>((resolve, reject) => {
    lines.once("line", resolve);
    child.once("exit", (code) => reject(new Error(`leak-child exited (${code}) before reporting`)));
  });
  const info = JSON.parse(first) as { pids: number[]; dir: string };
  for (const pid of info.pids) assert.ok(running(pid), `pid ${pid} runs before the kill`);
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGKILL");
  await exited;
  return info;
}

describe("no leaked processes or temp dirs", () => {
  test("a supervised process and the janitor's dir go away when the parent is SIGKILLed", async () => {
    const dir = await mkdtemp(join(tmpdir(), "leak-sleep-"));
    const info = await killChildAfterStart(["sleep", dir]);
    await waitFor(() => info.pids.every((p) => !running(p)), { timeoutMs: 10_000, message: "sleep to be killed" });
    await waitFor(() => !existsSync(dir), { timeoutMs: 10_000, message: `${dir} to be removed` });
  });

  test("a control plane's processes and temp dir go away when its parent is SIGKILLed", async () => {
    const info = await killChildAfterStart(["controlplane"]);
    assert.equal(info.pids.length, 4, "supervisor + child for etcd and kube-apiserver");
    await waitFor(() => info.pids.every((p) => !running(p)), {
      timeoutMs: 15_000,
      message: `pids ${info.pids.join(", ")} to exit`,
    });
    await waitFor(() => !existsSync(info.dir), { timeoutMs: 15_000, message: `${info.dir} to be removed` });
  });

  test("stop() ends every component and removes the temp dir", async () => {
    const cp = await startControlPlane({ profile: "apiserver", binaries: await ensureBinaries(), crdPaths: [] });
    const pids = cp.components().flatMap((c) => [c.supervisorPid, ...(c.pid ? [c.pid] : [])]);
    assert.equal(pids.length, 4);
    assert.ok(existsSync(cp.dataDir));
    await cp.stop();
    assert.deepEqual(
      pids.filter((p) => running(p)),
      [],
      "no component outlives stop()",
    );
    assert.equal(existsSync(cp.dataDir), false);
  });
});
