/**
 * The value stored at a key: a string (a Latin-1 JS string, one char per byte) or one
 * of the collection types. Owns the TYPE names and OBJECT ENCODING names.
 */

/** The collection types (list, set, zset, hash) implement this. */
export interface Collection {
  /** TYPE reply: "list" | "set" | "zset" | "hash". */
  readonly type: string;
  /** OBJECT ENCODING reply, in Redis's names (listpack, quicklist, intset, ...). */
  encoding(): string;
}

export type Value = string | Collection;

/** TYPE name of a value. */
export function typeName(v: Value): string {
  return typeof v === "string" ? "string" : v.type;
}

/** Redis's OBJ_ENCODING_EMBSTR_SIZE_LIMIT. */
const EMBSTR_SIZE_LIMIT = 44;

/**
 * True if `s` is the canonical decimal form of a 64-bit signed integer (Redis's
 * `string2ll` succeeding with the same text back), the condition for "int" encoding
 * and for INCR to accept it.
 */
export function isCanonicalInt(s: string): boolean {
  const n = s.length;
  if (n === 0 || n > 20) return false;
  if (n === 1) return s.charCodeAt(0) >= 48 && s.charCodeAt(0) <= 57;
  let i = 0;
  if (s.charCodeAt(0) === 45) i = 1;
  const first = s.charCodeAt(i);
  if (first < 49 || first > 57) return false; // no leading zero, no "-0"
  for (let j = i + 1; j < n; j++) {
    const c = s.charCodeAt(j);
    if (c < 48 || c > 57) return false;
  }
  if (n - i < 19) return true;
  const b = BigInt(s);
  return b >= -(2n ** 63n) && b <= 2n ** 63n - 1n;
}

/** OBJECT ENCODING of a string value, as Redis's `tryObjectEncoding` would leave it. */
export function stringEncoding(s: string): string {
  if (s.length <= 20 && isCanonicalInt(s)) return "int";
  return s.length <= EMBSTR_SIZE_LIMIT ? "embstr" : "raw";
}
