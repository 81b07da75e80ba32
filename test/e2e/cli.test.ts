// The `jobset` CLI as a user runs it: the real binary (bin/jobset.js) in a child process. One local
// cluster from `jobset up --detach` (4 nodes in two racks, exec runtime, gate InPlaceRestart on, which
// installs the in-place restart agent's permissions) serves get/describe/tree/logs
// and `run` of every example; `jobset down` must then leave no process behind. Then `run` with no
// cluster at all starts an ephemeral one and removes it. Errors a user meets print one line, no stack.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { AgentPolicyName, AgentServiceAccountName } from "../../src/agent/rbac.ts";
import type { Job, Node, Pod } from "../../src/api/k8s.ts";
import type { JobSet } from "../../src/api/types.ts";
import { isNotFound, KubeClient } from "../../src/runtime/client.ts";
import { waitFor } from "../support/cluster.ts";

const ROOT = join(import.meta.dirname, "../..");
const BIN = join(ROOT, "bin/jobset.js");
const example = (name: string) => join(ROOT, "examples", `${name}.yaml`);

interface Result {
  code: number;
  stdout: string;
  stderr: string;
  /** Milliseconds from the spawn until the first stdout bytes arrived (undefined when it printed none). */
  firstStdoutMs?: number;
}

/** The environment of a user with no cluster configured: no KUBECONFIG, an empty HOME and state dir. */
function userEnv(stateDir: string, home: string, extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (k === "KUBECONFIG" || k.startsWith("JOBSET_TEST_")) delete env[k];
  env.HOME = home;
  env.XDG_CACHE_HOME = process.env.XDG_CACHE_HOME || join(homedir(), ".cache"); // the built binaries
  env.GOPATH = process.env.GOPATH || join(homedir(), "go");
  env.JOBSET_STATE_DIR = stateDir;
  env.NO_COLOR = "1";
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** Parent pid of every live process. */
function parents(): Map<number, number> {
  const m = new Map<number, number>();
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (fields[0] !== "Z") m.set(Number(pid), Number(fields[1]));
    } catch {
      // gone meanwhile
    }
  }
  return m;
}

/** Adds the live descendants of `root` to `into`. */
function collectDescendants(root: number, into: Set<number>): void {
  const pp = parents();
  let grew = true;
  const tree = new Set([root]);
  while (grew) {
    grew = false;
    for (const [pid, ppid] of pp)
      if (tree.has(ppid) && !tree.has(pid)) {
        tree.add(pid);
        grew = true;
      }
  }
  for (const p of tree) if (p !== root) into.add(p);
}

const alive = (pid: number) => parents().has(pid);

/** Runs the binary; with `tree`, collects every process it starts (sampled every 200 ms). */
function jobset(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 180_000, tree?: Set<number>): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
    const sampler = tree && child.pid ? setInterval(() => collectDescendants(child.pid ?? 0, tree), 200) : undefined;
    const spawned = performance.now();
    let firstStdoutMs: number | undefined;
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      firstStdoutMs ??= performance.now() - spawned;
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => {
      child.kill("SIGTERM");
      reject(new Error(`jobset ${args.join(" ")} timed out after ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      if (sampler) clearInterval(sampler);
      resolve({ code: code ?? 1, stdout, stderr, ...(firstStdoutMs === undefined ? {} : { firstStdoutMs }) });
    });
  });
}

const show = (r: Result) => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

/** One clear line: the expected text, and no stack trace anywhere. */
function assertOneLineError(r: Result, pattern: RegExp): void {
  assert.equal(r.code, 1, show(r));
  assert.match(r.stderr, pattern, show(r));
  assert.doesNotMatch(r.stderr, /^\s+at /m, `stack trace printed\n${show(r)}`);
  const line = r.stderr.split("\n").find((l) => pattern.test(l));
  assert.ok(line, `the message is on one line\n${show(r)}`);
}

/** Live processes whose command line or working directory mentions `needle`. */
function processesUsing(needle: string): string[] {
  const out: string[] = [];
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    if (Number(pid) === process.pid) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      if (stat.slice(stat.lastIndexOf(")") + 2)[0] === "Z") continue;
      const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
      let cwd = "";
      try {
        cwd = readlinkSync(`/proc/${pid}/cwd`);
      } catch {
        // not ours to read
      }
      if (cmd.includes(needle) || cwd.includes(needle)) out.push(`${pid} ${cmd.slice(0, 160)}`);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

describe("jobset CLI against a local cluster from `jobset up --detach`", () => {
  let work: string;
  let stateDir: string;
  let home: string;
  let env: NodeJS.ProcessEnv;
  let kubeconfig: string;
  let client: KubeClient;
  let uiUrl: string | undefined;
  let upStderr = "";

  before(async () => {
    work = await mkdtemp(join(tmpdir(), "jobset-cli-test-"));
    stateDir = join(work, "state");
    home = join(work, "home");
    env = userEnv(stateDir, home);
    const r = await jobset(
      [
        "up",
        "--detach",
        "--nodes",
        "4",
        "--node-labels",
        "rack=r{0..1}*2",
        "--node-cpu",
        "16,8",
        "--racks",
        "2",
        "--feature-gates",
        "InPlaceRestart=true",
      ],
      env,
      600_000,
    );
    upStderr = r.stderr;
    assert.equal(r.code, 0, show(r));
    const m = /^export KUBECONFIG=(\S+)$/m.exec(r.stdout);
    assert.ok(m?.[1], `up prints the KUBECONFIG line\n${show(r)}`);
    kubeconfig = m[1];
    client = await KubeClient.create({ kubeconfig, userAgent: "jobset-cli-test" });
    uiUrl = /^JobSet web view: (http:\/\/127\.0\.0\.1:\d+\/\S*)$/m.exec(r.stderr)?.[1];
  });

  after(async () => {
    await client?.close();
    await jobset(["down"], env).catch(() => undefined);
    await rm(work, { recursive: true, force: true });
  });

  const withKubeconfig = () => ({ ...env, KUBECONFIG: kubeconfig });

  test("up: the cluster is ready, with its nodes, labels, CPUs and racks; a second up refuses", async () => {
    const nodes = await client.list<Node>("/api/v1/nodes");
    assert.deepEqual(
      nodes.items
        .map((n) => [
          n.metadata?.name,
          n.metadata?.labels?.rack,
          n.metadata?.labels?.["topology.kubernetes.io/rack"],
          n.status?.allocatable?.cpu,
        ])
        .sort(),
      [
        ["fake-node-0", "r0", "rack-0", "16"],
        ["fake-node-1", "r0", "rack-0", "8"],
        ["fake-node-2", "r1", "rack-1", "16"],
        ["fake-node-3", "r1", "rack-1", "8"],
      ],
    );
    // `jobset up` serves the web view beside the cluster and prints its URL.
    assert.ok(uiUrl, "up prints the web view's URL");
    const page = await fetch(uiUrl);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<html/i);
    const again = await jobset(["up", "--detach"], env);
    assertOneLineError(again, /a local cluster is already running \(pid \d+\): export KUBECONFIG=.*jobset down/);
  });

  test("up --feature-gates InPlaceRestart=true (through --detach): the gates are shown, the agent's permissions installed", async () => {
    assert.match(
      upStderr,
      /^JobSet controller started \(feature gates on: InPlaceRestart, TLSOptions\); webhooks serving at /m,
    );
    assert.match(
      upStderr,
      new RegExp(
        `^in-place restart agent permissions installed: ServiceAccount, Role and RoleBinding default/${AgentServiceAccountName}, ValidatingAdmissionPolicy and binding ${AgentPolicyName}$`,
        "m",
      ),
    );
    for (const path of [
      `/api/v1/namespaces/default/serviceaccounts/${AgentServiceAccountName}`,
      `/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles/${AgentServiceAccountName}`,
      `/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings/${AgentServiceAccountName}`,
      `/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies/${AgentPolicyName}`,
      `/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings/${AgentPolicyName}`,
    ]) {
      const o = await client.get<{ metadata?: { name?: string } }>(path);
      assert.ok(o.metadata?.name, path);
    }
  });

  test("run hello (cluster found through the state of `jobset up`): exit 0, progress lines, logs by pod", async () => {
    const r = await jobset(["run", example("hello"), "--logs"], env);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /^JobSet default\/hello completed$/m);
    // A pod's node is shown with the first phase seen for it (which phases a 500 ms poll catches depends
    // on the machine's load), and its end is shown.
    assert.match(r.stdout, /^\+ *[\d.]+s pod hello-workers-0-0-\w+: (Pending|Running|Succeeded) \(on fake-node-\d\)$/m);
    assert.match(r.stdout, /^\+ *[\d.]+s pod hello-workers-0-0-\w+: Succeeded( \(on fake-node-\d\))?$/m);
    assert.match(
      r.stdout,
      /^\+ *[\d.]+s condition Completed=True {2}AllJobsCompleted: jobset completed successfully$/m,
    );
    assert.match(r.stdout, /\[#{30}\] 5\/5 pods succeeded/);
    for (const [job, idx] of [
      [0, 0],
      [0, 1],
      [1, 0],
      [1, 1],
    ])
      assert.match(
        r.stdout,
        new RegExp(
          `^\\[hello-workers-${job}-${idx}-\\w+\\] worker ${job}/${idx} reporting to hello-coordinator-0-0\\.hello$`,
          "m",
        ),
      );
    assert.match(r.stderr, /^jobset\.jobset\.x-k8s\.io\/hello created in namespace default$/m);
  });

  test("get: printer columns, -A, -o json|yaml, NotFound", async () => {
    const r = await jobset(["get"], withKubeconfig());
    assert.equal(r.code, 0, show(r));
    const lines = r.stdout.trimEnd().split("\n");
    assert.equal(lines[0], "NAME    TERMINALSTATE   RESTARTS   COMPLETED   SUSPENDED   AGE");
    assert.match(lines[1] ?? "", /^hello {3}Completed {7}0 {10}True {20}\d+s$/);

    const all = await jobset(["get", "-A", "-o", "wide"], withKubeconfig());
    assert.match(all.stdout, /^NAMESPACE +NAME +TERMINALSTATE +RESTARTS +COMPLETED +SUSPENDED +AGE +REPLICATEDJOBS/);
    assert.match(all.stdout, /^default +hello +Completed +0 +True +\d+s +coordinator,workers +3 +0 +3 +0$/m);

    const json = await jobset(["get", "hello", "-o", "json"], withKubeconfig());
    const js = JSON.parse(json.stdout) as JobSet;
    assert.equal(js.kind, "JobSet");
    assert.equal(js.status?.terminalState, "Completed");
    const yaml = await jobset(["get", "-o", "yaml"], withKubeconfig());
    assert.match(yaml.stdout, /^kind: List$/m);
    assert.match(yaml.stdout, /^ {4}name: hello$/m);

    const missing = await jobset(["get", "nope"], withKubeconfig());
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, 'Error from server (NotFound): jobsets.jobset.x-k8s.io "nope" not found\n');
    const none = await jobset(["get", "-n", "kube-public"], withKubeconfig());
    assert.equal(none.code, 0);
    assert.equal(none.stderr, "No resources found in kube-public namespace.\n");
  });

  test("describe: spec summary, status, conditions, child Jobs, events", async () => {
    const r = await jobset(["describe", "hello"], withKubeconfig());
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /^Name: +hello$/m);
    assert.match(r.stdout, /^State: +Completed$/m);
    assert.match(r.stdout, /^ {2}Coordinator: +coordinator job 0 pod 0$/m);
    assert.match(r.stdout, /^ {4}workers +2 +2 +2 +Indexed +-$/m);
    assert.match(r.stdout, /^ {2}Terminal State: +Completed$/m);
    assert.match(r.stdout, /^ {2}Completed +True +AllJobsCompleted +\d+s +jobset completed successfully$/m);
    for (const j of ["hello-coordinator-0", "hello-workers-0", "hello-workers-1"])
      assert.match(r.stdout, new RegExp(`^ {2}${j} +Complete +0 +\\d +0 +0$`, "m"));
    assert.match(r.stdout, /^ {2}Normal +AllJobsCompleted +\d+s +jobset +jobset completed successfully$/m);
  });

  test("tree and logs", async () => {
    const t = await jobset(["tree", "hello"], withKubeconfig());
    assert.equal(t.code, 0, show(t));
    const lines = t.stdout.trimEnd().split("\n");
    assert.equal(lines[0], "JobSet default/hello  Completed");
    assert.equal(lines[1], "├─ coordinator  1 job, 1 succeeded");
    assert.match(t.stdout, /^ {3}│ {2}├─ hello-workers-0-0-\w+ {2}Succeeded {2}on fake-node-\d$/m);
    assert.equal(lines.length, 11);

    const all = await jobset(["logs", "hello", "-r", "workers"], withKubeconfig());
    assert.equal(all.code, 0, show(all));
    assert.equal(all.stdout.split("\n").filter((l) => / reporting to hello-coordinator-0-0\.hello$/.test(l)).length, 4);
    assert.ok(all.stdout.split("\n").every((l) => l === "" || /^\[hello-workers-\d-\d-\w+\] /.test(l)));
    const pod = /hello-coordinator-0-0-\w+/.exec(t.stdout)?.[0] ?? "";
    const one = await jobset(["logs", "hello", pod], withKubeconfig());
    assert.equal(one.stdout, "coordinator hello-coordinator-0-0.hello: waiting for 4 workers\ncoordinator: done\n");
    // The pods/log API, proxied by kube-apiserver to the fake kubelet: --tail and --previous work here too.
    const tail = await jobset(["logs", "hello", pod, "--tail", "1"], withKubeconfig());
    assert.equal(tail.stdout, "coordinator: done\n");
    const prev = await jobset(["logs", "hello", pod, "--previous"], withKubeconfig());
    assert.equal(prev.code, 0, show(prev));
    assert.equal(prev.stdout, "");
    assert.equal(prev.stderr, "no restarted container: no previous logs\n");
  });

  test("run failure-policy: a worker fails once, the JobSet restarts and completes", async () => {
    const r = await jobset(["run", example("failure-policy"), "--timeout", "2m"], withKubeconfig());
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /jobset failure-policy: restarts 1$/m);
    assert.match(
      r.stdout,
      /condition RestartingJobSet=True {2}DefaultFailurePolicy: applying RestartJobSet failure policy action/,
    );
    assert.match(r.stdout, /^JobSet default\/failure-policy completed$/m);
    const g = await jobset(["get", "failure-policy"], withKubeconfig());
    assert.match(g.stdout, /^failure-policy +Completed +1 +True/m);
  });

  test("run fail-fast: exit 1 with the Failed condition's reason and message", async () => {
    const r = await jobset(["run", example("fail-fast")], withKubeconfig());
    assert.equal(r.code, 1, show(r));
    assert.match(
      r.stdout,
      /^JobSet default\/fail-fast failed: ReachedMaxRestarts: jobset failed due to reaching max number of restarts \(first failed job: fail-fast-workers-0\)$/m,
    );
  });

  test("run startup-order: the workers' Jobs are created after the leader is ready", async () => {
    const r = await jobset(["run", example("startup-order")], withKubeconfig());
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /condition StartupPolicyCompleted=True {2}InOrderStartupPolicyCompleted/);
    const jobs = await client.list<Job>("/apis/batch/v1/namespaces/default/jobs", {
      labelSelector: "jobset.sigs.k8s.io/jobset-name=startup-order",
    });
    const created = (n: string) =>
      Date.parse(jobs.items.find((j) => j.metadata?.name === n)?.metadata?.creationTimestamp ?? "");
    const leader = created("startup-order-leader-0");
    // The leader's pod is ready 2 s after it starts (fake.jobset.x-k8s.io/ready-after).
    assert.ok(created("startup-order-workers-0") - leader >= 2000, JSON.stringify(jobs.items.map((j) => j.metadata)));
    assert.ok(created("startup-order-workers-1") - leader >= 2000);
  });

  test("run depends-on: the trainer starts after the initializer completed", async () => {
    const r = await jobset(["run", example("depends-on"), "--logs"], withKubeconfig());
    assert.equal(r.code, 0, show(r));
    const out = r.stdout;
    assert.ok(
      out.indexOf("initializer: ready") < out.indexOf("training on the prepared data"),
      `initializer output first\n${out}`,
    );
    const jobs = await client.list<Job>("/apis/batch/v1/namespaces/default/jobs", {
      labelSelector: "jobset.sigs.k8s.io/jobset-name=depends-on",
    });
    const init = jobs.items.find((j) => j.metadata?.name === "depends-on-initializer-0");
    const trainer = jobs.items.find((j) => j.metadata?.name === "depends-on-trainer-0");
    assert.ok(Date.parse(trainer?.metadata?.creationTimestamp ?? "") >= Date.parse(init?.status?.completionTime ?? ""));
  });

  test("run exclusive-placement: each Job on its own rack", async () => {
    const r = await jobset(["run", example("exclusive-placement")], withKubeconfig());
    assert.equal(r.code, 0, show(r));
    const pods = await client.list<Pod>("/api/v1/namespaces/default/pods", {
      labelSelector: "jobset.sigs.k8s.io/jobset-name=exclusive-placement",
    });
    const rack = (node: string) => (node === "fake-node-0" || node === "fake-node-1" ? "r0" : "r1");
    const racks = new Map<string, Set<string>>();
    for (const p of pods.items) {
      const job = p.metadata?.labels?.["batch.kubernetes.io/job-name"] ?? "";
      const set = racks.get(job) ?? new Set();
      set.add(rack(p.spec?.nodeName ?? ""));
      racks.set(job, set);
    }
    assert.equal(racks.size, 2, JSON.stringify([...racks]));
    const [a, b] = [...racks.values()];
    assert.equal(a?.size, 1);
    assert.equal(b?.size, 1);
    assert.notDeepEqual([...(a ?? [])], [...(b ?? [])]);
  });

  test("run ttl: completes, then the controller deletes it", async () => {
    const r = await jobset(["run", example("ttl")], withKubeconfig());
    assert.equal(r.code, 0, show(r));
    await waitFor(
      async () => {
        try {
          await client.get("/apis/jobset.x-k8s.io/v1alpha2/namespaces/default/jobsets/ttl");
          return false;
        } catch (e) {
          return isNotFound(e);
        }
      },
      { timeoutMs: 30_000, message: "the JobSet deleted after its TTL" },
    );
  });

  test("run: a JobSet the webhook refuses → one line with the API's message", async () => {
    const file = join(work, "refused.yaml");
    await writeFile(
      file,
      `apiVersion: jobset.x-k8s.io/v1alpha2
kind: JobSet
metadata: {name: refused}
spec:
  coordinator: {replicatedJob: leader}
  replicatedJobs:
  - name: leader
    template: {spec: {template: {spec: {restartPolicy: Never, containers: [{name: c, image: x}]}}}}
`,
    );
    const r = await jobset(["run", file], withKubeconfig());
    assertOneLineError(
      r,
      /^jobset run: .*refused\.yaml: JobSet refused was refused: admission webhook "vjobset\.kb\.io" denied the request: .*must be indexed completion mode/m,
    );
    assert.equal(r.stdout, "");
  });

  test("run: a JobSet that already exists → one line; --replace recreates it", async () => {
    const before = await client.get<JobSet>("/apis/jobset.x-k8s.io/v1alpha2/namespaces/default/jobsets/hello");
    assertOneLineError(
      await jobset(["run", example("hello")], withKubeconfig()),
      /^jobset run: JobSet default\/hello already exists: delete it \(or pass --replace\), or change metadata\.name$/m,
    );
    const r = await jobset(["run", example("hello"), "--replace"], withKubeconfig());
    assert.equal(r.code, 0, show(r));
    const after = await client.get<JobSet>("/apis/jobset.x-k8s.io/v1alpha2/namespaces/default/jobsets/hello");
    assert.notEqual(after.metadata?.uid, before.metadata?.uid);
    assert.equal(after.status?.terminalState, "Completed");
  });

  test("up --detach + down: nothing left behind", async () => {
    const state = JSON.parse(readFileSync(join(stateDir, "cluster.json"), "utf8")) as { pid: number };
    assert.ok(processesUsing(stateDir).length > 0, "the cluster runs from the state dir");
    const r = await jobset(["down"], env);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stderr, /Local cluster stopped\./);
    await waitFor(() => processesUsing(stateDir).length === 0, {
      timeoutMs: 15_000,
      message: `no process left using ${stateDir}: ${processesUsing(stateDir).join("\n")}`,
    });
    assert.throws(() => process.kill(state.pid, 0));
    assert.ok(!existsSync(join(stateDir, "cluster.json")));
    assert.ok(!existsSync(join(stateDir, "cluster")));
    const again = await jobset(["down"], env);
    assert.equal(again.code, 0);
    assert.equal(again.stderr, "No local cluster is running.\n");
  });
});

describe("jobset CLI without a cluster", () => {
  let work: string;
  let env: NodeJS.ProcessEnv;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), "jobset-cli-test-"));
    env = userEnv(join(work, "state"), join(work, "home"));
  });
  after(async () => {
    await rm(work, { recursive: true, force: true });
  });

  test("errors a user meets: one line each, no stack trace", async () => {
    const cm = join(work, "cm.yaml");
    await writeFile(cm, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n");
    assertOneLineError(
      await jobset(["run", cm], env),
      /^jobset run: .*cm\.yaml:1:1: ConfigMap \(v1\) is not a JobSet \(want apiVersion jobset\.x-k8s\.io\/v1alpha2, kind JobSet\)$/m,
    );

    assertOneLineError(
      await jobset(["get"], env),
      /^jobset get: no cluster configured: start a local cluster with `jobset up --detach`, or set KUBECONFIG$/m,
    );

    const dead = join(work, "dead.kubeconfig");
    await writeFile(
      dead,
      `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
`,
    );
    const unreachable =
      /cannot reach the Kubernetes API server at https:\/\/127\.0\.0\.1:1: start a local cluster with `jobset up --detach`, or set KUBECONFIG$/m;
    assertOneLineError(await jobset(["get", "--kubeconfig", dead], env), unreachable);
    assertOneLineError(await jobset(["describe", "x"], { ...env, KUBECONFIG: dead }), unreachable);
    assertOneLineError(await jobset(["run", example("hello")], { ...env, KUBECONFIG: dead }), unreachable);
    assertOneLineError(
      await jobset(["get"], { ...env, KUBECONFIG: join(work, "missing") }),
      /^jobset get: KUBECONFIG file .*missing does not exist: start a local cluster/m,
    );
    // KUBECONFIG lists several files: they are merged as kubectl merges them (a missing one is skipped).
    assertOneLineError(await jobset(["get"], { ...env, KUBECONFIG: `${join(work, "missing")}:${dead}` }), unreachable);
  });

  test("run with Go missing for the first build → one line saying what to install", async () => {
    const r = await jobset(["run", example("hello")], {
      ...env,
      PATH: "/usr/bin:/bin",
      XDG_CACHE_HOME: join(work, "empty-cache"),
      JOBSET_KUBE_BIN_DIR: undefined,
      KUBEBUILDER_ASSETS: undefined,
    });
    assertOneLineError(r, /^jobset run: Go is not installed: install Go >= [\d.]+ .*JOBSET_KUBE_BIN_DIR/m);
  });

  test("up in the foreground: ready, then Ctrl-C stops every process it started and removes its data (exit 0)", async () => {
    const stateDir = join(work, "fg-state");
    const fgEnv = userEnv(stateDir, join(work, "fg-home"));
    // Its own process group, like a shell's foreground job: Ctrl-C is SIGINT to the whole group. The
    // control-plane supervisors run in sessions of their own, so only `jobset up` sees it.
    const child = spawn(process.execPath, [BIN, "up", "--nodes", "1"], {
      env: fgEnv,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    const pid = child.pid;
    assert.ok(pid);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on("exit", (code, signal) => resolve({ code, signal })),
    );
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    void exited.then((e) => {
      exit = e;
    });
    const started = new Set<number>();
    const sampler = setInterval(() => collectDescendants(pid, started), 200);
    try {
      const kubeconfig = await waitFor(
        () => {
          if (exit) throw new Error(`jobset up exited early (${exit.code ?? exit.signal})\n${stderr}`);
          return /^export KUBECONFIG=(\S+)$/m.exec(stdout)?.[1];
        },
        { timeoutMs: 120_000, message: `jobset up to be ready\n${stderr}` },
      );
      assert.match(stderr, /Press Ctrl-C to stop it\./);
      const client = await KubeClient.create({ kubeconfig, userAgent: "jobset-cli-test" });
      try {
        const nodes = await client.list<Node>("/api/v1/nodes");
        assert.deepEqual(
          nodes.items.map((n) => n.metadata?.name),
          ["fake-node-0"],
        );
      } finally {
        await client.close();
      }
      const state = JSON.parse(readFileSync(join(stateDir, "cluster.json"), "utf8")) as {
        pid: number;
        dataDir: string;
      };
      assert.equal(state.pid, pid);
      assert.ok(existsSync(state.dataDir));
      // The components' pid files (written by their supervisors) name processes of its tree.
      collectDescendants(pid, started);
      const components = readdirSync(state.dataDir, { recursive: true, encoding: "utf8" })
        .filter((f) => f.endsWith(".pid"))
        .map((f) => Number(readFileSync(join(state.dataDir, f), "utf8").trim()));
      assert.ok(components.length >= 4, `pid files of etcd, apiserver, controller manager, scheduler: ${components}`);
      for (const c of components) assert.ok(started.has(c), `component ${c} is in the tree of ${pid}`);
      const names = [...started].map((p) => {
        try {
          return readFileSync(`/proc/${p}/cmdline`, "utf8").split("\0")[0] ?? "";
        } catch {
          return "";
        }
      });
      for (const bin of ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"])
        assert.ok(
          names.some((n) => n.endsWith(`/${bin}`)),
          `${bin} runs under jobset up: ${names.join(" ")}`,
        );

      process.kill(-pid, "SIGINT");
      const result = await waitFor(() => exit, { timeoutMs: 20_000, message: `jobset up to exit\n${stderr}` });
      // A requested stop is a clean exit: up returns 0 after stopping (not 130 as for an interrupted command).
      assert.deepEqual(result, { code: 0, signal: null }, stderr);
      assert.match(stderr, /^Stopping the local cluster…$/m);
      assert.ok(stderr.endsWith("Local cluster stopped.\n"), stderr);
      assert.doesNotMatch(stderr, /^\s+at /m, `stack trace printed\n${stderr}`);
      await waitFor(() => [...started].every((p) => !alive(p)), {
        timeoutMs: 15_000,
        message: `every process it started to exit: ${[...started].filter(alive).join(" ")}`,
      });
      assert.deepEqual(processesUsing(stateDir), []);
      assert.ok(!existsSync(state.dataDir), "its data dir is removed");
      assert.ok(!existsSync(join(stateDir, "cluster.json")), "its state file is removed");
    } finally {
      clearInterval(sampler);
      if (!exit) process.kill(-pid, "SIGKILL");
    }
  });

  test("run with no cluster: an ephemeral local cluster runs hello and is removed afterwards", async () => {
    const started = new Set<number>();
    const r = await jobset(["run", example("hello"), "--logs"], env, 600_000, started);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stderr, /starting an ephemeral local cluster \(4 nodes, exec runtime\)/);
    assert.match(r.stdout, /^JobSet default\/hello completed$/m);
    assert.match(r.stdout, /worker 1\/1 reporting to hello-coordinator-0-0\.hello$/m);
    assert.match(r.stderr, /Stopping the ephemeral local cluster/);
    // The progress clock starts when the JobSet is applied: the first line's time does not include the
    // cluster's start (nor a first-time build). The first line reached us firstStdoutMs after the spawn, and
    // the cluster took at least readySeconds (the figure is cut down to whole seconds) before the apply, so
    // the stamp can be at most their difference (plus its rounding to a tenth). A clock that started with
    // the process would stamp it at about the whole time since the spawn.
    const ready = /^Local cluster ready in (?:(\d+)m)?(?:(\d+)s)?\.$/m.exec(r.stderr);
    assert.ok(ready, show(r));
    const readySeconds = Number(ready[1] ?? 0) * 60 + Number(ready[2] ?? 0);
    const firstStamp = Number(/^\+ *([\d.]+)s /m.exec(r.stdout)?.[1]);
    const firstSeen = (r.firstStdoutMs ?? Number.NaN) / 1000;
    assert.ok(
      firstStamp - 0.05 <= firstSeen - readySeconds,
      `first progress line stamped +${firstStamp}s, seen ${firstSeen.toFixed(2)}s after the spawn, cluster start ${readySeconds}s`,
    );
    // It started the control plane (supervisors + binaries) and exec containers; all are gone.
    assert.ok(started.size >= 8, `saw the processes it started: ${[...started].join(" ")}`);
    await waitFor(() => [...started].every((p) => !alive(p)), {
      timeoutMs: 15_000,
      message: `every process it started to exit: ${[...started].filter(alive).join(" ")}`,
    });
  });
});
