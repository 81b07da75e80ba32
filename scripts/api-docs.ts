// `npm run docs:api [OUT]`: the SDK's API reference, generated from the sources. The TypeScript compiler
// emits the declarations (.d.ts, with the doc comments) of src/; this script renders the public surface
// — what src/sdk/index.ts (`jobset-ts`) and src/sdk/api.ts (`jobset-ts/api`) export — as Markdown:
// one section per module, each declaration with its doc comment and its declared signature.
// Output: docs/api/README.md by default (generated, not committed; see docs/sdk.md).
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** A top-level declaration of a .d.ts file. */
export interface Declaration {
  name: string;
  kind: string;
  doc: string;
  text: string;
}

/** Counts brackets line by line, skipping string literals and comments (block comments span lines). */
class DepthScanner {
  private inBlock = false;
  /** The depth change of one line. */
  change(line: string): number {
    let d = 0;
    for (let i = 0; i < line.length; i++) {
      const c = line[i];
      if (this.inBlock) {
        if (c === "*" && line[i + 1] === "/") {
          this.inBlock = false;
          i++;
        }
        continue;
      }
      if (c === "/" && line[i + 1] === "/") break;
      if (c === "/" && line[i + 1] === "*") {
        this.inBlock = true;
        i++;
        continue;
      }
      if (c === '"' || c === "'" || c === "`") {
        for (i++; i < line.length && line[i] !== c; i++) if (line[i] === "\\") i++;
        continue;
      }
      if (c === "{" || c === "(" || c === "[") d++;
      else if (c === "}" || c === ")" || c === "]") d--;
    }
    return d;
  }
}

const docText = (block: string): string =>
  block
    .replace(/^\/\*\*\s?/, "")
    .replace(/\s*\*\/$/, "")
    .split("\n")
    .map((l) => l.replace(/^\s*\* ?/, ""))
    .join("\n")
    .trim();

/** The top-level declarations of a .d.ts text, each with the doc comment just above it. */
export function parseDeclarations(text: string): Declaration[] {
  const lines = text.split("\n");
  const out: Declaration[] = [];
  let doc = "";
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? "";
    if (line.startsWith("/**")) {
      const start = i;
      while (i < lines.length && !(lines[i] ?? "").includes("*/")) i++;
      doc = docText(lines.slice(start, i + 1).join("\n"));
      continue;
    }
    const m = /^export (?:declare )?(const|function|class|interface|type|abstract class|enum) (\w+)/.exec(line);
    if (!m) {
      if (line.trim() !== "" && !line.startsWith("//")) doc = "";
      continue;
    }
    const start = i;
    const scanner = new DepthScanner();
    let depth = scanner.change(line);
    while (depth > 0 && i + 1 < lines.length) {
      i++;
      depth += scanner.change(lines[i] ?? "");
    }
    out.push({ kind: m[1] as string, name: m[2] as string, doc, text: lines.slice(start, i + 1).join("\n") });
    doc = "";
  }
  return out;
}

/** What an entry module exports: `export * from` modules whole, and named exports by module. */
export function parseExports(text: string): { all: string[]; named: Map<string, string[]> } {
  const all: string[] = [];
  const named = new Map<string, string[]>();
  for (const m of text.matchAll(/export \* from "([^"]+)";/g)) all.push(m[1] as string);
  for (const m of text.matchAll(/export (?:type )?\{([^}]*)\} from "([^"]+)";/g)) {
    const names = (m[1] as string)
      .split(",")
      .map((n) => n.trim().replace(/^type /, ""))
      .filter((n) => n !== "");
    named.set(m[2] as string, [...(named.get(m[2] as string) ?? []), ...names]);
  }
  return { all, named };
}

/** Longest constant shown whole; longer ones (the schemas' inlined types) are cut. Other kinds are whole. */
const MAX_LINES = 60;

function render(d: Declaration): string {
  const lines = d.text.split("\n");
  const shown =
    d.kind === "const" && lines.length > MAX_LINES
      ? `${lines.slice(0, MAX_LINES).join("\n")}\n    // … ${lines.length - MAX_LINES} more lines: see the declaration in your editor`
      : d.text;
  return `### ${d.name}\n\n${d.doc ? `${d.doc}\n\n` : ""}\`\`\`ts\n${shown}\n\`\`\`\n`;
}

/** Emits the declarations of src/ into a temporary directory and renders the reference. */
export function generate(): string {
  const tmp = mkdtempSync(join(tmpdir(), "jobset-api-docs-"));
  try {
    const tsc = join(dirname(createRequire(import.meta.url).resolve("typescript/package.json")), "bin", "tsc");
    execFileSync(
      process.execPath,
      [tsc, "-p", join(root, "tsconfig.build.json"), "--emitDeclarationOnly", "--outDir", tmp],
      { cwd: root, stdio: ["ignore", "inherit", "inherit"] },
    );
    const dts = (rel: string) => readFileSync(join(tmp, "src", rel), "utf8");
    const sections: string[] = [];
    const entries: [string, string][] = [
      ["jobset-ts", "sdk/index.d.ts"],
      ["jobset-ts/api", "sdk/api.d.ts"],
    ];
    for (const [spec, entry] of entries) {
      const { all, named } = parseExports(dts(entry));
      const modules = [...named.keys(), ...all].filter((m) => !(spec === "jobset-ts" && m === "./api.ts"));
      for (const mod of modules) {
        const rel = join(dirname(entry), mod).replace(/\.ts$/, ".d.ts");
        const wanted = named.get(mod);
        const decls = parseDeclarations(dts(rel)).filter((d) => !wanted || wanted.includes(d.name));
        const reexported = (wanted ?? []).filter((n) => !decls.some((d) => d.name === n));
        if (decls.length === 0 && reexported.length === 0) continue;
        const source = `src/${rel.replace(/\.d\.ts$/, ".ts")}`;
        sections.push(
          `## \`${spec}\` — ${source}\n\n${decls.map(render).join("\n")}${
            reexported.length > 0 ? `\nAlso exported from here: ${reexported.map((n) => `\`${n}\``).join(", ")}.\n` : ""
          }`,
        );
      }
    }
    return `# jobset-ts API reference\n\nGenerated by \`npm run docs:api\` from the declarations the TypeScript compiler emits for\nsrc/ (doc comments included); the guide is [docs/sdk.md](../sdk.md). \`jobset-ts\` also exports\neverything of \`jobset-ts/api\`.\n\n${sections.join("\n")}`;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const out = resolve(process.argv[2] ?? join(root, "docs", "api", "README.md"));
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, generate());
  console.log(`wrote ${out}`);
}
