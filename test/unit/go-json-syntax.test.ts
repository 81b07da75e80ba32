// src/webhooks/go-json-syntax.ts: encoding/json's syntax errors, as Go prints them (each expected text below
// was printed by Go's json.Unmarshal). test/compat/upstream-webhook.test.ts checks the same through upstream's
// webhook server.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { goJsonSyntaxError } from "../../src/webhooks/go-json-syntax.ts";

const cases: [string, string | undefined][] = [
  ["{nope", "invalid character 'n' looking for beginning of object key string"],
  ["{", "unexpected end of JSON input"],
  ['{"a":}', "invalid character '}' looking for beginning of value"],
  ['{"a" 1}', "invalid character '1' after object key"],
  ['{"a":1 "b":2}', `invalid character '"' after object key:value pair`],
  ['{"a":[1 2]}', "invalid character '2' after array element"],
  ['{"a":1}x', "invalid character 'x' after top-level value"],
  ['{"a":tru}', "invalid character '}' in literal true (expecting 'e')"],
  ['{"a":tr', "invalid character ' ' in literal true (expecting 'u')"],
  ['{"a":-', "invalid character ' ' in numeric literal"],
  ['{"a":1', "unexpected end of JSON input"],
  ['{"a":"x', "unexpected end of JSON input"],
  ['{"a":01}', "invalid character '1' after object key:value pair"],
  ['{"a":1.}', "invalid character '}' after decimal point in numeric literal"],
  ['{"a":1e}', "invalid character '}' in exponent of numeric literal"],
  ['{"é":1}x', "invalid character 'x' after top-level value"],
  ['{"a":"\u0001"}', "invalid character '\\x01' in string literal"],
  ['{"a":"\\q"}', "invalid character 'q' in string escape code"],
  ['{"a":"\\u12g4"}', "invalid character 'g' in \\u hexadecimal character escape"],
  ['{"a":1}', undefined],
  [' {"a": [1, {"b": null}], "c": -0.5e+3} ', undefined],
];

describe("encoding/json syntax errors", () => {
  for (const [input, want] of cases) {
    test(`${JSON.stringify(input)} → ${want ?? "valid"}`, () => {
      assert.equal(goJsonSyntaxError(input), want);
    });
  }
});
