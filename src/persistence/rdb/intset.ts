/**
 * Intset blobs (intset.c): small sets whose members are all integers. Layout:
 * `<encoding u32le: 2|4|8> <length u32le> <length values of that width, little-endian,
 * strictly ascending>`. The width is the smallest that holds every member
 * (`_intsetValueEncoding`), which the encoder follows so its blobs equal Redis's.
 */
import { BlobError, int64ToString, stringToInt64 } from "./types.ts";

/**
 * Decodes and validates an intset held in `blob[start, end)` (like
 * `intsetValidateIntegrity` with deep checks: known width, size matches the count, not
 * empty, strictly ascending). Members come back as decimal strings in ascending order.
 */
export function intsetDecode(blob: Uint8Array, start = 0, end = blob.length): string[] {
  const out: string[] = [];
  intsetWalk(blob, start, end, out);
  return out;
}

/**
 * Validates an intset as intsetDecode does and returns its member count, without a
 * string per member (a loader that keeps the blob as it is needs no more).
 */
export function intsetCount(blob: Uint8Array, start = 0, end = blob.length): number {
  return intsetWalk(blob, start, end, null);
}

/** Validates `blob[start, end)`; appends the members to `out` unless it is null. */
function intsetWalk(blob: Uint8Array, start: number, end: number, out: string[] | null): number {
  const size = end - start;
  if (size < 8) throw new BlobError(`intset of ${size} bytes is shorter than its header`, 0);
  const enc = u32le(blob, start);
  if (enc !== 2 && enc !== 4 && enc !== 8) {
    throw new BlobError(`intset has invalid encoding ${enc} (expected 2, 4 or 8)`, 0);
  }
  const count = u32le(blob, start + 4);
  if (8 + count * enc !== size) {
    throw new BlobError(
      `intset header says ${count} members of ${enc} bytes (${8 + count * enc} bytes) ` +
        `but blob has ${size}`,
      4,
    );
  }
  if (count === 0) throw new BlobError("intset is empty", 4);
  let p = start + 8;
  if (enc === 8) {
    let prevHi = 0;
    let prevLo = 0;
    for (let i = 0; i < count; i++, p += 8) {
      const lo = u32le(blob, p);
      const hi = blob[p + 4] | (blob[p + 5] << 8) | (blob[p + 6] << 16) | (blob[p + 7] << 24);
      if (i > 0 && (hi < prevHi || (hi === prevHi && lo <= prevLo))) throw unordered(i, p - start);
      prevHi = hi;
      prevLo = lo;
      if (out !== null) out.push(int64ToString(hi, lo));
    }
  } else {
    let prev = -Infinity;
    for (let i = 0; i < count; i++, p += enc) {
      const v = enc === 2
        ? ((blob[p] | (blob[p + 1] << 8)) << 16) >> 16
        : blob[p] | (blob[p + 1] << 8) | (blob[p + 2] << 16) | (blob[p + 3] << 24);
      if (v <= prev) throw unordered(i, p - start);
      prev = v;
      if (out !== null) out.push(String(v));
    }
  }
  return count;
}

function unordered(i: number, at: number): BlobError {
  return new BlobError(`intset member ${i} is not greater than the one before it`, at);
}

/** True when every member is a canonical 64-bit integer (the intset condition). */
export function intsetEligible(members: readonly string[]): boolean {
  for (let i = 0; i < members.length; i++) if (stringToInt64(members[i]) === null) return false;
  return true;
}

/**
 * Encodes `members` as an intset, or returns null if one of them is not a canonical
 * 64-bit integer (Redis would keep such a set as a hash table). Throws on duplicates.
 */
export function intsetEncode(members: readonly string[]): Uint8Array | null {
  const n = members.length;
  let anyBig = false;
  const nums: (number | bigint)[] = new Array(n);
  let enc = 2;
  for (let i = 0; i < n; i++) {
    const v = stringToInt64(members[i]);
    if (v === null) return null;
    nums[i] = v;
    if (typeof v === "bigint") {
      anyBig = true;
      enc = 8;
    } else if (v < -2147483648 || v > 2147483647) enc = 8;
    else if (enc < 4 && (v < -32768 || v > 32767)) enc = 4;
  }
  if (anyBig) {
    nums.sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0));
  } else {
    (nums as number[]).sort((a, b) => a - b);
  }
  const out = new Uint8Array(8 + n * enc);
  out[0] = enc;
  out[4] = n;
  out[5] = n >>> 8;
  out[6] = n >>> 16;
  out[7] = n >>> 24;
  let p = 8;
  for (let i = 0; i < n; i++, p += enc) {
    const v = nums[i];
    if (i > 0 && nums[i - 1] == v) throw new RangeError(`duplicate intset member ${v}`);
    if (enc === 8) {
      const u = BigInt.asUintN(64, BigInt(v));
      const lo = Number(u & 0xffffffffn);
      const hi = Number(u >> 32n);
      out[p] = lo;
      out[p + 1] = lo >>> 8;
      out[p + 2] = lo >>> 16;
      out[p + 3] = lo >>> 24;
      out[p + 4] = hi;
      out[p + 5] = hi >>> 8;
      out[p + 6] = hi >>> 16;
      out[p + 7] = hi >>> 24;
    } else {
      const x = v as number;
      out[p] = x;
      out[p + 1] = x >> 8;
      if (enc === 4) {
        out[p + 2] = x >> 16;
        out[p + 3] = x >> 24;
      }
    }
  }
  return out;
}

function u32le(b: Uint8Array, at: number): number {
  return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
}
