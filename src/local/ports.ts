// Free loopback ports for the local control plane's components and for test servers.
import { readFileSync } from "node:fs";
import { createServer } from "node:net";

/**
 * A free TCP port on 127.0.0.1, chosen below the kernel's ephemeral range: outgoing connections take
 * their local ports from that range, so one could grab a server's port while the server restarts
 * (e.g. `restartApiServer`). Falls back to a kernel-assigned port when no range is known or nothing fits.
 */
export async function freePort(): Promise<number> {
  const [ephemeralLow] = ephemeralRange();
  const low = 10_000;
  const high = Math.min(ephemeralLow, 65_536) - 1;
  for (let attempt = 0; high > low && attempt < 50; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low + 1));
    if (await canListen(port)) return port;
  }
  return listenOnce(0);
}

function ephemeralRange(): [number, number] {
  try {
    const [lo, hi] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/).map(Number);
    if (lo && hi) return [lo, hi];
  } catch {
    // not Linux: keep the IANA dynamic range
  }
  return [49_152, 65_535];
}

const canListen = (port: number): Promise<boolean> =>
  listenOnce(port).then(
    () => true,
    () => false,
  );

/** Binds 127.0.0.1:`port` (0: any), then releases it; resolves with the bound port. */
function listenOnce(port: number): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.unref();
    s.on("error", rej);
    s.listen(port, "127.0.0.1", () => {
      const a = s.address();
      const bound = typeof a === "object" && a ? a.port : 0;
      s.close(() => res(bound));
    });
  });
}
