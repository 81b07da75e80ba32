// `jobset plan FILE`: what the controller would create for a JobSet on its first reconcile, without
// a cluster. Prints a multi-document YAML stream: the JobSet as the API server would store it
// (structural defaults + defaulting webhook, namespace and a placeholder uid filled in), then the
// headless Service, the PVCs and the Jobs, in the order the controller creates them (spec §5.2 i, j, l).
//
// First-reconcile rules (nothing exists yet, every replicatedJobsStatus counter is 0):
//   - dependsOn: an rjob is created only when all its dependencies are reached, which on the first
//     reconcile means the dependency has replicas 0 (spec §6.6);
//   - InOrder startup (not suspended): only the first rjob that has not "started" (replicas > 0) (§6.5);
//   - a suspended JobSet gets suspended Jobs (all rjobs, dependsOn still applies) (§6.7).
import { parseArgs } from "node:util";
import { ApiVersion, Kind } from "../api/constants.ts";
import type { KubeObject } from "../api/k8s.ts";
import { PlaceholderUID, PlanError, planObjects } from "../sdk/plan.ts";
import { at, formatSourceError, readDocuments } from "./documents.ts";
import { featureGatesFlag, UsageError } from "./usage.ts";
import { toYaml } from "./yaml-out.ts";

// The first-reconcile plan itself is the SDK's plan() (src/sdk/plan.ts): one code path.
export { PlaceholderUID, PlanError, planObjects };

const help = `Usage: jobset plan [flags] FILE

Prints, as a multi-document YAML stream, each JobSet in FILE (YAML or JSON, "-" for stdin) as the API
server would store it (schema defaults and the defaulting webhook applied), followed by every object
the controller creates on its first reconcile, in creation order: the headless Service, the PVCs of
volumeClaimPolicies, then the Jobs. Only the Jobs the first reconcile creates are shown: with
startupPolicy InOrder only the first replicated job's, with dependsOn only those without pending
dependencies; a suspended JobSet gets suspended Jobs. A JobSet the webhooks would reject is an error.
Documents that are not JobSets are skipped.

Flags:
      --uid UID              uid of the JobSet (default ${PlaceholderUID})
  -n, --namespace NS         namespace of JobSets whose document has none (default "default")
      --feature-gates LIST   feature gates of the controller, e.g. RestartJob=true
  -h, --help                 show this help

Exit status: 0 success, 1 a JobSet is rejected, 2 usage error or a file cannot be read or parsed.
`;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      uid: { type: "string", default: PlaceholderUID },
      namespace: { type: "string", short: "n", default: "default" },
      "feature-gates": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(help);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError("exactly one FILE is required (use - for stdin)");
  const gates = featureGatesFlag(values["feature-gates"]);

  const read = await readDocuments(positionals);
  if (read.errors.length > 0) {
    for (const e of read.errors) process.stderr.write(`${formatSourceError(e)}\n`);
    return 2;
  }
  const out: KubeObject[] = [];
  for (const doc of read.documents) {
    const where = at(doc.file, doc.start);
    if (!isObject(doc.value) || doc.value.kind !== Kind || doc.value.apiVersion !== ApiVersion) {
      process.stderr.write(`${where}: skipped: not a ${Kind} ${ApiVersion}\n`);
      continue;
    }
    try {
      out.push(...planObjects(doc.value, { uid: values.uid, namespace: values.namespace, gates }));
    } catch (err) {
      if (!(err instanceof PlanError)) throw err;
      process.stderr.write(`${where}: ${err.message}\n`);
      return 1;
    }
  }
  process.stdout.write(out.map((o) => toYaml(o)).join("---\n"));
  return 0;
}
