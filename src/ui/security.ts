// The UI server's access rules, pure: loopback addresses, the access token (constant-time compare), the
// Host check that defeats DNS rebinding on loopback, and the same-origin + CSRF check of actions.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { isIP } from "node:net";

/** True for 127.0.0.0/8, ::1 and the IPv4-mapped loopback, and for "localhost". */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  if (h === "localhost" || h === "::1" || h === "0:0:0:0:0:0:0:1") return true;
  const v4 = h.startsWith("::ffff:") ? h.slice(7) : h;
  return isIP(v4) === 4 && v4.startsWith("127.");
}

/** A fresh random token (URL-safe, 32 bytes of entropy). */
export const newToken = (): string => randomBytes(32).toString("base64url");

/** Compares a presented secret with the expected one in constant time (hashes first: equal lengths). */
export function sameSecret(presented: string | undefined, expected: string): boolean {
  if (presented === undefined) return false;
  const a = createHash("sha256").update(presented).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b);
}

/** The token a request presents: `Authorization: Bearer …`, else the `jobset-ui-token` cookie. */
export function presentedToken(headers: { authorization?: string | undefined; cookie?: string | undefined }) {
  const auth = headers.authorization;
  if (auth?.startsWith("Bearer ")) return auth.slice(7).trim();
  for (const part of (headers.cookie ?? "").split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === TokenCookie) return decodeURIComponent(v.join("="));
  }
  return undefined;
}

export const TokenCookie = "jobset-ui-token";

/**
 * Whether a Host header names this server. On loopback only 127.0.0.1/localhost/[::1] with our port
 * pass: a web page that rebinds its own DNS name to 127.0.0.1 sends its own name and is refused.
 */
export function hostAllowed(host: string | undefined, port: number, loopback: boolean): boolean {
  if (!host) return false;
  if (!loopback) return true; // the token guards non-loopback servers
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(host);
  if (!m) return false;
  return isLoopback(m[1] ?? "") && Number(m[2] ?? 80) === port;
}

export interface ActionRequestHeaders {
  origin?: string | undefined;
  host?: string | undefined;
  "sec-fetch-site"?: string | undefined;
  "content-type"?: string | undefined;
  "x-jobset-ui-csrf"?: string | undefined;
}

/**
 * Checks a state-changing request: JSON body (a cross-site form cannot send it without a preflight),
 * Origin equal to this server's, Sec-Fetch-Site same-origin when the browser sends it, and the CSRF
 * token of the page. Returns the reason it is refused, or undefined.
 */
export function actionRefusal(h: ActionRequestHeaders, scheme: "http" | "https", csrf: string): string | undefined {
  if (!(h["content-type"] ?? "").toLowerCase().startsWith("application/json")) return "the body must be JSON";
  if (!h.origin || h.origin !== `${scheme}://${h.host ?? ""}`) return "cross-origin request refused";
  const site = h["sec-fetch-site"];
  if (site !== undefined && site !== "same-origin") return "cross-site request refused";
  if (!sameSecret(h["x-jobset-ui-csrf"], csrf)) return "missing or wrong CSRF token: reload the page";
  return undefined;
}
