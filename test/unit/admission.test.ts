import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { parse } from "yaml";
import { renderWebhookManifests, WebhookManifestPath } from "../../scripts/generate-webhooks.ts";
import {
  allowed,
  checkAdmissionReviewResponse,
  computePatch,
  decodePatch,
  denied,
  deniedFromError,
  deniedWithStatus,
  errored,
  parseAdmissionReview,
  patchResponse,
  reviewResponse,
  StatusError,
} from "../../src/webhooks/admission.ts";
import {
  injectCABundle,
  localWebhookConfigurations,
  Paths,
  serviceWebhookConfigurations,
  toCABundle,
} from "../../src/webhooks/configurations.ts";

// JSON text, so that key order counts: Go writes metav1.Status as metadata, status, message, reason,
// details, code, and `metadata: {}` always (checked against upstream's server in test/compat).
const json = (v: unknown): string => JSON.stringify(v);

describe("admission outcomes (controller-runtime shapes)", () => {
  test("allowed", () => {
    assert.equal(json(allowed()), json({ allowed: true, status: { metadata: {}, code: 200 } }));
    assert.equal(
      json(allowed("ok", ["w"])),
      json({ allowed: true, status: { metadata: {}, message: "ok", code: 200 }, warnings: ["w"] }),
    );
  });
  test("plain denial is 403 Forbidden with the text", () => {
    assert.equal(
      json(denied("nope")),
      json({ allowed: false, status: { metadata: {}, message: "nope", reason: "Forbidden", code: 403 } }),
    );
    assert.deepEqual(deniedFromError(new Error("boom")), denied("boom"));
  });
  test("a StatusError keeps its code and details, in Go's order", () => {
    const status = { code: 422, reason: "Invalid", message: "m", details: { name: "x", causes: [] } };
    const go = { metadata: {}, message: "m", reason: "Invalid", details: { name: "x", causes: [] }, code: 422 };
    assert.equal(json(deniedFromError(new StatusError(status))), json({ allowed: false, status: go }));
    assert.equal(json(deniedWithStatus(status, ["w"])), json({ allowed: false, status: go, warnings: ["w"] }));
  });
  test("errored", () => {
    assert.equal(
      json(errored(400, "bad")),
      json({ allowed: false, status: { metadata: {}, message: "bad", code: 400 } }),
    );
  });
  test("review wraps the outcome with the uid, kind before apiVersion as Go writes them", () => {
    assert.equal(
      json(reviewResponse("abc", allowed(), "admission.k8s.io/v1", "AdmissionReview")),
      json({
        kind: "AdmissionReview",
        apiVersion: "admission.k8s.io/v1",
        response: { uid: "abc", allowed: true, status: { metadata: {}, code: 200 } },
      }),
    );
  });
  test("a body that was never decoded as a review gets a review without kind or apiVersion", () => {
    assert.equal(
      json(reviewResponse("", errored(400, "request body is empty"))),
      json({
        response: { uid: "", allowed: false, status: { metadata: {}, message: "request body is empty", code: 400 } },
      }),
    );
  });
});

describe("JSON patches", () => {
  test("no change → no patch, still code 200 (PatchResponseFromRaw)", () => {
    assert.equal(json(patchResponse({ a: 1 }, { a: 1 })), json({ allowed: true, status: { metadata: {}, code: 200 } }));
  });
  test("a patch comes after the status and before its type, as Go orders the response", () => {
    assert.deepEqual(Object.keys(patchResponse({}, { a: 1 })), ["allowed", "status", "patch", "patchType"]);
  });
  test("adds and replaces, base64 encoded; removals dropped", () => {
    const r = patchResponse({ a: 1, b: [1], gone: null }, { a: 2, b: [1, 2], c: { d: "x" } });
    assert.equal(r.patchType, "JSONPatch");
    assert.deepEqual(decodePatch(r), [
      { op: "add", path: "/b/1", value: 2 },
      { op: "replace", path: "/a", value: 2 },
      { op: "add", path: "/c", value: { d: "x" } },
    ]);
  });
  test("values carry sorted keys, as Go writes the maps of upstream's patch library", () => {
    const ops = decodePatch(patchResponse({}, { spec: { z: 1, a: { y: [{ b: 1, a: 2 }], x: 0 } } }));
    assert.equal(JSON.stringify(ops), '[{"op":"add","path":"/spec","value":{"a":{"x":0,"y":[{"a":2,"b":1}]},"z":1}}]');
  });
  test("keys with / and ~ are escaped", () => {
    assert.deepEqual(computePatch({ m: {} }, { m: { "a/b~c": "v" } }), [{ op: "add", path: "/m/a~1b~0c", value: "v" }]);
  });
});

describe("parsing AdmissionReviews", () => {
  const good = {
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid: "u1",
      kind: { group: "", version: "v1", kind: "Pod" },
      resource: { group: "", version: "v1", resource: "pods" },
      operation: "CREATE",
      userInfo: { username: "x" },
      object: {},
    },
  };
  test("a valid review", () => {
    const r = parseAdmissionReview(JSON.stringify(good));
    assert.ok(r.ok);
    if (r.ok) assert.equal(r.request.uid, "u1");
  });
  // As controller-runtime's universal deserializer decodes a review (checked against upstream's server in
  // test/compat/upstream-webhook.test.ts): nothing is required, type errors are Go's.
  test("apiVersion and kind are echoed as written; v1 AdmissionReview when both are absent", () => {
    const echo = (head: object) => {
      const r = parseAdmissionReview(JSON.stringify({ ...head, request: good.request }));
      assert.ok(r.ok);
      return r.ok ? [r.apiVersion, r.kind] : [];
    };
    assert.deepEqual(echo({ apiVersion: "foo/v9", kind: "Pod" }), ["foo/v9", "Pod"]);
    assert.deepEqual(echo({ kind: "AdmissionReview" }), [undefined, "AdmissionReview"]);
    assert.deepEqual(echo({}), ["admission.k8s.io/v1", "AdmissionReview"]);
  });
  test("a missing or null request is an empty one", () => {
    for (const body of [
      JSON.stringify({ ...good, request: undefined }),
      JSON.stringify({ ...good, request: null }),
      "null",
    ]) {
      const r = parseAdmissionReview(body);
      assert.ok(r.ok);
      if (r.ok) assert.deepEqual(r.request, { uid: "", userInfo: {} });
    }
  });
  const bad: [string, string, string][] = [
    ["JSON cut short", "{", "couldn't get version/kind; json parse error: unexpected end of JSON input"],
    ["YAML that does not parse", "a: [", "error converting YAML to JSON: "],
    [
      "an array",
      "[]",
      'couldn\'t get version/kind; json parse error: json: cannot unmarshal array into Go value of type struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" }',
    ],
    [
      "kind a number",
      JSON.stringify({ ...good, kind: 5 }),
      "couldn't get version/kind; json parse error: json: cannot unmarshal number into Go struct field .kind of type string",
    ],
    [
      "request a string",
      JSON.stringify({ ...good, request: "x" }),
      "json: cannot unmarshal string into Go struct field unversionedAdmissionReview.AdmissionReview.request of type v1.AdmissionRequest",
    ],
    [
      "uid a number",
      JSON.stringify({ ...good, request: { ...good.request, uid: 5 } }),
      "json: cannot unmarshal number into Go struct field AdmissionRequest.AdmissionReview.request.uid of type types.UID",
    ],
    [
      "a nested field",
      JSON.stringify({ ...good, request: { ...good.request, userInfo: { groups: ["a", 1] } } }),
      "json: cannot unmarshal number into Go struct field UserInfo.AdmissionReview.request.userInfo.groups of type string",
    ],
  ];
  for (const [name, body, msg] of bad) {
    test(name, () => {
      const r = parseAdmissionReview(body);
      assert.equal(r.ok, false);
      if (!r.ok) {
        assert.ok(r.message.startsWith(msg), r.message);
      }
    });
  }
  test("response checker", () => {
    assert.deepEqual(checkAdmissionReviewResponse(reviewResponse("u", denied("x"), "admission.k8s.io/v1"), "u"), []);
    assert.deepEqual(
      checkAdmissionReviewResponse(reviewResponse("u", patchResponse({}, { a: 1 }), "admission.k8s.io/v1"), "u"),
      [],
    );
    assert.notDeepEqual(checkAdmissionReviewResponse({ kind: "AdmissionReview", response: { uid: "v" } }, "u"), []);
    assert.notDeepEqual(checkAdmissionReviewResponse({ response: { uid: "u", allowed: true } }), []);
  });
});

describe("webhook configurations", () => {
  test("config/webhook/manifests.yaml is generated from the definition", () => {
    assert.equal(
      readFileSync(WebhookManifestPath, "utf8"),
      renderWebhookManifests(),
      "run `npx node scripts/generate-webhooks.ts`",
    );
  });
  test("upstream names, paths, operations, selectors and policies (spec §9.6)", () => {
    const [m, v] = serviceWebhookConfigurations();
    assert.equal(m.metadata.name, "jobset-mutating-webhook-configuration");
    assert.equal(v.metadata.name, "jobset-validating-webhook-configuration");
    const summary = [...m.webhooks, ...v.webhooks].map((w) => ({
      name: w.name,
      path: w.clientConfig.service?.path,
      ops: w.rules[0]?.operations,
      res: w.rules[0]?.resources,
      sel: w.objectSelector?.matchExpressions?.[0]?.key,
      fp: w.failurePolicy,
      se: w.sideEffects,
      arv: w.admissionReviewVersions,
    }));
    const base = { fp: "Fail", se: "None", arv: ["v1"] };
    assert.deepEqual(summary, [
      { ...base, name: "mjobset.kb.io", path: Paths.MutateJobSet, ops: ["CREATE"], res: ["jobsets"], sel: undefined },
      {
        ...base,
        name: "mpod.kb.io",
        path: Paths.MutatePod,
        ops: ["CREATE"],
        res: ["pods"],
        sel: "jobset.sigs.k8s.io/jobset-name",
      },
      {
        ...base,
        name: "vjobset.kb.io",
        path: Paths.ValidateJobSet,
        ops: ["CREATE", "UPDATE"],
        res: ["jobsets"],
        sel: undefined,
      },
      {
        ...base,
        name: "vpod.kb.io",
        path: Paths.ValidatePod,
        ops: ["CREATE"],
        res: ["pods"],
        sel: "jobset.sigs.k8s.io/jobset-name",
      },
    ]);
    const yaml = readFileSync(WebhookManifestPath, "utf8")
      .split(/^---$/m)
      .slice(1)
      .map((d) => parse(d));
    assert.deepEqual(yaml, [m, v]);
  });
  test("local configurations point at the URL and carry the CA bundle", () => {
    const pem = "-----BEGIN CERTIFICATE-----\nabc\n-----END CERTIFICATE-----\n";
    const [m, v] = localWebhookConfigurations("https://127.0.0.1:9443/", pem);
    for (const w of [...m.webhooks, ...v.webhooks]) {
      assert.match(w.clientConfig.url ?? "", /^https:\/\/127\.0\.0\.1:9443\/(mutate|validate)-/);
      assert.equal(w.clientConfig.service, undefined);
      assert.equal(w.clientConfig.caBundle, Buffer.from(pem).toString("base64"));
    }
    assert.equal(m.webhooks[0]?.clientConfig.url, `https://127.0.0.1:9443${Paths.MutateJobSet}`);
    assert.throws(() => localWebhookConfigurations("http://127.0.0.1:1", pem), /https/);
    assert.throws(() => localWebhookConfigurations("https://127.0.0.1:1/?a=b", pem), /query/);
  });
  test("CA injection touches every webhook, reports changes", () => {
    const [m] = serviceWebhookConfigurations();
    assert.equal(injectCABundle(m, "QUJD"), true);
    assert.equal(injectCABundle(m, "QUJD"), false);
    assert.ok(m.webhooks.every((w) => w.clientConfig.caBundle === "QUJD"));
    assert.equal(toCABundle("QUJD\n"), "QUJD");
  });
});
