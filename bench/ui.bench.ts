// `jobset ui` benchmark (`node bench/ui.bench.ts`; docs/ui.md). Starts a fresh `apiserver`-profile
// control plane (etcd + kube-apiserver), fills it, serves the UI in this process and opens it in headless
// Chromium (Debian's `chromium`, puppeteer-core):
//
//   page1000   a JobSet of 1,000 Jobs (each with a running pod): time from navigation to the page's
//              timeline and tree drawn (lanes and rows in the DOM), median of --runs fresh page loads;
//              plus the server's time and bytes for the page's JSON
//   list500    500 JobSets: time from navigation to the list's 500 rows drawn
//
// Results: bench/results/ui.local.json (gitignored); `--reference` also writes bench/results/ui.json
// (committed). Checked against bench/ui-thresholds.json; exits 1 when a threshold is broken.
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import puppeteer from "puppeteer-core";
import { JobSetResource, Labels } from "../src/api/constants.ts";
import { defaultJobSet } from "../src/api/defaults.ts";
import type { Job, Pod } from "../src/api/k8s.ts";
import type { JobSet } from "../src/api/types.ts";
import { constructJobs } from "../src/controller/jobs.ts";
import { startControlPlane } from "../src/local/controlplane.ts";
import { KubeClient } from "../src/runtime/client.ts";
import { mapSettled } from "../src/runtime/parallel.ts";
import { Resources, resourcePath } from "../src/runtime/resources.ts";
import { startUiServer } from "../src/ui/server.ts";
import { jobSet, rjob } from "../test/builders.ts";
import { writeChecked } from "./results-file.ts";

const here = dirname(fileURLToPath(import.meta.url));
const { values: flags } = parseArgs({
  options: {
    runs: { type: "string", default: "5" },
    reference: { type: "boolean", default: false },
    chromium: { type: "string", default: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium" },
  },
});
const runs = Number(flags.runs);
const log = (l: string) => process.stderr.write(`${l}\n`);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
};

interface Thresholds {
  page1000: { maxMedianMs: number };
  list500: { maxMedianMs: number };
}

async function main(): Promise<number> {
  const thresholds = JSON.parse(readFileSync(join(here, "ui-thresholds.json"), "utf8")) as Thresholds;
  const cp = await startControlPlane({ profile: "apiserver", log: (l) => log(`control plane: ${l}`) });
  const admin = await KubeClient.create({ kubeconfig: cp.kubeconfigPath, qps: 0, userAgent: "jobset-ui-bench" });
  const uiClient = await KubeClient.create({ kubeconfig: cp.kubeconfigPath, userAgent: "jobset-ui-bench-ui" });
  const browser = await puppeteer.launch({
    executablePath: flags.chromium,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  try {
    const ns = `ui-bench-${randomUUID().slice(0, 6)}`;
    await admin.create(resourcePath(Resources.namespaces), {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: ns },
    });
    const jsPath = resourcePath({ ...JobSetResource, namespace: ns });

    // page1000: the JobSet, its 1,000 Jobs (started), one running pod each.
    log("creating a JobSet of 1,000 Jobs with their pods…");
    const spec = defaultJobSet(jobSet("big", ns).replicatedJob(rjob("workers").replicas(1000)).obj());
    const big = await admin.create<JobSet>(jsPath, spec);
    const jobs = constructJobs(big, { restartJobGate: false });
    const started = new Date().toISOString();
    const made = await mapSettled(jobs, 50, async (j) => {
      const created = await admin.create<Job>(resourcePath({ ...Resources.jobs, namespace: ns }), j);
      await admin.patch(
        resourcePath({ ...Resources.jobs, namespace: ns, name: created.metadata?.name, subresource: "status" }),
        { status: { startTime: started, active: 1 } },
        "merge",
      );
      const pod: Pod = {
        apiVersion: "v1",
        kind: "Pod",
        metadata: {
          name: `${created.metadata?.name}-0-bench`,
          labels: { ...(created.spec?.template.metadata?.labels ?? {}), [Labels.JobSetUID]: big.metadata?.uid ?? "" },
          ownerReferences: [
            {
              apiVersion: "batch/v1",
              kind: "Job",
              name: created.metadata?.name ?? "",
              uid: created.metadata?.uid ?? "",
            },
          ],
        },
        spec: { containers: [{ name: "main", image: "busybox" }] },
      };
      await admin.create(resourcePath({ ...Resources.pods, namespace: ns }), pod);
    });
    const failed = made.filter((r) => r.status === "rejected");
    if (failed.length > 0) throw new Error(`${failed.length} creates failed: ${String(failed[0]?.reason)}`);

    // list500: 500 more JobSets (no children).
    log("creating 500 JobSets…");
    await mapSettled(
      Array.from({ length: 499 }, (_, i) => i),
      50,
      (i) => admin.create(jsPath, jobSet(`exp-${i}`, ns).replicatedJob(rjob("w").replicas(2)).obj()),
    );

    const ui = await startUiServer({ client: uiClient });
    try {
      // Server side: the page's JSON.
      const api: { ms: number; bytes: number }[] = [];
      for (let i = 0; i < runs; i++) {
        const t0 = performance.now();
        const body = await (await fetch(`${ui.origin}/api/jobsets/${ns}/big`)).text();
        api.push({ ms: performance.now() - t0, bytes: Buffer.byteLength(body) });
      }
      const page = await browser.newPage();
      await page.setViewport({ width: 1280, height: 900 });
      const pageMs: number[] = [];
      for (let i = 0; i < runs; i++) {
        await page.goto("about:blank");
        const t0 = performance.now();
        await page.goto(`${ui.origin}/#/jobsets/${ns}/big`);
        await page.waitForFunction(
          () =>
            document.querySelectorAll(".tl-lane").length > 10 &&
            document.querySelectorAll(".tree-row").length > 10 &&
            (document.querySelector(".tl-head")?.textContent ?? "").includes("1001 lanes"),
          { timeout: 60_000, polling: "raf" },
        );
        pageMs.push(performance.now() - t0);
      }
      const domLanes = await page.$$eval(".tl-lane", (e) => e.length);
      const listMs: number[] = [];
      for (let i = 0; i < runs; i++) {
        await page.goto("about:blank");
        const t0 = performance.now();
        await page.goto(`${ui.origin}/#/?namespace=${ns}`);
        await page.waitForFunction(() => document.querySelectorAll("table.list tbody tr").length === 500, {
          timeout: 60_000,
          polling: "raf",
        });
        listMs.push(performance.now() - t0);
      }
      await page.close();

      const results = {
        date: new Date().toISOString(),
        machine: { cpus: os.availableParallelism(), loadAverage1m: os.loadavg()[0], chromium: await browser.version() },
        page1000: {
          jobs: 1000,
          pods: 1000,
          medianMs: Math.round(median(pageMs)),
          runsMs: pageMs.map(Math.round),
          lanesInDom: domLanes,
          apiMedianMs: Math.round(median(api.map((a) => a.ms))),
          apiBytes: api[0]?.bytes ?? 0,
        },
        list500: { jobsets: 500, medianMs: Math.round(median(listMs)), runsMs: listMs.map(Math.round) },
      };
      const checks = [
        { name: "page1000 median ms", value: results.page1000.medianMs, max: thresholds.page1000.maxMedianMs },
        { name: "list500 median ms", value: results.list500.medianMs, max: thresholds.list500.maxMedianMs },
      ];
      return writeChecked("ui", results, checks, { reference: flags.reference, stdout: true, log });
    } finally {
      await ui.close();
    }
  } finally {
    await browser.close();
    await uiClient.close();
    await admin.close();
    await cp.stop();
  }
}

process.exitCode = await main();
