import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { KubeClient, rateLimiterKey, TokenBucket } from "../../src/runtime/client.ts";
import { loadKubeConfig } from "../../src/runtime/kubeconfig.ts";

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

describe("rate limits per resource (controller-runtime's per-kind REST clients)", () => {
  test("the key is group/version/resource, without namespace, name, subresource or query", () => {
    const cases: [string, string][] = [
      ["/apis/batch/v1/namespaces/ns/jobs", "batch/v1/jobs"],
      ["/apis/batch/v1/namespaces/ns/jobs/j-0", "batch/v1/jobs"],
      ["/apis/batch/v1/jobs?watch=true&resourceVersion=5", "batch/v1/jobs"],
      ["/apis/jobset.x-k8s.io/v1alpha2/namespaces/ns/jobsets/js/status", "jobset.x-k8s.io/v1alpha2/jobsets"],
      ["/api/v1/namespaces/ns/services", "v1/services"],
      ["/api/v1/namespaces/ns/pods/p/log?follow=true", "v1/pods"],
      ["/api/v1/namespaces/ns", "v1/namespaces"],
      ["/api/v1/namespaces", "v1/namespaces"],
      ["/api/v1/nodes/n1/status", "v1/nodes"],
      ["/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/jobset", "coordination.k8s.io/v1/leases"],
      ["/apis/batch/v1", "batch/v1"],
      ["/api", ""],
      ["/version", ""],
      ["/openapi/v3", ""],
    ];
    for (const [path, key] of cases) assert.equal(rateLimiterKey(path), key, path);
  });

  test("a client waits on one bucket per resource, each with the configured QPS and burst", () => {
    const dir = mkdtempSync(join(tmpdir(), "rate-limits-"));
    const file = join(dir, "config");
    writeFileSync(
      file,
      "apiVersion: v1\nkind: Config\ncurrent-context: c\n" +
        "clusters: [{name: k, cluster: {server: 'https://127.0.0.1:6443', insecure-skip-tls-verify: true}}]\n" +
        "contexts: [{name: c, context: {cluster: k, user: u}}]\nusers: [{name: u, user: {token: t}}]\n",
    );
    const config = loadKubeConfig({ kubeconfig: file, env: {}, home: dir });
    rmSync(dir, { recursive: true, force: true });
    const client = new KubeClient(config, { qps: 7, burst: 9 });
    const jobs = client.rateLimiterFor("/apis/batch/v1/namespaces/a/jobs");
    assert.equal(client.rateLimiterFor("/apis/batch/v1/namespaces/b/jobs/x/status"), jobs);
    const services = client.rateLimiterFor("/api/v1/namespaces/a/services");
    assert.notEqual(services, jobs);
    assert.equal(client.rateLimiterFor("/api/v1/namespaces/a/services/s"), services);
    assert.deepEqual([jobs.qps, jobs.burst, services.qps, services.burst], [7, 9, 7, 9]);
    const defaults = new KubeClient(config).rateLimiterFor("/api/v1/pods");
    assert.deepEqual([defaults.qps, defaults.burst], [500, 500]);
    // paths it has seen are remembered, up to a bound: past it, each path still finds its resource's bucket
    for (let i = 0; i < 3000; i++) {
      assert.equal(client.rateLimiterFor(`/apis/batch/v1/namespaces/n${i % 7}/jobs/j-${i}/status`), jobs);
      assert.equal(client.rateLimiterFor("/apis/batch/v1/namespaces/a/jobs"), jobs);
    }
    assert.equal(client.rateLimiterFor("/api/v1/namespaces/a/services"), services);
  });
});
