import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { JobSetResource } from "../../src/api/constants.ts";
import { groupVersionPath, Resources, resourcePath } from "../../src/runtime/resources.ts";

describe("resourcePath", () => {
  test("core and grouped resources, collections, objects and subresources", () => {
    assert.equal(resourcePath(Resources.pods), "/api/v1/pods");
    assert.equal(resourcePath({ ...Resources.pods, namespace: "ns" }), "/api/v1/namespaces/ns/pods");
    assert.equal(
      resourcePath({ ...Resources.pods, namespace: "ns", name: "p", subresource: "status" }),
      "/api/v1/namespaces/ns/pods/p/status",
    );
    assert.equal(resourcePath({ ...Resources.nodes, name: "n1" }), "/api/v1/nodes/n1");
    assert.equal(resourcePath({ ...Resources.jobs, namespace: "a" }), "/apis/batch/v1/namespaces/a/jobs");
    assert.equal(
      resourcePath({ ...JobSetResource, namespace: "a", name: "js", subresource: "status" }),
      "/apis/jobset.x-k8s.io/v1alpha2/namespaces/a/jobsets/js/status",
    );
    assert.equal(resourcePath({ ...JobSetResource, namespace: undefined }), "/apis/jobset.x-k8s.io/v1alpha2/jobsets");
    assert.equal(
      resourcePath(Resources.validatingWebhookConfigurations),
      "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations",
    );
  });

  test("namespace and name are URL-encoded; a subresource needs a name", () => {
    assert.equal(
      resourcePath({ ...Resources.secrets, namespace: "a b", name: "x/y" }),
      "/api/v1/namespaces/a%20b/secrets/x%2Fy",
    );
    assert.throws(() => resourcePath({ ...Resources.pods, subresource: "log" }), {
      message: /subresource log needs a name/,
    });
  });

  test("the discovery path of a group version", () => {
    assert.equal(groupVersionPath(Resources.pods), "/api/v1");
    assert.equal(groupVersionPath(Resources.jobs), "/apis/batch/v1");
    assert.equal(
      groupVersionPath({ group: "scheduling.k8s.io", version: "v1alpha2" }),
      "/apis/scheduling.k8s.io/v1alpha2",
    );
    assert.throws(() => groupVersionPath({ group: "batch", version: "" }), { message: /version is required/ });
  });
});
