// The fake-node flags of `jobset up` / `jobset run`: --nodes, --node-cpu, --racks, --node-labels.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseArgs } from "node:util";
import { nodeFlagOptions, parseNodeCpu, parseNodeFlags, RackLabel, rackOf } from "../../src/cli/node-flags.ts";
import { UsageError } from "../../src/cli/usage.ts";
import { nodeBody } from "../../src/local/kubelet-status.ts";

const parse = (args: string[]) => parseNodeFlags(parseArgs({ args, options: nodeFlagOptions }).values);

describe("node flags", () => {
  test("defaults: 4 nodes without labels or capacity", () => {
    assert.deepEqual(parse([]), [{}, {}, {}, {}]);
  });

  test("--nodes 4 --node-cpu 2 --racks 2: two racks of two 2-CPU nodes, under the topology key of the docs", () => {
    assert.equal(RackLabel, "topology.kubernetes.io/rack");
    assert.deepEqual(parse(["--nodes", "4", "--node-cpu", "2", "--racks", "2"]), [
      { cpu: "2", labels: { [RackLabel]: "rack-0" } },
      { cpu: "2", labels: { [RackLabel]: "rack-0" } },
      { cpu: "2", labels: { [RackLabel]: "rack-1" } },
      { cpu: "2", labels: { [RackLabel]: "rack-1" } },
    ]);
  });

  test("--node-cpu list: node i gets value i, the list repeats", () => {
    assert.deepEqual(
      parse(["--nodes", "5", "--node-cpu", "2,1,500m"]).map((n) => n.cpu),
      ["2", "1", "500m", "2", "1"],
    );
  });

  test("--racks spreads unevenly divisible nodes as evenly as possible, in order", () => {
    assert.deepEqual(
      Array.from({ length: 5 }, (_, i) => rackOf(i, 5, 2)),
      ["rack-0", "rack-0", "rack-0", "rack-1", "rack-1"],
    );
    assert.deepEqual(
      Array.from({ length: 16 }, (_, i) => rackOf(i, 16, 4)),
      [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3].map((r) => `rack-${r}`),
    );
    assert.deepEqual(
      parse(["--nodes", "3", "--racks", "3"]).map((n) => n.labels?.[RackLabel]),
      ["rack-0", "rack-1", "rack-2"],
    );
  });

  test("--node-labels combine with --racks and win for the same key", () => {
    assert.deepEqual(parse(["--nodes", "2", "--racks", "2", "--node-labels", "zone=a,b"]), [
      { labels: { [RackLabel]: "rack-0", zone: "a" } },
      { labels: { [RackLabel]: "rack-1", zone: "b" } },
    ]);
    assert.deepEqual(
      parse(["--nodes", "2", "--racks", "2", "--node-labels", `${RackLabel}=x`]).map((n) => n.labels?.[RackLabel]),
      ["x", "x"],
    );
  });

  test("the Node objects get the CPU as capacity and allocatable, and the rack label", () => {
    const [spec] = parse(["--nodes", "1", "--node-cpu", "2", "--racks", "1"]);
    const body = nodeBody(spec ?? {}, 0, "2026-01-01T00:00:00Z");
    assert.equal(body.status.capacity?.cpu, "2");
    assert.equal(body.status.allocatable?.cpu, "2");
    assert.equal(body.metadata.labels[RackLabel], "rack-0");
  });

  const bad: [string[], RegExp][] = [
    [["--nodes", "0"], /^--nodes 0: want a whole number ≥ 1$/],
    [["--nodes", "2.5"], /^--nodes 2\.5: want a whole number ≥ 1$/],
    [["--nodes", ""], /^--nodes : want a whole number ≥ 1$/],
    [["--racks", "0"], /^--racks 0: want a whole number ≥ 1$/],
    [["--racks", "two"], /^--racks two: want a whole number ≥ 1$/],
    [["--nodes", "2", "--racks", "3"], /^--racks 3: more racks than nodes \(2\); raise --nodes or lower --racks$/],
    [["--node-cpu", "lots"], /^--node-cpu lots: "lots" is not a positive CPU quantity/],
    [["--node-cpu", "0"], /^--node-cpu 0: "0" is not a positive CPU quantity/],
    [["--node-cpu=-1"], /^--node-cpu -1: "-1" is not a positive CPU quantity/],
    [["--node-cpu", "2,,1"], /^--node-cpu 2,,1: "" is not a positive CPU quantity/],
    [["--node-labels", "rack"], /^--node-labels rack: want KEY=VALUE/],
  ];
  for (const [args, message] of bad)
    test(`bad: ${args.join(" ")} → a usage error naming the flag`, () => {
      assert.throws(
        () => parse(args),
        (e: unknown) => e instanceof UsageError && message.test(e.message),
      );
    });

  test("parseNodeCpu keeps the values as written", () => {
    assert.deepEqual(parseNodeCpu("1.5, 250m"), ["1.5", "250m"]);
  });
});
