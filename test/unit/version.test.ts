import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { pathToFileURL } from "node:url";
import { checkoutCommit, goPlatform, userAgent } from "../../src/version.ts";

const A = "a".repeat(40);
const B = "b".repeat(40);

describe("checkoutCommit: the commit of the checkout the sources run from", () => {
  const root = mkdtempSync(join(tmpdir(), "jobset-version-"));
  after(() => rmSync(root, { recursive: true, force: true }));
  const gitDir = (name: string, files: Record<string, string>): URL => {
    const dir = join(root, name);
    for (const [f, content] of Object.entries(files)) {
      mkdirSync(join(dir, f, ".."), { recursive: true });
      writeFileSync(join(dir, f), content);
    }
    return pathToFileURL(`${dir}/`);
  };
  const cases: [string, Record<string, string>, string | undefined][] = [
    ["detached HEAD", { HEAD: `${A}\n` }, A],
    ["branch, loose ref", { HEAD: "ref: refs/heads/main\n", "refs/heads/main": `${B}\n` }, B],
    [
      "branch, packed ref",
      {
        HEAD: "ref: refs/heads/main\n",
        "packed-refs": `# pack-refs with: peeled\n${A} refs/heads/other\n${B} refs/heads/main\n`,
      },
      B,
    ],
    ["branch without commits", { HEAD: "ref: refs/heads/main\n" }, undefined],
    ["garbage HEAD", { HEAD: "not a ref\n" }, undefined],
    ["no .git", {}, undefined],
  ];
  for (const [name, files, want] of cases) test(name, () => assert.equal(checkoutCommit(gitDir(name, files)), want));
});

describe("userAgent: client-go's shape, as upstream sets it", () => {
  test("version without suffix, Go platform names, 7-char commit", () => {
    assert.equal(
      userAgent({ version: "0.2.0-rc.1", commit: A, buildDate: "unknown" }, goPlatform("linux", "x64")),
      "jobset/0.2.0 (linux/amd64) aaaaaaa",
    );
  });
  test("unknown commit", () => {
    assert.equal(
      userAgent({ version: "0.1.0", commit: "unknown", buildDate: "unknown" }, goPlatform("darwin", "arm64")),
      "jobset/0.1.0 (darwin/arm64) unknown",
    );
  });
});
