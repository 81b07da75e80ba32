// Errors the CLI prints as one line (no stack). In their own module so that commands which never talk
// to a cluster (`jobset down`) do not load the API client through cluster.ts.

/** An error the CLI prints as its message alone (one line, no stack). */
export class CliError extends Error {
  override name = "CliError";
}

/** The first line of an error's message. */
export const firstLine = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split("\n")[0] ?? "";
