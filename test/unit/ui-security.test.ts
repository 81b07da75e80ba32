// The UI server's access rules (src/ui/security.ts).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { actionRefusal, hostAllowed, isLoopback, newToken, presentedToken, sameSecret } from "../../src/ui/security.ts";

describe("ui access rules", () => {
  test("loopback addresses", () => {
    for (const h of ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost", "::ffff:127.0.0.1"])
      assert.equal(isLoopback(h), true, h);
    for (const h of ["0.0.0.0", "::", "10.0.0.1", "192.168.1.2", "example.com", "128.0.0.1"])
      assert.equal(isLoopback(h), false, h);
  });
  test("tokens: random, compared whole", () => {
    const a = newToken();
    assert.notEqual(a, newToken());
    assert.ok(a.length >= 43);
    assert.equal(sameSecret(a, a), true);
    assert.equal(sameSecret(a.slice(0, -1), a), false);
    assert.equal(sameSecret(`${a}x`, a), false);
    assert.equal(sameSecret(undefined, a), false);
    assert.equal(sameSecret("", a), false);
  });
  test("the token comes from a bearer header or the cookie", () => {
    assert.equal(presentedToken({ authorization: "Bearer abc" }), "abc");
    assert.equal(presentedToken({ cookie: "x=1; jobset-ui-token=t%3D1; y=2" }), "t=1");
    assert.equal(presentedToken({ cookie: "other=1" }), undefined);
    assert.equal(presentedToken({}), undefined);
  });
  test("Host check on loopback refuses rebinding names and other ports", () => {
    assert.equal(hostAllowed("127.0.0.1:8080", 8080, true), true);
    assert.equal(hostAllowed("localhost:8080", 8080, true), true);
    assert.equal(hostAllowed("[::1]:8080", 8080, true), true);
    assert.equal(hostAllowed("evil.example:8080", 8080, true), false);
    assert.equal(hostAllowed("127.0.0.1:9090", 8080, true), false);
    assert.equal(hostAllowed(undefined, 8080, true), false);
    assert.equal(hostAllowed("anything:1", 8080, false), true);
  });
  test("actions need JSON, our Origin, same-origin fetch metadata and the CSRF token", () => {
    const ok = {
      "content-type": "application/json",
      origin: "http://127.0.0.1:8080",
      host: "127.0.0.1:8080",
      "sec-fetch-site": "same-origin",
      "x-jobset-ui-csrf": "c",
    };
    assert.equal(actionRefusal(ok, "http", "c"), undefined);
    assert.match(actionRefusal({ ...ok, "content-type": "text/plain" }, "http", "c") ?? "", /JSON/);
    assert.match(actionRefusal({ ...ok, origin: "http://evil.example" }, "http", "c") ?? "", /cross-origin/);
    assert.match(actionRefusal({ ...ok, origin: undefined }, "http", "c") ?? "", /cross-origin/);
    assert.match(actionRefusal({ ...ok, "sec-fetch-site": "cross-site" }, "http", "c") ?? "", /cross-site/);
    assert.match(actionRefusal({ ...ok, "x-jobset-ui-csrf": "d" }, "http", "c") ?? "", /CSRF/);
    assert.match(actionRefusal(ok, "https", "c") ?? "", /cross-origin/, "scheme is part of the origin");
  });
});
