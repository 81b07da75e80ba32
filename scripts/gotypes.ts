// The artifacts scripts/gotypes/ prints with Go (the one Go type table and every Go-answered fixture);
// `npm run generate` writes them, test/integration/gotypes.test.ts checks they are fresh.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dir = join(root, "scripts", "gotypes");

export const GoArtifacts: { path: string; args: string[]; stdin?: string }[] = [
  { path: "src/api/go-types.generated.json", args: ["types"] },
  { path: "test/fixtures/go-oracle.generated.json", args: ["oracle"] },
  { path: "test/fixtures/go-quantities.generated.json", args: ["quantities"] },
  {
    path: "test/fixtures/go-roundtrip.generated.json",
    args: ["roundtrip"],
    stdin: "scripts/gotypes/testdata/roundtrip-inputs.json",
  },
  { path: "src/webhooks/scheme-kinds.generated.json", args: ["schemekinds"] },
];

/** Whether a `go` command is on the PATH. */
export function goAvailable(): boolean {
  try {
    execFileSync("go", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** Runs the Go program for one artifact (needs Go; the module cache may download k8s.io/api once). */
export function renderGoArtifact(a: (typeof GoArtifacts)[number]): string {
  return execFileSync("go", ["run", ".", ...a.args], {
    cwd: dir,
    input: a.stdin ? readFileSync(join(root, a.stdin)) : "",
    maxBuffer: 64 * 1024 * 1024,
  }).toString();
}
