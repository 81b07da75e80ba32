// Fuzzing the admission server: thousands of random and mutated JobSets and pods (seeded PRNG, fixed
// count) over HTTPS. Every answer must be a well-formed AdmissionReview for the request's uid; no
// handler may fail (code 500); every JobSet denial must name field paths; every patch must apply.
import assert from "node:assert/strict";
import https from "node:https";
import { after, before, describe, test } from "node:test";
import jsonpatch from "fast-json-patch";
import { defaultFeatureGates } from "../../src/api/features.ts";
import { type AdmissionReview, checkAdmissionReviewResponse, decodePatch } from "../../src/webhooks/admission.ts";
import { Paths } from "../../src/webhooks/configurations.ts";
import { post } from "../support/admission-client.ts";
import { node, pod } from "../support/pods.ts";
import { prng } from "../support/random.ts";
import { fuzzCorpus } from "../support/webhook-fuzz-corpus.ts";
import { tlsWebhookServer } from "../support/webhook-server.ts";

const SEED = Number(process.env.FUZZ_SEED ?? 20240601);
const COUNT = Number(process.env.FUZZ_COUNT ?? 2400);

const { rnd, pick, int, randomValue, mutate, jobsetSeeds, podSeeds } = fuzzCorpus(SEED);

const leaderPod = pod("js-rj-0-0-abcde", { index: "0", owner: "u1", nodeName: "n1" });
const { server, caPem } = tlsWebhookServer("fuzz-ca", {
  gates: defaultFeatureGates,
  random: prng(SEED + 1),
  getPVC: async (_ns, name) => {
    if (name.startsWith("data-fuzz-d")) return { metadata: { name }, spec: { accessModes: ["ReadWriteMany"] } };
    if (name.includes("boom")) throw new Error("etcd unavailable");
    return undefined;
  },
  pods: {
    podsByName: (_ns, key) => (key === "js-rj-0-0" ? [leaderPod] : []),
    getNode: async (name) => {
      if (name === "n1") return node("n1", { rack: "r1" });
      throw new Error(`Node "${name}" not found`);
    },
  },
});

describe("admission fuzzing", () => {
  const agent = new https.Agent({ keepAlive: true, maxSockets: 8 });
  before(() => server.start());
  after(async () => {
    agent.destroy();
    await server.stop();
  });

  test(`${COUNT} random and mutated requests (seed ${SEED})`, async (t) => {
    const js = jobsetSeeds();
    const pods = podSeeds();
    const stats = { allowed: 0, patched: 0, denied422: 0, denied403: 0, errored400: 0, total: 0 };
    const problems: string[] = [];
    let uid = 0;
    const one = async () => {
      const kind = int(6);
      const isPod = kind >= 4;
      const seeds = isPod ? pods : js;
      const object = rnd() < 0.1 ? randomValue() : mutate(pick(seeds));
      const obj = typeof object === "object" && object !== null && !Array.isArray(object) ? object : { junk: object };
      const path = isPod
        ? kind === 4
          ? Paths.MutatePod
          : Paths.ValidatePod
        : pick([Paths.MutateJobSet, Paths.ValidateJobSet]);
      const operation = !isPod && path === Paths.ValidateJobSet && rnd() < 0.4 ? "UPDATE" : "CREATE";
      const id = `fuzz-${++uid}`;
      const review: AdmissionReview = {
        apiVersion: "admission.k8s.io/v1",
        kind: "AdmissionReview",
        request: {
          uid: id,
          kind: isPod
            ? { group: "", version: "v1", kind: "Pod" }
            : { group: "jobset.x-k8s.io", version: "v1alpha2", kind: "JobSet" },
          resource: isPod
            ? { group: "", version: "v1", resource: "pods" }
            : { group: "jobset.x-k8s.io", version: "v1alpha2", resource: "jobsets" },
          namespace: "default",
          operation,
          userInfo: {},
          object: obj,
          ...(operation === "UPDATE" ? { oldObject: rnd() < 0.5 ? pick(js) : mutate(pick(js)) } : {}),
        },
      };
      const a = await post(`${server.url}${path}`, JSON.stringify(review), { ca: caPem, agent });
      stats.total++;
      const ctx = () => `${path} ${operation} ${JSON.stringify(obj).slice(0, 400)}`;
      if (a.status !== 200) {
        problems.push(`HTTP ${a.status}: ${ctx()}`);
        return;
      }
      const doc = JSON.parse(a.body) as AdmissionReview;
      const p = checkAdmissionReviewResponse(doc, id);
      if (p.length > 0) problems.push(`${p.join("; ")}: ${ctx()}`);
      const r = doc.response;
      if (!r) return;
      const code = r.status?.code ?? 200;
      if (r.allowed) {
        stats.allowed++;
        if (r.patch) {
          stats.patched++;
          try {
            jsonpatch.applyPatch(structuredClone(obj), decodePatch(r) as jsonpatch.Operation[], true);
          } catch (e) {
            problems.push(`patch does not apply (${String(e)}): ${ctx()}`);
          }
        }
        return;
      }
      if (code === 500) problems.push(`handler failure ${r.status?.message}: ${ctx()}`);
      else if (code === 422) {
        stats.denied422++;
        const causes = r.status?.details?.causes ?? [];
        if (causes.length === 0) problems.push(`422 without causes: ${ctx()}`);
        for (const c of causes) if (!c.field) problems.push(`cause without field ${JSON.stringify(c)}: ${ctx()}`);
        if (isPod) problems.push(`pod denial with 422: ${ctx()}`);
      } else if (code === 403) {
        stats.denied403++;
        if (!isPod) problems.push(`JobSet denial as 403: ${r.status?.message}: ${ctx()}`);
        if (!r.status?.message) problems.push(`403 without message: ${ctx()}`);
      } else if (code === 400) {
        stats.errored400++;
        // A type error names its field (Go's wording); a wrong apiVersion/kind is Go's scheme error.
        if (
          !/Go struct field \S+|field \S+\)|^no kind "[^"]*" is registered for version /.test(r.status?.message ?? "")
        ) {
          problems.push(`400 without a field path (${r.status?.message}): ${ctx()}`);
        }
      } else problems.push(`unexpected code ${code}: ${ctx()}`);
    };
    for (let done = 0; done < COUNT; done += 16)
      await Promise.all(Array.from({ length: Math.min(16, COUNT - done) }, one));
    t.diagnostic(JSON.stringify(stats));
    assert.deepEqual(problems.slice(0, 10), [], `${problems.length} problems`);
    assert.equal(stats.total, COUNT);
    // The corpus exercises every kind of answer.
    for (const k of ["allowed", "patched", "denied422", "denied403", "errored400"] as const) {
      assert.ok(stats[k] > 0, `no ${k} answers: ${JSON.stringify(stats)}`);
    }
  });
});
