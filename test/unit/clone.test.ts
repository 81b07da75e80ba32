import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { cloneJSON } from "../../src/api/clone.ts";

describe("cloneJSON: deep copies of JSON values", () => {
  test("a copy equal to the value and sharing nothing with it", () => {
    const v = { a: 1, b: "x", c: null, d: [1, { e: true }], f: { g: { h: [] as unknown[] } } };
    const c = cloneJSON(v);
    assert.deepEqual(c, v);
    assert.notEqual(c, v);
    assert.notEqual(c.d, v.d);
    assert.notEqual(c.d[1], v.d[1]);
    assert.notEqual(c.f.g, v.f.g);
    (c.f.g.h as unknown[]).push(1);
    assert.deepEqual(v.f.g.h, []);
  });

  test("a key named __proto__ stays an own property of the copy, not its prototype", () => {
    const v = JSON.parse('{"__proto__": {"polluted": true}, "x": 1}') as Record<string, unknown>;
    const c = cloneJSON(v);
    assert.equal(Object.getPrototypeOf(c), Object.prototype);
    assert.deepEqual(Object.keys(c), ["__proto__", "x"]);
    assert.deepEqual(Object.getOwnPropertyDescriptor(c, "__proto__")?.value, { polluted: true });
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  test("scalars are returned as they are; other objects are structured-cloned", () => {
    assert.equal(cloneJSON(5), 5);
    assert.equal(cloneJSON("s"), "s");
    assert.equal(cloneJSON(null), null);
    const d = new Date(0);
    const c = cloneJSON({ d });
    assert.notEqual(c.d, d);
    assert.equal(c.d.getTime(), 0);
  });
});
