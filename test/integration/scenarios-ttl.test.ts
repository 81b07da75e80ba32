// ttlSecondsAfterFinished scenarios against the real API server (§6.9, §5.7): a finished JobSet is
// deleted with foreground propagation once `finish time + ttl` has passed (never before), with
// ttl 0 at once, and when the TTL is set only after finishing. The apiserver profile has no garbage
// collector: the deleted JobSet keeps its `foregroundDeletion` finalizer (and no further status is
// written, §5.2 step 2) until the test removes the finalizer, as upstream's integration tests do.
import type { JobSet } from "../../src/api/types.ts";
import { jobSet, rjob } from "../builders.ts";
import { jobSetsPath, runScenarios, type Scenario, type ScenarioContext, updateWithRetry } from "./scenario.ts";

const finishedAt = (js: JobSet) =>
  js.status?.conditions?.find((c) => (c.type === "Completed" || c.type === "Failed") && c.status === "True")
    ?.lastTransitionTime;

/** The JobSet is being deleted in the foreground, no earlier than `ttl` seconds after it finished. */
function deletedAfter(ttl: number) {
  return async (ctx: ScenarioContext): Promise<string | undefined> => {
    const js = await ctx.jobSet();
    const del = js.metadata?.deletionTimestamp;
    if (!del) return "no deletionTimestamp";
    if (!(js.metadata?.finalizers ?? []).includes("foregroundDeletion"))
      return `finalizers ${JSON.stringify(js.metadata?.finalizers)}: not a foreground deletion`;
    const fin = finishedAt(js);
    if (!fin) return "no finish time";
    return Date.parse(del) >= Date.parse(fin) + ttl * 1000
      ? undefined
      : `deleted at ${del}, finished at ${fin}, ttl ${ttl}s`;
  };
}

/** Removes the JobSet's foregroundDeletion finalizer (the garbage collector's part). */
async function releaseJobSet(ctx: ScenarioContext): Promise<void> {
  const p = `${jobSetsPath(ctx.namespace)}/${ctx.name}`;
  await updateWithRetry<JobSet>(ctx.client, p, p, (js) => {
    js.metadata = {
      ...js.metadata,
      finalizers: (js.metadata?.finalizers ?? []).filter((f) => f !== "foregroundDeletion"),
    };
    return true;
  });
}

const gone = {
  check: async (ctx: ScenarioContext) => ((await ctx.jobSetIfExists()) ? "JobSet still exists" : undefined),
};

function ttlScenario(): Scenario {
  let writes = -1;
  return {
    name: "6.9 a completed JobSet is deleted (Foreground) after its TTL",
    jobSet: jobSet("ttl").replicatedJob(rjob("w").replicas(2)).ttlSecondsAfterFinished(2),
    steps: [
      { expect: { jobs: 2 } },
      {
        do: (ctx) => ctx.completeJobs(),
        expect: { status: { terminalState: "Completed" } },
      },
      { name: "deleted once the TTL passed", expect: { deleted: true, check: deletedAfter(2) }, timeoutMs: 15_000 },
      {
        name: "no status write while deleting",
        do: async (ctx) => {
          await ctx.settled();
          writes = ctx.trace.statusWrites();
          await ctx.updateJobSet((js) => {
            js.metadata = { ...js.metadata, labels: { ...js.metadata?.labels, poke: "1" } };
          });
        },
        settle: true,
        expect: {
          check: async (ctx) =>
            ctx.trace.statusWrites() === writes ? undefined : "a status write after the deletion started",
        },
      },
      { name: "the garbage collector finishes", do: releaseJobSet, expect: gone },
    ],
  };
}

const scenarios: Scenario[] = [
  ttlScenario(),
  {
    name: "6.9 ttl 0 deletes a failed JobSet at once",
    jobSet: jobSet("ttl0").replicatedJob(rjob("w").replicas(1)).ttlSecondsAfterFinished(0),
    steps: [
      { expect: { jobs: 1 } },
      {
        do: (ctx) => ctx.failJob("ttl0-w-0"),
        expect: { deleted: true, check: deletedAfter(0) },
      },
      {
        name: "the Failed status was written before the deletion",
        expect: { status: { terminalState: "Failed" }, conditions: [{ type: "Failed", status: "True" }] },
      },
      { do: releaseJobSet, expect: gone },
    ],
  },
  {
    name: "6.9 a TTL set after finishing applies",
    jobSet: jobSet("ttll").replicatedJob(rjob("w").replicas(1)),
    steps: [
      { expect: { jobs: 1 } },
      { do: (ctx) => ctx.completeJobs(), expect: { status: { terminalState: "Completed" } } },
      { settle: true, expect: { deleted: false } },
      {
        do: (ctx) =>
          ctx.updateJobSet((js) => {
            js.spec = { ...js.spec, ttlSecondsAfterFinished: 1 };
          }),
        expect: { deleted: true, check: deletedAfter(1) },
        timeoutMs: 15_000,
      },
      { do: releaseJobSet, expect: gone },
    ],
  },
];

runScenarios("ttlSecondsAfterFinished (§6.9)", scenarios);
