// `jobset logs JOBSET [POD]`: the output of one pod, of a replicated job's pods, or of all the JobSet's
// pods. On the local cluster of `jobset up` the fake kubelet's captured files are read (it serves no
// pods/log); on any other cluster, the pods/log API.
import { parseArgs } from "node:util";
import { Labels } from "../api/constants.ts";
import type { Pod } from "../api/k8s.ts";
import { CliError, clusterHelp, clusterOptions, connect, explain, explainNotFound } from "./cluster.ts";
import { apiLogs, fetchSnapshot, fileLogs, type LogSource, logContainers, prefixLines } from "./fetch.ts";
import { UsageError } from "./usage.ts";

const help = `Usage: jobset logs JOBSET [POD] [flags]

Prints the logs of the JobSet's pods (every container, init containers first). With several pods or
containers, each line is prefixed by [pod] or [pod/container].

Flags:
  -r, --replicated-job NAME  only the pods of this replicated job
  -c, --container NAME       only this container
  -p, --previous             the previous run of a restarted container (pods/log API only)
      --tail N               the last N lines of each container (pods/log API only)
      --prefix               always prefix lines, even for one container
${clusterHelp}
  -h, --help                 show this help

On the local cluster (\`jobset up\`/\`jobset run\`) only the exec runtime captures output; simulated
pods have no logs.
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
  const { client, namespace, local } = await connect(values);
  try {
    let snap: Awaited<ReturnType<typeof fetchSnapshot>>;
    try {
      snap = await fetchSnapshot(client, namespace, name);
    } catch (e) {
      throw explainNotFound(explain(e, client.server), `JobSet ${namespace}/${name}`);
    }
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
    const source: LogSource = local
      ? fileLogs(local.kubeletDir)
      : apiLogs(client, { previous: values.previous, ...(tail !== undefined ? { tailLines: tail } : {}) });
    const targets = pods.flatMap((p) =>
      logContainers(p, values.container).map((c) => ({ pod: p.metadata?.name ?? "", container: c, many: 0 })),
    );
    if (targets.length === 0) throw new CliError(`no container "${values.container}" in the selected pods`);
    const multiContainer = pods.some((p) => logContainers(p, values.container).length > 1);
    const prefixed = values.prefix === true || targets.length > 1;
    for (const t of targets) {
      const text = await source.read(namespace, t.pod, t.container);
      const prefix = prefixed ? `[${multiContainer ? `${t.pod}/${t.container}` : t.pod}] ` : "";
      process.stdout.write(prefix ? prefixLines(text, prefix) : text);
    }
    return 0;
  } catch (e) {
    throw explain(e, client.server);
  } finally {
    await client.close();
  }
}
