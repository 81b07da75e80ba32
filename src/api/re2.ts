// RE2 regular expressions with Go's regexp semantics (syntax accepted and refused, matching, error
// text), for `onJobFailureMessagePatterns`. Backed by re2js, a pure-JavaScript port of RE2/J: linear-time
// matching, no look-around or back-references, Go's `(?flags)`, POSIX classes, `\pL`, `\z`, `\Q…\E`.
// test/unit/re2.test.ts checks it against a table computed by running Go's regexp package.
import { RE2JS } from "re2js";

export interface Re2 {
  /** Go's `(*regexp.Regexp).MatchString`: an unanchored search. */
  test(input: string): boolean;
}

export type Re2Compiled = { ok: true; re: Re2 } | { ok: false; error: string };

const cache = new Map<string, Re2Compiled>();
const CacheLimit = 512;

/**
 * Go's `regexp.Compile(pattern)`: the compiled expression, or the error text Go prints
 * (`error parsing regexp: missing closing ]: `[``). Results are cached per pattern.
 */
export function compileRe2(pattern: string): Re2Compiled {
  const hit = cache.get(pattern);
  if (hit) return hit;
  let out: Re2Compiled;
  try {
    const re = RE2JS.compile(pattern);
    out = { ok: true, re: { test: (input) => re.matcher(input).find() } };
  } catch (e) {
    out = { ok: false, error: goErrorText(e instanceof Error ? e.message : String(e)) };
  }
  if (cache.size >= CacheLimit) cache.clear();
  cache.set(pattern, out);
  return out;
}

/** re2js words its errors like Go, except that Go always appends the offending text (``: `` when empty``). */
function goErrorText(message: string): string {
  const msg = message.startsWith("error parsing regexp: ") ? message : `error parsing regexp: ${message}`;
  return msg.endsWith("trailing backslash at end of expression") ? `${msg}: \`\`` : msg;
}
