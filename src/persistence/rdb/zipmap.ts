/**
 * Zipmap blobs (zipmap.c), decode only: how Redis up to 2.4 stored small hashes (RDB type
 * 9). Layout: `<count: 1 byte, 254 = unknown> (<len> field <len> <free: 1 byte> value
 * <free bytes>)... <0xff>`, where a length is 1 byte when below 254, else 0xfe + u32le.
 * Validation follows `zipmapValidateIntegrity` with deep checks.
 */
import { BlobError, latin1 } from "./types.ts";

const BIGLEN = 254;
const END = 0xff;

/**
 * Decodes and validates a zipmap held in `blob[start, end)`, returning its field/value
 * pairs in order. Throws BlobError with the offset relative to `start`.
 */
export function zipmapDecode(
  blob: Uint8Array,
  start = 0,
  end = blob.length,
): [string, string][] {
  const size = end - start;
  if (size < 2) throw new BlobError(`zipmap of ${size} bytes is too short`, 0);
  if (blob[end - 1] !== END) {
    throw new BlobError("zipmap does not end with the 0xff terminator", size - 1);
  }
  const last = end - 1;
  // zipmapValidateIntegrity's OUT_OF_RANGE: before the first entry or past the terminator.
  const outOfRange = (p: number) => p < start + 2 || p > last;
  const out: [string, string][] = [];
  let p = start + 1;
  while (blob[p] !== END) {
    const at = p - start;
    const idx = out.length;
    // field length
    let s = blob[p] < BIGLEN ? 1 : 5;
    if (outOfRange(p + s)) throw entryOverflow(idx, at);
    let l = s === 1 ? blob[p] : u32le(blob, p + 1);
    p += s;
    const fieldStart = p;
    p += l;
    if (outOfRange(p)) throw entryOverflow(idx, at);
    const field = latin1(blob, fieldStart, p);
    // value length, then the free byte
    s = blob[p] < BIGLEN ? 1 : 5;
    if (outOfRange(p + s)) throw entryOverflow(idx, at);
    l = s === 1 ? blob[p] : u32le(blob, p + 1);
    p += s;
    const free = blob[p++];
    const valueStart = p;
    p += l + free;
    if (outOfRange(p)) throw entryOverflow(idx, at);
    out.push([field, latin1(blob, valueStart, valueStart + l)]);
  }
  if (out.length === 0) throw new BlobError("zipmap is empty", 0);
  const count = blob[start];
  if (count !== BIGLEN && count !== out.length) {
    throw new BlobError(`zipmap header says ${count} pairs but it holds ${out.length}`, 0);
  }
  if (p !== last) {
    throw new BlobError(`zipmap entries end at byte ${p - start}, not at the terminator`, p);
  }
  return out;
}

function entryOverflow(idx: number, at: number): BlobError {
  return new BlobError(`zipmap entry ${idx} at byte ${at} runs past the terminator`, at);
}

function u32le(b: Uint8Array, at: number): number {
  return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
}
