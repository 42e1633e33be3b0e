/**
 * Redis's CRC-64 (crc64.c): the Jones polynomial 0xad93d23594c935a9, reflected input and
 * output, initial value 0, no final xor. It checksums RDB files (the 8-byte trailer) and
 * DUMP payloads. Check value: crc64 of "123456789" is 0xe9c6d914c4b8d9ca.
 *
 * Files reach many gigabytes, so the inner loop never touches BigInt: the 64-bit state is
 * two 32-bit halves and the table lookup is slicing-by-8 (eight bytes per step through
 * eight 256-entry tables). BigInt appears only when a caller asks for the value.
 */

// The reflected polynomial, 0x95ac9329ac4bc9b5, as two halves.
const POLY_HI = 0x95ac9329 | 0;
const POLY_LO = 0xac4bc9b5 | 0;

// Table k holds the CRC of byte i followed by k zero bytes, at [k * 256 + i].
const T_LO = new Int32Array(8 * 256);
const T_HI = new Int32Array(8 * 256);

for (let i = 0; i < 256; i++) {
  let lo = i;
  let hi = 0;
  for (let b = 0; b < 8; b++) {
    const bit = lo & 1;
    lo = (lo >>> 1) | (hi << 31);
    hi = hi >>> 1;
    if (bit) {
      lo ^= POLY_LO;
      hi ^= POLY_HI;
    }
  }
  T_LO[i] = lo;
  T_HI[i] = hi;
}
for (let k = 1; k < 8; k++) {
  for (let i = 0; i < 256; i++) {
    const plo = T_LO[(k - 1) * 256 + i];
    const phi = T_HI[(k - 1) * 256 + i];
    const idx = plo & 0xff;
    T_LO[k * 256 + i] = ((plo >>> 8) | (phi << 24)) ^ T_LO[idx];
    T_HI[k * 256 + i] = (phi >>> 8) ^ T_HI[idx];
  }
}

/**
 * An incremental CRC-64 over a byte stream.
 *
 * @example
 * ```ts
 * const c = new Crc64();
 * c.update(new TextEncoder().encode("123456789"));
 * c.value(); // 0xe9c6d914c4b8d9can
 * ```
 */
export class Crc64 {
  /** Low and high 32 bits of the state (signed int32 storage). */
  lo = 0;
  hi = 0;

  constructor(initial: bigint = 0n) {
    this.lo = Number(initial & 0xffffffffn) | 0;
    this.hi = Number((initial >> 32n) & 0xffffffffn) | 0;
  }

  /** Feeds bytes [start, end) of `bytes`. */
  update(bytes: Uint8Array, start = 0, end = bytes.length): this {
    let lo = this.lo;
    let hi = this.hi;
    let i = start;
    // Align nothing: byte reads are as fast as a DataView here and avoid endianness work.
    const stop8 = end - 7;
    while (i < stop8) {
      const xl = lo ^
        (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24));
      const xh = hi ^
        (bytes[i + 4] | (bytes[i + 5] << 8) | (bytes[i + 6] << 16) | (bytes[i + 7] << 24));
      const a = 7 * 256 + (xl & 0xff);
      const b = 6 * 256 + ((xl >>> 8) & 0xff);
      const c = 5 * 256 + ((xl >>> 16) & 0xff);
      const d = 4 * 256 + (xl >>> 24);
      const e = 3 * 256 + (xh & 0xff);
      const f = 2 * 256 + ((xh >>> 8) & 0xff);
      const g = 256 + ((xh >>> 16) & 0xff);
      const h = xh >>> 24;
      lo = T_LO[a] ^ T_LO[b] ^ T_LO[c] ^ T_LO[d] ^ T_LO[e] ^ T_LO[f] ^ T_LO[g] ^ T_LO[h];
      hi = T_HI[a] ^ T_HI[b] ^ T_HI[c] ^ T_HI[d] ^ T_HI[e] ^ T_HI[f] ^ T_HI[g] ^ T_HI[h];
      i += 8;
    }
    for (; i < end; i++) {
      const idx = (lo ^ bytes[i]) & 0xff;
      lo = ((lo >>> 8) | (hi << 24)) ^ T_LO[idx];
      hi = (hi >>> 8) ^ T_HI[idx];
    }
    this.lo = lo;
    this.hi = hi;
    return this;
  }

  /** The CRC so far as an unsigned 64-bit bigint. */
  value(): bigint {
    return (BigInt(this.hi >>> 0) << 32n) | BigInt(this.lo >>> 0);
  }

  /** Writes the CRC as 8 little-endian bytes (the RDB trailer and DUMP footer form). */
  writeLE(dst: Uint8Array, at: number): void {
    const lo = this.lo;
    const hi = this.hi;
    dst[at] = lo;
    dst[at + 1] = lo >>> 8;
    dst[at + 2] = lo >>> 16;
    dst[at + 3] = lo >>> 24;
    dst[at + 4] = hi;
    dst[at + 5] = hi >>> 8;
    dst[at + 6] = hi >>> 16;
    dst[at + 7] = hi >>> 24;
  }
}

/** Continues `crc` over bytes [start, end): `crc64Update(0n, data)` is the CRC of data. */
export function crc64Update(
  crc: bigint,
  bytes: Uint8Array,
  start = 0,
  end = bytes.length,
): bigint {
  return new Crc64(crc).update(bytes, start, end).value();
}

/** CRC-64 of `data` (a Latin-1 string is taken one byte per char). */
export function crc64(data: Uint8Array | string, crc: bigint = 0n): bigint {
  if (typeof data === "string") {
    const bytes = new Uint8Array(data.length);
    for (let i = 0; i < data.length; i++) bytes[i] = data.charCodeAt(i);
    data = bytes;
  }
  return crc64Update(crc, data);
}

/** Reads 8 little-endian bytes at `at` as an unsigned 64-bit bigint. */
export function readU64LE(bytes: Uint8Array, at: number): bigint {
  const lo = (bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24)) >>>
    0;
  const hi =
    (bytes[at + 4] | (bytes[at + 5] << 8) | (bytes[at + 6] << 16) | (bytes[at + 7] << 24)) >>> 0;
  return (BigInt(hi) << 32n) | BigInt(lo);
}
