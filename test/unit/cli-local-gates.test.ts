// The --feature-gates flag of `jobset up` / `jobset run` (their local cluster): parsing, how it combines
// with --workload-api and with a JobSet's spec.scheduling, that it survives `up --detach`, how the gates
// are shown, and what gate InPlaceRestart installs (the in-place restart agent's permissions).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import { AgentPolicyName, AgentServiceAccountName } from "../../src/agent/rbac.ts";
import { defaultFeatureGates, parseFeatureGates } from "../../src/api/features.ts";
import type { JobSet } from "../../src/api/types.ts";
import {
  AgentPermissionsNamespace,
  agentPermissions,
  controllerGates,
  gatesOn,
  localClusterGates,
  nonDefaultGates,
  parseGatesFlag,
} from "../../src/cli/local-gates.ts";
import { ephemeralGates, parseRunFlags } from "../../src/cli/run.ts";
import { detachedArgv, parseUpFlags } from "../../src/cli/up.ts";
import { UsageError } from "../../src/cli/usage.ts";
import { resourcePath } from "../../src/runtime/resources.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));

/** `jobset ARGS` from the sources (bin/jobset.js would prefer a dist/ left by `npm run build`). */
function cli(...args: string[]) {
  const state = mkdtempSync(join(tmpdir(), "jobset-gates-test-"));
  try {
    const r = spawnSync(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        'const { main } = await import("./src/cli/main.ts"); process.exitCode = await main(process.argv.slice(1));',
        ...args,
      ],
      { cwd: root, encoding: "utf8", env: { ...process.env, JOBSET_STATE_DIR: state, KUBECONFIG: "" } },
    );
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  } finally {
    rmSync(state, { recursive: true, force: true });
  }
}

const up = (...args: string[]) => {
  const o = parseUpFlags(args);
  assert.ok(o);
  return o;
};
const run = (...args: string[]) => {
  const o = parseRunFlags([...args, "jobset.yaml"]);
  assert.ok(o);
  return o;
};
const gates = (m: Record<string, boolean>) => parseFeatureGates(m);
const scheduled = { spec: { scheduling: { schedulingPolicy: { gang: {} } } } } as JobSet;
const plain = { spec: {} } as JobSet;

describe("--feature-gates of the local cluster", () => {
  test("the flag: every gate (defaults under the flag's values) and the gates it names", () => {
    assert.deepEqual(parseGatesFlag(undefined), { gates: defaultFeatureGates, explicit: {} });
    assert.deepEqual(parseGatesFlag("InPlaceRestart=true, RestartJob=TRUE,ElasticJobSet=false"), {
      gates: gates({ InPlaceRestart: true, RestartJob: true }),
      explicit: { InPlaceRestart: true, RestartJob: true, ElasticJobSet: false },
    });
  });

  test("a bad value is a UsageError naming the flag, as for lint/plan", () => {
    const bad: [string, RegExp][] = [
      ["Nope=true", /^--feature-gates: unrecognized feature gate: Nope \(known gates: InPlaceRestart, /],
      ["InPlaceRestart", /^--feature-gates: missing bool value for feature gate InPlaceRestart/],
      ["InPlaceRestart=yes", /^--feature-gates: invalid value of InPlaceRestart=yes, want true or false$/],
      ["TLSOptions=false", /^--feature-gates: cannot set feature gate TLSOptions to false, feature is locked to true$/],
    ];
    for (const [value, message] of bad) {
      for (const parse of [() => parseUpFlags(["--feature-gates", value]), () => run("--feature-gates", value)])
        assert.throws(parse, (e: unknown) => e instanceof UsageError && message.test(e.message), value);
    }
  });

  test("jobset up: the controller's gates, defaults without the flag", () => {
    assert.deepEqual(up().gates, defaultFeatureGates);
    assert.deepEqual(
      up("--feature-gates", "InPlaceRestart=true,RestartJob=true").gates,
      gates({ InPlaceRestart: true, RestartJob: true }),
    );
    assert.deepEqual(up("--feature-gates=ElasticJobSet=true").gates, gates({ ElasticJobSet: true }));
  });

  test("jobset up: --workload-api is gate JobSetWorkloadAwareSchedulingAPI; it contradicts =false", () => {
    const w = gates({ JobSetWorkloadAwareSchedulingAPI: true });
    assert.deepEqual(up("--workload-api").gates, w);
    assert.deepEqual(up("--feature-gates", "JobSetWorkloadAwareSchedulingAPI=true").gates, w);
    assert.deepEqual(up("--workload-api", "--feature-gates", "JobSetWorkloadAwareSchedulingAPI=true").gates, w);
    assert.deepEqual(
      up("--workload-api", "--feature-gates", "InPlaceRestart=true").gates,
      gates({ JobSetWorkloadAwareSchedulingAPI: true, InPlaceRestart: true }),
    );
    assert.throws(
      () => up("--workload-api", "--feature-gates", "JobSetWorkloadAwareSchedulingAPI=false"),
      (e: unknown) =>
        e instanceof UsageError &&
        e.message ===
          "--workload-api turns feature gate JobSetWorkloadAwareSchedulingAPI on, --feature-gates sets it to false: drop one of the two",
    );
  });

  test("jobset up --detach: the background process gets --feature-gates (both spellings) and the same gates", () => {
    for (const argv of [
      ["--detach", "--nodes", "2", "--feature-gates", "InPlaceRestart=true,RestartJob=true"],
      ["--feature-gates=InPlaceRestart=true,RestartJob=true", "-d", "--nodes", "2"],
    ]) {
      const child = detachedArgv(argv);
      assert.ok(!child.includes("--detach") && !child.includes("-d"), child.join(" "));
      const parent = up(...argv);
      const background = up(...child);
      assert.equal(parent.detach, true);
      assert.equal(background.detach, false);
      assert.deepEqual(background.gates, parent.gates);
      assert.deepEqual(background.gates, gates({ InPlaceRestart: true, RestartJob: true }));
      assert.deepEqual(background.nodes, parent.nodes);
    }
  });

  test("jobset run: the ephemeral cluster's gates; spec.scheduling turns the Workload API gate on unless the flag sets it", () => {
    assert.equal(run().featureGatesGiven, false);
    assert.deepEqual(ephemeralGates(run(), [plain]), defaultFeatureGates);
    assert.deepEqual(
      ephemeralGates(run(), [plain, scheduled]),
      gates({ JobSetWorkloadAwareSchedulingAPI: true }),
      "a gang JobSet gets the Workload API, as before the flag",
    );
    const ipr = run("--feature-gates", "InPlaceRestart=true");
    assert.equal(ipr.featureGatesGiven, true);
    assert.deepEqual(ephemeralGates(ipr, [plain]), gates({ InPlaceRestart: true }));
    assert.deepEqual(
      ephemeralGates(ipr, [scheduled]),
      gates({ InPlaceRestart: true, JobSetWorkloadAwareSchedulingAPI: true }),
    );
    // An explicit value wins over spec.scheduling (the webhook then refuses the JobSet, saying why).
    const off = run("--feature-gates", "JobSetWorkloadAwareSchedulingAPI=false");
    assert.deepEqual(ephemeralGates(off, [scheduled]), defaultFeatureGates);
    const on = run("--feature-gates", "JobSetWorkloadAwareSchedulingAPI=true");
    assert.deepEqual(ephemeralGates(on, [plain]), gates({ JobSetWorkloadAwareSchedulingAPI: true }));
  });

  test("localClusterGates keeps the flag's gates when nothing changes them", () => {
    const flag = parseGatesFlag("RestartJob=true");
    assert.equal(localClusterGates(flag), flag.gates);
    assert.equal(localClusterGates(flag, { workloadApi: false, wantsScheduling: false }), flag.gates);
  });

  test("startLocalCluster's gates: the Workload API is served exactly when its gate is on", () => {
    assert.deepEqual(controllerGates({}), { gates: defaultFeatureGates, workloadApi: false });
    const ipr = gates({ InPlaceRestart: true });
    assert.deepEqual(controllerGates({ featureGates: ipr }), { gates: ipr, workloadApi: false });
    const w = gates({ JobSetWorkloadAwareSchedulingAPI: true, RestartJob: true });
    assert.deepEqual(controllerGates({ featureGates: w }), { gates: w, workloadApi: true });
  });

  test("the gates that are on, as the startup output shows them", () => {
    assert.equal(gatesOn(defaultFeatureGates), "TLSOptions");
    assert.equal(gatesOn(gates({ RestartJob: true, InPlaceRestart: true })), "InPlaceRestart, RestartJob, TLSOptions");
    assert.equal(nonDefaultGates(defaultFeatureGates), false);
    assert.equal(nonDefaultGates(gates({ ElasticJobSet: true })), true);
  });

  test("gate InPlaceRestart installs the shipped agent component: its objects, at their API paths", () => {
    const installed = agentPermissions();
    assert.equal(AgentPermissionsNamespace, "default");
    assert.deepEqual(
      installed.map(({ resource, object }) => resourcePath({ ...resource, name: object.metadata.name })),
      [
        `/api/v1/namespaces/default/serviceaccounts/${AgentServiceAccountName}`,
        `/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles/${AgentServiceAccountName}`,
        `/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings/${AgentServiceAccountName}`,
        `/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies/${AgentPolicyName}`,
        `/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings/${AgentPolicyName}`,
      ],
    );
    // The same objects as config/components/in-place-restart-agent (generated from src/agent/rbac.ts).
    const dir = join(root, "config", "components", "in-place-restart-agent");
    const shipped = ["service_account.yaml", "admission_policy.yaml"].flatMap((f) =>
      parseAllDocuments(readFileSync(join(dir, f), "utf8"))
        .map((d) => d.toJS() as unknown)
        .filter((d) => d != null),
    );
    assert.deepEqual(
      installed.map((x) => x.object),
      shipped,
    );
  });

  test("the CLI: a bad --feature-gates is a usage error (exit 2) before anything starts; --help documents it", () => {
    const bad = cli("up", "--feature-gates", "Nope=true");
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /^jobset up: --feature-gates: unrecognized feature gate: Nope /);
    assert.match(bad.stderr, /^Run "jobset up --help" for usage\.$/m);
    const contradiction = cli(
      "up",
      "-d",
      "--workload-api",
      "--feature-gates",
      "JobSetWorkloadAwareSchedulingAPI=false",
    );
    assert.equal(contradiction.code, 2, contradiction.stderr);
    assert.match(
      contradiction.stderr,
      /^jobset up: --workload-api turns feature gate JobSetWorkloadAwareSchedulingAPI on/,
    );
    const runBad = cli("run", "--feature-gates", "InPlaceRestart=maybe", "missing.yaml");
    assert.equal(runBad.code, 2, runBad.stderr);
    assert.match(
      runBad.stderr,
      /^jobset run: --feature-gates: invalid value of InPlaceRestart=maybe, want true or false$/m,
    );
    for (const command of ["up", "run"]) {
      const help = cli(command, "--help");
      assert.equal(help.code, 0);
      assert.match(
        help.stdout,
        /^ {6}--feature-gates LIST {3}the JobSet controller's feature gates, e\.g\. InPlaceRestart=true/m,
      );
    }
  });
});
