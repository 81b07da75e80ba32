// `npm run generate`: writes the generated artifacts (today: the JobSet CRD).
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { CRD_PATH, renderCrdYaml } from "./crd-yaml.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
writeFileSync(join(root, CRD_PATH), renderCrdYaml());
console.log(`wrote ${CRD_PATH}`);
