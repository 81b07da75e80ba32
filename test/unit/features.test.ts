import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  defaultFeatureGates,
  FeatureGateError,
  parseFeatureGates,
  parseFeatureGatesFlag,
} from "../../src/api/features.ts";

describe("feature gates", () => {
  test("defaults: alpha gates off, TLSOptions on", () => {
    assert.deepEqual(
      { ...defaultFeatureGates },
      {
        InPlaceRestart: false,
        RestartJob: false,
        ElasticJobSet: false,
        TLSOptions: true,
        JobSetWorkloadAwareSchedulingAPI: false,
      },
    );
  });

  const accepted: [string, Record<string, unknown> | undefined, Partial<Record<string, boolean>>][] = [
    ["undefined map", undefined, {}],
    ["empty map", {}, {}],
    ["enable InPlaceRestart", { InPlaceRestart: true }, { InPlaceRestart: true }],
    [
      "enable RestartJob and ElasticJobSet",
      { RestartJob: true, ElasticJobSet: true },
      { RestartJob: true, ElasticJobSet: true },
    ],
    ["explicit false", { RestartJob: false }, {}],
    ["locked gate at its default", { TLSOptions: true }, {}],
  ];
  for (const [name, map, changes] of accepted) {
    test(`accepts: ${name}`, () => {
      assert.deepEqual({ ...parseFeatureGates(map) }, { ...defaultFeatureGates, ...changes });
    });
  }

  const rejected: [string, Record<string, unknown>, RegExp][] = [
    ["unknown gate", { NoSuchGate: true }, /^unrecognized feature gate: NoSuchGate/],
    [
      "locked gate changed",
      { TLSOptions: false },
      /^cannot set feature gate TLSOptions to false, feature is locked to true$/,
    ],
    ["non-boolean", { RestartJob: "yes" }, /^invalid value of feature gate RestartJob/],
    ["KEP-only gate", { ExecutionAttemptsTracking: true }, /^unrecognized feature gate: ExecutionAttemptsTracking/],
  ];
  for (const [name, map, re] of rejected) {
    test(`rejects: ${name}`, () => {
      assert.throws(
        () => parseFeatureGates(map),
        (err: unknown) => err instanceof FeatureGateError && re.test(err.message),
      );
    });
  }

  test("flag syntax", () => {
    assert.deepEqual(parseFeatureGatesFlag("InPlaceRestart=true, RestartJob=false"), {
      InPlaceRestart: true,
      RestartJob: false,
    });
    assert.deepEqual(parseFeatureGatesFlag(""), {});
    assert.throws(() => parseFeatureGatesFlag("RestartJob"), FeatureGateError);
    assert.throws(() => parseFeatureGatesFlag("RestartJob=maybe"), FeatureGateError);
  });

  test("result is frozen", () => {
    assert.ok(Object.isFrozen(parseFeatureGates({})));
  });
});
