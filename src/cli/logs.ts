// `jobset logs JOBSET [POD]`: the output of one pod, of a replicated job's pods, or of all the JobSet's
// pods, from the pods/log API (on the local cluster, kube-apiserver proxies it to the fake kubelet).
import { parseArgs } from "node:util";
import { Labels } from "../api/constants.ts";
import type { Pod } from "../api/k8s.ts";
import { ApiError } from "../runtime/client.ts";
import { CliError, clusterHelp, clusterOptions, connect, explain } from "./cluster.ts";
import { containerStarted, fetchSnapshotForUser, logContainers, podLog, prefixLines } from "./fetch.ts";
import { UsageError } from "./usage.ts";

const help = `Usage: jobset logs JOBSET [POD] [flags]

Prints the logs of the JobSet's pods (every container that has started, init containers first), from
the pods/log API. With several pods or containers, each line is prefixed by [pod] or [pod/container].

Flags:
  -r, --replicated-job NAME  only the pods of this replicated job
  -c, --container NAME       only this container
  -p, --previous             the previous run of a restarted container
      --tail N               the last N lines of each container
      --prefix               always prefix lines, even for one container
${clusterHelp}
  -h, --help                 show this help

On the local cluster (\`jobset up\`/\`jobset run\`), exec containers show what they printed; simulated
ones show a line when they start and one with their exit code.
`;

const sortPods = (a: Pod, b: Pod) =>
  (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? "", "en", { numeric: true });

export async function logs(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...clusterOptions,
      "replicated-job": { type: "string", short: "r" },
      container: { type: "string", short: "c" },
      previous: { type: "boolean", short: "p" },
      tail: { type: "string" },
      prefix: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(help);
    return 0;
  }
  if (positionals.length < 1 || positionals.length > 2) throw new UsageError("want JOBSET [POD]");
  const tail = values.tail === undefined ? undefined : Number(values.tail);
  if (tail !== undefined && (!Number.isInteger(tail) || tail < 0)) throw new UsageError("--tail wants a number ≥ 0");
  const [name = "", podName] = positionals;
  const { client, namespace } = await connect(values);
  try {
    const snap = await fetchSnapshotForUser(client, namespace, name);
    const rjobs = (snap.jobset.spec?.replicatedJobs ?? []).map((r) => r.name);
    const rjob = values["replicated-job"];
    if (rjob && !rjobs.includes(rjob))
      throw new CliError(`JobSet ${name} has no replicated job "${rjob}" (it has ${rjobs.join(", ") || "none"})`);
    let pods = [...snap.pods].sort(sortPods);
    if (rjob) pods = pods.filter((p) => p.metadata?.labels?.[Labels.ReplicatedJobName] === rjob);
    if (podName) {
      pods = pods.filter((p) => p.metadata?.name === podName);
      if (pods.length === 0) throw new CliError(`JobSet ${name} has no pod "${podName}"`);
    }
    if (pods.length === 0) {
      process.stderr.write(`JobSet ${namespace}/${name} has no pods${rjob ? ` in replicated job ${rjob}` : ""}\n`);
      return 0;
    }
    if (!pods.some((p) => logContainers(p, values.container).length > 0))
      throw new CliError(`no container "${values.container}" in the selected pods`);
    const previous = values.previous === true;
    // Containers still waiting to start have no log yet (with --previous: containers never restarted).
    const targets = pods.flatMap((p) =>
      logContainers(p, values.container)
        .filter((c) => containerStarted(p, c, previous))
        .map((c) => ({ pod: p.metadata?.name ?? "", container: c })),
    );
    const multiContainer = pods.some((p) => logContainers(p, values.container).length > 1);
    const prefixed = values.prefix === true || targets.length > 1;
    let code = 0;
    for (const t of targets) {
      let text: string;
      try {
        text = await podLog(client, namespace, t.pod, t.container, {
          previous,
          ...(tail !== undefined ? { tailLines: tail } : {}),
        });
      } catch (e) {
        // The kubelet's answer about one container (gone meanwhile, no previous run...): say so, go on.
        if (!(e instanceof ApiError) || (e.code !== 400 && e.code !== 404)) throw e;
        process.stderr.write(`jobset logs: ${t.pod}/${t.container}: ${e.message}\n`);
        code = 1;
        continue;
      }
      const prefix = prefixed ? `[${multiContainer ? `${t.pod}/${t.container}` : t.pod}] ` : "";
      process.stdout.write(prefix ? prefixLines(text, prefix) : text);
    }
    if (targets.length === 0)
      process.stderr.write(previous ? "no restarted container: no previous logs\n" : "no container has started yet\n");
    return code;
  } catch (e) {
    throw explain(e, client.server);
  } finally {
    await client.close();
  }
}
