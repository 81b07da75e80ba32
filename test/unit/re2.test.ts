// RE2 for onJobFailureMessagePatterns, against answers computed by Go's regexp package
// (scripts/gotypes, regenerate with npm run generate): every pattern compiles or fails as in
// Go, with Go's error text, and every match agrees with Go's MatchString.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { compileRe2 } from "../../src/api/re2.ts";
import type { FailurePolicyRule } from "../../src/api/types.ts";
import { ruleMatches } from "../../src/controller/failure-policy.ts";
import { job } from "../builders.ts";

interface Re2Case {
  pattern: string;
  error: string | null;
  matches: { input: string; match: boolean }[];
}

const oracle = JSON.parse(readFileSync(new URL("../fixtures/go-oracle.generated.json", import.meta.url), "utf8")) as {
  re2: Re2Case[];
};

describe("RE2 patterns agree with Go's regexp", () => {
  test("the table covers valid and invalid patterns", () => {
    assert.ok(oracle.re2.filter((c) => c.error === null).length >= 40);
    assert.ok(oracle.re2.filter((c) => c.error !== null).length >= 20);
  });
  for (const c of oracle.re2) {
    test(`${JSON.stringify(c.pattern)} ${c.error === null ? "compiles" : "is refused"}`, () => {
      const compiled = compileRe2(c.pattern);
      if (c.error !== null) {
        assert.equal(compiled.ok, false);
        assert.equal(compiled.ok ? "" : compiled.error, c.error);
        return;
      }
      assert.ok(compiled.ok, compiled.ok ? "" : compiled.error);
      const got = c.matches.map((m) => ({ input: m.input, match: compiled.re.test(m.input) }));
      assert.deepEqual(got, c.matches);
    });
  }
});

describe("ruleMatches uses RE2", () => {
  const failedJob = job("js-w-0").replicatedJobName("w").obj();
  const condition = { type: "Failed", status: "True", reason: "BackoffLimitExceeded", message: "Pod exit code 42\n" };
  const rule = (patterns: string[]): FailurePolicyRule => ({
    name: "r",
    action: "FailJobSet",
    onJobFailureMessagePatterns: patterns,
  });

  test("RE2-only syntax that JavaScript RegExp lacks matches as in Go", () => {
    assert.equal(ruleMatches(rule(["^[[:alpha:]]+ \\pL+ code \\d+\n\\z"]), failedJob, condition), true);
    assert.equal(ruleMatches(rule(["(?U)exit.+2"]), failedJob, condition), true);
    assert.equal(ruleMatches(rule(["42\\z"]), failedJob, condition), false);
  });

  test("an invalid pattern never matches and the log carries Go's error", () => {
    const log: string[] = [];
    assert.equal(ruleMatches(rule(["(?<=exit) code"]), failedJob, condition, log), false);
    assert.deepEqual(log, [
      'invalid onJobFailureMessagePatterns entry "(?<=exit) code" in rule r (error parsing regexp: invalid named capture: `(?<=exit) code`); not matching',
    ]);
  });
});
