import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Annotations, Labels, NamespacedJobKey, NoScheduleTaintKey } from "../../src/api/constants.ts";
import { defaultJobSet } from "../../src/api/defaults.ts";
import type { Job } from "../../src/api/k8s.ts";
import type { JobSet } from "../../src/api/types.ts";
import { coordinatorEndpoint, coordinatorEndpointFor } from "../../src/controller/coordinator.ts";
import {
  constructJob,
  constructJobs,
  exclusivePlacementAnnotations,
  globalJobIndex,
  globalReplicas,
  groupReplicas,
  jobGroupIndex,
  jobKey,
  jobName,
  managedKeys,
} from "../../src/controller/jobs.ts";
import { jobSet, rjob, testContainer } from "../builders.ts";

const off = { restartJobGate: false };
const on = { restartJobGate: true };

function only(js: JobSet, rjobName: string, idx: number, opts = off): Job {
  const r = js.spec?.replicatedJobs?.find((x) => x.name === rjobName);
  assert.ok(r);
  return constructJob(js, r, idx, opts);
}

const podMeta = (job: Job) => job.spec?.template.metadata ?? {};
const podSpec = (job: Job) => job.spec?.template.spec;

describe("job names and keys", () => {
  test("name is <js>-<rjob>-<idx>, no padding", () => {
    assert.equal(jobName("pytorch", "workers", 0), "pytorch-workers-0");
    assert.equal(jobName(jobSet("js").obj(), "leader", 12), "js-leader-12");
    assert.equal(jobName("js", "", 3), "js--3");
  });
  test("SHA-1 test vectors (spec §4.1)", () => {
    assert.equal(jobKey("default", "pytorch-workers-0"), "e9c32417bf7f6390f44a2ef26e6f278b2d102443");
    assert.equal(jobKey("default", "js-leader-0"), "fa35219ba3b909f11c52cb9f99aec8247a2e4d27");
    assert.equal(jobKey("default", "pytorch-workers-1"), "70fae4b2573c53fa774ca449a24aa5ec82e89ab0");
    assert.match(jobKey("ns", "x"), /^[0-9a-f]{40}$/);
  });
});

describe("worked example (spec §4.1.1)", () => {
  const js = defaultJobSet(
    jobSet("pytorch", "default")
      .uid("u-1")
      .restarts(0)
      .replicatedJob(rjob("workers").replicas(2).parallelism(2).completions(2))
      .obj(),
  );
  const managed = {
    "jobset.sigs.k8s.io/jobset-name": "pytorch",
    "jobset.sigs.k8s.io/jobset-uid": "u-1",
    "jobset.sigs.k8s.io/replicatedjob-name": "workers",
    "jobset.sigs.k8s.io/restart-attempt": "0",
    "jobset.sigs.k8s.io/replicatedjob-replicas": "2",
    "jobset.sigs.k8s.io/global-replicas": "2",
    "jobset.sigs.k8s.io/job-index": "1",
    "jobset.sigs.k8s.io/job-key": "70fae4b2573c53fa774ca449a24aa5ec82e89ab0",
    "jobset.sigs.k8s.io/job-global-index": "1",
    "jobset.sigs.k8s.io/group-name": "default",
    "jobset.sigs.k8s.io/group-replicas": "2",
    "jobset.sigs.k8s.io/job-group-index": "1",
  };
  test("the Job for index 1 is exactly the spec's", () => {
    const expected: Job = {
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: {
        name: "pytorch-workers-1",
        namespace: "default",
        labels: managed,
        annotations: managed,
        ownerReferences: [
          {
            apiVersion: "jobset.x-k8s.io/v1alpha2",
            kind: "JobSet",
            name: "pytorch",
            uid: "u-1",
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      spec: {
        completionMode: "Indexed",
        parallelism: 2,
        completions: 2,
        suspend: false,
        template: {
          metadata: { labels: managed, annotations: managed },
          spec: { restartPolicy: "OnFailure", subdomain: "pytorch", containers: [testContainer()] },
        },
      },
    };
    assert.deepEqual(only(js, "workers", 1), expected);
  });
  test("managed keys come in upstream's order", () => {
    assert.deepEqual(Object.keys(only(js, "workers", 1).metadata?.labels ?? {}), Object.keys(managed));
  });
  test("constructJobs yields every desired Job in spec order", () => {
    assert.deepEqual(
      constructJobs(js, off).map((j) => j.metadata?.name),
      ["pytorch-workers-0", "pytorch-workers-1"],
    );
  });
  test("does not modify its input", () => {
    const before = structuredClone(js);
    constructJobs(js, on);
    assert.deepEqual(js, before);
  });
});

describe("index example (spec §4.1): A×2 g1, B×3 g2, C×1 g1", () => {
  const js = jobSet("js", "ns")
    .uid("u")
    .replicatedJob(rjob("A").replicas(2).groupName("g1"))
    .replicatedJob(rjob("B").replicas(3).groupName("g2"))
    .replicatedJob(rjob("C").replicas(1).groupName("g1"))
    .obj();
  const rows: [string, number, number, string, number, number][] = [
    // rjob, idx, global index, group, group replicas, group index
    ["A", 0, 0, "g1", 3, 0],
    ["A", 1, 1, "g1", 3, 1],
    ["B", 0, 2, "g2", 3, 0],
    ["B", 1, 3, "g2", 3, 1],
    ["B", 2, 4, "g2", 3, 2],
    ["C", 0, 5, "g1", 3, 2],
  ];
  test("global replicas is 6", () => assert.equal(globalReplicas(js), 6));
  for (const [r, idx, global, group, groupReps, groupIdx] of rows) {
    test(`${r}-${idx}`, () => {
      const rj = js.spec?.replicatedJobs?.find((x) => x.name === r);
      assert.ok(rj);
      assert.equal(globalJobIndex(js, r, idx), global);
      assert.equal(groupReplicas(js, group), groupReps);
      assert.equal(jobGroupIndex(js, rj, idx), groupIdx);
      const job = only(js, r, idx);
      for (const meta of [job.metadata ?? {}, podMeta(job)]) {
        for (const m of [meta.labels, meta.annotations]) {
          assert.equal(m?.[Labels.GlobalReplicas], "6");
          assert.equal(m?.[Labels.JobGlobalIndex], String(global));
          assert.equal(m?.[Labels.GroupName], group);
          assert.equal(m?.[Labels.GroupReplicas], String(groupReps));
          assert.equal(m?.[Labels.JobGroupIndex], String(groupIdx));
          assert.equal(m?.[Labels.JobIndex], String(idx));
          assert.equal(m?.[Labels.ReplicatedJobReplicas], String(rj.replicas));
        }
      }
    });
  }
  test("constructJobs order", () => {
    assert.deepEqual(
      constructJobs(js, off).map((j) => j.metadata?.name),
      ["js-A-0", "js-A-1", "js-B-0", "js-B-1", "js-B-2", "js-C-0"],
    );
  });
  test("absent replicas/groupName mean 1/default", () => {
    const r = rjob("x").obj();
    delete r.replicas;
    delete r.groupName;
    const bare = jobSet("js").replicatedJob(r).replicatedJob(rjob("y").replicas(2)).obj();
    assert.equal(globalReplicas(bare), 3);
    assert.deepEqual(managedKeys(bare, r, 0, off)[Labels.GroupReplicas], "3");
    assert.equal(globalJobIndex(bare, "y", 1), 2);
  });
});

describe("user metadata and overrides", () => {
  const js = jobSet("js", "ns")
    .uid("u")
    .restarts(3)
    .replicatedJob(
      rjob("w")
        .replicas(1)
        .jobLabels({ team: "a", [Labels.JobIndex]: "99" })
        .jobAnnotations({ note: "x" })
        .podLabels({ app: "w", [Labels.JobSetName]: "spoof" })
        .podAnnotations({ pa: "1" }),
    )
    .annotations({ "not-propagated": "1" })
    .labels({ "not-propagated": "1" })
    .obj();
  const job = only(js, "w", 0);
  test("Job metadata keeps user template labels/annotations; managed keys win", () => {
    assert.equal(job.metadata?.labels?.team, "a");
    assert.equal(job.metadata?.labels?.[Labels.JobIndex], "0");
    assert.equal(job.metadata?.annotations?.note, "x");
    assert.equal(job.metadata?.labels?.app, undefined);
    assert.equal(job.metadata?.labels?.["not-propagated"], undefined);
    assert.equal(job.metadata?.annotations?.["not-propagated"], undefined);
  });
  test("pod template keeps pod labels/annotations, not Job template ones; managed keys win", () => {
    const m = podMeta(job);
    assert.equal(m.labels?.app, "w");
    assert.equal(m.labels?.[Labels.JobSetName], "js");
    assert.equal(m.annotations?.pa, "1");
    assert.equal(m.labels?.team, undefined);
    assert.equal(m.annotations?.note, undefined);
  });
  test("restart-attempt is status.restarts", () => {
    assert.equal(job.metadata?.labels?.[Labels.RestartAttempt], "3");
    assert.equal(podMeta(job).annotations?.[Labels.RestartAttempt], "3");
  });
  test("every managed key is both label and annotation with the same value, on Job and pod template", () => {
    const keys = managedKeys(js, js.spec?.replicatedJobs?.[0] ?? rjob("w").obj(), 0, on);
    for (const [k, v] of Object.entries(keys)) {
      for (const meta of [job.metadata ?? {}, podMeta(job)]) {
        if (k === Labels.JobRestartAttempt) continue;
        assert.equal(meta.labels?.[k], v, k);
        assert.equal(meta.annotations?.[k], v, k);
      }
    }
  });
});

describe("RestartJob gate label", () => {
  const base = jobSet("js", "ns").uid("u").replicatedJob(rjob("w").replicas(3));
  test("gate off: no job-restart-attempt", () => {
    const job = only(base.obj(), "w", 0, off);
    assert.equal(job.metadata?.labels?.[Labels.JobRestartAttempt], undefined);
    assert.equal(podMeta(job).annotations?.[Labels.JobRestartAttempt], undefined);
  });
  test("gate on, no status entry: 0", () => {
    const job = only(base.obj(), "w", 2, on);
    assert.equal(job.metadata?.labels?.[Labels.JobRestartAttempt], "0");
    assert.equal(job.metadata?.annotations?.[Labels.JobRestartAttempt], "0");
    assert.equal(podMeta(job).labels?.[Labels.JobRestartAttempt], "0");
  });
  test("gate on: jobRestarts[jobIdx]", () => {
    const js = base
      .restarts(1)
      .replicatedJobStatus({ name: "w", jobRestarts: [0, 4, 1] })
      .obj();
    assert.equal(only(js, "w", 1, on).metadata?.labels?.[Labels.JobRestartAttempt], "4");
    assert.equal(only(js, "w", 2, on).metadata?.labels?.[Labels.JobRestartAttempt], "1");
    assert.equal(only(js, "w", 1, on).metadata?.labels?.[Labels.RestartAttempt], "1");
    const keys = Object.keys(only(js, "w", 1, on).metadata?.labels ?? {});
    assert.equal(keys.indexOf(Labels.JobRestartAttempt), keys.indexOf(Labels.RestartAttempt) + 1);
  });
});

describe("coordinator", () => {
  test("endpoint formula with subdomain fallback", () => {
    assert.equal(coordinatorEndpointFor("js", { replicatedJob: "leader" }, "js"), "js-leader-0-0.js");
    const js = jobSet("js").coordinator({ replicatedJob: "leader", jobIndex: 1, podIndex: 2 });
    assert.equal(coordinatorEndpoint(js.obj()), "js-leader-1-2.js");
    assert.equal(coordinatorEndpoint(js.enableDNSHostnames(true, "sub").obj()), "js-leader-1-2.sub");
    assert.equal(coordinatorEndpoint(jobSet("js").obj()), undefined);
  });
  test("label and annotation on Job and pod template of every rjob", () => {
    const js = jobSet("js", "ns")
      .replicatedJob(rjob("leader"))
      .replicatedJob(rjob("workers").replicas(2))
      .coordinator({ replicatedJob: "leader", jobIndex: 0, podIndex: 0 })
      .network({ enableDNSHostnames: true, subdomain: "net" })
      .obj();
    for (const job of constructJobs(js, off)) {
      for (const meta of [job.metadata ?? {}, podMeta(job)]) {
        assert.equal(meta.labels?.[Labels.Coordinator], "js-leader-0-0.net");
        assert.equal(meta.annotations?.[Labels.Coordinator], "js-leader-0-0.net");
      }
    }
  });
  test("absent without spec.coordinator", () => {
    const job = only(jobSet("js").replicatedJob(rjob("w")).obj(), "w", 0);
    assert.equal(job.metadata?.labels?.[Labels.Coordinator], undefined);
  });
});

describe("exclusive placement propagation (spec §4.1, §7.1)", () => {
  const T = Annotations.ExclusiveTopology;
  const N = Annotations.NodeSelectorStrategy;
  type Row = {
    name: string;
    js: Record<string, string>;
    rjobAnn: Record<string, string>;
    podAnn?: Record<string, string>;
    job: Record<string, string | undefined>;
    pod: Record<string, string | undefined>;
    nodeSelector: boolean;
  };
  const rows: Row[] = [
    {
      name: "none",
      js: {},
      rjobAnn: {},
      job: { [T]: undefined, [N]: undefined },
      pod: { [T]: undefined },
      nodeSelector: false,
    },
    {
      name: "JobSet level",
      js: { [T]: "zone" },
      rjobAnn: {},
      job: { [T]: "zone", [N]: undefined },
      pod: { [T]: "zone", [N]: undefined },
      nodeSelector: false,
    },
    {
      name: "rjob level",
      js: {},
      rjobAnn: { [T]: "rack" },
      job: { [T]: "rack" },
      pod: { [T]: "rack" },
      nodeSelector: false,
    },
    {
      name: "rjob wins over JobSet",
      js: { [T]: "zone" },
      rjobAnn: { [T]: "rack" },
      job: { [T]: "rack" },
      pod: { [T]: "rack" },
      nodeSelector: false,
    },
    {
      name: "JobSet node-selector strategy",
      js: { [T]: "zone", [N]: "true" },
      rjobAnn: {},
      job: { [T]: "zone", [N]: "true" },
      pod: { [T]: "zone", [N]: "true" },
      nodeSelector: true,
    },
    {
      name: "rjob node-selector strategy",
      js: {},
      rjobAnn: { [T]: "rack", [N]: "yes" },
      job: { [T]: "rack", [N]: "yes" },
      pod: { [T]: "rack", [N]: "yes" },
      nodeSelector: true,
    },
    {
      name: "node-selector without topology is not copied from the JobSet",
      js: { [N]: "true" },
      rjobAnn: {},
      job: { [T]: undefined, [N]: undefined },
      pod: { [N]: undefined },
      nodeSelector: false,
    },
    {
      name: "JobSet strategy kept when rjob overrides only the topology",
      js: { [T]: "zone", [N]: "a" },
      rjobAnn: { [T]: "rack" },
      job: { [T]: "rack", [N]: "a" },
      pod: { [T]: "rack", [N]: "a" },
      nodeSelector: true,
    },
    {
      name: "rjob strategy overrides JobSet strategy",
      js: { [T]: "zone", [N]: "a" },
      rjobAnn: { [T]: "rack", [N]: "b" },
      job: { [T]: "rack", [N]: "b" },
      pod: { [T]: "rack", [N]: "b" },
      nodeSelector: true,
    },
    // The Job's own metadata starts from the Job template annotations, so a lone rjob node-selector
    // annotation combines with the JobSet's topology on the Job (not on the pod template).
    {
      name: "rjob node-selector alone + JobSet topology",
      js: { [T]: "zone" },
      rjobAnn: { [N]: "x" },
      job: { [T]: "zone", [N]: "x" },
      pod: { [T]: "zone", [N]: undefined },
      nodeSelector: true,
    },
    {
      name: "rjob node-selector alone",
      js: {},
      rjobAnn: { [N]: "x" },
      job: { [T]: undefined, [N]: "x" },
      pod: { [N]: undefined },
      nodeSelector: false,
    },
    {
      name: "pod-template annotations are overridden",
      js: { [T]: "zone" },
      rjobAnn: {},
      podAnn: { [T]: "user" },
      job: { [T]: "zone" },
      pod: { [T]: "zone" },
      nodeSelector: false,
    },
  ];
  for (const row of rows) {
    test(row.name, () => {
      const r = rjob("w")
        .jobAnnotations(row.rjobAnn)
        .podAnnotations(row.podAnn ?? {});
      const js = jobSet("js", "ns").annotations(row.js).replicatedJob(r).obj();
      const job = only(js, "w", 0);
      for (const [k, v] of Object.entries(row.job)) {
        assert.equal(job.metadata?.annotations?.[k], v, `job ${k}`);
        assert.equal(job.metadata?.labels?.[k], undefined, `never a label: ${k}`);
      }
      for (const [k, v] of Object.entries(row.pod)) {
        assert.equal(podMeta(job).annotations?.[k], v, `pod ${k}`);
        assert.equal(podMeta(job).labels?.[k], undefined, `never a label: ${k}`);
      }
      const spec = podSpec(job);
      if (row.nodeSelector) {
        assert.deepEqual(spec?.nodeSelector, { [NamespacedJobKey]: "ns_js-w-0" });
        assert.deepEqual(spec?.tolerations, [{ key: NoScheduleTaintKey, operator: "Exists", effect: "NoSchedule" }]);
      } else {
        assert.equal(spec?.nodeSelector, undefined);
        assert.equal(spec?.tolerations, undefined);
      }
    });
  }
  test("exclusivePlacementAnnotations helper", () => {
    const js = jobSet("js")
      .annotations({ [T]: "zone", [N]: "1" })
      .obj();
    assert.deepEqual(exclusivePlacementAnnotations(js, rjob("w").obj()), { [T]: "zone", [N]: "1" });
  });
  test("node-selector strategy merges with user nodeSelector and tolerations", () => {
    const toleration = { key: "gpu", operator: "Exists", effect: "NoSchedule" };
    const js = jobSet("js", "team")
      .annotations({ [T]: "zone", [N]: "true" })
      .replicatedJob(rjob("w").replicas(2).nodeSelector({ pool: "a" }).tolerations(toleration))
      .obj();
    const spec = podSpec(only(js, "w", 1));
    assert.deepEqual(spec?.nodeSelector, { pool: "a", [NamespacedJobKey]: "team_js-w-1" });
    assert.deepEqual(spec?.tolerations, [
      toleration,
      { key: NoScheduleTaintKey, operator: "Exists", effect: "NoSchedule" },
    ]);
  });
});

describe("suspend", () => {
  const cases: [string, boolean | undefined, boolean][] = [
    ["unset ⇒ false", undefined, false],
    ["false", false, false],
    ["true", true, true],
  ];
  for (const [name, suspend, want] of cases) {
    test(name, () => {
      const b = jobSet("js").replicatedJob(rjob("w"));
      if (suspend !== undefined) b.suspend(suspend);
      assert.equal(only(b.obj(), "w", 0).spec?.suspend, want);
    });
  }
  test("the template's spec.suspend is overwritten", () => {
    const r = rjob("w").obj();
    if (r.template.spec) r.template.spec.suspend = true;
    assert.equal(only(jobSet("js").replicatedJob(r).obj(), "w", 0).spec?.suspend, false);
  });
});

describe("DNS hostnames", () => {
  const r = rjob("w").subdomain("user-value");
  test("enabled: subdomain = JobSet name, overriding the template", () => {
    const js = jobSet("js").network({ enableDNSHostnames: true }).replicatedJob(r).obj();
    assert.equal(podSpec(only(js, "w", 0))?.subdomain, "js");
  });
  test("enabled with network.subdomain", () => {
    const js = jobSet("js").network({ enableDNSHostnames: true, subdomain: "net" }).replicatedJob(r).obj();
    assert.equal(podSpec(only(js, "w", 0))?.subdomain, "net");
  });
  test("empty network.subdomain falls back to the name", () => {
    const js = jobSet("js").network({ enableDNSHostnames: true, subdomain: "" }).replicatedJob(r).obj();
    assert.equal(podSpec(only(js, "w", 0))?.subdomain, "js");
  });
  test("disabled: template left alone", () => {
    const js = jobSet("js").network({ enableDNSHostnames: false }).replicatedJob(r).obj();
    assert.equal(podSpec(only(js, "w", 0))?.subdomain, "user-value");
    const bare = jobSet("js").replicatedJob(rjob("w")).obj();
    assert.equal(podSpec(only(bare, "w", 0))?.subdomain, undefined);
  });
});

describe("volumeClaimPolicies volumes", () => {
  const pvc = (name: string) => ({ metadata: { name }, spec: { accessModes: ["ReadWriteOnce"] } });
  test("volume appended for each mounted template, policy then template order", () => {
    const js = jobSet("js", "ns")
      .volumeClaimPolicy([pvc("data"), pvc("unused"), pvc("cache")], "Delete")
      .volumeClaimPolicy([pvc("init")], "Retain")
      .replicatedJob(
        rjob("w")
          .volumeMount("cache")
          .volumeMount("data")
          .initContainers({ name: "init", image: "busybox", volumeMounts: [{ name: "init", mountPath: "/i" }] }),
      )
      .obj();
    assert.deepEqual(podSpec(only(js, "w", 0))?.volumes, [
      { name: "data", persistentVolumeClaim: { claimName: "data-js" } },
      { name: "cache", persistentVolumeClaim: { claimName: "cache-js" } },
      { name: "init", persistentVolumeClaim: { claimName: "init-js" } },
    ]);
  });
  test("existing volumes are kept first; rjobs without the mount get nothing", () => {
    const r = rjob("a").volumeMount("data").obj();
    const pod = r.template.spec?.template.spec;
    assert.ok(pod);
    pod.volumes = [{ name: "scratch", emptyDir: {} }];
    const js = jobSet("js")
      .volumeClaimPolicy([pvc("data")])
      .replicatedJob(r)
      .replicatedJob(rjob("b"))
      .obj();
    assert.deepEqual(podSpec(only(js, "a", 0))?.volumes, [
      { name: "scratch", emptyDir: {} },
      { name: "data", persistentVolumeClaim: { claimName: "data-js" } },
    ]);
    assert.equal(podSpec(only(js, "b", 0))?.volumes, undefined);
  });
});
