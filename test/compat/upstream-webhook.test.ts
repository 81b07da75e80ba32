// Our admission webhooks answer as upstream's own server does: upstream's webhooks (sigs.k8s.io/jobset
// v0.12.0 on controller-runtime, built from the Go module proxy by test/support/upstream-webhook.ts) and ours
// get the same requests, and the answers must be the same JSON text, key order included. The one tolerated
// difference is the order of JSON Patch operations: upstream's comes from iterating Go maps, which is random,
// so patches are compared as sets of operations.
//
// The requests: every row of the fidelity table (test/support/webhook-fidelity-rows.ts, whose expected
// answers are checked against upstream here too), the benchmark's requests (bench/webhook-requests.ts), and
// bodies controller-runtime rejects before decoding a review.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { requests as benchRequests } from "../../bench/webhook-requests.ts";
import { defaultFeatureGates } from "../../src/api/features.ts";
import { Paths } from "../../src/webhooks/configurations.ts";
import { post, review } from "../support/admission-client.ts";
import { startUpstreamWebhook, type UpstreamWebhook } from "../support/upstream-webhook.ts";
import { rows } from "../support/webhook-fidelity-rows.ts";
import { tlsWebhookServer } from "../support/webhook-server.ts";

const ours = tlsWebhookServer("compat-ours-ca", {
  gates: defaultFeatureGates,
  getPVC: async () => undefined,
  pods: { podsByName: () => [], getNode: () => Promise.reject(new Error("no nodes")) },
});

/** The answer with its JSON Patch decoded and its operations sorted (upstream's order is random). */
function normalized(body: string): unknown {
  const doc = JSON.parse(body) as { response?: { patch?: string } };
  const patch = doc.response?.patch;
  if (patch === undefined) return doc;
  const ops = (JSON.parse(Buffer.from(patch, "base64").toString("utf8")) as unknown[]).map((o) => JSON.stringify(o));
  return { ...doc, response: { ...doc.response, patch: ops.sort() } };
}

/** Key order as Go writes it: compares the text of two answers whose patches are normalised. */
const text = (body: string): string => JSON.stringify(normalized(body));

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

  const both = async (path: string, body: string, contentType?: string) => {
    const o = contentType ? { contentType } : {};
    const [u, w] = await Promise.all([
      post(`${up.url}${path}`, body, { ca: up.caPem, ...o }),
      post(`${ours.server.url}${path}`, body, { ca: ours.caPem, ...o }),
    ]);
    return { upstream: u, ours: w };
  };

  for (const row of rows.filter((r) => !r.needsCluster)) {
    const differs = row.upstreamDiffers;
    const title = differs
      ? `table row, upstream still answers what we deliberately do not: ${row.name}`
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
      assert.equal(text(w.body), text(upstream.body));
    });
  }

  for (const [path, bodies] of Object.entries(benchRequests())) {
    bodies.forEach((body, i) => {
      test(`benchmark request ${path} #${i}: the same answer`, async () => {
        const { upstream, ours: w } = await both(path, body);
        assert.equal(w.status, upstream.status);
        assert.equal(text(w.body), text(upstream.body));
      });
    });
  }

  const undecodable: [string, string, string | undefined][] = [
    ["an empty body", "", undefined],
    ["a body that is not application/json", JSON.stringify(review({ operation: "CREATE" })), "text/plain"],
  ];
  for (const [what, body, contentType] of undecodable) {
    for (const path of [Paths.ValidateJobSet, Paths.MutateJobSet]) {
      test(`${what} (${path}): the same answer, a review without kind or apiVersion`, async () => {
        const { upstream, ours: w } = await both(path, body, contentType);
        assert.equal(w.status, upstream.status);
        assert.equal(w.body, upstream.body);
      });
    }
  }
});
