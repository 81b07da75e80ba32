import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { effectiveConfiguration, parseControllerFlags } from "../../src/cli/controller.ts";
import { UsageError } from "../../src/cli/usage.ts";

const file = [
  "apiVersion: config.jobset.x-k8s.io/v1alpha1",
  "kind: Configuration",
  "metrics: { bindAddress: ':9999' }",
  "health: { healthProbeBindAddress: ':7777' }",
  "leaderElection: { leaderElect: true }",
  "clientConnection: { qps: 20, burst: 30 }",
  "featureGates: { RestartJob: true }",
  "",
].join("\n");
const read = () => file;

describe("jobset controller flags (spec §9.4)", () => {
  test("Go flag syntax: -x, --x, =value, separate value, booleans only with =", () => {
    assert.deepEqual(
      parseControllerFlags([
        "-kubeconfig",
        "/k",
        "--leader-elect=false",
        "--kube-api-qps=5",
        "--webhooks",
        "--zap-log-level",
        "2",
      ]),
      { kubeconfig: "/k", "leader-elect": false, "kube-api-qps": 5, webhooks: true, "zap-log-level": "2" },
    );
    assert.throws(() => parseControllerFlags(["--nope"]), UsageError);
    assert.throws(() => parseControllerFlags(["--kube-api-qps=x"]), UsageError);
    assert.throws(() => parseControllerFlags(["--leader-elect=maybe"]), UsageError);
    assert.throws(() => parseControllerFlags(["--config"]), UsageError);
    assert.throws(() => parseControllerFlags(["positional"]), UsageError);
  });

  test("without flags the file wins; without a file the §9.3 defaults apply", () => {
    const c = effectiveConfiguration({ config: "/cfg" }, read);
    assert.equal(c.metrics.bindAddress, ":9999");
    assert.equal(c.health.healthProbeBindAddress, ":7777");
    assert.equal(c.leaderElection.leaderElect, true);
    assert.deepEqual(c.clientConnection, { qps: 20, burst: 30 });
    const d = effectiveConfiguration({});
    assert.equal(d.metrics.bindAddress, ":8443");
    assert.equal(d.leaderElection.leaderElect, true, "config default true although the flag defaults to false");
    assert.deepEqual(d.clientConnection, { qps: 500, burst: 500 });
  });

  test("explicit flags override the file", () => {
    const c = effectiveConfiguration(
      parseControllerFlags([
        "--config=/cfg",
        "--metrics-bind-address=0",
        "--health-probe-bind-address=:1",
        "--leader-elect=false",
        "--kube-api-qps=7",
        "--kube-api-burst=9",
        "--feature-gates=ElasticJobSet=true,RestartJob=false",
      ]),
      read,
    );
    assert.equal(c.metrics.bindAddress, "0");
    assert.equal(c.health.healthProbeBindAddress, ":1");
    assert.equal(c.leaderElection.leaderElect, false);
    assert.deepEqual(c.clientConnection, { qps: 7, burst: 9 });
    assert.deepEqual(c.featureGates, { RestartJob: false, ElasticJobSet: true });
  });
});
