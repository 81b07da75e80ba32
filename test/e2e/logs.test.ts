// Container logs through the API server: kube-apiserver proxies pods/log to the fake kubelet's log
// endpoint on the node's InternalIP (127.0.0.1) and kubelet port, so the pods/log API and our built
// kubectl show what the containers printed, as on a real cluster.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import https from "node:https";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Container, Node, Pod } from "../../src/api/k8s.ts";
import { type FakeKubelet, SimAnnotations, startFakeKubelet } from "../../src/local/kubelet.ts";
import { liveProcessGroups } from "../../src/local/kubelet-exec.ts";
import { ApiError } from "../../src/runtime/client.ts";
import { kubectl, type TestCluster, testNamespace, useCluster, waitFor } from "../support/cluster.ts";

const suffix = Math.random().toString(36).slice(2, 7);
const EXEC_NODE = `logs-exec-${suffix}`;
const SIM_NODE = `logs-sim-${suffix}`;
const PODS = (ns: string) => `/api/v1/namespaces/${ns}/pods`;

describe("container logs through the API server", () => {
  let cluster: TestCluster;
  let exec: FakeKubelet;
  let sim: FakeKubelet;

  before(async () => {
    cluster = await useCluster("full");
    // Pods are bound with spec.nodeName: the scheduler is not involved, taints keep others' pods off.
    const taints = [{ key: "fake.jobset.x-k8s.io/logs-e2e", value: "true", effect: "NoSchedule" as const }];
    exec = await startFakeKubelet({ client: cluster.client, nodes: [{ name: EXEC_NODE, taints }], runtime: "exec" });
    sim = await startFakeKubelet({ client: cluster.client, nodes: [{ name: SIM_NODE, taints }], runtime: "simulate" });
  });
  after(async () => {
    await exec?.stop();
    await sim?.stop();
    assert.equal(liveProcessGroups(), 0);
  });

  async function runPod(
    ns: string,
    name: string,
    node: string,
    containers: Container[],
    o: { restartPolicy?: string; annotations?: Record<string, string> } = {},
  ): Promise<void> {
    await cluster.client.create(PODS(ns), {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name, annotations: o.annotations ?? {} },
      spec: { nodeName: node, restartPolicy: o.restartPolicy ?? "Never", containers },
    });
  }
  const phase = (ns: string, name: string, want: string) =>
    waitFor(
      async () => {
        const p = await cluster.client.get<Pod>(`${PODS(ns)}/${name}`);
        return p.status?.phase === want ? p : undefined;
      },
      { message: `pod ${ns}/${name} ${want}` },
    );
  const sh = (script: string): Container => ({ name: "main", image: "busybox", command: ["/bin/sh", "-c", script] });
  const podLog = (ns: string, name: string, query: Record<string, string | number | boolean> = {}) =>
    cluster.client.requestText("GET", `${PODS(ns)}/${name}/log`, { query: { container: "main", ...query } });

  test("nodes advertise loopback only: InternalIP 127.0.0.1 and the kubelet's port; pods get loopback IPs", async (t) => {
    const node = await cluster.client.get<Node>(`/api/v1/nodes/${EXEC_NODE}`);
    assert.deepEqual(node.status?.addresses, [
      { type: "InternalIP", address: "127.0.0.1" },
      { type: "Hostname", address: EXEC_NODE },
    ]);
    assert.equal(node.status?.daemonEndpoints?.kubeletEndpoint?.Port, exec.kubeletPort);
    assert.notEqual(exec.kubeletPort, sim.kubeletPort, "one server per fake kubelet");
    const ns = await testNamespace(t, cluster);
    await runPod(ns, "ips", EXEC_NODE, [sh('echo "$POD_IP"')]);
    const p = await phase(ns, "ips", "Succeeded");
    assert.equal(p.status?.hostIP, "127.0.0.1");
    assert.deepEqual(p.status?.hostIPs, [{ ip: "127.0.0.1" }]);
    assert.match(p.status?.podIP ?? "", /^127\.244\.\d+\.\d+$/);
    assert.deepEqual(p.status?.podIPs, [{ ip: p.status?.podIP }]);
  });

  test("GET pods/log returns what the exec container printed; tailLines, limitBytes, timestamps", async (t) => {
    const ns = await testNamespace(t, cluster);
    await runPod(ns, "printer", EXEC_NODE, [sh("for i in 1 2 3 4; do echo line $i; done; echo err >&2")]);
    await phase(ns, "printer", "Succeeded");
    assert.equal(await podLog(ns, "printer"), "line 1\nline 2\nline 3\nline 4\nerr\n");
    assert.equal(await podLog(ns, "printer", { tailLines: 2 }), "line 4\nerr\n");
    assert.equal(await podLog(ns, "printer", { limitBytes: 9 }), "line 1\nli");
    const stamped = await podLog(ns, "printer", { timestamps: true, tailLines: 1 });
    assert.match(stamped, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z err\n$/);
    const since = await podLog(ns, "printer", { sinceSeconds: 3600 });
    assert.equal(since, "line 1\nline 2\nline 3\nline 4\nerr\n");
  });

  test("follow streams lines as the container prints them, and ends when it exits", async (t) => {
    const ns = await testNamespace(t, cluster);
    // The container waits for files the test creates in its working dir (the pod's scratch dir).
    const wait = (f: string) => `while [ ! -e ${f} ]; do sleep 0.05; done`;
    await runPod(ns, "talker", EXEC_NODE, [sh(`echo one; ${wait("go")}; echo two; ${wait("end")}; echo three`)]);
    await phase(ns, "talker", "Running");
    const dir = join(exec.dataDir, "pods", ns, "talker");
    let got = "";
    const abort = new AbortController();
    t.after(() => abort.abort());
    const streamed = (async () => {
      for await (const chunk of cluster.client.streamText(
        `${PODS(ns)}/talker/log`,
        { container: "main", follow: true },
        abort.signal,
      ))
        got += chunk;
    })();
    await waitFor(() => got === "one\n", { message: `"one" streamed (got ${JSON.stringify(got)})` });
    writeFileSync(join(dir, "go"), "");
    await waitFor(() => got === "one\ntwo\n", { message: `"two" streamed (got ${JSON.stringify(got)})` });
    writeFileSync(join(dir, "end"), "");
    await streamed; // the stream ends by itself once the container exited
    assert.equal(got, "one\ntwo\nthree\n");
  });

  test("a restarted container: the current run by default, the previous one with previous=true", async (t) => {
    const ns = await testNamespace(t, cluster);
    // The pod's working dir survives the restart: the first run fails, the second succeeds.
    const script = 'n=$(cat n 2>/dev/null || echo 0); echo "run $n"; echo $((n+1)) > n; [ "$n" -ge 1 ]';
    await runPod(ns, "again", EXEC_NODE, [sh(script)], { restartPolicy: "OnFailure" });
    const p = await phase(ns, "again", "Succeeded");
    assert.equal(p.status?.containerStatuses?.[0]?.restartCount, 1);
    assert.equal(await podLog(ns, "again"), "run 1\n");
    assert.equal(await podLog(ns, "again", { previous: true }), "run 0\n");
    assert.equal(exec.logsPath(ns, "again", "main").endsWith("main.log"), true);
    assert.equal(await exec.readLogs(ns, "again", "main"), "run 0\nrun 1\n", "the file keeps every run");
  });

  test("errors: no previous run, unknown container, and the kubelet's 404 for a pod it does not run", async (t) => {
    const ns = await testNamespace(t, cluster);
    await runPod(ns, "once", EXEC_NODE, [sh("echo hi")]);
    await phase(ns, "once", "Succeeded");
    await assert.rejects(podLog(ns, "once", { previous: true }), (e: unknown) => {
      assert.ok(e instanceof ApiError);
      assert.equal(e.code, 400);
      assert.match(e.message, /previous terminated container "main" in pod "once_.*" not found/);
      return true;
    });
    await assert.rejects(
      cluster.client.requestText("GET", `${PODS(ns)}/once/log`, { query: { container: "nope" } }),
      (e: unknown) => e instanceof ApiError && e.code === 400 && /container nope is not valid/.test(e.message),
    );
    // The exec kubelet asked directly about a pod of the other kubelet's node.
    await runPod(ns, "elsewhere", SIM_NODE, [{ name: "main", image: "busybox" }]);
    await phase(ns, "elsewhere", "Succeeded");
    const r = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      https
        .get(
          {
            host: "127.0.0.1",
            port: exec.kubeletPort,
            path: `/containerLogs/${ns}/elsewhere/main`,
            ca: exec.kubeletCaCert,
          },
          (res) => {
            let body = "";
            res.on("data", (d: Buffer) => {
              body += d.toString();
            });
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
          },
        )
        .on("error", reject);
    });
    assert.deepEqual(r, { status: 404, body: 'pod "elsewhere" does not exist\n' });
  });

  test("simulate: each container run leaves synthetic lines", async (t) => {
    const ns = await testNamespace(t, cluster);
    await runPod(ns, "sim", SIM_NODE, [{ name: "main", image: "busybox" }], {
      annotations: { [SimAnnotations.Duration]: "100ms", [SimAnnotations.ExitCode]: "3" },
    });
    await phase(ns, "sim", "Failed");
    assert.equal(
      await podLog(ns, "sim"),
      "fake-kubelet: container main started (simulated)\nfake-kubelet: container main exited with code 3\n",
    );
  });

  test("our kubectl: kubectl logs, --tail, -f", async (t) => {
    const ns = await testNamespace(t, cluster);
    await runPod(ns, "k", EXEC_NODE, [sh("echo alpha; echo beta; echo gamma")]);
    await phase(ns, "k", "Succeeded");
    assert.equal(await kubectl(cluster, ["logs", "-n", ns, "k"]), "alpha\nbeta\ngamma\n");
    assert.equal(await kubectl(cluster, ["logs", "-n", ns, "k", "-c", "main", "--tail=1"]), "gamma\n");
    assert.equal(await kubectl(cluster, ["logs", "-n", ns, "pod/k", "-f"]), "alpha\nbeta\ngamma\n");
  });
});
