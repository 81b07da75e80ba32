import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { calibrate, speedFactor } from "../../bench/calibration.ts";

describe("benchmark limits follow the machine's speed", () => {
  test("a limit taken at calibration 15 ms doubles when the machine needs 30 ms", () => {
    assert.equal(speedFactor(30, 15), 2);
    assert.equal(speedFactor(15, 15), 1);
    assert.equal(speedFactor(12, 15), 0.8);
  });

  test("a limit stored without a calibration is not scaled", () => {
    assert.equal(speedFactor(40, undefined), 1);
    assert.equal(speedFactor(40, 0), 1);
  });

  test("the calibration is the CPU time of the workload: positive, in tenths of a millisecond", () => {
    const ms = calibrate(2);
    assert.ok(ms > 0, `calibration ${ms} ms`);
    assert.equal(Math.round(ms * 10) / 10, ms);
  });
});
