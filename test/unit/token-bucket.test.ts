import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { TokenBucket } from "../../src/runtime/client.ts";

const turn = () => new Promise<void>((r) => setImmediate(r));

describe("TokenBucket (client QPS/burst)", () => {
  test("serves a burst at once, then qps tokens per second, in arrival order", async (t) => {
    t.mock.timers.enable({ apis: ["setTimeout"] });
    let now = 0;
    const b = new TokenBucket(10, 3, () => now);
    const served: number[] = [];
    for (let i = 0; i < 6; i++) void b.acquire().then(() => served.push(i));
    await turn();
    assert.deepEqual(served, [0, 1, 2]);
    const advance = async (ms: number) => {
      now += ms;
      t.mock.timers.tick(ms);
      await turn();
    };
    await advance(99);
    assert.deepEqual(served, [0, 1, 2]);
    await advance(1);
    assert.deepEqual(served, [0, 1, 2, 3]);
    await advance(100);
    await advance(100);
    assert.deepEqual(served, [0, 1, 2, 3, 4, 5]);
  });

  test("tokens accumulate while idle, up to the burst", async (t) => {
    t.mock.timers.enable({ apis: ["setTimeout"] });
    let now = 0;
    const b = new TokenBucket(10, 5, () => now);
    for (let i = 0; i < 5; i++) await b.acquire();
    now += 10_000; // would be 100 tokens, capped at 5
    let n = 0;
    for (let i = 0; i < 6; i++) void b.acquire().then(() => n++);
    await turn();
    assert.equal(n, 5);
    now += 100;
    t.mock.timers.tick(100);
    await turn();
    assert.equal(n, 6);
  });

  test("qps <= 0 disables limiting", async () => {
    const b = new TokenBucket(0, 0, () => 0);
    let n = 0;
    for (let i = 0; i < 1000; i++) void b.acquire().then(() => n++);
    await turn();
    assert.equal(n, 1000);
  });
});
