// YAML text for JSON data (what `jobset plan` prints), in the block style the `yaml` package prints by
// default — two-space indents, sequences indented under their key, `{}`/`[]` for empty collections — but
// written directly: formatting a plan with the package (its document model, then its string output) was
// the largest single part of `jobset plan`'s run time after start-up (bench/cli.bench.ts).
//
// A string is written plain only when every YAML reader takes it back as that same string: YAML 1.2
// (the `yaml` package, JavaScript tools) and YAML 1.1 (kubectl and Go tools read YAML through go-yaml,
// where `yes`, `on`, `0x1F`, `1_000`, `1:30` and dates are not strings). Anything else is written as a
// JSON string, which is a valid YAML double-quoted scalar. test/unit/yaml-out.test.ts reads the output
// back with both versions.

/** Strings of letters only that YAML 1.1 or 1.2 reads as a boolean or null (compared in lower case). */
const reserved = new Set(["true", "false", "yes", "no", "on", "off", "y", "n", "null"]);

// Plain strings: a first character that starts no other YAML scalar or indicator, then a conservative set
// of characters (no `#`, quotes, brackets, braces, `*`, `&`, `!`, `|`, `>`, tabs or line breaks; `%` and
// `@` only after the start).
// A leading `-` is allowed before a letter or another `-` (`--shard`), never before a digit, a dot or a space.
const plainLetters = /^(?:-[A-Za-z_/$-]|[A-Za-z_/$])[A-Za-z0-9 ._/$@+=,()%:~-]*$/;
// Starting with a digit: digits (a number, or a hash such as a job-key) followed by letters and digits
// (16Gi, 500m, 1.5G, 53ebe4f8…), unless the whole string is a number in exponent, hex, octal or binary form.
const plainUnit = /^[0-9]+(\.[0-9]+)?[A-Za-z][A-Za-z0-9]*$/;
const numberLike = /^[0-9]+(\.[0-9]*)?e[-+]?[0-9]+$|^0x[0-9a-f_]+$|^0o[0-7_]+$|^0b[01_]+$/i;

function plainOk(s: string): boolean {
  if (plainLetters.test(s)) {
    if (s.endsWith(" ") || s.endsWith(":") || s.includes(": ") || s.startsWith("---")) return false;
    return !reserved.has(s.toLowerCase());
  }
  return plainUnit.test(s) && !numberLike.test(s);
}

// JSON leaves DEL, the C1 controls and the non-characters YAML does not allow unescaped as they are.
const notPrintable = /[\x7f-\x9f\ufeff\ufffe\uffff]/g;
const quoted = (s: string): string =>
  JSON.stringify(s).replace(notPrintable, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);

const scalarText = (s: string): string => (plainOk(s) ? s : quoted(s));

/** Entries of an object as JSON would write them (`undefined` and functions left out). */
const entries = (o: object): [string, unknown][] =>
  Object.entries(o).filter(([, v]) => v !== undefined && typeof v !== "function" && typeof v !== "symbol");

function scalar(v: unknown): string | undefined {
  switch (typeof v) {
    case "string":
      return scalarText(v);
    case "number":
      return Number.isFinite(v) ? String(Object.is(v, -0) ? 0 : v) : "null"; // JSON writes NaN and ±Infinity as null
    case "boolean":
      return v ? "true" : "false";
    case "bigint":
      return v.toString();
    case "object":
      if (v === null) return "null";
      if (Array.isArray(v)) return v.length === 0 ? "[]" : undefined;
      return entries(v).length === 0 ? "{}" : undefined;
    default:
      return "null";
  }
}

function writeMap(o: object, indent: string, out: string[], firstPrefix?: string): void {
  let first = true;
  for (const [k, v] of entries(o)) {
    const lead = first && firstPrefix !== undefined ? firstPrefix : indent;
    first = false;
    const key = scalarText(k);
    const s = scalar(v);
    if (s !== undefined) {
      out.push(`${lead}${key}: ${s}\n`);
    } else if (Array.isArray(v)) {
      out.push(`${lead}${key}:\n`);
      writeSeq(v, `${indent}  `, out);
    } else {
      out.push(`${lead}${key}:\n`);
      writeMap(v as object, `${indent}  `, out);
    }
  }
}

function writeSeq(a: readonly unknown[], indent: string, out: string[]): void {
  for (const item of a) {
    const v = item === undefined || typeof item === "function" || typeof item === "symbol" ? null : item;
    const s = scalar(v);
    if (s !== undefined) out.push(`${indent}- ${s}\n`);
    else if (Array.isArray(v)) {
      out.push(`${indent}-\n`);
      writeSeq(v, `${indent}  `, out);
    } else writeMap(v as object, `${indent}  `, out, `${indent}- `);
  }
}

/** One YAML document (no `---`) for a JSON value: objects, arrays, strings, numbers, booleans, null. */
export function toYaml(value: unknown): string {
  const s = scalar(value);
  if (s !== undefined) return `${s}\n`;
  const out: string[] = [];
  if (Array.isArray(value)) writeSeq(value, "", out);
  else writeMap(value as object, "", out);
  return out.join("");
}
