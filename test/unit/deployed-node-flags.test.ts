import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { deployedEntrypoint, parseEntrypoint } from "../../bench/deployed-node-flags.ts";

describe("the controller's Node flags, from the Dockerfile's ENTRYPOINT", () => {
  test("none: the script and its arguments", () => {
    assert.deepEqual(parseEntrypoint('FROM x\nENTRYPOINT ["node", "/app/dist/bundle/jobset.js", "controller"]\n'), {
      nodeFlags: [],
      script: "/app/dist/bundle/jobset.js",
      args: ["controller"],
    });
  });

  test("everything between node and the script, in order", () => {
    const e = parseEntrypoint(
      'ENTRYPOINT ["node", "--max-semi-space-size=8", "--no-opt", "/app/dist/bundle/jobset.js", "controller", "--x"]',
    );
    assert.deepEqual(e.nodeFlags, ["--max-semi-space-size=8", "--no-opt"]);
    assert.equal(e.script, "/app/dist/bundle/jobset.js");
    assert.deepEqual(e.args, ["controller", "--x"]);
  });

  test("the last ENTRYPOINT counts; continuation lines and comments are read as Docker reads them", () => {
    const text = [
      "FROM a AS build",
      'ENTRYPOINT ["node", "/build.js"]',
      "FROM b",
      '# ENTRYPOINT ["node", "--commented-out", "/x.js"]',
      'entrypoint ["node", \\',
      '    "--stack-size=2000", \\',
      '    "/app/dist/bundle/jobset.js", "controller"]',
      "",
    ].join("\n");
    assert.deepEqual(parseEntrypoint(text).nodeFlags, ["--stack-size=2000"]);
  });

  test("refuses what it cannot read: no ENTRYPOINT, shell form, not node, no script", () => {
    assert.throws(() => parseEntrypoint("FROM x\n"), /no ENTRYPOINT/);
    assert.throws(() => parseEntrypoint("ENTRYPOINT node /app/x.js"), /exec form/);
    assert.throws(() => parseEntrypoint('ENTRYPOINT ["tini", "node", "/x.js"]'), /does not run node/);
    assert.throws(() => parseEntrypoint('ENTRYPOINT ["node", "--no-opt"]'), /no script/);
    assert.throws(() => parseEntrypoint('ENTRYPOINT ["node", 1]'), /array of strings/);
  });

  test("the project's Dockerfile: the bundle's controller", () => {
    const e = deployedEntrypoint();
    assert.equal(e.script, "/app/dist/bundle/jobset.js");
    assert.deepEqual(e.args, ["controller"]);
  });
});
