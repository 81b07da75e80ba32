// The controller's Node flags as deployed, read from the one place that sets them: the container image's
// ENTRYPOINT (the Deployments of config/manager and charts/jobset give only `args`). The benchmark runs
// its controller process with these flags, so a flag added to the Dockerfile is what it measures.
//
//   ENTRYPOINT ["node", "--max-semi-space-size=8", "/app/dist/bundle/jobset.js", "controller"]
//                       └───────── flags ────────┘ └────────── script ─────────┘ └── args ──┘
//
// The flags are every element between "node" and the script, the first element that does not start
// with "-": a flag with a value is written as one element (`--flag=value`, not `--flag value`).
import { readFileSync } from "node:fs";

export interface Entrypoint {
  /** Node's command-line flags, in order. */
  nodeFlags: string[];
  /** The script Node runs (a path in the image). */
  script: string;
  /** The script's arguments. */
  args: string[];
}

/** The last ENTRYPOINT of a Dockerfile's text (the final stage's), in exec (JSON array) form, running node. */
export function parseEntrypoint(dockerfile: string): Entrypoint {
  // instructions as logical lines: continuation lines joined, comments dropped
  const lines: string[] = [];
  let cur = "";
  for (const raw of dockerfile.split("\n")) {
    const line = raw.trim();
    if (line.startsWith("#")) continue;
    if (line.endsWith("\\")) {
      cur += `${line.slice(0, -1)} `;
      continue;
    }
    if ((cur + line).trim()) lines.push((cur + line).trim());
    cur = "";
  }
  const entrypoints = lines.filter((l) => /^ENTRYPOINT\s/i.test(l));
  const last = entrypoints.at(-1);
  if (last === undefined) throw new Error("the Dockerfile has no ENTRYPOINT");
  let argv: unknown;
  try {
    argv = JSON.parse(last.replace(/^ENTRYPOINT\s+/i, ""));
  } catch {
    throw new Error(`ENTRYPOINT is not in exec form (a JSON array): ${last}`);
  }
  if (!Array.isArray(argv) || !argv.every((a): a is string => typeof a === "string"))
    throw new Error(`ENTRYPOINT is not a JSON array of strings: ${last}`);
  const [node, ...rest] = argv;
  if (node !== "node") throw new Error(`ENTRYPOINT does not run node: ${last}`);
  const i = rest.findIndex((a) => !a.startsWith("-"));
  if (i < 0) throw new Error(`ENTRYPOINT names no script: ${last}`);
  return { nodeFlags: rest.slice(0, i), script: rest[i] as string, args: rest.slice(i + 1) };
}

/** The entrypoint of the project's Dockerfile. */
export function deployedEntrypoint(dockerfile: URL = new URL("../Dockerfile", import.meta.url)): Entrypoint {
  return parseEntrypoint(readFileSync(dockerfile, "utf8"));
}
