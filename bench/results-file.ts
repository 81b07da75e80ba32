// The ending shared by the benchmarks that check a few figures against a thresholds file (gang, ui,
// in-place-restart): write the results with their checks to bench/results/NAME.local.json (and, with
// --reference, to the committed NAME.json), log one ok/FAIL line per check, and return the exit code.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const resultsDir = join(dirname(fileURLToPath(import.meta.url)), "results");

export interface Check {
  name: string;
  value: number;
  max: number;
}

export function writeChecked(
  name: string,
  results: object,
  checks: readonly Check[],
  o: { reference: boolean; stdout?: boolean; log: (line: string) => void },
): number {
  const checked = checks.map((c) => ({ ...c, ok: c.value <= c.max }));
  mkdirSync(resultsDir, { recursive: true });
  const text = `${JSON.stringify({ ...results, checks: checked }, null, 2)}\n`;
  writeFileSync(join(resultsDir, `${name}.local.json`), text);
  if (o.reference) writeFileSync(join(resultsDir, `${name}.json`), text);
  if (o.stdout) process.stdout.write(text);
  for (const c of checked) o.log(`${c.ok ? "ok  " : "FAIL"} ${c.name}: ${c.value} (max ${c.max})`);
  return checked.every((c) => c.ok) ? 0 : 1;
}
