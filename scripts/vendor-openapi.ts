// Extracts from the official Kubernetes OpenAPI v3 documents the schema definitions a JobSet embeds
// (batch/v1 JobTemplateSpec and core/v1 PersistentVolumeClaim, with everything they reference) and
// writes them, without their description texts, to src/api/openapi/k8s-v<version>.json.
// src/api/embedded.ts turns those definitions into the CRD's structural schemas.
//
// To refresh (e.g. after bumping Kubernetes in kube/go.mod):
//   cd kube && GOFLAGS=-modcacherw go mod download -json k8s.io/kubernetes@v<version>   # prints "Dir"
//   npx node scripts/vendor-openapi.ts <Dir>/api/openapi-spec/v3 <version>
//   then update the import in src/api/embedded.ts if the file name changed, and run `npm run generate`.
// Without arguments the script asks `go mod download` for v1.36.3 itself.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const version = process.argv[3] ?? "1.36.3";
const specDir =
  process.argv[2] ??
  join(
    (
      JSON.parse(
        execFileSync("go", ["mod", "download", "-json", `k8s.io/kubernetes@v${version}`], {
          cwd: join(root, "kube"),
          env: { ...process.env, GOFLAGS: "-modcacherw" },
          encoding: "utf8",
        }),
      ) as { Dir: string }
    ).Dir,
    "api/openapi-spec/v3",
  );

const ROOTS = ["io.k8s.api.batch.v1.JobTemplateSpec", "io.k8s.api.core.v1.PersistentVolumeClaim"];
const SOURCES = ["api__v1_openapi.json", "apis__batch__v1_openapi.json"];
const REF_PREFIX = "#/components/schemas/";

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const all = new Map<string, Json>();
for (const file of SOURCES) {
  const doc = JSON.parse(readFileSync(join(specDir, file), "utf8")) as {
    components: { schemas: Record<string, Json> };
  };
  for (const [name, schema] of Object.entries(doc.components.schemas)) all.set(name, schema);
}

/** Drops description texts (keeps a property *named* "description", if a schema ever has one). */
function strip(v: Json, refs: Set<string>): Json {
  if (Array.isArray(v)) return v.map((x) => strip(x, refs));
  if (v === null || typeof v !== "object") return v;
  const out: { [k: string]: Json } = {};
  for (const k of Object.keys(v).sort()) {
    const x = v[k] as Json;
    if (k === "description" && typeof x === "string") continue;
    if (k === "$ref" && typeof x === "string") refs.add(x.slice(REF_PREFIX.length));
    out[k] =
      k === "properties" && x && typeof x === "object" && !Array.isArray(x) ? stripProps(x, refs) : strip(x, refs);
  }
  return out;
}
function stripProps(props: { [k: string]: Json }, refs: Set<string>): Json {
  const out: { [k: string]: Json } = {};
  for (const k of Object.keys(props).sort()) out[k] = strip(props[k] as Json, refs);
  return out;
}

const picked: Record<string, Json> = {};
const queue = [...ROOTS];
while (queue.length > 0) {
  const name = queue.shift() as string;
  if (name in picked) continue;
  const schema = all.get(name);
  if (schema === undefined) throw new Error(`definition ${name} not found in ${specDir}`);
  const refs = new Set<string>();
  picked[name] = strip(schema, refs);
  queue.push(...refs);
}

const sorted = Object.fromEntries(
  Object.keys(picked)
    .sort()
    .map((k) => [k, picked[k]]),
);
const out = join(root, "src/api/openapi", `k8s-v${version}.json`);
writeFileSync(
  out,
  `${JSON.stringify({ source: `k8s.io/kubernetes@v${version} api/openapi-spec/v3 (${SOURCES.join(", ")})`, roots: ROOTS, definitions: sorted }, null, 1)}\n`,
);
// Format as the rest of the tree is formatted, so a refresh without upstream changes is a no-op.
execFileSync("npx", ["biome", "format", "--write", out], { cwd: root, stdio: "inherit" });
console.log(`wrote ${Object.keys(sorted).length} definitions to ${out}`);
