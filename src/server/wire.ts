/**
 * Latin-1 string <-> bytes at the socket edge, without per-reply allocations.
 *
 * Measured on Deno 2.9.6: `new Uint8Array(5)` costs ~1 µs and `Buffer.from(s, "latin1")`
 * ~17 ns/byte, while a charCodeAt loop into an existing array costs ~1 ns/byte. So
 * replies are encoded into each client's reused buffer. On the `node:net` path (Bun) they
 * are copied at the write into a shared slab and handed to the socket as views; a slab is
 * never rewritten once a view of it was handed out (a full slab is replaced), so a
 * queued write can never see its bytes change. This is Node's own Buffer pool idea.
 * Under Deno the handle writes from the client's buffer itself (ReplyBuffer.lend).
 */
import type { Buffer } from "node:buffer";
import { writeLatin1 } from "../util/latin1.ts";

const SLAB_SIZE = 256 * 1024;
let slab = new Uint8Array(SLAB_SIZE);
let offset = 0;

/** "00" "01" ... "99": two digits per step, as Redis's ull2string. */
const DIGIT_PAIRS = new Uint8Array(200);
for (let i = 0; i < 100; i++) {
  DIGIT_PAIRS[2 * i] = 48 + Math.floor(i / 10);
  DIGIT_PAIRS[2 * i + 1] = 48 + (i % 10);
}

/** Decimal digits of `n`, 10 <= n < 1e15. */
function digitCount(n: number): number {
  if (n < 1e4) return n < 100 ? 2 : n < 1e3 ? 3 : 4;
  if (n < 1e8) return n < 1e6 ? (n < 1e5 ? 5 : 6) : n < 1e7 ? 7 : 8;
  let d = 9;
  for (let t = 1e9; t <= n; t *= 10) d++;
  return d;
}

/** Writes the decimal form of the integer `n` at `o` of `b`; returns the end. */
export function putInt(b: Uint8Array, o: number, n: number): number {
  if (n < 0) {
    if (n < -1e15) return writeLatin1(b, o, String(n));
    b[o++] = 45;
    n = -n;
  }
  if (n < 10) {
    b[o] = 48 + n;
    return o + 1;
  }
  if (n >= 1e15) return writeLatin1(b, o, String(n));
  const end = o + digitCount(n);
  let p = end;
  // `| 0` keeps the division in integers while n fits in an int32.
  while (n >= 100) {
    const q = n <= 0x7fffffff ? (n / 100) | 0 : Math.floor(n / 100);
    const r = 2 * (n - 100 * q);
    b[--p] = DIGIT_PAIRS[r + 1];
    b[--p] = DIGIT_PAIRS[r];
    n = q;
  }
  if (n >= 10) {
    b[--p] = DIGIT_PAIRS[2 * n + 1];
    b[--p] = DIGIT_PAIRS[2 * n];
  } else b[--p] = 48 + n;
  return end;
}

/**
 * Writes a RESP header, `<prefix><n>\r\n` (`*3`, `$16`), at `o` of `b`, which has room
 * for 24 bytes; returns the end. Replies and the AOF both encode with it.
 */
export function putHeader(b: Uint8Array, o: number, prefix: number, n: number): number {
  b[o] = prefix;
  o = putInt(b, o + 1, n);
  b[o] = 13;
  b[o + 1] = 10;
  return o + 2;
}

/**
 * The first `n` bytes of `src` copied into the slab, as a view that stays valid (`src`
 * is a client's reply buffer, rewritten by its next replies).
 */
export function slabCopy(src: Uint8Array, n: number): Uint8Array {
  if (n > SLAB_SIZE / 4) return src.slice(0, n);
  if (offset + n > SLAB_SIZE) {
    slab = new Uint8Array(SLAB_SIZE);
    offset = 0;
  }
  const o = offset;
  offset += n;
  if (n <= 64) {
    for (let i = 0; i < n; i++) slab[o + i] = src[i];
  } else {
    slab.set(src.subarray(0, n), o);
  }
  return slab.subarray(o, o + n);
}

interface Latin1Sliceable {
  latin1Slice(start: number, end: number): string;
}

/**
 * Strings of 2-6 bytes seen recently, by content: a direct-mapped cache of 4096 slots
 * keyed by the bytes (at most 48 bits, held as two int32s with the length). Command
 * names, small counters and short values repeat; a request that reuses one string
 * object allocates nothing for it, and a value stored from it adds no survivor to the
 * young generation (Redis shares its integer objects 0-9999 for the same reason).
 */
const SHORT_SLOTS = 4096;
const shortLo = new Int32Array(SHORT_SLOTS);
const shortHi = new Int32Array(SHORT_SLOTS).fill(-1);
const shortStr: string[] = new Array<string>(SHORT_SLOTS).fill("");

function shortString(b: Buffer, start: number, n: number): string {
  const c0 = b[start];
  const c1 = b[start + 1];
  const c2 = n > 2 ? b[start + 2] : 0;
  const c3 = n > 3 ? b[start + 3] : 0;
  const c4 = n > 4 ? b[start + 4] : 0;
  const c5 = n > 5 ? b[start + 5] : 0;
  const lo = c0 | (c1 << 8) | (c2 << 16) | (c3 << 24);
  const hi = c4 | (c5 << 8) | (n << 16);
  const slot = Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b) >>> 20;
  if (shortLo[slot] === lo && shortHi[slot] === hi) return shortStr[slot];
  const s = n === 2
    ? String.fromCharCode(c0, c1)
    : n === 3
    ? String.fromCharCode(c0, c1, c2)
    : n === 4
    ? String.fromCharCode(c0, c1, c2, c3)
    : n === 5
    ? String.fromCharCode(c0, c1, c2, c3, c4)
    : String.fromCharCode(c0, c1, c2, c3, c4, c5);
  shortLo[slot] = lo;
  shortHi[slot] = hi;
  shortStr[slot] = s;
  return s;
}

/**
 * Bytes `start..end` of `buf` as a Latin-1 string. `latin1Slice` is a runtime call in
 * Deno (~90 ns); strings of up to 6 bytes come from the cache above, or are built with
 * `String.fromCharCode` (~25 ns); V8 shares every 1-char string already.
 */
export function latin1String(buf: Buffer, start: number, end: number): string {
  const n = end - start;
  if (n > 6) return (buf as unknown as Latin1Sliceable).latin1Slice(start, end);
  if (n > 1) return shortString(buf, start, n);
  return n === 0 ? "" : String.fromCharCode(buf[start]);
}
