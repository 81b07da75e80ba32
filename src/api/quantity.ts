// Kubernetes resource quantities (k8s.io/apimachinery v0.36 pkg/api/resource.Quantity) as Go parses,
// compares and prints them; the one home of quantities (ADR 0013). Parsing follows apimachinery's two
// paths (exact int64, then arbitrary precision rounded up to a nano-unit) with its error texts; a value
// keeps the input text when Go's parser does (already canonical), otherwise it prints in canonical form
// (binary suffixes Ki…Ei, decimal SI n…E, or a decimal exponent, by the input's format): `1024Mi` and
// `1Gi` are the same value and both print as `1Gi`; `1000m` prints as `1`. Exact arithmetic with bigint.
// test/unit/roundtrip-quantity.test.ts checks every case of test/fixtures/go-quantities.generated.json,
// which Go printed (scripts/gotypes).

export type QuantityFormat = "DecimalExponent" | "BinarySI" | "DecimalSI";

/** A parsed quantity: the value `unscaled × 10^(-scale)`, exactly, its format, and Go's cached text. */
export interface Quantity {
  unscaled: bigint;
  scale: number;
  format: QuantityFormat;
  /** The input text, kept when it is already canonical (Go's `q.s`): what String() prints then. */
  text?: string;
}

/** apimachinery's error texts (ErrFormatWrong, ErrNumeric, ErrSuffix). */
export const QuantityErrors = {
  format: "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
  numeric: "unable to parse numeric part of quantity",
  suffix: "unable to parse quantity's suffix",
} as const;

/** Go would refuse the quantity; the message is apimachinery's. */
export class QuantityError extends Error {}

type Format = QuantityFormat;

/** The value `m × 10^e`, its format, and the text kept from the input (Go's cached string). */
interface Parsed {
  m: bigint;
  e: number;
  format: Format;
  s?: string;
  /** Parsed on the arbitrary-precision path (Go keeps an inf.Dec instead of an int64Amount). */
  dec?: true;
}

const MAX_INT64 = (1n << 63n) - 1n;
const isDigit = (c: string | undefined) => c !== undefined && c >= "0" && c <= "9";

interface Pieces {
  positive: boolean;
  value: string;
  num: string;
  denom: string;
  suffix: string;
}

/** Splits a quantity into sign, number text, integer digits, fraction digits and suffix. */
function split(str: string): Pieces {
  let positive = true;
  let pos = 0;
  const end = str.length;
  if (str[0] === "-") {
    positive = false;
    pos++;
  } else if (str[0] === "+") {
    pos++;
  }
  // leading zeros
  while (pos < end && str[pos] === "0") pos++;
  if (pos >= end) return { positive, value: "0", num: "0", denom: "", suffix: "" };
  let i = pos;
  while (i < end && isDigit(str[i])) i++;
  if (i >= end) return { positive, value: str, num: str.slice(pos), denom: "", suffix: "" };
  let num = str.slice(pos, i);
  pos = i;
  if (num === "") num = "0";
  let denom = "";
  if (str[pos] === ".") {
    pos++;
    let j = pos;
    while (j < end && isDigit(str[j])) j++;
    if (j >= end) return { positive, value: str, num, denom: str.slice(pos), suffix: "" };
    denom = str.slice(pos, j);
    pos = j;
  }
  const value = str.slice(0, pos);
  const suffixStart = pos;
  let k = pos;
  while (k < end && "eEinumkKMGTP".includes(str[k] as string)) k++;
  if (k >= end) return { positive, value, num, denom, suffix: str.slice(suffixStart) };
  if (str[k] === "-" || str[k] === "+") k++;
  while (k < end && isDigit(str[k])) k++;
  if (k >= end) return { positive, value, num, denom, suffix: str.slice(suffixStart) };
  throw new QuantityError(QuantityErrors.format);
}

const decimalSuffixes: Record<string, number> = { n: -9, u: -6, m: -3, "": 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const binarySuffixes: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };

/** Base, exponent and format of a suffix (Go's strconv.ParseInt for `e<n>`, truncated to int32). */
function interpret(suffix: string): { base: 2 | 10; exponent: number; format: Format } {
  const dec = decimalSuffixes[suffix];
  if (Object.hasOwn(decimalSuffixes, suffix) && dec !== undefined)
    return { base: 10, exponent: dec, format: "DecimalSI" };
  const bin = binarySuffixes[suffix];
  if (Object.hasOwn(binarySuffixes, suffix) && bin !== undefined) return { base: 2, exponent: bin, format: "BinarySI" };
  if (suffix.length > 1 && (suffix[0] === "e" || suffix[0] === "E") && /^[+-]?[0-9]+$/.test(suffix.slice(1))) {
    const n = BigInt(suffix.slice(1));
    if (n > MAX_INT64 || n < -MAX_INT64 - 1n) throw new QuantityError(QuantityErrors.suffix);
    return { base: 10, exponent: Number(BigInt.asIntN(32, n)), format: "DecimalExponent" };
  }
  throw new QuantityError(QuantityErrors.suffix);
}

const pow10 = (n: number): bigint => 10n ** BigInt(n);

function parse(str: string): Parsed {
  if (str.length === 0) throw new QuantityError(QuantityErrors.format);
  if (str === "0") return { m: 0n, e: 0, format: "DecimalSI", s: str };
  const { positive, value, num, denom, suffix } = split(str);
  const { base, exponent, format } = interpret(suffix);

  // The exact int64 path of apimachinery, which keeps canonical input text as it is.
  let precision = 0;
  let scale = 0;
  let mantissa = 1n;
  if (format === "BinarySI") {
    if (exponent >= 0 && denom.length === 0) {
      mantissa = 1n << BigInt(exponent);
      precision = 15 - num.length - Math.trunc((exponent * 3) / 10) - 1;
    } else {
      precision = -1;
    }
  } else {
    scale = exponent;
    precision = 18 - (num.length + denom.length);
  }
  if (precision >= 0) {
    scale -= denom.length;
    if (scale >= -9) {
      const shifted = num + denom;
      const v = BigInt(shifted);
      if (v > MAX_INT64) throw new QuantityError(QuantityErrors.numeric);
      const product = v * mantissa;
      if (product <= MAX_INT64) {
        const m = positive ? product : -product;
        const canonical =
          format === "BinarySI"
            ? exponent % 10 === 0 && (v & 7n) !== 0n
            : scale % 3 === 0 && !shifted.endsWith("000") && shifted[0] !== "0";
        return canonical ? { m, e: scale, format, s: str } : { m, e: scale, format };
      }
    }
  }

  // The arbitrary-precision path (gopkg.in/inf.v0 Dec).
  const dec = /^([+-]?)([0-9]*)(?:\.([0-9]*))?$/.exec(value);
  if (!dec || `${dec[2]}${dec[3] ?? ""}` === "") throw new QuantityError(QuantityErrors.numeric);
  const frac = dec[3] ?? "";
  let m = BigInt(`${dec[2]}${frac}` || "0");
  let e = -frac.length;
  if (base === 10) e += exponent;
  else m <<= BigInt(exponent);
  // Non-zero values are rounded away from zero to a multiple of 1n (the sign was in `value`).
  if (m !== 0n && e < -9) {
    const d = pow10(-9 - e);
    m = (m + d - 1n) / d;
    e = -9;
  }
  let fmt = format;
  if (fmt === "BinarySI") {
    // BinarySI values have e in [-9, 0]: compare against the int64 cap and against one.
    const unit = pow10(-e);
    if (m > MAX_INT64 * unit) {
      m = MAX_INT64;
      e = 0;
    } else if (m > 0n && m < unit) {
      fmt = "DecimalSI";
    }
  }
  const negative = dec[1] === "-";
  return { m: negative ? -m : m, e, format: fmt, dec: true };
}

/** Removes factors of `base` (|m| ≥ base), as apimachinery's removeInt64Factors / removeBigIntFactors. */
function removeFactors(m: bigint, base: bigint): { m: bigint; times: number } {
  let times = 0;
  while (m !== 0n && m % base === 0n) {
    m /= base;
    times++;
  }
  return { m, times };
}

function canonical(q: Parsed): string {
  if (q.s !== undefined) return q.s;
  if (q.m === 0n) return "0";
  let format = q.format;
  let integer = 0n;
  if (format === "BinarySI") {
    // e is in [-9, 0] for BinarySI.
    const unit = pow10(Math.max(0, -q.e));
    const scaled = q.e >= 0 ? q.m * pow10(q.e) : q.m;
    if (scaled > -1024n * unit && scaled < 1024n * unit) format = "DecimalSI";
    else if (q.e < 0 && q.m % unit !== 0n) format = "DecimalSI";
    else integer = q.e >= 0 ? scaled : q.m / unit;
  }
  if (format === "BinarySI") {
    const { m, times } = removeFactors(integer, 1024n);
    const suffix = Object.entries(binarySuffixes).find(([, x]) => x === times * 10)?.[0] ?? "";
    return `${m}${suffix}`;
  }
  const r = removeFactors(q.m, 10n);
  let m = r.m;
  let e = q.e + r.times;
  while (e % 3 !== 0) {
    m *= 10n;
    e--;
  }
  if (format === "DecimalExponent") return e === 0 ? `${m}` : `${m}e${e}`;
  const suffix = Object.entries(decimalSuffixes).find(([, x]) => x === e)?.[0] ?? "";
  return `${m}${suffix}`;
}

/**
 * What `reflect.DeepEqual` compares of the resource.Quantity Go's ParseQuantity builds from `str`: which
 * representation it chose (an int64Amount's value and scale, or an inf.Dec — rounded up to scale 9 when
 * not zero, capped at the int64 maximum — with its unscaled value and scale), the format, and the cached
 * string (the input, kept only when already canonical). Two spellings of one value are often unequal
 * under it ("1024Mi" and "1Gi", "1000m" and "1"). Undefined when `str` does not parse.
 */
export function quantityIdentity(str: string): string | undefined {
  let p: Parsed;
  try {
    p = parse(str);
  } catch (e) {
    if (e instanceof QuantityError) return undefined;
    throw e;
  }
  let { m, e } = p;
  if (p.dec && m !== 0n) {
    if (e > -9) {
      m *= pow10(e + 9);
      e = -9;
    }
    if ((m < 0n ? -m : m) > MAX_INT64 * pow10(9)) {
      m = m < 0n ? -MAX_INT64 : MAX_INT64;
      e = 0;
    }
  }
  return `${p.dec ? "d" : "i"}${m}e${e} ${p.format} ${p.s ?? ""}`;
}

/** Go's resource.ParseQuantity: the quantity, or the error text Go gives. */
export function parseQuantity(str: string): Quantity | { error: string } {
  try {
    const p = parse(str);
    const q: Quantity = { unscaled: p.m, scale: -p.e, format: p.format };
    if (p.s !== undefined) q.text = p.s;
    return q;
  } catch (e) {
    if (e instanceof QuantityError) return { error: e.message };
    throw e;
  }
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

/** The canonical form of the value (`1Gi`, `1500m`, `1e3`, `0`), whatever text it was parsed from. */
export function formatQuantity(q: Quantity): string {
  return canonical({ m: q.unscaled, e: -q.scale, format: q.format });
}

/** Go's `q.String()`, which json.Marshal prints: the kept input text (`+1`, `1.`), else the canonical form. */
export const quantityString = (q: Quantity): string => q.text ?? formatQuantity(q);

/**
 * A quantity as it comes out of Go's JSON round trip: `value` is the JSON value of the request (a
 * string, or a number whose JavaScript spelling stands for the original text). Throws QuantityError
 * with apimachinery's message when Go would refuse it.
 */
export function roundTripQuantity(value: string | number): string {
  const text = typeof value === "number" ? String(value) : value;
  return canonical(parse(text.trim()));
}
