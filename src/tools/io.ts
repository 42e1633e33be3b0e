/**
 * What the operator tools (`amber check-rdb`, `check-aof`, `dump`) share: the injectable
 * stdout/stderr/stdin they talk through (tests capture them; the CLI writes to the real
 * file descriptors synchronously, so a tool's output is complete when it exits), chunked
 * positional file reads (multi-GB files are never read whole), and how bytes from a file
 * are shown in a report line.
 */
import { closeSync, fstatSync, openSync, readSync, writeSync } from "node:fs";
import process from "node:process";

/** The tools' view of the outside world. */
export interface ToolIO {
  /** Standard output: text is written as UTF-8, bytes as they are. */
  out(chunk: string | Uint8Array): void;
  /** Standard error (progress, warnings); text only. */
  err(text: string): void;
  /** One line from standard input without its newline; null at end of input. */
  readLine(): Promise<string | null>;
  /** True when stderr is a terminal (progress is then a line redrawn with `\r`). */
  errIsTTY: boolean;
}

/** stdout went away (`amber dump ... | head`): the tool stops quietly. */
export class BrokenPipe extends Error {
  constructor() {
    super("broken pipe");
    this.name = "BrokenPipe";
  }
}

const encoder = new TextEncoder();

/** Writes all of `bytes` to `fd`, retrying short writes and a full non-blocking pipe. */
function writeAll(fd: number, bytes: Uint8Array): void {
  let off = 0;
  let spins = 0;
  while (off < bytes.length) {
    try {
      off += writeSync(fd, bytes, off, bytes.length - off);
      spins = 0;
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === "EAGAIN" && ++spins < 1_000_000) {
        sleepMs(1);
        continue;
      }
      if (code === "EPIPE" || (e as Error).name === "BrokenPipe") throw new BrokenPipe();
      throw e;
    }
  }
}

let sleepCell: Int32Array | null = null;

/** Blocks the thread for `ms` (only used while a pipe is full). */
function sleepMs(ms: number): void {
  sleepCell ??= new Int32Array(new SharedArrayBuffer(4));
  Atomics.wait(sleepCell, 0, 0, ms);
}

/** Reads one line from fd 0, a byte at a time so nothing after the line is consumed. */
function readStdinLine(): string | null {
  const one = new Uint8Array(1);
  const bytes: number[] = [];
  for (;;) {
    let n: number;
    try {
      n = readSync(0, one, 0, 1, null);
    } catch (e) {
      if ((e as { code?: string }).code === "EAGAIN") {
        sleepMs(10);
        continue;
      }
      return bytes.length > 0 ? latin1String(bytes) : null;
    }
    if (n === 0) return bytes.length > 0 ? latin1String(bytes) : null;
    if (one[0] === 10) return latin1String(bytes).replace(/\r$/, "");
    bytes.push(one[0]);
  }
}

function latin1String(bytes: number[]): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return s;
}

/** The process's own stdout/stderr/stdin. */
export function processIO(): ToolIO {
  return {
    out(chunk) {
      writeAll(1, typeof chunk === "string" ? encoder.encode(chunk) : chunk);
    },
    err(text) {
      try {
        writeAll(2, encoder.encode(text));
      } catch {
        // Nowhere left to report to.
      }
    },
    readLine: () => Promise.resolve(readStdinLine()),
    errIsTTY: process.stderr.isTTY === true,
  };
}

/**
 * Collects stdout in chunks of `size` bytes before handing them on: dump prints
 * millions of short lines, and one write per line would dominate its run time.
 */
export class BufferedOut {
  private buf: Uint8Array;
  private len = 0;

  constructor(private readonly io: ToolIO, size = 1 << 16) {
    this.buf = new Uint8Array(size);
  }

  /** Text made of chars 0..255 only, written one byte per char. */
  latin1(s: string): void {
    const n = s.length;
    if (n > this.buf.length - this.len) {
      this.flush();
      if (n > this.buf.length) {
        const big = new Uint8Array(n);
        for (let i = 0; i < n; i++) big[i] = s.charCodeAt(i);
        this.io.out(big);
        return;
      }
    }
    const b = this.buf;
    let at = this.len;
    for (let i = 0; i < n; i++) b[at++] = s.charCodeAt(i);
    this.len = at;
  }

  /** Text written as UTF-8. */
  text(s: string): void {
    // deno-lint-ignore no-control-regex
    if (!/[^\x00-\x7f]/.test(s)) {
      this.latin1(s);
      return;
    }
    this.bytes(encoder.encode(s));
  }

  bytes(b: Uint8Array): void {
    if (b.length > this.buf.length - this.len) {
      this.flush();
      if (b.length > this.buf.length) {
        this.io.out(b);
        return;
      }
    }
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  flush(): void {
    if (this.len === 0) return;
    this.io.out(this.buf.slice(0, this.len));
    this.len = 0;
  }
}

// ---- files ------------------------------------------------------------------------------

/** An open file read in chunks at explicit positions. */
export class FileReader {
  readonly fd: number;
  readonly size: number;

  constructor(readonly path: string) {
    this.fd = openSync(path, "r");
    try {
      this.size = fstatSync(this.fd).size;
    } catch (e) {
      closeSync(this.fd);
      throw e;
    }
  }

  /** Up to `length` bytes at `position` (fewer at the end of the file), in a new array. */
  read(position: number, length: number): Uint8Array {
    const n = Math.max(0, Math.min(length, this.size - position));
    const buf = new Uint8Array(n);
    let got = 0;
    while (got < n) {
      const r = readSync(this.fd, buf, got, n - got, position + got);
      if (r === 0) break;
      got += r;
    }
    return got === n ? buf : buf.subarray(0, got);
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** The first `n` bytes of a file (fewer if it is shorter). */
export function readHead(path: string, n: number): Uint8Array {
  const f = new FileReader(path);
  try {
    return f.read(0, n);
  } finally {
    f.close();
  }
}

/** A system error as C's strerror prints it ("No such file or directory"). */
export function strerror(e: unknown): string {
  const code = (e as { code?: string }).code;
  switch (code) {
    case "ENOENT":
      return "No such file or directory";
    case "EACCES":
      return "Permission denied";
    case "EISDIR":
      return "Is a directory";
    case "ENOTDIR":
      return "Not a directory";
    case "EROFS":
      return "Read-only file system";
    case "ENOSPC":
      return "No space left on device";
  }
  return (e as Error).message ?? String(e);
}

// ---- showing bytes ----------------------------------------------------------------------

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** The bytes of a Latin-1 string. */
export function latin1ToBytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** The text of a Latin-1 string's bytes when they are valid UTF-8, else null. */
export function utf8Text(s: string): string | null {
  // deno-lint-ignore no-control-regex
  if (!/[^\x00-\x7f]/.test(s)) return s;
  try {
    return utf8.decode(latin1ToBytes(s));
  } catch {
    return null;
  }
}

/**
 * A key or value (Latin-1 string) for a report line: UTF-8 text shown as text, control
 * characters and bytes that are not UTF-8 as `\xNN`, and long strings cut.
 */
export function showBytes(s: string, max = 200): string {
  const cut = s.length > max;
  const t = cut ? s.slice(0, max) : s;
  const text = utf8Text(t);
  let out = "";
  if (text !== null) {
    for (const ch of text) {
      const c = ch.codePointAt(0)!;
      out += c < 0x20 || c === 0x7f ? hexEscape(c) : ch === "\\" ? "\\\\" : ch;
    }
  } else {
    for (let i = 0; i < t.length; i++) {
      const c = t.charCodeAt(i);
      out += c < 0x20 || c >= 0x7f ? hexEscape(c) : c === 0x5c ? "\\\\" : t[i];
    }
  }
  return cut ? out + `... (${s.length} bytes)` : out;
}

function hexEscape(c: number): string {
  return "\\x" + c.toString(16).padStart(2, "0");
}

/** A byte count for people: 1536 -> "1.5 KB". */
export function formatBytes(n: number): string {
  const units = ["bytes", "KB", "MB", "GB", "TB"];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} bytes` : `${v.toFixed(1)} ${units[u]}`;
}
