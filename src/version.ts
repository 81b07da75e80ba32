// The version of this build: `version` from package.json, the source commit stamped by the build
// (scripts/build.ts writes dist/src/build-info.json from $JOBSET_COMMIT — the Dockerfile's COMMIT build
// arg — or `git rev-parse HEAD`); running from a git checkout, the checkout's HEAD (read from .git, no
// subprocess); else "unknown".
// Also the user agent of the API client (spec §9.4):
// `jobset/<version without -suffix> (<GOOS>/<GOARCH>) <7-char commit>`.
import { readFileSync } from "node:fs";
import pkg from "../package.json" with { type: "json" };

export interface BuildInfo {
  version: string;
  /** Full commit hash, or "unknown". */
  commit: string;
  /** RFC 3339 build time, or "unknown". */
  buildDate: string;
}

/** The file the build writes next to the emitted version.js. */
export const BuildInfoFile = "build-info.json";

function stamped(): Partial<BuildInfo> {
  try {
    const raw: unknown = JSON.parse(readFileSync(new URL(`./${BuildInfoFile}`, import.meta.url), "utf8"));
    if (raw === null || typeof raw !== "object") return {};
    const o = raw as Record<string, unknown>;
    const out: Partial<BuildInfo> = {};
    if (typeof o.commit === "string" && o.commit !== "") out.commit = o.commit;
    if (typeof o.buildDate === "string" && o.buildDate !== "") out.buildDate = o.buildDate;
    return out;
  } catch {
    return {};
  }
}

/** The commit of the git checkout these sources run from (HEAD, a branch ref or packed-refs), if any. */
export function checkoutCommit(gitDir: URL = new URL("../.git/", import.meta.url)): string | undefined {
  const isHash = (v: string | undefined): v is string => v !== undefined && /^[0-9a-f]{40}$/.test(v);
  try {
    const head = readFileSync(new URL("HEAD", gitDir), "utf8").trim();
    if (isHash(head)) return head;
    const ref = /^ref: (refs\/\S+)$/.exec(head)?.[1];
    if (!ref) return undefined;
    try {
      const direct = readFileSync(new URL(ref, gitDir), "utf8").trim();
      if (isHash(direct)) return direct;
    } catch {
      // not a loose ref: look in packed-refs
    }
    const packed = readFileSync(new URL("packed-refs", gitDir), "utf8");
    const line = packed.split("\n").find((l) => l.endsWith(` ${ref}`));
    const hash = line?.split(" ")[0];
    return isHash(hash) ? hash : undefined;
  } catch {
    return undefined;
  }
}

const s = stamped();

export const buildInfo: Readonly<BuildInfo> = Object.freeze({
  version: pkg.version,
  commit: s.commit ?? checkoutCommit() ?? "unknown",
  buildDate: s.buildDate ?? "unknown",
});

/** Go's GOOS/GOARCH names for this process's platform. */
export function goPlatform(platform: string = process.platform, arch: string = process.arch): string {
  const os = platform === "win32" ? "windows" : platform;
  const goArch: Record<string, string> = { x64: "amd64", ia32: "386", arm: "arm", arm64: "arm64" };
  return `${os}/${goArch[arch] ?? arch}`;
}

/** `jobset/0.1.0 (linux/amd64) abcdef1` — client-go's default user agent shape, as upstream sets it. */
export function userAgent(info: BuildInfo = buildInfo, platform: string = goPlatform()): string {
  const version = info.version.split("-")[0] || "unknown";
  const commit = info.commit && info.commit !== "unknown" ? info.commit.slice(0, 7) : "unknown";
  return `jobset/${version} (${platform}) ${commit}`;
}
