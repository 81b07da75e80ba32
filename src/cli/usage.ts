import { FeatureGateError, type FeatureGates, parseFeatureGates, parseFeatureGatesFlag } from "../api/features.ts";

// Errors of command-line usage (bad flags, missing arguments): the CLI prints them with the command's
// usage and exits with code 2.
export class UsageError extends Error {
  override name = "UsageError";
}

/** The `--feature-gates Name=true,...` flag of the offline commands; a bad value is a usage error. */
export function featureGatesFlag(value: string | undefined): FeatureGates {
  try {
    return parseFeatureGates(parseFeatureGatesFlag(value ?? ""));
  } catch (err) {
    if (err instanceof FeatureGateError) throw new UsageError(`--feature-gates: ${err.message}`);
    throw err;
  }
}
