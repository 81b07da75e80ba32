import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { microTime, rfc3339, rfc3339Nano } from "../../src/api/time.ts";

const t = Date.parse("2026-01-02T03:04:05.120Z");

describe("Kubernetes time formats (src/api/time.ts)", () => {
  test("rfc3339: whole seconds, UTC, Z; a Date or epoch ms", () => {
    assert.equal(rfc3339(t), "2026-01-02T03:04:05Z");
    assert.equal(rfc3339(new Date(t)), "2026-01-02T03:04:05Z");
    assert.equal(rfc3339(Date.parse("2026-01-02T03:04:05.999Z")), "2026-01-02T03:04:05Z", "truncated, not rounded");
  });
  test("microTime: exactly six fraction digits; sub-millisecond fractions kept", () => {
    assert.equal(microTime(t), "2026-01-02T03:04:05.120000Z");
    assert.equal(microTime(new Date(t)), "2026-01-02T03:04:05.120000Z");
    assert.equal(microTime(t + 0.456), "2026-01-02T03:04:05.120456Z");
    assert.equal(microTime(Date.parse("2026-01-02T03:04:05Z")), "2026-01-02T03:04:05.000000Z");
  });
  test("rfc3339Nano: trailing zeros of the fraction dropped, as Go prints it", () => {
    assert.equal(rfc3339Nano(t), "2026-01-02T03:04:05.12Z");
    assert.equal(rfc3339Nano(Date.parse("2026-01-01T00:00:00.000Z")), "2026-01-01T00:00:00Z");
    assert.equal(rfc3339Nano(Date.parse("2026-01-01T00:00:00.007Z")), "2026-01-01T00:00:00.007Z");
  });
});
