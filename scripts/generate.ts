// `npm run generate`: writes the generated artifacts (the JobSet CRD, its schema as JSON for src/api/schema.ts, webhook manifests).
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { CRD_PATH, renderCrdYaml, renderSchemaJson, SCHEMA_JSON_PATH } from "./crd-yaml.ts";
import { renderWebhookManifests, WebhookManifestPath } from "./generate-webhooks.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
writeFileSync(join(root, CRD_PATH), renderCrdYaml());
console.log(`wrote ${CRD_PATH}`);
writeFileSync(join(root, SCHEMA_JSON_PATH), renderSchemaJson());
console.log(`wrote ${SCHEMA_JSON_PATH}`);

// ---- webhook configurations (src/webhooks/configurations.ts → config/webhook/manifests.yaml)
writeFileSync(WebhookManifestPath, renderWebhookManifests());
console.log("wrote config/webhook/manifests.yaml");
