/**
 * Glob-style pattern matching with the exact semantics of Redis 7.0's `stringmatchlen`
 * (util.c), as used by KEYS, SCAN MATCH, PSUBSCRIBE, CONFIG GET, COMMAND LIST FILTERBY,
 * ACL key/channel patterns and friends.
 *
 * Operates on Latin-1 JS strings (one char per byte). Quirks reproduced on purpose:
 * - A string of length 0 never matches a non-empty pattern, not even `*` (callers that
 *   special-case "match everything", like KEYS, check `isMatchAll` first).
 * - Inside `[...]`: `\x` is a literal `x` (compared case-sensitively even with nocase),
 *   `a-z` is a range whose ends are swapped when reversed, compared as *signed* C chars
 *   (so bytes >= 0x80 sort below `\0`), and `[a-]` makes a range up to `]`.
 * - An unterminated `[` (no closing `]`) is a class made of the rest of the pattern.
 * - nocase folds with C-locale `tolower` (ASCII `A-Z` only).
 * - Protection against abusive patterns: once the rest of the pattern after a `*` fails
 *   at every position, enclosing `*`s give up too (`skipLongerMatches`), and a pattern
 *   whose `*`s recurse deeper than 1000 levels does not match.
 */

const STAR = 0x2a; // '*'
const QUESTION = 0x3f; // '?'
const LBRACKET = 0x5b; // '['
const RBRACKET = 0x5d; // ']'
const BACKSLASH = 0x5c; // '\\'
const CARET = 0x5e; // '^'
const DASH = 0x2d; // '-'

/** Redis's limit on `*` recursion depth; deeper patterns report no match. */
const MAX_NESTING = 1000;

/** The by-reference `skipLongerMatches` flag threaded through the recursion. */
interface MatchState {
  skip: boolean;
}

/** C-locale `tolower` on a (possibly negative, signed-char) value. */
function lower(c: number): number {
  return c >= 0x41 && c <= 0x5a ? c + 0x20 : c;
}

/** A byte as a signed C `char` (x86/x86-64 Redis builds): 0x80..0xff -> -128..-1. */
function signed(c: number): number {
  return c >= 0x80 && c <= 0xff ? c - 0x100 : c;
}

/** True when `pattern` is exactly `*`: callers may skip matching entirely. */
export function isMatchAll(pattern: string): boolean {
  return pattern.length === 1 && pattern.charCodeAt(0) === STAR;
}

/** Glob-match `str` against `pattern` exactly as Redis's `stringmatchlen` does. */
export function stringMatch(pattern: string, str: string, nocase = false): boolean {
  return matchImpl(pattern, 0, str, 0, nocase, { skip: false }, 0);
}

/**
 * `stringmatchlen_impl` on the suffixes `pat[p..]` and `str[s..]`. Positions at or past
 * the end read as 0, the NUL terminator C sees after an sds string.
 */
function matchImpl(
  pat: string,
  p: number,
  str: string,
  s: number,
  nocase: boolean,
  state: MatchState,
  nesting: number,
): boolean {
  if (nesting > MAX_NESTING) return false;
  const plen = pat.length;
  const slen = str.length;

  while (p < plen && s < slen) {
    const pc = pat.charCodeAt(p);
    if (pc === STAR) {
      // Collapse runs of '*'.
      while (p + 1 < plen && pat.charCodeAt(p + 1) === STAR) p++;
      if (p + 1 === plen) return true; // trailing '*' matches the rest
      while (s < slen) {
        if (matchImpl(pat, p + 1, str, s, nocase, state, nesting + 1)) return true;
        if (state.skip) return false;
        s++;
      }
      // The rest of the pattern matched at no position of the rest of the string, so
      // an enclosing '*' trying a longer prefix cannot succeed either.
      state.skip = true;
      return false;
    } else if (pc === QUESTION) {
      s++;
    } else if (pc === LBRACKET) {
      const c = str.charCodeAt(s);
      p++;
      const not = p < plen && pat.charCodeAt(p) === CARET;
      if (not) p++;
      let match = false;
      for (;;) {
        const left = plen - p;
        const ch = left > 0 ? pat.charCodeAt(p) : 0;
        if (ch === BACKSLASH && left >= 2) {
          p++;
          if (pat.charCodeAt(p) === c) match = true;
        } else if (ch === RBRACKET) {
          break;
        } else if (left === 0) {
          // Unterminated class: step back so the outer advance lands on the end.
          p--;
          break;
        } else if (left >= 3 && pat.charCodeAt(p + 1) === DASH) {
          let start = signed(ch);
          let end = signed(pat.charCodeAt(p + 2));
          let cc = signed(c);
          if (start > end) {
            const t = start;
            start = end;
            end = t;
          }
          if (nocase) {
            start = lower(start);
            end = lower(end);
            cc = lower(cc);
          }
          p += 2;
          if (cc >= start && cc <= end) match = true;
        } else if (nocase ? lower(ch) === lower(c) : ch === c) {
          match = true;
        }
        p++;
      }
      if (not) match = !match;
      if (!match) return false;
      s++;
    } else {
      // A backslash escapes the next char, unless it is the last char of the pattern.
      if (pc === BACKSLASH && plen - p >= 2) p++;
      const ch = pat.charCodeAt(p);
      const c = str.charCodeAt(s);
      if (nocase ? lower(ch) !== lower(c) : ch !== c) return false;
      s++;
    }
    p++;
    if (s === slen) {
      while (p < plen && pat.charCodeAt(p) === STAR) p++;
      break;
    }
  }
  return p === plen && s === slen;
}
