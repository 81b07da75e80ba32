import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { DefaultRestartBackOff, goDuration, RestartBackOff } from "../../src/local/kubelet-backoff.ts";

/** Crashes `key` at each time in `exits` (ms), restarting when the back-off allows; returns the waits. */
function crashLoop(b: RestartBackOff, exits: number[]): number[] {
  return exits.map((at) => {
    const wait = b.delayMs("main", at, at);
    b.restarted("main", at, at + wait);
    return wait;
  });
}

describe("restart back-off", () => {
  test("first restart at once, then initial, doubling up to the maximum", () => {
    const b = new RestartBackOff({ initialMs: 100, maxMs: 1000 });
    // Each run crashes 10 ms after it started (well within 2 × max: no reset).
    const waits: number[] = [];
    let t = 0;
    for (let i = 0; i < 7; i++) {
      const wait = b.delayMs("main", t, t);
      waits.push(wait);
      b.restarted("main", t, t + wait);
      t += wait + 10;
    }
    assert.deepEqual(waits, [0, 100, 200, 400, 800, 1000, 1000]);
  });

  test("the wait counts from the exit: a late look sees only what remains", () => {
    const b = new RestartBackOff({ initialMs: 100, maxMs: 1000 });
    crashLoop(b, [0]);
    assert.equal(b.delayMs("main", 50, 50), 100);
    assert.equal(b.delayMs("main", 50, 120), 30);
    assert.equal(b.delayMs("main", 50, 500), 0);
  });

  test("a container that ran quietly for more than twice the maximum starts over", () => {
    const b = new RestartBackOff({ initialMs: 100, maxMs: 1000 });
    assert.deepEqual(crashLoop(b, [0, 10, 200]), [0, 100, 200]);
    // Last restart at 400; an exit more than 2 s later finds the entry expired.
    assert.equal(b.delayMs("main", 2401, 2401), 0);
    b.restarted("main", 2401, 2401);
    assert.equal(b.delayMs("main", 2500, 2500), 100, "back to the initial wait");
  });

  test("containers have their own back-off", () => {
    const b = new RestartBackOff({ initialMs: 100, maxMs: 1000 });
    crashLoop(b, [0, 10]);
    assert.equal(b.delayMs("sidecar", 20, 20), 0);
    assert.ok(b.delayMs("main", 120, 120) > 0);
  });

  test("the default is short, and a bad policy names the option", () => {
    assert.deepEqual(DefaultRestartBackOff, { initialMs: 200, maxMs: 5000 });
    assert.throws(
      () => new RestartBackOff({ initialMs: 500, maxMs: 100 }),
      /^Error: restartBackOff: need 0 <= initialMs <= maxMs, got initialMs=500 maxMs=100$/,
    );
    assert.throws(() => new RestartBackOff({ initialMs: Number.NaN, maxMs: 100 }), /restartBackOff/);
  });

  test("durations print as Go prints them", () => {
    assert.equal(goDuration(200), "200ms");
    assert.equal(goDuration(1600), "1.6s");
    assert.equal(goDuration(5000), "5s");
  });
});
