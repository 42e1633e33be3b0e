/**
 * Listpack blobs (listpack.c): the compact encoding of small hashes, sorted sets, lists
 * (quicklist nodes) and, from Redis 7.2, small sets.
 *
 * Layout: `<total-bytes u32le> <num-elements u16le> <entry>... <0xff>`, and every entry is
 * `<encoding+data> <backlen>`, where backlen is the size of encoding+data written in 1..5
 * bytes of 7 bits, readable from right to left. Encodings:
 *
 * | first byte  | meaning                                          |
 * | ----------- | ------------------------------------------------ |
 * | `0xxxxxxx`  | uint 0..127                                      |
 * | `10xxxxxx`  | string, 6-bit length                             |
 * | `110xxxxx`  | int13, 1 more byte                               |
 * | `1110xxxx`  | string, 12-bit length (1 more byte)              |
 * | `11110000`  | string, 32-bit LE length                         |
 * | `f1 f2 f3 f4` | int16 / int24 / int32 / int64, little-endian   |
 *
 * The decoder validates like `lpValidateIntegrity` with deep checks and says which rule
 * failed; the encoder chooses integer encodings exactly as `lpAppend` does (through
 * `lpStringToInt64`), so its blobs equal the ones Redis writes for the same elements.
 */
import { BlobError, int64ToString, latin1, stringToInt64 } from "./types.ts";
import { writeLatin1 } from "../../util/latin1.ts";

const HDR = 6;
const EOF = 0xff;
/** Header count meaning "count the entries" (lpLength walks them). */
const NUMELE_UNKNOWN = 65535;

/** Bytes needed to write `l` as a backlen (lpEncodeBacklen). */
function backlenSize(l: number): number {
  return l <= 127 ? 1 : l < 16383 ? 2 : l < 2097151 ? 3 : l < 268435455 ? 4 : 5;
}

/**
 * Decodes and validates a listpack held in `blob[start, end)`; returns its elements as
 * strings (integers in decimal). Throws BlobError naming the first thing that does not
 * add up, with the offset relative to `start`.
 */
export function listpackDecode(blob: Uint8Array, start = 0, end = blob.length): string[] {
  const numele = end - start >= HDR ? blob[start + 4] | (blob[start + 5] << 8) : 0;
  const out: string[] = numele !== NUMELE_UNKNOWN ? new Array(numele) : [];
  walk(blob, start, end, out);
  return out;
}

/** listpackPacked's output: `bytes[0, len)`, of which the first `head` are the caller's. */
export const packed = { bytes: new Uint8Array(4096), len: 0 };

/**
 * Validates a listpack as listpackDecode does, and writes its elements into
 * `packed.bytes` after `head` bytes left for the caller, each as its length (one byte,
 * or 0xff and a u32le from 255 on) then its bytes: the packed form of hash.ts, built with
 * no string per element. Returns the element count.
 */
export function listpackPacked(blob: Uint8Array, start: number, end: number, head: number): number {
  packed.len = head;
  return walk(blob, start, end, null);
}

/** Makes room for `n` more bytes in `packed`. */
function packRoom(n: number): void {
  if (packed.len + n <= packed.bytes.length) return;
  const grown = new Uint8Array(Math.max(2 * packed.bytes.length, packed.len + n));
  grown.set(packed.bytes.subarray(0, packed.len));
  packed.bytes = grown;
}

function packLength(n: number): void {
  packRoom(5 + n);
  const b = packed.bytes;
  if (n < 255) {
    b[packed.len++] = n;
  } else {
    b[packed.len] = 255;
    b[packed.len + 1] = n & 255;
    b[packed.len + 2] = (n >>> 8) & 255;
    b[packed.len + 3] = (n >>> 16) & 255;
    b[packed.len + 4] = (n >>> 24) & 255;
    packed.len += 5;
  }
}

function packBytes(blob: Uint8Array, from: number, to: number): void {
  packLength(to - from);
  const b = packed.bytes;
  if (to - from > 32) {
    b.set(blob.subarray(from, to), packed.len);
    packed.len += to - from;
    return;
  }
  // Most elements are short: a loop beats a subarray view per element.
  let o = packed.len;
  for (let i = from; i < to; i++) b[o++] = blob[i];
  packed.len = o;
}

function packString(s: string): void {
  packLength(s.length);
  packed.len = writeLatin1(packed.bytes, packed.len, s);
}

/**
 * The decoder: validates `blob[start, end)` and hands each element to `out` (a string
 * each), or, when `out` is null, to `packed`. Returns the element count.
 */
function walk(blob: Uint8Array, start: number, end: number, out: string[] | null): number {
  const size = end - start;
  if (size < HDR + 1) {
    throw new BlobError(`listpack of ${size} bytes is shorter than its header (7 bytes)`, 0);
  }
  const total =
    (blob[start] | (blob[start + 1] << 8) | (blob[start + 2] << 16) | (blob[start + 3] << 24)) >>>
    0;
  if (total !== size) {
    throw new BlobError(`listpack header says ${total} bytes but blob has ${size}`, 0);
  }
  if (blob[end - 1] !== EOF) {
    throw new BlobError(
      `listpack does not end with the 0xff terminator (last byte is 0x${
        blob[end - 1].toString(16)
      })`,
      size - 1,
    );
  }
  const numele = blob[start + 4] | (blob[start + 5] << 8);
  let count = 0;
  let p = start + HDR;
  const last = end - 1; // the terminator
  while (p < last) {
    const at = p;
    const b = blob[p];
    // An integer's decimal form, or "" for a string element held in blob[sa, sb).
    let value = "";
    let sa = 0;
    let sb = 0;
    let encLen: number; // size of encoding + data
    if (b < 0x80) {
      value = String(b);
      encLen = 1;
    } else if (b < 0xc0) {
      const len = b & 0x3f;
      encLen = 1 + len;
      if (p + encLen > last) throw overflow(at, start, encLen);
      sa = p + 1;
      sb = p + encLen;
    } else if (b < 0xe0) {
      if (p + 2 > last) throw overflow(at, start, 2);
      let v = ((b & 0x1f) << 8) | blob[p + 1];
      if (v >= 1 << 12) v -= 1 << 13;
      value = String(v);
      encLen = 2;
    } else if (b < 0xf0) {
      if (p + 2 > last) throw overflow(at, start, 2);
      const len = ((b & 0x0f) << 8) | blob[p + 1];
      encLen = 2 + len;
      if (p + encLen > last) throw overflow(at, start, encLen);
      sa = p + 2;
      sb = p + encLen;
    } else {
      switch (b) {
        case 0xf0: {
          if (p + 5 > last) throw overflow(at, start, 5);
          const len = (blob[p + 1] | (blob[p + 2] << 8) | (blob[p + 3] << 16) |
            (blob[p + 4] << 24)) >>> 0;
          encLen = 5 + len;
          if (p + encLen > last) throw overflow(at, start, encLen);
          sa = p + 5;
          sb = p + encLen;
          break;
        }
        case 0xf1: {
          if (p + 3 > last) throw overflow(at, start, 3);
          value = String(((blob[p + 1] | (blob[p + 2] << 8)) << 16) >> 16);
          encLen = 3;
          break;
        }
        case 0xf2: {
          if (p + 4 > last) throw overflow(at, start, 4);
          value = String(((blob[p + 1] | (blob[p + 2] << 8) | (blob[p + 3] << 16)) << 8) >> 8);
          encLen = 4;
          break;
        }
        case 0xf3: {
          if (p + 5 > last) throw overflow(at, start, 5);
          value = String(
            blob[p + 1] | (blob[p + 2] << 8) | (blob[p + 3] << 16) | (blob[p + 4] << 24),
          );
          encLen = 5;
          break;
        }
        case 0xf4: {
          if (p + 9 > last) throw overflow(at, start, 9);
          const lo = blob[p + 1] | (blob[p + 2] << 8) | (blob[p + 3] << 16) | (blob[p + 4] << 24);
          const hi = blob[p + 5] | (blob[p + 6] << 8) | (blob[p + 7] << 16) | (blob[p + 8] << 24);
          value = int64ToString(hi, lo);
          encLen = 9;
          break;
        }
        default:
          throw new BlobError(
            `listpack entry ${count} has invalid encoding byte 0x${b.toString(16)}`,
            at - start,
          );
      }
    }
    const bl = backlenSize(encLen);
    if (p + encLen + bl > last) throw overflow(at, start, encLen + bl);
    // Read the backlen right to left, as lpPrev does.
    let q = p + encLen + bl - 1;
    let back = 0;
    let shift = 0;
    for (;;) {
      const c = blob[q];
      back += (c & 127) * 2 ** shift;
      if (!(c & 128)) break;
      shift += 7;
      q--;
      if (q < p + encLen || shift > 28) {
        back = -1;
        break;
      }
    }
    if (back !== encLen || q !== p + encLen) {
      throw new BlobError(
        `listpack entry ${count} has a bad backlen (says ${back}, entry is ${encLen} bytes)`,
        p + encLen - start,
      );
    }
    p += encLen + bl;
    if (out === null) {
      if (value === "") packBytes(blob, sa, sb);
      else packString(value);
    } else {
      if (value === "") value = latin1(blob, sa, sb);
      if (count < out.length) out[count] = value;
      else out.push(value);
    }
    count++;
  }
  if (p !== last) {
    throw new BlobError(`listpack entries end at byte ${p - start}, not at the terminator`, p);
  }
  if (numele !== NUMELE_UNKNOWN && numele !== count) {
    throw new BlobError(`listpack header says ${numele} elements but it holds ${count}`, 4);
  }
  return count;
}

function overflow(at: number, start: number, need: number): BlobError {
  return new BlobError(
    `listpack entry at byte ${at - start} (${need} bytes) runs past the terminator`,
    at - start,
  );
}

// Scratch space for the encoder's first pass: the integer chosen for each element (or
// NaN for "string") so the second pass does not parse again.
let ints = new Float64Array(64);
let bigs: (bigint | undefined)[] = [];

/** Bytes the element takes as encoding+data, with its integer noted in the scratch. */
function measure(s: string, i: number): number {
  const v = stringToInt64(s);
  if (v === null) {
    ints[i] = NaN;
    const n = s.length;
    return n < 64 ? 1 + n : n < 4096 ? 2 + n : 5 + n;
  }
  if (typeof v === "bigint") {
    ints[i] = Infinity;
    bigs[i] = v;
    return 9;
  }
  ints[i] = v;
  if (v >= 0 && v <= 127) return 1;
  if (v >= -4096 && v <= 4095) return 2;
  if (v >= -32768 && v <= 32767) return 3;
  if (v >= -8388608 && v <= 8388607) return 4;
  if (v >= -2147483648 && v <= 2147483647) return 5;
  return 9;
}

/** Encoded size of a listpack holding `items` (what listpackEncode will allocate). */
export function listpackSize(items: readonly string[]): number {
  if (ints.length < items.length) ints = new Float64Array(items.length * 2);
  let total = HDR + 1;
  for (let i = 0; i < items.length; i++) {
    const l = measure(items[i], i);
    total += l + backlenSize(l);
  }
  return total;
}

/**
 * Encodes `items` as a listpack, byte-identical to Redis appending them one by one.
 *
 * @example
 * ```ts
 * listpackEncode(["a", "1"]); // 0c 00 00 00 02 00 81 61 02 01 01 ff
 * ```
 */
export function listpackEncode(items: readonly string[]): Uint8Array {
  const n = listpackEncodeInto(items);
  return encoded.bytes.slice(0, n);
}

/** listpackEncodeInto's output buffer: the listpack is `bytes[0, n)`, until the next call. */
export const encoded = { bytes: new Uint8Array(1024) };

/**
 * listpackEncode into `encoded.bytes` (reused: an RDB writer saving a million small
 * collections then allocates no array per listpack). Returns the listpack's size.
 */
export function listpackEncodeInto(items: readonly string[]): number {
  const n = items.length;
  if (ints.length < n) ints = new Float64Array(n * 2);
  if (bigs.length) bigs = [];
  let total = HDR + 1;
  for (let i = 0; i < n; i++) {
    const l = measure(items[i], i);
    total += l + backlenSize(l);
  }
  if (total > 0xffffffff) throw new RangeError("listpack would exceed 4 GB");
  if (encoded.bytes.length < total) {
    encoded.bytes = new Uint8Array(Math.max(total, 2 * encoded.bytes.length));
  }
  const out = encoded.bytes;
  out[0] = total;
  out[1] = total >>> 8;
  out[2] = total >>> 16;
  out[3] = total >>> 24;
  const numele = n < NUMELE_UNKNOWN ? n : NUMELE_UNKNOWN;
  out[4] = numele;
  out[5] = numele >>> 8;
  let p = HDR;
  for (let i = 0; i < n; i++) {
    const start = p;
    const v = ints[i];
    if (Number.isNaN(v)) {
      const s = items[i];
      const len = s.length;
      if (len < 64) {
        out[p++] = 0x80 | len;
      } else if (len < 4096) {
        out[p++] = 0xe0 | (len >>> 8);
        out[p++] = len & 0xff;
      } else {
        out[p++] = 0xf0;
        out[p++] = len;
        out[p++] = len >>> 8;
        out[p++] = len >>> 16;
        out[p++] = len >>> 24;
      }
      p = writeLatin1(out, p, s);
    } else if (v >= 0 && v <= 127) {
      out[p++] = v;
    } else if (v >= -4096 && v <= 4095) {
      const u = v < 0 ? (1 << 13) + v : v;
      out[p++] = 0xc0 | (u >>> 8);
      out[p++] = u & 0xff;
    } else if (v >= -32768 && v <= 32767) {
      out[p++] = 0xf1;
      out[p++] = v;
      out[p++] = v >> 8;
    } else if (v >= -8388608 && v <= 8388607) {
      out[p++] = 0xf2;
      out[p++] = v;
      out[p++] = v >> 8;
      out[p++] = v >> 16;
    } else if (v >= -2147483648 && v <= 2147483647) {
      out[p++] = 0xf3;
      out[p++] = v;
      out[p++] = v >> 8;
      out[p++] = v >> 16;
      out[p++] = v >> 24;
    } else {
      const b = v === Infinity ? bigs[i]! : BigInt(v);
      const u = BigInt.asUintN(64, b);
      const lo = Number(u & 0xffffffffn);
      const hi = Number(u >> 32n);
      out[p++] = 0xf4;
      out[p++] = lo;
      out[p++] = lo >>> 8;
      out[p++] = lo >>> 16;
      out[p++] = lo >>> 24;
      out[p++] = hi;
      out[p++] = hi >>> 8;
      out[p++] = hi >>> 16;
      out[p++] = hi >>> 24;
    }
    p = writeBacklen(out, p, p - start);
  }
  out[p] = EOF;
  return total;
}

/** lpEncodeBacklen: most significant 7-bit group first, continuation bit on all but it. */
function writeBacklen(out: Uint8Array, p: number, l: number): number {
  if (l <= 127) {
    out[p++] = l;
  } else if (l < 16383) {
    out[p++] = l >>> 7;
    out[p++] = (l & 127) | 128;
  } else if (l < 2097151) {
    out[p++] = l >>> 14;
    out[p++] = ((l >>> 7) & 127) | 128;
    out[p++] = (l & 127) | 128;
  } else if (l < 268435455) {
    out[p++] = l >>> 21;
    out[p++] = ((l >>> 14) & 127) | 128;
    out[p++] = ((l >>> 7) & 127) | 128;
    out[p++] = (l & 127) | 128;
  } else {
    out[p++] = Math.floor(l / 2 ** 28);
    out[p++] = ((l >>> 21) & 127) | 128;
    out[p++] = ((l >>> 14) & 127) | 128;
    out[p++] = ((l >>> 7) & 127) | 128;
    out[p++] = (l & 127) | 128;
  }
  return p;
}
