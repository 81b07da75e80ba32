import assert from "node:assert/strict";
import os from "node:os";
import { describe, test } from "node:test";
import { CpuMeter, type CpuSnapshot, withChildren } from "../../bench/cpu-window.ts";

const cores = os.availableParallelism();

function spin(ms: number): void {
  const end = performance.now() + ms;
  let x = 0;
  while (performance.now() < end) x += Math.sqrt(x + 1);
  assert.ok(x > 0);
}

describe("what the machine's cores did during a benchmark run", () => {
  test("each process's share, the rest of the busy time, and the others' floor over all cores", () => {
    const a: CpuSnapshot = { atMs: 1000, busyMs: 50_000, seconds: { "kube-apiserver": 10, etcd: 2, driver: 1 } };
    const b: CpuSnapshot = { atMs: 6000, busyMs: 59_000, seconds: { "kube-apiserver": 15, etcd: 3, driver: 1.5 } };
    const w = CpuMeter.between(a, b);
    assert.equal(w.seconds, 5);
    assert.equal(w.cores, cores);
    assert.equal(w.busyCores, 1.8);
    assert.deepEqual(w.cpuSeconds, { "kube-apiserver": 5, etcd: 1, driver: 0.5, rest: 2.5 });
    assert.equal(w.floorSeconds, Math.round((6.5 / cores) * 1000) / 1000);
  });

  test("the controller's CPU is its own figure and not part of the others' floor", () => {
    const a: CpuSnapshot = { atMs: 0, busyMs: 0, seconds: { "kube-apiserver": 0, controller: 0, driver: 0 } };
    const b: CpuSnapshot = { atMs: 2000, busyMs: 3800, seconds: { "kube-apiserver": 2, controller: 1.5, driver: 0.2 } };
    const w = CpuMeter.between(a, b);
    assert.deepEqual(w.cpuSeconds, { "kube-apiserver": 2, controller: 1.5, driver: 0.2, rest: 0.1 });
    assert.equal(w.floorSeconds, Math.round((2.2 / cores) * 1000) / 1000);
  });

  test("a process that was gone at the start is left out; the rest is never negative", () => {
    const a: CpuSnapshot = { atMs: 0, busyMs: 1000, seconds: { driver: 1 } };
    const b: CpuSnapshot = { atMs: 1000, busyMs: 1200, seconds: { etcd: 4, driver: 1.5 } };
    const w = CpuMeter.between(a, b);
    assert.deepEqual(w.cpuSeconds, { driver: 0.5, rest: 0 });
  });

  test("a watched process's CPU comes from /proc, and the driver's from this process", () => {
    const meter = new CpuMeter({ self: process.pid });
    const pids = withChildren(process.pid);
    assert.equal(pids[0], process.pid);
    const a = meter.snapshot({ summed: pids });
    spin(300);
    const w = CpuMeter.between(a, meter.snapshot({ summed: pids }));
    // /proc counts in ticks of 10 ms
    assert.ok((w.cpuSeconds.self ?? 0) >= 0.2, `self ${w.cpuSeconds.self} s`);
    assert.ok((w.cpuSeconds.summed ?? 0) >= 0.2, `summed ${w.cpuSeconds.summed} s`);
    assert.ok((w.cpuSeconds.driver ?? 0) >= 0.2, `driver ${w.cpuSeconds.driver} s`);
    assert.ok(w.busyCores > 0.5, `busy cores ${w.busyCores}`);
  });
});
