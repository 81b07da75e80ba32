// Kubernetes-style field errors (k8s.io/apimachinery/pkg/util/validation/field), the validation helpers
// of k8s.io/apimachinery/pkg/util/validation with their exact messages, and the JobSet webhook's error
// envelope (a metav1.Status with code 422, reason Invalid; spec §3.1).
import { GoValue } from "./go-value.ts";
import type { Status } from "./k8s.ts";

/** The `type` strings Kubernetes uses in Status causes (field.ErrorType). */
export type FieldErrorType =
  | "FieldValueNotFound"
  | "FieldValueRequired"
  | "FieldValueDuplicate"
  | "FieldValueInvalid"
  | "FieldValueNotSupported"
  | "FieldValueForbidden"
  | "FieldValueTooLong"
  | "FieldValueTooShort"
  | "FieldValueTooMany"
  | "FieldValueTooFew"
  | "InternalError"
  | "FieldValueTypeInvalid";

export interface FieldError {
  type: FieldErrorType;
  /** Field path, e.g. `spec.network.subdomain`; `<nil>` for plain errors wrapped as internal errors. */
  field: string;
  /**
   * The offending value (not rendered for Required / Forbidden / Too long / Internal error). An error
   * without a `value` key renders no value at all, like Go's `field.OmitValueType` (the API server does
   * this for a CEL rule that evaluates to false); `value: undefined` renders `null` (a nil pointer).
   */
  value?: unknown;
  detail: string;
}

/** The path Go prints for a nil *field.Path. */
export const NilPath = "<nil>";

const TypeStrings: Record<FieldErrorType, string> = {
  FieldValueNotFound: "Not found",
  FieldValueRequired: "Required value",
  FieldValueDuplicate: "Duplicate value",
  FieldValueInvalid: "Invalid value",
  FieldValueNotSupported: "Unsupported value",
  FieldValueForbidden: "Forbidden",
  FieldValueTooLong: "Too long",
  FieldValueTooShort: "Too short",
  FieldValueTooMany: "Too many",
  FieldValueTooFew: "Too few",
  InternalError: "Internal error",
  FieldValueTypeInvalid: "Invalid value",
};

// ---------------------------------------------------------------------------------------------- constructors

export const invalid = (field: string, value: unknown, detail: string): FieldError => ({
  type: "FieldValueInvalid",
  field,
  value,
  detail,
});
export const required = (field: string, detail = ""): FieldError => ({
  type: "FieldValueRequired",
  field,
  value: "",
  detail,
});
export const forbidden = (field: string, detail: string): FieldError => ({
  type: "FieldValueForbidden",
  field,
  value: "",
  detail,
});
export const duplicate = (field: string, value: unknown): FieldError => ({
  type: "FieldValueDuplicate",
  field,
  value,
  detail: "",
});
export const notSupported = (field: string, value: unknown, validValues: readonly string[]): FieldError => ({
  type: "FieldValueNotSupported",
  field,
  value,
  detail: validValues.length > 0 ? `supported values: ${validValues.map(goQuote).join(", ")}` : "",
});
/** field.TooLong: `may not be more than <n> bytes` (the value is never shown). */
export const tooLong = (field: string, maxLength: number): FieldError => ({
  type: "FieldValueTooLong",
  field,
  value: "<value omitted>",
  detail:
    maxLength >= 0 ? `may not be more than ${maxLength} ${maxLength === 1 ? "byte" : "bytes"}` : "value is too long",
});
export const tooMany = (field: string, actual: number, max: number): FieldError => ({
  type: "FieldValueTooMany",
  field,
  value: actual,
  detail: max >= 0 ? `must have at most ${max} ${max === 1 ? "item" : "items"}` : "has too many items",
});
export const internal = (field: string, text: string): FieldError => ({
  type: "InternalError",
  field,
  value: text,
  detail: text,
});
/** A plain (non-field) Go error, wrapped as `field.InternalError(nil, err)`: renders `<nil>: Internal error: <text>`. */
export const plain = (text: string): FieldError => internal(NilPath, text);

// ---------------------------------------------------------------------------------------------- rendering

/** Go's strconv.Quote (what `%q` prints). */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    switch (ch) {
      case '"':
        out += '\\"';
        continue;
      case "\\":
        out += "\\\\";
        continue;
      case "\x07":
        out += "\\a";
        continue;
      case "\b":
        out += "\\b";
        continue;
      case "\f":
        out += "\\f";
        continue;
      case "\n":
        out += "\\n";
        continue;
      case "\r":
        out += "\\r";
        continue;
      case "\t":
        out += "\\t";
        continue;
      case "\v":
        out += "\\v";
        continue;
    }
    if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, "0")}`;
    else if (cp >= 0xd800 && cp <= 0xdfff) out += "\\ufffd";
    else if (/[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Zl}\p{Zp}]/u.test(ch) || (/\p{Zs}/u.test(ch) && ch !== " ")) {
      out += cp > 0xffff ? `\\U${cp.toString(16).padStart(8, "0")}` : `\\u${cp.toString(16).padStart(4, "0")}`;
    } else out += ch;
  }
  return `${out}"`;
}

/**
 * Go's json.Marshal of a plain JSON value: JSON with `<`, `>`, `&`, U+2028 and U+2029 escaped.
 * `undefined` (a nil pointer) renders as `null`. Key order is the object's own order.
 */
export function goJson(value: unknown): string {
  const s = JSON.stringify(value === undefined ? null : value) ?? "null";
  return s.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${(c.codePointAt(0) ?? 0).toString(16).padStart(4, "0")}`);
}

/**
 * Renders a bad value as Go's field.Error does: strings `%q`-quoted, numbers and booleans plain, anything
 * else json.Marshal'ed (a GoValue carries the JSON of the typed Go value: pointers, structs, lists).
 */
export function renderValue(value: unknown): string {
  if (value instanceof GoValue) return value.json;
  if (typeof value === "string") return goQuote(value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return goJson(value);
}

/** The error without its field (`ErrorBody()`; the `message` of a Status cause). */
export function errorBody(e: FieldError): string {
  let s = TypeStrings[e.type] ?? `<unknown error ${goQuote(e.type)}>`;
  switch (e.type) {
    case "FieldValueRequired":
    case "FieldValueForbidden":
    case "FieldValueTooLong":
    case "FieldValueTooShort":
    case "InternalError":
      break;
    default:
      if (Object.hasOwn(e, "value")) s += `: ${renderValue(e.value)}`;
  }
  if (e.detail.length > 0) s += `: ${e.detail}`;
  return s;
}

/** `<field>: <Type>: <value>: <detail>` exactly as Go's `field.Error.Error()`. */
export function formatFieldError(e: FieldError): string {
  return `${e.field}: ${errorBody(e)}`;
}

/** Go's aggregate error text: the single message, or `[a, b]` with duplicates removed. */
export function aggregateMessage(errors: readonly FieldError[]): string {
  const seen: string[] = [];
  for (const e of errors) {
    const msg = formatFieldError(e);
    if (!seen.includes(msg)) seen.push(msg);
  }
  if (seen.length === 1) return seen[0] ?? "";
  return `[${seen.join(", ")}]`;
}

/** A metav1.StatusCause (`reason` is the field.ErrorType, e.g. FieldValueInvalid). */
export interface StatusCause {
  reason: string;
  message: string;
  field: string;
}

/**
 * The metav1.Status of `apierrors.NewInvalid(JobSet.jobset.x-k8s.io, name, errors)`, as Go encodes it:
 * no kind/apiVersion, `details.name` omitted when empty, each cause has `reason`, `message` and `field`.
 */
export function toStatus(
  name: string,
  errors: readonly FieldError[],
  group = "jobset.x-k8s.io",
  kind = "JobSet",
): Status & { details: { causes: StatusCause[] } } {
  const qualified = group === "" ? kind : `${kind}.${group}`;
  const message =
    errors.length === 0
      ? `${qualified} ${goQuote(name)} is invalid`
      : `${qualified} ${goQuote(name)} is invalid: ${aggregateMessage(errors)}`;
  // No kind/apiVersion: Go's apierrors status has an empty TypeMeta, so the admission response carries
  // none (the API server adds them when it answers the client).
  return {
    metadata: {},
    status: "Failure",
    message,
    reason: "Invalid",
    details: {
      ...(name === "" ? {} : { name }),
      group,
      kind,
      causes: errors.map((e) => ({ reason: e.type, message: errorBody(e), field: e.field })),
    },
    code: 422,
  };
}

// ---------------------------------------------------------------------------------------------- validation helpers
// k8s.io/apimachinery/pkg/util/validation: each returns the list of error strings (empty = valid).

/** `must be no more than <n> characters` (util/validation: DNS labels and subdomains). */
export const maxLenError = (length: number): string => `must be no more than ${length} characters`;
/** `must be no more than <n> bytes` (api/validate/content: label keys and values, apimachinery ≥ 0.36). */
export const maxLenBytesError = (length: number): string => `must be no more than ${length} bytes`;
/** `must be non-empty` */
export const emptyError = (): string => "must be non-empty";

/** `<msg> (e.g. 'a',  or 'b', regex used for validation is '<fmt>')` (note the double spaces). */
export function regexError(msg: string, fmt: string, ...examples: string[]): string {
  if (examples.length === 0) return `${msg} (regex used for validation is '${fmt}')`;
  let s = `${msg} (e.g. `;
  examples.forEach((ex, i) => {
    if (i > 0) s += " or ";
    s += `'${ex}', `;
  });
  return `${s}regex used for validation is '${fmt}')`;
}

const byteLength = (s: string): number => Buffer.byteLength(s, "utf8");

export const DNS1123LabelMaxLength = 63;
export const DNS1123SubdomainMaxLength = 253;
export const DNS1035LabelMaxLength = 63;
export const LabelValueMaxLength = 63;

const dns1123LabelFmt = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const dns1123LabelErrMsg =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
const dns1123LabelRe = new RegExp(`^${dns1123LabelFmt}$`);

export function isDNS1123Label(value: string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > DNS1123LabelMaxLength) errs.push(maxLenError(DNS1123LabelMaxLength));
  if (!dns1123LabelRe.test(value)) errs.push(regexError(dns1123LabelErrMsg, dns1123LabelFmt, "my-name", "123-abc"));
  return errs;
}

const dns1123SubdomainFmt = `${dns1123LabelFmt}(\\.${dns1123LabelFmt})*`;
const dns1123SubdomainErrMsg =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
const dns1123SubdomainRe = new RegExp(`^${dns1123SubdomainFmt}$`);

export function isDNS1123Subdomain(value: string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > DNS1123SubdomainMaxLength) errs.push(maxLenError(DNS1123SubdomainMaxLength));
  if (!dns1123SubdomainRe.test(value)) {
    errs.push(regexError(dns1123SubdomainErrMsg, dns1123SubdomainFmt, "example.com"));
  }
  return errs;
}

const dns1035LabelFmt = "[a-z]([-a-z0-9]*[a-z0-9])?";
const dns1035LabelErrMsg =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character";
const dns1035LabelRe = new RegExp(`^${dns1035LabelFmt}$`);

export function isDNS1035Label(value: string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > DNS1035LabelMaxLength) errs.push(maxLenError(DNS1035LabelMaxLength));
  if (!dns1035LabelRe.test(value)) errs.push(regexError(dns1035LabelErrMsg, dns1035LabelFmt, "my-name", "abc-123"));
  return errs;
}

const labelKeyFmt = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const labelKeyErrMsg =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const labelKeyRe = new RegExp(`^${labelKeyFmt}$`);
const labelKeyMaxLength = 63;

/** IsQualifiedName / IsLabelKey: `[prefix/]name`. */
export function isQualifiedName(value: string): string[] {
  const errs: string[] = [];
  let name: string;
  const slash = value.indexOf("/");
  if (slash < 0) {
    name = value;
  } else {
    const prefix = value.slice(0, slash);
    name = value.slice(slash + 1);
    if (name.includes("/")) {
      return [
        `a valid label key ${regexError(labelKeyErrMsg, labelKeyFmt, "MyName", "my.name", "123-abc")} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
      ];
    }
    if (prefix.length === 0) errs.push(`prefix part ${emptyError()}`);
    else for (const m of isDNS1123Subdomain(prefix)) errs.push(`prefix part ${m}`);
  }
  if (name.length === 0) errs.push(`name part ${emptyError()}`);
  else if (byteLength(name) > labelKeyMaxLength) errs.push(`name part ${maxLenBytesError(labelKeyMaxLength)}`);
  if (!labelKeyRe.test(name)) {
    errs.push(`name part ${regexError(labelKeyErrMsg, labelKeyFmt, "MyName", "my.name", "123-abc")}`);
  }
  return errs;
}

const labelValueFmt = `(${labelKeyFmt})?`;
const labelValueErrMsg =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";

export function isValidLabelValue(value: string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > LabelValueMaxLength) errs.push(maxLenBytesError(LabelValueMaxLength));
  if (value.length > 0 && !labelKeyRe.test(value)) {
    errs.push(regexError(labelValueErrMsg, labelValueFmt, "MyValue", "my_value", "12345"));
  }
  return errs;
}

const httpPathFmt = "[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+";
const httpPathRe = new RegExp(`^${httpPathFmt}$`);

/** k8s.io/apimachinery/pkg/api/validation.IsDomainPrefixedPath, e.g. `acme.io/foo`. */
export function isDomainPrefixedPath(field: string, value: string): FieldError[] {
  if (value.length === 0) return [required(field, "")];
  const slash = value.indexOf("/");
  const host = slash < 0 ? value : value.slice(0, slash);
  const path = slash < 0 ? "" : value.slice(slash + 1);
  if (slash < 0 || host.length === 0 || path.length === 0) {
    return [invalid(field, value, 'must be a domain-prefixed path (such as "acme.io/foo")')];
  }
  const errs = isDNS1123Subdomain(host).map((m) => invalid(field, host, m));
  if (!httpPathRe.test(path)) errs.push(invalid(field, path, regexError("Invalid path", httpPathFmt)));
  return errs;
}
