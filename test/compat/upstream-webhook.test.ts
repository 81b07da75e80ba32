// Our admission webhooks answer as upstream's own server does: upstream's webhooks (sigs.k8s.io/jobset
// v0.12.0 on controller-runtime, built from the Go module proxy by test/support/upstream-webhook.ts) and ours
// get the same requests, and the answers must be the same JSON text, key order included. The one tolerated
// difference is the order of JSON Patch operations: upstream's comes from iterating Go maps, which is random,
// so patches are compared as sets of operations.
//
// The requests: every row of the fidelity table (test/support/webhook-fidelity-rows.ts, whose expected
// answers are checked against upstream here too), the benchmark's requests (bench/webhook-requests.ts),
// 1,000 generated JobSets (test/support/webhook-fuzz-corpus.ts), and malformed reviews only a direct call
// can send. Two differences are recorded, not compared: upstream panics on raw input without successPolicy
// (we validate it as the default), and v0.12.0 checks child names built from an empty name where the spec's
// upstream (#1267, after v0.13.0) uses generateName.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import jsonpatch from "fast-json-patch";
import { requests as benchRequests } from "../../bench/webhook-requests.ts";
import { defaultFeatureGates } from "../../src/api/features.ts";
import { Paths } from "../../src/webhooks/configurations.ts";
import { post, review } from "../support/admission-client.ts";
import { answerText, startUpstreamWebhook, type UpstreamWebhook } from "../support/upstream-webhook.ts";
import { rows } from "../support/webhook-fidelity-rows.ts";
import { fuzzCorpus } from "../support/webhook-fuzz-corpus.ts";
import { type TlsWebhookServer, tlsWebhookServer } from "../support/webhook-server.ts";

const ours = tlsWebhookServer("compat-ours-ca", {
  gates: defaultFeatureGates,
  getPVC: async () => undefined,
  pods: { podsByName: () => [], getNode: () => Promise.reject(new Error("no nodes")) },
});

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
/** Upstream's answer when it dereferences the nil successPolicy of raw input (a recorded difference). */
const nilPanic = "panic: runtime error: invalid memory address or nil pointer dereference [recovered]";

describe("our webhooks answer as upstream's server (sigs.k8s.io/jobset v0.12.0)", { timeout: 900_000 }, () => {
  let up: UpstreamWebhook;
  before(async () => {
    up = await startUpstreamWebhook();
    await ours.server.start();
  });
  after(async () => {
    await up?.stop();
    await ours.server.stop();
  });

  const both = async (
    path: string,
    body: string,
    contentType?: string,
    target: { up: UpstreamWebhook; ours: TlsWebhookServer } = { up, ours },
  ) => {
    const o = contentType ? { contentType } : {};
    const [u, w] = await Promise.all([
      post(`${target.up.url}${path}`, body, { ca: target.up.caPem, ...o }),
      post(`${target.ours.server.url}${path}`, body, { ca: target.ours.caPem, ...o }),
    ]);
    return { upstream: u, ours: w };
  };

  for (const row of rows.filter((r) => !r.needsCluster)) {
    const differs = row.upstreamDiffers;
    const title = differs
      ? `table row, upstream v0.12.0 answers the recorded difference: ${row.name}`
      : `table row, upstream's answer is the table's and ours, byte for byte: ${row.name}`;
    test(title, async () => {
      const body = JSON.stringify(review(row.request));
      const { upstream, ours: w } = await both(row.path, body);
      assert.equal(upstream.status, 200);
      const { uid: _uid, ...got } = (JSON.parse(upstream.body) as { response: { uid: string } }).response;
      if (differs) {
        assert.deepEqual(got, differs.answer, differs.why);
        const { uid: _u, ...oursGot } = (JSON.parse(w.body) as { response: { uid: string } }).response;
        assert.deepEqual(oursGot, row.want);
        return;
      }
      assert.deepEqual(got, row.want);
      assert.equal(answerText(w.body), answerText(upstream.body));
    });
  }

  for (const [path, bodies] of Object.entries(benchRequests())) {
    bodies.forEach((body, i) => {
      test(`benchmark request ${path} #${i}: the same answer`, async () => {
        const { upstream, ours: w } = await both(path, body);
        assert.equal(w.status, upstream.status);
        assert.equal(answerText(w.body), answerText(upstream.body));
      });
    });
  }

  test("a JobSet that needs no defaulting, without the Go round trip's empty objects: no patch from either", async () => {
    for (const body of benchRequests()[Paths.MutateJobSet] ?? []) {
      const first = JSON.parse((await both(Paths.MutateJobSet, body)).upstream.body) as { response: { patch: string } };
      // The defaults only: not the `{}`s and `status` that encoding the Go object adds. controller-runtime
      // sends no patch when defaulting changes nothing, however the Go encoding differs from the request.
      const ops = (
        JSON.parse(Buffer.from(first.response.patch, "base64").toString("utf8")) as jsonpatch.AddOperation<unknown>[]
      ).filter((o) => o.path !== "/status" && JSON.stringify(o.value) !== "{}");
      assert.ok(ops.length > 0);
      const request = JSON.parse(body) as { request: { object: unknown } };
      request.request.object = jsonpatch.applyPatch(request.request.object, ops, true, false).newDocument;
      const again = await both(Paths.MutateJobSet, JSON.stringify(request));
      assert.equal(answerText(again.ours.body), answerText(again.upstream.body));
      assert.equal((JSON.parse(again.upstream.body) as { response: { patch?: string } }).response.patch, undefined);
    }
  });

  const generatedCorpus = async (
    t: { diagnostic(m: string): void },
    target: { up: UpstreamWebhook; ours: TlsWebhookServer },
    seed: number,
  ) => {
    const f = fuzzCorpus(seed);
    // As the validating webhook receives them: after the mutating webhook, which sets successPolicy.
    const seeds = f
      .jobsetSeeds()
      .slice(0, 3) // the fourth has volume claim policies: upstream would look PVCs up in a cluster
      .map((j) => ({
        ...(j as object),
        spec: { successPolicy: { operator: "All" }, ...(j as { spec: object }).spec },
      }));
    const counts = { compared: 0, upstreamPanicsOnNilSuccessPolicy: 0, nameFromGenerateName: 0 };
    const unexplained: string[] = [];
    for (let i = 0; i < 1000; i++) {
      const generated = f.rnd() < 0.1 ? f.randomValue() : f.mutate(f.pick(seeds));
      const object = isRecord(generated) ? generated : { junk: generated };
      const path = f.pick([Paths.MutateJobSet, Paths.ValidateJobSet]);
      const operation = path === Paths.ValidateJobSet && f.rnd() < 0.4 ? "UPDATE" : "CREATE";
      const oldObject = operation === "UPDATE" ? (f.rnd() < 0.5 ? f.pick(seeds) : f.mutate(f.pick(seeds))) : undefined;
      const body = JSON.stringify(review({ operation, object, ...(oldObject ? { oldObject } : {}) }));
      const { upstream, ours: w } = await both(path, body, undefined, target);
      if (answerText(w.body) === answerText(upstream.body)) {
        counts.compared++;
        continue;
      }
      const upstreamMessage = (JSON.parse(upstream.body) as { response?: { status?: { message?: string } } }).response
        ?.status?.message;
      const spec = isRecord(object.spec) ? object.spec : undefined;
      const name = isRecord(object.metadata) ? object.metadata.name : undefined;
      if (upstreamMessage === nilPanic && !isRecord(spec?.successPolicy)) counts.upstreamPanicsOnNilSuccessPolicy++;
      else if (path === Paths.ValidateJobSet && operation === "CREATE" && (typeof name !== "string" || name === ""))
        counts.nameFromGenerateName++;
      else
        unexplained.push(`${path} ${operation} ${body.slice(0, 300)}\n  upstream ${upstream.body}  ours     ${w.body}`);
    }
    t.diagnostic(JSON.stringify(counts));
    assert.deepEqual(unexplained.slice(0, 3), [], `${unexplained.length} unexplained differences`);
    assert.ok(counts.compared >= 800, `only ${counts.compared} of 1,000 answers compared: ${JSON.stringify(counts)}`);
  };
  test("1,000 generated JobSets, gates off: every answer is upstream's, byte for byte, or a recorded difference", (t) =>
    generatedCorpus(t, { up, ours }, 20261203));
  test("1,000 generated JobSets, gates on (InPlaceRestart, RestartJob, ElasticJobSet): the same", async (t) => {
    const gatedUp = await startUpstreamWebhook({
      featureGates: "InPlaceRestart=true,RestartJob=true,ElasticJobSet=true",
    });
    const gatedOurs = tlsWebhookServer("compat-ours-gated-ca", {
      gates: { ...defaultFeatureGates, InPlaceRestart: true, RestartJob: true, ElasticJobSet: true },
      getPVC: async () => undefined,
      pods: { podsByName: () => [], getNode: () => Promise.reject(new Error("no nodes")) },
    });
    await gatedOurs.server.start();
    try {
      await generatedCorpus(t, { up: gatedUp, ours: gatedOurs }, 20261204);
    } finally {
      await gatedUp.stop();
      await gatedOurs.server.stop();
    }
  });

  // Reviews only a direct call can send: the review itself malformed, fields of the wrong JSON type, missing
  // parts, other operations, other content types, bodies that are not JSON (read as JSON when they start
  // with `{`, as YAML otherwise). Not here: YAML syntax errors, worded by go-yaml (ADR 0022).
  const js = {
    apiVersion: "jobset.x-k8s.io/v1alpha2",
    kind: "JobSet",
    metadata: { name: "js", namespace: "default" },
    spec: {
      replicatedJobs: [
        {
          name: "w",
          groupName: "default",
          replicas: 1,
          template: { spec: { template: { spec: { containers: [{ name: "c", image: "i" }] } } } },
        },
      ],
      successPolicy: { operator: "All" },
    },
  };
  const podObject = { apiVersion: "v1", kind: "Pod", metadata: { name: "p" }, spec: { containers: [{ name: "c" }] } };
  const base = {
    uid: "u1",
    kind: { group: "jobset.x-k8s.io", version: "v1alpha2", kind: "JobSet" },
    resource: { group: "jobset.x-k8s.io", version: "v1alpha2", resource: "jobsets" },
    namespace: "default",
    userInfo: { username: "u" },
  };
  const v1 = { apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview" };
  const malformed = (object: unknown): [string, string, string?][] => {
    const r = (request: unknown, head: object = v1) => JSON.stringify({ ...head, request });
    const create = { ...base, operation: "CREATE", object };
    return [
      ["an empty body", ""],
      ["a body that is not application/json", r(create), "text/plain"],
      ["a content type with parameters", r(create), "application/json; charset=utf-8"],
      ["no content type", r(create), ""],
      ["null", "null"],
      ["a JSON array", "[1]"],
      ["a JSON string", '"x"'],
      ["a JSON number", "5"],
      ["a JSON boolean", "true"],
      ["JSON with a syntax error", '{"apiVersion": "admission.k8s.io/v1", kind}'],
      ["JSON cut short", JSON.stringify({ ...v1, request: create }).slice(0, 40)],
      ["JSON with a bad escape in a string", '{"kind": "Admission\\qReview"}'],
      ["JSON followed by more text", `${r(create)} trailing`],
      ["a YAML scalar", "not json"],
      ["a YAML sequence", "- a\n- b"],
      ["a YAML 1.1 boolean", "yes"],
      ["only spaces", "   "],
      ["a YAML mapping that is no review", "a: b"],
      [
        "a review written in YAML",
        `kind: AdmissionReview\napiVersion: admission.k8s.io/v1\nrequest:\n  uid: y1\n  operation: CONNECT`,
      ],
      ["apiVersion a number", r(create, { apiVersion: 5, kind: "AdmissionReview" })],
      ["kind a number", r(create, { apiVersion: "admission.k8s.io/v1", kind: 5 })],
      ["no apiVersion", r(create, { kind: "AdmissionReview" })],
      ["no kind", r(create, { apiVersion: "admission.k8s.io/v1" })],
      ["neither apiVersion nor kind", r(create, {})],
      ["another apiVersion and kind (echoed)", r(create, { apiVersion: "foo/v9", kind: "Foo" })],
      ["v1beta1", r(create, { apiVersion: "admission.k8s.io/v1beta1", kind: "AdmissionReview" })],
      ["no request", JSON.stringify(v1)],
      ["request null", r(null)],
      ["request a string", r("x")],
      ["request an array", r([])],
      ["uid a number", r({ ...create, uid: 5 })],
      ["no uid", r({ ...create, uid: undefined })],
      ["name a number", r({ ...create, name: 5 })],
      ["operation a number", r({ ...create, operation: 5 })],
      ["request kind a string", r({ ...create, kind: "x" })],
      ["request kind.kind a number", r({ ...create, kind: { kind: 5 } })],
      ["userInfo a string", r({ ...create, userInfo: "x" })],
      ["userInfo.groups a string", r({ ...create, userInfo: { groups: "x" } })],
      ["userInfo.groups with a number", r({ ...create, userInfo: { groups: ["a", 5] } })],
      ["userInfo.extra a string", r({ ...create, userInfo: { extra: "x" } })],
      ["userInfo.extra with a string value", r({ ...create, userInfo: { extra: { a: "x" } } })],
      ["dryRun a string", r({ ...create, dryRun: "x" })],
      ["requestKind a string", r({ ...create, requestKind: "x" })],
      ["unknown request fields", r({ ...create, bogus: 1, UID: "x" })],
      ["two type errors: the first in document order", r({ ...create, name: 5, uid: 6 })],
      ["object a string", r({ ...create, object: "x" })],
      ["object an array", r({ ...create, object: [] })],
      ["object null", r({ ...create, object: null })],
      ["object with apiVersion a number", r({ ...create, object: { ...(object as object), apiVersion: 5 } })],
      ["no object", r({ ...create, object: undefined })],
      ["CONNECT", r({ ...create, operation: "CONNECT" })],
      ["DELETE with the old object", r({ ...base, operation: "DELETE", oldObject: object })],
      ["DELETE without an old object", r({ ...base, operation: "DELETE" })],
      ["UPDATE without an old object", r({ ...create, operation: "UPDATE" })],
      ["UPDATE with both", r({ ...create, operation: "UPDATE", oldObject: object })],
      ["an unknown operation", r({ ...create, operation: "PATCH" })],
      ["no operation", r({ ...create, operation: undefined })],
    ];
  };
  const endpoints: [string, unknown][] = [
    [Paths.ValidateJobSet, js],
    [Paths.MutateJobSet, js],
    [Paths.ValidatePod, podObject],
    [Paths.MutatePod, podObject],
  ];
  for (const [path, object] of endpoints) {
    for (const [what, body, contentType] of malformed(object)) {
      test(`${path}: ${what}: the same answer`, async () => {
        const { upstream, ours: w } = await both(path, body, contentType);
        assert.equal(w.status, upstream.status);
        assert.equal(answerText(w.body), answerText(upstream.body));
        assert.ok(w.body.endsWith("\n"), "the answer ends with a newline, as Go's json.Encoder writes it");
      });
    }
  }
});
