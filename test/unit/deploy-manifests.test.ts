// The committed deployment artefacts: generated files are current (scripts/generate-deploy.ts), the
// RBAC definition names real code for every rule, versions agree, and the shipped Configuration files
// load. (test/integration/deploy.test.ts renders and dry-runs them against the API server.)
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { generatedFiles, staleFiles } from "../../scripts/generate-deploy.ts";
import { apiRules, managerRole, Roles } from "../../scripts/rbac.ts";
import { loadConfiguration } from "../../src/api/config.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const read = (p: string) => readFileSync(join(root, p), "utf8");
const pkg = JSON.parse(read("package.json")) as { version: string };

describe("deployment artefacts", () => {
  test("generated files are current (run `npx node scripts/generate-deploy.ts`)", () => {
    assert.deepEqual(staleFiles(), []);
    assert.ok(Object.keys(generatedFiles()).length >= 9);
  });

  test("every RBAC rule says which code needs it, and that code exists", () => {
    for (const role of Roles) {
      for (const rule of role.rules) {
        assert.ok(rule.usedBy.length > 0, `${role.name}: ${JSON.stringify(rule)} has no usedBy`);
        for (const u of rule.usedBy) {
          for (const file of u.match(/\bsrc\/[\w/.-]+\.ts\b/g) ?? []) {
            assert.ok(existsSync(join(root, file)), `${role.name}: ${file} (usedBy) exists`);
          }
        }
        assert.ok(!rule.verbs.includes("*"), `${role.name}: no wildcard verbs`);
        assert.ok(!(rule.resources ?? []).includes("*"), `${role.name}: no wildcard resources`);
      }
    }
  });

  test("no ClusterRole touches Secrets; the controller's Secret and Lease access is limited by name", () => {
    for (const role of Roles.filter((r) => r.kind === "ClusterRole")) {
      assert.ok(!role.rules.some((r) => r.resources?.includes("secrets")), `${role.name} grants no secrets`);
    }
    for (const role of Roles.filter((r) => r.kind === "Role")) {
      for (const r of role.rules) {
        const onlyCreate = r.verbs.length === 1 && r.verbs[0] === "create";
        assert.ok(onlyCreate || (r.resourceNames ?? []).length > 0, `${role.name}: ${r.verbs} limited by name`);
      }
    }
  });

  test("config/rbac/role.yaml holds the manager rules", () => {
    const doc = parse(read("config/rbac/role.yaml").replace(/^---\n/m, "")) as { rules: unknown };
    assert.deepEqual(doc.rules, apiRules(managerRole, "kustomize"));
  });

  test("image tag, chart version and appVersion follow package.json", () => {
    const k = parse(read("config/manager/kustomization.yaml")) as { images: { newTag: string }[] };
    assert.equal(k.images[0]?.newTag, pkg.version);
    assert.match(read("config/manager/manager.yaml"), new RegExp(`image: jobset-controller:${pkg.version}\\n`));
    const chart = parse(read("charts/jobset/Chart.yaml")) as { version: string; appVersion: string };
    assert.equal(chart.version, pkg.version);
    assert.equal(chart.appVersion, pkg.version);
  });

  test("the shipped Configuration files decode strictly and validate", () => {
    const base = loadConfiguration(read("config/manager/controller_manager_config.yaml"));
    assert.equal(base.internalCertManagement.enable, true);
    assert.equal(base.leaderElection.leaderElect, true);
    const cm = loadConfiguration(read("config/components/cert-manager/controller_manager_config.yaml"));
    assert.equal(cm.internalCertManagement.enable, false);
  });
});
