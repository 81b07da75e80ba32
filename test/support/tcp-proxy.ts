// A TCP proxy to the API server for connection-cut tests: TLS passes through untouched (the serving
// certificate is for 127.0.0.1, so a kubeconfig pointing at the proxy verifies as usual).
//
//   const proxy = await TcpProxy.start(new URL(cluster.server));
//   const kubeconfig = await proxy.kubeconfig(cluster.kubeconfigPath, dir);
//   proxy.blackhole();   // drop every open connection; accept new ones only to drop them (counted)
//   proxy.restore();     // proxy again
import { readFile, writeFile } from "node:fs/promises";
import { connect, createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";

export class TcpProxy {
  readonly port: number;
  /** Connections accepted and dropped while blackholed. */
  dropped = 0;
  /** Connections proxied. */
  accepted = 0;
  private readonly server: Server;
  private readonly open = new Set<Socket>();
  private dropping = false;

  private constructor(server: Server, port: number) {
    this.server = server;
    this.port = port;
  }

  static async start(target: { hostname: string; port: string }): Promise<TcpProxy> {
    const host = target.hostname.replace(/^\[|\]$/g, "");
    const port = Number(target.port);
    const box: { p?: TcpProxy } = {};
    const server = createServer((client) => {
      const p = box.p;
      if (!p || p.dropping) {
        if (p) p.dropped++;
        client.destroy();
        return;
      }
      p.accepted++;
      const upstream = connect({ host, port });
      for (const s of [client, upstream]) {
        p.open.add(s);
        s.on("close", () => p.open.delete(s));
        s.on("error", () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const addr = server.address();
    if (typeof addr !== "object" || !addr) throw new Error("proxy has no address");
    box.p = new TcpProxy(server, addr.port);
    return box.p;
  }

  /** Destroys every open connection (both sides). */
  cut(): void {
    for (const s of this.open) s.destroy();
    this.open.clear();
  }

  /** Cuts every connection and drops new ones until restore(). */
  blackhole(): void {
    this.dropping = true;
    this.cut();
  }

  restore(): void {
    this.dropping = false;
  }

  /** A copy of `kubeconfigPath` (in `dir`) whose server is this proxy. */
  async kubeconfig(kubeconfigPath: string, dir: string): Promise<string> {
    const text = await readFile(kubeconfigPath, "utf8");
    const out = text.replace(/server:\s*https:\/\/127\.0\.0\.1:\d+/g, `server: https://127.0.0.1:${this.port}`);
    if (out === text) throw new Error(`no https://127.0.0.1:PORT server in ${kubeconfigPath}`);
    const path = join(dir, `proxy-${this.port}.kubeconfig`);
    await writeFile(path, out);
    return path;
  }

  async stop(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
