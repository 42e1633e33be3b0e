/**
 * `amber dump FILE|DIR [--db N] [--match PATTERN] [--format json|resp] [--expired]
 * [--databases N]`: prints every key of an RDB file, a single AOF file, or a multi-part
 * AOF (its directory or manifest), on stdout, as JSON lines or as the RESP commands that
 * rebuild it. Progress and the summary go to stderr, so stdout is only the dump.
 *
 * JSON lines (one key per line, in file order for an RDB, insertion order for an AOF):
 *   {"db":0,"key":K,"type":"hash","ttl_ms":T,"expire_at_ms":E,"value":V}
 * - Every string (key, value, element, member, field) is binary-safe: bytes that are valid
 *   UTF-8 print as a JSON string; any other bytes as {"base64":"..."} (so a JSON string
 *   always means exactly its UTF-8 bytes).
 * - ttl_ms: milliseconds left when the dump ran, or null; expire_at_ms: the absolute Unix
 *   time in ms stored in the file, or null.
 * - value: string -> string; list -> array in order; set -> array sorted by bytes;
 *   zset -> [[member, score], ...] in rank order, score a JSON number, or the strings
 *   "inf" / "-inf"; hash -> [[field, value], ...] sorted by field bytes (pairs, not an
 *   object, because field names may not be text).
 *
 * RESP (`--format resp`): SELECT, then SET / RPUSH / SADD / ZADD / HSET with at most 64
 * elements per command (Redis's AOF rewrite batch), then PEXPIREAT for a TTL; meant for
 * `redis-cli --pipe` (or `nc`) into an empty server.
 *
 * Keys already expired are left out (a server loading the file would drop them) unless
 * `--expired`; `--match` is KEYS's glob on the key bytes (the pattern taken as UTF-8).
 * A file starting with "REDIS" is an RDB (streamed: keys are printed as they are parsed,
 * never held all at once) unless its name ends in ".aof" (an RDB preamble followed by
 * commands). An AOF is replayed into an in-process server (persistence/aof/loader.ts),
 * then its databases are walked; a torn or damaged AOF is refused, never modified (that
 * is `amber check-aof --fix`'s job).
 */
import { RdbParser } from "../persistence/rdb/reader.ts";
import { RdbError, type RdbValue } from "../persistence/rdb/types.ts";
import { encodeAofCommand } from "../persistence/aof/stream.ts";
import { rewriteKey } from "../persistence/aof/rewrite.ts";
import { ManifestError, parseManifest } from "../persistence/aof/manifest.ts";
import { loadAppendOnlyFiles } from "../persistence/aof/loader.ts";
import { toRdbValue } from "../persistence/values.ts";
import { isMatchAll, stringMatch } from "../util/glob.ts";
import { loadConfig } from "../config.ts";
import { Logger } from "../log.ts";
import { Server } from "../server/server.ts";
import { commandTable, installFamilies } from "../commands/index.ts";
import { AMBER_VERSION } from "../version.ts";
import { basename, dirname } from "node:path";
import { readFileSync } from "node:fs";
import {
  BrokenPipe,
  BufferedOut,
  FileReader,
  processIO,
  strerror,
  type ToolIO,
  utf8Text,
} from "./io.ts";
import { Progress } from "./progress.ts";
import { classifyAofInput } from "./check_aof.ts";

export const DUMP_USAGE =
  "Usage: amber dump <file.rdb|file.aof|file.manifest|appendonlydir> [--db N] [--match PATTERN]\n" +
  "                  [--format json|resp] [--expired] [--databases N]\n";

const CHUNK = 4 << 20;

/** One key to print. */
export interface DumpKey {
  db: number;
  key: string;
  value: RdbValue;
  expireAtMs?: number;
}

export interface DumpOptions {
  format: "json" | "resp";
  db: number | null;
  /** Latin-1 (bytes) pattern, or null for every key. */
  match: string | null;
  expired: boolean;
  databases: number;
  progress: boolean;
  /** "Now" for TTLs and expiry (default Date.now()). */
  now?: number;
  /** Bytes per RDB read (default 4 MiB; tests use tiny ones). */
  chunkSize?: number;
}

// ---- encoding ---------------------------------------------------------------------------

/** A Latin-1 string (raw bytes) as JSON: text when its bytes are UTF-8, else base64. */
export function jsonBytes(s: string): string {
  const text = utf8Text(s);
  if (text !== null) return JSON.stringify(text);
  return `{"base64":"${btoa(s)}"}`;
}

function jsonScore(d: number): string {
  if (Number.isFinite(d)) return JSON.stringify(d);
  return d > 0 ? '"inf"' : d < 0 ? '"-inf"' : '"nan"';
}

function listItems(v: RdbValue & { type: "list" }): string[] {
  if (v.nodes && v.nodes.length > 0) return v.nodes.flat();
  return v.items;
}

function byBytes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The JSON line for `k` (without its newline). */
export function jsonLine(k: DumpKey, now: number): string {
  const v = k.value;
  let value: string;
  switch (v.type) {
    case "string":
      value = jsonBytes(v.value);
      break;
    case "list":
      value = "[" + listItems(v).map(jsonBytes).join(",") + "]";
      break;
    case "set":
      value = "[" + [...v.members].sort(byBytes).map(jsonBytes).join(",") + "]";
      break;
    case "zset":
      value = "[" + v.entries.map(([m, s]) => `[${jsonBytes(m)},${jsonScore(s)}]`).join(",") +
        "]";
      break;
    case "hash":
      value = "[" +
        [...v.entries].sort((a, b) => byBytes(a[0], b[0])).map(([f, x]) =>
          `[${jsonBytes(f)},${jsonBytes(x)}]`
        ).join(",") + "]";
      break;
  }
  const exp = k.expireAtMs;
  return `{"db":${k.db},"key":${jsonBytes(k.key)},"type":"${v.type}","ttl_ms":${
    exp === undefined ? "null" : exp - now
  },"expire_at_ms":${exp === undefined ? "null" : exp},"value":${value}}`;
}

/**
 * The RESP commands (Latin-1 text) that recreate `k` in the selected db: the AOF
 * rewrite's commands, with set members and hash fields in byte order for stable output.
 */
export function respCommands(k: DumpKey): string {
  const v = k.value;
  const stable: RdbValue = v.type === "set"
    ? { type: "set", members: [...v.members].sort(byBytes) }
    : v.type === "hash"
    ? { type: "hash", entries: [...v.entries].sort((a, b) => byBytes(a[0], b[0])) }
    : v.type === "list"
    ? { type: "list", items: listItems(v) }
    : v;
  return rewriteKey(k.key, stable, k.expireAtMs);
}

/** Filters keys and writes them in the chosen format. */
class Emitter {
  keys = 0;
  skippedExpired = 0;
  private db = -1;
  private readonly matchAll: boolean;

  constructor(
    private readonly out: BufferedOut,
    private readonly opts: DumpOptions,
    private readonly now: number,
  ) {
    this.matchAll = opts.match === null || isMatchAll(opts.match);
  }

  /** Whether keys of `db` are wanted (lets callers skip whole databases). */
  wantsDb(db: number): boolean {
    return this.opts.db === null || this.opts.db === db;
  }

  emit(k: DumpKey): void {
    if (!this.wantsDb(k.db)) return;
    if (!this.matchAll && !stringMatch(this.opts.match!, k.key)) return;
    if (k.expireAtMs !== undefined && k.expireAtMs < this.now && !this.opts.expired) {
      this.skippedExpired++;
      return;
    }
    this.keys++;
    if (this.opts.format === "json") {
      this.out.text(jsonLine(k, this.now) + "\n");
      return;
    }
    if (k.db !== this.db) {
      this.out.latin1(encodeAofCommand(["SELECT", String(k.db)]));
      this.db = k.db;
    }
    this.out.latin1(respCommands(k));
  }
}

// ---- sources ----------------------------------------------------------------------------

/** Streams the keys of an RDB file; throws RdbError on damage (after the keys before it). */
function dumpRdb(path: string, emit: Emitter, io: ToolIO, opts: DumpOptions): number {
  const file = new FileReader(path);
  const parser = new RdbParser({ databases: Number.MAX_SAFE_INTEGER });
  const progress = opts.progress
    ? new Progress({
      label: `Dumping ${path}`,
      total: file.size,
      write: (s) => io.err(s),
      tty: io.errIsTTY,
    })
    : null;
  let pos = 0;
  try {
    while (!parser.done) {
      if (pos < file.size) {
        const chunk = file.read(pos, opts.chunkSize ?? CHUNK);
        if (chunk.length === 0) throw new RdbError("the file shrank while being read", pos);
        pos += chunk.length;
        parser.push(chunk);
      }
      if (pos >= file.size) parser.finish();
      for (let e = parser.next(); e !== null; e = parser.next()) emit.emit(e);
      progress?.update(pos);
      if (pos >= file.size && !parser.done) {
        throw new RdbError("unexpected end of file", parser.offset);
      }
    }
  } finally {
    progress?.finish();
    file.close();
  }
  return file.size - parser.offset;
}

/** Replays an AOF (manifest, or one file) into a fresh in-process server. */
function loadAof(
  input: { manifest?: string; dir: string; file?: string },
  opts: DumpOptions,
): Server {
  const { config } = loadConfig(["--databases", String(opts.databases)]);
  const server = new Server({
    config,
    logger: new Logger({ level: "nothing" }),
    commands: commandTable(),
  });
  installFamilies(server);
  let manifest;
  let appendFilename = "";
  if (input.manifest !== undefined) {
    let text: string;
    try {
      text = readFileSync(input.manifest, "latin1");
    } catch (e) {
      throw new DumpError(`Cannot read the AOF manifest ${input.manifest}: ${strerror(e)}`);
    }
    try {
      manifest = parseManifest(text);
    } catch (e) {
      if (e instanceof ManifestError) throw new DumpError(`${input.manifest}: ${e.message}`);
      throw e;
    }
  } else {
    // One file: the loader's old-style path (a base named like appendfilename may have
    // an RDB preamble followed by commands).
    appendFilename = basename(input.file!);
    manifest = {
      base: { name: appendFilename, seq: 1, type: "b" as const },
      incrs: [],
      history: [],
      currBaseSeq: 1,
      currIncrSeq: 0,
    };
  }
  const r = loadAppendOnlyFiles(server, manifest, {
    dirPath: input.dir,
    // Never modify the files: a torn tail is reported, not cut (check-aof --fix does that).
    loadTruncated: false,
    appendFilename,
  });
  if (r.status === "failed" || r.status === "open_err") {
    throw new DumpError(
      `Cannot load the AOF: ${r.error}` +
        (/truncat|ends mid-command/.test(r.error ?? "")
          ? " (amber check-aof --fix can cut a torn last file)"
          : ""),
    );
  }
  return server;
}

class DumpError extends Error {}

function dumpServer(server: Server, emit: Emitter, io: ToolIO, opts: DumpOptions): void {
  let total = 0;
  for (const db of server.dbs) if (emit.wantsDb(db.id)) total += db.dict.size;
  const progress = opts.progress
    ? new Progress({
      label: "Dumping",
      total,
      unit: "keys",
      write: (s) => io.err(s),
      tty: io.errIsTTY,
    })
    : null;
  let n = 0;
  try {
    for (const db of server.dbs) {
      if (!emit.wantsDb(db.id)) continue;
      for (const [key, value] of db.dict) {
        const k: DumpKey = { db: db.id, key, value: toRdbValue(value) };
        const exp = db.expires.get(key);
        if (exp !== undefined) k.expireAtMs = exp;
        emit.emit(k);
        if ((++n & 1023) === 0) progress?.update(n);
      }
    }
  } finally {
    progress?.finish();
  }
}

// ---- command line -----------------------------------------------------------------------

/** `amber dump ...`; resolves to the exit code. */
export function runDump(
  args: string[],
  io: ToolIO = processIO(),
  extra: { progress?: boolean; now?: number; chunkSize?: number } = {},
): Promise<number> {
  const opts: DumpOptions = {
    format: "json",
    db: null,
    match: null,
    expired: false,
    databases: 16,
    progress: extra.progress ?? true,
    now: extra.now,
    chunkSize: extra.chunkSize,
  };
  let path: string | null = null;
  const usage = (msg?: string) => {
    io.err((msg ? msg + "\n" : "") + DUMP_USAGE);
    return Promise.resolve(1);
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const value = () => args[++i];
    if (a === "--db") {
      const v = value();
      if (v === undefined || !/^\d+$/.test(v)) return usage(`Invalid --db: ${v}`);
      opts.db = Number(v);
    } else if (a === "--match") {
      const v = value();
      if (v === undefined) return usage("--match needs a pattern");
      opts.match = String.fromCharCode(...new TextEncoder().encode(v));
    } else if (a === "--format") {
      const v = value();
      if (v !== "json" && v !== "resp") return usage(`Invalid --format: ${v}`);
      opts.format = v;
    } else if (a === "--expired") opts.expired = true;
    else if (a === "--databases") {
      const v = value();
      if (v === undefined || !/^\d+$/.test(v) || Number(v) < 1) {
        return usage(`Invalid --databases: ${v}`);
      }
      opts.databases = Number(v);
    } else if ((a === "-v" || a === "--version") && args.length === 1) {
      io.out(`amber dump ${AMBER_VERSION}\n`);
      return Promise.resolve(0);
    } else if ((a === "-h" || a === "--help") && args.length === 1) {
      io.out(DUMP_USAGE);
      return Promise.resolve(0);
    } else if (a.startsWith("--")) return usage(`Unknown option ${a}`);
    else if (path === null) path = a;
    else return usage();
  }
  if (path === null) return usage();
  return Promise.resolve(dump(path, io, opts));
}

function dump(path: string, io: ToolIO, opts: DumpOptions): number {
  const out = new BufferedOut(io);
  const now = opts.now ?? Date.now();
  const emit = new Emitter(out, opts, now);
  const summary = (what: string) => {
    io.err(
      `Dumped ${emit.keys} keys from ${what}` +
        (emit.skippedExpired > 0
          ? ` (${emit.skippedExpired} already expired keys left out; --expired includes them)`
          : "") +
        "\n",
    );
  };
  try {
    let input;
    try {
      input = classifyAofInput(path);
    } catch (e) {
      throw new DumpError((e as Error).message);
    }
    if ((input.kind === "rdb-preamble" && !path.endsWith(".aof")) || path.endsWith(".rdb")) {
      // An RDB file (a .rdb, or any name): streamed, as an RDB is self-contained.
      const rest = dumpRdb(path, emit, io, opts);
      out.flush();
      if (rest > 0) {
        io.err(
          `Warning: ${rest} bytes after the end of the RDB were not read ` +
            `(if this is an AOF with an RDB preamble, name it *.aof to replay its commands)\n`,
        );
      }
      summary(`RDB file ${path}`);
      return 0;
    }
    const server = input.kind === "manifest"
      ? loadAof({ manifest: input.manifest, dir: input.dir }, opts)
      : loadAof({ file: input.file, dir: dirname(input.file) }, opts);
    dumpServer(server, emit, io, opts);
    out.flush();
    summary(`AOF ${path}`);
    return 0;
  } catch (e) {
    if (e instanceof BrokenPipe) return 0;
    try {
      out.flush();
    } catch { /* stdout is gone too */ }
    if (e instanceof RdbError) {
      io.err(
        `amber dump: ${e.message}\n` +
          `amber dump: the output stops at the damage (${emit.keys} keys printed before it); ` +
          `amber check-rdb tells more\n`,
      );
      return 1;
    }
    if (e instanceof DumpError) {
      io.err(`amber dump: ${e.message}\n`);
      return 1;
    }
    io.err(`amber dump: ${(e as Error).message ?? e}\n`);
    return 1;
  }
}
