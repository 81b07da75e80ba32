// spec.scheduling: groups and names (api/scheduling.ts), defaulting, and every validation rule
// (api/scheduling-validation.ts) through the webhook entry points validateCreate/validateUpdate.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, test } from "node:test";
import { defaultJobSet } from "../../src/api/defaults.ts";
import { defaultFeatureGates, type FeatureGates } from "../../src/api/features.ts";
import { formatFieldError } from "../../src/api/field-errors.ts";
import { hashedName, minCountOf, schedulingGroups, shortHash, workloadName } from "../../src/api/scheduling.ts";
import { SchedulingMessages } from "../../src/api/scheduling-validation.ts";
import type { JobSet, JobSetScheduling } from "../../src/api/types.ts";
import { validateCreate, validateUpdate } from "../../src/api/validation.ts";
import { jobSet, rjob } from "../builders.ts";

const on: FeatureGates = { ...defaultFeatureGates, JobSetWorkloadAwareSchedulingAPI: true };
const sha = (x: string) => createHash("sha1").update(x).digest("hex").slice(0, 10);

/** A JobSet `js` with rjobs leader (1×1) and workers (2×4), and the given scheduling. */
function gangJs(scheduling: JobSetScheduling | undefined, mutate: (js: JobSet) => void = () => {}): JobSet {
  const js = jobSet("js", "ns")
    .replicatedJob(rjob("leader").replicas(1).parallelism(1).completions(1))
    .replicatedJob(rjob("workers").replicas(2).parallelism(4).completions(4))
    .obj();
  if (scheduling !== undefined && js.spec) js.spec.scheduling = scheduling;
  mutate(js);
  return js;
}
const podSpec = (js: JobSet, i: number) => {
  const spec = js.spec?.replicatedJobs?.[i]?.template.spec?.template?.spec;
  assert.ok(spec);
  return spec;
};
const errorsOf = (js: JobSet, gates = on) =>
  validateCreate(js, gates, { nameForValidation: "js" }).map(formatFieldError);

describe("scheduling names", () => {
  test("h() is the first 10 hex characters of sha1", () => {
    assert.equal(shortHash("JobSet/ns/js"), sha("JobSet/ns/js"));
  });
  test("hashedName keeps the hash and stays within 63 characters", () => {
    const long = "x".repeat(80);
    const n = hashedName(long, "id");
    assert.equal(n.length, 63);
    assert.ok(n.endsWith(`-${sha("id")}`));
    assert.equal(hashedName("a-", "id").length <= 63, true);
    assert.equal(hashedName(`${"y".repeat(51)}-zz`, "id"), `${"y".repeat(51)}-${sha("id")}`);
  });
  test("Workload name is <js>-h(JobSet/<ns>/<js>)", () => {
    assert.equal(workloadName(gangJs({})), `js-${sha("JobSet/ns/js")}`);
  });
});

describe("schedulingGroups", () => {
  test("no spec.scheduling: no groups", () => {
    assert.equal(schedulingGroups(gangJs(undefined)), undefined);
  });
  test("top level: one gang over every pod, named like the Workload", () => {
    const [g, ...rest] = schedulingGroups(gangJs({ schedulingPolicy: { gang: {} } })) ?? [];
    assert.equal(rest.length, 0);
    assert.ok(g);
    const wl = `js-${sha("JobSet/ns/js")}`;
    assert.deepEqual(
      {
        t: g.templateName,
        pg: g.podGroupName,
        rjobs: g.replicatedJobs,
        pods: g.pods,
        min: minCountOf(g),
        policy: g.policy,
      },
      { t: wl, pg: wl, rjobs: ["leader", "workers"], pods: 9, min: 9, policy: "gang" },
    );
  });
  test("top level: absent policy is gang; explicit minCount is kept; basic has no minCount meaning", () => {
    assert.equal(schedulingGroups(gangJs({}))?.[0]?.policy, "gang");
    const g = schedulingGroups(gangJs({ schedulingPolicy: { gang: { minCount: 5 } } }))?.[0];
    assert.ok(g);
    assert.equal(minCountOf(g), 5);
    assert.equal(schedulingGroups(gangJs({ schedulingPolicy: { basic: {} } }))?.[0]?.policy, "basic");
  });
  test("parallelism defaults to 1 and is capped by completions", () => {
    const js = gangJs({}, (j) => {
      const spec = j.spec?.replicatedJobs?.[1]?.template.spec;
      if (spec) {
        spec.parallelism = 8;
        spec.completions = 3;
      }
      delete j.spec?.replicatedJobs?.[0]?.template.spec?.parallelism;
    });
    assert.equal(schedulingGroups(js)?.[0]?.pods, 1 + 2 * 3);
  });
  test("dependsOn / InOrder: one gang per ReplicatedJob", () => {
    const js = gangJs({ schedulingPolicy: { gang: {} } }, (j) => {
      if (j.spec) j.spec.startupPolicy = { startupPolicyOrder: "InOrder" };
    });
    const groups = schedulingGroups(js) ?? [];
    assert.deepEqual(
      groups.map((g) => [g.templateName, g.podGroupName, g.pods]),
      [
        [`leader-${sha("ReplicatedJob/ns/js/leader")}`, `js-leader-${sha("ReplicatedJob/ns/js/leader")}`, 1],
        [`workers-${sha("ReplicatedJob/ns/js/workers")}`, `js-workers-${sha("ReplicatedJob/ns/js/workers")}`, 8],
      ],
    );
  });
  test("entries: per ReplicatedJob, grouped (spec order), and per Job", () => {
    const groups =
      schedulingGroups(
        gangJs({
          replicatedJobs: [
            { targetReplicatedJobs: ["workers", "leader"], schedulingPolicy: { gang: { minCount: 3 } } },
          ],
        }),
      ) ?? [];
    assert.deepEqual(
      groups.map((g) => [g.templateName, g.replicatedJobs, g.pods, minCountOf(g)]),
      [[`leader-workers-${sha("ReplicatedJobGroup/ns/js/leader,workers")}`, ["leader", "workers"], 9, 3]],
    );
    const perJob =
      schedulingGroups(
        gangJs({
          replicatedJobs: [
            { targetReplicatedJobs: ["leader"], schedulingPolicy: { basic: {} } },
            { targetReplicatedJobs: ["workers"], job: { schedulingConstraints: { topology: [{ key: "rack" }] } } },
          ],
        }),
      ) ?? [];
    assert.deepEqual(
      perJob.map((g) => [g.templateName, g.podGroupName, g.jobIndex, g.pods, g.policy, g.constraints]),
      [
        [
          `leader-${sha("ReplicatedJob/ns/js/leader")}`,
          `js-leader-${sha("ReplicatedJob/ns/js/leader")}`,
          undefined,
          1,
          "basic",
          undefined,
        ],
        [
          `workers-0-${sha("Job/ns/js/workers/0")}`,
          `js-workers-0-${sha("Job/ns/js/workers/0")}`,
          0,
          4,
          "gang",
          { topology: [{ key: "rack" }] },
        ],
        [
          `workers-1-${sha("Job/ns/js/workers/1")}`,
          `js-workers-1-${sha("Job/ns/js/workers/1")}`,
          1,
          4,
          "gang",
          { topology: [{ key: "rack" }] },
        ],
      ],
    );
  });
});

describe("defaulting", () => {
  test("top level without a policy gets gang: {} (no minCount)", () => {
    assert.deepEqual(defaultJobSet(gangJs({})).spec?.scheduling, { schedulingPolicy: { gang: {} } });
  });
  test("an explicit policy and per-entry configurations are left alone", () => {
    assert.deepEqual(defaultJobSet(gangJs({ schedulingPolicy: { basic: {} } })).spec?.scheduling, {
      schedulingPolicy: { basic: {} },
    });
    const entries: JobSetScheduling = { replicatedJobs: [{ targetReplicatedJobs: ["leader", "workers"] }] };
    assert.deepEqual(defaultJobSet(gangJs(entries)).spec?.scheduling, entries);
  });
  test("no spec.scheduling: nothing added", () => {
    assert.equal(defaultJobSet(gangJs(undefined)).spec?.scheduling, undefined);
  });
});

const M = SchedulingMessages;
const createCases: { name: string; js: JobSet; gates?: FeatureGates; want: string[] }[] = [
  { name: "valid top-level gang", js: gangJs({ schedulingPolicy: { gang: {} } }), want: [] },
  {
    name: "valid gang with topology and disruption",
    js: gangJs({
      schedulingPolicy: { gang: { minCount: 9 } },
      schedulingConstraints: { topology: [{ key: "topology.kubernetes.io/rack" }] },
      disruptionMode: { all: {} },
    }),
    want: [],
  },
  { name: "no scheduling, gate off", js: gangJs(undefined), gates: defaultFeatureGates, want: [] },
  {
    name: "gate off",
    js: gangJs({ schedulingPolicy: { gang: {} } }),
    gates: defaultFeatureGates,
    want: [`spec.scheduling: Forbidden: ${M.gateOff}`],
  },
  {
    name: "schedulingGroup in the pod template",
    js: gangJs({}, (j) => {
      podSpec(j, 1).schedulingGroup = { podGroupName: "mine" };
    }),
    want: [`spec.replicatedJobs[1].template.spec.template.spec.schedulingGroup: Forbidden: ${M.schedulingGroupSet}`],
  },
  {
    name: "top level and replicatedJobs together",
    js: gangJs({ schedulingPolicy: { gang: {} }, replicatedJobs: [{ targetReplicatedJobs: ["leader", "workers"] }] }),
    want: [`spec.scheduling: Invalid value: "": ${M.bothLevels}`],
  },
  {
    name: "policy with both basic and gang",
    js: gangJs({ schedulingPolicy: { basic: {}, gang: {} } }),
    want: [`spec.scheduling.schedulingPolicy: Invalid value: {"basic":{},"gang":{}}: ${M.policyOneOf}`],
  },
  {
    name: "empty policy",
    js: gangJs({ schedulingPolicy: {} }),
    want: [`spec.scheduling.schedulingPolicy: Invalid value: {}: ${M.policyOneOf}`],
  },
  {
    name: "disruption mode with neither",
    js: gangJs({ disruptionMode: {} }),
    want: [`spec.scheduling.disruptionMode: Invalid value: {}: ${M.disruptionOneOf}`],
  },
  {
    name: "invalid topology key",
    js: gangJs({ schedulingConstraints: { topology: [{ key: "not a key" }] } }),
    want: [
      "spec.scheduling.schedulingConstraints.topology[0].key: Invalid value: \"not a key\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
    ],
  },
  {
    name: "unknown, duplicate and missing targets",
    js: gangJs({
      replicatedJobs: [{ targetReplicatedJobs: ["leader", "nope"] }, { targetReplicatedJobs: ["leader"] }],
    }),
    want: [
      `spec.scheduling.replicatedJobs[0].targetReplicatedJobs[1]: Invalid value: "nope": ${M.unknownTarget("nope")}`,
      'spec.scheduling.replicatedJobs[1].targetReplicatedJobs[0]: Duplicate value: "leader"',
      `spec.scheduling.replicatedJobs: Required value: ${M.untargeted("workers")}`,
    ],
  },
  {
    name: "entry without targets",
    js: gangJs({ replicatedJobs: [{ targetReplicatedJobs: ["leader", "workers"] }, {}] }),
    want: ["spec.scheduling.replicatedJobs[1].targetReplicatedJobs: Required value: name at least one replicatedJob"],
  },
  {
    name: "job with two targets and a leaf field",
    js: gangJs({
      replicatedJobs: [{ targetReplicatedJobs: ["leader", "workers"], schedulingPolicy: { gang: {} }, job: {} }],
    }),
    want: [
      `spec.scheduling.replicatedJobs[0].targetReplicatedJobs: Invalid value: ["leader","workers"]: ${M.jobOneTarget}`,
      `spec.scheduling.replicatedJobs[0].schedulingPolicy: Forbidden: ${M.jobLeafField("schedulingPolicy")}`,
    ],
  },
  {
    name: "minCount above the pods covered (top level)",
    js: gangJs({ schedulingPolicy: { gang: { minCount: 10 } } }),
    want: [`spec.scheduling.schedulingPolicy.gang.minCount: Invalid value: 10: ${M.minCountTooBig(10, 9)}`],
  },
  {
    name: "minCount above the pods covered (per Job)",
    js: gangJs({
      replicatedJobs: [
        { targetReplicatedJobs: ["leader"] },
        { targetReplicatedJobs: ["workers"], job: { schedulingPolicy: { gang: { minCount: 5 } } } },
      ],
    }),
    want: [
      `spec.scheduling.replicatedJobs[1].job.schedulingPolicy.gang.minCount: Invalid value: 5: ${M.minCountTooBig(5, 4)}`,
    ],
  },
  {
    name: "explicit top-level minCount with InOrder startup",
    js: gangJs({ schedulingPolicy: { gang: { minCount: 1 } } }, (j) => {
      if (j.spec) j.spec.startupPolicy = { startupPolicyOrder: "InOrder" };
    }),
    want: [`spec.scheduling.schedulingPolicy.gang.minCount: Invalid value: 1: ${M.minCountSequenced}`],
  },
  {
    name: "different priority classes and schedulers in one PodGroup",
    js: gangJs({}, (j) => {
      podSpec(j, 0).priorityClassName = "high";
      podSpec(j, 1).schedulerName = "other";
    }),
    want: [
      `spec.replicatedJobs[1].template.spec.template.spec.priorityClassName: Invalid value: "": ${M.samePriorityClass(`js-${sha("JobSet/ns/js")}`, "high", "")}`,
      `spec.replicatedJobs[1].template.spec.template.spec.schedulerName: Invalid value: "other": ${M.sameScheduler(`js-${sha("JobSet/ns/js")}`, "default-scheduler", "other")}`,
    ],
  },
  {
    name: "different priority classes in separate PodGroups are fine",
    js: gangJs(
      { replicatedJobs: [{ targetReplicatedJobs: ["leader"] }, { targetReplicatedJobs: ["workers"] }] },
      (j) => {
        podSpec(j, 0).priorityClassName = "high";
      },
    ),
    want: [],
  },
  {
    name: "more than 8 PodGroups",
    js: gangJs(
      { replicatedJobs: [{ targetReplicatedJobs: ["leader"] }, { targetReplicatedJobs: ["workers"], job: {} }] },
      (j) => {
        const w = j.spec?.replicatedJobs?.[1];
        if (w) w.replicas = 8;
      },
    ),
    want: [`spec.scheduling: Invalid value: 9: ${M.tooManyTemplates(9)}`],
  },
  {
    name: "exclusive topology with gang",
    js: gangJs({}, (j) => {
      j.metadata ??= {};
      j.metadata.annotations = { "alpha.jobset.sigs.k8s.io/exclusive-topology": "rack" };
    }),
    want: [`metadata.annotations[alpha.jobset.sigs.k8s.io/exclusive-topology]: Forbidden: ${M.exclusiveTopology}`],
  },
  {
    name: "exclusive topology with basic is fine",
    js: gangJs({ schedulingPolicy: { basic: {} } }, (j) => {
      j.metadata ??= {};
      j.metadata.annotations = { "alpha.jobset.sigs.k8s.io/exclusive-topology": "rack" };
    }),
    want: [],
  },
  {
    name: "resource claims: name, duplicate, exactly one source",
    js: gangJs({
      replicatedJobs: [
        { targetReplicatedJobs: ["leader"] },
        {
          targetReplicatedJobs: ["workers"],
          resourceClaims: [
            { name: "gpu", resourceClaimTemplateName: "t" },
            { name: "gpu", resourceClaimName: "c" },
            { name: "", resourceClaimName: "c", resourceClaimTemplateName: "t" },
          ],
        },
      ],
    }),
    want: [
      'spec.scheduling.replicatedJobs[1].resourceClaims[1].name: Duplicate value: "gpu"',
      "spec.scheduling.replicatedJobs[1].resourceClaims[2].name: Required value: a resource claim needs a name",
      `spec.scheduling.replicatedJobs[1].resourceClaims[2]: Invalid value: {"name":"","resourceClaimName":"c","resourceClaimTemplateName":"t"}: ${M.claimSource}`,
    ],
  },
];

describe("validateCreate: spec.scheduling", () => {
  for (const c of createCases) {
    test(c.name, () => {
      assert.deepEqual(errorsOf(c.js, c.gates), c.want);
    });
  }
});

describe("validateUpdate: spec.scheduling", () => {
  const base = (suspend: boolean, s: JobSetScheduling | undefined) =>
    gangJs(s, (j) => {
      if (j.spec) j.spec.suspend = suspend;
    });
  const upd = (n: JobSet, o: JobSet, gates = on) => validateUpdate(n, o, gates).map(formatFieldError);
  test("unchanged: allowed, even with the gate now off", () => {
    const js = base(false, { schedulingPolicy: { gang: {} } });
    assert.deepEqual(upd(structuredClone(js), js, defaultFeatureGates), []);
  });
  test("change while running: forbidden", () => {
    assert.deepEqual(
      upd(
        base(false, { schedulingPolicy: { gang: { minCount: 2 } } }),
        base(false, { schedulingPolicy: { gang: {} } }),
      ),
      [`spec.scheduling: Forbidden: ${M.immutableRunning}`],
    );
  });
  test("change while suspended keeping the PodGroups: allowed", () => {
    assert.deepEqual(
      upd(
        base(false, {
          schedulingPolicy: { gang: { minCount: 2 } },
          schedulingConstraints: { topology: [{ key: "rack" }] },
        }),
        base(true, { schedulingPolicy: { gang: {} } }),
      ),
      [],
    );
  });
  test("change while suspended moving Jobs to other PodGroups: forbidden", () => {
    assert.deepEqual(
      upd(
        base(true, { replicatedJobs: [{ targetReplicatedJobs: ["leader"] }, { targetReplicatedJobs: ["workers"] }] }),
        base(true, { schedulingPolicy: { gang: {} } }),
      ),
      [`spec.scheduling: Forbidden: ${M.podGroupNamesChanged}`],
    );
  });
  test("adding or removing spec.scheduling: forbidden", () => {
    assert.deepEqual(upd(base(true, {}), base(true, undefined)), [`spec.scheduling: Forbidden: ${M.addedOrRemoved}`]);
    assert.deepEqual(upd(base(true, undefined), base(true, {})), [`spec.scheduling: Forbidden: ${M.addedOrRemoved}`]);
  });
  test("gate off: adding or changing is refused", () => {
    assert.deepEqual(
      upd(
        base(true, { schedulingPolicy: { basic: {} } }),
        base(true, { schedulingPolicy: { gang: {} } }),
        defaultFeatureGates,
      ),
      [`spec.scheduling: Forbidden: ${M.gateOff}`],
    );
  });
  test("a suspended change is validated like a create", () => {
    assert.deepEqual(
      upd(base(true, { schedulingPolicy: { gang: { minCount: 99 } } }), base(true, { schedulingPolicy: { gang: {} } })),
      [`spec.scheduling.schedulingPolicy.gang.minCount: Invalid value: 99: ${M.minCountTooBig(99, 9)}`],
    );
  });
  test("parallelism change under gang scheduling: forbidden (elastic gate on)", () => {
    const old = base(false, {});
    const n = structuredClone(old);
    const spec = n.spec?.replicatedJobs?.[1]?.template.spec;
    if (spec) {
      spec.parallelism = 2;
      spec.completions = 2;
    }
    const errs = upd(n, old, { ...on, ElasticJobSet: true });
    assert.ok(
      errs.includes(`spec.replicatedJobs[1].template.spec.parallelism: Forbidden: ${M.parallelismGang}`),
      errs.join("\n"),
    );
  });
});

describe("minCount floor", () => {
  test("a group of 0 pods asks for minCount 1 (the API server's minimum)", () => {
    const js = jobSet("js", "ns").replicatedJob(rjob("w").replicas(0).parallelism(2)).obj();
    if (js.spec) js.spec.scheduling = {};
    const g = schedulingGroups(js)?.[0];
    assert.ok(g);
    assert.deepEqual([g.pods, minCountOf(g)], [0, 1]);
  });
});
