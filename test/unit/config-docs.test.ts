// docs/configuration.md is generated from the Configuration type, its defaults and the controller's
// flags (scripts/gen-config-docs.ts), and is current.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import {
  ConfigDocsPath,
  configurationFields,
  controllerFlags,
  FieldDescriptions,
  renderConfigDocs,
} from "../../scripts/gen-config-docs.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

describe("configuration reference", () => {
  test("the committed docs/configuration.md is current (run `npx node scripts/gen-config-docs.ts`)", async () => {
    assert.ok(readFileSync(join(root, ConfigDocsPath), "utf8") === (await renderConfigDocs()), "stale");
  });

  test("every Configuration field is described, and nothing else", () => {
    assert.deepEqual(Object.keys(FieldDescriptions).sort(), configurationFields().sort());
    assert.ok(configurationFields().length >= 23);
  });

  test("flags map onto the fields they override (spec §9.4)", async () => {
    const overrides = Object.fromEntries((await controllerFlags()).map((f) => [f.flag, f.overrides]));
    assert.equal(overrides["--kube-api-qps"], "clientConnection.qps");
    assert.equal(overrides["--kube-api-burst"], "clientConnection.burst");
    assert.equal(overrides["--leader-elect"], "leaderElection.leaderElect");
    assert.equal(overrides["--metrics-bind-address"], "metrics.bindAddress");
    assert.equal(overrides["--health-probe-bind-address"], "health.healthProbeBindAddress");
    assert.equal(overrides["--config"], undefined);
  });

  test("types and defaults come from the decoder and defaultConfiguration", async () => {
    const doc = await renderConfigDocs();
    for (const row of [
      "| `webhook.port` | `int` | `9443` |",
      "| `leaderElection.leaderElect` | `bool` | `true` | `--leader-elect` |",
      "| `leaderElection.leaseDuration` | `v1.Duration` | `15s` |",
      "| `clientConnection.qps` | `float32` | `500` | `--kube-api-qps` |",
      "| `clientConnection.burst` | `int32` | `500` | `--kube-api-burst` |",
      "| `featureGates` | `map[string]bool` | `{}` |",
      "| `tls.cipherSuites` | `[]string` | — |",
      "| `internalCertManagement.webhookSecretName` | `string` | `jobset-webhook-server-cert` |",
    ]) {
      assert.ok(doc.includes(row), `docs have ${row}`);
    }
  });
});
