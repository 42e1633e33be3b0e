/**
 * The RESP command stream inside `.incr.aof` / `.base.aof` files: a strict reader that
 * finds where the valid prefix ends (torn tail vs garbage, the basis for
 * `aof-load-truncated` and `redis-check-aof`) and the exact encoder Redis uses
 * (aof.c `catAppendOnlyGenericCommand`, `genAofTimestampAnnotationIfNeeded`). Pure: no I/O.
 *
 * Arguments are Latin-1 JS strings (one char per byte).
 */

/** One command: `offset` is where its `*` is, `end` is one past its last byte. */
export interface AofCommand {
  kind: "command";
  argv: string[];
  offset: number;
  end: number;
}

/** A `#TS:<unix seconds>` annotation line. */
export interface AofTimestamp {
  kind: "timestamp";
  timestamp: number;
  offset: number;
  end: number;
}

/** Any other `#...` line (Redis skips annotations it does not know). */
export interface AofAnnotation {
  kind: "annotation";
  text: string;
  offset: number;
  end: number;
}

export type AofEntry = AofCommand | AofTimestamp | AofAnnotation;

export interface AofReadResult {
  /** `ok`: every byte read; `torn`: input ends mid-entry; `garbage`: a byte that cannot be there. */
  status: "ok" | "torn" | "garbage";
  torn: boolean;
  garbage: boolean;
  /** End of the last complete entry (command or annotation line): the valid prefix. */
  validEnd: number;
  /** Where the problem is: start of the torn entry, or the offending byte; null when ok. */
  errorOffset: number | null;
  /** Human-readable explanation naming the offset; null when ok. */
  message: string | null;
  /** Offset of a MULTI with no EXEC before the stop point, else null. */
  openMultiAt: number | null;
  /**
   * The prefix Redis keeps: `validEnd`, or the open MULTI's offset if a transaction is
   * unterminated (Redis reverts an incomplete MULTI/EXEC; redis-check-aof's ok_up_to).
   */
  safeEnd: number;
  commands: number;
}

const CR = 13;
const LF = 10;
const STAR = 42;
const DOLLAR = 36;
const HASH = 35;
/** Longest `*N` / `$N` header digits accepted (Redis caps lengths far below 10^18). */
const MAX_DIGITS = 18;

/** Bytes [start, end) as a Latin-1 string. */
export function latin1(bytes: Uint8Array, start: number, end: number): string {
  let s = "";
  for (let i = start; i < end; i += 8192) {
    s += String.fromCharCode(...bytes.subarray(i, Math.min(end, i + 8192)));
  }
  return s;
}

class Stop {
  constructor(readonly torn: boolean, readonly at: number, readonly message: string) {}
}

/** Reads `<prefix><digits>\r\n` at `pos`; returns [value, next]. */
function readHeader(
  b: Uint8Array,
  pos: number,
  prefix: number,
  what: string,
  entryStart: number,
): [number, number] {
  if (pos >= b.length) throw new Stop(true, entryStart, `${what} header missing`);
  if (b[pos] !== prefix) {
    throw new Stop(
      false,
      pos,
      `expected '${String.fromCharCode(prefix)}' at offset ${pos}, got 0x${
        b[pos].toString(16).padStart(2, "0")
      }`,
    );
  }
  let i = pos + 1;
  let n = 0;
  const digitsStart = i;
  while (i < b.length && b[i] >= 48 && b[i] <= 57) {
    n = n * 10 + (b[i] - 48);
    i++;
    if (i - digitsStart > MAX_DIGITS) throw new Stop(false, i, `${what} too long at offset ${i}`);
  }
  if (i >= b.length) throw new Stop(true, entryStart, `${what} header truncated`);
  if (i === digitsStart) throw new Stop(false, i, `invalid ${what} at offset ${i}`);
  if (b[i] !== CR) throw new Stop(false, i, `expected \\r at offset ${i}`);
  if (i + 1 >= b.length) throw new Stop(true, entryStart, `${what} header truncated`);
  if (b[i + 1] !== LF) throw new Stop(false, i + 1, `expected \\n at offset ${i + 1}`);
  return [n, i + 2];
}

function readCommand(b: Uint8Array, start: number): AofCommand {
  const [argc, p0] = readHeader(b, start, STAR, "argument count", start);
  if (argc < 1) throw new Stop(false, start + 1, `invalid argument count at offset ${start + 1}`);
  let p = p0;
  const argv: string[] = [];
  for (let j = 0; j < argc; j++) {
    const [len, q] = readHeader(b, p, DOLLAR, "bulk length", start);
    if (q + len + 2 > b.length) {
      // Torn, unless the bytes already there show the CRLF is missing.
      if (q + len < b.length && b[q + len] !== CR) {
        throw new Stop(false, q + len, `expected \\r at offset ${q + len}`);
      }
      throw new Stop(true, start, "bulk string truncated");
    }
    if (b[q + len] !== CR) throw new Stop(false, q + len, `expected \\r at offset ${q + len}`);
    if (b[q + len + 1] !== LF) {
      throw new Stop(false, q + len + 1, `expected \\n at offset ${q + len + 1}`);
    }
    argv.push(latin1(b, q, q + len));
    p = q + len + 2;
  }
  return { kind: "command", argv, offset: start, end: p };
}

/**
 * Reads entries from `start`. Yields each complete command and annotation; the generator's
 * return value says how the stream ended. A `#` line must end with '\n' to count.
 */
export function* readAofCommands(
  bytes: Uint8Array,
  start = 0,
): Generator<AofEntry, AofReadResult, void> {
  let pos = start;
  let commands = 0;
  let openMultiAt: number | null = null;
  const finish = (stop: Stop | null): AofReadResult => {
    const status = stop === null ? "ok" : stop.torn ? "torn" : "garbage";
    let message = stop === null ? null : stop.message;
    if (stop !== null && stop.torn) {
      message = `truncated entry at offset ${stop.at} (${stop.message}); valid up to ${pos}`;
    } else if (stop !== null) {
      message = `bad format at offset ${stop.at}: ${stop.message}; valid up to ${pos}`;
    }
    return {
      status,
      torn: status === "torn",
      garbage: status === "garbage",
      validEnd: pos,
      errorOffset: stop === null ? null : stop.at,
      message,
      openMultiAt,
      safeEnd: openMultiAt ?? pos,
      commands,
    };
  };
  while (pos < bytes.length) {
    const c = bytes[pos];
    if (c === HASH) {
      const nl = bytes.indexOf(LF, pos);
      if (nl === -1) return finish(new Stop(true, pos, "annotation line truncated"));
      let lineEnd = nl;
      if (lineEnd > pos && bytes[lineEnd - 1] === CR) lineEnd--;
      const text = latin1(bytes, pos, lineEnd);
      const ts = /^#TS:(\d+)$/.exec(text);
      const entry: AofEntry = ts
        ? { kind: "timestamp", timestamp: Number(ts[1]), offset: pos, end: nl + 1 }
        : { kind: "annotation", text, offset: pos, end: nl + 1 };
      pos = nl + 1;
      yield entry;
      continue;
    }
    if (c !== STAR) {
      return finish(
        new Stop(
          false,
          pos,
          `expected '*' or '#' at offset ${pos}, got 0x${c.toString(16).padStart(2, "0")}`,
        ),
      );
    }
    let cmd: AofCommand;
    try {
      cmd = readCommand(bytes, pos);
    } catch (e) {
      if (e instanceof Stop) return finish(e);
      throw e;
    }
    const name = cmd.argv[0].toLowerCase();
    if (name === "multi") {
      if (openMultiAt === null) openMultiAt = cmd.offset;
    } else if (name === "exec") openMultiAt = null;
    pos = cmd.end;
    commands++;
    yield cmd;
  }
  return finish(null);
}

/** Reads the whole stream: every entry plus how it ended. */
export function scanAof(
  bytes: Uint8Array,
  start = 0,
): AofReadResult & { entries: AofEntry[] } {
  const entries: AofEntry[] = [];
  const it = readAofCommands(bytes, start);
  while (true) {
    const r = it.next();
    if (r.done) return { ...r.value, entries };
    entries.push(r.value);
  }
}

/** A RESP array of bulk strings, exactly as Redis appends a command to the AOF. */
export function encodeAofCommand(argv: readonly string[]): string {
  let out = `*${argv.length}\r\n`;
  for (const a of argv) out += `$${a.length}\r\n${a}\r\n`;
  return out;
}

/** The `#TS:<sec>\r\n` annotation written when `aof-timestamp-enabled yes`. */
export function encodeTimestamp(sec: number): string {
  return `#TS:${Math.floor(sec)}\r\n`;
}
