// The `jobset ui` server against a real kube-apiserver: every request it sends is recorded, and only
// GETs (lists, watches) reach the API until an action is confirmed; refused actions (no CSRF token, a
// foreign Origin, no confirmation, a body too large) send nothing. Bound to a non-loopback address it
// serves HTTPS and answers nothing without its token. The live list follows a new JobSet.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import http from "node:http";
import https from "node:https";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { JobSet } from "../../src/api/types.ts";
import { KubeClient, type RequestInfo } from "../../src/runtime/client.ts";
import { startUiServer, type UiServer } from "../../src/ui/server.ts";
import { childJob, jobSet, rjob } from "../builders.ts";
import { type TestCluster, testNamespace, useCluster, waitFor } from "../support/cluster.ts";

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One HTTP(S) request with full control of the headers (Host, Origin). */
function call(
  url: string,
  o: { method?: string; headers?: Record<string, string>; body?: string; insecure?: boolean } = {},
): Promise<Answer> {
  const u = new URL(url);
  const mod = u.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(
      u,
      { method: o.method ?? "GET", headers: o.headers ?? {}, ...(o.insecure ? { rejectUnauthorized: false } : {}) },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }),
        );
      },
    );
    req.on("error", reject);
    req.end(o.body);
  });
}

/** Reads a server-sent-events stream until `done(events)` says so; returns the events. */
function readEvents(
  url: string,
  done: (events: { event: string; data: unknown }[]) => boolean,
  timeoutMs = 30_000,
): Promise<{ event: string; data: unknown }[]> {
  return new Promise((resolve, reject) => {
    const events: { event: string; data: unknown }[] = [];
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`no expected event within ${timeoutMs} ms; got ${events.map((e) => e.event).join(", ")}`));
    }, timeoutMs);
    const req = http.get(url, (res) => {
      if (res.statusCode !== 200) {
        clearTimeout(timer);
        reject(new Error(`stream answered ${res.statusCode}`));
        return;
      }
      let buf = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        buf += chunk;
        let i = buf.indexOf("\n\n");
        while (i >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          i = buf.indexOf("\n\n");
          const ev = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (ev && data !== undefined) events.push({ event: ev, data: JSON.parse(data) });
        }
        if (done(events)) {
          clearTimeout(timer);
          req.destroy();
          resolve(events);
        }
      });
    });
    req.on("error", (e) => {
      if (!req.destroyed) reject(e);
    });
  });
}

const csrfOf = (html: string) => /name="jobset-ui-csrf" content="([^"]+)"/.exec(html)?.[1] ?? "";

describe("jobset ui server (apiserver)", () => {
  let cluster: TestCluster;
  let client: KubeClient;
  const sent: RequestInfo[] = [];
  let ui: UiServer;

  before(async () => {
    cluster = await useCluster("apiserver");
    client = await KubeClient.create({
      kubeconfig: cluster.kubeconfigPath,
      userAgent: "jobset-ui-test",
      onRequest: (info) => sent.push(info),
    });
    ui = await startUiServer({ client });
  });
  after(async () => {
    await ui?.close();
    await client?.close();
  });

  test("reads only (GET, LIST, WATCH) until an action is confirmed; then one PATCH, then one DELETE", async (t) => {
    const ns = await testNamespace(t, cluster);
    const base = `/apis/jobset.x-k8s.io/v1alpha2/namespaces/${ns}/jobsets`;
    const js = await cluster.client.create<JobSet>(
      base,
      jobSet("train", ns).replicatedJob(rjob("w").replicas(2).restartPolicy("Never")).obj(),
    );
    await cluster.client.create(`/apis/batch/v1/namespaces/${ns}/jobs`, childJob(js, "w", 0).obj());
    const origin = ui.origin;

    const page = await waitFor(async () => {
      const a = await call(`${origin}/api/jobsets/${ns}/train`);
      const p = a.status === 200 ? (JSON.parse(a.body) as { view: { rjobs: { jobs: unknown[] }[] } }) : undefined;
      return p && p.view.rjobs[0]?.jobs.length === 1 ? p : undefined;
    });
    assert.equal(page.view.rjobs[0]?.jobs.length, 1);

    const index = await call(`${origin}/`);
    assert.equal(index.status, 200);
    assert.match(String(index.headers["content-security-policy"]), /default-src 'self'/);
    const csrf = csrfOf(index.body);
    assert.ok(csrf.length > 20);
    for (const asset of ["/app/main.ts", "/app/timeline.js", "/vendor/preact.js", "/vendor/htm.js", "/app/style.css"])
      assert.equal((await call(`${origin}${asset}`)).status, 200, asset);
    const list = JSON.parse((await call(`${origin}/api/jobsets?namespace=${ns}`)).body) as {
      items: { name: string }[];
    };
    assert.deepEqual(
      list.items.map((r) => r.name),
      ["train"],
    );
    const events = await readEvents(`${origin}/api/jobsets/${ns}/train/stream`, (ev) => ev.length > 0);
    assert.equal(events[0]?.event, "page");

    // Refused actions: none of them may reach the API server.
    const action = (headers: Record<string, string>, body: unknown) =>
      call(`${origin}/api/jobsets/${ns}/train/action`, { method: "POST", headers, body: JSON.stringify(body) });
    const good = { "content-type": "application/json", origin, "x-jobset-ui-csrf": csrf };
    assert.equal(
      (await action({ ...good, "x-jobset-ui-csrf": "" }, { action: "suspend", confirm: "train" })).status,
      403,
    );
    assert.equal(
      (await action({ ...good, origin: "http://evil.example" }, { action: "delete", confirm: "train" })).status,
      403,
    );
    assert.equal(
      (await action({ ...good, "content-type": "text/plain" }, { action: "delete", confirm: "train" })).status,
      403,
    );
    assert.equal((await action(good, { action: "delete" })).status, 400);
    assert.equal((await action(good, { action: "delete", confirm: "other" })).status, 400);
    assert.equal((await action(good, { action: "scale", confirm: "train" })).status, 400);
    assert.equal((await action(good, { action: "delete", confirm: "train", pad: "x".repeat(5000) })).status, 413);
    assert.equal((await call(`${origin}/api/jobsets/${ns}/train`, { method: "DELETE" })).status, 405);
    assert.equal(
      (await call(`${origin}/api/jobsets`, { headers: { host: `rebound.example:${ui.port}` } })).status,
      421,
    );
    assert.equal((await call(`${origin}/${"x".repeat(3000)}`)).status, 414);
    assert.equal((await call(`${origin}/api/jobsets/${ns}/Bad_Name`)).status, 400);
    assert.equal((await call(`${origin}/api/logs/${ns}/not-a-jobset-pod`)).status, 404);

    const verbs = new Set(sent.map((r) => r.method));
    assert.deepEqual([...verbs], ["GET"], `only GETs so far, saw ${[...verbs].join(", ")}`);
    assert.ok(
      sent.some((r) => r.path.endsWith("/jobsets")),
      "the JobSets are listed/watched",
    );
    assert.ok(
      sent.some((r) => r.path.endsWith("/events")),
      "the events are listed/watched",
    );

    // A confirmed suspend: exactly one PATCH of the JobSet.
    const before = sent.length;
    const ok = await action(good, { action: "suspend", confirm: "train" });
    assert.equal(ok.status, 200, ok.body);
    const writes = sent.slice(before).filter((r) => r.method !== "GET");
    assert.deepEqual(
      writes.map((r) => [r.method, r.path]),
      [["PATCH", `${base}/train`]],
    );
    const suspended = await cluster.client.get<JobSet>(`${base}/train`);
    assert.equal(suspended.spec?.suspend, true);
    const resumed = await action(good, { action: "resume", confirm: "train" });
    assert.equal(resumed.status, 200);
    assert.equal((await cluster.client.get<JobSet>(`${base}/train`)).spec?.suspend, false);

    // A confirmed delete: one DELETE; the page stream then says the JobSet is gone.
    const gone = readEvents(`${origin}/api/jobsets/${ns}/train/stream`, (ev) => ev.some((e) => e.event === "gone"));
    const del = await action(good, { action: "delete", confirm: "train" });
    assert.equal(del.status, 200);
    assert.deepEqual(
      sent
        .slice(before)
        .filter((r) => r.method !== "GET")
        .map((r) => r.method),
      ["PATCH", "PATCH", "DELETE"],
    );
    // Foreground deletion waits for the Job's finalizer in a cluster without a garbage collector: drop it.
    await waitFor(async () => {
      const cur = await cluster.client.get<JobSet>(`${base}/train`).catch(() => undefined);
      if (!cur) return true;
      if (cur.metadata?.finalizers?.length)
        await cluster.client.patch(`${base}/train`, { metadata: { finalizers: null } }, "merge");
      return false;
    });
    assert.equal((await gone).at(-1)?.event, "gone");
  });

  test("the list stream follows a new JobSet live", async (t) => {
    const ns = await testNamespace(t, cluster);
    let created: Promise<unknown> | undefined;
    const events = await readEvents(`${ui.origin}/api/jobsets/stream?namespace=${ns}`, (ev) => {
      // Once the first (empty) list is out, create the JobSet; done when a push shows it.
      created ??= cluster.client.create(
        `/apis/jobset.x-k8s.io/v1alpha2/namespaces/${ns}/jobsets`,
        jobSet("late", ns).replicatedJob(rjob("w")).obj(),
      );
      return ev.some((e) => (e.data as { items: { name: string }[] }).items.some((r) => r.name === "late"));
    });
    await created;
    assert.equal((events[0]?.data as { items: unknown[] } | undefined)?.items.length, 0, "first the empty namespace");
    assert.ok(events.length >= 2);
  });

  test("a non-loopback address serves HTTPS and nothing without the token", async () => {
    const remote = await startUiServer({ client, host: "0.0.0.0" });
    try {
      assert.equal(remote.tokenRequired, true);
      assert.match(remote.url, /^https:\/\/0\.0\.0\.0:\d+\/\?token=[\w-]{40,}$/);
      assert.match(remote.fingerprint ?? "", /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
      const at = `https://127.0.0.1:${remote.port}`;
      const insecure = true;
      assert.equal((await call(`${at}/api/jobsets`, { insecure })).status, 401);
      assert.equal((await call(`${at}/`, { insecure })).status, 401);
      assert.equal((await call(`${at}/app/main.ts`, { insecure })).status, 401);
      assert.equal(
        (await call(`${at}/api/jobsets`, { insecure, headers: { authorization: "Bearer nope" } })).status,
        401,
      );
      assert.equal((await call(`${at}/?token=wrong`, { insecure })).status, 401);
      assert.equal(
        (await call(`${at}/api/jobsets`, { insecure, headers: { authorization: `Bearer ${remote.token}` } })).status,
        200,
      );
      const login = await call(`${at}/?token=${remote.token}`, { insecure });
      assert.equal(login.status, 303);
      const cookie = String(login.headers["set-cookie"]?.[0] ?? "");
      assert.match(cookie, /HttpOnly/);
      assert.match(cookie, /SameSite=Strict/);
      assert.match(cookie, /Secure/);
      const withCookie = await call(`${at}/`, { insecure, headers: { cookie: cookie.split(";")[0] ?? "" } });
      assert.equal(withCookie.status, 200);
      await assert.rejects(call(`http://127.0.0.1:${remote.port}/api/jobsets`), "no plain HTTP");
    } finally {
      await remote.close();
    }
  });

  test("`jobset ui` prints its URL, serves the list, and stops on Ctrl-C", async () => {
    const bin = join(import.meta.dirname, "../../bin/jobset.js");
    const child = spawn(process.execPath, [bin, "ui", "--kubeconfig", cluster.kubeconfigPath], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NO_COLOR: "1" },
    });
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = "";
        child.stdout.on("data", (c: Buffer) => {
          out += c.toString();
          const m = /^(http:\/\/127\.0\.0\.1:\d+\/)$/m.exec(out);
          if (m?.[1]) resolve(m[1]);
        });
        child.on("exit", (code) => reject(new Error(`jobset ui exited ${code}: ${stderr}`)));
      });
      const list = await call(`${url}api/jobsets`);
      assert.equal(list.status, 200);
      assert.ok(Array.isArray((JSON.parse(list.body) as { items: unknown[] }).items));
      assert.match(stderr, /JobSet UI of the cluster at https:\/\/127\.0\.0\.1:\d+ \(all namespaces\)/);
    } finally {
      child.kill("SIGINT");
    }
    assert.equal(await exited, 0, stderr);
  });
});
