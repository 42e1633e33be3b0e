/**
 * RESP request parsing: turns socket bytes into argument vectors.
 *
 * Owns the request side of the protocol: multibulk (`*N\r\n$L\r\n...`) and inline
 * (telnet) commands, with Redis's limits and its exact `Protocol error: ...` strings
 * (networking.c `processMultibulkBuffer` / `processInlineBuffer`).
 *
 * Arguments are returned as Latin-1 JS strings (one char per byte), the byte-string
 * representation used everywhere in Amber. Large bulk arguments (>= 32 KiB) are read
 * into one preallocated buffer of their exact size, so a 500 MB argument arriving in
 * 64 KiB chunks costs linear time, not quadratic.
 */
import { Buffer } from "node:buffer";
import { latin1String } from "./wire.ts";

/** Redis's PROTO_INLINE_MAX_SIZE: the longest line before `\r\n` we accept. */
export const PROTO_INLINE_MAX_SIZE = 64 * 1024;
/** Redis's PROTO_MBULK_BIG_ARG: bulks at least this big get their own buffer. */
const PROTO_MBULK_BIG_ARG = 32 * 1024;

const CR = 13;
const LF = 10;
const EMPTY = Buffer.alloc(0);
/** `argv` between commands (never written: a multibulk header installs a fresh array). */
const NO_ARGS: string[] = [];

/** A protocol violation; `message` is the text after `-ERR `. */
export class ProtocolError extends Error {}

export interface ParserLimits {
  /** proto-max-bulk-len */
  maxBulkLen: number;
  /** When false, apply Redis's limits for clients that have not authenticated. */
  authenticated: () => boolean;
}

/**
 * Incremental request parser. Feed it chunks; pull complete commands with `next()`.
 *
 * @example
 * ```ts
 * const p = new RequestParser({ maxBulkLen: 512 * 1024 * 1024, authenticated: () => true });
 * p.feed(Buffer.from("*1\r\n$4\r\nPING\r\n"));
 * p.next(); // ["PING"]
 * ```
 */
export class RequestParser {
  private buf: Buffer = EMPTY;
  private pos = 0;
  /** Remaining arguments of the multibulk being read; 0 when between commands. */
  private multibulkLen = 0;
  private argv: string[] = NO_ARGS;
  /** Arguments of `argv` read so far. */
  private argc = 0;
  /** Length of the next bulk, or -1 when its `$L` header is not read yet. */
  private bulkLen = -1;
  /** Exact-size buffer for a big bulk argument being filled. */
  private big: Buffer | null = null;
  private bigFilled = 0;

  constructor(private limits: ParserLimits) {}

  /** Bytes received but not yet consumed (for `client-query-buffer-limit`, CLIENT LIST qbuf). */
  pending(): number {
    return this.buf.length - this.pos + (this.big ? this.bigFilled : 0);
  }

  feed(chunk: Buffer): void {
    if (this.big) {
      const need = this.big.length - this.bigFilled;
      const n = Math.min(need, chunk.length);
      chunk.copy(this.big, this.bigFilled, 0, n);
      this.bigFilled += n;
      if (n < chunk.length) this.appendRaw(chunk.subarray(n));
      return;
    }
    this.appendRaw(chunk);
  }

  /**
   * Copies the bytes not consumed yet out of the chunk last fed, for a caller whose read
   * buffer is about to be reused (stream_io.ts). Nothing is copied when every byte was
   * consumed, the usual case.
   */
  retain(): void {
    if (this.pos >= this.buf.length) {
      this.buf = EMPTY;
      this.pos = 0;
    } else {
      this.buf = Buffer.from(this.buf.subarray(this.pos));
      this.pos = 0;
    }
  }

  private appendRaw(chunk: Buffer): void {
    if (this.pos >= this.buf.length) {
      this.buf = chunk;
      this.pos = 0;
    } else {
      this.buf = Buffer.concat([this.buf.subarray(this.pos), chunk]);
      this.pos = 0;
    }
  }

  /**
   * The next complete command, `null` when more bytes are needed, or an empty
   * array for an empty inline line (which Redis silently skips).
   * Throws ProtocolError on malformed input; the connection must then be closed.
   */
  next(): string[] | null {
    if (this.multibulkLen === 0 && this.big === null) {
      if (this.pos >= this.buf.length) return null;
      if (this.buf[this.pos] !== 42 /* '*' */) return this.inline();
      const nl = findCR(this.buf, this.pos);
      if (nl === -1 || nl + 1 >= this.buf.length) {
        if (this.buf.length - this.pos > PROTO_INLINE_MAX_SIZE) {
          throw new ProtocolError("Protocol error: too big mbulk count string");
        }
        return null;
      }
      const n = parseLength(this.buf, this.pos + 1, nl);
      if (n === null || n > 0x7fffffff) {
        throw new ProtocolError("Protocol error: invalid multibulk length");
      }
      if (n > 10 && !this.limits.authenticated()) {
        throw new ProtocolError("Protocol error: unauthenticated multibulk length");
      }
      this.pos = nl + 2;
      if (n <= 0) return this.next();
      this.multibulkLen = n;
      // Sized up front, as Redis's argv (at most 1024 slots, growing beyond): an array
      // grown by push() starts with 17 slots and costs a grow call.
      this.argv = new Array<string>(n < 1024 ? n : 1024);
      this.argc = 0;
    }
    while (this.multibulkLen > 0) {
      if (this.big) {
        if (this.bigFilled < this.big.length) return null;
        // The big buffer holds the argument plus its trailing CRLF.
        const big = this.big;
        this.big = null;
        this.argv[this.argc++] = latin1String(big, 0, big.length - 2);
        this.bulkLen = -1;
        this.multibulkLen--;
        continue;
      }
      if (this.bulkLen === -1) {
        if (this.pos >= this.buf.length) return null;
        const nl = findCR(this.buf, this.pos);
        if (nl === -1 || nl + 1 >= this.buf.length) {
          if (this.buf.length - this.pos > PROTO_INLINE_MAX_SIZE) {
            throw new ProtocolError("Protocol error: too big bulk count string");
          }
          return null;
        }
        if (this.buf[this.pos] !== 36 /* '$' */) {
          throw new ProtocolError(
            `Protocol error: expected '$', got '${String.fromCharCode(this.buf[this.pos])}'`,
          );
        }
        const len = parseLength(this.buf, this.pos + 1, nl);
        if (len === null || len < 0 || len > this.limits.maxBulkLen) {
          throw new ProtocolError("Protocol error: invalid bulk length");
        }
        if (len > 16384 && !this.limits.authenticated()) {
          throw new ProtocolError("Protocol error: unauthenticated bulk length");
        }
        this.pos = nl + 2;
        this.bulkLen = len;
        if (len >= PROTO_MBULK_BIG_ARG && this.buf.length - this.pos < len + 2) {
          this.big = Buffer.allocUnsafe(len + 2);
          const have = this.buf.length - this.pos;
          this.buf.copy(this.big, 0, this.pos, this.buf.length);
          this.bigFilled = have;
          this.buf = EMPTY;
          this.pos = 0;
          continue;
        }
      }
      if (this.buf.length - this.pos < this.bulkLen + 2) return null;
      const end = this.pos + this.bulkLen;
      this.argv[this.argc++] = latin1String(this.buf, this.pos, end);
      this.pos = end + 2;
      this.bulkLen = -1;
      this.multibulkLen--;
    }
    const argv = this.argv;
    this.argv = NO_ARGS;
    return argv;
  }

  private inline(): string[] | null {
    const nl = this.buf.indexOf(LF, this.pos);
    if (nl === -1) {
      if (this.buf.length - this.pos > PROTO_INLINE_MAX_SIZE) {
        throw new ProtocolError("Protocol error: too big inline request");
      }
      return null;
    }
    let end = nl;
    if (end > this.pos && this.buf[end - 1] === CR) end--;
    const line = latin1String(this.buf, this.pos, end);
    this.pos = nl + 1;
    const args = splitArgs(line);
    if (args === null) throw new ProtocolError("Protocol error: unbalanced quotes in request");
    return args;
  }
}

/**
 * Index of the next CR from `from`, or -1. Headers (`*3`, `$16`) are a few bytes long,
 * and a plain loop beats Buffer.indexOf's generic path for that; long scans fall back.
 */
function findCR(buf: Buffer, from: number): number {
  const end = Math.min(buf.length, from + 24);
  for (let i = from; i < end; i++) if (buf[i] === CR) return i;
  return end === buf.length ? -1 : buf.indexOf(CR, end);
}

/** Parses the decimal between `start` and `end`; null if it is not a valid length. */
function parseLength(buf: Buffer, start: number, end: number): number | null {
  if (start >= end || end - start > 20) return null;
  let neg = false;
  let i = start;
  if (buf[i] === 45) {
    neg = true;
    i++;
    if (i === end) return null;
  }
  let n = 0;
  for (; i < end; i++) {
    const c = buf[i] - 48;
    if (c < 0 || c > 9) return null;
    n = n * 10 + c;
  }
  return neg ? -n : n;
}

function isHex(c: string): boolean {
  return /^[0-9a-fA-F]$/.test(c);
}

/**
 * Redis's `sdssplitargs`: splits a line into arguments honouring "double quotes"
 * (with \n \r \t \b \a \\ \" and \xHH escapes) and 'single quotes' (only \' escaped).
 * Returns null for unbalanced quotes or a closing quote not followed by a space.
 * Also used by the config file parser.
 */
export function splitArgs(line: string): string[] | null {
  const out: string[] = [];
  let i = 0;
  const n = line.length;
  while (true) {
    while (i < n && isSpace(line.charCodeAt(i))) i++;
    if (i >= n) return out;
    let inq = false;
    let insq = false;
    let done = false;
    let cur = "";
    while (!done) {
      if (inq) {
        if (i >= n) return null;
        const c = line[i];
        if (
          c === "\\" && line[i + 1] === "x" && i + 3 < n + 0 && isHex(line[i + 2] ?? "") &&
          isHex(line[i + 3] ?? "")
        ) {
          cur += String.fromCharCode(parseInt(line.slice(i + 2, i + 4), 16));
          i += 3;
        } else if (c === "\\" && i + 1 < n) {
          i++;
          const e = line[i];
          cur += e === "n"
            ? "\n"
            : e === "r"
            ? "\r"
            : e === "t"
            ? "\t"
            : e === "b"
            ? "\b"
            : e === "a"
            ? "\x07"
            : e;
        } else if (c === '"') {
          if (i + 1 < n && !isSpace(line.charCodeAt(i + 1))) return null;
          done = true;
        } else {
          cur += c;
        }
      } else if (insq) {
        if (i >= n) return null;
        const c = line[i];
        if (c === "\\" && line[i + 1] === "'") {
          i++;
          cur += "'";
        } else if (c === "'") {
          if (i + 1 < n && !isSpace(line.charCodeAt(i + 1))) return null;
          done = true;
        } else {
          cur += c;
        }
      } else {
        if (i >= n) {
          done = true;
          break;
        }
        const c = line[i];
        const code = line.charCodeAt(i);
        if (isSpace(code)) {
          done = true;
        } else if (c === '"') {
          inq = true;
        } else if (c === "'") {
          insq = true;
        } else {
          cur += c;
        }
      }
      if (i < n) i++;
    }
    out.push(cur);
  }
}

function isSpace(c: number): boolean {
  // C isspace(): space, \t, \n, \v, \f, \r
  return c === 32 || (c >= 9 && c <= 13);
}
