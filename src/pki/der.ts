// A minimal ASN.1 DER writer (and the one reader X.509 needs: the children of a SEQUENCE), enough to
// encode X.509 v3 certificates with node:crypto signing them. See docs/adr/0002-local-pki.md.
import { isIPv4, isIPv6 } from "node:net";

function len(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** A TLV: one tag byte, the DER length, the concatenated content. */
export function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), len(body.length), body]);
}
export const seq = (...c: Buffer[]): Buffer => tlv(0x30, ...c);
export const set = (...c: Buffer[]): Buffer => tlv(0x31, ...c);
/** An explicit context-specific tag `[n]`. */
export const explicit = (n: number, ...c: Buffer[]): Buffer => tlv(0xa0 | n, ...c);
export const octets = (b: Buffer): Buffer => tlv(0x04, b);
export const utf8 = (s: string): Buffer => tlv(0x0c, Buffer.from(s, "utf8"));
export const bool = (v: boolean): Buffer => tlv(0x01, Buffer.from([v ? 0xff : 0]));
export const nul = (): Buffer => Buffer.from([0x05, 0x00]);
/** A BIT STRING holding whole bytes (no unused bits): public keys, signatures. */
export const bits = (b: Buffer): Buffer => tlv(0x03, Buffer.from([0]), b);

/** A non-negative INTEGER from big-endian bytes, minimally encoded. */
export function uint(b: Buffer): Buffer {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  let v = b.subarray(i);
  if ((v[0] ?? 0) & 0x80) v = Buffer.concat([Buffer.from([0]), v]);
  return tlv(0x02, v);
}

export function oid(dotted: string): Buffer {
  const arcs = dotted.split(".").map(Number);
  const out: number[] = [40 * (arcs[0] ?? 0) + (arcs[1] ?? 0)];
  for (const arc of arcs.slice(2)) {
    const b: number[] = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) b.unshift(0x80 | (v & 0x7f));
    out.push(...b);
  }
  return tlv(0x06, Buffer.from(out));
}

/** UTCTime before 2050, GeneralizedTime after (RFC 5280 4.1.2.5). */
export function time(d: Date): Buffer {
  const p = (n: number) => String(n).padStart(2, "0");
  const rest = `${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
  const y = d.getUTCFullYear();
  return y < 2050
    ? tlv(0x17, Buffer.from(`${p(y % 100)}${rest}`, "ascii"))
    : tlv(0x18, Buffer.from(`${y}${rest}`, "ascii"));
}

/** A BIT STRING of named bits (bit 0 = most significant), trailing zero bits dropped as DER requires. */
export function namedBits(byte: number): Buffer {
  let unused = 0;
  while (unused < 8 && !(byte & (1 << unused))) unused++;
  return tlv(0x03, Buffer.from([unused === 8 ? 0 : unused, byte]));
}

/** The 4 or 16 bytes of an IPv4 or IPv6 address (for an iPAddress SAN). */
export function ipBytes(ip: string): Buffer {
  if (isIPv4(ip)) return Buffer.from(ip.split(".").map(Number));
  if (!isIPv6(ip)) throw new Error(`not an IP address: ${ip}`);
  const [head = "", tail = ""] = ip.split("::");
  const h = head ? head.split(":") : [];
  const t = ip.includes("::") && tail ? tail.split(":") : [];
  const groups = ip.includes("::") ? [...h, ...Array(8 - h.length - t.length).fill("0"), ...t] : h;
  const b = Buffer.alloc(16);
  for (const [i, g] of groups.entries()) b.writeUInt16BE(Number.parseInt(g, 16), i * 2);
  return b;
}

export interface Span {
  start: number;
  end: number;
}

/** The byte spans of the elements inside the constructed TLV (SEQUENCE, SET) that starts at `at`. */
export function children(buf: Buffer, at: number): Span[] {
  const header = (p: number) => {
    const l0 = buf[p + 1] ?? 0;
    if (l0 < 0x80) return { hdr: 2, length: l0 };
    const n = l0 & 0x7f;
    let length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + (buf[p + 2 + i] ?? 0);
    return { hdr: 2 + n, length };
  };
  const out: Span[] = [];
  const outer = header(at);
  let p = at + outer.hdr;
  const end = Math.min(p + outer.length, buf.length);
  while (p < end) {
    const h = header(p);
    out.push({ start: p, end: p + h.hdr + h.length });
    p += h.hdr + h.length;
  }
  return out;
}
