// `jobset ui` in a real headless Chromium (Debian's `chromium`, driven by puppeteer-core) against the
// full local control plane: our controller and webhooks, the real Job controller and scheduler, the fake
// kubelet (simulate mode). The list follows a JobSet from Running to Completed; the timeline of a JobSet
// that failed once and restarted shows both attempts and the failure at the Job that failed; a pod's
// log appears. Screenshots go to docs/images/ui-*.png (used by docs/ui.md).
import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import type { JobSet } from "../../src/api/types.ts";
import { type FakeKubelet, startFakeKubelet } from "../../src/local/kubelet.ts";
import { KubeClient } from "../../src/runtime/client.ts";
import { startUiServer, type UiServer } from "../../src/ui/server.ts";
import { jobSet, rjob } from "../builders.ts";
import { type TestCluster, useCluster } from "../support/cluster.ts";
import { jobSetsPath, pinToNodes, waitJobSetCondition } from "../support/e2e.ts";
import { type Stack, startStack } from "../support/stack.ts";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const IMAGES = join(import.meta.dirname, "../../docs/images");

const sim = (o: Record<string, string>) =>
  Object.fromEntries(Object.entries(o).map(([k, v]) => [`fake.jobset.x-k8s.io/${k}`, v]));

describe("jobset ui in a browser (full control plane, fake kubelet)", () => {
  let cluster: TestCluster;
  let kubelet: FakeKubelet;
  let stack: Stack;
  let client: KubeClient;
  let ui: UiServer;
  let browser: Browser;
  const POOL = "e2e.jobset-ts/pool";
  const suffix = Math.random().toString(36).slice(2, 7);

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
    cluster = await useCluster("full");
    kubelet = await startFakeKubelet({
      client: cluster.client,
      namePrefix: `ui-${suffix}`,
      nodes: Array.from({ length: 3 }, () => ({ labels: { [POOL]: suffix } })),
      defaultDurationMs: 300,
      log: () => {},
    });
    stack = await startStack(cluster, { webhooks: true });
    client = await KubeClient.create({ kubeconfig: cluster.kubeconfigPath, userAgent: "jobset-ui-e2e" });
    ui = await startUiServer({ client });
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
    });
    mkdirSync(IMAGES, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    await ui?.close();
    await client?.close();
    await stack?.stop();
    await kubelet?.stop();
  });

  async function newPage(dark = false): Promise<Page> {
    const page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 900 });
    await page.emulateMediaFeatures([{ name: "prefers-color-scheme", value: dark ? "dark" : "light" }]);
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("console", (m) => {
      if (m.type() === "error" && !/EventSource|net::ERR/.test(m.text())) errors.push(m.text());
    });
    (page as Page & { jsErrors?: string[] }).jsErrors = errors;
    return page;
  }
  const jsErrors = (p: Page) => (p as Page & { jsErrors?: string[] }).jsErrors ?? [];

  const create = (js: JobSet) =>
    cluster.client.create<JobSet>(jobSetsPath(js.metadata?.namespace ?? ""), pinToNodes(js, POOL, suffix));

  test("list: a running JobSet, then completed", async (t) => {
    const ns = await stack.namespace(t);
    await create(
      jobSet("hello", ns)
        // Long enough to be seen running on a loaded machine; the page must then follow it to Completed.
        .replicatedJob(rjob("leader").podAnnotations(sim({ duration: "20s" })))
        .replicatedJob(
          rjob("workers")
            .replicas(2)
            .podAnnotations(sim({ duration: "20s" })),
        )
        .obj(),
    );
    await create(jobSet("queued", ns).suspend(true).replicatedJob(rjob("w").replicas(3)).obj());
    const page = await newPage();
    await page.goto(`${ui.url}#/?namespace=${ns}`);
    const row = (state: string) => `tr[data-jobset="${ns}/hello"][data-state="${state}"]`;
    await page.waitForSelector(row("Running"), { timeout: 120_000 });
    await page.waitForSelector(`tr[data-jobset="${ns}/queued"][data-state="Suspended"]`, { timeout: 30_000 });
    await page.screenshot({ path: join(IMAGES, "ui-list.png"), clip: { x: 0, y: 0, width: 1280, height: 240 } });
    // No reload: the server pushes the change over the open stream.
    await page.waitForSelector(row("Completed"), { timeout: 150_000 });
    const cells = await page.$$eval(`tr[data-jobset="${ns}/hello"] td`, (tds) =>
      tds.map((td) => td.textContent?.trim()),
    );
    assert.equal(cells[2], "Completed");
    assert.equal(cells[6], "3", "3 Jobs succeeded");
    assert.deepEqual(jsErrors(page), []);
    await page.close();
  });

  test("timeline: failed once, restarted; pod logs", async (t) => {
    const ns = await stack.namespace(t);
    const name = "restart";
    const page = await newPage();
    const created = await create(
      jobSet(name, ns)
        .failurePolicy({ maxRestarts: 2 })
        .replicatedJob(rjob("leader").podAnnotations(sim({ duration: "2s" })))
        .replicatedJob(
          rjob("workers")
            .replicas(2)
            .parallelism(2)
            .completions(2)
            .backoffLimit(0)
            .restartPolicy("Never")
            // completion index 1 of every worker Job exits 3 while the JobSet's restart attempt is 0
            .podAnnotations(
              sim({ duration: "1s", "fail-indexes": "1", "fail-exit-code": "3", "fail-until-restart": "1" }),
            ),
        )
        .obj(),
    );
    // The page is open while it runs: the timeline fills in live.
    await page.goto(`${ui.url}#/jobsets/${ns}/${name}`);
    await page.waitForSelector('[data-lane="jobset"]', { timeout: 30_000 });
    const done = await waitJobSetCondition(cluster.client, ns, name, "Completed", 120_000);
    assert.equal(done.status?.restarts, 1);
    await page.waitForSelector('[data-restarts="1"]', { timeout: 30_000 });
    await page.waitForSelector(".badge.s-Completed", { timeout: 30_000 });

    const bands = await page.$$eval("[data-band]", (els) => els.map((e) => e.getAttribute("data-band")));
    assert.deepEqual(bands, ["0", "1"], "two restart attempts");
    const failures = await page.$$eval('.tl-marker[data-kind="failure"]', (els) =>
      els.map((e) => e.getAttribute("data-lane")),
    );
    const failedJobs = failures.filter((l) => l?.startsWith("job/"));
    assert.ok(failedJobs.length >= 1, `a failure marker on a Job lane (saw ${failures.join(", ")})`);
    for (const lane of failedJobs) assert.match(lane ?? "", new RegExp(`^job/${name}-workers-[01]$`));
    // The failed Job's lane: attempt 0 ends failed, attempt 1 ran again and succeeded.
    const lane = failedJobs[0] ?? "";
    const spans = await page.$$eval(`.tl-lane[data-lane="${lane}"] .tl-span`, (els) =>
      els.map((e) => `${e.getAttribute("data-attempt")}:${e.getAttribute("data-state")}`),
    );
    assert.ok(spans.includes("0:failed"), spans.join(" "));
    assert.ok(spans.includes("1:succeeded"), spans.join(" "));
    // Pod lanes on demand.
    await page.click(`.tl-lane[data-lane="job/${name}-workers-0"] button[aria-expanded]`);
    await page.waitForSelector(`.tl-lane[data-lane^="pod/${name}-workers-0-"]`);
    await page.screenshot({ path: join(IMAGES, "ui-timeline.png"), fullPage: true });

    // Logs of a pod of the current attempt, from the tree.
    await page.click(`.tree-row[data-row^="p/${name}-leader-0-"] button`);
    await page.waitForFunction(() => (document.querySelector("pre.log")?.textContent ?? "").includes("fake-kubelet:"), {
      timeout: 30_000,
    });
    const log = await page.$eval("pre.log", (e) => e.textContent ?? "");
    assert.match(log, /container \S+ (started|exited)/);
    const logsBox = await page.$("section[aria-label^='Logs of']");
    assert.ok(logsBox);
    await logsBox.screenshot({ path: join(IMAGES, "ui-logs.png") });
    assert.deepEqual(jsErrors(page), []);
    await page.close();

    // After the fact, in the dark: a fresh page shows the same story.
    const dark = await newPage(true);
    await dark.goto(`${ui.url}#/jobsets/${ns}/${name}`);
    await dark.waitForSelector('[data-band="1"]', { timeout: 30_000 });
    await dark.waitForSelector(`.tl-marker[data-kind="failure"][data-lane^="job/${name}-workers-"]`);
    await dark.screenshot({ path: join(IMAGES, "ui-timeline-dark.png") });
    assert.deepEqual(jsErrors(dark), []);
    await dark.close();
    assert.ok(created.metadata?.uid);
  });
});
