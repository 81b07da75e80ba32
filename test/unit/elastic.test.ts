import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { defaultFeatureGates } from "../../src/api/features.ts";
import type { JobSet } from "../../src/api/types.ts";
import { scalePatches } from "../../src/controller/elastic.ts";
import { plan } from "../../src/controller/plan.ts";
import { childJob, jobSet, rjob } from "../builders.ts";

const build = (p?: number, c?: number): JobSet => {
  const r = rjob("w").replicas(2);
  if (p !== undefined) r.parallelism(p);
  if (c !== undefined) r.completions(c);
  return jobSet("js", "ns").uid("u").replicatedJob(r).obj();
};

describe("scalePatches (§6.11)", () => {
  const cases: [string, JobSet, [number, number], boolean][] = [
    ["template changed: patch", build(4, 4), [2, 2], true],
    ["already equal: no patch", build(2, 2), [2, 2], false],
    ["template P != C: no patch", build(4, 3), [2, 2], false],
    ["template without values: no patch", build(), [1, 1], false],
  ];
  for (const [name, js, [jp, jc], want] of cases) {
    test(name, () => {
      const template = jobSet("js", "ns").uid("u").replicatedJob(rjob("w").replicas(2)).obj();
      const live = childJob(template, "w", 0).parallelism(jp).completions(jc).obj();
      const got = scalePatches(js, [live]);
      if (want) {
        const p = js.spec?.replicatedJobs?.[0]?.template.spec?.parallelism ?? 0;
        assert.deepEqual(got, [
          { name: "js-w-0", namespace: "ns", patch: { spec: { parallelism: p, completions: p } } },
        ]);
      } else assert.deepEqual(got, []);
    });
  }
  test("Jobs of unknown rjobs are skipped", () => {
    const js = build(4, 4);
    const other = jobSet("js", "ns").replicatedJob(rjob("x")).obj();
    assert.deepEqual(scalePatches(js, [childJob(other, "x", 0).parallelism(1).completions(1).obj()]), []);
  });
});

describe("elastic sync in plan()", () => {
  const js = build(3, 3);
  const jobs = [
    childJob(build(1, 1), "w", 0).obj(),
    childJob(build(1, 1), "w", 1).completed().obj(), // succeeded: untouched
  ];
  const run = (elastic: boolean) =>
    plan(
      { jobSet: js, jobs, serviceExists: true, now: new Date(0) },
      { gates: { ...defaultFeatureGates, ElasticJobSet: elastic } },
    );
  test("gate on: active Jobs patched", () => {
    assert.deepEqual(
      run(true).updates.scale.map((s) => [s.name, s.patch]),
      [["js-w-0", { spec: { parallelism: 3, completions: 3 } }]],
    );
  });
  test("gate off: nothing", () => assert.deepEqual(run(false).updates.scale, []));
});
