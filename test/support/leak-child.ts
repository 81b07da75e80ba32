// A process for the leak tests to SIGKILL: `leak-child.ts sleep <dir>` supervises `sleep 300` with a
// janitor for <dir>; `leak-child.ts controlplane` starts an "apiserver" control plane. Either way it
// prints one JSON line (pids to watch, the dir that must disappear) and then waits to be killed.
import { join } from "node:path";
import { startControlPlane } from "../../src/local/controlplane.ts";
import { janitor, supervise } from "../../src/local/supervise.ts";

const mode = process.argv[2];
if (mode === "sleep") {
  const dir = process.argv[3] ?? "";
  janitor(dir, 1000);
  const s = supervise({
    name: "sleep",
    command: "sleep",
    args: ["300"],
    logFd: "ignore",
    pidFile: join(dir, "sleep.pid"),
    graceMs: 1000,
  });
  let pid = s.childPid();
  while (pid === undefined) {
    await new Promise((r) => setTimeout(r, 20));
    pid = s.childPid();
  }
  console.log(JSON.stringify({ pids: [s.supervisorPid, pid], dir }));
} else {
  const cp = await startControlPlane({ profile: "apiserver", graceMs: 2000, crdPaths: [] });
  const pids = cp.components().flatMap((c) => [c.supervisorPid, ...(c.pid ? [c.pid] : [])]);
  console.log(JSON.stringify({ pids, dir: cp.dataDir }));
}
setInterval(() => {}, 1 << 30);
