import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import {
  duplicate,
  type FieldError,
  forbidden,
  formatFieldError,
  goJson,
  goQuote,
  internal,
  invalid,
  isDNS1035Label,
  isDNS1123Label,
  isDNS1123Subdomain,
  isDomainPrefixedPath,
  isQualifiedName,
  isValidLabelValue,
  notSupported,
  plain,
  required,
  tooLong,
  tooMany,
  toStatus,
} from "../../src/api/field-errors.ts";
import { GoValue } from "../../src/api/go-value.ts";

const dns1123Subdomain =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const dns1035 =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const dns1123Label =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const labelValue =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

describe("formatFieldError", () => {
  const rows: [string, FieldError, string][] = [
    [
      "string value quoted",
      invalid("spec.network.subdomain", "Foo", "bad"),
      'spec.network.subdomain: Invalid value: "Foo": bad',
    ],
    ["int plain", invalid("a.b", 3, "d"), "a.b: Invalid value: 3: d"],
    ["negative int", invalid("a.b", -1, "d"), "a.b: Invalid value: -1: d"],
    ["bool plain", invalid("a.b", true, "d"), "a.b: Invalid value: true: d"],
    ["nil pointer → null", invalid("a.b", undefined, "d"), "a.b: Invalid value: null: d"],
    ["null → null", invalid("a.b", null, "d"), "a.b: Invalid value: null: d"],
    [
      "no value key → value omitted (CEL rule false, as the API server prints it)",
      { type: "FieldValueInvalid", field: "spec", detail: "StartupPolicy and DependsOn APIs are mutually exclusive" },
      "spec: Invalid value: StartupPolicy and DependsOn APIs are mutually exclusive",
    ],
    ["object JSON", invalid("a", { x: 1, y: ["z"] }, "d"), 'a: Invalid value: {"x":1,"y":["z"]}: d'],
    ["list JSON", invalid("a", [{ name: "n" }], "d"), 'a: Invalid value: [{"name":"n"}]: d'],
    [
      "HTML chars escaped in JSON like Go",
      invalid("a", { s: "<&>" }, "d"),
      'a: Invalid value: {"s":"\\u003c\\u0026\\u003e"}: d',
    ],
    ["string with quote and newline", invalid("a", 'x"\n', "d"), 'a: Invalid value: "x\\"\\n": d'],
    [
      "required omits value",
      required("metadata.name", "name or generateName is required"),
      "metadata.name: Required value: name or generateName is required",
    ],
    ["required without detail", required("spec.managedBy"), "spec.managedBy: Required value"],
    ["forbidden omits value", forbidden("spec.x", "nope"), "spec.x: Forbidden: nope"],
    ["too long", tooLong("spec.managedBy", 63), "spec.managedBy: Too long: may not be more than 63 bytes"],
    ["too long 1 byte", tooLong("f", 1), "f: Too long: may not be more than 1 byte"],
    ["too many", tooMany("f", 6, 5), "f: Too many: 6: must have at most 5 items"],
    ["internal on path", internal("spec.v[0].template[1]", "boom"), "spec.v[0].template[1]: Internal error: boom"],
    [
      "plain error",
      plain("DependsOn can't be set for the first ReplicatedJob"),
      "<nil>: Internal error: DependsOn can't be set for the first ReplicatedJob",
    ],
    ["duplicate", duplicate("f", "x"), 'f: Duplicate value: "x"'],
    ["not supported", notSupported("f", "x", ["A", "B"]), 'f: Unsupported value: "x": supported values: "A", "B"'],
  ];
  for (const [name, e, want] of rows) test(name, () => assert.equal(formatFieldError(e), want));

  test("cause types are Kubernetes CauseType strings", () => {
    assert.equal(invalid("a", 1, "d").type, "FieldValueInvalid");
    assert.equal(required("a").type, "FieldValueRequired");
    assert.equal(forbidden("a", "d").type, "FieldValueForbidden");
    assert.equal(tooLong("a", 3).type, "FieldValueTooLong");
    assert.equal(plain("x").type, "InternalError");
    assert.equal(plain("x").field, "<nil>");
  });

  test("goQuote and goJson", () => {
    assert.equal(goQuote("a\tb\\"), '"a\\tb\\\\"');
    assert.equal(goQuote("\x01"), '"\\x01"');
    assert.equal(goQuote("héllo"), '"héllo"');
    assert.equal(goJson(undefined), "null");
    assert.equal(goJson("a\u2028"), '"a\\u2028"');
  });
});

describe("toStatus", () => {
  test("single error", () => {
    const s = toStatus("js", [plain("coordinator replicatedJob x does not exist")]);
    assert.deepEqual(s, {
      metadata: {},
      status: "Failure",
      message:
        'JobSet.jobset.x-k8s.io "js" is invalid: <nil>: Internal error: coordinator replicatedJob x does not exist',
      reason: "Invalid",
      details: {
        name: "js",
        group: "jobset.x-k8s.io",
        kind: "JobSet",
        causes: [
          {
            reason: "InternalError",
            message: "Internal error: coordinator replicatedJob x does not exist",
            field: "<nil>",
          },
        ],
      },
      code: 422,
    });
  });
  test("several errors: bracketed, duplicates removed from the message but kept as causes", () => {
    const e1 = invalid("spec.replicatedJobs[0].name", "x-", "m");
    const e2 = plain("p");
    const s = toStatus("", [e1, e2, e1]);
    assert.equal(
      s.message,
      'JobSet.jobset.x-k8s.io "" is invalid: [spec.replicatedJobs[0].name: Invalid value: "x-": m, <nil>: Internal error: p]',
    );
    assert.equal(s.details.causes.length, 3);
    assert.deepEqual(s.details.causes[0], {
      reason: "FieldValueInvalid",
      message: 'Invalid value: "x-": m',
      field: "spec.replicatedJobs[0].name",
    });
  });
  test("all duplicates: no brackets", () => {
    const s = toStatus("a", [plain("p"), plain("p")]);
    assert.equal(s.message, 'JobSet.jobset.x-k8s.io "a" is invalid: <nil>: Internal error: p');
  });
});

describe("Kubernetes name validators", () => {
  const rows: [string, (v: string) => string[], string, string[]][] = [
    ["dns1123 label ok", isDNS1123Label, "my-name", []],
    ["dns1123 label digits first ok", isDNS1123Label, "123-abc", []],
    ["dns1123 label bad", isDNS1123Label, "My", [dns1123Label]],
    ["dns1123 label too long", isDNS1123Label, "a".repeat(64), ["must be no more than 63 characters"]],
    ["dns1123 subdomain ok", isDNS1123Subdomain, "example.com", []],
    ["dns1123 subdomain bad", isDNS1123Subdomain, "Foo", [dns1123Subdomain]],
    ["dns1123 subdomain empty", isDNS1123Subdomain, "", [dns1123Subdomain]],
    ["dns1123 subdomain too long", isDNS1123Subdomain, "a".repeat(254), ["must be no more than 253 characters"]],
    ["dns1035 ok", isDNS1035Label, "abc-123", []],
    ["dns1035 digit first", isDNS1035Label, "1abc", [dns1035]],
    ["dns1035 too long and bad", isDNS1035Label, `${"a".repeat(63)}-`, ["must be no more than 63 characters", dns1035]],
    ["label value ok", isValidLabelValue, "My_value.1", []],
    ["label value empty ok", isValidLabelValue, "", []],
    ["label value bad", isValidLabelValue, "-x", [labelValue]],
    ["label value too long", isValidLabelValue, "a".repeat(64), ["must be no more than 63 bytes"]],
    ["qualified name ok", isQualifiedName, "example.com/My.name", []],
    ["qualified name empty prefix", isQualifiedName, "/x", ["prefix part must be non-empty"]],
    [
      "qualified name bad name",
      isQualifiedName,
      "x_",
      [
        "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
      ],
    ],
  ];
  for (const [name, fn, value, want] of rows) test(name, () => assert.deepEqual(fn(value), want));

  test("domain-prefixed path", () => {
    assert.deepEqual(isDomainPrefixedPath("spec.managedBy", "acme.io/foo"), []);
    assert.deepEqual(isDomainPrefixedPath("spec.managedBy", "").map(formatFieldError), [
      "spec.managedBy: Required value",
    ]);
    assert.deepEqual(isDomainPrefixedPath("spec.managedBy", "foo").map(formatFieldError), [
      'spec.managedBy: Invalid value: "foo": must be a domain-prefixed path (such as "acme.io/foo")',
    ]);
    assert.deepEqual(isDomainPrefixedPath("spec.managedBy", "acme.io/").map(formatFieldError), [
      'spec.managedBy: Invalid value: "acme.io/": must be a domain-prefixed path (such as "acme.io/foo")',
    ]);
    assert.deepEqual(isDomainPrefixedPath("spec.managedBy", "Acme.io/foo").map(formatFieldError), [
      `spec.managedBy: Invalid value: "Acme.io": ${dns1123Subdomain}`,
    ]);
    assert.deepEqual(isDomainPrefixedPath("spec.managedBy", "acme.io/f o").map(formatFieldError), [
      "spec.managedBy: Invalid value: \"f o\": Invalid path (regex used for validation is '[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+')",
    ]);
  });
});

describe("agrees with apimachinery v0.36.3 (answers computed by Go: scripts/gotypes)", () => {
  const oracle = JSON.parse(readFileSync(new URL("../fixtures/go-oracle.generated.json", import.meta.url), "utf8")) as {
    helpers: { name: string; output: string }[];
    status: { name: string; status: Record<string, unknown> }[];
  };
  const long = "a123456789a123456789a123456789a123456789a123456789a123456789abcd";
  const helper = (name: string): string => oracle.helpers.find((h) => h.name === name)?.output ?? assert.fail(name);
  const ours: [string, string][] = [
    ["IsValidLabelValue(64 chars)", JSON.stringify(isValidLabelValue(long))],
    ["IsValidLabelValue(bad.)", JSON.stringify(isValidLabelValue("bad."))],
    ["IsDNS1035Label(64 chars)", JSON.stringify(isDNS1035Label(long))],
    ["IsDNS1123Subdomain(Bad)", JSON.stringify(isDNS1123Subdomain("Bad"))],
    ["IsQualifiedName(64-char name)", JSON.stringify(isQualifiedName(long))],
    ["TooLong(63)", formatFieldError(tooLong("spec.managedBy", 63))],
    ["Invalid(nil)", formatFieldError(invalid("a", null, "d"))],
    ["Invalid(nil *int32)", formatFieldError(invalid("a", new GoValue(undefined, "*int32"), "d"))],
    ["Invalid(int)", formatFieldError(invalid("a", 5, "d"))],
    ["Invalid(string with quote)", formatFieldError(invalid("a", 'x"<y>', "d"))],
    ["Invalid(*string)", formatFieldError(invalid("a", new GoValue("a<b>", "*string"), "d"))],
  ];
  for (const [name, got] of ours) test(name, () => assert.equal(got, helper(name)));

  const status = (name: string) => {
    const s = oracle.status.find((c) => c.name === name)?.status ?? assert.fail(name);
    return s;
  };
  test("Status with two causes", () => {
    assert.deepEqual(
      toStatus("js", [
        invalid("spec.managedBy", "x", "field is immutable"),
        plain("DependsOn can't be set for the first ReplicatedJob"),
      ]),
      status("two causes, named"),
    );
  });
  test("Status without a name omits details.name", () => {
    assert.deepEqual(toStatus("", [invalid("spec.managedBy", "x", "field is immutable")]), status("no name"));
  });
  test("Status with duplicate messages", () => {
    assert.deepEqual(toStatus("js", [plain("x"), plain("x")]), status("duplicate messages"));
  });
});
