/**
 * Configuration: the `Config` store (current values, validation with Redis's error texts,
 * change listeners), config file / command line loading exactly as `redis-server 7.0
 * [config-file] [--directive value ...]` does it (includes, quoting, multi-arg directives,
 * the `save` quirks, fatal error texts), and the CONFIG GET / SET / REWRITE semantics as pure
 * functions over a Config. The directive table itself is data in config_table.ts.
 *
 * Values are Latin-1 JS strings (one char per byte) like everywhere in Amber. `get()` returns
 * what CONFIG GET prints (memory values in bytes, enums lowercase, booleans yes/no).
 */
import { Buffer } from "node:buffer";
import * as fs from "node:fs";
import * as nodePath from "node:path";
import process from "node:process";
import { splitArgs } from "./server/resp.ts";
import { stringMatch } from "./util/glob.ts";
import { COMMAND_META } from "./commands/meta.ts";
import { REDIS_VERSION } from "./version.ts";
import {
  CONFIG_TABLE,
  type ConfigDef,
  DEPRECATED_DIRECTIVES,
  type EnumDef,
  FILE_ONLY_DIRECTIVES,
  type NumericDef,
  type StringDef,
} from "./config_table.ts";

export { CONFIG_TABLE, type ConfigDef } from "./config_table.ts";

/* ------------------------------------------------------------------------------------------
 * Errors
 * ---------------------------------------------------------------------------------------- */

/**
 * A rejected config value. From `Config.set` the message is Redis's bare reason (e.g.
 * `argument must be 'yes' or 'no'`); from `configSet` / `configRewrite` it is the full error
 * reply including its code (e.g. `ERR CONFIG SET failed (possibly related to argument 'port')
 * - ...`).
 */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/**
 * A fatal problem while loading the configuration. `message` is exactly what redis-server
 * 7.0.15 prints to stderr (without the final newline) for the same input, e.g.
 * `\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file, at line 2\n>>> 'foo bar'\nBad directive or wrong number of arguments`.
 * When `viaLog` is true Redis reports it as a log line instead (a missing config file, a
 * module config without a module): `message` is then the log message text.
 */
export class ConfigFileError extends Error {
  override name = "ConfigFileError";
  constructor(
    message: string,
    /** The reason alone, e.g. `Bad directive or wrong number of arguments`. */
    readonly reason: string,
    /** 1-based line in the text being parsed (config file + command line options). */
    readonly line?: number,
    /** The offending line, trimmed, as Redis echoes it. */
    readonly lineText?: string,
    /** The file being read when the error happened (not part of the message, like Redis). */
    readonly file?: string,
    readonly viaLog = false,
  ) {
    super(message);
  }
}

function fatal(reason: string, line?: number, lineText?: string, file?: string): ConfigFileError {
  let msg = `\n*** FATAL CONFIG FILE ERROR (Redis ${REDIS_VERSION}) ***\n`;
  if (line !== undefined) {
    msg += `Reading the configuration file, at line ${line}\n>>> '${lineText}'\n`;
  }
  msg += reason;
  return new ConfigFileError(msg, reason, line, lineText, file);
}

const STRERROR: Record<string, string> = {
  ENOENT: "No such file or directory",
  EACCES: "Permission denied",
  EPERM: "Operation not permitted",
  ENOTDIR: "Not a directory",
  EISDIR: "Is a directory",
  EEXIST: "File exists",
  EROFS: "Read-only file system",
  ENOSPC: "No space left on device",
  ELOOP: "Too many levels of symbolic links",
  ENAMETOOLONG: "File name too long",
  EMFILE: "Too many open files",
  ENFILE: "Too many open files in system",
  EBUSY: "Device or resource busy",
  EINVAL: "Invalid argument",
  EIO: "Input/output error",
  EXDEV: "Invalid cross-device link",
  EDQUOT: "Disk quota exceeded",
};

/** C `strerror()` text for a Node-style file system error. */
function strerror(e: unknown): string {
  const code = (e as { code?: string })?.code;
  if (code && STRERROR[code]) return STRERROR[code];
  return e instanceof Error ? e.message : String(e);
}

/* ------------------------------------------------------------------------------------------
 * C-compatible parsing helpers
 * ---------------------------------------------------------------------------------------- */

const LLONG_MIN = -9223372036854775808n;
const LLONG_MAX = 9223372036854775807n;
const U64 = 1n << 64n;

function isCSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** ASCII-only lower case (C `tolower` in the C locale). */
function asciiLower(s: string): string {
  return s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}

/**
 * C `strtoll(s, &end, base)`: skips leading white space, optional sign, saturates on
 * overflow (`overflow` is then true, errno ERANGE). `end` is the index where parsing stopped
 * (0 when nothing was converted).
 */
function strtollBase(s: string, base: 8 | 10): { value: bigint; end: number; overflow: boolean } {
  let i = 0;
  while (i < s.length && isCSpace(s.charCodeAt(i))) i++;
  let neg = false;
  if (s[i] === "+" || s[i] === "-") {
    neg = s[i] === "-";
    i++;
  }
  const start = i;
  const maxDigit = base === 8 ? 55 : 57;
  while (i < s.length && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= maxDigit) i++;
  if (i === start) return { value: 0n, end: 0, overflow: false };
  let v = 0n;
  const b = BigInt(base);
  for (let k = start; k < i; k++) v = v * b + BigInt(s.charCodeAt(k) - 48);
  if (neg) v = -v;
  let overflow = false;
  if (v > LLONG_MAX) {
    v = LLONG_MAX;
    overflow = true;
  }
  if (v < LLONG_MIN) {
    v = LLONG_MIN;
    overflow = true;
  }
  return { value: v, end: i, overflow };
}

/** C `strtoll(s, &end, 10)`. */
function strtoll(s: string): { value: bigint; end: number } {
  return strtollBase(s, 10);
}

/** strtoll that must consume the whole string (`*eptr == '\0'`); null otherwise. */
function strtollFull(s: string): bigint | null {
  const r = strtoll(s);
  if (r.end !== s.length) return s.length === 0 ? 0n : null;
  return r.value;
}

/** Redis's `string2ll`: strict decimal, no spaces, no `+`, no leading zeros. */
export function string2ll(s: string): bigint | null {
  if (s.length === 0 || s.length > 20) return null;
  if (s === "0") return 0n;
  if (!/^-?[1-9][0-9]*$/.test(s)) return null;
  const v = BigInt(s);
  if (v > LLONG_MAX || v < LLONG_MIN) return null;
  return v;
}

/**
 * Redis's `memtoull`: `<digits>[b|k|kb|m|mb|g|gb]` (case-insensitive; k = 1000, kb = 1024),
 * as an unsigned 64-bit value (overflow saturates then wraps like the C code). "" is 0.
 * Returns null when invalid.
 */
export function parseMemory(s: string): bigint | null {
  if (s.startsWith("-")) return null;
  let i = 0;
  while (i < s.length && isDigit(s.charCodeAt(i))) i++;
  const unit = asciiLower(s.slice(i));
  let mul: bigint;
  switch (unit) {
    case "":
    case "b":
      mul = 1n;
      break;
    case "k":
      mul = 1000n;
      break;
    case "kb":
      mul = 1024n;
      break;
    case "m":
      mul = 1000n * 1000n;
      break;
    case "mb":
      mul = 1024n * 1024n;
      break;
    case "g":
      mul = 1000n * 1000n * 1000n;
      break;
    case "gb":
      mul = 1024n * 1024n * 1024n;
      break;
    default:
      return null;
  }
  if (i >= 128) return null;
  let v = i === 0 ? 0n : BigInt(s.slice(0, i));
  if (v >= U64) v = U64 - 1n; // strtoull saturates at ULLONG_MAX
  return (v * mul) % U64;
}

/** `rewriteConfigFormatMemory`: bytes (as C `long long`) using gb/mb/kb when exact. */
function formatMemory(bytes: bigint): string {
  const b = BigInt.asIntN(64, bytes);
  const gb = 1024n * 1024n * 1024n;
  const mb = 1024n * 1024n;
  const kb = 1024n;
  if (b !== 0n && b % gb === 0n) return `${b / gb}gb`;
  if (b !== 0n && b % mb === 0n) return `${b / mb}mb`;
  if (b !== 0n && b % kb === 0n) return `${b / kb}kb`;
  return b.toString();
}

/** Redis's `sdscatrepr`: a double-quoted, escaped representation of a byte string. */
export function reprString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ch = s[i];
    if (ch === "\\" || ch === '"') out += "\\" + ch;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (c === 7) out += "\\a";
    else if (c === 8) out += "\\b";
    else if (c >= 0x20 && c <= 0x7e) out += ch;
    else out += "\\x" + (c & 0xff).toString(16).padStart(2, "0");
  }
  return out + '"';
}

/**
 * Redis's `string2d`: strtod() must consume the whole string, no leading space, no NaN, and
 * no overflow / underflow to zero (ERANGE). Accepts decimal, hex floats and inf/infinity.
 */
function string2d(s: string): number | null {
  if (s.length === 0 || isCSpace(s.charCodeAt(0))) return null;
  const neg = s.startsWith("-");
  const body = s.replace(/^[+-]/, "");
  let v: number;
  let mantissaNonZero = false;
  const dec = /^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.exec(body);
  const hex = /^0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?(?:[pP]([+-]?\d+))?$/.exec(body);
  if (dec) {
    v = Number(body);
    mantissaNonZero = /[1-9]/.test(dec[1]);
  } else if (/^(inf|infinity)$/i.test(body)) {
    v = Infinity;
  } else if (hex && (hex[1] + (hex[2] ?? "")).length > 0) {
    const digits = hex[1] + (hex[2] ?? "");
    mantissaNonZero = /[1-9a-fA-F]/.test(digits);
    v = parseInt(digits, 16) * Math.pow(2, Number(hex[3] ?? 0) - 4 * (hex[2] ?? "").length);
  } else {
    return null;
  }
  if (Number.isNaN(v)) return null;
  if (dec || hex) {
    if (!Number.isFinite(v) || (v === 0 && mantissaNonZero)) return null; // ERANGE
  }
  return neg ? -v : v;
}

/** printf("%f") followed by Redis's `trimDoubleString`. */
function formatPercentile(v: number): string {
  let s = v.toFixed(6);
  if (s.includes(".")) {
    s = s.replace(/0+$/, "");
    if (s.endsWith(".")) s = s.slice(0, -1);
  }
  return s;
}

/* ------------------------------------------------------------------------------------------
 * Keyspace notification flags (notify.c)
 * ---------------------------------------------------------------------------------------- */

/** Keyspace notification class bits, as in Redis's server.h. */
export const NOTIFY = {
  KEYSPACE: 1 << 0, // K
  KEYEVENT: 1 << 1, // E
  GENERIC: 1 << 2, // g
  STRING: 1 << 3, // $
  LIST: 1 << 4, // l
  SET: 1 << 5, // s
  HASH: 1 << 6, // h
  ZSET: 1 << 7, // z
  EXPIRED: 1 << 8, // x
  EVICTED: 1 << 9, // e
  STREAM: 1 << 10, // t
  KEY_MISS: 1 << 11, // m
  MODULE: 1 << 12, // d
  NEW: 1 << 13, // n
  /** The `A` alias: g$lshzxetd (not m, not n). */
  ALL: (1 << 2) | (1 << 3) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7) | (1 << 8) | (1 << 9) |
    (1 << 10) | (1 << 12),
} as const;

/** `keyspaceEventsStringToFlags`; -1 on an unknown class character. */
export function keyspaceEventsStringToFlags(classes: string): number {
  let flags = 0;
  for (const c of classes) {
    switch (c) {
      case "A":
        flags |= NOTIFY.ALL;
        break;
      case "g":
        flags |= NOTIFY.GENERIC;
        break;
      case "$":
        flags |= NOTIFY.STRING;
        break;
      case "l":
        flags |= NOTIFY.LIST;
        break;
      case "s":
        flags |= NOTIFY.SET;
        break;
      case "h":
        flags |= NOTIFY.HASH;
        break;
      case "z":
        flags |= NOTIFY.ZSET;
        break;
      case "x":
        flags |= NOTIFY.EXPIRED;
        break;
      case "e":
        flags |= NOTIFY.EVICTED;
        break;
      case "K":
        flags |= NOTIFY.KEYSPACE;
        break;
      case "E":
        flags |= NOTIFY.KEYEVENT;
        break;
      case "t":
        flags |= NOTIFY.STREAM;
        break;
      case "m":
        flags |= NOTIFY.KEY_MISS;
        break;
      case "d":
        flags |= NOTIFY.MODULE;
        break;
      case "n":
        flags |= NOTIFY.NEW;
        break;
      default:
        return -1;
    }
  }
  return flags;
}

/** `keyspaceEventsFlagsToString` (note: `n` is not shown when `A` is). */
export function keyspaceEventsFlagsToString(flags: number): string {
  let res = "";
  if ((flags & NOTIFY.ALL) === NOTIFY.ALL) {
    res += "A";
  } else {
    if (flags & NOTIFY.GENERIC) res += "g";
    if (flags & NOTIFY.STRING) res += "$";
    if (flags & NOTIFY.LIST) res += "l";
    if (flags & NOTIFY.SET) res += "s";
    if (flags & NOTIFY.HASH) res += "h";
    if (flags & NOTIFY.ZSET) res += "z";
    if (flags & NOTIFY.EXPIRED) res += "x";
    if (flags & NOTIFY.EVICTED) res += "e";
    if (flags & NOTIFY.STREAM) res += "t";
    if (flags & NOTIFY.MODULE) res += "d";
    if (flags & NOTIFY.NEW) res += "n";
  }
  if (flags & NOTIFY.KEYSPACE) res += "K";
  if (flags & NOTIFY.KEYEVENT) res += "E";
  if (flags & NOTIFY.KEY_MISS) res += "m";
  return res;
}

/* ------------------------------------------------------------------------------------------
 * Internal value representations
 * ---------------------------------------------------------------------------------------- */

export interface SaveParam {
  seconds: number;
  changes: number;
}

/** One client class's output buffer limits (bytes, bytes, seconds). */
export interface ClientBufferLimit {
  hard: number;
  soft: number;
  seconds: number;
}

interface ObufLimit {
  hard: bigint;
  soft: bigint;
  seconds: number;
}

/** Order of client classes in client-output-buffer-limit (normal, slave, pubsub). */
const OBUF_CLASSES = ["normal", "slave", "pubsub"] as const;

interface ReplicaOf {
  host: string;
  port: number;
}

/** Internal value of one config (type depends on the definition). */
type Value =
  | boolean
  | string
  | null
  | number
  | bigint
  | { seconds: bigint; changes: number }[]
  | string[]
  | ReplicaOf
  | ObufLimit[]
  | number[];

/** Load-time state the `save` directive depends on (Redis's `reading_config_file`). */
export interface LoadContext {
  /** True while a config text is being parsed (false again after an include returns). */
  reading: boolean;
  /** Whether a `save` line was already seen during loading (defaults then dropped). */
  saveLoaded: boolean;
}

function fail(reason: string): never {
  throw new ConfigError(reason);
}

/* ------------------------------------------------------------------------------------------
 * String validators (Redis's is_valid_fn)
 * ---------------------------------------------------------------------------------------- */

function pathIsBaseName(p: string): boolean {
  return !p.includes("/") && !p.includes("\\");
}

const PROC_TITLE_VARS = new Set([
  "title",
  "listen-addr",
  "server-mode",
  "port",
  "tls-port",
  "unixsocket",
  "config-file",
]);

/** `validateProcTitleTemplate`: sdstemplate() must succeed and not expand to blanks. */
function validProcTitleTemplate(t: string): boolean {
  let res = "";
  let p = 0;
  while (p < t.length) {
    const sv = t.indexOf("{", p);
    if (sv < 0) {
      res += t.slice(p);
      break;
    }
    res += t.slice(p, sv);
    const nameStart = sv + 1;
    if (nameStart >= t.length) return false;
    if (t[nameStart] === "{") {
      res += "{";
      p = nameStart + 1;
      continue;
    }
    const ev = t.indexOf("}", nameStart);
    if (ev < 0) return false;
    const name = t.slice(nameStart, ev);
    if (!PROC_TITLE_VARS.has(name)) return false;
    // title and server-mode may expand to nothing; the others never do.
    if (
      name !== "title" && name !== "server-mode" && name !== "unixsocket" && name !== "config-file"
    ) {
      res += "x";
    }
    p = ev + 1;
  }
  return res.replace(/^ +| +$/g, "").length > 0;
}

function validateString(def: StringDef, v: string): void {
  switch (def.validate) {
    case "dbfilename":
      if (!pathIsBaseName(v)) fail("dbfilename can't be a path, just a filename");
      break;
    case "appendfilename":
      if (v === "") fail("appendfilename can't be empty");
      if (!pathIsBaseName(v)) fail("appendfilename can't be a path, just a filename");
      break;
    case "appenddirname":
      if (v === "") fail("appenddirname can't be empty");
      if (!pathIsBaseName(v)) fail("appenddirname can't be a path, just a dirname");
      break;
    case "hostname":
      if (v.length >= 256) fail("Hostnames must be less than 256 characters");
      if (!/^[A-Za-z0-9.-]*$/.test(v)) {
        fail("Hostnames may only contain alphanumeric characters, hyphens or dots");
      }
      break;
    case "proctitle":
      if (!validProcTitleTemplate(v)) {
        fail("template format is invalid or contains unknown variables");
      }
      break;
  }
}

/* ------------------------------------------------------------------------------------------
 * Per-type parsing and formatting
 * ---------------------------------------------------------------------------------------- */

function enumError(def: EnumDef): never {
  const names = def.values.map(([n]) => n).join(", ");
  // Redis formats into a 256-byte buffer.
  fail(`argument(s) must be one of the following: ${names}`.slice(0, 255));
}

function parseEnum(def: EnumDef, args: string[]): number {
  if (args.length === 0 || (!def.bitflags && args.length !== 1)) enumError(def);
  let flags = 0;
  for (const a of args) {
    const low = asciiLower(a);
    let matched = false;
    for (const [n, v] of def.values) {
      if (n === low) {
        flags |= v;
        matched = true;
      }
    }
    if (!matched) enumError(def);
  }
  if (def.validate === "shutdown" && (flags & 1) && (flags & 2)) {
    fail("shutdown options SAVE and NOSAVE can't be used simultaneously");
  }
  return flags;
}

function formatEnum(def: EnumDef, v: number): string {
  let names: string | null = null;
  let unmatched = v;
  for (const [n, val] of def.values) {
    if (val === v) return n;
    if (def.bitflags && val !== 0 && (unmatched & val) === val) {
      names = names === null ? n : `${names} ${n}`;
      unmatched &= ~val;
    }
  }
  if (names === null || unmatched) return "unknown";
  return names;
}

function parseNumeric(def: NumericDef, s: string): bigint {
  let v: bigint | null = null;
  if (def.memory) {
    const m = parseMemory(s);
    if (m !== null) v = BigInt.asIntN(64, m);
  }
  if (v === null && def.percent && s.length > 1 && s.endsWith("%")) {
    const p = string2ll(s.slice(0, -1));
    if (p !== null && p >= 0n) v = -p;
  }
  if (v === null && def.octal) {
    // strtoll(s, &end, 8) with errno == 0 and *end == '\0'.
    const r = strtollBase(s, 8);
    if (!r.overflow && (r.end === s.length || (r.end === 0 && s.length === 0))) v = r.value;
  }
  if (v === null && !def.memory && !def.percent && !def.octal) v = string2ll(s);
  if (v === null) {
    if (def.memory && def.percent) fail("argument must be a memory or percent value");
    if (def.memory) fail("argument must be a memory value");
    if (def.octal) fail("argument couldn't be parsed as an octal number");
    fail("argument couldn't be parsed into an integer");
  }
  // Bounds (numericBoundaryCheck).
  const fmt = (n: bigint) => (def.octal ? n.toString(8) : n.toString());
  if (def.unsigned) {
    const u = BigInt.asUintN(64, v);
    if (u > def.max || u < def.min) {
      fail(`argument must be between ${fmt(def.min)} and ${fmt(def.max)} inclusive`);
    }
    return u;
  }
  if (def.percent && v < 0n) {
    if (v < def.min) fail(`percentage argument must be less or equal to ${-def.min}`);
    return v;
  }
  if (v > def.max || v < def.min) {
    fail(`argument must be between ${def.min} and ${def.max} inclusive`);
  }
  return v;
}

function formatNumeric(def: NumericDef, v: bigint): string {
  if (def.percent && v < 0n) return `${-v}%`;
  if (def.memory) return BigInt.asUintN(64, v).toString();
  if (def.octal) return v.toString(8);
  return v.toString();
}

/* ------------------------------------------------------------------------------------------
 * The Config store
 * ---------------------------------------------------------------------------------------- */

/** A config's registration: the definition and the name it was looked up under. */
interface Lookup {
  def: ConfigDef;
  /** The registered (lowercase) name that matched: canonical name or alias. */
  name: string;
}

const BY_NAME = new Map<string, Lookup>();
for (const def of CONFIG_TABLE) {
  BY_NAME.set(def.name, { def, name: def.name });
  if (def.alias) BY_NAME.set(def.alias, { def, name: def.alias });
}

function lookupDef(name: string): Lookup | undefined {
  return BY_NAME.get(asciiLower(name));
}

/** Options for a Config (and for `loadConfig`). */
export interface ConfigOptions {
  /**
   * Whether setting `dir` also changes the process's working directory, as Redis does
   * (default false). When false, `dir` is tracked only in the Config: it is validated the
   * way chdir() would, and relative paths (includes, logfile, data files) should be resolved
   * against it with `resolvePath()`. The default is safe for in-process servers (a test that
   * deletes its temp `dir` does not leave the process in a deleted directory).
   */
  chdir?: boolean;
  /** Initial `dir` (default: the process's current directory). */
  cwd?: string;
}

export type ChangeListener = (value: string, old: string) => void;

const CONFIG_HZ_MIN = 1n;
const CONFIG_HZ_MAX = 500n;
const REPL_BACKLOG_MIN_SIZE = 16n * 1024n;

/** Current values of every Redis config, keyed by canonical name. */
export class Config {
  private values = new Map<string, Value>();
  private listeners = new Map<string, Set<ChangeListener>>();
  private readonly chdirMode: boolean;

  constructor(opts: ConfigOptions = {}) {
    this.chdirMode = opts.chdir ?? false;
    const cwd = nodePath.resolve(opts.cwd ?? safeCwd());
    for (const def of CONFIG_TABLE) {
      this.values.set(def.name, defaultValue(def, cwd));
    }
  }

  /** True if `name` (canonical or alias, any case) is a config. */
  has(name: string): boolean {
    return lookupDef(name) !== undefined;
  }

  /** The definition of a config (canonical or alias name, any case), or undefined. */
  def(name: string): ConfigDef | undefined {
    return lookupDef(name)?.def;
  }

  /** Canonical name of a config (resolving aliases), or undefined if unknown. */
  canonicalName(name: string): string | undefined {
    return lookupDef(name)?.def.name;
  }

  private entry(name: string): { def: ConfigDef; value: Value } {
    const l = lookupDef(name);
    if (!l) throw new Error(`unknown config '${name}'`);
    return { def: l.def, value: this.values.get(l.def.name)! };
  }

  /** The value as CONFIG GET prints it. Throws on an unknown name. */
  get(name: string): string {
    const { def, value } = this.entry(name);
    return formatValue(def, value);
  }

  /** Numeric configs as a number (memory in bytes; a percent value is negative). */
  getInt(name: string): number {
    const { def, value } = this.entry(name);
    if (def.kind === "numeric") return Number(value as bigint);
    if (def.kind === "enum") return value as number;
    return Number(formatValue(def, value));
  }

  /** Numeric configs as an exact bigint. */
  getBigInt(name: string): bigint {
    const { def, value } = this.entry(name);
    if (def.kind !== "numeric") throw new Error(`config '${name}' is not numeric`);
    return value as bigint;
  }

  /** Memory configs in bytes (maxmemory-clients: a negative value -N means N%). */
  getMemory(name: string): number {
    return this.getInt(name);
  }

  /** yes/no configs as a boolean. */
  getBool(name: string): boolean {
    const { def, value } = this.entry(name);
    if (def.kind !== "bool") throw new Error(`config '${name}' is not a yes/no config`);
    return value as boolean;
  }

  /** The `save` points, in order. Empty when saving is disabled. */
  saveParams(): SaveParam[] {
    const v = this.values.get("save") as { seconds: bigint; changes: number }[];
    return v.map((p) => ({ seconds: Number(p.seconds), changes: p.changes }));
  }

  /** The `bind` addresses (empty: none; `-` prefixed ones are optional). */
  bind(): string[] {
    return [...(this.values.get("bind") as string[])];
  }

  /** `replicaof` as host and port, or null for a master. */
  replicaOf(): { host: string; port: number } | null {
    const v = this.values.get("replicaof") as ReplicaOf | null;
    return v ? { ...v } : null;
  }

  /** client-output-buffer-limit per class (hard/soft bytes, 0 = none; soft seconds). */
  clientOutputBufferLimits(): {
    normal: ClientBufferLimit;
    replica: ClientBufferLimit;
    pubsub: ClientBufferLimit;
  } {
    const v = this.values.get("client-output-buffer-limit") as ObufLimit[];
    const conv = (o: ObufLimit) => ({
      hard: Number(o.hard),
      soft: Number(o.soft),
      seconds: o.seconds,
    });
    return { normal: conv(v[0]), replica: conv(v[1]), pubsub: conv(v[2]) };
  }

  /** notify-keyspace-events as NOTIFY bits. */
  notifyFlags(): number {
    return this.values.get("notify-keyspace-events") as number;
  }

  /** oom-score-adj-values as three numbers (master, replica, bgchild). */
  oomScoreAdjValues(): number[] {
    return [...(this.values.get("oom-score-adj-values") as number[])];
  }

  /** latency-tracking-info-percentiles as numbers. */
  latencyPercentiles(): number[] {
    return [...(this.values.get("latency-tracking-info-percentiles") as number[])];
  }

  /** Whether the config currently has its default value. */
  isDefault(name: string): boolean {
    const { def } = this.entry(name);
    return this.get(def.name) === formatValue(def, defaultValue(def, this.dirValue()));
  }

  /** Current `dir` (absolute). */
  dirValue(): string {
    return this.values.get("dir") as string;
  }

  /** Resolves a path like the process would after `chdir(dir)`. */
  resolvePath(p: string): string {
    return nodePath.resolve(this.dirValue(), p);
  }

  /**
   * Sets a config from one string as CONFIG SET gives it (multi-argument configs split on
   * single spaces). Ignores immutability. Fires change listeners; a listener that throws
   * `ConfigError` makes the change roll back and the error propagate.
   * Throws `ConfigError` with Redis's reason text on an invalid value.
   */
  set(name: string, value: string): void {
    const { def } = this.entry(name);
    this.setArgs(def.name, splitForSet(def, value));
  }

  /**
   * Sets a config from already split words, as a config file line gives them (`args` are the
   * words after the name). `ctx` carries config-file loading state (see `LoadContext`).
   */
  setArgs(name: string, args: string[], ctx?: LoadContext): void {
    const { def, value: old } = this.entry(name);
    const oldText = formatValue(def, old);
    const nv = parseValue(def, args, old, this, ctx);
    this.values.set(def.name, nv);
    if (!ctx) this.applyNormalize(def);
    if (ctx) return;
    const newText = this.get(def.name);
    if (newText === oldText) return;
    try {
      this.fire(def.name, newText, oldText);
    } catch (e) {
      this.values.set(def.name, old);
      this.restoreDir(def, old);
      try {
        this.fire(def.name, oldText, newText);
      } catch { /* restoring: ignore */ }
      throw e;
    }
  }

  /** Registers a listener called after `name` changes (through set / configSet). */
  onChange(name: string, fn: ChangeListener): () => void {
    const { def } = this.entry(name);
    let set = this.listeners.get(def.name);
    if (!set) this.listeners.set(def.name, set = new Set());
    set.add(fn);
    return () => set!.delete(fn);
  }

  /** Internal: calls listeners of a canonical name. */
  fire(name: string, value: string, old: string): void {
    const set = this.listeners.get(name);
    if (!set) return;
    for (const fn of [...set]) fn(value, old);
  }

  /** Internal: raw value snapshot / restore (used for atomic CONFIG SET). */
  snapshot(name: string): Value {
    return this.values.get(name)!;
  }

  /** Internal: restores a snapshot taken with `snapshot`. */
  restore(name: string, v: Value): void {
    const def = lookupDef(name)!.def;
    this.values.set(name, v);
    this.restoreDir(def, v);
  }

  private restoreDir(def: ConfigDef, v: Value): void {
    if (def.kind === "special" && def.special === "dir" && this.chdirMode) {
      try {
        process.chdir(v as string);
      } catch { /* best effort */ }
    }
  }

  /** Internal: the adjustments Redis's apply functions make on CONFIG SET. */
  applyNormalize(def: ConfigDef): void {
    if (def.name === "hz") this.clampHz();
    if (def.name === "watchdog-period") {
      // applyWatchdogPeriod: at least two timer periods.
      const v = this.values.get(def.name) as bigint;
      const min = BigInt(Math.trunc(1000 / this.getInt("hz")) * 2);
      if (v !== 0n && v < min) this.values.set(def.name, min);
    }
    if (def.name === "repl-backlog-size") {
      const v = this.values.get(def.name) as bigint;
      if (v < REPL_BACKLOG_MIN_SIZE) this.values.set(def.name, REPL_BACKLOG_MIN_SIZE);
    }
  }

  /** Internal: clamps hz to 1..500 as Redis does after loading and on CONFIG SET. */
  clampHz(): void {
    const v = this.values.get("hz") as bigint;
    if (v < CONFIG_HZ_MIN) this.values.set("hz", CONFIG_HZ_MIN);
    if (v > CONFIG_HZ_MAX) this.values.set("hz", CONFIG_HZ_MAX);
  }

  /** Internal: changes dir (real chdir in chdir mode); returns the new absolute dir. */
  changeDir(target: string): string {
    if (this.chdirMode) {
      try {
        process.chdir(target);
      } catch (e) {
        fail(strerror(e));
      }
      return process.cwd();
    }
    const abs = this.resolvePath(target);
    let st: fs.Stats;
    try {
      st = fs.statSync(abs);
    } catch (e) {
      fail(strerror(e));
    }
    if (!st.isDirectory()) fail("Not a directory");
    try {
      fs.accessSync(abs, fs.constants.X_OK);
    } catch (e) {
      fail(strerror(e));
    }
    return abs;
  }
}

/** process.cwd(), or $PWD / "/" when the current directory was deleted. */
function safeCwd(): string {
  try {
    return process.cwd();
  } catch {
    return process.env.PWD ?? "/";
  }
}

/** CONFIG SET's splitting of a multi-argument value (sdssplitlen on single spaces). */
function splitForSet(def: ConfigDef, value: string): string[] {
  const multi = (def.kind === "special" && def.multiArg) || (def.kind === "enum" && def.bitflags);
  if (!multi) return [value];
  if (value === "") return [];
  return value.split(" ");
}

const defaultCache = new Map<string, Value>();

function defaultValue(def: ConfigDef, cwd: string): Value {
  if (def.kind === "special" && def.special === "dir") return cwd;
  if (def.kind === "special" && def.special === "replicaof") return null;
  const cached = defaultCache.get(def.name);
  if (cached !== undefined) return cached;
  const v = parseValue(def, splitForSet(def, def.default), null, null, undefined);
  defaultCache.set(def.name, v);
  return v;
}

function parseValue(
  def: ConfigDef,
  args: string[],
  old: Value,
  config: Config | null,
  ctx: LoadContext | undefined,
): Value {
  switch (def.kind) {
    case "bool": {
      const a = asciiLower(args[0] ?? "");
      if (a !== "yes" && a !== "no") fail("argument must be 'yes' or 'no'");
      if (a === "yes" && def.name === "activedefrag") {
        // isValidActiveDefrag in a build without HAVE_DEFRAG (like the reference build).
        fail(
          "Active defragmentation cannot be enabled: it requires a Redis server compiled with a modified Jemalloc like the one shipped by default with the Redis source distribution",
        );
      }
      return a === "yes";
    }
    case "string": {
      const v = args[0] ?? "";
      validateString(def, v);
      return def.emptyIsNull && v === "" ? null : v;
    }
    case "enum":
      return parseEnum(def, args);
    case "numeric":
      return parseNumeric(def, args[0] ?? "");
    case "special":
      return parseSpecial(def.special, args, old, config, ctx);
  }
}

function parseSpecial(
  which: string,
  argv: string[],
  old: Value,
  config: Config | null,
  ctx: LoadContext | undefined,
): Value {
  let args = argv;
  switch (which) {
    case "save": {
      if (args.length === 1 && args[0] === "") args = [];
      if (args.length & 1) fail("Invalid save parameters");
      for (let j = 0; j < args.length; j++) {
        const r = strtoll(args[j]);
        const v = r.end === 0 ? 0n : r.value;
        if (
          (r.end !== args[j].length && !(args[j].length === 0)) ||
          ((j & 1) === 0 && v < 1n) || ((j & 1) === 1 && v < 0n)
        ) {
          fail("Invalid save parameters");
        }
      }
      let base = (old as { seconds: bigint; changes: number }[] | null) ?? [];
      if (!ctx || !ctx.reading || args.length === 0) base = [];
      else if (!ctx.saveLoaded) base = [];
      if (ctx && ctx.reading) ctx.saveLoaded = true;
      const out = [...base];
      for (let j = 0; j < args.length; j += 2) {
        out.push({
          seconds: strtoll(args[j]).value,
          changes: Number(BigInt.asIntN(32, strtoll(args[j + 1]).value)),
        });
      }
      return out;
    }
    case "dir": {
      if (args.length !== 1) fail("wrong number of arguments");
      if (!config) return args[0];
      return config.changeDir(args[0]);
    }
    case "bind": {
      if (args.length > 16) fail("Too many bind addresses specified.");
      if (args.length === 1 && args[0] === "") args = [];
      return [...args];
    }
    case "replicaof": {
      if (args.length !== 2) fail("wrong number of arguments");
      if (asciiLower(args[0]) === "no" && asciiLower(args[1]) === "one") return null;
      const r = strtoll(args[1]);
      const port = r.end === 0 ? 0n : r.value;
      if ((r.end !== args[1].length && args[1].length !== 0) || port < 0n || port > 65535n) {
        fail("Invalid master port");
      }
      return { host: args[0], port: Number(port) };
    }
    case "client-output-buffer-limit": {
      if (args.length % 4) fail("Wrong number of arguments in buffer limit configuration.");
      const cur = ((old as ObufLimit[] | null) ?? [
        { hard: 0n, soft: 0n, seconds: 0 },
        { hard: 0n, soft: 0n, seconds: 0 },
        { hard: 0n, soft: 0n, seconds: 0 },
      ]).map((o) => ({ ...o }));
      const next: (ObufLimit | null)[] = [null, null, null];
      for (let j = 0; j < args.length; j += 4) {
        const cls = asciiLower(args[j]);
        const idx = cls === "normal"
          ? 0
          : cls === "slave" || cls === "replica"
          ? 1
          : cls === "pubsub"
          ? 2
          : -1;
        if (idx < 0) fail("Invalid client class specified in buffer limit configuration.");
        const hard = parseMemory(args[j + 1]);
        const soft = parseMemory(args[j + 2]);
        const r = strtoll(args[j + 3]);
        const secs = Number(BigInt.asIntN(32, r.end === 0 ? 0n : r.value));
        const fullySec = r.end === args[j + 3].length || args[j + 3].length === 0;
        if (hard === null || soft === null || secs < 0 || !fullySec) {
          fail("Error in hard, soft or soft_seconds setting in buffer limit configuration.");
        }
        next[idx] = { hard, soft, seconds: secs };
      }
      return cur.map((o, i) => next[i] ?? o);
    }
    case "oom-score-adj-values": {
      if (args.length !== 3) fail("wrong number of arguments");
      return args.map((a) => {
        const v = strtollFull(a);
        if (v === null || v < -2000n || v > 2000n) {
          fail("Invalid oom-score-adj-values, elements must be between -2000 and 2000.");
        }
        return Number(v);
      });
    }
    case "notify-keyspace-events": {
      if (args.length !== 1) fail("wrong number of arguments");
      const flags = keyspaceEventsStringToFlags(args[0]);
      if (flags === -1) fail("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.");
      return flags;
    }
    case "latency-tracking-info-percentiles": {
      if (args.length === 1 && args[0] === "") return [];
      return args.map((a) => {
        const v = string2d(a);
        if (v === null) fail("Invalid latency-tracking-info-percentiles parameters");
        if (v > 100 || v < 0) {
          fail("latency-tracking-info-percentiles parameters should sit between [0.0,100.0]");
        }
        return v;
      });
    }
  }
  throw new Error(`unknown special config ${which}`);
}

function formatValue(def: ConfigDef, v: Value): string {
  switch (def.kind) {
    case "bool":
      return v ? "yes" : "no";
    case "string":
      return (v as string | null) ?? "";
    case "enum":
      return formatEnum(def, v as number);
    case "numeric":
      return formatNumeric(def, v as bigint);
    case "special":
      switch (def.special) {
        case "save":
          return (v as { seconds: bigint; changes: number }[])
            .map((p) => `${p.seconds} ${p.changes}`).join(" ");
        case "dir":
          return v as string;
        case "bind":
          return (v as string[]).join(" ");
        case "replicaof": {
          const r = v as ReplicaOf | null;
          return r ? `${r.host} ${r.port}` : "";
        }
        case "client-output-buffer-limit":
          return (v as ObufLimit[])
            .map((o, i) => `${OBUF_CLASSES[i]} ${o.hard} ${o.soft} ${o.seconds}`).join(" ");
        case "oom-score-adj-values":
          return (v as number[]).join(" ");
        case "notify-keyspace-events":
          return keyspaceEventsFlagsToString(v as number);
        case "latency-tracking-info-percentiles":
          return (v as number[]).map(formatPercentile).join(" ");
      }
  }
}

/* ------------------------------------------------------------------------------------------
 * Config file parsing
 * ---------------------------------------------------------------------------------------- */

/** One directive line of a config text. */
export interface Directive {
  /** Lowercased directive name (`argv[0]`). */
  name: string;
  /** The words after the name. */
  args: string[];
  /** 1-based line number in the text it came from. */
  line: number;
  /** The trimmed line, as Redis echoes it in errors. */
  text: string;
  /** The file it came from (the `fileName` given, or an included path). */
  file: string;
}

/** Redis's per-line treatment: split on \n, trim " \t\r\n", skip blanks and # comments. */
function configLines(text: string): { line: number; text: string }[] {
  const nul = text.indexOf("\0");
  if (nul >= 0) text = text.slice(0, nul); // Redis uses strlen() on the content
  if (text === "") return [];
  const out: { line: number; text: string }[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const t = lines[i].replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, "");
    if (t === "" || t[0] === "#") continue;
    out.push({ line: i + 1, text: t });
  }
  return out;
}

function hasWildcard(p: string): boolean {
  return p.includes("*") || p.includes("?") || p.includes("[");
}

/** glob(3) (no flags) on a path pattern: sorted matches, [] if none. */
function globPaths(pattern: string, cwd: string): string[] {
  const abs = pattern.startsWith("/");
  const parts = pattern.split("/").filter((p, i) => p !== "" || i === 0);
  let cur: string[] = [abs ? "/" : ""];
  for (let k = abs ? 1 : 0; k < parts.length; k++) {
    const seg = parts[k];
    if (seg === "") continue;
    const last = k === parts.length - 1;
    const next: string[] = [];
    for (const base of cur) {
      const join = (
        n: string,
      ) => (base === "" ? n : base.endsWith("/") ? base + n : `${base}/${n}`);
      if (!hasWildcard(seg)) {
        next.push(join(seg));
        continue;
      }
      let names: string[];
      try {
        names = fs.readdirSync(nodePath.resolve(cwd, base === "" ? "." : base));
      } catch {
        continue;
      }
      const pat = seg.replace(/\[!/g, "[^");
      for (const n of names.sort()) {
        if (n.startsWith(".") && !seg.startsWith(".")) continue;
        if (!stringMatch(pat, n, false)) continue;
        const full = join(n);
        if (!last) {
          try {
            if (!fs.statSync(nodePath.resolve(cwd, full)).isDirectory()) continue;
          } catch {
            continue;
          }
        }
        next.push(full);
      }
    }
    cur = next;
  }
  return cur.filter((p) => {
    try {
      fs.statSync(nodePath.resolve(cwd, p));
      return true;
    } catch {
      return false;
    }
  }).sort();
}

/** Reads a file as Latin-1 text; a directory reads as empty (fopen succeeds, fgets fails). */
function defaultReadFile(path: string): string {
  try {
    return fs.readFileSync(path, "latin1");
  } catch (e) {
    if ((e as { code?: string }).code === "EISDIR") return "";
    throw e;
  }
}

function cannotOpen(path: string, e: unknown): ConfigFileError {
  const msg = `Fatal error, can't open config file '${path}': ${strerror(e)}`;
  return new ConfigFileError(msg, msg, undefined, undefined, path, true);
}

/**
 * Reads the content of `include` / the main config file the way `loadServerConfig` does:
 * wildcards go through glob (no match: nothing), a missing plain file is fatal.
 */
function readConfigSource(
  filename: string,
  cwd: string,
  readFile: (path: string) => string,
): string {
  const resolve = (p: string) => nodePath.resolve(cwd, p);
  if (hasWildcard(filename)) {
    let content = "";
    for (const p of globPaths(filename, cwd)) {
      try {
        content += readFile(resolve(p));
      } catch (e) {
        throw cannotOpen(p, e);
      }
    }
    return content;
  }
  try {
    return readFile(resolve(filename));
  } catch (e) {
    throw cannotOpen(filename, e);
  }
}

/**
 * Splits a config text into directives, expanding `include` (read through `readFile`,
 * relative paths against `cwd`, default the process cwd) recursively. Only syntax is
 * checked here (unbalanced quotes, unreadable includes: `ConfigFileError` as Redis prints
 * it); values are validated by `loadConfig` / `Config`.
 */
export function parseConfigText(
  text: string,
  fileName: string,
  readFile: (path: string) => string = defaultReadFile,
  cwd: string = safeCwd(),
): Directive[] {
  const out: Directive[] = [];
  for (const { line, text: t } of configLines(text)) {
    const argv = splitArgs(t);
    if (argv === null) throw fatal("Unbalanced quotes in configuration line", line, t, fileName);
    if (argv.length === 0) continue;
    const name = asciiLower(argv[0]);
    if (name === "include" && argv.length === 2) {
      const inc = readConfigSource(argv[1], cwd, readFile);
      out.push(...parseConfigText(inc, argv[1], readFile, cwd));
      continue;
    }
    out.push({ name, args: argv.slice(1), line, text: t, file: fileName });
  }
  return out;
}

/* ------------------------------------------------------------------------------------------
 * Loading: redis-server [config-file] [--directive value ...]
 * ---------------------------------------------------------------------------------------- */

export interface LoadOptions extends ConfigOptions {
  /** Reads a config file (Latin-1). Default: node:fs. Throw a Node-style error if missing. */
  readFile?: (path: string) => string;
  /** Reads the config from stdin for a `-` argument. Default: reads fd 0. */
  readStdin?: () => string;
  /** Whether to check (by opening for append) that `logfile` is writable. Default true. */
  checkLogfile?: boolean;
  /**
   * Whether a command exists, for `rename-command` validation (case-insensitive). Default:
   * every Redis 7.0 command.
   */
  commandExists?: (name: string) => boolean;
  /**
   * Validates a `user` directive (`argv` includes the word `user`). Return null when fine,
   * or the index of the bad word and ACL's error text.
   */
  validateUser?: (argv: string[]) => { argIndex: number; error: string } | null;
}

export interface LoadResult {
  config: Config;
  /** One line per accepted-but-unimplemented directive set to a non-default value, etc. */
  warnings: string[];
  /** Absolute path of the config file, when one was given. */
  configFile?: string;
  /** `rename-command` directives in order: [from, to] (to "" removes the command). */
  renames: [string, string][];
  /** `user` directives in order (the words after `user`). */
  users: string[][];
  /** `loadmodule` directives in order (path and arguments); Amber does not load modules. */
  modules: string[][];
}

class LoadError extends Error {}

class Loader {
  readonly ctx: LoadContext = { reading: false, saveLoaded: false };
  readonly warnings: string[] = [];
  readonly renames: [string, string][] = [];
  readonly users: string[][] = [];
  readonly modules: string[][] = [];
  readonly moduleConfigs = new Map<string, string>();
  /** Canonical names of configs the configuration mentioned, in first-seen order. */
  readonly mentioned: string[] = [];
  private readonly removedCmds = new Set<string>();
  private readonly addedCmds = new Set<string>();
  private readonly readFile: (path: string) => string;
  private readonly commandExists: (name: string) => boolean;

  constructor(readonly config: Config, readonly opts: LoadOptions) {
    this.readFile = opts.readFile ?? defaultReadFile;
    this.commandExists = opts.commandExists ??
      ((n) => Object.prototype.hasOwnProperty.call(COMMAND_META, n));
  }

  private cmdExists(name: string): boolean {
    const n = asciiLower(name);
    return this.addedCmds.has(n) || (this.commandExists(n) && !this.removedCmds.has(n));
  }

  /** `loadServerConfig`: file content, then stdin, then "\n" + the command line options. */
  loadFile(filename: string | undefined, stdin: boolean, options: string | null): void {
    let content = "";
    if (filename !== undefined) {
      content = readConfigSource(filename, this.config.dirValue(), this.readFile);
    }
    if (stdin) {
      const read = this.opts.readStdin ?? (() => fs.readFileSync(0, "latin1"));
      this.warnings.push("Reading config from stdin");
      content += read();
    }
    if (options !== null) content += "\n" + options;
    this.loadString(content, filename ?? "");
  }

  /** `loadServerConfigFromString`. */
  loadString(text: string, file: string): void {
    this.ctx.reading = true;
    for (const { line, text: t } of configLines(text)) {
      try {
        this.loadLine(t);
      } catch (e) {
        if (e instanceof ConfigError || e instanceof LoadError) {
          throw fatal(e.message, line, t, file);
        }
        throw e;
      }
    }
    // End-of-file checks, run after every (also included) file like Redis.
    const logfile = this.config.get("logfile");
    if (logfile !== "" && this.opts.checkLogfile !== false) {
      try {
        fs.closeSync(fs.openSync(this.config.resolvePath(logfile), "a"));
      } catch (e) {
        throw fatal(`Can't open the log file: ${strerror(e)}`, undefined, undefined, file);
      }
    }
    if (this.config.getBool("cluster-enabled") && this.config.replicaOf()) {
      throw fatal("replicaof directive not allowed in cluster mode", undefined, undefined, file);
    }
    this.config.clampHz();
    this.ctx.reading = false;
  }

  private loadLine(t: string): void {
    const argv = splitArgs(t);
    if (argv === null) throw new LoadError("Unbalanced quotes in configuration line");
    if (argv.length === 0) return;
    const name = asciiLower(argv[0]);
    const argc = argv.length;
    const l = lookupDef(name);
    if (l) {
      const multi = (l.def.kind === "special" && l.def.multiArg) ||
        (l.def.kind === "enum" && l.def.bitflags);
      if (!multi && argc !== 2) throw new LoadError("wrong number of arguments");
      // A multi-argument config given one non-empty word is split again (7.0.x: so that
      // `--save "100 1 200 2"` works); unbalanced quotes inside give no arguments at all.
      const args = multi && argc === 2 && argv[1] !== "" ? splitArgs(argv[1]) ?? [] : argv.slice(1);
      this.config.setArgs(l.def.name, args, this.ctx);
      if (!this.mentioned.includes(l.def.name)) this.mentioned.push(l.def.name);
      return;
    }
    if (
      DEPRECATED_DIRECTIVES.some((d) => d.name === name && d.argcMin <= argc && argc <= d.argcMax)
    ) {
      return;
    }
    if (name === "include" && argc === 2) {
      const content = readConfigSource(argv[1], this.config.dirValue(), this.readFile);
      this.loadString(content, argv[1]);
    } else if (name === "rename-command" && argc === 3) {
      if (!this.cmdExists(argv[1])) throw new LoadError("No such command in rename-command");
      const from = asciiLower(argv[1]);
      if (this.addedCmds.has(from)) this.addedCmds.delete(from);
      else this.removedCmds.add(from);
      if (argv[2] !== "") {
        if (this.cmdExists(argv[2])) throw new LoadError("Target command name already exists");
        this.addedCmds.add(asciiLower(argv[2]));
      }
      this.renames.push([argv[1], argv[2]]);
    } else if (name === "user" && argc >= 2) {
      const bad = this.opts.validateUser?.(argv);
      if (bad) {
        throw new LoadError(`Error in user declaration '${argv[bad.argIndex]}': ${bad.error}`);
      }
      this.users.push(argv.slice(1));
    } else if (name === "loadmodule" && argc >= 2) {
      this.modules.push(argv.slice(1));
      this.warnings.push(
        `Amber does not support modules: ignoring 'loadmodule ${argv.slice(1).join(" ")}'`,
      );
    } else if (name.includes(".")) {
      if (argc !== 2) throw new LoadError("Module config specified without value");
      this.moduleConfigs.set(argv[0], argv[1]);
    } else if (name === "sentinel") {
      if (argc !== 1) throw new LoadError("sentinel directive while not in sentinel mode");
      this.warnings.push("Amber does not support Sentinel mode: ignoring 'sentinel'");
    } else {
      throw new LoadError("Bad directive or wrong number of arguments");
    }
  }

  /** Checks done after loading: module configs and the warnings for ignored directives. */
  finish(): void {
    if (this.moduleConfigs.size > 0) {
      if (this.modules.length === 0) {
        const msg =
          "Module Configuration detected without loadmodule directive or no ApplyConfig call: aborting";
        throw new ConfigFileError(msg, msg, undefined, undefined, undefined, true);
      }
      for (const [k, v] of this.moduleConfigs) {
        this.warnings.push(`Amber does not support modules: ignoring module config '${k} ${v}'`);
      }
    }
    for (const name of this.mentioned) {
      const def = CONFIG_TABLE.find((d) => d.name === name)!;
      const value = this.config.get(name);
      if (def.implemented) {
        if (def.implementedValues && !def.implementedValues.includes(value)) {
          this.warnings.push(
            `Amber does not implement '${name} ${value}': the directive is accepted and has no effect`,
          );
        }
        continue;
      }
      if (this.config.isDefault(name)) continue;
      this.warnings.push(
        `Amber does not implement config '${name}' (set to '${value}'): it is accepted and has no effect`,
      );
    }
  }
}

/**
 * Builds the options text redis-server appends to the config (server.c main()): each
 * `--name` starts a new line, following words are quoted with sdscatrepr. Also returns the
 * config file (first argument when it does not start with `-`) and the stdin flag.
 */
export function argvToConfig(
  argv: string[],
): { configFile?: string; stdin: boolean; options: string } {
  let j = 0;
  let configFile: string | undefined;
  let stdin = false;
  let options = "";
  if (argv.length > 0 && argv[0][0] !== "-") {
    configFile = argv[0];
    j = 1;
  }
  let handledLast = true;
  const n = argv.length;
  for (; j < n; j++) {
    const a = argv[j];
    if (a === "-" && (j === 0 || j === n - 1)) {
      stdin = true;
    } else if (handledLast && a.startsWith("--")) {
      if (options.length) options += "\n";
      options += a.slice(2) + " ";
      const tmp = splitArgs(a);
      if (tmp !== null && tmp.length === 1) {
        handledLast = false;
        const nextIsOpt = j !== n - 1 && argv[j + 1].startsWith("--");
        const low = asciiLower(a);
        if (nextIsOpt && low === "--save") {
          options += '""';
          handledLast = true;
        } else if (j === n - 1 && low === "--save") {
          options += '""';
        } else if (nextIsOpt && low === "--sentinel") {
          handledLast = true;
        }
      } else {
        handledLast = true;
      }
    } else {
      options += reprString(a) + " ";
      handledLast = true;
    }
  }
  return { configFile, stdin, options };
}

/**
 * Loads the configuration like `redis-server [config-file] [--directive value ...] [-]`
 * (`argv` without the program name). Throws `ConfigFileError` with redis-server's exact
 * stderr text on a fatal problem.
 */
export function loadConfig(argv: string[], opts: LoadOptions = {}): LoadResult {
  const config = new Config(opts);
  const loader = new Loader(config, opts);
  let configFile: string | undefined;
  if (argv.length > 0) {
    const parsed = argvToConfig(argv);
    if (parsed.configFile !== undefined) {
      configFile = nodePath.resolve(config.dirValue(), parsed.configFile);
    }
    if (argv.includes("--sentinel")) {
      loader.warnings.push("Amber does not support Sentinel mode: --sentinel is ignored");
    }
    loader.loadFile(configFile, parsed.stdin, parsed.options);
    loader.finish();
  }
  return {
    config,
    warnings: loader.warnings,
    configFile,
    renames: loader.renames,
    users: loader.users,
    modules: loader.modules,
  };
}

/* ------------------------------------------------------------------------------------------
 * CONFIG GET / SET
 * ---------------------------------------------------------------------------------------- */

/**
 * CONFIG GET: `[name, value]` pairs for the given names / glob patterns (case-insensitive).
 * Like Redis, an exact name is echoed as given (aliases included), patterns match canonical
 * names and aliases but not hidden configs, and each config appears once.
 */
export function configGet(config: Config, patterns: string[]): [string, string][] {
  const out: [string, string][] = [];
  const seen = new Set<string>();
  for (const pat of patterns) {
    if (!/[[*?]/.test(pat)) {
      const key = asciiLower(pat);
      if (seen.has(key)) continue;
      const l = lookupDef(pat);
      if (l) {
        seen.add(key);
        out.push([pat, config.get(l.def.name)]);
      }
      continue;
    }
    for (const [name, l] of BY_NAME) {
      if (l.def.hidden || seen.has(name)) continue;
      if (stringMatch(pat, name, true)) {
        seen.add(name);
        out.push([name, config.get(l.def.name)]);
      }
    }
  }
  return out;
}

export interface ConfigSetOptions {
  /** The client may change protected configs (enable-protected-configs yes, or local). */
  allowProtected?: boolean;
  /** The server is loading a dataset (configs like appendonly are refused). */
  loading?: boolean;
}

/**
 * Whether a client may change protected configs / run DEBUG / MODULE given the enum value
 * (`no`, `yes`, `local`) of enable-protected-configs / enable-debug-command / ... .
 */
export function allowProtectedAction(setting: string, isLocalClient: boolean): boolean {
  return setting === "yes" || (setting === "local" && isLocalClient);
}

/**
 * CONFIG SET name value [name value ...], atomically like Redis 7.0: all values are
 * validated and set, then change listeners run (a listener may reject by throwing
 * `ConfigError` with its reason); on any failure every value is restored. Throws
 * `ConfigError` whose message is the full error reply (`ERR ...` / `LOADING ...`).
 * An odd argument count is the caller's `ERR syntax error`.
 */
export function configSet(
  config: Config,
  pairs: [string, string][],
  opts: ConfigSetOptions = {},
): void {
  let invalid = false;
  let invalidArgName: string | null = null;
  let errstr: string | null = null;
  let errArg = "";
  let denyLoading = false;
  const found: (Lookup | undefined)[] = [];
  for (let i = 0; i < pairs.length; i++) {
    const [name] = pairs[i];
    const l = lookupDef(name);
    found.push(l);
    if (!l) {
      if (!invalid) {
        invalidArgName = name;
        invalid = true;
      }
      continue;
    }
    if (invalid) continue;
    if (l.def.immutable || (l.def.protected && !opts.allowProtected)) {
      errstr = l.def.immutable ? "can't set immutable config" : "can't set protected config";
      errArg = name;
      invalid = true;
      continue;
    }
    if (opts.loading && l.def.denyLoading) {
      denyLoading = true;
      invalid = true;
      continue;
    }
    for (let j = 0; j < i; j++) {
      if (found[j]?.name === l.name) {
        errstr = "duplicate parameter";
        errArg = name;
        invalid = true;
        break;
      }
    }
  }
  const err = () => {
    if (denyLoading) return new ConfigError("LOADING Redis is loading the dataset in memory");
    if (invalidArgName !== null) {
      return new ConfigError(
        `ERR Unknown option or number of arguments for CONFIG SET - '${invalidArgName}'`,
      );
    }
    if (errstr !== null) {
      return new ConfigError(
        `ERR CONFIG SET failed (possibly related to argument '${errArg}') - ${errstr}`,
      );
    }
    return new ConfigError(`ERR CONFIG SET failed (possibly related to argument '${errArg}')`);
  };
  if (invalid) throw err();

  const lookups = found as Lookup[];
  const canon = lookups.map((l) => l.def.name);
  const snapshots = canon.map((n) => config.snapshot(n));
  const oldText = canon.map((n) => config.get(n));
  const restoreAll = (upto: number) => {
    for (let i = upto; i >= 0; i--) config.restore(canon[i], snapshots[i]);
  };
  for (let i = 0; i < pairs.length; i++) {
    try {
      config.setArgs(canon[i], splitForSet(lookups[i].def, pairs[i][1]), {
        reading: false,
        saveLoaded: true,
      });
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      restoreAll(i);
      errArg = lookups[i].name;
      errstr = e.message;
      throw err();
    }
  }
  // Apply: normalizations, then listeners of the configs that changed.
  const changed: number[] = [];
  for (let i = 0; i < pairs.length; i++) {
    config.applyNormalize(lookups[i].def);
  }
  for (let i = 0; i < pairs.length; i++) {
    if (changed.some((j) => canon[j] === canon[i])) continue;
    const first = canon.indexOf(canon[i]);
    if (config.get(canon[i]) !== oldText[first]) changed.push(i);
  }
  for (let k = 0; k < changed.length; k++) {
    const i = changed[k];
    const first = canon.indexOf(canon[i]);
    try {
      config.fire(canon[i], config.get(canon[i]), oldText[first]);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      const now = changed.map((c) => config.get(canon[c]));
      restoreAll(pairs.length - 1);
      for (let m = 0; m <= k; m++) {
        const c = changed[m];
        try {
          config.fire(canon[c], oldText[canon.indexOf(canon[c])], now[m]);
        } catch { /* restoring: ignore */ }
      }
      errArg = lookups[i].name;
      errstr = e.message;
      throw err();
    }
  }
}

/* ------------------------------------------------------------------------------------------
 * CONFIG REWRITE
 * ---------------------------------------------------------------------------------------- */

const REWRITE_SIGNATURE = "# Generated by CONFIG REWRITE";

class RewriteState {
  lines: string[] = [];
  optionToLine = new Map<string, number[]>();
  rewritten = new Set<string>();
  needsSignature = true;

  markProcessed(option: string): void {
    this.rewritten.add(option);
  }

  rewriteLine(option: string, line: string, force: boolean): void {
    const l = this.optionToLine.get(option);
    this.markProcessed(option);
    if (!l && !force) return;
    if (l) {
      const n = l.shift()!;
      if (l.length === 0) this.optionToLine.delete(option);
      this.lines[n] = line;
    } else {
      if (this.needsSignature) {
        this.lines.push(REWRITE_SIGNATURE);
        this.needsSignature = false;
      }
      this.lines.push(line);
    }
  }
}

function readOldConfig(path: string): RewriteState {
  const state = new RewriteState();
  let content: string;
  try {
    content = fs.readFileSync(path, "latin1");
  } catch (e) {
    if ((e as { code?: string }).code === "ENOENT") return state;
    throw e;
  }
  if (content.length === 0) return state;
  const lines = content.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].replace(/^[\r\n\t ]+|[\r\n\t ]+$/g, "");
    if (line === "" || line[0] === "#") {
      if (state.needsSignature && line === REWRITE_SIGNATURE) state.needsSignature = false;
      state.lines.push(line);
      continue;
    }
    const argv = splitArgs(line);
    const known = argv !== null && argv.length > 0 &&
      (lookupDef(argv[0]) !== undefined || FILE_ONLY_DIRECTIVES.includes(asciiLower(argv[0])));
    if (!known) {
      state.lines.push("# ??? " + line);
      continue;
    }
    let name = asciiLower(argv![0]);
    const l = lookupDef(name);
    if (l) name = l.def.name;
    const p = name.indexOf("slave");
    if (p >= 0) name = name.slice(0, p) + "replica" + name.slice(p + 5);
    state.lines.push(line);
    const list = state.optionToLine.get(name);
    if (list) list.push(state.lines.length - 1);
    else state.optionToLine.set(name, [state.lines.length - 1]);
  }
  return state;
}

function rewriteDef(config: Config, def: ConfigDef, state: RewriteState): void {
  const name = def.name;
  const v = config.snapshot(name);
  const d = defaultValue(def, config.dirValue());
  switch (def.kind) {
    case "bool":
      state.rewriteLine(name, `${name} ${v ? "yes" : "no"}`, v !== d);
      return;
    case "string": {
      if (v === null) {
        state.markProcessed(name);
        return;
      }
      const force = !(d !== null && v === d);
      state.rewriteLine(name, `${name} ${reprString(v as string)}`, force);
      return;
    }
    case "enum":
      state.rewriteLine(name, `${name} ${formatEnum(def, v as number)}`, v !== d);
      return;
    case "numeric": {
      const n = v as bigint;
      let text: string;
      if (def.percent && n < 0n) text = `${-n}%`;
      else if (def.memory) text = formatMemory(n);
      else if (def.octal) text = n.toString(8);
      else text = n.toString();
      state.rewriteLine(name, `${name} ${text}`, n !== d);
      return;
    }
    case "special":
      break;
  }
  switch (def.special) {
    case "save": {
      const params = v as { seconds: bigint; changes: number }[];
      if (params.length === 0) state.rewriteLine(name, 'save ""', true);
      for (const p of params) state.rewriteLine(name, `save ${p.seconds} ${p.changes}`, true);
      state.markProcessed(name);
      return;
    }
    case "dir":
      state.rewriteLine(name, `${name} ${reprString(v as string)}`, true);
      return;
    case "client-output-buffer-limit": {
      const cur = v as ObufLimit[];
      const def0 = d as ObufLimit[];
      for (let j = 0; j < 3; j++) {
        const force = cur[j].hard !== def0[j].hard || cur[j].soft !== def0[j].soft ||
          cur[j].seconds !== def0[j].seconds;
        const type = OBUF_CLASSES[j] === "slave" ? "replica" : OBUF_CLASSES[j];
        state.rewriteLine(
          name,
          `${name} ${type} ${formatMemory(cur[j].hard)} ${formatMemory(cur[j].soft)} ${
            cur[j].seconds
          }`,
          force,
        );
      }
      return;
    }
    case "oom-score-adj-values": {
      const cur = v as number[];
      const force = cur.some((x, i) => x !== (d as number[])[i]);
      state.rewriteLine(name, `${name} ${cur.join(" ")}`, force);
      return;
    }
    case "notify-keyspace-events": {
      const flags = v as number;
      state.rewriteLine(
        name,
        `${name} ${reprString(keyspaceEventsFlagsToString(flags))}`,
        flags !== 0,
      );
      return;
    }
    case "bind": {
      const cur = v as string[];
      const def0 = d as string[];
      if (cur.length === def0.length && cur.every((a, i) => a === def0[i])) {
        state.markProcessed(name);
        return;
      }
      state.rewriteLine(name, `${name} ${cur.length ? cur.join(" ") : '""'}`, true);
      return;
    }
    case "replicaof": {
      const r = v as ReplicaOf | null;
      if (config.getBool("cluster-enabled") || r === null) {
        state.markProcessed(name);
        return;
      }
      state.rewriteLine(name, `${name} ${r.host} ${r.port}`, true);
      return;
    }
    case "latency-tracking-info-percentiles": {
      const cur = v as number[];
      const text = cur.length ? cur.map(formatPercentile).join(" ") : '""';
      state.rewriteLine(name, `${name} ${text}`, true);
      return;
    }
  }
}

export interface RewriteOptions {
  /**
   * The `user` lines to write (e.g. `user default on nopass ~* &* +@all`), as ACL describes
   * the current users. When omitted, existing `user` lines are left untouched. When
   * `aclfile` is set, `user` lines are removed (like Redis).
   */
  users?: string[];
}

/** Builds the rewritten config file content (without writing it). */
export function configRewriteContent(
  config: Config,
  path: string,
  opts: RewriteOptions = {},
): string {
  const state = readOldConfig(path);
  for (const def of CONFIG_TABLE) rewriteDef(config, def, state);
  if (config.get("aclfile") !== "") {
    state.markProcessed("user");
  } else if (opts.users) {
    for (const u of opts.users) state.rewriteLine("user", u, true);
    state.markProcessed("user");
  }
  // Blank the lines of processed options that were not reused (duplicates, old saves...).
  for (const [option, list] of state.optionToLine) {
    if (!state.rewritten.has(option)) continue;
    for (const n of list) state.lines[n] = "";
  }
  let content = "";
  let wasEmpty = false;
  for (const line of state.lines) {
    if (line.length === 0) {
      if (wasEmpty) continue;
      wasEmpty = true;
    } else {
      wasEmpty = false;
    }
    content += line + "\n";
  }
  return content;
}

function umask(): number {
  try {
    return process.umask();
  } catch {
    return 0o022;
  }
}

/** Writes `content` to `path` atomically: temp file, fsync, chmod, rename. */
function overwriteFile(path: string, content: string): void {
  const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  let fd = -1;
  let tmp = "";
  for (let attempt = 0; fd < 0; attempt++) {
    let suffix = "";
    for (let i = 0; i < 6; i++) suffix += chars[Math.floor(Math.random() * chars.length)];
    tmp = `${path}.${suffix}`;
    try {
      fd = fs.openSync(tmp, "wx", 0o600);
    } catch (e) {
      if ((e as { code?: string }).code !== "EEXIST" || attempt > 100) throw e;
    }
  }
  let ok = false;
  try {
    const buf = Buffer.from(content, "latin1");
    let off = 0;
    while (off < buf.length) off += fs.writeSync(fd, buf, off, buf.length - off);
    fs.fsyncSync(fd);
    fs.fchmodSync(fd, 0o644 & ~umask());
    fs.renameSync(tmp, path);
    ok = true;
  } finally {
    fs.closeSync(fd);
    if (!ok) {
      try {
        fs.unlinkSync(tmp);
      } catch { /* ignore */ }
    }
  }
}

/**
 * CONFIG REWRITE: rewrites the config file at `path` like Redis 7.0 (keeps comments and
 * unknown lines, replaces directives in place, blanks duplicates, comments out unparsable
 * lines as `# ??? ...`, appends new non-default ones after `# Generated by CONFIG REWRITE`),
 * writing a temp file, fsyncing it and renaming it over the old one. Throws `ConfigError`
 * with the full error reply (`ERR The server is running without a config file`,
 * `ERR Rewriting config file: <strerror>`).
 */
export function configRewrite(
  config: Config,
  path: string | undefined,
  opts: RewriteOptions = {},
): void {
  if (!path) throw new ConfigError("ERR The server is running without a config file");
  try {
    overwriteFile(path, configRewriteContent(config, path, opts));
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw new ConfigError(`ERR Rewriting config file: ${strerror(e)}`);
  }
}
