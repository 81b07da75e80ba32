// The in-place restart agent's permissions on the real API server: the shipped kustomize component
// (config/components/in-place-restart-agent, rendered by `kubectl kustomize` into the test namespace)
// and nothing else. Acting as the agent — a token of its ServiceAccount bound to its pod, as the
// kubelet mounts it — it may set the attempt annotation of that pod; every other write is refused with
// 403 Forbidden, by RBAC (verbs and resources the Role lacks) or by the ValidatingAdmissionPolicy (a
// patch of anything else). The real agent (startAgent) then runs its whole cycle with that token. The
// Helm chart's agent objects equal the component's.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import { startAgent } from "../../src/agent/agent.ts";
import { AgentPolicyName, AgentServiceAccountName, agentPolicyMessage } from "../../src/agent/rbac.ts";
import { Annotations, JobSetResource } from "../../src/api/constants.ts";
import type { Pod } from "../../src/api/k8s.ts";
import type { JobSet } from "../../src/api/types.ts";
import { ApiError, KubeClient } from "../../src/runtime/client.ts";
import { silentLogger } from "../../src/runtime/logger.ts";
import { Resources, resourcePath } from "../../src/runtime/resources.ts";
import { kubectl, type TestCluster, useCluster, waitFor } from "../support/cluster.ts";
import { ensureHelm, helm } from "../support/helm.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const ATTEMPT = Annotations.InPlaceRestartAttempt;
const SA = AgentServiceAccountName;

interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [k: string]: unknown;
}
const parseDocs = (text: string): Obj[] =>
  parseAllDocuments(text)
    .map((d) => d.toJS() as Obj | null)
    .filter((d): d is Obj => d !== null);

const ClusterScoped = new Set(["ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"]);
const clusterScopedWithoutNamespace = (docs: Obj[]): Obj[] =>
  docs.map((d) => {
    if (!ClusterScoped.has(d.kind)) return d;
    const { namespace: _ns, ...metadata } = d.metadata;
    return { ...d, metadata };
  });

let cluster: TestCluster;
let scratch = "";

before(async () => {
  cluster = await useCluster("apiserver");
  scratch = mkdtempSync(join(tmpdir(), "jobset-agent-rbac-"));
});
const closers: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const close of closers) await close().catch(() => undefined);
  if (scratch) rmSync(scratch, { recursive: true, force: true });
  for (const name of namespaces)
    await cluster.client.delete(resourcePath({ ...Resources.namespaces, name })).catch(() => undefined);
  for (const kind of ["validatingadmissionpolicybindings", "validatingadmissionpolicies"])
    await cluster.client
      .delete(`/apis/admissionregistration.k8s.io/v1/${kind}/${AgentPolicyName}`)
      .catch(() => undefined);
});

const namespaces: string[] = [];
/** A namespace of this file, deleted at its end. */
async function namespace(prefix: string): Promise<string> {
  const name = `${prefix}-${Math.random().toString(36).slice(2, 8)}`;
  await cluster.client.create(resourcePath(Resources.namespaces), { metadata: { name } });
  namespaces.push(name);
  return name;
}

/** The component rendered into `ns` the way a user opts in: a kustomization with `namespace:` and the component. */
async function renderComponent(ns: string): Promise<string> {
  const top = mkdtempSync(join(scratch, "kustomize-"));
  const target = relative(top, join(root, "config", "components", "in-place-restart-agent"));
  writeFileSync(
    join(top, "kustomization.yaml"),
    `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: ${ns}\ncomponents:\n  - ${target}\n`,
  );
  return kubectl(cluster, ["kustomize", top]);
}

const podsPath = (ns: string, name?: string) =>
  resourcePath({ ...Resources.pods, namespace: ns, ...(name ? { name } : {}) });

async function createPod(ns: string, name: string): Promise<Pod> {
  return cluster.client.create<Pod>(podsPath(ns), {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, labels: { app: "worker" }, annotations: { "example.com/note": "keep" } },
    spec: { serviceAccountName: SA, containers: [{ name: "agent", image: "jobset-controller" }] },
  });
}

/** A token of the agent's ServiceAccount bound to `pod` (what the kubelet projects into the pod), or unbound. */
async function agentToken(ns: string, pod?: Pod): Promise<string> {
  const tr = await cluster.client.create<{ status: { token: string } }>(
    `/api/v1/namespaces/${ns}/serviceaccounts/${SA}/token`,
    {
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenRequest",
      spec: {
        expirationSeconds: 3600,
        ...(pod
          ? { boundObjectRef: { apiVersion: "v1", kind: "Pod", name: pod.metadata?.name, uid: pod.metadata?.uid } }
          : {}),
      },
    },
  );
  return tr.status.token;
}

function clientWithToken(ns: string, token: string): KubeClient {
  const tls = { ...cluster.client.config.tls };
  delete tls.cert;
  delete tls.key;
  return new KubeClient(
    {
      source: "agent token",
      server: cluster.client.server,
      namespace: ns,
      tls,
      credentials: {
        get: () => Promise.resolve({ headers: { authorization: `Bearer ${token}` } }),
        invalidate: () => {},
      },
    },
    { userAgent: "jobset-agent-rbac-test" },
  );
}

const applyAttempt = (c: KubeClient, ns: string, pod: string, annotations: Record<string, string>) =>
  c.patch(
    podsPath(ns, pod),
    { apiVersion: "v1", kind: "Pod", metadata: { name: pod, namespace: ns, annotations } },
    "apply",
    { fieldManager: "in-place-restart-agent", force: true },
  );

/** The error a request fails with (the test fails if it succeeds). */
async function refusal(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  assert.fail("the request succeeded but must be refused");
}

const userOf = (ns: string) => `system:serviceaccount:${ns}:${SA}`;
/** RBAC's refusal of `verb` on `resource` in `ns`. */
function assertRbacRefused(e: ApiError, ns: string, verb: string, resource: string, group = "", inNs = ns): void {
  assert.equal(e.code, 403, e.message);
  assert.equal(e.reason, "Forbidden", e.message);
  assert.ok(
    e.message.includes(
      `User "${userOf(ns)}" cannot ${verb} resource "${resource}" in API group "${group}" in the namespace "${inNs}"`,
    ),
    e.message,
  );
}
/** The admission policy's refusal. */
function assertPolicyRefused(e: ApiError): void {
  assert.equal(e.code, 403, e.message);
  assert.equal(e.reason, "Forbidden", e.message);
  assert.equal(
    e.message,
    `pods "${e.status?.details?.name}" is forbidden: ValidatingAdmissionPolicy '${AgentPolicyName}' with binding '${AgentPolicyName}' denied request: ${agentPolicyMessage(SA)}`,
  );
}

describe("in-place restart agent RBAC (config/components/in-place-restart-agent)", () => {
  let ns: string;
  let own: Pod;
  let agent: KubeClient;
  let unbound: KubeClient;

  before(async () => {
    ns = await namespace("agent-rbac");
  });

  test("the component installs; the agent may set the attempt annotation of its own pod", async () => {
    const manifest = await renderComponent(ns);
    // kubectl's kustomize does not know that the policy kinds are cluster-scoped and gives them the
    // namespace too; the API server drops it (checked below, once applied).
    const docs = clusterScopedWithoutNamespace(parseDocs(manifest));
    assert.deepEqual(
      docs.map((d) => `${d.kind}/${d.metadata.namespace ?? ""}/${d.metadata.name}`).sort(),
      [
        `Role/${ns}/${SA}`,
        `RoleBinding/${ns}/${SA}`,
        `ServiceAccount/${ns}/${SA}`,
        `ValidatingAdmissionPolicy//${AgentPolicyName}`,
        `ValidatingAdmissionPolicyBinding//${AgentPolicyName}`,
      ].sort(),
    );
    await kubectl(cluster, ["apply", "--server-side", "-f", "-"], manifest);
    for (const kind of ["validatingadmissionpolicies", "validatingadmissionpolicybindings"]) {
      const o = await cluster.client.get<Obj>(`/apis/admissionregistration.k8s.io/v1/${kind}/${AgentPolicyName}`);
      assert.equal(o.metadata.namespace, undefined, `${kind} is cluster-scoped`);
    }
    own = await createPod(ns, "worker-0");
    await createPod(ns, "worker-1");
    agent = clientWithToken(ns, await agentToken(ns, own));
    unbound = clientWithToken(ns, await agentToken(ns));
    closers.push(
      () => agent.close(),
      () => unbound.close(),
    );

    // The policy is enforced once the API server has loaded it: wait until a forbidden label change
    // (a dry run, which goes through admission but never persists) is refused.
    await waitFor(
      async () => {
        const e = await refusal(
          agent.patch(podsPath(ns, "worker-0"), { metadata: { labels: { app: "changed" } } }, "merge", {
            dryRun: "All",
          }),
        ).catch((x: Error) => x);
        if (!(e instanceof ApiError) || e.code !== 403) throw e instanceof Error ? e : new Error(String(e));
        return true;
      },
      { message: "the ValidatingAdmissionPolicy refuses the agent's label change", timeoutMs: 30_000 },
    );

    const pod = await applyAttempt(agent, ns, "worker-0", { [ATTEMPT]: "0" });
    assert.equal((pod as Pod).metadata?.annotations?.[ATTEMPT], "0");
    const again = (await applyAttempt(agent, ns, "worker-0", { [ATTEMPT]: "7" })) as Pod;
    assert.deepEqual(again.metadata?.annotations, { "example.com/note": "keep", [ATTEMPT]: "7" });
    assert.deepEqual(again.metadata?.labels, { app: "worker" });
    const owners = again.metadata?.managedFields?.filter((f) => f.manager === "in-place-restart-agent");
    assert.equal(owners?.length, 1, "field manager in-place-restart-agent owns the annotation");
    // and reads its own JobSet's kind
    // (retried: right after start-up the API server may answer 429 while the JobSet storage initializes)
    await waitFor(
      () => agent.list(resourcePath({ ...JobSetResource, namespace: ns }), { fieldSelector: "metadata.name=js" }),
      {
        message: "the agent lists its JobSet",
      },
    );
  });

  test("every other write to pods is refused by the admission policy with 403", async () => {
    const cases: [string, () => Promise<unknown>][] = [
      ["the attempt annotation of another pod", () => applyAttempt(agent, ns, "worker-1", { [ATTEMPT]: "1" })],
      [
        "another annotation of its own pod",
        () => applyAttempt(agent, ns, "worker-0", { [ATTEMPT]: "7", "x.io/y": "z" }),
      ],
      ["a non-integer attempt", () => applyAttempt(agent, ns, "worker-0", { [ATTEMPT]: "-1" })],
      [
        "a label (merge patch)",
        () => agent.patch(podsPath(ns, "worker-0"), { metadata: { labels: { a: "b" } } }, "merge"),
      ],
      [
        "an existing annotation's value",
        () =>
          agent.patch(podsPath(ns, "worker-0"), { metadata: { annotations: { "example.com/note": "x" } } }, "merge"),
      ],
      [
        "a finalizer",
        () => agent.patch(podsPath(ns, "worker-0"), { metadata: { finalizers: ["example.com/f"] } }, "merge"),
      ],
      ["the spec", () => agent.patch(podsPath(ns, "worker-0"), { spec: { activeDeadlineSeconds: 5 } }, "merge")],
      ["with a token not bound to a pod", () => applyAttempt(unbound, ns, "worker-0", { [ATTEMPT]: "8" })],
    ];
    for (const [what, write] of cases) {
      const e = await refusal(write());
      try {
        assertPolicyRefused(e);
      } catch (err) {
        assert.fail(`${what}: ${(err as Error).message}`);
      }
    }
    const pod = await cluster.client.get<Pod>(podsPath(ns, "worker-0"));
    assert.deepEqual(pod.metadata?.annotations, { "example.com/note": "keep", [ATTEMPT]: "7" }, "nothing changed");
    assert.deepEqual(pod.metadata?.labels, { app: "worker" });
    assert.equal(pod.spec?.activeDeadlineSeconds, undefined);
  });

  test("every verb and resource outside the Role is refused by RBAC with 403", async () => {
    const other = await namespace("agent-rbac-other");
    const cases: [string, () => Promise<unknown>, string, string, string?, string?][] = [
      ["get its pod", () => agent.get(podsPath(ns, "worker-0")), "get", "pods"],
      ["list pods", () => agent.list(podsPath(ns)), "list", "pods"],
      ["update (PUT) its pod", async () => agent.update(podsPath(ns, "worker-0"), own), "update", "pods"],
      ["delete its pod", () => agent.delete(podsPath(ns, "worker-0")), "delete", "pods"],
      [
        "create a pod",
        () =>
          agent.create(podsPath(ns), {
            apiVersion: "v1",
            kind: "Pod",
            metadata: { name: "x" },
            spec: { containers: [{ name: "c", image: "i" }] },
          }),
        "create",
        "pods",
      ],
      [
        "a new pod by server-side apply",
        () =>
          agent.patch(
            podsPath(ns, "worker-9"),
            {
              apiVersion: "v1",
              kind: "Pod",
              metadata: { name: "worker-9", namespace: ns, annotations: { [ATTEMPT]: "0" } },
              spec: { containers: [{ name: "c", image: "i" }] },
            },
            "apply",
            { fieldManager: "in-place-restart-agent", force: true },
          ),
        "create",
        "pods",
      ],
      [
        "patch its pod's status",
        () => agent.patch(`${podsPath(ns, "worker-0")}/status`, { status: { phase: "Failed" } }, "merge"),
        "patch",
        "pods/status",
      ],
      [
        "evict its pod",
        () =>
          agent.create(`${podsPath(ns, "worker-0")}/eviction`, {
            apiVersion: "policy/v1",
            kind: "Eviction",
            metadata: { name: "worker-0", namespace: ns },
          }),
        "create",
        "pods/eviction",
      ],
      [
        "patch a JobSet",
        () =>
          agent.patch(
            `${resourcePath({ ...JobSetResource, namespace: ns })}/js`,
            { metadata: { labels: { a: "b" } } },
            "merge",
          ),
        "patch",
        "jobsets",
        JobSetResource.group,
      ],
      [
        "patch JobSet status",
        () => agent.patch(`${resourcePath({ ...JobSetResource, namespace: ns })}/js/status`, { status: {} }, "merge"),
        "patch",
        "jobsets/status",
        JobSetResource.group,
      ],
      [
        "create a ConfigMap",
        () => agent.create(resourcePath({ ...Resources.configmaps, namespace: ns }), { metadata: { name: "x" } }),
        "create",
        "configmaps",
      ],
      ["read Secrets", () => agent.list(resourcePath({ ...Resources.secrets, namespace: ns })), "list", "secrets"],
      [
        "patch a pod in another namespace",
        () => applyAttempt(agent, other, "worker-0", { [ATTEMPT]: "1" }),
        "patch",
        "pods",
        "",
        other,
      ],
      [
        "watch JobSets in another namespace",
        () => agent.list(resourcePath({ ...JobSetResource, namespace: other })),
        "list",
        "jobsets",
        JobSetResource.group,
        other,
      ],
    ];
    for (const [what, write, verb, resource, group, inNs] of cases) {
      const e = await refusal(write());
      try {
        assertRbacRefused(e, ns, verb, resource, group ?? "", inNs ?? ns);
      } catch (err) {
        assert.fail(`${what}: ${(err as Error).message}`);
      }
    }
  });

  test("the agent runs its cycle with exactly these permissions: annotate, lift the barrier, exit to restart", async () => {
    const jsPath = resourcePath({ ...JobSetResource, namespace: ns });
    await cluster.client.create<JobSet>(jsPath, {
      apiVersion: "jobset.x-k8s.io/v1alpha2",
      kind: "JobSet",
      metadata: { name: "js" },
      spec: {
        failurePolicy: { maxRestarts: 3, restartStrategy: "InPlaceRestart" },
        replicatedJobs: [
          {
            name: "w",
            replicas: 1,
            template: {
              spec: {
                completions: 2,
                parallelism: 2,
                backoffLimit: 2147483647,
                podReplacementPolicy: "Failed",
                template: { spec: { restartPolicy: "OnFailure", containers: [{ name: "c", image: "i" }] } },
              },
            },
          },
        ],
      },
    });
    await cluster.client.patch(podsPath(ns, "worker-0"), { metadata: { annotations: { [ATTEMPT]: null } } }, "merge");
    const running = startAgent(
      {
        namespace: ns,
        jobSetName: "js",
        podName: "worker-0",
        exitCode: 42,
        mode: { kind: "sidecar", probePath: "/barrier-is-down", probePort: 0 },
      },
      { client: agent, log: silentLogger() },
    );
    closers.unshift(async () => {
      running.signal("SIGTERM");
      await running.exited;
    });
    let exitCode: number | undefined;
    void running.exited.then((c) => {
      exitCode = c;
    });
    await waitFor(
      async () => (await cluster.client.get<Pod>(podsPath(ns, "worker-0"))).metadata?.annotations?.[ATTEMPT] === "0",
      { message: "the agent annotates attempt 0" },
    );
    assert.equal(running.probeAddress(), undefined, "the barrier holds until the controller syncs");
    const setStatus = (status: Record<string, unknown>) =>
      cluster.client.patch(`${jsPath}/js/status`, { status }, "merge");
    await setStatus({ currentInPlaceRestartAttempt: 0 });
    const addr = await waitFor(() => running.probeAddress(), { message: "the startup probe server listens" });
    const probe = (path: string) =>
      new Promise<number>((resolve, reject) => {
        request({ host: "127.0.0.1", port: addr.port, path }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        })
          .on("error", reject)
          .end();
      });
    assert.equal(await probe("/barrier-is-down"), 200);
    assert.equal(await probe("/other"), 404);
    assert.equal(exitCode, undefined);
    await setStatus({ previousInPlaceRestartAttempt: 0 });
    assert.equal(await running.exited, 42, "a stale attempt exits with IN_PLACE_RESTART_EXIT_CODE");
  });

  test("the Helm chart's agent objects equal the component's, and it lints with them on", async () => {
    const bin = await ensureHelm();
    const rendered = await helm(
      bin,
      [
        "template",
        "jobset",
        join(root, "charts", "jobset"),
        "--namespace",
        "jobset-system",
        "--set",
        "inPlaceRestartAgent.enabled=true",
        "--set",
        `inPlaceRestartAgent.namespaces={${ns}}`,
        "--show-only",
        "templates/in-place-restart-agent.yaml",
      ],
      scratch,
    );
    const strip = (docs: Obj[]) =>
      docs
        .map((d) => ({ ...d, metadata: { ...d.metadata, labels: undefined } }))
        .sort((a, b) => `${a.kind}/${a.metadata.name}`.localeCompare(`${b.kind}/${b.metadata.name}`));
    assert.deepEqual(
      strip(parseDocs(rendered)),
      strip(clusterScopedWithoutNamespace(parseDocs(await renderComponent(ns)))),
    );
    await helm(
      bin,
      ["lint", "--strict", join(root, "charts", "jobset"), "--set", "inPlaceRestartAgent.enabled=true"],
      scratch,
    );
    const off = await helm(bin, ["template", "jobset", join(root, "charts", "jobset")], scratch);
    assert.ok(!off.includes(AgentPolicyName), "off by default");
  });
});
