// `jobset describe NAME`: spec summary, status, conditions, child Jobs and recent events of a JobSet.
import { parseArgs } from "node:util";
import { clusterHelp, clusterOptions, connect } from "./cluster.ts";
import { fetchSnapshotForUser } from "./fetch.ts";
import { describeGang, fetchGang, gangView } from "./gang-status.ts";
import { renderDescribe } from "./render.ts";
import { UsageError } from "./usage.ts";

const help = `Usage: jobset describe NAME [flags]

Shows a JobSet: metadata, a summary of its spec (replicated jobs, policies), its status (terminal
state, restarts, per-replicated-job counts), its conditions, its child Jobs (those it owns), for a
JobSet with spec.scheduling its Workload and PodGroups (state, minCount, pods bound or placeable, the
scheduler's message), and the events regarding it.

Flags:
${clusterHelp}
  -h, --help                 show this help
`;

export async function describe(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { ...clusterOptions, help: { type: "boolean", short: "h" } },
  });
  if (values.help) {
    process.stdout.write(help);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError("a JobSet name is required");
  const { client, namespace } = await connect(values);
  try {
    const out: string[] = [];
    for (const name of positionals) {
      const snap = await fetchSnapshotForUser(client, namespace, name);
      if (out.length > 0) out.push("", "");
      const gang = await fetchGang(client, snap.jobset);
      out.push(...withScheduling(renderDescribe(snap, Date.now()), gang && describeGang(gangView(gang, snap.pods))));
    }
    process.stdout.write(`${out.join("\n")}\n`);
    return 0;
  } finally {
    await client.close();
  }
}

/** The describe lines with the `Scheduling:` section (if any) inserted before `Events:`. */
export function withScheduling(lines: string[], scheduling: string[] | undefined): string[] {
  if (!scheduling) return lines;
  const at = lines.lastIndexOf("Events:");
  return at < 0 ? [...lines, ...scheduling] : [...lines.slice(0, at), ...scheduling, ...lines.slice(at)];
}
