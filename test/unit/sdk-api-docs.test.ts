// The API reference generator (scripts/api-docs.ts): declarations parsed with their doc comments, and
// a reference that covers every export of the SDK's entry points.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { generate, parseDeclarations, parseExports } from "../../scripts/api-docs.ts";
import * as api from "../../src/sdk/api.ts";
import * as sdk from "../../src/sdk/index.ts";

describe("parseDeclarations", () => {
  test("each top-level declaration with the doc comment above it; brackets in comments and strings do not count", () => {
    const text = [
      'import type { X } from "./x.ts";',
      "/** Options. */",
      "export interface Opts {",
      "    /** e.g. { a: true } */",
      "    a?: boolean;",
      '    b: "}";',
      "}",
      "/**",
      " * Does it.",
      " * Really.",
      " */",
      "export declare function run(o?: Opts): void;",
      "export declare const Labels: {",
      '    readonly A: "a";',
      "};",
    ].join("\n");
    assert.deepEqual(
      parseDeclarations(text).map((d) => [d.kind, d.name, d.doc, d.text.split("\n").length]),
      [
        ["interface", "Opts", "Options.", 5],
        ["function", "run", "Does it.\nReally.", 1],
        ["const", "Labels", "", 3],
      ],
    );
  });

  test("parseExports: whole modules and named lists (multi-line, type-only names)", () => {
    const e = parseExports(
      'export * from "./api.ts";\nexport {\n  type A,\n  b,\n} from "./b.ts";\nexport type { C } from "./c.ts";\n',
    );
    assert.deepEqual(e.all, ["./api.ts"]);
    assert.deepEqual(
      [...e.named],
      [
        ["./b.ts", ["A", "b"]],
        ["./c.ts", ["C"]],
      ],
    );
  });
});

describe("generate: the reference of jobset-ts and jobset-ts/api", () => {
  const text = generate();
  test("every runtime export of both entry points is documented", () => {
    const documented = new Set([
      ...[...text.matchAll(/^### (\w+)$/gm)].map((m) => m[1]),
      ...[...text.matchAll(/^Also exported from here: (.*)$/gm)].flatMap((m) =>
        [...(m[1] ?? "").matchAll(/`(\w+)`/g)].map((x) => x[1]),
      ),
    ]);
    const missing = [...Object.keys(sdk), ...Object.keys(api)].filter((n) => !documented.has(n));
    assert.deepEqual(missing, []);
  });

  test("doc comments and signatures come from the sources", () => {
    assert.match(text, /### waitFor|waitFor\(jobset: JobSet \| string, state: TerminalState/);
    assert.match(
      text,
      /export declare function jobSet\(name: string, spec: JobSetSpecInput, o\?: JobSetOptions\): JobSet;/,
    );
    assert.match(text, /A JobSet named `name`, defaulted and validated\./);
  });
});
