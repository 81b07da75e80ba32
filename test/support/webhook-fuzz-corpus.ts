// The generator of the admission fuzz corpus: seeded random and mutated JobSets and pods (a PRNG, so a
// seed replays a run). Used by test/unit/webhook-fuzz.test.ts (our server's invariants) and by
// test/compat/upstream-webhook.test.ts (our answers against upstream's server).
import { Labels } from "../../src/api/constants.ts";
import { jobSet, rjob } from "../builders.ts";
import { pod } from "./pods.ts";
import { prng } from "./random.ts";

export interface FuzzCorpus {
  rnd: () => number;
  pick<T>(xs: readonly T[]): T;
  int(n: number): number;
  randomScalar(): unknown;
  randomValue(depth?: number): unknown;
  mutate<T>(seed: T): T;
  jobsetSeeds(): unknown[];
  podSeeds(): unknown[];
}

export function fuzzCorpus(seed: number): FuzzCorpus {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const int = (n: number) => Math.floor(rnd() * n);

  const interestingStrings = [
    "",
    "Foo",
    "a".repeat(64),
    "x".repeat(300),
    "-",
    "a-b",
    "InPlaceRestart",
    "RestartJob",
    "RestartJobSet",
    "FailJobSet",
    "BlockingRecreate",
    "Any",
    "All",
    "InOrder",
    "Indexed",
    "NonIndexed",
    "Ready",
    "Complete",
    "Retain",
    "Delete",
    "jobset.sigs.k8s.io/jobset-controller",
    "kueue.x-k8s.io/multikueue",
    "0",
    "1",
    "rj",
    "rj2",
    "BackoffLimitExceeded",
    "PodFailurePolicy",
    "(",
    "ünïcödé",
    "a/b",
    "rack",
  ];
  const interestingNumbers = [0, 1, -1, 2, 5, 63, 64, 2147483647, 2147483648, -2147483649, 1.5, 1e21];

  function randomScalar(): unknown {
    switch (int(5)) {
      case 0:
        return pick(interestingStrings);
      case 1:
        return pick(interestingNumbers);
      case 2:
        return rnd() < 0.5;
      case 3:
        return null;
      default:
        return Math.random.name + int(1000);
    }
  }

  function randomValue(depth = 0): unknown {
    const r = rnd();
    if (depth > 3 || r < 0.5) return randomScalar();
    if (r < 0.75) return Array.from({ length: int(3) }, () => randomValue(depth + 1));
    const o: Record<string, unknown> = {};
    for (let i = 0; i < int(4); i++)
      o[pick(["name", "spec", "replicas", "template", "x", "metadata", "0"])] = randomValue(depth + 1);
    return o;
  }

  type Container = Record<string, unknown> | unknown[];

  /** All (container, key) slots of a JSON document. */
  function slots(doc: unknown): [Container, string | number][] {
    const out: [Container, string | number][] = [];
    const walk = (v: unknown) => {
      if (Array.isArray(v)) {
        v.forEach((x, i) => {
          out.push([v, i]);
          walk(x);
        });
      } else if (typeof v === "object" && v !== null) {
        for (const [k, x] of Object.entries(v)) {
          out.push([v as Record<string, unknown>, k]);
          walk(x);
        }
      }
    };
    walk(doc);
    return out;
  }

  function mutate<T>(seed: T): T {
    const doc = structuredClone(seed);
    const n = 1 + int(4);
    for (let i = 0; i < n; i++) {
      const all = slots(doc);
      if (all.length === 0) break;
      const [c, k] = pick(all);
      const op = int(6);
      if (Array.isArray(c)) {
        const idx = k as number;
        if (op === 0) c.splice(idx, 1);
        else if (op === 1) c.push(structuredClone(c[idx]));
        else if (op === 2) c[idx] = randomScalar();
        else if (op === 3) c[idx] = randomValue();
        else c.length = 0;
      } else {
        const obj = c as Record<string, unknown>;
        const key = k as string;
        if (op === 0) delete obj[key];
        else if (op === 1) obj[key] = randomScalar();
        else if (op === 2) obj[key] = randomValue();
        else if (op === 3)
          obj[pick(["name", "replicas", "groupName", "dependsOn", "subdomain", "managedBy", "extra"])] = randomScalar();
        else if (op === 4 && typeof obj[key] === "string") obj[key] = pick(interestingStrings);
        else if (typeof obj[key] === "number") obj[key] = pick(interestingNumbers);
        else obj[key] = structuredClone(obj[pick(Object.keys(obj))]);
      }
    }
    return doc;
  }

  function jobsetSeeds(): unknown[] {
    const base = jobSet("fuzz")
      .replicatedJob(rjob("leader").replicas(1))
      .replicatedJob(rjob("workers").replicas(3).parallelism(2).completions(2));
    const a = base.obj();
    const b = jobSet("fuzz-b")
      .replicatedJob(rjob("rj").replicas(2).completionMode("Indexed").completions(4).parallelism(4))
      .replicatedJob(rjob("rj2").dependsOn("rj", "Ready"))
      .successPolicy({ operator: "Any", targetReplicatedJobs: ["rj"] })
      .failurePolicy({
        maxRestarts: 3,
        rules: [{ name: "r", action: "RestartJobSet", onJobFailureReasons: ["BackoffLimitExceeded"] }],
      })
      .enableDNSHostnames(true, "sub")
      .coordinator({ replicatedJob: "rj", jobIndex: 0, podIndex: 0 })
      .obj();
    const c = jobSet("fuzz-c")
      .generateName("gen-")
      .replicatedJob(rjob("rj"))
      .managedBy("kueue.x-k8s.io/multikueue")
      .obj();
    const d = jobSet("fuzz-d")
      .replicatedJob(rjob("rj"))
      .volumeClaimPolicy([{ metadata: { name: "data" }, spec: { accessModes: ["ReadWriteOnce"] } }], "Retain")
      .obj();
    return [a, b, c, d];
  }

  function podSeeds(): unknown[] {
    const leader = pod("", { index: "0", owner: "u1" });
    const follower = pod("", { index: "1", owner: "u1", nodeSelector: { rack: "r1" } });
    const plain = pod("", { index: "2", exclusive: false });
    const ns = pod("", { index: "3", nodeSelectorStrategy: true });
    for (const p of [leader, follower, plain, ns]) {
      p.spec = { ...(p.spec ?? { containers: [] }), priority: 0 };
      p.metadata = { ...p.metadata, labels: { ...p.metadata?.labels, [Labels.JobSetName]: "js" } };
    }
    return [leader, follower, plain, ns];
  }

  return { rnd, pick, int, randomScalar, randomValue, mutate, jobsetSeeds, podSeeds };
}
