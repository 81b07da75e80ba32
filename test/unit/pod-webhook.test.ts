import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Labels } from "../../src/api/constants.ts";
import type { Node, Pod } from "../../src/api/k8s.ts";
import { podNameIndexKeys } from "../../src/controller/placement.ts";
import type { AdmissionRequest } from "../../src/webhooks/admission.ts";
import { decodePatch } from "../../src/webhooks/admission.ts";
import {
  mutatePod,
  mutatePodRequest,
  type PodWebhookLookups,
  validatePod,
  validatePodRequest,
} from "../../src/webhooks/pod-webhook.ts";
import { K, node, pod } from "../support/pods.ts";

/** Lookups over an in-memory pod list (indexed like the cache) and node map. */
function lookups(pods: Pod[], nodes: Node[] = [], nodeError?: string): PodWebhookLookups & { nodeGets: string[] } {
  const nodeGets: string[] = [];
  return {
    nodeGets,
    podsByName: (ns, key) =>
      pods.filter((p) => (p.metadata?.namespace ?? "") === ns && podNameIndexKeys(p).includes(key)),
    getNode: async (name) => {
      nodeGets.push(name);
      if (nodeError) throw new Error(nodeError);
      const n = nodes.find((x) => x.metadata?.name === name);
      if (!n) throw new Error(`Node "${name}" not found`);
      return n;
    },
  };
}

const withPriority = (p: Pod, priority: number): Pod => {
  p.spec = { ...(p.spec ?? { containers: [] }), priority };
  return p;
};

describe("pod mutating webhook", () => {
  test("pods without the jobset-name annotation are untouched", async () => {
    const p = withPriority(pod("", { index: "0" }), 5);
    delete p.metadata?.annotations?.[Labels.JobSetName];
    const r = await mutatePod(p, lookups([]));
    assert.deepEqual(r, { pod: p });
  });
  test("node-selector strategy pods are untouched (not even the priority label)", async () => {
    const p = withPriority(pod("", { index: "0", nodeSelectorStrategy: true }), 5);
    assert.deepEqual(await mutatePod(p, lookups([])), { pod: p });
  });
  test("JobSet pods without exclusive placement only get the priority label", async () => {
    const p = withPriority(pod("", { index: "1", exclusive: false }), 7);
    const r = await mutatePod(p, lookups([]));
    assert.ok("pod" in r);
    assert.equal(r.pod.metadata?.labels?.[Labels.Priority], "7");
    assert.deepEqual(r.pod.spec, p.spec);
  });
  test("no priority → no priority label", async () => {
    const r = await mutatePod(pod("", { index: "1", exclusive: false }), lookups([]));
    assert.ok("pod" in r);
    assert.equal(r.pod.metadata?.labels?.[Labels.Priority], undefined);
  });
  test("leader gets affinity and anti-affinity appended (existing terms kept)", async () => {
    const p = withPriority(pod("", { index: "0", jobKey: "abc" }), 0);
    const existing = { labelSelector: { matchLabels: { a: "b" } }, topologyKey: "zone" };
    p.spec = {
      ...(p.spec ?? { containers: [] }),
      affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [existing] } },
    };
    const r = await mutatePod(p, lookups([]));
    assert.ok("pod" in r);
    assert.deepEqual(r.pod.spec?.affinity, {
      podAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [
          existing,
          {
            labelSelector: { matchExpressions: [{ key: Labels.JobKey, operator: "In", values: ["abc"] }] },
            topologyKey: K,
            namespaceSelector: {},
          },
        ],
      },
      podAntiAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [
          {
            labelSelector: {
              matchExpressions: [
                { key: Labels.JobKey, operator: "Exists" },
                { key: Labels.JobKey, operator: "NotIn", values: ["abc"] },
                { key: Labels.Priority, operator: "In", values: ["0"] },
              ],
            },
            topologyKey: K,
            namespaceSelector: {},
          },
        ],
      },
    });
    assert.equal(p.spec.affinity?.podAntiAffinity, undefined, "input untouched");
  });
  test("leader without priority label: anti-affinity priority value is empty", async () => {
    const r = await mutatePod(pod("", { index: "0" }), lookups([]));
    assert.ok("pod" in r);
    const terms = r.pod.spec?.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? [];
    assert.deepEqual(terms[0]?.labelSelector?.matchExpressions?.[2], {
      key: Labels.Priority,
      operator: "In",
      values: [""],
    });
  });

  const leader = pod("js-rj-0-0-aaaaa", { index: "0", owner: "u1", nodeName: "n1" });
  const follower = () => pod("", { index: "1", owner: "u1" });

  test("follower gets nodeSelector[K] = leader node's label", async () => {
    const r = await mutatePod(follower(), lookups([leader], [node("n1", { [K]: "pool-a" })]));
    assert.ok("pod" in r);
    assert.deepEqual(r.pod.spec?.nodeSelector, { [K]: "pool-a" });
  });
  test("existing nodeSelector entries are kept", async () => {
    const f = follower();
    f.spec = { ...(f.spec ?? { containers: [] }), nodeSelector: { disk: "ssd" } };
    const r = await mutatePod(f, lookups([leader], [node("n1", { [K]: "pool-a" })]));
    assert.ok("pod" in r);
    assert.deepEqual(r.pod.spec?.nodeSelector, { disk: "ssd", [K]: "pool-a" });
  });
  test("leader lookup failure: unchanged (validation refuses)", async () => {
    const l = lookups([], [node("n1", { [K]: "pool-a" })]);
    const f = follower();
    assert.deepEqual(await mutatePod(f, l), { pod: f });
    assert.deepEqual(l.nodeGets, []);
  });
  test("unscheduled leader: unchanged", async () => {
    const f = follower();
    const unscheduled = pod("js-rj-0-0-aaaaa", { index: "0", owner: "u1" });
    assert.deepEqual(await mutatePod(f, lookups([unscheduled])), { pod: f });
  });
  test("node GET error denies with the error text", async () => {
    assert.deepEqual(await mutatePod(follower(), lookups([leader], [], "connection refused")), {
      deny: "connection refused",
    });
    assert.deepEqual(await mutatePod(follower(), lookups([leader], [])), { deny: 'Node "n1" not found' });
  });
  test("node without the topology label denies", async () => {
    assert.deepEqual(await mutatePod(follower(), lookups([leader], [node("n1", {})])), {
      deny: `node does not have topology label: ${K}`,
    });
  });
  test("pods in other namespaces are not leaders", async () => {
    const other = structuredClone(leader);
    if (other.metadata) other.metadata.namespace = "other";
    const f = follower();
    assert.deepEqual(await mutatePod(f, lookups([other], [node("n1", { [K]: "a" })])), { pod: f });
  });
});

describe("pod validating webhook", () => {
  const leader = pod("js-rj-0-0-aaaaa", { index: "0", owner: "u1", nodeName: "n1" });
  const f = (sel?: Record<string, string>) =>
    pod("", { index: "1", owner: "u1", ...(sel ? { nodeSelector: sel } : {}) });
  const cases: { name: string; pod: Pod; pods?: Pod[]; want: string | undefined }[] = [
    {
      name: "not a JobSet pod",
      pod: (() => {
        const p = f();
        delete p.metadata?.annotations?.[Labels.JobSetName];
        return p;
      })(),
      want: undefined,
    },
    { name: "node-selector strategy", pod: pod("", { index: "1", nodeSelectorStrategy: true }), want: undefined },
    { name: "no exclusive placement", pod: pod("", { index: "1", exclusive: false }), want: undefined },
    { name: "leader", pod: pod("", { index: "0" }), want: undefined },
    { name: "follower without nodeSelector", pod: f(), want: "follower pod node selector not set" },
    {
      name: "follower with nodeSelector lacking K",
      pod: f({ disk: "ssd" }),
      want: `follower pod node selector for topology domain not found. missing selector: ${K}`,
    },
    {
      name: "empty nodeSelector map is 'set' but lacks K",
      pod: f({}),
      want: `follower pod node selector for topology domain not found. missing selector: ${K}`,
    },
    {
      name: "leader missing",
      pod: f({ [K]: "a" }),
      pods: [],
      want: "expected 1 leader pod (js-rj-0-0), but got 0. this is an expected, transient error",
    },
    {
      name: "leader not scheduled",
      pod: f({ [K]: "a" }),
      pods: [pod("js-rj-0-0-aaaaa", { index: "0", owner: "u1" })],
      want: "leader pod not yet scheduled, not creating follower pod. this is an expected, transient error",
    },
    {
      name: "owner mismatch",
      pod: f({ [K]: "a" }),
      pods: [pod("js-rj-0-0-aaaaa", { index: "0", owner: "u2", nodeName: "n1" })],
      want: "follower pod owner UID (u1) != leader pod owner UID (u2)",
    },
    {
      name: "missing label",
      pod: (() => {
        const p = f({ [K]: "a" });
        delete p.metadata?.labels?.[Labels.JobIndex];
        return p;
      })(),
      want: `pod missing label: ${Labels.JobIndex}`,
    },
    { name: "leader scheduled: allowed", pod: f({ [K]: "a" }), pods: [leader], want: undefined },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      assert.equal(await validatePod(c.pod, lookups(c.pods ?? [leader])), c.want);
    });
  }
});

describe("pod webhook admission requests", () => {
  const req = (object: unknown, operation: AdmissionRequest["operation"] = "CREATE"): AdmissionRequest => ({
    uid: "u",
    kind: { group: "", version: "v1", kind: "Pod" },
    resource: { group: "", version: "v1", resource: "pods" },
    namespace: "default",
    operation,
    userInfo: {},
    object,
  });
  test("denials are 403 Forbidden with the text", async () => {
    const p = pod("", { index: "1", owner: "u1" });
    assert.deepEqual(await validatePodRequest(req(p), lookups([])), {
      allowed: false,
      status: { metadata: {}, message: "follower pod node selector not set", reason: "Forbidden", code: 403 },
    });
  });
  test("mutation → JSON patch of the added label and the Go round trip's additions; namespace not patched", async () => {
    const p = withPriority(pod("", { index: "1", exclusive: false }), 3);
    delete p.metadata?.namespace;
    const r = await mutatePodRequest(req(p), lookups([]));
    assert.equal(r.allowed, true);
    assert.equal(r.patchType, "JSONPatch");
    // As upstream's: its defaulter patches the request into the Go encoding of the defaulted Pod.
    assert.deepEqual(
      decodePatch(r).sort((a, b) => a.path.localeCompare(b.path)),
      [
        { op: "add", path: "/metadata/labels/jobset.sigs.k8s.io~1priority", value: "3" },
        { op: "add", path: "/spec/containers/0/resources", value: {} },
        { op: "add", path: "/status", value: {} },
      ],
    );
  });
  test("nothing to default → no patch, however the Go encoding differs from the request", async () => {
    const r = await mutatePodRequest(req(pod("", { index: "1", exclusive: false })), lookups([]));
    assert.equal(JSON.stringify(r), JSON.stringify({ allowed: true, status: { metadata: {}, code: 200 } }));
  });
  test("type errors are 400, in Go's words", async () => {
    const r = await mutatePodRequest(req({ metadata: { labels: { a: 1 } } }), lookups([]));
    assert.equal(r.allowed, false);
    assert.equal(r.status?.code, 400);
    assert.equal(
      r.status?.message,
      "json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string",
    );
  });
  test("other operations as controller-runtime's validator answers them (checked against upstream in test/compat)", async () => {
    const p = pod("", { index: "1" });
    const answer = (r: AdmissionRequest) => validatePodRequest(r, lookups([]));
    assert.equal((await answer({ ...req(p, "UPDATE"), oldObject: p })).allowed, true);
    assert.equal((await answer(req(p, "UPDATE"))).status?.message, "there is no content to decode");
    assert.equal((await answer({ ...req(undefined, "DELETE"), oldObject: p })).allowed, true);
    assert.equal((await answer(req(p, "DELETE"))).status?.message, "there is no content to decode");
    assert.equal((await answer(req(p, "CONNECT"))).allowed, true);
    assert.equal(
      (await answer(req(p, "PATCH" as AdmissionRequest["operation"]))).status?.message,
      'unknown operation "PATCH"',
    );
  });
});
