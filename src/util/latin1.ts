/**
 * Latin-1 strings to and from bytes, the two hot directions.
 *
 * Bytes to string: short Latin-1 strings from bytes without a runtime call: in Deno, Buffer's
 * `latin1Slice` costs ~90 ns a call, while `String.fromCharCode` with the bytes as
 * arguments builds a 5-16 byte string in 20-60 ns (measured). In Bun the native slice is
 * the faster one, so callers ask SHORT_BY_ARGS first. Used by the RDB reader (load 5-10%
 * faster); in the request parser two A/B runs disagreed, so it is not used there
 * (BENCHMARKS.md).
 */

const encoder = new TextEncoder();

/**
 * Below this length the charCodeAt loop beats `encodeInto`'s call overhead. Above it,
 * `encodeInto` (native, ~0.2 ns/byte) replaces the loop (4-7 ns/byte on a reply string
 * built by `+=`, measured): its UTF-8 equals Latin-1 when every char is ASCII, which the
 * byte count tells (one byte written per char read); otherwise the loop redoes it.
 */
const NATIVE_MIN = 256;

/**
 * Writes the Latin-1 string `s` (char codes 0..255) at `o` of `b`, which has room for
 * `s.length` bytes; returns where it ends. Replies, the AOF, RDB codecs and snapshot
 * chunks all write strings through it.
 */
export function writeLatin1(b: Uint8Array, o: number, s: string): number {
  const n = s.length;
  if (n >= NATIVE_MIN) {
    const r = encoder.encodeInto(s, b.subarray(o, o + n));
    if (r.read === n && r.written === n) return o + n;
  }
  for (let i = 0; i < n; i++) b[o + i] = s.charCodeAt(i);
  return o + n;
}

/** True where building short strings from arguments beats the native slice (Deno). */
export const SHORT_BY_ARGS = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";

/** Bytes [s, s + n) of `b` as a Latin-1 string, for 5 <= n <= 16. */
// deno-fmt-ignore
export function shortLatin1(b: Uint8Array, s: number, n: number): string {
  switch (n) {
    case 5: return String.fromCharCode(b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4]);
    case 6: return String.fromCharCode(b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4], b[s + 5]);
    case 7: return String.fromCharCode(b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4], b[s + 5], b[s + 6]);
    case 8: return String.fromCharCode(b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4], b[s + 5], b[s + 6], b[s + 7]);
    case 9: return String.fromCharCode(b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4], b[s + 5], b[s + 6], b[s + 7], b[s + 8]);
    case 10: return String.fromCharCode(b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4], b[s + 5], b[s + 6], b[s + 7], b[s + 8], b[s + 9]);
    case 11: return String.fromCharCode(b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4], b[s + 5], b[s + 6], b[s + 7], b[s + 8], b[s + 9], b[s + 10]);
    case 12: return String.fromCharCode(b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4], b[s + 5], b[s + 6], b[s + 7], b[s + 8], b[s + 9], b[s + 10], b[s + 11]);
    case 13: return String.fromCharCode(b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4], b[s + 5], b[s + 6], b[s + 7], b[s + 8], b[s + 9], b[s + 10], b[s + 11], b[s + 12]);
    case 14: return String.fromCharCode(b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4], b[s + 5], b[s + 6], b[s + 7], b[s + 8], b[s + 9], b[s + 10], b[s + 11], b[s + 12], b[s + 13]);
    case 15: return String.fromCharCode(b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4], b[s + 5], b[s + 6], b[s + 7], b[s + 8], b[s + 9], b[s + 10], b[s + 11], b[s + 12], b[s + 13], b[s + 14]);
    case 16: return String.fromCharCode(b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4], b[s + 5], b[s + 6], b[s + 7], b[s + 8], b[s + 9], b[s + 10], b[s + 11], b[s + 12], b[s + 13], b[s + 14], b[s + 15]);
    default: throw new RangeError("shortLatin1: 5 to 16 bytes");
  }
}
