// The fake-node flags of `jobset up` and `jobset run` (its ephemeral cluster): how many nodes, their
// labels, their CPU capacity and their rack topology, checked and turned into NodeSpecs. Pure: no
// cluster code is loaded to check them.
import { compareQuantities, isQuantity, parseQuantity } from "../api/quantity.ts";
import type { NodeSpec } from "../local/kubelet-status.ts";
import { UsageError } from "./usage.ts";

/**
 * The node label `--racks` sets: the key the gang-scheduling docs and examples/gang-topology.yaml use
 * in `schedulingConstraints.topology` (not a well-known Kubernetes label, but the conventional one).
 */
export const RackLabel = "topology.kubernetes.io/rack";

/** parseArgs options for the node flags. */
export const nodeFlagOptions = {
  nodes: { type: "string" },
  "node-labels": { type: "string", multiple: true },
  "node-cpu": { type: "string" },
  racks: { type: "string" },
} as const;

/** The values parseArgs returns for nodeFlagOptions. */
export interface NodeFlagValues {
  nodes?: string | undefined;
  "node-labels"?: string[] | undefined;
  "node-cpu"?: string | undefined;
  racks?: string | undefined;
}

export const nodeFlagsHelp = `      --nodes N              number of fake nodes (default 4), named fake-node-0, fake-node-1, ...
      --node-cpu CPU,...     allocatable CPU of each node (default 64), a Kubernetes quantity (2, 500m);
                             node i gets value i of the list (the list repeats if shorter), e.g.
                             --node-cpu 2,2,1,1
      --racks R              spread the nodes over R racks in order (rack-0, rack-1, ...; as even as
                             possible: --nodes 4 --racks 2 gives rack-0,rack-0,rack-1,rack-1), as node
                             label ${RackLabel}, the topology key of gang scheduling
      --node-labels K=V,...  a node label, one flag per key. Node i gets value i of the list (the list
                             repeats if shorter). r{0..3} expands to r0,r1,r2,r3; a trailing *K repeats
                             each value K times. E.g. --nodes 4 --node-labels zone=z{0..1}*2 gives
                             zone=z0,z0,z1,z1. Wins over --racks for the same key
`;

/**
 * Expands one `--node-labels` value into per-node values. Grammar: `KEY=ITEM[,ITEM...]` where an ITEM
 * is a value, a value with a numeric range `r{0..3}` (r0 r1 r2 r3), and either may end in `*K` to
 * repeat each value K times (`r{0..1}*2` = r0 r0 r1 r1). Node i gets value i modulo the list length.
 */
export function parseNodeLabels(flag: string): { key: string; values: string[] } {
  const eq = flag.indexOf("=");
  if (eq <= 0) throw new Error(`--node-labels ${flag}: want KEY=VALUE[,VALUE...]`);
  const key = flag.slice(0, eq);
  const values: string[] = [];
  for (const item of flag.slice(eq + 1).split(",")) {
    const m = /^(.*?)(?:\*(\d+))?$/.exec(item);
    const body = m?.[1] ?? item;
    const times = m?.[2] ? Number(m[2]) : 1;
    if (times < 1) throw new Error(`--node-labels ${flag}: a repeat count must be ≥ 1`);
    const range = /^(.*)\{(\d+)\.\.(\d+)\}(.*)$/.exec(body);
    const expanded: string[] = [];
    if (range) {
      const [, pre = "", a = "0", b = "0", post = ""] = range;
      const from = Number(a);
      const to = Number(b);
      const step = from <= to ? 1 : -1;
      for (let i = from; step > 0 ? i <= to : i >= to; i += step) expanded.push(`${pre}${i}${post}`);
    } else expanded.push(body);
    for (const v of expanded) for (let k = 0; k < times; k++) values.push(v);
  }
  if (values.length === 0 || values.some((v) => v === "")) throw new Error(`--node-labels ${flag}: empty value`);
  return { key, values };
}

/** The NodeSpecs of `count` nodes with the labels of every `--node-labels` flag. */
export function nodeSpecs(count: number, labelFlags: readonly string[]): NodeSpec[] {
  const parsed = labelFlags.map(parseNodeLabels);
  return Array.from({ length: count }, (_, i) => {
    const labels: Record<string, string> = {};
    for (const p of parsed) labels[p.key] = p.values[i % p.values.length] ?? "";
    return Object.keys(labels).length > 0 ? { labels } : {};
  });
}

/** `--node-cpu 2,2,1,1`: one positive CPU quantity per node (the list repeats). */
export function parseNodeCpu(flag: string): string[] {
  const zero = parseQuantity("0");
  const values = flag.split(",").map((v) => v.trim());
  for (const v of values) {
    const q = parseQuantity(v);
    if (v === "" || !isQuantity(q) || !isQuantity(zero) || compareQuantities(q, zero) <= 0)
      throw new UsageError(
        `--node-cpu ${flag}: "${v}" is not a positive CPU quantity (want e.g. 2, 0.5 or 500m, comma-separated per node)`,
      );
  }
  return values;
}

/** Node i of `nodes` spread over `racks` contiguous racks: rack-⌊i·racks/nodes⌋. */
export const rackOf = (i: number, nodes: number, racks: number): string => `rack-${Math.floor((i * racks) / nodes)}`;

/** Checks the node flags (a UsageError naming the flag) and returns the nodes to register. */
export function parseNodeFlags(v: NodeFlagValues): NodeSpec[] {
  const count = v.nodes === undefined ? 4 : Number(v.nodes);
  if (v.nodes?.trim() === "" || !Number.isInteger(count) || count < 1)
    throw new UsageError(`--nodes ${v.nodes}: want a whole number ≥ 1`);
  let racks: number | undefined;
  if (v.racks !== undefined) {
    racks = Number(v.racks);
    if (v.racks.trim() === "" || !Number.isInteger(racks) || racks < 1)
      throw new UsageError(`--racks ${v.racks}: want a whole number ≥ 1`);
    if (racks > count)
      throw new UsageError(`--racks ${racks}: more racks than nodes (${count}); raise --nodes or lower --racks`);
  }
  const cpu = v["node-cpu"] === undefined ? undefined : parseNodeCpu(v["node-cpu"]);
  let specs: NodeSpec[];
  try {
    specs = nodeSpecs(count, v["node-labels"] ?? []);
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
  return specs.map((s, i) => {
    const out: NodeSpec = { ...s };
    if (cpu) out.cpu = cpu[i % cpu.length] ?? "";
    if (racks !== undefined) out.labels = { [RackLabel]: rackOf(i, count, racks), ...s.labels };
    return out;
  });
}
