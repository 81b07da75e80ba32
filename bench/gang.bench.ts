// Gang-scheduling benchmark (`node bench/gang.bench.ts`; docs/gang-scheduling.md, docs/benchmarks.md).
// Starts a fresh `full` control plane serving the Workload API (the real kube-scheduler with its gang
// plugins), the JobSet controller in this process (gate JobSetWorkloadAwareSchedulingAPI on) and a fake
// kubelet with 16 nodes of 4 CPUs, then times, for a JobSet of 8 Jobs × 8 pods (64 pods of 1 CPU: the
// nodes exactly full):
//
//   gang    with spec.scheduling (one PodGroup, minCount 64): all 64 pods placed in one pod-group cycle
//   plain   the same JobSet without spec.scheduling: the scheduler places the pods one by one
//
// the time from the JobSet's creation to every pod created and to every pod bound (polled every 25 ms),
// from every pod created to every pod bound, and the spread between the first and the last bind; the
// median of --runs runs of each, alternating.
//
// Results: bench/results/gang.local.json (gitignored); `--reference` also writes bench/results/gang.json
// (committed). Checked against bench/gang-thresholds.json; exits 1 when a threshold is broken.
import { readFileSync } from "node:fs";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { JobSetResource } from "../src/api/constants.ts";
import { defaultJobSet } from "../src/api/defaults.ts";
import { defaultFeatureGates } from "../src/api/features.ts";
import type { Pod } from "../src/api/k8s.ts";
import type { JobSet } from "../src/api/types.ts";
import { startControllerManager } from "../src/app/controller-manager.ts";
import { startControlPlane } from "../src/local/controlplane.ts";
import { SimPrefix, startFakeKubelet } from "../src/local/kubelet.ts";
import { KubeClient } from "../src/runtime/client.ts";
import { createLogger } from "../src/runtime/logger.ts";
import { Resources, resourcePath } from "../src/runtime/resources.ts";
import { jobSet, rjob } from "../test/builders.ts";
import { writeChecked } from "./results-file.ts";

const here = dirname(fileURLToPath(import.meta.url));
const { values: flags } = parseArgs({
  options: {
    runs: { type: "string", default: "3" },
    reference: { type: "boolean", default: false },
  },
});
const runs = Number(flags.runs);
const log = (l: string) => process.stderr.write(`${l}\n`);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
};
const round2 = (x: number) => Math.round(x * 100) / 100;

const Nodes = 16;
const NodeCpu = "4";
const Jobs = 8;
const PodsPerJob = 8;
const Pods = Jobs * PodsPerJob;

type Mode = "gang" | "plain";

interface Thresholds {
  gang: { maxMedianSecondsToAllBound: number };
  plain: { maxMedianSecondsToAllBound: number };
}

interface RunResult {
  /** Creation → every pod exists. */
  secondsToAllCreated: number;
  /** Creation → every pod has a node. */
  secondsToAllBound: number;
  /** Every pod exists → every pod has a node (the scheduler's share, binding included). */
  secondsFromAllCreatedToAllBound: number;
  /** First bind → last bind, as observed. */
  bindSpreadSeconds: number;
}

function benchJobSet(name: string, ns: string, mode: Mode): JobSet {
  const js = jobSet(name, ns)
    .replicatedJob(
      rjob("workers")
        .replicas(Jobs)
        .parallelism(PodsPerJob)
        .completions(PodsPerJob)
        .containers({ name: "main", image: "busybox", resources: { requests: { cpu: "1" } } })
        .podAnnotations({ [`${SimPrefix}duration`]: "forever" }),
    )
    .obj();
  if (mode === "gang" && js.spec) js.spec.scheduling = { schedulingPolicy: { gang: {} } };
  return defaultJobSet(js);
}

async function waitUntil(what: string, fn: () => Promise<boolean>, timeoutMs = 300_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function main(): Promise<number> {
  const thresholds = JSON.parse(readFileSync(join(here, "gang-thresholds.json"), "utf8")) as Thresholds;
  const cp = await startControlPlane({ profile: "full", workloadApi: true, log: (l) => log(`control plane: ${l}`) });
  const admin = await KubeClient.create({ kubeconfig: cp.kubeconfigPath, qps: 0, userAgent: "jobset-gang-bench" });
  const controller = await startControllerManager({
    client: { kubeconfig: cp.kubeconfigPath, userAgent: "jobset-gang-bench-controller" },
    telemetry: { logger: createLogger({ level: "silent", name: "bench" }) },
    gates: { ...defaultFeatureGates, JobSetWorkloadAwareSchedulingAPI: true },
  });
  const kubelet = await startFakeKubelet({
    client: admin,
    namePrefix: "bench",
    nodes: Array.from({ length: Nodes }, () => ({ cpu: NodeCpu })),
    log: () => {},
  });
  try {
    const podsOf = async (ns: string) =>
      (await admin.list<Pod>(resourcePath({ ...Resources.pods, namespace: ns }), {})).items;
    const once = async (mode: Mode, i: number): Promise<RunResult> => {
      const ns = `gang-bench-${mode}-${i}`;
      await admin.create(resourcePath(Resources.namespaces), {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name: ns },
      });
      const t0 = performance.now();
      await admin.create(resourcePath({ ...JobSetResource, namespace: ns }), benchJobSet("bench", ns, mode));
      let created = Number.NaN;
      let firstBound = Number.NaN;
      let result: RunResult | undefined;
      while (!result) {
        const pods = await podsOf(ns);
        const now = performance.now();
        const bound = pods.filter((p) => p.spec?.nodeName).length;
        if (Number.isNaN(created) && pods.length === Pods) created = now;
        if (Number.isNaN(firstBound) && bound > 0) firstBound = now;
        if (pods.length === Pods && bound === Pods) {
          if (mode === "gang" && pods.some((p) => p.spec?.schedulingGroup?.podGroupName === undefined))
            throw new Error("gang run: a pod is not linked to a PodGroup");
          result = {
            secondsToAllCreated: round2((created - t0) / 1000),
            secondsToAllBound: round2((now - t0) / 1000),
            secondsFromAllCreatedToAllBound: round2((now - created) / 1000),
            bindSpreadSeconds: round2((now - firstBound) / 1000),
          };
          log(`${mode} run ${i}: ${JSON.stringify(result)}`);
        } else {
          if (now - t0 > 300_000) throw new Error(`${mode} run ${i}: ${bound}/${pods.length} pods bound after 300 s`);
          await new Promise((r) => setTimeout(r, 25));
        }
      }
      // Free the nodes for the next run: the namespace and every pod in it gone.
      await admin.delete(resourcePath({ ...Resources.namespaces, name: ns }));
      await waitUntil(`namespace ${ns} gone`, async () => (await podsOf(ns)).length === 0);
      return result;
    };
    const results: Record<Mode, RunResult[]> = { gang: [], plain: [] };
    for (let i = 0; i < runs; i++)
      for (const mode of i % 2 === 0 ? (["gang", "plain"] as const) : (["plain", "gang"] as const))
        results[mode].push(await once(mode, i));
    const summary = (rs: RunResult[]) => ({
      medianSecondsToAllCreated: median(rs.map((r) => r.secondsToAllCreated)),
      medianSecondsToAllBound: median(rs.map((r) => r.secondsToAllBound)),
      medianSecondsFromAllCreatedToAllBound: median(rs.map((r) => r.secondsFromAllCreatedToAllBound)),
      medianBindSpreadSeconds: median(rs.map((r) => r.bindSpreadSeconds)),
      runs: rs,
    });
    const out = {
      date: new Date().toISOString(),
      machine: { cpus: os.availableParallelism(), loadAverage1m: round2(os.loadavg()[0] ?? 0) },
      setup: { nodes: Nodes, nodeCpu: NodeCpu, jobs: Jobs, podsPerJob: PodsPerJob, pods: Pods, podCpu: "1" },
      gang: summary(results.gang),
      plain: summary(results.plain),
    };
    const checks = [
      {
        name: "gang median seconds to all bound",
        value: out.gang.medianSecondsToAllBound,
        max: thresholds.gang.maxMedianSecondsToAllBound,
      },
      {
        name: "plain median seconds to all bound",
        value: out.plain.medianSecondsToAllBound,
        max: thresholds.plain.maxMedianSecondsToAllBound,
      },
    ];
    return writeChecked("gang", out, checks, { reference: flags.reference, stdout: true, log });
  } finally {
    await kubelet.stop();
    await controller.stop();
    await admin.close();
    await cp.stop();
  }
}

process.exitCode = await main();
