// `jobset version`: the version, commit and build date stamped into this build, and the runtime.
import { parseArgs } from "node:util";
import { buildInfo, goPlatform } from "../version.ts";
import { UsageError } from "./usage.ts";

const help = `Usage: jobset version [flags]

Prints the version of jobset, the source commit and build date stamped at build time ("unknown" when
running from the sources), the Node.js version and the platform.

Flags:
  -o, --output FORMAT   text (default) or json
  -h, --help            show this help
`;

export async function version(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { output: { type: "string", short: "o", default: "text" }, help: { type: "boolean", short: "h" } },
    allowPositionals: true,
  });
  if (values.help) {
    process.stdout.write(help);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const info = { ...buildInfo, node: process.version, platform: goPlatform() };
  if (values.output === "json") {
    process.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
  } else if (values.output === "text") {
    process.stdout.write(
      `jobset ${info.version}\ncommit: ${info.commit}\nbuilt: ${info.buildDate}\nnode: ${info.node}\nplatform: ${info.platform}\n`,
    );
  } else {
    throw new UsageError(`unknown output format "${values.output}" (text or json)`);
  }
  return 0;
}
