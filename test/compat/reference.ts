// Where the upstream reference data lives: `../shared` beside the project checkout (CI provides it;
// a plain clone does not have it). Only the compatibility suite and the test runner use this file.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** Upstream JobSet's CRD and example JobSets, kept as oracles (never copied into the project). */
export const referenceDir = fileURLToPath(new URL("../../../shared/reference", import.meta.url));
/** The structural CRD comparison tool that goes with the reference data. */
export const crdCompareTool = fileURLToPath(new URL("../../../shared/tools/crd-compare.mjs", import.meta.url));

export function referenceAvailable(): boolean {
  return existsSync(referenceDir) && existsSync(crdCompareTool);
}

/** The one line `npm test` prints instead of running this suite on a clone without the reference. */
export const notAvailableLine =
  `compat: upstream compatibility checks not run: no upstream reference at ${referenceDir} ` +
  "(CI has it; put kubernetes-sigs/jobset reference data in ../shared to run them locally)";

/** Fails loudly when a compat test file is run directly without the reference. */
export function requireReference(): string {
  if (!referenceAvailable()) throw new Error(notAvailableLine);
  return referenceDir;
}
