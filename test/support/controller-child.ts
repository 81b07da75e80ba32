// A JobSet controller process for the robustness tests: runs startControllerManager for one namespace
// and, when $KILL_AFTER_WRITES=N (> 0), SIGKILLs itself as soon as the answer to its N-th write
// (POST/PUT/PATCH/DELETE) arrives — other writes of the same step may still be in flight, or done on
// the server without the controller knowing. No cleanup runs: no drain, no client close.
//
//   KUBECONFIG_PATH=... NAMESPACE=... KILL_AFTER_WRITES=7 node test/support/controller-child.ts
// Prints "synced" once its caches synced and `write <n> <METHOD> <path> <code>` per write.
import { startControllerManager } from "../../src/app/controller-manager.ts";
import { KubeClient } from "../../src/runtime/client.ts";

const kubeconfig = process.env.KUBECONFIG_PATH;
const namespace = process.env.NAMESPACE;
const killAfter = Number(process.env.KILL_AFTER_WRITES ?? "0");
if (!kubeconfig || !namespace) {
  process.stderr.write("KUBECONFIG_PATH and NAMESPACE are required\n");
  process.exit(2);
}

let writes = 0;
const client = await KubeClient.create({
  kubeconfig,
  userAgent: "jobset-robustness-child",
  onRequest: (info) => {
    if (info.method === "GET") return;
    writes++;
    process.stdout.write(`write ${writes} ${info.method} ${info.path} ${info.code}\n`);
    if (killAfter > 0 && writes >= killAfter) process.kill(process.pid, "SIGKILL");
  },
});
await startControllerManager({ client, namespace });
process.stdout.write("synced\n");
await new Promise(() => {});
