/**
 * Reading an AOF command stream from a file of any size, in chunks, with
 * redis-check-aof's rules on top of the codec's (`readAofCommands` in
 * persistence/aof/stream.ts): a MULTI inside a MULTI or an EXEC without one is an error,
 * and the valid prefix (`ok_up_to`) never ends inside a transaction. Also counts lines
 * as redis-check-aof's `ok_up_to_line` does. Used by `check-aof` and by `dump`'s replay.
 */
import { readAofCommands } from "../persistence/aof/stream.ts";
import type { FileReader } from "./io.ts";

/** Bytes per read; a single command longer than this makes the window grow. */
const CHUNK = 16 << 20;

export interface AofScanEvents {
  /** Each complete command, in file order. */
  onCommand?(argv: string[], offset: number, end: number): void;
  /**
   * Each annotation starting with `#TS:`; returning true stops the scan there (status
   * "stopped"). `wellFormed` is redis-check-aof's test: digits, then "\r".
   */
  onTimestamp?(timestamp: number, offset: number, wellFormed: boolean): boolean | void;
  /** Called after each chunk with the file offset reached. */
  onProgress?(offset: number): void;
}

export interface AofScanResult {
  size: number;
  /**
   * `ok`: everything read; `torn`: the file ends inside an entry or an open MULTI (what
   * a crash leaves); `garbage`: bytes that cannot be there; `stopped`: onTimestamp said so.
   */
  status: "ok" | "torn" | "garbage" | "stopped";
  /** redis-check-aof's ok_up_to: the end of the last complete entry outside a MULTI. */
  okUpTo: number;
  /** redis-check-aof's line counter after the scan (it starts at `startLine`). */
  line: number;
  /** Where the problem is (null when ok). */
  errorOffset: number | null;
  /** What the problem is, naming file offsets (null when ok). */
  message: string | null;
  commands: number;
  /** Offset of the annotation the scan stopped at (status "stopped"). */
  stoppedAt?: number;
}

/**
 * Scans `file` from `start` (past an RDB preamble, say). `startLine` continues
 * redis-check-aof's line count, which runs on across the files of a manifest.
 * `chunkSize` is the read window (tests make it tiny to cross every boundary).
 */
export function scanAofFile(
  file: FileReader,
  start = 0,
  events: AofScanEvents = {},
  startLine = 1,
  chunkSize = CHUNK,
): AofScanResult {
  let base = start;
  let window = chunkSize;
  let multiAt: number | null = null;
  let okUpTo = start;
  let line = startLine;
  let commands = 0;
  const result = (
    status: AofScanResult["status"],
    errorOffset: number | null,
    message: string | null,
  ): AofScanResult => ({
    size: file.size,
    status,
    okUpTo: multiAt ?? okUpTo,
    line,
    errorOffset,
    message,
    commands,
  });
  for (;;) {
    const chunk = file.read(base, window);
    const atEof = base + chunk.length >= file.size;
    const it = readAofCommands(chunk, 0);
    let r = it.next();
    for (; !r.done; r = it.next()) {
      const e = r.value;
      const offset = base + e.offset;
      const end = base + e.end;
      if (e.kind === "timestamp" || (e.kind === "annotation" && e.text.startsWith("#TS:"))) {
        const ts = e.kind === "timestamp" ? e.timestamp : NaN;
        const wellFormed = e.kind === "timestamp" && chunk[e.end - 2] === 13;
        if (events.onTimestamp?.(ts, offset, wellFormed) === true) {
          const res = result("stopped", null, null);
          res.stoppedAt = offset;
          return res;
        }
      } else if (e.kind === "command") {
        const name = e.argv[0].length === 4 || e.argv[0].length === 5
          ? e.argv[0].toLowerCase()
          : "";
        if (name === "multi") {
          if (multiAt !== null) {
            line += 3; // redis-check-aof read the header and the name before refusing

            return result(
              "garbage",
              offset,
              `unexpected MULTI at offset ${offset} (the MULTI at offset ${multiAt} has no EXEC yet)`,
            );
          }
          multiAt = offset;
        } else if (name === "exec") {
          if (multiAt === null) {
            line += 3;
            return result("garbage", offset, `unexpected EXEC at offset ${offset} (no MULTI)`);
          }
          multiAt = null;
        }
        line += 1 + 2 * e.argv.length;
        commands++;
        events.onCommand?.(e.argv, offset, end);
      }
      if (multiAt === null) okUpTo = end;
    }
    const res = r.value;
    if (res.status === "ok" || (res.status === "torn" && !atEof)) {
      if (atEof) break;
      // A torn entry at the window's end is only the read boundary: read on from it.
      if (res.validEnd === 0) window *= 2;
      base += res.validEnd;
      events.onProgress?.(base);
      continue;
    }
    if (res.status === "torn" && chunk[res.validEnd] === 0x23 && multiAt === null) {
      // An annotation cut before its '\n' at the end of the file: redis-check-aof (and
      // redis-server's loader) read it with fgets, which is content with EOF.
      const offset = base + res.validEnd;
      let text = "";
      const upTo = Math.min(chunk.length, res.validEnd + 32);
      for (let i = res.validEnd; i < upTo; i++) text += String.fromCharCode(chunk[i]);
      const ts = /^#TS:(\d*)/.exec(text);
      if (ts && events.onTimestamp?.(Number(ts[1]), offset, false) === true) {
        const stopped = result("stopped", null, null);
        stopped.stoppedAt = offset;
        return stopped;
      }
      okUpTo = file.size;
      break;
    }
    const at = base + res.errorOffset!;
    line += partialLines(chunk, res.validEnd, chunk.length);
    return result(res.status, at, shiftOffsets(res.message ?? "", base));
  }
  events.onProgress?.(file.size);
  if (multiAt !== null) {
    return result(
      "torn",
      multiAt,
      `reached the end of the file before the EXEC of the MULTI at offset ${multiAt}`,
    );
  }
  return result("ok", null, null);
}

/** The codec's messages name offsets in the chunk it was given: make them file offsets. */
function shiftOffsets(message: string, base: number): string {
  if (base === 0) return message;
  return message.replace(/(offset|up to) (\d+)/g, (_, w, n) => `${w} ${Number(n) + base}`);
}

/**
 * Lines redis-check-aof consumes from an incomplete command at `start` before it fails:
 * each `*N` / `$N` header and each bulk body followed by "\r\n" counts one.
 */
function partialLines(b: Uint8Array, start: number, end: number): number {
  let p = start;
  let n = 0;
  const header = (prefix: number): number | null => {
    if (p >= end || b[p] !== prefix) return null;
    let q = p + 1;
    let v = 0;
    while (q < end && b[q] >= 48 && b[q] <= 57) v = v * 10 + (b[q++] - 48);
    if (q + 1 >= end || b[q] !== 13 || b[q + 1] !== 10) return null;
    p = q + 2;
    n++;
    return v;
  };
  if (b[p] !== 42) return 0; // an annotation or garbage: no RESP lines
  const argc = header(42);
  if (argc === null) return n;
  for (let i = 0; i < argc; i++) {
    const len = header(36);
    if (len === null) return n;
    if (p + len + 2 > end || b[p + len] !== 13 || b[p + len + 1] !== 10) return n;
    p += len + 2;
    n++;
  }
  return n;
}
