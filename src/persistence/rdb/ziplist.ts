/**
 * Ziplist blobs (ziplist.c), decode only: RDB files from Redis 2.6 to 6.2 store small
 * lists, hashes and sorted sets (and quicklist nodes) as ziplists; Redis 7.0 converts
 * them to listpacks on load and never writes them.
 *
 * Layout: `<zlbytes u32le> <zltail u32le> <zllen u16le> <entry>... <0xff>`. An entry is
 * `<prevlen> <encoding> <data>`: prevlen is 1 byte, or 0xfe + u32le when >= 254. The
 * encoding byte: `00pppppp` string (6-bit length), `01pppppp qqqqqqqq` string (14-bit
 * big-endian length), `10______` + u32be string length, `c0` int16, `d0` int32, `e0`
 * int64, `f0` int24, `fe` int8, `f1`..`fd` the values 0..12; integers little-endian.
 *
 * Validation follows `ziplistValidateIntegrity` with deep checks (every prevlen, the tail
 * offset, the count) and names the rule that failed.
 */
import { BlobError, int64ToString, latin1 } from "./types.ts";

const HDR = 10;
const END = 0xff;

/**
 * Decodes and validates a ziplist held in `blob[start, end)`, returning its elements as
 * strings (integers in decimal). Throws BlobError with the offset relative to `start`.
 */
export function ziplistDecode(blob: Uint8Array, start = 0, end = blob.length): string[] {
  const size = end - start;
  if (size < HDR + 1) {
    throw new BlobError(`ziplist of ${size} bytes is shorter than its header (11 bytes)`, 0);
  }
  const zlbytes = u32le(blob, start);
  if (zlbytes !== size) {
    throw new BlobError(`ziplist header says ${zlbytes} bytes but blob has ${size}`, 0);
  }
  if (blob[end - 1] !== END) {
    throw new BlobError(
      `ziplist does not end with the 0xff terminator (last byte is 0x${
        blob[end - 1].toString(16)
      })`,
      size - 1,
    );
  }
  const zltail = u32le(blob, start + 4);
  if (zltail > size - 1) {
    throw new BlobError(`ziplist tail offset ${zltail} is past the end (${size} bytes)`, 4);
  }
  const zllen = blob[start + 8] | (blob[start + 9] << 8);
  const out: string[] = [];
  const first = start + HDR;
  const last = end - 1; // the terminator
  let p = first;
  let prevRaw = 0;
  let prevStart = -1;
  while (blob[p] !== END) {
    const at = p - start;
    const idx = out.length;
    // prevlen
    let prevlen: number;
    let q = p;
    if (blob[q] < 254) {
      prevlen = blob[q];
      q += 1;
    } else {
      if (q + 5 > last) throw entryOverflow(idx, at);
      prevlen = u32le(blob, q + 1);
      q += 5;
    }
    if (q > last) throw entryOverflow(idx, at);
    if (prevlen !== prevRaw) {
      throw new BlobError(
        `ziplist entry ${idx} says the previous entry is ${prevlen} bytes but it is ${prevRaw}`,
        at,
      );
    }
    const enc = blob[q];
    let value: string;
    let dataStart: number;
    let dataLen: number;
    if (enc < 0xc0) {
      const kind = enc >>> 6;
      let len: number;
      if (kind === 0) {
        len = enc & 0x3f;
        dataStart = q + 1;
      } else if (kind === 1) {
        if (q + 2 > last) throw entryOverflow(idx, at);
        len = ((enc & 0x3f) << 8) | blob[q + 1];
        dataStart = q + 2;
      } else {
        if (q + 5 > last) throw entryOverflow(idx, at);
        len = ((blob[q + 1] << 24) | (blob[q + 2] << 16) | (blob[q + 3] << 8) | blob[q + 4]) >>>
          0;
        dataStart = q + 5;
      }
      dataLen = len;
      if (dataStart + len > last) throw entryOverflow(idx, at);
      value = latin1(blob, dataStart, dataStart + len);
    } else {
      dataStart = q + 1;
      switch (enc) {
        case 0xfe:
          dataLen = 1;
          break;
        case 0xc0:
          dataLen = 2;
          break;
        case 0xf0:
          dataLen = 3;
          break;
        case 0xd0:
          dataLen = 4;
          break;
        case 0xe0:
          dataLen = 8;
          break;
        default:
          if (enc >= 0xf1 && enc <= 0xfd) {
            dataLen = 0;
          } else {
            throw new BlobError(
              `ziplist entry ${idx} has invalid encoding byte 0x${enc.toString(16)}`,
              q - start,
            );
          }
      }
      if (dataStart + dataLen > last) throw entryOverflow(idx, at);
      const d = dataStart;
      switch (dataLen) {
        case 0:
          value = String((enc & 0x0f) - 1);
          break;
        case 1:
          value = String((blob[d] << 24) >> 24);
          break;
        case 2:
          value = String(((blob[d] | (blob[d + 1] << 8)) << 16) >> 16);
          break;
        case 3:
          value = String(((blob[d] | (blob[d + 1] << 8) | (blob[d + 2] << 16)) << 8) >> 8);
          break;
        case 4:
          value = String(blob[d] | (blob[d + 1] << 8) | (blob[d + 2] << 16) | (blob[d + 3] << 24));
          break;
        default:
          value = int64ToString(
            blob[d + 4] | (blob[d + 5] << 8) | (blob[d + 6] << 16) | (blob[d + 7] << 24),
            blob[d] | (blob[d + 1] << 8) | (blob[d + 2] << 16) | (blob[d + 3] << 24),
          );
      }
    }
    out.push(value);
    prevStart = p;
    const next = dataStart + dataLen;
    prevRaw = next - p;
    p = next;
  }
  if (p !== last) {
    throw new BlobError(`ziplist entries end at byte ${p - start}, not at the terminator`, p);
  }
  const tailExpected = prevStart === -1 ? HDR : prevStart - start;
  if (prevStart !== -1 && zltail !== tailExpected) {
    throw new BlobError(
      `ziplist tail offset says ${zltail} but the last entry starts at ${tailExpected}`,
      4,
    );
  }
  if (zllen !== 65535 && zllen !== out.length) {
    throw new BlobError(`ziplist header says ${zllen} entries but it holds ${out.length}`, 8);
  }
  return out;
}

function entryOverflow(idx: number, at: number): BlobError {
  return new BlobError(`ziplist entry ${idx} at byte ${at} runs past the terminator`, at);
}

function u32le(b: Uint8Array, at: number): number {
  return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
}
