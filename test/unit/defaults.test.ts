import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  defaultJobSet,
  dnsHostnamesEnabled,
  isSuspended,
  publishNotReadyAddresses,
  subdomainOf,
} from "../../src/api/defaults.ts";
import type { JobSet, ReplicatedJob } from "../../src/api/types.ts";

const rjob = (name: string, extra: Partial<ReplicatedJob> = {}): ReplicatedJob => ({
  name,
  replicas: 1,
  template: { spec: { template: { spec: { containers: [{ name: "c", image: "busybox" }] } } } },
  ...extra,
});

const js = (spec: JobSet["spec"]): JobSet => ({
  apiVersion: "jobset.x-k8s.io/v1alpha2",
  kind: "JobSet",
  metadata: { name: "js" },
  spec,
});

describe("defaultJobSet (mutating webhook)", () => {
  test("minimal JobSet gets every webhook default", () => {
    const out = defaultJobSet(js({ replicatedJobs: [rjob("a")] }));
    assert.deepEqual(out.spec, {
      replicatedJobs: [
        {
          name: "a",
          replicas: 1,
          template: {
            spec: {
              completionMode: "Indexed",
              template: { spec: { containers: [{ name: "c", image: "busybox" }], restartPolicy: "OnFailure" } },
            },
          },
        },
      ],
      successPolicy: { operator: "All" },
      startupPolicy: { startupPolicyOrder: "AnyOrder" },
      network: { enableDNSHostnames: true, publishNotReadyAddresses: true },
    });
  });

  test("does not modify its argument", () => {
    const input = js({ replicatedJobs: [rjob("a")] });
    const before = structuredClone(input);
    defaultJobSet(input);
    assert.deepEqual(input, before);
  });

  test("set fields are kept", () => {
    const input = js({
      replicatedJobs: [
        rjob("a", {
          template: {
            spec: {
              completionMode: "NonIndexed",
              template: { spec: { restartPolicy: "Never", containers: [] } },
            },
          },
        }),
      ],
      successPolicy: { operator: "Any", targetReplicatedJobs: ["a"] },
      startupPolicy: { startupPolicyOrder: "InOrder" },
      network: { enableDNSHostnames: false, publishNotReadyAddresses: false, subdomain: "sub" },
    });
    const out = defaultJobSet(input);
    assert.deepEqual(out.spec, input.spec);
  });

  test("network: partial object completed, subdomain never defaulted", () => {
    const out = defaultJobSet(js({ network: { enableDNSHostnames: false } }));
    assert.deepEqual(out.spec?.network, { enableDNSHostnames: false, publishNotReadyAddresses: true });
  });

  test("failure policy rule names default to failurePolicyRule<index>", () => {
    const out = defaultJobSet(
      js({
        failurePolicy: {
          maxRestarts: 1,
          rules: [
            { name: "", action: "FailJobSet" },
            { name: "keep", action: "RestartJobSet" },
            { action: "FailJobSet" } as never,
          ],
        },
      }),
    );
    assert.deepEqual(
      out.spec?.failurePolicy?.rules?.map((r) => r.name),
      ["failurePolicyRule0", "keep", "failurePolicyRule2"],
    );
    assert.equal(
      out.spec?.failurePolicy?.restartStrategy,
      undefined,
      "restartStrategy is a CRD default, not the webhook's",
    );
  });

  test("failurePolicy itself is not defaulted", () => {
    assert.equal(defaultJobSet(js({})).spec?.failurePolicy, undefined);
  });

  test("volume claim policies: nil retentionPolicy → Delete, set one kept", () => {
    const out = defaultJobSet(
      js({
        volumeClaimPolicies: [
          { templates: [{ metadata: { name: "a" } }] },
          { templates: [{ metadata: { name: "b" } }], retentionPolicy: { whenDeleted: "Retain" } },
        ],
      }),
    );
    assert.deepEqual(
      out.spec?.volumeClaimPolicies?.map((p) => p.retentionPolicy),
      [{ whenDeleted: "Delete" }, { whenDeleted: "Retain" }],
    );
  });

  test("empty restartPolicy string is defaulted", () => {
    const out = defaultJobSet(
      js({
        replicatedJobs: [
          rjob("a", { template: { spec: { template: { spec: { restartPolicy: "", containers: [] } } } } }),
        ],
      }),
    );
    assert.equal(out.spec?.replicatedJobs?.[0]?.template.spec?.template.spec?.restartPolicy, "OnFailure");
  });

  test("nothing else is defaulted (parallelism, completions, backoffLimit, suspend, coordinator)", () => {
    const out = defaultJobSet(js({ replicatedJobs: [rjob("a")] }));
    const spec = out.spec?.replicatedJobs?.[0]?.template.spec;
    assert.equal(spec?.parallelism, undefined);
    assert.equal(spec?.completions, undefined);
    assert.equal(spec?.backoffLimit, undefined);
    assert.equal(out.spec?.suspend, undefined);
    assert.equal(out.spec?.coordinator, undefined);
  });
});

describe("runtime fallbacks", () => {
  test("subdomainOf", () => {
    assert.equal(subdomainOf(js({ network: { subdomain: "sub" } })), "sub");
    assert.equal(subdomainOf(js({ network: { subdomain: "" } })), "js");
    assert.equal(subdomainOf(js({})), "js");
  });
  test("dnsHostnamesEnabled", () => {
    assert.equal(dnsHostnamesEnabled(js({ network: { enableDNSHostnames: true } })), true);
    assert.equal(dnsHostnamesEnabled(js({ network: { enableDNSHostnames: false } })), false);
    assert.equal(dnsHostnamesEnabled(js({ network: {} })), false);
    assert.equal(dnsHostnamesEnabled(js({})), false, "nil network means disabled");
  });
  test("publishNotReadyAddresses", () => {
    assert.equal(publishNotReadyAddresses(js({})), true);
    assert.equal(publishNotReadyAddresses(js({ network: {} })), true);
    assert.equal(publishNotReadyAddresses(js({ network: { publishNotReadyAddresses: false } })), false);
  });
  test("isSuspended", () => {
    assert.equal(isSuspended(js({})), false);
    assert.equal(isSuspended(js({ suspend: false })), false);
    assert.equal(isSuspended(js({ suspend: true })), true);
  });
});
