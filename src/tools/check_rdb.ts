/**
 * `amber check-rdb FILE`: walks an RDB file the way `redis-check-rdb` does and reports in
 * its words ("[offset N] ...", "--- RDB ERROR DETECTED ---", "\o/ RDB looks OK! \o/"),
 * plus what an operator migrating data wants to know: the RDB version, keys per db and
 * per type (with the encodings the file used). Exit code 0 only when the file is sound.
 *
 * The checks are the RDB reader's (sanitize-dump-payload yes, as redis-check-rdb sets),
 * plus redis-check-rdb's own verdicts where they differ from loading: an empty collection
 * is an error (redis-server skips it; redis-check-rdb 7.0 stops there), and any db number
 * is accepted. One deliberate difference: RDB versions 11 and 12 (Redis 7.2 / 7.4), which
 * the reader (and so Amber) loads, pass with a note, where redis-check-rdb 7.0 refuses
 * them. The file is read in chunks, so a multi-GB file is checked in bounded memory.
 * `checkRdbFile` is also the RDB half of `amber check-aof`.
 */
import { RdbParser } from "../persistence/rdb/reader.ts";
import { RDB_VERSION_7_0, type RdbEntry, RdbError } from "../persistence/rdb/types.ts";
import { AMBER_VERSION } from "../version.ts";
import { FileReader, processIO, showBytes, strerror, type ToolIO } from "./io.ts";
import { Progress } from "./progress.ts";

/** redis-check-rdb's names for value types, for "Reading type N (name)". */
const CHECK_TYPE_NAMES = [
  "string",
  "list-linked",
  "set-hashtable",
  "zset-v1",
  "hash-hashtable",
  "zset-v2",
  "module-pre-release",
  "module-value",
  "",
  "hash-zipmap",
  "list-ziplist",
  "set-intset",
  "zset-ziplist",
  "hash-ziplist",
  "quicklist",
  "stream",
  "hash-listpack",
  "zset-listpack",
  "quicklist-v2",
  "stream-v2",
  "set-listpack",
  "stream-v3",
];

/** Read size: large enough to amortize syscalls, small enough to stay bounded. */
const CHUNK = 4 << 20;

export interface RdbCheckOptions {
  /** "Now" for counting already expired keys (default Date.now()). */
  now?: number;
  /** Show progress on stderr for long runs (default true). */
  progress?: boolean;
  /** Bytes per read (default 4 MiB; tests use tiny ones to cross every boundary). */
  chunkSize?: number;
}

export interface RdbCheckResult {
  ok: boolean;
  /** Offset just past the RDB (its checksum): an AOF tail starts here. */
  end: number;
  size: number;
  version: number;
  keys: number;
  expires: number;
  alreadyExpired: number;
  /** Where the damage is and what it is (when !ok). */
  error?: { offset: number; message: string; key?: string };
}

/** An empty collection: redis-check-rdb 7.0 stops at it (redis-server skips it). */
class EmptyKeyError extends Error {
  constructor(readonly offset: number, readonly key: string, readonly typeAt: number) {
    super("empty key");
  }
}

/** How the reader words an empty collection (see RdbParser.next). */
const EMPTY_KEY_WARNING = "skipping empty key ";

/** Bytes rdbSaveLen uses for `n`: how long a SELECTDB operand is. */
function lenSize(n: number): number {
  return n < 64 ? 1 : n < 16384 ? 2 : n <= 0xffffffff ? 5 : 9;
}

/**
 * Checks the RDB at `path` (shown as `name`), printing redis-check-rdb's report to
 * `io.out`. Returns the verdict and counts; never throws for a damaged file.
 */
export function checkRdbFile(
  path: string,
  name: string,
  io: ToolIO,
  opts: RdbCheckOptions = {},
): RdbCheckResult {
  const line = (s: string) => io.out(s + "\n");
  const now = opts.now ?? Date.now();
  const result: RdbCheckResult = {
    ok: false,
    end: 0,
    size: 0,
    version: 0,
    keys: 0,
    expires: 0,
    alreadyExpired: 0,
  };
  line(`[offset 0] Checking RDB file ${name}`);
  let file: FileReader;
  try {
    file = new FileReader(path);
  } catch (e) {
    const message = `Cannot open file ${name}: ${strerror(e)}`;
    line("--- RDB ERROR DETECTED ---");
    line(`[offset 0] ${message}`);
    result.error = { offset: 0, message };
    return result;
  }
  result.size = file.size;
  const perDb = new Map<number, { keys: number; expires: number }>();
  const perType = new Map<string, { keys: number; encodings: Map<string, number> }>();
  let functions = 0;
  // What the reader does not report one by one (AUX fields, SELECTDB) is reconstructed
  // from the callbacks it has and the record layout; see the note on watchAux.
  let pendingAux: [string, string] | null = null;
  let announcedDb = -1;
  /** Where the record after the last key (or the header) starts. */
  let lastEntryEnd = 9;
  const flushAux = (end: number) => {
    if (pendingAux === null) return;
    line(`[offset ${end}] AUX FIELD ${showBytes(pendingAux[0])} = '${showBytes(pendingAux[1])}'`);
    pendingAux = null;
  };
  const parser = new RdbParser({
    // redis-check-rdb does not load into databases, so any db number is fine there.
    databases: Number.MAX_SAFE_INTEGER,
    onWarning: (message, offset) => {
      if (message.startsWith(EMPTY_KEY_WARNING)) {
        // `offset` is where the key starts; the type byte is just before it.
        const key = JSON.parse(message.slice(EMPTY_KEY_WARNING.length)) as string;
        throw new EmptyKeyError(parser.offset, key, offset - 1);
      }
      if (message.startsWith("RDB file was saved with checksum disabled")) return;
      line(`[offset ${offset}] ${message}`);
    },
    onFunction: () => {
      functions++;
    },
    onResizeDb: (db) => {
      // Called right after SELECTDB + its operand were consumed: offset is past both.
      const selectEnd = parser.offset;
      flushAux(selectEnd - 1 - lenSize(db));
      line(`[offset ${selectEnd}] Selecting DB ID ${db}`);
      announcedDb = db;
    },
  });
  watchAux(parser, (k, v) => {
    flushAux(parser.offset);
    pendingAux = [k, v];
  });
  const onEntry = (e: RdbEntry) => {
    if (e.db !== announcedDb) {
      // A file without RESIZEDB (before Redis 3.2): the SELECTDB opcode (0xfe) is the
      // first record after the previous key (or the header).
      const isSelect = file.read(lastEntryEnd, 1)[0] === 0xfe;
      flushAux(lastEntryEnd);
      line(
        `[offset ${lastEntryEnd + (isSelect ? 1 + lenSize(e.db) : 0)}] Selecting DB ID ${e.db}`,
      );
      announcedDb = e.db;
    }
    result.keys++;
    let d = perDb.get(e.db);
    if (!d) perDb.set(e.db, d = { keys: 0, expires: 0 });
    d.keys++;
    if (e.expireAtMs !== undefined) {
      result.expires++;
      d.expires++;
      if (e.expireAtMs < now) result.alreadyExpired++;
    }
    let t = perType.get(e.value.type);
    if (!t) perType.set(e.value.type, t = { keys: 0, encodings: new Map() });
    t.keys++;
    const enc = fileEncoding(e);
    if (enc) t.encodings.set(enc, (t.encodings.get(enc) ?? 0) + 1);
  };

  const progress = opts.progress === false ? null : new Progress({
    label: `Checking ${name}`,
    total: file.size,
    write: (s) => io.err(s),
    tty: io.errIsTTY,
  });
  let pos = 0;
  try {
    try {
      while (!parser.done) {
        if (pos < file.size) {
          const chunk = file.read(pos, opts.chunkSize ?? CHUNK);
          if (chunk.length === 0) throw new RdbError("the file shrank while being read", pos);
          pos += chunk.length;
          parser.push(chunk);
        }
        if (pos >= file.size) parser.finish();
        for (let e = parser.next(); e !== null; e = parser.next()) {
          onEntry(e);
          lastEntryEnd = parser.offset;
        }
        progress?.update(pos);
        if (pos >= file.size && !parser.done) {
          throw new RdbError("unexpected end of file", parser.offset);
        }
      }
    } finally {
      progress?.finish();
    }
    result.version = parser.version;
    result.end = parser.offset;
    const eofAt = result.end - (parser.version >= 5 ? 9 : 1);
    flushAux(eofAt);
    if (parser.checksum !== undefined) {
      line(
        parser.checksum.stored === 0n
          ? `[offset ${result.end}] RDB file was saved with checksum disabled: no check performed.`
          : `[offset ${result.end}] Checksum OK`,
      );
    }
    line(`[offset ${result.end}] \\o/ RDB looks OK! \\o/`);
    result.ok = true;
  } catch (e) {
    result.version = parser.version;
    flushAux(parser.offset);
    const err = describeError(e, parser, file);
    if (err.key !== undefined) result.keys++; // as redis-check-rdb: the key was read
    line("--- RDB ERROR DETECTED ---");
    line(`[offset ${err.offset}] ${err.message}`);
    if (err.doing) line(`[additional info] While doing: ${err.doing}`);
    if (err.key !== undefined) line(`[additional info] Reading key '${showBytes(err.key)}'`);
    if (err.type !== undefined) {
      line(
        `[additional info] Reading type ${err.type} (${CHECK_TYPE_NAMES[err.type] || "unknown"})`,
      );
    }
    result.error = { offset: err.offset, message: err.message, key: err.key };
  } finally {
    file.close();
  }
  line(`[info] ${result.keys} keys read`);
  line(`[info] ${result.expires} expires`);
  line(`[info] ${result.alreadyExpired} already expired`);
  if (result.version > 0) {
    line(
      `[info] RDB format version ${result.version}` +
        (result.version > RDB_VERSION_7_0 ? " (newer than Redis 7.0's version 10)" : ""),
    );
  }
  for (const db of [...perDb.keys()].sort((a, b) => a - b)) {
    const d = perDb.get(db)!;
    line(
      `[info] db ${db}: ${d.keys} keys, ${d.expires} with an expire` +
        (db >= 16 ? ` (beyond the default 16 databases: needs databases ${db + 1} or more)` : ""),
    );
  }
  for (const type of ["string", "list", "set", "zset", "hash"]) {
    const t = perType.get(type);
    if (!t) continue;
    const encs = [...t.encodings].map(([enc, n]) => `${enc} ${n}`).join(", ");
    line(`[info] type ${type}: ${t.keys} keys${encs ? ` (${encs})` : ""}`);
  }
  if (functions > 0) line(`[info] ${functions} function libraries`);
  return result;
}

/** The encoding the file stored a value in, as OBJECT ENCODING would name it. */
function fileEncoding(e: RdbEntry): string | undefined {
  const v = e.value;
  if (v.type === "string") return undefined;
  if (v.type === "set" && v.intset) return "intset";
  return v.encoding;
}

interface ErrorReport {
  offset: number;
  message: string;
  doing?: string;
  key?: string;
  type?: number;
}

/** Turns whatever the reader threw into redis-check-rdb's error block. */
function describeError(e: unknown, parser: RdbParser, file: FileReader): ErrorReport {
  const byteAt = (at: number): number | undefined => {
    const b = at >= 0 && at < file.size ? file.read(at, 1) : new Uint8Array(0);
    return b.length === 1 ? b[0] : undefined;
  };
  if (e instanceof EmptyKeyError) {
    // The record starts with its type byte: report it as redis-check-rdb does.
    return {
      offset: e.offset,
      message:
        "Empty key: the value has no elements (redis-server 7.0 skips such keys when loading, " +
        "redis-check-rdb reports them as an error)",
      doing: "read-object-value",
      key: e.key,
      type: byteAt(e.typeAt),
    };
  }
  if (e instanceof RdbError) {
    let message = e.reason;
    let doing: string | undefined;
    if (parser.version === 0) doing = "start";
    if (e.key !== undefined) doing = "read-object-value";
    if (message.startsWith("unexpected end of file")) {
      const m = /^unexpected end of file: (needed \d+ bytes, \d+ left)/.exec(message);
      message = `Unexpected EOF reading RDB file` + (m ? ` (${m[1]})` : "");
      // 8 bytes wanted right after the EOF opcode (0xff): the checksum is what is missing.
      if (
        e.key === undefined && parser.version >= 5 && /needed 8 bytes/.test(e.reason) &&
        byteAt(e.offset - 1) === 0xff
      ) {
        doing = "check-sum";
        message = "Unexpected EOF reading RDB file (the 8-byte checksum after the EOF opcode)";
      }
    } else if (message.startsWith("wrong RDB checksum")) {
      doing = "check-sum";
      message = "RDB CRC error: " + message.slice("wrong RDB checksum: ".length);
    } else if (message.startsWith("not an RDB file")) {
      message = "Wrong signature trying to load DB from file: " + message;
    }
    return {
      offset: e.offset,
      message,
      doing,
      key: e.key,
      type: e.key !== undefined ? byteAt(parser.offset) : undefined,
    };
  }
  // Anything else is a reader bug, or memory exhaustion on a corrupt length.
  return {
    offset: parser.offset,
    message: `Internal error checking the RDB file: ${(e as Error).message ?? e}`,
  };
}

/**
 * Calls `onAux` for each AUX field as the reader stores it. The reader has no callback
 * for AUX fields (it keeps them in `parser.aux`), so this wraps that map's `set`; when
 * it is called, `parser.offset` is where the AUX record starts, i.e. where the previous
 * record ended. (A reader option `onAux(key, value, endOffset)` would make this direct.)
 */
function watchAux(parser: RdbParser, onAux: (key: string, value: string) => void): void {
  const aux = parser.aux;
  const set = aux.set.bind(aux);
  aux.set = (k: string, v: string) => {
    onAux(k, v);
    return set(k, v);
  };
}

// ---- command line -----------------------------------------------------------------------

export const CHECK_RDB_USAGE = "Usage: amber check-rdb <rdb-file-name>\n";

/** `amber check-rdb FILE`; resolves to the exit code. */
export function runCheckRdb(
  args: string[],
  io: ToolIO = processIO(),
  extra: RdbCheckOptions = {},
): Promise<number> {
  if (args.length === 1 && (args[0] === "-v" || args[0] === "--version")) {
    io.out(`amber check-rdb ${AMBER_VERSION}\n`);
    return Promise.resolve(0);
  }
  if (args.length === 1 && (args[0] === "-h" || args[0] === "--help")) {
    io.out(CHECK_RDB_USAGE);
    return Promise.resolve(0);
  }
  if (args.length !== 1) {
    io.err(CHECK_RDB_USAGE);
    return Promise.resolve(1);
  }
  const r = checkRdbFile(args[0], args[0], io, extra);
  return Promise.resolve(r.ok ? 0 : 1);
}
