// Randomized admission test (issue 15, "What must show"): hundreds of seeded, generated JobSets (300 by default) —
// CREATE through the mutating then the validating webhook, and UPDATEs of the result — with the feature
// gates off and on, through the real webhook server. Invariants of every answer:
//  - the patched object is a fixed point: mutating it again gives no patch;
//  - every denial's causes name field paths that exist in the object (up to the last segment, which may
//    be a missing required field);
//  - no message contains `undefined`, `[object Object]` or `NaN`;
//  - causes carry `reason` (Kubernetes' StatusCause field), never `type`.
// FUZZ_SEED / INVARIANT_COUNT replay or widen a run.
import assert from "node:assert/strict";
import https from "node:https";
import { after, before, describe, test } from "node:test";
import jsonpatch from "fast-json-patch";
import { defaultFeatureGates, type FeatureGates } from "../../src/api/features.ts";
import { createCa, issueServingCert } from "../../src/pki/x509.ts";
import { type AdmissionResponse, type AdmissionReview, decodePatch } from "../../src/webhooks/admission.ts";
import { Paths } from "../../src/webhooks/configurations.ts";
import { webhookHandlers } from "../../src/webhooks/handlers.ts";
import { WebhookServer } from "../../src/webhooks/server.ts";
import { post } from "../support/admission-client.ts";
import { prng } from "../support/random.ts";

const SEED = Number(process.env.FUZZ_SEED ?? 20261202);
const COUNT = Number(process.env.INVARIANT_COUNT ?? 300);

const rnd = prng(SEED);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
const int = (n: number) => Math.floor(rnd() * n);
const chance = (p: number) => rnd() < p;
const maybe = <T>(p: number, f: () => T): T | undefined => (chance(p) ? f() : undefined);

/** Drops undefined members so the JSON sent is what a client would write. */
const clean = <T>(o: T): T => JSON.parse(JSON.stringify(o)) as T;

const quantities = ["1Gi", "1024Mi", "1000m", "1", "0.5", "500m", "1.5Gi", "100M", "2e3", "0", "128Ki", "3", "+1"];
const names = ["a", "rj", "workers", "leader", "x1", "Bad_Name", "", "a".repeat(70)];

function container(i: number): Record<string, unknown> {
  return clean({
    name: chance(0.9) ? `c${i}` : undefined,
    image: maybe(0.8, () => "busybox"),
    command: maybe(0.2, () => (chance(0.5) ? [] : ["sleep", "1"])),
    resources: maybe(0.6, () => ({
      requests: maybe(0.8, () => ({ cpu: pick(quantities), memory: pick(quantities) })),
      limits: maybe(0.5, () => ({ memory: pick(quantities) })),
    })),
    volumeMounts: maybe(0.4, () => [{ name: chance(0.9) ? "data" : undefined, mountPath: maybe(0.9, () => "/data") }]),
    env: maybe(0.2, () => [{ name: "E", valueFrom: { resourceFieldRef: { resource: "limits.cpu" } } }]),
    ports: maybe(0.2, () => [{ containerPort: 8080 }]),
    readinessProbe: maybe(0.1, () => ({ httpGet: { port: chance(0.5) ? 8080 : "http" } })),
    unknownContainerField: maybe(0.05, () => 1),
  });
}

function replicatedJob(i: number, all: string[]): Record<string, unknown> {
  const completions = maybe(0.5, () => 1 + int(4));
  return clean({
    name: all[i],
    groupName: chance(0.8) ? "default" : pick(["g1", "", "Bad"]),
    replicas: chance(0.85) ? 1 + int(3) : pick([0, 1025, 2]),
    dependsOn: i > 0 ? maybe(0.15, () => [{ name: all[i - 1], status: pick(["Ready", "Complete"]) }]) : undefined,
    template: {
      metadata: maybe(0.3, () => ({ labels: { app: "x" } })),
      spec: clean({
        completionMode: maybe(0.5, () => pick(["Indexed", "NonIndexed"])),
        completions,
        parallelism: chance(0.7) ? completions : maybe(0.3, () => int(4)),
        backoffLimit: maybe(0.3, () => int(3)),
        template: clean({
          metadata: maybe(0.3, () => ({ annotations: { a: "b" } })),
          spec: chance(0.97)
            ? clean({
                restartPolicy: maybe(0.4, () => pick(["Never", "OnFailure", "Always"])),
                initContainers: maybe(0.2, () => [container(9)]),
                containers: chance(0.97) ? Array.from({ length: 1 + int(2) }, (_, k) => container(k)) : [],
                volumes: maybe(0.2, () => [
                  { name: pick(["data", "cache"]), emptyDir: { sizeLimit: pick(quantities) } },
                ]),
              })
            : undefined,
        }),
      }),
    },
  });
}

function generateJobSet(k: number): Record<string, unknown> {
  const n = 1 + int(3);
  const rjobNames = Array.from({ length: n }, (_, i) => (chance(0.9) ? `rj${i}` : pick(names)));
  const rjobs = rjobNames.map((_, i) => replicatedJob(i, rjobNames));
  const name = chance(0.9) ? `js${k % 50}` : pick(["", "Bad.Name", "x".repeat(60)]);
  const actions = [
    "FailJobSet",
    "RestartJobSet",
    "RestartJobSetAndIgnoreMaxRestarts",
    "RestartJob",
    "RestartJobAndIgnoreMaxRestarts",
  ];
  return clean({
    apiVersion: "jobset.x-k8s.io/v1alpha2",
    kind: "JobSet",
    metadata: clean({
      name: name || undefined,
      generateName: name ? undefined : "gen-",
      namespace: "default",
      labels: maybe(0.2, () => ({ team: "ml" })),
    }),
    spec: clean({
      replicatedJobs: rjobs,
      suspend: maybe(0.2, () => chance(0.5)),
      network: maybe(0.4, () =>
        clean({
          enableDNSHostnames: maybe(0.7, () => chance(0.5)),
          subdomain: maybe(0.3, () => pick(["sub", "Bad_Sub"])),
        }),
      ),
      successPolicy: maybe(0.3, () =>
        clean({
          operator: pick(["All", "Any"]),
          targetReplicatedJobs: maybe(0.5, () => [pick(rjobNames.concat("missing"))]),
        }),
      ),
      failurePolicy: maybe(0.4, () =>
        clean({
          maxRestarts: maybe(0.7, () => int(5)),
          restartStrategy: maybe(0.5, () => pick(["Recreate", "BlockingRecreate", "InPlaceRestart"])),
          rules: maybe(0.7, () =>
            Array.from({ length: 1 + int(2) }, () =>
              clean({
                name: maybe(0.6, () => pick(["r1", "r2", "1bad", ""])),
                action: pick(actions),
                onJobFailureReasons: maybe(0.3, () => [pick(["BackoffLimitExceeded", "PodFailurePolicy", "Nope"])]),
                targetReplicatedJobs: maybe(0.3, () => [pick(rjobNames.concat("missing"))]),
              }),
            ),
          ),
        }),
      ),
      startupPolicy: maybe(0.2, () => ({ startupPolicyOrder: pick(["AnyOrder", "InOrder"]) })),
      coordinator: maybe(0.2, () =>
        clean({
          replicatedJob: pick(rjobNames.concat("missing")),
          jobIndex: maybe(0.5, () => int(3)),
          podIndex: maybe(0.5, () => int(3)),
        }),
      ),
      managedBy: maybe(0.1, () => pick(["jobset.sigs.k8s.io/jobset-controller", "kueue.x-k8s.io/multikueue", "bad"])),
      ttlSecondsAfterFinished: maybe(0.1, () => int(100)),
      volumeClaimPolicies: maybe(0.2, () => [
        clean({
          templates: [
            clean({
              metadata: { name: pick(["data", "cache", "Bad"]) },
              spec: maybe(0.8, () => ({
                accessModes: ["ReadWriteOnce"],
                resources: { requests: { storage: pick(quantities) } },
              })),
            }),
          ],
          retentionPolicy: maybe(0.5, () => ({ whenDeleted: pick(["Delete", "Retain"]) })),
        }),
      ]),
      unknownSpecField: maybe(0.05, () => "x"),
    }),
  });
}

/** An UPDATE's new object: the old one with a few fields changed (mutable and immutable ones). */
function modify(old: Record<string, unknown>): Record<string, unknown> {
  const js = structuredClone(old) as { spec: Record<string, unknown>; metadata: Record<string, unknown> };
  const rjobs = (js.spec.replicatedJobs ?? []) as Record<string, unknown>[];
  const rj = rjobs[0] as { replicas?: number; template: { spec: Record<string, unknown> } } | undefined;
  switch (int(7)) {
    case 0:
      js.spec.suspend = !js.spec.suspend;
      break;
    case 1:
      if (rj) rj.replicas = int(4);
      break;
    case 2:
      if (rj) rj.template.spec.parallelism = int(5);
      break;
    case 3:
      js.spec.managedBy = pick(["kueue.x-k8s.io/multikueue", "jobset.sigs.k8s.io/jobset-controller"]);
      break;
    case 4:
      if (rj) (rj.template.spec.template as { spec?: Record<string, unknown> }).spec = { containers: [container(0)] };
      break;
    case 5:
      js.spec.ttlSecondsAfterFinished = int(10);
      break;
    default:
      js.metadata.labels = { changed: "yes" };
  }
  return js;
}

// ---------------------------------------------------------------------------------------------- invariants

/** Splits a field path (`spec.replicatedJobs[0].template`, `metadata.labels[a/b]`) into segments. */
function segments(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const m of path.matchAll(/([^.[\]]+)|\[([^\]]*)\]/g)) {
    if (m[1] !== undefined) out.push(m[1]);
    else out.push(/^\d+$/.test(m[2] ?? "") ? Number(m[2]) : (m[2] ?? ""));
  }
  return out;
}

/**
 * The object's value at all but the last segment of `path` exists (the last may be a missing field).
 * Upstream names volume claim templates `spec.volumeClaimPolicies[i].template[j]` (singular; behavior
 * spec §3.3), which stands for `templates[j]`.
 */
function parentExists(obj: unknown, path: string): boolean {
  const segs = segments(path.replace(/^(spec\.volumeClaimPolicies\[\d+\])\.template\[/, "$1.templates["));
  let cur: unknown = obj;
  for (const s of segs.slice(0, -1)) {
    if (typeof cur !== "object" || cur === null) return false;
    cur = (cur as Record<string | number, unknown>)[s];
  }
  return typeof cur === "object" && cur !== null;
}

const BAD_TEXT = /undefined|\[object Object\]|NaN/;

interface Finding {
  problems: string[];
  /** Causes that still carry `type` or lack `reason` (the StatusCause field name, issue 15 item 4). */
  causeShape: string[];
}

function checkAnswer(r: AdmissionResponse, object: unknown, ctx: string, f: Finding): void {
  const st = r.status;
  if (st?.message && BAD_TEXT.test(st.message)) f.problems.push(`bad text in message "${st.message}": ${ctx}`);
  for (const c of st?.details?.causes ?? []) {
    const cause = c as { field?: string; message?: string; reason?: string; type?: string };
    if (cause.message && BAD_TEXT.test(cause.message)) f.problems.push(`bad text in cause "${cause.message}": ${ctx}`);
    if (!cause.field) f.problems.push(`cause without field ${JSON.stringify(c)}: ${ctx}`);
    else if (!parentExists(object, cause.field)) f.problems.push(`cause names a missing path ${cause.field}: ${ctx}`);
    if (cause.reason === undefined || "type" in cause) f.causeShape.push(`${JSON.stringify(c)}: ${ctx}`);
  }
}

// ---------------------------------------------------------------------------------------------- servers

const ca = createCa("invariants-ca", 1);
const leaf = issueServingCert(ca);
const allOn: FeatureGates = { ...defaultFeatureGates, InPlaceRestart: true, RestartJob: true, ElasticJobSet: true };
const servers = [defaultFeatureGates, allOn].map(
  (gates) =>
    new WebhookServer({
      host: "127.0.0.1",
      port: 0,
      certificate: { cert: leaf.certPem, key: leaf.keyPem },
      handlers: webhookHandlers({
        gates,
        random: prng(SEED + 1),
        getPVC: async (ns, name) =>
          name.startsWith("data-")
            ? {
                metadata: { name, namespace: ns },
                spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
              }
            : undefined,
        pods: { podsByName: () => [], getNode: () => Promise.reject(new Error("no nodes")) },
      }),
    }),
);

describe("admission invariants over generated JobSets", () => {
  const agent = new https.Agent({ keepAlive: true, maxSockets: 8 });
  before(() => Promise.all(servers.map((s) => s.start())));
  after(async () => {
    agent.destroy();
    await Promise.all(servers.map((s) => s.stop()));
  });

  let uid = 0;
  async function ask(s: WebhookServer, path: string, operation: string, object: unknown, oldObject?: unknown) {
    const id = `inv-${++uid}`;
    const body: AdmissionReview = {
      apiVersion: "admission.k8s.io/v1",
      kind: "AdmissionReview",
      request: {
        uid: id,
        kind: { group: "jobset.x-k8s.io", version: "v1alpha2", kind: "JobSet" },
        resource: { group: "jobset.x-k8s.io", version: "v1alpha2", resource: "jobsets" },
        namespace: "default",
        operation,
        userInfo: {},
        object,
        ...(oldObject === undefined ? {} : { oldObject }),
      },
    } as AdmissionReview;
    const a = await post(`${s.url}${path}`, JSON.stringify(body), { ca: ca.certPem, agent });
    assert.equal(a.status, 200, a.body);
    const r = (JSON.parse(a.body) as AdmissionReview).response;
    assert.ok(r, a.body);
    return r;
  }

  test(`${COUNT} generated JobSets, creates and updates, gates off and on (seed ${SEED})`, async (t) => {
    const f: Finding = { problems: [], causeShape: [] };
    const stats = { creates: 0, patched: 0, fixedPoints: 0, updates: 0, denied: 0, allowed: 0, errored: 0 };
    const one = async (k: number) => {
      const s = servers[k % 2] as WebhookServer;
      const object = generateJobSet(k);
      const ctx = `gates ${k % 2 ? "on" : "off"} ${JSON.stringify(object).slice(0, 300)}`;
      const m = await ask(s, Paths.MutateJobSet, "CREATE", object);
      stats.creates++;
      checkAnswer(m, object, ctx, f);
      if (!m.allowed) {
        stats.errored++;
        return;
      }
      let patched: unknown = object;
      if (m.patch) {
        stats.patched++;
        patched = jsonpatch.applyPatch(
          structuredClone(object),
          decodePatch(m) as jsonpatch.Operation[],
          true,
          false,
        ).newDocument;
        const again = await ask(s, Paths.MutateJobSet, "CREATE", patched);
        if (again.patch) f.problems.push(`not a fixed point: ${JSON.stringify(decodePatch(again))}: ${ctx}`);
        else stats.fixedPoints++;
      }
      const v = await ask(s, Paths.ValidateJobSet, "CREATE", patched);
      checkAnswer(v, patched, ctx, f);
      if (v.allowed) stats.allowed++;
      else stats.denied++;
      if (chance(0.5)) {
        const updated = modify(patched as Record<string, unknown>);
        const u = await ask(s, Paths.ValidateJobSet, "UPDATE", updated, patched);
        stats.updates++;
        checkAnswer(u, updated, `UPDATE ${ctx}`, f);
        if (u.allowed) stats.allowed++;
        else stats.denied++;
      }
    };
    for (let done = 0; done < COUNT; done += 8) {
      await Promise.all(Array.from({ length: Math.min(8, COUNT - done) }, (_, i) => one(done + i)));
    }
    t.diagnostic(JSON.stringify(stats));
    assert.deepEqual(f.problems.slice(0, 10), [], `${f.problems.length} problems`);
    // The corpus reaches every kind of answer.
    assert.ok(stats.patched > COUNT / 2 && stats.fixedPoints === stats.patched, JSON.stringify(stats));
    assert.ok(stats.allowed > 0 && stats.denied > 0 && stats.updates > 0, JSON.stringify(stats));
    t.diagnostic(`causes without reason or with type: ${f.causeShape.length}`);
    assert.deepEqual(f.causeShape.slice(0, 3), [], `${f.causeShape.length} causes use type instead of reason`);
  });
});
