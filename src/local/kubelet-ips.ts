// Pod IPs for the fake kubelet: unique addresses from 127.244.0.0/16 (loopback: nothing ever dials out
// of the machine).
export class IpPool {
  private readonly used = new Set<string>();
  private cursor = Math.floor(Math.random() * 60_000);

  take(): string {
    for (let n = 0; n < 65_536; n++) {
      this.cursor = (this.cursor + 1) % 65_536;
      const hi = this.cursor >> 8;
      const lo = this.cursor & 255;
      if (lo === 0 || lo === 255) continue;
      const ip = `127.244.${hi}.${lo}`;
      if (!this.used.has(ip)) {
        this.used.add(ip);
        return ip;
      }
    }
    throw new Error("fake kubelet: pod IP range 127.244.0.0/16 exhausted");
  }

  claim(ip: string): void {
    this.used.add(ip);
  }

  release(ip: string): void {
    this.used.delete(ip);
  }
}

/**
 * Set in the environment of every process the exec runtime starts: the pod's IP, the address its
 * servers should listen on (all pods share this machine's ports; each owns its 127.244.x.y address,
 * which the kubelet's httpGet and tcpSocket probes dial).
 */
export const LocalPodIPEnv = "JOBSET_LOCAL_POD_IP";
