// `jobset lint FILE...`: judges every JobSet document as a Kubernetes API server with the JobSet
// webhooks would on CREATE (the judgement itself is the SDK's, src/sdk/lint.ts: one code path).
import { parseArgs } from "node:util";
import { Group, Kind } from "../api/constants.ts";
import { errorBody, formatFieldError } from "../api/field-errors.ts";
import { lintJobSet } from "../sdk/lint.ts";
import { at, formatSourceError, readDocuments } from "./documents.ts";
import { featureGatesFlag, UsageError } from "./usage.ts";

const help = `Usage: jobset lint [flags] FILE...

Checks JobSet manifests (YAML or JSON, several documents per file, "-" for stdin) the way the
Kubernetes API server and the JobSet webhooks judge them on create: structural schema, defaulting,
and every rule of the validating webhook. Documents that are not JobSets are skipped.

Prints one line per problem: FILE:LINE:COL: FIELD.PATH: message. LINE:COL is where the field is in the
file; a problem about a field the file leaves out (or one set by defaulting) points at the nearest
enclosing field the file has, one without a field at the document's start.

Flags:
  -o, --output FORMAT        text (default) or json
      --feature-gates LIST   feature gates of the controller, e.g. InPlaceRestart=true,RestartJob=true
  -h, --help                 show this help

Exit status: 0 all JobSets pass, 1 a JobSet is rejected, 2 a file cannot be read or parsed.
`;

export interface LintResult {
  file: string;
  /** 1-based position of the document in its file. */
  document: number;
  /** Where the document starts. */
  line: number;
  column: number;
  name: string;
  valid: boolean;
  /** Each with where its field is (see the usage). */
  errors: { type: string; field: string; message: string; error: string; line: number; column: number }[];
  warnings: string[];
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
    const where = at(doc.file, doc.start);
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
    // One code path with the SDK's lint(): an unserved apiVersion is reported there too.
    const { errors, warnings } = lintJobSet(doc.value, gates);
    results.push({
      file: doc.file,
      document: doc.index,
      ...doc.start,
      name,
      valid: errors.length === 0,
      errors: errors.map((e) => ({
        type: e.type,
        field: e.field,
        message: errorBody(e),
        error: formatFieldError(e),
        ...doc.locate(e.field),
      })),
      warnings,
    });
  }

  if (values.output === "json") {
    process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  } else {
    for (const r of results) {
      for (const w of r.warnings) process.stderr.write(`${at(r.file, r)}: warning: ${w}\n`);
      for (const e of r.errors) process.stdout.write(`${at(r.file, e)}: ${e.error}\n`);
    }
  }
  if (read.errors.length > 0) return 2;
  return results.some((r) => !r.valid) ? 1 : 0;
}
