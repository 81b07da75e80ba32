// Issue 15: the JobSet webhooks answer as upstream does, request for request, over TLS against the real
// webhook server. Each row is a request and upstream's complete answer (allowed, code, message,
// details). The Go-derived pieces (value renderings, decode errors, Status layout, equality) are each
// checked against Go itself in go-value.test.ts and field-errors.test.ts.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { defaultFeatureGates } from "../../src/api/features.ts";
import type { PersistentVolumeClaim } from "../../src/api/k8s.ts";
import { review, send } from "../support/admission-client.ts";
import { rows } from "../support/webhook-fidelity-rows.ts";
import { tlsWebhookServer } from "../support/webhook-server.ts";

const pvcLookups: string[] = [];

const { server, caPem } = tlsWebhookServer("fidelity-ca", {
  gates: defaultFeatureGates,
  getPVC: async (ns, name): Promise<PersistentVolumeClaim | undefined> => {
    pvcLookups.push(`${ns}/${name}`);
    throw new Error(`persistentvolumeclaims "${name}" is forbidden`);
  },
  pods: { podsByName: () => [], getNode: () => Promise.reject(new Error("no nodes")) },
});

describe("JobSet webhooks answer as upstream (issue 15)", () => {
  const o = { ca: caPem };
  before(() => server.start());
  after(() => server.stop());

  for (const row of rows) {
    test(row.name, async () => {
      pvcLookups.length = 0;
      const r = await send(`${server.url}${row.path}`, review(row.request), o);
      const { uid: _uid, ...got } = r.response ?? { uid: "" };
      assert.deepEqual(got, row.want);
      assert.deepEqual(pvcLookups, [], "no PVC look-up for these requests");
    });
  }
});
