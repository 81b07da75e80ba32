// `jobset get [NAME...]`: JobSets as a table with the CRD's printer columns (as `kubectl get jobsets`),
// or as YAML/JSON.
import { parseArgs } from "node:util";
import type { JobSet } from "../api/types.ts";
import { ApiError } from "../runtime/client.ts";
import { CliError, clusterHelp, clusterOptions, connect, explain, explainNotFound, jobsetsPath } from "./cluster.ts";
import { getTable } from "./render.ts";
import { UsageError } from "./usage.ts";

const help = `Usage: jobset get [NAME...] [flags]

Lists JobSets with the columns of \`kubectl get jobsets\`: NAME, TERMINALSTATE, RESTARTS, COMPLETED,
SUSPENDED, AGE. \`-o wide\` adds REPLICATEDJOBS and the Job counts JOBS, READY, SUCCEEDED, FAILED.

Flags:
  -A, --all-namespaces       list JobSets of every namespace (adds a NAMESPACE column)
  -l, --selector SELECTOR    label selector, e.g. team=ml,tier!=batch
  -o, --output FORMAT        wide, yaml or json (default: the table)
${clusterHelp}
  -h, --help                 show this help
`;

export async function get(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...clusterOptions,
      "all-namespaces": { type: "boolean", short: "A" },
      selector: { type: "string", short: "l" },
      output: { type: "string", short: "o" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(help);
    return 0;
  }
  const output = values.output ?? "";
  if (!["", "wide", "yaml", "json"].includes(output))
    throw new UsageError(`unknown output format "${output}" (want wide, yaml or json)`);
  if (values["all-namespaces"] && positionals.length > 0)
    throw new UsageError("a JobSet name cannot be given with --all-namespaces");
  const { client, namespace } = await connect(values);
  try {
    const all = values["all-namespaces"] === true;
    let items: JobSet[] = [];
    let missing = 0;
    if (positionals.length > 0) {
      for (const name of positionals) {
        try {
          items.push(await client.get<JobSet>(jobsetsPath(namespace, name)));
        } catch (e) {
          if (e instanceof ApiError && e.code === 404 && e.status?.details?.name) {
            process.stderr.write(`Error from server (NotFound): jobsets.jobset.x-k8s.io "${name}" not found\n`);
            missing++;
            continue;
          }
          throw e;
        }
      }
    } else {
      const list = await client.list<JobSet>(jobsetsPath(all ? undefined : namespace), {
        labelSelector: values.selector,
      });
      items = list.items;
    }
    const now = Date.now();
    if (output === "json" || output === "yaml") {
      // As kubectl: managedFields are noise unless asked for.
      for (const js of items) if (js.metadata) delete js.metadata.managedFields;
      const doc =
        positionals.length === 1 && items.length === 1
          ? items[0]
          : { apiVersion: "v1", items, kind: "List", metadata: { resourceVersion: "" } };
      // The YAML library is loaded only for -o yaml (start-up time of the table: bench/cli.bench.ts).
      process.stdout.write(
        output === "json"
          ? `${JSON.stringify(doc, null, 4)}\n`
          : (await import("yaml")).stringify(doc, { indentSeq: false }),
      );
    } else if (items.length === 0 && positionals.length === 0) {
      process.stderr.write(all ? "No resources found\n" : `No resources found in ${namespace} namespace.\n`);
    } else if (items.length > 0) {
      const lines = getTable(items, now, { allNamespaces: all, wide: output === "wide" });
      process.stdout.write(`${lines.join("\n")}\n`);
    }
    return missing > 0 ? 1 : 0;
  } catch (e) {
    throw e instanceof CliError ? e : explainNotFound(explain(e, client.server), "JobSet");
  } finally {
    await client.close();
  }
}
