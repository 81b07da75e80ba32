// `jobset tree NAME`: the hierarchy JobSet → replicated jobs → Jobs → pods with their phases, once; for
// a gang-scheduled JobSet, then its Workload and PodGroups with their scheduling state.
import { parseArgs } from "node:util";
import { clusterHelp, clusterOptions, connect } from "./cluster.ts";
import { fetchSnapshotForUser } from "./fetch.ts";
import { fetchGang, gangView, renderGangTree } from "./gang-status.ts";
import { buildView, colorStyle, plainStyle, renderTree } from "./render.ts";
import { UsageError } from "./usage.ts";

const help = `Usage: jobset tree NAME [flags]

Prints the JobSet's replicated jobs, their Jobs and the Jobs' pods, with phases, restart counts and
nodes. A JobSet with spec.scheduling also shows its Workload and PodGroups: scheduled or not, and how
many of their pods are bound (or placeable, when the scheduler cannot place the whole group).

Flags:
${clusterHelp}
      --no-color             never color the output (default: color on a terminal unless NO_COLOR)
  -h, --help                 show this help
`;

/** Colors when stdout is a terminal and NO_COLOR is unset. */
export const useColor = (noColor?: boolean): boolean =>
  !noColor && process.stdout.isTTY === true && !process.env.NO_COLOR;

export async function tree(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { ...clusterOptions, "no-color": { type: "boolean" }, help: { type: "boolean", short: "h" } },
  });
  if (values.help) {
    process.stdout.write(help);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError("exactly one JobSet name is required");
  const name = positionals[0] ?? "";
  const { client, namespace } = await connect(values);
  try {
    const snap = await fetchSnapshotForUser(client, namespace, name);
    const style = useColor(values["no-color"]) ? colorStyle : plainStyle;
    const lines = renderTree(buildView(snap), style);
    const gang = await fetchGang(client, snap.jobset);
    if (gang) lines.push(...renderGangTree(gangView(gang, snap.pods), style));
    process.stdout.write(`${lines.join("\n")}\n`);
    return 0;
  } finally {
    await client.close();
  }
}
