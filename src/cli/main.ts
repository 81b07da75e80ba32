// The `jobset` command: a table of subcommands, each in its own file (src/cli/<name>.ts). A subcommand's
// module is imported only when that subcommand runs, so `jobset version`, `lint` and `plan` never load
// the API client, the controller or the local cluster (start-up figures: bench/cli.bench.ts).
import { UsageError } from "./usage.ts";

type Run = (argv: string[]) => Promise<number>;

export interface Command {
  name: string;
  summary: string;
  /** Imports the subcommand's module and returns its entry point. */
  load(): Promise<Run>;
}

export const commands: Command[] = [
  {
    name: "lint",
    summary: "Check JobSet manifests as the API server and the JobSet webhooks would",
    load: async () => (await import("./lint.ts")).lint,
  },
  {
    name: "up",
    summary: "Start a local Kubernetes with the JobSet controller and webhooks",
    load: async () => (await import("./up.ts")).up,
  },
  {
    name: "down",
    summary: "Stop the local cluster started by `jobset up --detach`",
    load: async () => (await import("./down.ts")).down,
  },
  {
    name: "run",
    summary: "Create JobSets and follow them live until they finish",
    load: async () => (await import("./run.ts")).run,
  },
  {
    name: "get",
    summary: "List JobSets with their status columns",
    load: async () => (await import("./get.ts")).get,
  },
  {
    name: "describe",
    summary: "Show a JobSet's spec, status, conditions, Jobs and events",
    load: async () => (await import("./describe.ts")).describe,
  },
  {
    name: "tree",
    summary: "Show a JobSet's replicated jobs, Jobs and pods with their phases",
    load: async () => (await import("./tree.ts")).tree,
  },
  {
    name: "logs",
    summary: "Print the logs of a JobSet's pods",
    load: async () => (await import("./logs.ts")).logs,
  },
  {
    name: "ui",
    summary: "Serve a live web view of JobSets: list, timeline, tree, pod logs",
    load: async () => (await import("./ui.ts")).ui,
  },
  {
    name: "plan",
    summary: "Show the objects the controller creates for a JobSet on its first reconcile",
    load: async () => (await import("./plan.ts")).run,
  },
  {
    name: "controller",
    summary: "Run the JobSet controller manager (controllers, webhooks, leader election, metrics)",
    load: async () => (await import("./controller.ts")).controller,
  },
  {
    name: "agent",
    summary: "Run the in-place restart agent inside a JobSet pod (restartStrategy InPlaceRestart)",
    load: async () => (await import("../agent/command.ts")).agent,
  },
  {
    name: "version",
    summary: "Show the version, commit and build date of this build",
    load: async () => (await import("./version.ts")).version,
  },
];

export function usage(): string {
  const width = Math.max(...commands.map((c) => c.name.length), 4);
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return [
    "Usage: jobset <command> [flags] [args]",
    "",
    "Commands:",
    ...lines,
    `  ${"help".padEnd(width)}  Show this help`,
    "",
    'Run "jobset <command> --help" for the flags of a command.',
    "",
  ].join("\n");
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    process.stderr.write(usage());
    return 2;
  }
  if (name === "help" || name === "--help" || name === "-h") {
    const sub = commands.find((c) => c.name === rest[0]);
    if (sub) return runCommand(sub, ["--help"]);
    process.stdout.write(usage());
    return 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`jobset: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  return runCommand(command, rest);
}

async function runCommand(command: Command, argv: string[]): Promise<number> {
  try {
    const run = await command.load();
    return await run(argv);
  } catch (err) {
    if (err instanceof UsageError || isParseArgsError(err)) {
      process.stderr.write(`jobset ${command.name}: ${(err as Error).message}\n`);
      process.stderr.write(`Run "jobset ${command.name} --help" for usage.\n`);
      return 2;
    }
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`jobset ${command.name}: ${message.split("\n")[0]}\n`);
    return 1;
  }
}

function isParseArgsError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.startsWith("ERR_PARSE_ARGS_");
}
