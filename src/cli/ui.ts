// `jobset ui`: a local web view of the cluster's JobSets (src/ui/server.ts), until Ctrl-C.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { isLoopback } from "../ui/security.ts";
import { CliError, clusterOptions, connect, explain, explainNotFound } from "./cluster.ts";
import { UsageError } from "./usage.ts";

const help = `Usage: jobset ui [flags]

Serves a web view of the JobSets of your cluster: a live list, and per JobSet its timeline (Jobs and pods
over time, restart attempts, failures, conditions and events), its tree and its pods' logs. It reads
through your kubeconfig and only lists and watches; it writes nothing, except a JobSet suspend, resume or
delete you confirm in the page. Prints the URL, serves until Ctrl-C.

Flags:
      --address ADDR         address to listen on (default 127.0.0.1). Any non-loopback address needs
                             the access token (in the printed URL) and serves HTTPS
  -p, --port N               port (default: a free one)
      --tls-cert FILE        TLS certificate (PEM) for a non-loopback address (default: a throwaway
                             self-signed one whose fingerprint is printed)
      --tls-key FILE         its private key (PEM)
      --require-token        require the access token on loopback too
  -A, --all-namespaces       watch every namespace (the default unless -n is given)
      --kubeconfig PATH      kubeconfig file (default: $KUBECONFIG, the running \`jobset up\` cluster, ~/.kube/config)
      --context NAME         kubeconfig context to use
  -n, --namespace NS         watch this namespace only
  -h, --help                 show this help
`;

export async function ui(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: false,
    options: {
      ...clusterOptions,
      address: { type: "string" },
      port: { type: "string", short: "p" },
      "tls-cert": { type: "string" },
      "tls-key": { type: "string" },
      "require-token": { type: "boolean" },
      "all-namespaces": { type: "boolean", short: "A" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(help);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError("takes no arguments");
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError("--port wants a number from 0 to 65535");
  if ((values["tls-cert"] === undefined) !== (values["tls-key"] === undefined))
    throw new UsageError("--tls-cert and --tls-key go together");
  if (values["all-namespaces"] && values.namespace)
    throw new UsageError("--all-namespaces and --namespace exclude each other");
  const address = values.address ?? "127.0.0.1";
  let tls: { cert: string; key: string } | undefined;
  if (values["tls-cert"] && values["tls-key"]) {
    try {
      tls = { cert: readFileSync(values["tls-cert"], "utf8"), key: readFileSync(values["tls-key"], "utf8") };
    } catch (e) {
      throw new CliError(`cannot read the TLS files: ${(e as Error).message}`);
    }
  }

  const { client } = await connect(values);
  const { startUiServer } = await import("../ui/server.ts");
  const ctl = new AbortController();
  const onSignal = () => ctl.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  let server: Awaited<ReturnType<typeof startUiServer>>;
  try {
    server = await startUiServer({
      client,
      host: address,
      port,
      ...(values.namespace ? { namespace: values.namespace } : {}),
      ...(tls ? { tls } : {}),
      requireToken: values["require-token"] === true,
    });
  } catch (e) {
    await client.close();
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE") throw new CliError(`port ${port} is in use: pick another with --port, or 0 for any`);
    if (code === "EADDRNOTAVAIL") throw new CliError(`${address} is not an address of this machine: check --address`);
    throw explainNotFound(explain(e, client.server), "JobSets");
  }
  process.stderr.write(
    `JobSet UI of the cluster at ${client.server} (${values.namespace ? `namespace ${values.namespace}` : "all namespaces"})\n`,
  );
  if (!isLoopback(address))
    process.stderr.write(
      `Listening on ${address}: anyone who can reach it and has the token in this URL can see your JobSets and their logs.\n`,
    );
  if (server.fingerprint && !tls)
    process.stderr.write(`Self-signed certificate, SHA-256 fingerprint ${server.fingerprint}\n`);
  process.stdout.write(`${server.url}\n`);
  process.stderr.write("Press Ctrl-C to stop.\n");
  await new Promise<void>((resolve) => ctl.signal.addEventListener("abort", () => resolve(), { once: true }));
  process.off("SIGINT", onSignal);
  process.off("SIGTERM", onSignal);
  await server.close();
  await client.close();
  return 0;
}
