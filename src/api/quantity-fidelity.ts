// Kubernetes resource quantities (k8s.io/apimachinery/pkg/api/resource.Quantity) as Go parses, compares
// and prints them: `1024Mi` and `1Gi` are the same value and both print as `1Gi`; `1000m` prints as `1`;
// values finer than a nano-unit round up to one. Exact arithmetic with bigint (value = unscaled × 10^-scale).

export type QuantityFormat = "DecimalSI" | "BinarySI" | "DecimalExponent";

export interface Quantity {
  /** The value is `unscaled × 10^(-scale)`, exactly. */
  unscaled: bigint;
  scale: number;
  format: QuantityFormat;
}

export const QuantityErrors = {
  format: "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
  numeric: "unable to parse numeric part of quantity",
  suffix: "unable to parse quantity's suffix",
} as const;

const decimalSuffixes: Readonly<Record<string, number>> = {
  n: -9,
  u: -6,
  m: -3,
  "": 0,
  k: 3,
  M: 6,
  G: 9,
  T: 12,
  P: 15,
  E: 18,
};
const binarySuffixes: Readonly<Record<string, number>> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const decimalByExponent = new Map(Object.entries(decimalSuffixes).map(([s, e]) => [e, s]));
const binaryByExponent = new Map(Object.entries(binarySuffixes).map(([s, e]) => [e, s]));

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= "0" && c <= "9";
const suffixChars = "eEinumkKMGTP";

/** Splits like Go's parseQuantityString: sign, numerator, denominator, suffix; or a format error. */
function split(str: string): { negative: boolean; num: string; denom: string; suffix: string } | undefined {
  let pos = 0;
  const end = str.length;
  let negative = false;
  if (str[0] === "-") {
    negative = true;
    pos++;
  } else if (str[0] === "+") pos++;
  while (pos < end && str[pos] === "0") pos++;
  if (pos >= end) return { negative, num: "0", denom: "", suffix: "" };
  let i = pos;
  while (i < end && isDigit(str[i])) i++;
  let num = str.slice(pos, i);
  if (i >= end) return { negative, num, denom: "", suffix: "" };
  pos = i;
  if (num === "") num = "0";
  let denom = "";
  if (str[pos] === ".") {
    pos++;
    i = pos;
    while (i < end && isDigit(str[i])) i++;
    denom = str.slice(pos, i);
    if (i >= end) return { negative, num, denom, suffix: "" };
    pos = i;
  }
  const suffixStart = pos;
  i = pos;
  while (i < end && suffixChars.includes(str[i] ?? "")) i++;
  if (i >= end) return { negative, num, denom, suffix: str.slice(suffixStart) };
  pos = i;
  if (str[pos] === "-" || str[pos] === "+") pos++;
  for (i = pos; i < end; i++) if (!isDigit(str[i])) return undefined;
  return { negative, num, denom, suffix: str.slice(suffixStart) };
}

function interpretSuffix(s: string): { base: 2 | 10; exponent: number; format: QuantityFormat } | undefined {
  if (Object.hasOwn(decimalSuffixes, s)) return { base: 10, exponent: decimalSuffixes[s] ?? 0, format: "DecimalSI" };
  if (Object.hasOwn(binarySuffixes, s)) return { base: 2, exponent: binarySuffixes[s] ?? 0, format: "BinarySI" };
  if (s.length > 1 && (s[0] === "e" || s[0] === "E") && /^[-+]?[0-9]+$/.test(s.slice(1))) {
    const exponent = Number.parseInt(s.slice(1), 10);
    if (Math.abs(exponent) <= 2147483647) return { base: 10, exponent, format: "DecimalExponent" };
  }
  return undefined;
}

const pow10 = (n: number): bigint => 10n ** BigInt(n);
const abs = (v: bigint): bigint => (v < 0n ? -v : v);

/** Go's resource.ParseQuantity: the quantity, or the error text Go gives. */
export function parseQuantity(str: string): Quantity | { error: string } {
  if (str.length === 0) return { error: QuantityErrors.format };
  if (str === "0") return { unscaled: 0n, scale: 0, format: "DecimalSI" };
  const parts = split(str);
  if (!parts) return { error: QuantityErrors.format };
  const suffix = interpretSuffix(parts.suffix);
  if (!suffix) return { error: QuantityErrors.suffix };
  if (!/^[0-9]*$/.test(parts.num) || !/^[0-9]*$/.test(parts.denom)) return { error: QuantityErrors.numeric };
  let unscaled = BigInt(`${parts.num}${parts.denom}` || "0");
  let scale = parts.denom.length;
  let format = suffix.format;
  if (suffix.base === 10) scale -= suffix.exponent;
  else unscaled <<= BigInt(suffix.exponent);
  // Round non-zero values up (away from zero) to nano precision.
  if (scale > 9) {
    const div = pow10(scale - 9);
    const q = unscaled / div;
    unscaled = q * div === unscaled ? q : q + 1n;
    scale = 9;
  }
  const maxAllowed = (1n << 63n) - 1n;
  if (format === "BinarySI" && compareParts(unscaled, scale, maxAllowed, 0) > 0) {
    unscaled = maxAllowed;
    scale = 0;
  }
  if (format === "BinarySI" && unscaled > 0n && compareParts(unscaled, scale, 1n, 0) < 0) format = "DecimalSI";
  return { unscaled: parts.negative ? -unscaled : unscaled, scale, format };
}

export const isQuantity = (q: Quantity | { error: string }): q is Quantity => !("error" in q);

function compareParts(a: bigint, as: number, b: bigint, bs: number): number {
  const s = Math.max(as, bs);
  const x = a * pow10(s - as);
  const y = b * pow10(s - bs);
  return x === y ? 0 : x < y ? -1 : 1;
}

/** Go's `a.Cmp(b)`: compares values, whatever their format. */
export const compareQuantities = (a: Quantity, b: Quantity): number =>
  compareParts(a.unscaled, a.scale, b.unscaled, b.scale);

/** A key equal for equal values (for semantic equality). */
export function quantityValueKey(q: Quantity): string {
  if (q.unscaled === 0n) return "0";
  let u = q.unscaled;
  let exp = -q.scale;
  while (u % 10n === 0n) {
    u /= 10n;
    exp++;
  }
  return `${u}e${exp}`;
}

/** Go's `q.String()`: the canonical form (`1Gi`, `1500m`, `1e3`, `0`). */
export function formatQuantity(q: Quantity): string {
  if (q.unscaled === 0n) return "0";
  let format = q.format;
  let integer: bigint | undefined;
  if (format === "BinarySI") {
    if (compareParts(q.unscaled, q.scale, -1024n, 0) > 0 && compareParts(q.unscaled, q.scale, 1024n, 0) < 0) {
      format = "DecimalSI";
    } else if (q.scale <= 0) {
      integer = q.unscaled * pow10(-q.scale);
    } else {
      const div = pow10(q.scale);
      if (q.unscaled % div === 0n) integer = q.unscaled / div;
      else format = "DecimalSI";
    }
  }
  if (format === "BinarySI" && integer !== undefined) {
    let amount = integer;
    let exponent = 0;
    while (amount !== 0n && abs(amount) % 1024n === 0n) {
      amount /= 1024n;
      exponent += 10;
    }
    return `${amount}${binaryByExponent.get(exponent) ?? ""}`;
  }
  let amount = q.unscaled;
  let exponent = -q.scale;
  while (amount % 10n === 0n) {
    amount /= 10n;
    exponent++;
  }
  while (exponent % 3 !== 0) {
    amount *= 10n;
    exponent--;
  }
  if (format === "DecimalExponent") return exponent === 0 ? `${amount}` : `${amount}e${exponent}`;
  // Go prints no suffix at all for a decimal exponent without one (beyond E); so do we.
  return `${amount}${decimalByExponent.get(exponent) ?? ""}`;
}
