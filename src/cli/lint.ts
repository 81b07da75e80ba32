// `jobset lint FILE...`: judges every JobSet document as a Kubernetes API server with the JobSet
// webhooks would on CREATE. The API server's order is: CRD structural defaults on decode, mutating
// admission (the JobSet defaulting webhook), structural defaults again on the patched object, OpenAPI
// schema validation (+ object metadata), then validating admission (the JobSet validating webhook).
import { parseArgs } from "node:util";
import jsonpatch from "fast-json-patch";
import { ApiVersion, Group, Kind } from "../api/constants.ts";
import type { FeatureGates } from "../api/features.ts";
import {
  errorBody,
  type FieldError,
  formatFieldError,
  invalid,
  isDNS1123Subdomain,
  notSupported,
  required,
} from "../api/field-errors.ts";
import { applySchemaDefaults, checkSchema } from "../api/schema.ts";
import type { JobSet } from "../api/types.ts";
import { validateCreate } from "../api/validation.ts";
import { decodePatch } from "../webhooks/admission.ts";
import { mutateJobSet } from "../webhooks/jobset-webhook.ts";
import { formatSourceError, readDocuments } from "./documents.ts";
import { featureGatesFlag, UsageError } from "./usage.ts";

const help = `Usage: jobset lint [flags] FILE...

Checks JobSet manifests (YAML or JSON, several documents per file, "-" for stdin) the way the
Kubernetes API server and the JobSet webhooks judge them on create: structural schema, defaulting,
and every rule of the validating webhook. Documents that are not JobSets are skipped.

Prints one line per problem: FILE:DOC: FIELD.PATH: message (DOC is the 1-based document number).

Flags:
  -o, --output FORMAT        text (default) or json
      --feature-gates LIST   feature gates of the controller, e.g. InPlaceRestart=true,RestartJob=true
  -h, --help                 show this help

Exit status: 0 all JobSets pass, 1 a JobSet is rejected, 2 a file cannot be read or parsed.
`;

export interface LintResult {
  file: string;
  document: number;
  name: string;
  valid: boolean;
  errors: { type: string; field: string; message: string; error: string }[];
  warnings: string[];
}

/** A deterministic source of "random" generateName suffixes, so lint output is reproducible. */
function seededRandom(seed = 42): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** The metadata checks the API server makes before admission: name or generateName, DNS subdomain. */
function checkMetadata(js: JobSet): FieldError[] {
  const meta = js.metadata;
  if (!meta?.name && !meta?.generateName) return [required("metadata.name", "name or generateName is required")];
  if (meta.name) return isDNS1123Subdomain(meta.name).map((m) => invalid("metadata.name", meta.name, m));
  return [];
}

/** Judges one JobSet document: schema errors stop before the validating webhook, like the API server. */
export function lintJobSet(
  value: Record<string, unknown>,
  gates: FeatureGates,
  random: () => number = seededRandom(),
): { errors: FieldError[]; warnings: string[] } {
  let obj = applySchemaDefaults(structuredClone(value)) as JobSet;
  // The mutating webhook's own answer (its patch is Go's typed round trip plus the defaults). An object
  // Go cannot decode is not patched; the schema check below reports why.
  const m = mutateJobSet({
    uid: "lint",
    kind: { group: Group, version: "v1alpha2", kind: Kind },
    resource: { group: Group, version: "v1alpha2", resource: "jobsets" },
    operation: "CREATE",
    userInfo: {},
    object: obj,
  });
  if (m.allowed && m.patch) {
    obj = jsonpatch.applyPatch(obj, decodePatch(m) as jsonpatch.Operation[], false, false).newDocument;
  }
  obj = applySchemaDefaults(obj);
  const schema = checkSchema(obj);
  // The API server validates object metadata first, then the schema (and its CEL rules).
  const errors = checkMetadata(obj);
  const seen = new Set(errors.map(formatFieldError));
  for (const e of schema.errors) if (!seen.has(formatFieldError(e))) errors.push(e);
  if (errors.length > 0) return { errors, warnings: schema.warnings };
  return { errors: validateCreate(obj, gates, { random }), warnings: schema.warnings };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

export async function lint(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      output: { type: "string", short: "o", default: "text" },
      "feature-gates": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(help);
    return 0;
  }
  if (values.output !== "text" && values.output !== "json") {
    throw new UsageError(`unknown output format "${values.output}" (want text or json)`);
  }
  if (positionals.length === 0) throw new UsageError("no files given (use - for stdin)");
  const gates = featureGatesFlag(values["feature-gates"]);

  const read = await readDocuments(positionals);
  for (const e of read.errors) process.stderr.write(`${formatSourceError(e)}\n`);

  const results: LintResult[] = [];
  for (const doc of read.documents) {
    const where = `${doc.file}:${doc.index}`;
    if (!isObject(doc.value)) {
      process.stderr.write(`${where}: skipped: not a Kubernetes object\n`);
      continue;
    }
    const apiVersion = typeof doc.value.apiVersion === "string" ? doc.value.apiVersion : "";
    const kind = typeof doc.value.kind === "string" ? doc.value.kind : "";
    const group = apiVersion.includes("/") ? apiVersion.slice(0, apiVersion.indexOf("/")) : "";
    if (kind !== Kind || group !== Group) {
      process.stderr.write(
        `${where}: skipped: ${kind || "object"} ${apiVersion || "(no apiVersion)"} is not a JobSet\n`,
      );
      continue;
    }
    const meta = isObject(doc.value.metadata) ? doc.value.metadata : {};
    const name =
      typeof meta.name === "string" ? meta.name : typeof meta.generateName === "string" ? meta.generateName : "";
    let errors: FieldError[];
    let warnings: string[] = [];
    if (apiVersion !== ApiVersion) {
      errors = [notSupported("apiVersion", apiVersion, [ApiVersion])];
    } else {
      ({ errors, warnings } = lintJobSet(doc.value, gates));
    }
    results.push({
      file: doc.file,
      document: doc.index,
      name,
      valid: errors.length === 0,
      errors: errors.map((e) => ({ type: e.type, field: e.field, message: errorBody(e), error: formatFieldError(e) })),
      warnings,
    });
  }

  if (values.output === "json") {
    process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  } else {
    for (const r of results) {
      for (const w of r.warnings) process.stderr.write(`${r.file}:${r.document}: warning: ${w}\n`);
      for (const e of r.errors) process.stdout.write(`${r.file}:${r.document}: ${e.error}\n`);
    }
  }
  if (read.errors.length > 0) return 2;
  return results.some((r) => !r.valid) ? 1 : 0;
}
