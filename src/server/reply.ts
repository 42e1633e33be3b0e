/**
 * RESP reply encoding for RESP2 and RESP3.
 *
 * A `ReplyBuffer` accumulates one client's replies for the current event-loop turn as a
 * Latin-1 string; the server flushes it with a single socket write (the beforeReply
 * flush). Handlers never touch sockets: they call these methods, and the protocol
 * version decides the wire form (e.g. a map is `%N` in RESP3 and `*2N` in RESP2, a null
 * is `_` or `$-1`), as in Redis's networking.c `addReply*` family.
 */
import { formatScore } from "../util/double.ts";

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

export class ReplyBuffer {
  /** Pending bytes as a Latin-1 string. */
  out = "";
  /** 2 or 3, set by HELLO. */
  resp = 2;
  /** Error replies sent so far (the server compares it around a call: failed_calls). */
  errorCount = 0;
  /** Called for every error reply (INFO errorstats). */
  onError: ((msg: string) => void) | null = null;

  ok(): void {
    this.out += "+OK\r\n";
  }

  simple(s: string): void {
    this.out += "+" + s + "\r\n";
  }

  /** `msg` is the full error text including its code, e.g. `ERR syntax error`. */
  error(msg: string): void {
    this.errorCount++;
    this.onError?.(msg);
    this.out += "-" + msg + "\r\n";
  }

  integer(n: number | bigint): void {
    this.out += ":" + n + "\r\n";
  }

  bulk(s: string): void {
    this.out += "$" + s.length + "\r\n" + s + "\r\n";
  }

  /** A bulk string, or the null reply for null/undefined. */
  bulkOrNull(s: string | null | undefined): void {
    if (s == null) this.null();
    else this.out += "$" + s.length + "\r\n" + s + "\r\n";
  }

  /** RESP3 `_`, RESP2 null bulk `$-1`. */
  null(): void {
    this.out += this.resp === 3 ? "_\r\n" : "$-1\r\n";
  }

  /** RESP3 `_`, RESP2 null array `*-1`. */
  nullArray(): void {
    this.out += this.resp === 3 ? "_\r\n" : "*-1\r\n";
  }

  array(n: number): void {
    this.out += "*" + n + "\r\n";
  }

  /** A map of `n` pairs: RESP3 `%n`, RESP2 a flat array of 2n. */
  map(n: number): void {
    this.out += this.resp === 3 ? "%" + n + "\r\n" : "*" + 2 * n + "\r\n";
  }

  /** A set: RESP3 `~n`, RESP2 an array. */
  set(n: number): void {
    this.out += this.resp === 3 ? "~" + n + "\r\n" : "*" + n + "\r\n";
  }

  /** A push message: RESP3 `>n`, RESP2 an array. */
  push(n: number): void {
    this.out += this.resp === 3 ? ">" + n + "\r\n" : "*" + n + "\r\n";
  }

  /** A double: RESP3 `,d`, RESP2 a bulk string of `%.17g`. */
  double(d: number): void {
    const s = formatDouble(d);
    if (this.resp === 3) this.out += "," + s + "\r\n";
    else this.out += "$" + s.length + "\r\n" + s + "\r\n";
  }

  /** RESP3 `#t`/`#f`, RESP2 `:1`/`:0`. */
  bool(b: boolean): void {
    if (this.resp === 3) this.out += b ? "#t\r\n" : "#f\r\n";
    else this.out += b ? ":1\r\n" : ":0\r\n";
  }

  /** Verbatim text (INFO, CLIENT LIST): RESP3 `=len\r\ntxt:...`, RESP2 a bulk string. */
  verbatim(s: string, format = "txt"): void {
    if (this.resp === 3) this.out += "=" + (s.length + 4) + "\r\n" + format + ":" + s + "\r\n";
    else this.bulk(s);
  }

  bulkArray(items: readonly string[]): void {
    let s = "*" + items.length + "\r\n";
    for (const it of items) s += "$" + it.length + "\r\n" + it + "\r\n";
    this.out += s;
  }

  /** Raw, already-encoded RESP. */
  raw(s: string): void {
    this.out += s;
  }
}
