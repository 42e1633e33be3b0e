/**
 * RESP reply encoding for RESP2 and RESP3.
 *
 * A `ReplyBuffer` accumulates one client's replies for the current event-loop turn as
 * bytes, in a buffer the client keeps (Redis's `c->buf`); the server flushes it with a
 * single socket write (the beforeReply flush). Handlers never touch sockets: they call
 * these methods, and the protocol version decides the wire form (e.g. a map is `%N` in
 * RESP3 and `*2N` in RESP2, a null is `_` or `$-1`), as in Redis's networking.c
 * `addReply*` family.
 *
 * Bytes, not a string built by `+=`: a reply string is a rope of one node per piece,
 * flattened and copied again at the write, and each node is an allocation (measured: 16
 * `+OK` replies cost ~0.6 µs as a string against ~0.2 as bytes; 16 replies of 100
 * elements ~7 µs each against ~3). Strings are Latin-1 byte strings (one char per byte).
 */
import { formatScore } from "../util/double.ts";
import { putHeader, slabCopy } from "./wire.ts";
import { writeLatin1 } from "../util/latin1.ts";

/** Formats a double the way Redis 7.0 prints scores and RESP2 doubles (`%.17g`). */
export const formatDouble: (d: number) => string = formatScore;

/**
 * Formats a number like Redis's `ld2string(..., LD_STR_HUMAN)` used by INCRBYFLOAT and
 * HINCRBYFLOAT: fixed notation, no exponent, trailing zeros removed. Redis computes in
 * long double; the shortest round-trip form of our double is what it prints for the
 * values a double can carry.
 */
export function formatLongDouble(d: number): string {
  if (d === Infinity) return "inf";
  if (d === -Infinity) return "-inf";
  if (Number.isInteger(d)) return BigInt(d).toString();
  const s = String(d);
  if (!s.includes("e")) return s;
  return d.toFixed(17).replace(/\.?0+$/, "");
}

/** A buffer this big stays with its client after a flush; a bigger one is let go. */
const KEEP_BYTES = 64 * 1024;
const FIRST_BYTES = 512;
const NO_BYTES = new Uint8Array(0);

/** Bytes around a bulk's payload, at most: `$`, 20 digits, and two CRLFs. */
const BULK_FRAME = 25;

/**
 * Writes a bulk's header, `$<n>\r\n`, at `o` of `b`; returns the end. The one-digit
 * case inline: members and short values are most bulks (ZRANGE of 100 members: one
 * capacity check per member instead of two: 0.25-0.35 µs less per call, in a loop).
 */
function bulkHeader(b: Uint8Array, o: number, n: number): number {
  if (n >= 10) return putHeader(b, o, 36, n);
  b[o] = 36;
  b[o + 1] = 48 + n;
  b[o + 2] = 13;
  b[o + 3] = 10;
  return o + 4;
}

export class ReplyBuffer {
  /** Pending reply bytes: `buf[0, len)`. */
  buf: Uint8Array = NO_BYTES;
  len = 0;
  /** 2 or 3, set by HELLO. */
  resp = 2;
  /** Error replies sent so far (the server compares it around a call: failed_calls). */
  errorCount = 0;
  /** Called for every error reply (INFO errorstats). */
  onError: ((msg: string) => void) | null = null;
  /** CLIENT REPLY OFF/SKIP: replies are dropped as they are produced. */
  muted = false;

  /** Room for `n` more bytes at `len`. */
  private room(n: number): Uint8Array {
    const need = this.len + n;
    if (need <= this.buf.length) return this.buf;
    let cap = this.buf.length === 0 ? FIRST_BYTES : this.buf.length * 2;
    while (cap < need) cap *= 2;
    const b = new Uint8Array(cap);
    if (this.len > 0) b.set(this.buf.subarray(0, this.len));
    this.buf = b;
    return b;
  }

  /** `<prefix><n>\r\n`: the header of an aggregate or a bulk. */
  private header(prefix: number, n: number): void {
    this.len = putHeader(this.room(24), this.len, prefix, n);
  }

  /** Drops everything pending. */
  clear(): void {
    this.len = 0;
  }

  /** Drops what was appended after the first `n` bytes. */
  truncate(n: number): void {
    if (n < this.len) this.len = n;
  }

  /** The pending bytes as a Latin-1 string, and clears them (in-process callers). */
  take(): string {
    const n = this.len;
    this.len = 0;
    if (n === 0) return "";
    let s = "";
    for (let i = 0; i < n; i += 8192) {
      s += String.fromCharCode.apply(
        null,
        this.buf.subarray(i, Math.min(n, i + 8192)) as unknown as number[],
      );
    }
    return s;
  }

  /**
   * The pending bytes as a view of this buffer itself, and clears them. The view is
   * valid only until the next reply is appended: a writer that keeps it longer (a write
   * the kernel did not take at once) calls `disown()` then. Saves detach()'s copy where
   * the write usually completes in the call (ZRANGE of 100 members at -P 16: 32 KiB per
   * flush, and a new 256 KiB slab every eighth).
   */
  lend(): Uint8Array {
    const v = this.buf.subarray(0, this.len);
    this.len = 0;
    if (this.buf.length > KEEP_BYTES) this.buf = NO_BYTES;
    return v;
  }

  /** The last lent view is still in use: later replies go to a new buffer. */
  disown(): void {
    if (this.buf !== NO_BYTES) this.buf = new Uint8Array(this.buf.length);
  }

  /**
   * The pending bytes as a view that stays valid after this buffer is reused, and clears
   * them: a copy in the shared write slab, or, past KEEP_BYTES, the buffer itself, which
   * is then let go (a 500 MB bulk is not copied a second time).
   */
  detach(): Uint8Array {
    const n = this.len;
    this.len = 0;
    if (n > KEEP_BYTES) {
      const v = this.buf.subarray(0, n);
      this.buf = NO_BYTES;
      return v;
    }
    const v = slabCopy(this.buf, n);
    if (this.buf.length > KEEP_BYTES) this.buf = NO_BYTES;
    return v;
  }

  ok(): void {
    if (this.muted) return;
    const b = this.room(5);
    const o = this.len;
    b[o] = 43;
    b[o + 1] = 79;
    b[o + 2] = 75;
    b[o + 3] = 13;
    b[o + 4] = 10;
    this.len = o + 5;
  }

  /** `<prefix><s>\r\n`: a status or error line. */
  private line(prefix: number, s: string): void {
    const b = this.room(s.length + 3);
    let o = this.len;
    b[o++] = prefix;
    o = writeLatin1(b, o, s);
    b[o] = 13;
    b[o + 1] = 10;
    this.len = o + 2;
  }

  simple(s: string): void {
    if (!this.muted) this.line(43, s);
  }

  /** `msg` is the full error text including its code, e.g. `ERR syntax error`. */
  error(msg: string): void {
    this.errorCount++;
    this.onError?.(msg);
    if (!this.muted) this.line(45, msg);
  }

  integer(n: number | bigint): void {
    if (this.muted) return;
    if (typeof n === "number" && Number.isSafeInteger(n)) this.header(58, n);
    else this.raw(":" + n + "\r\n");
  }

  bulk(s: string): void {
    if (this.muted) return;
    const n = s.length;
    const b = this.room(n + BULK_FRAME);
    const o = writeLatin1(b, bulkHeader(b, this.len, n), s);
    b[o] = 13;
    b[o + 1] = 10;
    this.len = o + 2;
  }

  /** A bulk string of `n` chars of `s` from `start` (no substring made). */
  bulkSlice(s: string, start: number, n: number): void {
    if (this.muted) return;
    const b = this.room(n + BULK_FRAME);
    let o = bulkHeader(b, this.len, n);
    for (let i = 0; i < n; i++) b[o + i] = s.charCodeAt(start + i);
    o += n;
    b[o] = 13;
    b[o + 1] = 10;
    this.len = o + 2;
  }

  /** A bulk string, or the null reply for null/undefined. */
  bulkOrNull(s: string | null | undefined): void {
    if (s == null) this.null();
    else this.bulk(s);
  }

  /** RESP3 `_`, RESP2 null bulk `$-1`. */
  null(): void {
    this.raw(this.resp === 3 ? "_\r\n" : "$-1\r\n");
  }

  /** RESP3 `_`, RESP2 null array `*-1`. */
  nullArray(): void {
    this.raw(this.resp === 3 ? "_\r\n" : "*-1\r\n");
  }

  array(n: number): void {
    if (this.muted) return;
    this.header(42, n);
  }

  /** A map of `n` pairs: RESP3 `%n`, RESP2 a flat array of 2n. */
  map(n: number): void {
    if (this.muted) return;
    if (this.resp === 3) this.header(37, n);
    else this.header(42, 2 * n);
  }

  /** A set: RESP3 `~n`, RESP2 an array. */
  set(n: number): void {
    if (this.muted) return;
    this.header(this.resp === 3 ? 126 : 42, n);
  }

  /** A push message: RESP3 `>n`, RESP2 an array. */
  push(n: number): void {
    if (this.muted) return;
    this.header(this.resp === 3 ? 62 : 42, n);
  }

  /** A double: RESP3 `,d`, RESP2 a bulk string of `%.17g`. */
  double(d: number): void {
    const s = formatDouble(d);
    if (this.resp === 3) this.raw("," + s + "\r\n");
    else this.bulk(s);
  }

  /** RESP3 `#t`/`#f`, RESP2 `:1`/`:0`. */
  bool(b: boolean): void {
    if (this.resp === 3) this.raw(b ? "#t\r\n" : "#f\r\n");
    else this.raw(b ? ":1\r\n" : ":0\r\n");
  }

  /** Verbatim text (INFO, CLIENT LIST): RESP3 `=len\r\ntxt:...`, RESP2 a bulk string. */
  verbatim(s: string, format = "txt"): void {
    if (this.resp === 3) this.raw("=" + (s.length + 4) + "\r\n" + format + ":" + s + "\r\n");
    else this.bulk(s);
  }

  bulkArray(items: readonly string[]): void {
    this.array(items.length);
    for (let i = 0; i < items.length; i++) this.bulk(items[i]);
  }

  /** Raw, already-encoded RESP. */
  raw(s: string): void {
    if (this.muted) return;
    const b = this.room(s.length);
    this.len = writeLatin1(b, this.len, s);
  }
}
