// `npm run generate`: writes the generated artifacts (the JobSet CRD, its schema as JSON for src/api/schema.ts,
// the webhook manifests, the Go type table of the round trip and its fixtures).
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { CRD_PATH, renderCrdYaml, renderSchemaJson, SCHEMA_JSON_PATH } from "./crd-yaml.ts";
import { renderWebhookManifests, WebhookManifestPath } from "./generate-webhooks.ts";
import { GoArtifacts, goAvailable, renderGoArtifact } from "./gotypes.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
writeFileSync(join(root, CRD_PATH), renderCrdYaml());
console.log(`wrote ${CRD_PATH}`);
writeFileSync(join(root, SCHEMA_JSON_PATH), renderSchemaJson());
console.log(`wrote ${SCHEMA_JSON_PATH}`);

// ---- webhook configurations (src/webhooks/configurations.ts → config/webhook/manifests.yaml)
writeFileSync(WebhookManifestPath, renderWebhookManifests());
console.log("wrote config/webhook/manifests.yaml");

// ---- the Go type table and every Go-answered fixture (scripts/gotypes, needs Go)
if (goAvailable()) {
  for (const a of GoArtifacts) {
    writeFileSync(join(root, a.path), renderGoArtifact(a));
    console.log(`wrote ${a.path}`);
  }
} else {
  console.warn("go not found: the Go type table and its fixtures were not regenerated (install Go >= 1.26)");
}
