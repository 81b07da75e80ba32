import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { KubeObject } from "../../src/api/k8s.ts";
import {
  controllerOwnerIndex,
  diffList,
  namespacedLabelIndex,
  objectKey,
  Store,
  splitKey,
} from "../../src/runtime/store.ts";

const obj = (ns: string, name: string, rv: string, extra: Partial<NonNullable<KubeObject["metadata"]>> = {}) =>
  ({ metadata: { namespace: ns || undefined, name, resourceVersion: rv, ...extra } }) as KubeObject;

describe("objectKey / splitKey", () => {
  for (const [ns, name, key] of [
    ["a", "b", "a/b"],
    ["", "node-1", "node-1"],
  ] as const) {
    test(`${key}`, () => {
      assert.equal(objectKey(obj(ns, name, "1")), key);
      assert.deepEqual(splitKey(key), { namespace: ns, name });
    });
  }
});

describe("diffList", () => {
  const cache = new Map<string, KubeObject>([
    ["ns/same", obj("ns", "same", "1")],
    ["ns/changed", obj("ns", "changed", "1")],
    ["ns/gone", obj("ns", "gone", "1")],
  ]);
  test("classifies added, changed (by resourceVersion), vanished and unchanged objects", () => {
    const d = diffList(cache, [obj("ns", "same", "1"), obj("ns", "changed", "5"), obj("ns", "new", "6")]);
    assert.deepEqual(
      d.added.map((o) => o.metadata?.name),
      ["new"],
    );
    assert.deepEqual(
      d.updated.map(([a, b]) => [a.metadata?.resourceVersion, b.metadata?.resourceVersion]),
      [["1", "5"]],
    );
    assert.deepEqual(
      d.deleted.map((o) => o.metadata?.name),
      ["gone"],
    );
    assert.equal(d.unchanged, 1);
  });
  test("an empty list deletes everything", () => {
    assert.equal(diffList(cache, []).deleted.length, 3);
  });
  test("objects without a resourceVersion count as changed", () => {
    const d = diffList(new Map([["ns/x", obj("ns", "x", "")]]), [obj("ns", "x", "")]);
    assert.equal(d.updated.length, 1);
  });
});

describe("Store", () => {
  const owned = (name: string, uid: string, rv = "1", kind = "JobSet") =>
    obj("ns", name, rv, {
      ownerReferences: [{ apiVersion: "jobset.x-k8s.io/v1alpha2", kind, name: "js", uid, controller: true }],
      labels: { "jobset.sigs.k8s.io/jobset-name": `js-${uid}` },
    });

  test("applyEvent: ADDED → add, MODIFIED → update with old and new, DELETED → delete, BOOKMARK → nothing", () => {
    const s = new Store();
    const a1 = obj("ns", "a", "1");
    const a2 = obj("ns", "a", "2");
    assert.deepEqual(s.applyEvent({ type: "ADDED", object: a1 }), { type: "add", obj: a1 });
    assert.deepEqual(s.applyEvent({ type: "MODIFIED", object: a2 }), { type: "update", old: a1, obj: a2 });
    assert.equal(s.applyEvent({ type: "BOOKMARK", object: obj("", "", "3") }), undefined);
    assert.equal(s.get("ns", "a"), a2);
    assert.deepEqual(s.applyEvent({ type: "DELETED", object: a2 }), { type: "delete", obj: a2 });
    assert.equal(s.size, 0);
  });

  test("MODIFIED for an unknown object is an add", () => {
    const s = new Store();
    assert.equal(s.applyEvent({ type: "MODIFIED", object: obj("ns", "a", "1") })?.type, "add");
  });

  test("list by namespace", () => {
    const s = new Store();
    s.set(obj("a", "x", "1"));
    s.set(obj("a", "y", "1"));
    s.set(obj("b", "x", "1"));
    s.set(obj("", "cluster", "1"));
    assert.deepEqual(
      s
        .list("a")
        .map((o) => o.metadata?.name)
        .sort(),
      ["x", "y"],
    );
    assert.equal(s.list().length, 4);
    assert.equal(s.list("nope").length, 0);
    assert.equal(s.get("", "cluster")?.metadata?.name, "cluster");
    s.delete("a/x");
    assert.deepEqual(
      s.list("a").map((o) => o.metadata?.name),
      ["y"],
    );
  });

  test("controller-owner index follows updates and deletes; other kinds are not indexed", () => {
    const s = new Store();
    s.addIndex("owner", controllerOwnerIndex("jobset.x-k8s.io/v1alpha2", "JobSet"));
    s.set(owned("j1", "u1"));
    s.set(owned("j2", "u1"));
    s.set(owned("j3", "u2"));
    s.set(owned("other", "u1", "1", "Deployment"));
    assert.deepEqual(
      s
        .byIndex("owner", "u1")
        .map((o) => o.metadata?.name)
        .sort(),
      ["j1", "j2"],
    );
    s.set(owned("j2", "u2", "2")); // re-owned
    assert.deepEqual(
      s.byIndex("owner", "u1").map((o) => o.metadata?.name),
      ["j1"],
    );
    assert.deepEqual(s.indexKeys("owner", "u2").sort(), ["ns/j2", "ns/j3"]);
    s.delete("ns/j1");
    assert.deepEqual(s.byIndex("owner", "u1"), []);
    assert.deepEqual(s.indexValues("owner"), ["u2"]);
  });

  test("an index added later indexes existing objects; unknown indexes throw", () => {
    const s = new Store();
    s.set(owned("j1", "u1"));
    s.addIndex("jobset", namespacedLabelIndex("jobset.sigs.k8s.io/jobset-name"));
    assert.deepEqual(
      s.byIndex("jobset", "ns/js-u1").map((o) => o.metadata?.name),
      ["j1"],
    );
    assert.throws(() => s.byIndex("nope", "x"), /does not exist/);
    assert.throws(() => s.addIndex("jobset", () => []), /already exists/);
  });

  test("an index function that throws files the object nowhere and is reported", () => {
    const reported: string[] = [];
    const s = new Store({ onIndexError: (index, key, e) => reported.push(`${index} ${key} ${(e as Error).message}`) });
    s.addIndex("bad", (o) => {
      if (o.metadata?.name === "a") throw new Error("x");
      return ["v"];
    });
    s.set(obj("ns", "a", "1"));
    s.set(obj("ns", "b", "1"));
    assert.equal(s.size, 2);
    assert.deepEqual(s.indexKeys("bad", "v"), ["ns/b"]);
    assert.deepEqual(reported, ["bad ns/a x"]);
  });

  test("replace: deletes first, then adds, then updates; indexes follow", () => {
    const s = new Store();
    s.addIndex("owner", controllerOwnerIndex());
    s.set(owned("keep", "u1", "1"));
    s.set(owned("change", "u1", "1"));
    s.set(owned("gone", "u1", "1"));
    const notes = s.replace([owned("keep", "u1", "1"), owned("change", "u2", "2"), owned("new", "u2", "3")]);
    assert.deepEqual(
      notes.map((n) => `${n.type}:${n.obj.metadata?.name}`),
      ["delete:gone", "add:new", "update:change"],
    );
    assert.deepEqual(
      s
        .byIndex("owner", "u2")
        .map((o) => o.metadata?.name)
        .sort(),
      ["change", "new"],
    );
    assert.deepEqual(
      s.byIndex("owner", "u1").map((o) => o.metadata?.name),
      ["keep"],
    );
  });
});
