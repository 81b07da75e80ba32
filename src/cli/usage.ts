// Errors of command-line usage (bad flags, missing arguments): the CLI prints them with the command's
// usage and exits with code 2.
export class UsageError extends Error {
  override name = "UsageError";
}
