import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { AgentConfigError, parseAgentConfig } from "../../src/agent/config.ts";

const base = { JOBSET_NAME: "js", POD_NAME: "js-w-0-0-abc" };

describe("agent configuration (§8.2)", () => {
  test("sidecar mode with defaults: exit code 1, /barrier-is-down on 8081", () => {
    assert.deepEqual(parseAgentConfig(base, "team-a\n"), {
      namespace: "team-a",
      jobSetName: "js",
      podName: "js-w-0-0-abc",
      exitCode: 1,
      mode: { kind: "sidecar", probePath: "/barrier-is-down", probePort: 8081 },
    });
  });

  test("sidecar mode with its own path, port and exit code", () => {
    const cfg = parseAgentConfig(
      { ...base, STARTUP_PROBE_PATH: "/ready", STARTUP_PROBE_PORT: "9000", IN_PLACE_RESTART_EXIT_CODE: "42" },
      "ns",
    );
    assert.equal(cfg.exitCode, 42);
    assert.deepEqual(cfg.mode, { kind: "sidecar", probePath: "/ready", probePort: 9000 });
  });

  test("on the local cluster the probe server listens on the pod's own address (JOBSET_LOCAL_POD_IP)", () => {
    const cfg = parseAgentConfig({ ...base, JOBSET_LOCAL_POD_IP: "127.244.3.9" }, "ns");
    assert.deepEqual(cfg.mode, {
      kind: "sidecar",
      probePath: "/barrier-is-down",
      probePort: 8081,
      probeHost: "127.244.3.9",
    });
  });

  test("WORKER_COMMAND selects main container mode", () => {
    const cfg = parseAgentConfig({ ...base, WORKER_COMMAND: "python train.py" }, "ns");
    assert.deepEqual(cfg.mode, { kind: "main", workerCommand: "python train.py" });
  });

  const errors: [string, Record<string, string>, string | undefined, RegExp][] = [
    ["no namespace file", base, undefined, /automountServiceAccountToken/],
    ["empty namespace file", base, " \n", /namespace is empty/],
    ["JOBSET_NAME missing", { POD_NAME: "p" }, "ns", /env JOBSET_NAME must be set/],
    ["JOBSET_NAME empty", { JOBSET_NAME: "", POD_NAME: "p" }, "ns", /env JOBSET_NAME must be set/],
    ["POD_NAME missing", { JOBSET_NAME: "js" }, "ns", /env POD_NAME must be set/],
    [
      "exit code not an integer",
      { ...base, IN_PLACE_RESTART_EXIT_CODE: "1.5" },
      "ns",
      /IN_PLACE_RESTART_EXIT_CODE: "1.5" is not an integer/,
    ],
    ["exit code words", { ...base, IN_PLACE_RESTART_EXIT_CODE: "one" }, "ns", /IN_PLACE_RESTART_EXIT_CODE/],
    [
      "worker command with probe path",
      { ...base, WORKER_COMMAND: "x", STARTUP_PROBE_PATH: "/p" },
      "ns",
      /cannot be set together/,
    ],
    [
      "worker command with probe port",
      { ...base, WORKER_COMMAND: "x", STARTUP_PROBE_PORT: "1" },
      "ns",
      /cannot be set together/,
    ],
    ["port not a number", { ...base, STARTUP_PROBE_PORT: "http" }, "ns", /STARTUP_PROBE_PORT: "http" is not a port/],
    ["port out of range", { ...base, STARTUP_PROBE_PORT: "70000" }, "ns", /is not a port/],
    ["path without slash", { ...base, STARTUP_PROBE_PATH: "ready" }, "ns", /must start with "\/"/],
  ];
  for (const [name, env, ns, re] of errors)
    test(`refused: ${name}`, () => {
      assert.throws(
        () => parseAgentConfig(env, ns),
        (e: unknown) => e instanceof AgentConfigError && re.test(e.message),
      );
    });

  test("an empty IN_PLACE_RESTART_EXIT_CODE means the default", () => {
    assert.equal(parseAgentConfig({ ...base, IN_PLACE_RESTART_EXIT_CODE: "" }, "ns").exitCode, 1);
  });
});
