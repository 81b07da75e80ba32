// The syntax error Go's encoding/json reports for a text that is not valid JSON (its scanner's messages:
// "invalid character 'n' looking for beginning of object key string", "unexpected end of JSON input"), for
// admission bodies that upstream's decoder reads as JSON and refuses (parseAdmissionReview). The scanner
// works on bytes, as Go's does: a non-ASCII character in a wrong place is reported as its first UTF-8 byte,
// shown as the Latin-1 character of that value.

type Step = "continue" | { error: string };

/** Go's quoteChar: the byte as a single-quoted Go literal. */
function quoteChar(c: number): string {
  if (c === 0x27) return "'\\''";
  if (c === 0x22) return "'\"'";
  return `'${goQuoteRune(c)}'`;
}

/** strconv.Quote of the one-rune string `string(rune(c))`, without the surrounding double quotes. */
function goQuoteRune(c: number): string {
  switch (c) {
    case 0x07:
      return "\\a";
    case 0x08:
      return "\\b";
    case 0x0c:
      return "\\f";
    case 0x0a:
      return "\\n";
    case 0x0d:
      return "\\r";
    case 0x09:
      return "\\t";
    case 0x0b:
      return "\\v";
    case 0x5c:
      return "\\\\";
  }
  if (c < 0x20 || c === 0x7f) return `\\x${c.toString(16).padStart(2, "0")}`;
  // U+0080–U+00A0 and the soft hyphen are not printable for strconv.IsPrint.
  if ((c >= 0x80 && c <= 0xa0) || c === 0xad) return `\\u${c.toString(16).padStart(4, "0")}`;
  return String.fromCharCode(c);
}

const isSpace = (c: number) => c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;
const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
const isHex = (c: number) => isDigit(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);

/** The syntax error encoding/json gives for `text`, or undefined when it is valid JSON. */
export function goJsonSyntaxError(text: string): string | undefined {
  const bytes = Buffer.from(text, "utf8");
  const stack: ("key" | "value" | "array")[] = [];
  const err = (c: number, context: string): Step => ({ error: `invalid character ${quoteChar(c)} ${context}` });
  let state: (c: number) => Step;
  /** Go's scanner.endTop: the top-level value is complete. */
  let ended = false;
  /** Go's popParseState: closing the outermost object or array ends the top-level value. */
  const pop = (): Step => {
    stack.pop();
    if (stack.length === 0) {
      ended = true;
      state = endTop;
    } else state = endValue;
    return "continue";
  };

  const endValue = (c: number): Step => {
    const top = stack.at(-1);
    if (top === undefined) {
      ended = true;
      state = endTop;
      return endTop(c);
    }
    if (isSpace(c)) return "continue";
    if (top === "key") {
      if (c === 0x3a) {
        stack[stack.length - 1] = "value";
        state = beginValue;
        return "continue";
      }
      return err(c, "after object key");
    }
    if (top === "value") {
      if (c === 0x2c) {
        stack[stack.length - 1] = "key";
        state = beginString;
        return "continue";
      }
      if (c === 0x7d) return pop();
      return err(c, "after object key:value pair");
    }
    if (c === 0x2c) {
      state = beginValue;
      return "continue";
    }
    if (c === 0x5d) return pop();
    return err(c, "after array element");
  };
  /** A number ended at `c`: `c` is read as what follows a value. */
  const toEndValue = (c: number): Step => {
    state = endValue;
    return endValue(c);
  };
  const endTop = (c: number): Step => (isSpace(c) ? "continue" : err(c, "after top-level value"));
  const literal =
    (rest: string, name: string) =>
    (c: number): Step => {
      const want = rest.charCodeAt(0);
      if (c !== want) return err(c, `in literal ${name} (expecting '${rest[0]}')`);
      state = rest.length === 1 ? endValue : literal(rest.slice(1), name);
      return "continue";
    };
  const inString = (c: number): Step => {
    if (c === 0x22) {
      state = endValue;
      return "continue";
    }
    if (c === 0x5c) {
      state = inStringEsc;
      return "continue";
    }
    return c < 0x20 ? err(c, "in string literal") : "continue";
  };
  const inStringEsc = (c: number): Step => {
    if ('bfnrt\\/"'.includes(String.fromCharCode(c))) {
      state = inString;
      return "continue";
    }
    if (c === 0x75) {
      state = hex(4);
      return "continue";
    }
    return err(c, "in string escape code");
  };
  const hex =
    (n: number) =>
    (c: number): Step => {
      if (!isHex(c)) return err(c, "in \\u hexadecimal character escape");
      state = n === 1 ? inString : hex(n - 1);
      return "continue";
    };
  const neg = (c: number): Step => {
    if (c === 0x30) {
      state = zero;
      return "continue";
    }
    if (c >= 0x31 && c <= 0x39) {
      state = one;
      return "continue";
    }
    return err(c, "in numeric literal");
  };
  const one = (c: number): Step => (isDigit(c) ? "continue" : zero(c));
  const zero = (c: number): Step => {
    if (c === 0x2e) {
      state = dot;
      return "continue";
    }
    if (c === 0x65 || c === 0x45) {
      state = exp;
      return "continue";
    }
    return toEndValue(c);
  };
  const dot = (c: number): Step => {
    if (isDigit(c)) {
      state = dot0;
      return "continue";
    }
    return err(c, "after decimal point in numeric literal");
  };
  const dot0 = (c: number): Step => {
    if (isDigit(c)) return "continue";
    if (c === 0x65 || c === 0x45) {
      state = exp;
      return "continue";
    }
    return toEndValue(c);
  };
  const exp = (c: number): Step => {
    if (c === 0x2b || c === 0x2d) {
      state = expSign;
      return "continue";
    }
    return expSign(c);
  };
  const expSign = (c: number): Step => {
    if (isDigit(c)) {
      state = exp0;
      return "continue";
    }
    return err(c, "in exponent of numeric literal");
  };
  const exp0 = (c: number): Step => {
    if (isDigit(c)) return "continue";
    return toEndValue(c);
  };
  const beginValue = (c: number): Step => {
    if (isSpace(c)) return "continue";
    switch (c) {
      case 0x7b:
        stack.push("key");
        state = beginStringOrEmpty;
        return "continue";
      case 0x5b:
        stack.push("array");
        state = beginValueOrEmpty;
        return "continue";
      case 0x22:
        state = inString;
        return "continue";
      case 0x2d:
        state = neg;
        return "continue";
      case 0x30:
        state = zero;
        return "continue";
      case 0x74:
        state = literal("rue", "true");
        return "continue";
      case 0x66:
        state = literal("alse", "false");
        return "continue";
      case 0x6e:
        state = literal("ull", "null");
        return "continue";
    }
    if (c >= 0x31 && c <= 0x39) {
      state = one;
      return "continue";
    }
    return err(c, "looking for beginning of value");
  };
  const beginStringOrEmpty = (c: number): Step => {
    if (isSpace(c)) return "continue";
    if (c === 0x7d) return pop();
    return beginString(c);
  };
  const beginString = (c: number): Step => {
    if (isSpace(c)) return "continue";
    if (c === 0x22) {
      state = inString;
      return "continue";
    }
    return err(c, "looking for beginning of object key string");
  };
  const beginValueOrEmpty = (c: number): Step => {
    if (isSpace(c)) return "continue";
    if (c === 0x5d) return pop();
    return beginValue(c);
  };

  state = beginValue;
  for (const c of bytes) {
    const step = state(c);
    if (typeof step === "object") return step.error;
  }
  // Go's scanner.eof: complete, or completed by one more space, or "unexpected end" (unless that space is
  // itself an error, as in the middle of a literal).
  if (ended) return undefined;
  const last = state(0x20);
  if (typeof last === "object") return last.error;
  return ended ? undefined : "unexpected end of JSON input";
}
