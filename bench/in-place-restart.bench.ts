// In-place restart benchmark (`node bench/in-place-restart.bench.ts`; docs/in-place-restart.md): how long
// a 64-pod JobSet takes to be running again after one worker fails, with restartStrategy InPlaceRestart
// against Recreate, on a fresh local `full` control plane (etcd, kube-apiserver, Job controller,
// scheduler), the controller in this process (gate InPlaceRestart on) and the fake kubelet's exec
// runtime on 8 nodes. Every pod runs the real agent (`jobset agent`, the shipped ServiceAccount/Role/
// admission policy) wrapping a shell worker (main container mode) or beside it (sidecar mode), in every
// strategy (with Recreate the agent lifts its barrier at once), so all pay for 64 agent processes
// starting again:
//
//   inPlace    one worker exits 7 → its container restarts, the controller marks attempt 0 stale, the
//              other 63 agents exit with the restart code, the kubelet restarts them in the same pods,
//              the 64 agents annotate 1, the barrier lifts.
//   sidecar    the same with the agent as a native sidecar (startup probe on the pod's address holds the
//              worker container back) and RestartAllContainers rules: the failing worker restarts every
//              container of its pod, the 63 stale agents exit 42 and restart every container of theirs.
//   recreate   one worker exits 7 → its pod fails (restartPolicy Never, backoffLimit 0), the Job fails,
//              the JobSet deletes its 8 Jobs and creates 8 new ones, the Job controller creates 64 pods,
//              the scheduler binds them, the kubelet starts them.
//
// Measured from the failure (the file that makes the worker exit is written) to (a) `running`: every
// pod of the JobSet Running in the API with its container running (in place: restartCount +1;
// Recreate: the new pods) and (b) `workers`: every worker started again (the barrier lifted). Median of
// --runs rounds (a new JobSet each round). Results: bench/results/in-place-restart.local.json
// (gitignored); --reference also writes bench/results/in-place-restart.json (committed). Checked
// against bench/in-place-restart-thresholds.json; exits 1 when a threshold is broken.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { AgentServiceAccountName } from "../src/agent/rbac.ts";
import { JobSetResource, Labels } from "../src/api/constants.ts";
import { defaultJobSet } from "../src/api/defaults.ts";
import { parseFeatureGates } from "../src/api/features.ts";
import type { Pod } from "../src/api/k8s.ts";
import type { JobSet } from "../src/api/types.ts";
import { startControllerManager } from "../src/app/controller-manager.ts";
import { agentPermissions } from "../src/cli/local-gates.ts";
import { startControlPlane } from "../src/local/controlplane.ts";
import { startFakeKubelet } from "../src/local/kubelet.ts";
import { KubeClient } from "../src/runtime/client.ts";
import { Resources, resourcePath } from "../src/runtime/resources.ts";
import { agentContainer, sidecarModePod } from "../test/support/agent.ts";
import { writeChecked } from "./results-file.ts";

const here = dirname(fileURLToPath(import.meta.url));
const { values: flags } = parseArgs({
  options: {
    runs: { type: "string", default: "2" },
    pods: { type: "string", default: "64" },
    reference: { type: "boolean", default: false },
  },
});
const runs = Number(flags.runs);
const PODS = Number(flags.pods);
const PER_JOB = 8;
const log = (l: string) => process.stderr.write(`${l}\n`);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Thresholds {
  inPlace: { maxMedianRunningSeconds: number; maxMedianWorkersSeconds: number };
  sidecar: { maxMedianRunningSeconds: number; maxMedianWorkersSeconds: number };
  recreate: { maxMedianWorkersSeconds: number };
}

/** inPlace: the agent wraps the worker (main container mode); sidecar: a native sidecar agent and RestartAllContainers rules. */
type Mode = "inPlace" | "sidecar" | "recreate";

const workerScript = (dir: string) =>
  [
    `D=${dir}`,
    'echo "$POD_NAME" >> "$D/starts"',
    "while :; do",
    '  if [ -f "$D/fail-$POD_NAME" ]; then rm -f "$D/fail-$POD_NAME"; exit 7; fi',
    '  if [ -f "$D/finish" ]; then exit 0; fi',
    "  sleep 0.2",
    "done",
  ].join("\n");

/** The pod's containers: the agent wrapping the worker, or the agent as a native sidecar beside it. */
function podContainers(mode: Mode, dir: string) {
  if (mode !== "sidecar")
    return {
      restartPolicy: mode === "inPlace" ? "OnFailure" : "Never",
      containers: [agentContainer(workerScript(dir))],
    };
  return sidecarModePod(workerScript(dir));
}

function benchJobSet(name: string, ns: string, dir: string, mode: Mode): JobSet {
  const inPlace = mode !== "recreate";
  const strategy = inPlace ? "InPlaceRestart" : "Recreate";
  return defaultJobSet({
    apiVersion: "jobset.x-k8s.io/v1alpha2",
    kind: "JobSet",
    metadata: { name, namespace: ns },
    spec: {
      failurePolicy: { maxRestarts: 100, restartStrategy: strategy },
      replicatedJobs: [
        {
          name: "w",
          replicas: PODS / PER_JOB,
          template: {
            spec: {
              completions: PER_JOB,
              parallelism: PER_JOB,
              backoffLimit: inPlace ? 2147483647 : 0,
              ...(inPlace ? { podReplacementPolicy: "Failed" } : {}),
              template: {
                spec: {
                  serviceAccountName: AgentServiceAccountName,
                  terminationGracePeriodSeconds: 1,
                  ...podContainers(mode, dir),
                },
              },
            },
          },
        },
      ],
    },
  } as JobSet);
}

async function main(): Promise<number> {
  const thresholds = JSON.parse(readFileSync(join(here, "in-place-restart-thresholds.json"), "utf8")) as Thresholds;
  const cp = await startControlPlane({ profile: "full", log: (l) => log(`control plane: ${l}`) });
  const admin = await KubeClient.create({ kubeconfig: cp.kubeconfigPath, qps: 0, userAgent: "jobset-ipr-bench" });
  const scratch = mkdtempSync(join(os.tmpdir(), "jobset-ipr-bench-"));
  const kubelet = await startFakeKubelet({ client: admin, nodes: 8, runtime: "exec", log: () => {} });
  const controller = await startControllerManager({
    client: { kubeconfig: cp.kubeconfigPath, userAgent: "jobset-ipr-bench-controller" },
    gates: parseFeatureGates({ InPlaceRestart: true }),
  });
  try {
    const ns = "ipr-bench";
    await admin.create(resourcePath(Resources.namespaces), {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: ns },
    });
    for (const { resource, object } of agentPermissions(ns)) await admin.create(resourcePath(resource), object);
    const jsPath = resourcePath({ ...JobSetResource, namespace: ns });
    const podsPath = resourcePath({ ...Resources.pods, namespace: ns });

    const starts = (dir: string): Map<string, number> => {
      const m = new Map<string, number>();
      const f = join(dir, "starts");
      if (!existsSync(f)) return m;
      for (const line of readFileSync(f, "utf8").split("\n").filter(Boolean)) m.set(line, (m.get(line) ?? 0) + 1);
      return m;
    };
    const live = async (name: string): Promise<Pod[]> =>
      (await admin.list<Pod>(podsPath, { labelSelector: `${Labels.JobSetName}=${name}` })).items.filter(
        (p) => !p.metadata?.deletionTimestamp && p.status?.phase !== "Failed" && p.status?.phase !== "Succeeded",
      );
    const allRunning = (pods: Pod[], pred: (p: Pod) => boolean) =>
      pods.length === PODS &&
      pods.every((p) => p.status?.phase === "Running" && !!p.status?.containerStatuses?.[0]?.state?.running && pred(p));
    const until = async (what: string, fn: () => Promise<boolean>, timeoutMs = 600_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!(await fn())) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await sleep(100);
      }
    };

    const round = async (mode: Mode, i: number) => {
      const name = `${mode.toLowerCase()}-${i}`;
      const dir = mkdtempSync(join(scratch, `${name}-`));
      await admin.create(jsPath, benchJobSet(name, ns, dir, mode));
      let first: Pod[] = [];
      await until(`${name}: ${PODS} workers started`, async () => {
        first = await live(name);
        const s = starts(dir);
        return allRunning(first, () => true) && first.every((p) => s.get(p.metadata?.name ?? "") === 1);
      });
      const uids = new Set(first.map((p) => p.metadata?.uid));
      const victim = first[0]?.metadata?.name ?? "";
      const t0 = performance.now();
      writeFileSync(join(dir, `fail-${victim}`), "");
      let runningAt = 0;
      let workersAt = 0;
      await until(`${name}: every pod running again and every worker restarted`, async () => {
        const pods = await live(name);
        const s = starts(dir);
        const again =
          mode !== "recreate"
            ? (p: Pod) => uids.has(p.metadata?.uid) && (p.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1
            : (p: Pod) => !uids.has(p.metadata?.uid);
        if (!runningAt && allRunning(pods, again)) runningAt = performance.now();
        const restarted =
          mode !== "recreate"
            ? (p: Pod) => (s.get(p.metadata?.name ?? "") ?? 0) >= 2
            : (p: Pod) => (s.get(p.metadata?.name ?? "") ?? 0) >= 1;
        if (runningAt && !workersAt && pods.every(restarted)) workersAt = performance.now();
        return runningAt > 0 && workersAt > 0;
      });
      const r = { runningSeconds: (runningAt - t0) / 1000, workersSeconds: (workersAt - t0) / 1000 };
      log(
        `${name}: all pods running again after ${r.runningSeconds.toFixed(2)} s, all workers after ${r.workersSeconds.toFixed(2)} s`,
      );
      writeFileSync(join(dir, "finish"), "");
      await admin.delete(`${jsPath}/${name}`, { propagationPolicy: "Foreground" });
      await until(
        `${name}: pods gone`,
        async () =>
          (await admin.list<Pod>(podsPath, { labelSelector: `${Labels.JobSetName}=${name}` })).items.length === 0,
      );
      return r;
    };

    const inPlace: { runningSeconds: number; workersSeconds: number }[] = [];
    const sidecar: { runningSeconds: number; workersSeconds: number }[] = [];
    const recreate: { runningSeconds: number; workersSeconds: number }[] = [];
    for (let i = 0; i < runs; i++) {
      inPlace.push(await round("inPlace", i));
      sidecar.push(await round("sidecar", i));
      recreate.push(await round("recreate", i));
    }
    const summary = (xs: typeof inPlace) => ({
      medianRunningSeconds: median(xs.map((x) => x.runningSeconds)),
      medianWorkersSeconds: median(xs.map((x) => x.workersSeconds)),
      runs: xs,
    });
    const results = {
      date: new Date().toISOString(),
      machine: { cpus: os.cpus().length, loadavg: os.loadavg() },
      pods: PODS,
      nodes: 8,
      inPlace: summary(inPlace),
      sidecar: summary(sidecar),
      recreate: summary(recreate),
    };
    const checks = [
      {
        name: "inPlace median running s",
        value: results.inPlace.medianRunningSeconds,
        max: thresholds.inPlace.maxMedianRunningSeconds,
      },
      {
        name: "inPlace median workers s",
        value: results.inPlace.medianWorkersSeconds,
        max: thresholds.inPlace.maxMedianWorkersSeconds,
      },
      {
        name: "sidecar median running s",
        value: results.sidecar.medianRunningSeconds,
        max: thresholds.sidecar.maxMedianRunningSeconds,
      },
      {
        name: "sidecar median workers s",
        value: results.sidecar.medianWorkersSeconds,
        max: thresholds.sidecar.maxMedianWorkersSeconds,
      },
      {
        name: "recreate median workers s",
        value: results.recreate.medianWorkersSeconds,
        max: thresholds.recreate.maxMedianWorkersSeconds,
      },
    ];
    return writeChecked("in-place-restart", results, checks, { reference: flags.reference, log });
  } finally {
    await controller.stop();
    await kubelet.stop();
    await admin.close();
    await cp.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}

process.exitCode = await main();
