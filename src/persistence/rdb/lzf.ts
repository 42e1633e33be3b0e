/**
 * LZF compression as Redis uses it (the liblzf 3.6 copy in lzf_c.c / lzf_d.c, built with
 * HLOG 16 and VERY_FAST): RDB strings longer than 20 bytes, quicklist nodes.
 *
 * The compressor follows liblzf step by step (same hash, same match search, same output
 * bounds) so that for the same input it produces Redis's bytes, and gives up exactly when
 * Redis would (then the caller stores the string verbatim); the tests rewrite Redis-made
 * files and get them back byte for byte. liblzf keeps its hash table on the stack without
 * clearing it, so a stale slot can now and then give Redis a different (equally valid)
 * match; ours starts each call empty, which is what an untouched table means.
 *
 * Format: `000LLLLL` + L+1 literal bytes; `LLLooooo oooooooo` a back reference of L+2
 * bytes at distance o+1; `111ooooo LLLLLLLL oooooooo` the same with length L+9.
 */
import { BlobError } from "./types.ts";

const HLOG = 16;
const HSIZE = 1 << HLOG;
const MAX_LIT = 1 << 5;
const MAX_OFF = 1 << 13;
const MAX_REF = (1 << 8) + (1 << 3);

// Slots hold `base + position`; raising `base` for every call invalidates old slots
// without clearing 256 KB per (often tiny) string.
const htab = new Int32Array(HSIZE);
let base = 1;

/**
 * Compresses `input[start, end)`. The output may use at most `outLimit` bytes; Redis's
 * rule for RDB strings is `length - 4` (the default), and for quicklist nodes `length`.
 * Returns null when the data does not fit (no gain), and for inputs of 4 bytes or less
 * when the default limit is used.
 */
export function lzfCompress(
  input: Uint8Array,
  start = 0,
  end = input.length,
  outLimit = end - start - 4,
): Uint8Array | null {
  if (end - start <= 0 || outLimit <= 0) return null;
  const out = new Uint8Array(outLimit + 1);
  const n = lzfCompressInto(input, start, end, outLimit, out);
  return n < 0 ? null : out.subarray(0, n);
}

/**
 * lzfCompress into `out` (at least `outLimit + 1` bytes, reused by the caller: a
 * `Uint8Array` allocation per string cost a third of a SAVE). Returns the compressed
 * length, or -1 where lzfCompress returns null.
 */
export function lzfCompressInto(
  input: Uint8Array,
  start: number,
  end: number,
  outLimit: number,
  out: Uint8Array,
): number {
  const inLen = end - start;
  if (inLen <= 0 || outLimit <= 0) return -1;
  if (base > 0x7fffffff - inLen - 16) {
    htab.fill(0);
    base = 1;
  }
  const b = base - start; // slot value = b + absolute index
  base += inLen + 1;
  const outEnd = outLimit;
  const inEnd = end;
  let ip = start;
  let op = 0;
  let lit = 0;
  op++; // start run

  let hval = (input[ip] << 8) | input[ip + 1];
  while (ip < inEnd - 2) {
    hval = ((hval << 8) | input[ip + 2]) >>> 0;
    let slot = ((hval >>> 8) - Math.imul(hval, 5)) & (HSIZE - 1);
    const ref = htab[slot] - b; // absolute index, or below `start` when stale/empty
    htab[slot] = b + ip;
    const off = ip - ref - 1;
    if (
      ref > start && ref < ip && off < MAX_OFF &&
      input[ref + 2] === input[ip + 2] && input[ref] === input[ip] &&
      input[ref + 1] === input[ip + 1]
    ) {
      let len = 2;
      let maxlen = inEnd - ip - len;
      if (maxlen > MAX_REF) maxlen = MAX_REF;

      // The conservative test, then the exact one (the run byte may be dropped).
      if (op + 3 + 1 >= outEnd && op - (lit === 0 ? 1 : 0) + 3 + 1 >= outEnd) return -1;
      out[op - lit - 1] = lit - 1; // stop run
      if (lit === 0) op--; // undo run if length is zero

      // liblzf's unrolled search checks 16 bytes without the maxlen bound before the
      // bounded loop; mirrored exactly because it decides the match length at the end.
      let unrolledMismatch = false;
      if (maxlen > 16) {
        for (let k = 0; k < 16; k++) {
          len++;
          if (input[ref + len] !== input[ip + len]) {
            unrolledMismatch = true;
            break;
          }
        }
      }
      if (!unrolledMismatch) {
        do len++; while (len < maxlen && input[ref + len] === input[ip + len]);
      }

      len -= 2; // len is now #octets - 1
      ip++;
      if (len < 7) {
        out[op++] = (off >>> 8) + (len << 5);
      } else {
        out[op++] = (off >>> 8) + (7 << 5);
        out[op++] = len - 7;
      }
      out[op++] = off & 0xff;
      lit = 0;
      op++; // start run

      ip += len + 1;
      if (ip >= inEnd - 2) break;

      // VERY_FAST: hash the two positions before the new ip.
      ip -= 2;
      hval = (input[ip] << 8) | input[ip + 1];
      hval = ((hval << 8) | input[ip + 2]) >>> 0;
      slot = ((hval >>> 8) - Math.imul(hval, 5)) & (HSIZE - 1);
      htab[slot] = b + ip;
      ip++;
      hval = ((hval << 8) | input[ip + 2]) >>> 0;
      slot = ((hval >>> 8) - Math.imul(hval, 5)) & (HSIZE - 1);
      htab[slot] = b + ip;
      ip++;
    } else {
      if (op >= outEnd) return -1;
      lit++;
      out[op++] = input[ip++];
      if (lit === MAX_LIT) {
        out[op - lit - 1] = lit - 1; // stop run
        lit = 0;
        op++; // start run
      }
    }
  }

  if (op + 3 > outEnd) return -1; // at most 3 bytes can be missing here
  while (ip < inEnd) {
    lit++;
    out[op++] = input[ip++];
    if (lit === MAX_LIT) {
      out[op - lit - 1] = lit - 1;
      lit = 0;
      op++;
    }
  }
  out[op - lit - 1] = lit - 1; // end run
  if (lit === 0) op--; // undo run if length is zero
  return op;
}

/**
 * Decompresses `input[start, end)` into exactly `outLen` bytes. Throws a BlobError
 * (offset within the compressed data) when the stream is corrupt or does not produce
 * exactly `outLen` bytes, which is how Redis checks LZF strings.
 */
export function lzfDecompress(
  input: Uint8Array,
  start: number,
  end: number,
  outLen: number,
): Uint8Array {
  const out = new Uint8Array(outLen);
  lzfDecompressInto(input, start, end, out, outLen);
  return out;
}

/**
 * lzfDecompress into `out[0, outLen)` (`out` is at least that long), for a caller that
 * reuses one buffer: a fresh Uint8Array per string costs more than decompressing it.
 */
export function lzfDecompressInto(
  input: Uint8Array,
  start: number,
  end: number,
  out: Uint8Array,
  outLen: number,
): void {
  let ip = start;
  let op = 0;
  while (ip < end) {
    let ctrl = input[ip++];
    if (ctrl < 1 << 5) {
      ctrl++;
      if (op + ctrl > outLen) {
        throw new BlobError(
          `LZF literal run of ${ctrl} bytes overflows the declared length ${outLen}`,
          ip - 1 - start,
        );
      }
      if (ip + ctrl > end) {
        throw new BlobError(
          `LZF literal run of ${ctrl} bytes runs past the compressed data`,
          ip - 1 - start,
        );
      }
      if (ctrl > 16) {
        out.set(input.subarray(ip, ip + ctrl), op);
        op += ctrl;
        ip += ctrl;
      } else {
        for (let k = 0; k < ctrl; k++) out[op++] = input[ip++];
      }
    } else {
      const at = ip - 1;
      let len = ctrl >>> 5;
      let ref = op - ((ctrl & 0x1f) << 8) - 1;
      if (ip >= end) throw new BlobError("LZF back reference cut short", at - start);
      if (len === 7) {
        len += input[ip++];
        if (ip >= end) throw new BlobError("LZF back reference cut short", at - start);
      }
      ref -= input[ip++];
      if (op + len + 2 > outLen) {
        throw new BlobError(
          `LZF back reference of ${len + 2} bytes overflows the declared length ${outLen}`,
          at - start,
        );
      }
      if (ref < 0) {
        throw new BlobError("LZF back reference points before the start", at - start);
      }
      len += 2;
      if (op - ref >= len) {
        out.copyWithin(op, ref, ref + len);
        op += len;
      } else {
        // Overlapping copy repeats the pattern byte by byte, as lzf_d.c does.
        for (let k = 0; k < len; k++) out[op++] = out[ref++];
      }
    }
  }
  if (op !== outLen) {
    throw new BlobError(
      `LZF data decompresses to ${op} bytes but the header says ${outLen}`,
      end - start,
    );
  }
}
