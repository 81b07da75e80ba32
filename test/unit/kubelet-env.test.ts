import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Container, Pod } from "../../src/api/k8s.ts";
import {
  containerArgv,
  EnvError,
  envSources,
  expandVars,
  resolveEnv,
  resolveFieldPath,
} from "../../src/local/kubelet-env.ts";

describe("expandVars (Kubernetes $(VAR) expansion)", () => {
  const vars: Record<string, string> = { A: "a", B: "bee", EMPTY: "" };
  const lookup = (n: string) => (Object.hasOwn(vars, n) ? vars[n] : undefined);
  const cases: [string, string][] = [
    ["$(A)", "a"],
    ["x$(A)y$(B)z", "xaybeez"],
    ["$(UNDEFINED)", "$(UNDEFINED)"],
    ["$(EMPTY)", ""],
    ["$$(A)", "$(A)"],
    ["$$$(A)", "$a"],
    ["$$", "$"],
    ["$A", "$A"],
    ["$(A", "$(A"],
    ["$", "$"],
    ["a$", "a$"],
    ["$()", "$()"],
    ["$(A)$(A)", "aa"],
    ["no vars", "no vars"],
    ["$" + "{A}", "$" + "{A}"], // shell syntax is not expanded
  ];
  for (const [input, want] of cases) test(JSON.stringify(input), () => assert.equal(expandVars(input, lookup), want));
});

const pod: Pod = {
  metadata: {
    name: "w-0",
    namespace: "ns1",
    uid: "u-1",
    labels: { app: "x", "jobset.sigs.k8s.io/jobset-name": "js" },
    annotations: { "batch.kubernetes.io/job-completion-index": "3" },
  },
  spec: { nodeName: "fake-node-0", serviceAccountName: "default", containers: [] },
  status: { podIP: "10.244.0.9", hostIP: "10.0.0.10" },
};

describe("resolveFieldPath", () => {
  const cases: [string, string | undefined][] = [
    ["metadata.name", "w-0"],
    ["metadata.namespace", "ns1"],
    ["metadata.uid", "u-1"],
    ["metadata.labels['app']", "x"],
    ["metadata.labels['jobset.sigs.k8s.io/jobset-name']", "js"],
    ["metadata.labels['missing']", ""],
    ["metadata.annotations['batch.kubernetes.io/job-completion-index']", "3"],
    ["metadata.labels", 'app="x"\njobset.sigs.k8s.io/jobset-name="js"'],
    ["spec.nodeName", "fake-node-0"],
    ["spec.serviceAccountName", "default"],
    ["status.podIP", "10.244.0.9"],
    ["status.hostIP", "10.0.0.10"],
    ["spec.bogus", undefined],
  ];
  for (const [path, want] of cases) test(path, () => assert.equal(resolveFieldPath(pod, path), want));
  test("runtime IPs win over the (stale) pod status", () => {
    assert.equal(resolveFieldPath(pod, "status.podIP", { podIP: "10.244.1.1" }), "10.244.1.1");
    assert.equal(resolveFieldPath(pod, "status.hostIP", { hostIP: "10.0.0.11" }), "10.0.0.11");
  });
});

describe("resolveEnv", () => {
  test("values, fieldRefs, JOB_COMPLETION_INDEX, $(VAR) against earlier vars only", () => {
    const c: Container = {
      name: "main",
      env: [
        {
          name: "JOB_COMPLETION_INDEX",
          valueFrom: { fieldRef: { fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" } },
        },
        { name: "APP", valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
        { name: "GREETING", value: "hi $(APP) #$(JOB_COMPLETION_INDEX) $(LATER) $$(APP)" },
        { name: "LATER", value: "l" },
        { name: "POD_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
        { name: "BASE", value: "$(HOSTNAME)" },
      ],
    };
    const r = resolveEnv(pod, c, { podIP: "10.244.0.5" }, undefined, { HOSTNAME: "h" });
    assert.deepEqual(r.env, {
      HOSTNAME: "h",
      JOB_COMPLETION_INDEX: "3",
      APP: "x",
      GREETING: "hi x #3 $(LATER) $(APP)",
      LATER: "l",
      POD_IP: "10.244.0.5",
      BASE: "h",
    });
    assert.deepEqual(r.warnings, []);
  });
  test("envFrom (prefix, secrets decoded) then env overrides", () => {
    const c: Container = {
      name: "main",
      envFrom: [{ configMapRef: { name: "cm" }, prefix: "CM_" }, { secretRef: { name: "s" } }],
      env: [
        { name: "CM_A", value: "override" },
        { name: "K", valueFrom: { configMapKeyRef: { name: "cm", key: "A" } } },
        { name: "S", valueFrom: { secretKeyRef: { name: "s", key: "pw" } } },
        { name: "OPT", valueFrom: { configMapKeyRef: { name: "nope", key: "x", optional: true } } },
      ],
    };
    assert.deepEqual(envSources(c), { configMaps: ["cm", "nope"], secrets: ["s"] });
    const sources = {
      configMaps: { cm: { A: "1", B: "2" }, nope: undefined },
      secrets: { s: { pw: Buffer.from("hunter2").toString("base64") } },
    };
    const r = resolveEnv(pod, c, {}, sources);
    assert.deepEqual(r.env, { CM_A: "override", CM_B: "2", pw: "hunter2", K: "1", S: "hunter2" });
  });
  test("missing required references throw EnvError", () => {
    const c1: Container = { name: "m", env: [{ name: "K", valueFrom: { configMapKeyRef: { name: "cm", key: "x" } } }] };
    assert.throws(() => resolveEnv(pod, c1), EnvError);
    const c2: Container = { name: "m", envFrom: [{ secretRef: { name: "s" } }] };
    assert.throws(() => resolveEnv(pod, c2), EnvError);
  });
  test("unsupported fieldPath gives a warning and an empty value", () => {
    const c: Container = { name: "m", env: [{ name: "X", valueFrom: { fieldRef: { fieldPath: "spec.bogus" } } }] };
    const r = resolveEnv(pod, c);
    assert.equal(r.env.X, "");
    assert.equal(r.warnings.length, 1);
  });
});

describe("containerArgv", () => {
  test("command then args, $(VAR)-expanded against the container env", () => {
    const c: Container = { name: "m", command: ["/bin/sh", "-c"], args: ["echo $(IDX) $IDX $$(IDX)"] };
    assert.deepEqual(containerArgv(c, { IDX: "2" }), ["/bin/sh", "-c", "echo 2 $IDX $(IDX)"]);
  });
  test("no command: args alone", () => assert.deepEqual(containerArgv({ name: "m", args: ["a"] }, {}), ["a"]));
});
