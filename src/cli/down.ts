// `jobset down`: stops the local cluster of `jobset up --detach` (SIGTERM to its process, which stops
// the controller, webhooks, fake kubelet and control plane), then removes its state.
import { rmSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { pidAlive } from "../local/supervise.ts";
import { CliError } from "./errors.ts";
import { readLocalState, stateDir, stateFile } from "./local-state.ts";

const help = `Usage: jobset down [flags]

Stops the local cluster started by \`jobset up --detach\` and removes its data (etcd, logs, kubeconfig).

Flags:
      --timeout SECONDS      how long to wait for a clean stop before killing it (default 60)
  -h, --help                 show this help
`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function down(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { timeout: { type: "string" }, help: { type: "boolean", short: "h" } },
  });
  if (values.help) {
    process.stdout.write(help);
    return 0;
  }
  const timeoutMs = (values.timeout === undefined ? 60 : Number(values.timeout)) * 1000;
  const dir = stateDir();
  const s = readLocalState(dir);
  if (!s) {
    process.stderr.write("No local cluster is running.\n");
    return 0;
  }
  process.stderr.write(`Stopping the local cluster (pid ${s.pid})…\n`);
  try {
    process.kill(s.pid, "SIGTERM");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ESRCH")
      throw new CliError(`cannot stop pid ${s.pid}: ${(e as Error).message}`);
  }
  const deadline = Date.now() + timeoutMs;
  while (pidAlive(s.pid) && Date.now() < deadline) await sleep(100);
  if (pidAlive(s.pid)) {
    process.stderr.write(`pid ${s.pid} did not stop within ${timeoutMs / 1000}s: killing it\n`);
    try {
      process.kill(s.pid, "SIGKILL");
    } catch {
      // gone meanwhile
    }
    // Its supervisors end the components when it dies; give them their grace period.
    await sleep(7000);
  }
  rmSync(s.dataDir, { recursive: true, force: true });
  rmSync(stateFile(dir), { force: true });
  rmSync(join(dir, "up.log"), { force: true });
  process.stderr.write("Local cluster stopped.\n");
  return 0;
}
