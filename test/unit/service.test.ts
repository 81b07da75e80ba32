import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { defaultJobSet } from "../../src/api/defaults.ts";
import { constructHeadlessService, headlessServiceName, wantsHeadlessService } from "../../src/controller/service.ts";
import { jobSet, rjob } from "../builders.ts";

const owner = {
  apiVersion: "jobset.x-k8s.io/v1alpha2",
  kind: "JobSet",
  name: "pytorch",
  uid: "u-1",
  controller: true,
  blockOwnerDeletion: true,
};

describe("headless Service (spec §4.3)", () => {
  test("defaulted JobSet: Service named after the JobSet", () => {
    const js = defaultJobSet(jobSet("pytorch", "default").uid("u-1").replicatedJob(rjob("workers")).obj());
    assert.equal(wantsHeadlessService(js), true);
    assert.deepEqual(constructHeadlessService(js), {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "pytorch", namespace: "default", ownerReferences: [owner] },
      spec: {
        clusterIP: "None",
        selector: { "jobset.sigs.k8s.io/jobset-name": "pytorch" },
        publishNotReadyAddresses: true,
      },
    });
  });
  test("no labels, annotations or ports; JobSet labels are not copied", () => {
    const js = jobSet("pytorch")
      .uid("u-1")
      .labels({ a: "b" })
      .annotations({ c: "d" })
      .network({ enableDNSHostnames: true });
    const svc = constructHeadlessService(js.obj());
    assert.equal(svc.metadata?.labels, undefined);
    assert.equal(svc.metadata?.annotations, undefined);
    assert.equal(svc.spec?.ports, undefined);
  });
  const cases: [string, Parameters<ReturnType<typeof jobSet>["network"]>[0] | undefined, boolean, string, boolean][] = [
    // name, network, wanted, service name, publishNotReadyAddresses
    ["nil network ⇒ no Service", undefined, false, "js", true],
    ["enableDNSHostnames unset ⇒ no Service", {}, false, "js", true],
    ["enableDNSHostnames false", { enableDNSHostnames: false }, false, "js", true],
    ["subdomain names the Service", { enableDNSHostnames: true, subdomain: "net" }, true, "net", true],
    ["empty subdomain falls back", { enableDNSHostnames: true, subdomain: "" }, true, "js", true],
    [
      "publishNotReadyAddresses false is copied",
      { enableDNSHostnames: true, publishNotReadyAddresses: false },
      true,
      "js",
      false,
    ],
    ["publishNotReadyAddresses nil ⇒ true", { enableDNSHostnames: true }, true, "js", true],
  ];
  for (const [name, network, wanted, svcName, pnra] of cases) {
    test(name, () => {
      const b = jobSet("js", "ns").uid("u");
      if (network) b.network(network);
      const js = b.obj();
      assert.equal(wantsHeadlessService(js), wanted);
      assert.equal(headlessServiceName(js), svcName);
      const svc = constructHeadlessService(js);
      assert.equal(svc.metadata?.name, svcName);
      assert.equal(svc.metadata?.namespace, "ns");
      assert.equal(svc.spec?.publishNotReadyAddresses, pnra);
      assert.deepEqual(svc.spec?.selector, { "jobset.sigs.k8s.io/jobset-name": "js" });
    });
  }
});
