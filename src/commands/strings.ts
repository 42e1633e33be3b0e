/**
 * The string commands (Redis's t_string.c): GET/SET and their variants, MGET/MSET,
 * APPEND, ranges, INCR & co, INCRBYFLOAT.
 *
 * Also owns two pieces of string-value state other families reuse:
 * - x87 80-bit `long double` arithmetic for INCRBYFLOAT (exported for HINCRBYFLOAT):
 *   Redis adds and prints in long double, and a JS double gives different text
 *   (0.2 + 0.1 prints "0.3" in Redis, 0.30000000000000004 in doubles), so values are
 *   parsed, added and printed exactly with bigints.
 * - the string encoding history that OBJECT ENCODING / REFCOUNT show: a bare JS string
 *   cannot say that APPEND made it "raw" or INCRBYFLOAT made "11" an embstr, so the
 *   few keys whose encoding differs from what their content implies are remembered in
 *   a side table, dropped on any later change of the key.
 *
 * Propagation follows t_string.c: SET with any expiry becomes `SET k v PXAT <ms>`,
 * SETEX/PSETEX the same, GETEX becomes PEXPIREAT/PERSIST/DEL, INCRBYFLOAT
 * `SET k v KEEPTTL`, GETSET `SET`, GETDEL `DEL`, SET ... GET drops the GET tokens.
 */
import type { HandlerMap } from "./registry.ts";
import type { Client } from "../server/client.ts";
import type { Server } from "../server/server.ts";
import type { Database } from "../keyspace/db.ts";
import type { KeyTable } from "../keyspace/keytable.ts";
import { stringEncoding, type Value } from "../types/value.ts";
import {
  dirty,
  ERR_NOT_INT,
  ERR_OVERFLOW,
  ERR_SYNTAX,
  ERR_WRONGTYPE,
  getString,
  inInt64,
  lookupRead,
  parseBigInt64,
  parseInt64,
} from "./common.ts";

const LLONG_MAX = 2n ** 63n - 1n;
const LLONG_MIN = -(2n ** 63n);

// ---- small shared helpers ---------------------------------------------------------

/** The argument as C code sees it through `char *`: cut at the first NUL byte. */
export function cstr(s: string): string {
  const i = s.indexOf("\0");
  return i === -1 ? s : s.slice(0, i);
}

/** `strcasecmp(arg, opt)` with `opt` lowercase. */
export function cis(arg: string, opt: string): boolean {
  return cstr(arg).toLowerCase() === opt;
}

/** Redis's addReplyErrorFormat: newlines in the formatted text become spaces. */
export function errorFormat(c: Client, msg: string): void {
  c.reply.error(msg.replace(/[\r\n]/g, " "));
}

/** `lazyfree-lazy-*` as a boolean, false if the config does not know it. */
export function lazyfree(server: Server, name: string): boolean {
  try {
    return server.config.getBool(name);
  } catch {
    return false;
  }
}

/** Redis's checkAlreadyExpired: never while loading (expiry paused). */
export function alreadyExpired(server: Server, when: bigint | number): boolean {
  return when <= server.now() && !server.expiryPaused;
}

function configMemory(server: Server, name: string, fallback: number): number {
  try {
    return server.config.getMemory(name);
  } catch {
    return fallback;
  }
}

/** Redis's checkStringLength (APPEND, SETRANGE). */
function checkStringLength(c: Client, size: bigint): boolean {
  if (size > BigInt(configMemory(c.server, "proto-max-bulk-len", 512 * 1024 * 1024))) {
    c.reply.error("ERR string exceeds maximum allowed size (proto-max-bulk-len)");
    return false;
  }
  return true;
}

/**
 * Builds a string that may exceed what the JS engine can hold (V8 caps strings at
 * about 2^29 chars, just under Redis's 512MB default limit). Returns null, after an
 * error reply, when it cannot.
 */
function buildString(c: Client, f: () => string): string | null {
  try {
    return f();
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    c.reply.error("ERR string exceeds the maximum string length of the runtime");
    return null;
  }
}

// ---- string encoding history (OBJECT ENCODING / REFCOUNT) ---------------------------

/**
 * How a string's encoding departs from what its content implies:
 * "raw" (APPEND/SETRANGE unshared it), "noint" (created as plain text, e.g. by
 * INCRBYFLOAT, so an integer-looking value is still embstr), "int1" (an int object of
 * its own, not a shared integer: COPY duplicates it).
 */
export type StringEncodingMark = "raw" | "noint" | "int1";

/** Marks per dictionary (FLUSHDB/SWAPDB replace or move dicts, and the marks follow). */
const encodingMarks = new WeakMap<KeyTable<Value>, Map<string, StringEncodingMark>>();
const hookedServers = new WeakSet<Server>();

/** Records how `key`'s string (just stored) is encoded, when its content would not say. */
export function markStringEncoding(
  server: Server,
  db: Database,
  key: string,
  mark: StringEncodingMark | undefined,
): void {
  if (mark === undefined) return;
  if (!hookedServers.has(server)) {
    hookedServers.add(server);
    // Any change to the key (SET, DEL, expiry, ...) gives it a fresh object in Redis.
    server.onKeyModified((d, k) => encodingMarks.get(d.dict)?.delete(k));
  }
  let m = encodingMarks.get(db.dict);
  if (!m) encodingMarks.set(db.dict, m = new Map());
  m.set(key, mark);
}

/** The mark of `key`, if any. */
export function stringEncodingMark(db: Database, key: string): StringEncodingMark | undefined {
  return encodingMarks.get(db.dict)?.get(key);
}

/** Runs `f` (a TTL change) keeping `key`'s encoding mark: the object itself is unchanged. */
export function keepingEncoding(server: Server, db: Database, key: string, f: () => void): void {
  const mark = stringEncodingMark(db, key);
  f();
  if (mark !== undefined && db.dict.has(key)) markStringEncoding(server, db, key, mark);
}

/** True when Redis would use its shared integer objects (not under LRU/LFU eviction). */
function sharedIntegersAllowed(server: Server): boolean {
  try {
    if (server.config.getMemory("maxmemory") === 0) return true;
    const policy = server.config.get("maxmemory-policy");
    return !(policy.endsWith("-lru") || policy.endsWith("-lfu"));
  } catch {
    return true;
  }
}

/** OBJECT ENCODING and OBJECT REFCOUNT of the string `s` stored at `key`. */
export function stringObjectInfo(
  server: Server,
  db: Database,
  key: string,
  s: string,
): { encoding: string; refcount: number } {
  const mark = stringEncodingMark(db, key);
  if (mark === "raw") return { encoding: "raw", refcount: 1 };
  if (mark === "noint") return { encoding: s.length <= 44 ? "embstr" : "raw", refcount: 1 };
  const encoding = stringEncoding(s);
  if (mark === "int1" || encoding !== "int") return { encoding, refcount: 1 };
  const n = s.length <= 4 && s[0] !== "-" ? Number(s) : -1;
  const shared = n >= 0 && n < 10000 && sharedIntegersAllowed(server);
  return { encoding, refcount: shared ? 2147483647 : 1 };
}

/** The mark a copy of `key`'s string gets (Redis's dupStringObject keeps the encoding). */
export function copiedStringMark(
  server: Server,
  db: Database,
  key: string,
  s: string,
): StringEncodingMark | undefined {
  const enc = stringObjectInfo(server, db, key, s).encoding;
  if (enc === "int") return "int1";
  if (enc === "raw") return s.length <= 44 ? "raw" : undefined;
  return stringEncoding(s) === "int" ? "noint" : undefined;
}

// ---- x87 long double ----------------------------------------------------------------

/**
 * An 80-bit extended-precision value: (-1)^neg * m * 2^e with 0 <= m < 2^64, or an
 * infinity. Finite values are normalized (m >= 2^63) except subnormals (e = LD_EMIN).
 */
export interface LongDouble {
  neg: boolean;
  m: bigint;
  e: number;
  inf: boolean;
}

/** Exponent of the least subnormal: 2^-16445. */
const LD_EMIN = -16445;
/** Largest exponent with a 64-bit m: values stay below 2^16384. */
const LD_EMAX = 16320;
const TWO63 = 1n << 63n;
const TWO64 = 1n << 64n;

function bitLength(x: bigint): number {
  if (x === 0n) return 0;
  const h = x.toString(16);
  return (h.length - 1) * 4 + (32 - Math.clz32(parseInt(h[0], 16)));
}

/** Rounds num/den * 2^shift (num >= 0, den > 0) to the nearest long double, ties to even. */
function ldRound(neg: boolean, num: bigint, den: bigint, shift: number): LongDouble {
  if (num === 0n) return { neg, m: 0n, e: 0, inf: false };
  let e = bitLength(num) - bitLength(den) + shift - 64;
  let q = 0n;
  let r = 0n;
  let d = den;
  const divide = () => {
    const s = shift - e;
    let n = num;
    d = den;
    if (s >= 0) n <<= BigInt(s);
    else d <<= BigInt(-s);
    q = n / d;
    r = n - q * d;
  };
  divide();
  while (q >= TWO64) {
    e++;
    divide();
  }
  while (q < TWO63 && e > LD_EMIN) {
    e--;
    divide();
  }
  if (e < LD_EMIN) {
    e = LD_EMIN;
    divide();
  }
  const twice = 2n * r;
  if (twice > d || (twice === d && (q & 1n) === 1n)) q++;
  if (q === TWO64) {
    q >>= 1n;
    e++;
  }
  if (e > LD_EMAX) return { neg, m: 0n, e: 0, inf: true };
  return { neg, m: q, e, inf: false };
}

const LD_DEC = /^([+-]?)(?:(\d+)\.?(\d*)|\.(\d+))(?:[eE]([+-]?\d+))?$/;
const LD_HEX =
  /^([+-]?)0[xX](?:([0-9a-fA-F]+)\.?([0-9a-fA-F]*)|\.([0-9a-fA-F]+))(?:[pP]([+-]?\d+))?$/;
const LD_INF = /^([+-]?)inf(?:inity)?$/i;

/** An exponent field, clamped so absurd exponents stay finite numbers. */
function clampedExp(s: string | undefined): number {
  if (s === undefined) return 0;
  const n = Number(s);
  return Math.max(-1e9, Math.min(1e9, n));
}

/**
 * Redis's `string2ld`: glibc `strtold` over the whole string (decimal, hex floats,
 * inf/infinity), no leading space, under 5120 bytes, NaN refused, overflow or
 * underflow to zero refused, and (unlike most C parsing in Redis) no NUL byte inside.
 */
export function parseLongDouble(s: string): LongDouble | null {
  if (s.length === 0 || s.length >= 5120 || s.includes("\0")) return null;
  let m = LD_INF.exec(s);
  if (m) return { neg: m[1] === "-", m: 0n, e: 0, inf: true };
  m = LD_DEC.exec(s);
  let hex = false;
  if (!m) {
    m = LD_HEX.exec(s);
    if (!m) return null;
    hex = true;
  }
  const neg = m[1] === "-";
  const intDigits = m[2] ?? "";
  const fracDigits = m[2] !== undefined ? m[3] : m[4];
  const digits = (intDigits + fracDigits).replace(/^0+/, "");
  if (digits === "") return { neg, m: 0n, e: 0, inf: false };
  const exp = clampedExp(m[5]);
  let r: LongDouble;
  if (hex) {
    // value = digits(hex) * 2^(exp - 4 * fracDigits)
    const shift = exp - 4 * fracDigits.length;
    const top = digits.length * 4 + shift;
    if (top > 16400) return null;
    if (top < LD_EMIN - 8) return null;
    r = ldRound(neg, BigInt("0x" + digits), 1n, shift);
  } else {
    const k = exp - fracDigits.length;
    const mag = digits.length + k;
    if (mag > 4940) return null;
    if (mag < -4960) return null;
    r = k >= 0
      ? ldRound(neg, BigInt(digits) * 10n ** BigInt(k), 1n, 0)
      : ldRound(neg, BigInt(digits), 10n ** BigInt(-k), 0);
  }
  if (r.inf || r.m === 0n) return null;
  return r;
}

/** a + b in long double; null for NaN (inf - inf). */
export function addLongDouble(a: LongDouble, b: LongDouble): LongDouble | null {
  if (a.inf || b.inf) {
    if (a.inf && b.inf && a.neg !== b.neg) return null;
    return a.inf ? a : b;
  }
  if (a.m === 0n) return b.m === 0n ? { ...a, neg: a.neg && b.neg } : b;
  if (b.m === 0n) return a;
  const e = Math.min(a.e, b.e);
  const av = (a.neg ? -a.m : a.m) << BigInt(a.e - e);
  const bv = (b.neg ? -b.m : b.m) << BigInt(b.e - e);
  const sum = av + bv;
  if (sum === 0n) return { neg: false, m: 0n, e: 0, inf: false };
  return ldRound(sum < 0n, sum < 0n ? -sum : sum, 1n, e);
}

/**
 * Redis's `ld2string(..., LD_STR_HUMAN)`: printf("%.17Lf") (exact, ties to even as
 * glibc rounds), trailing zeros and dot removed, "-0" printed as "0".
 */
export function formatLongDoubleHuman(v: LongDouble): string {
  if (v.inf) return v.neg ? "-inf" : "inf";
  const P = 10n ** 17n;
  let n: bigint;
  if (v.e >= 0) {
    n = (v.m << BigInt(v.e)) * P;
  } else {
    const num = v.m * P;
    const sh = BigInt(-v.e);
    n = num >> sh;
    const r = num - (n << sh);
    const half = 1n << (sh - 1n);
    if (r > half || (r === half && (n & 1n) === 1n)) n++;
  }
  const digits = n.toString().padStart(18, "0");
  let out = (v.neg ? "-" : "") + digits.slice(0, -17) + "." + digits.slice(-17);
  out = out.replace(/0+$/, "");
  if (out.endsWith(".")) out = out.slice(0, -1);
  return out === "-0" ? "0" : out;
}

/**
 * INCRBYFLOAT's arithmetic on two strings: the new value's text, or an error message
 * (the caller replies it): not-a-float, or a NaN/infinite result.
 */
export function incrByFloatText(current: string, incr: string): { value: string } | {
  error: string;
} {
  const a = parseLongDouble(current);
  const b = a === null ? null : parseLongDouble(incr);
  if (a === null || b === null) return { error: "ERR value is not a valid float" };
  const sum = addLongDouble(a, b);
  if (sum === null || sum.inf) return { error: "ERR increment would produce NaN or Infinity" };
  return { value: formatLongDoubleHuman(sum) };
}

// ---- GET / SET family -----------------------------------------------------------------

const OBJ_SET_NX = 1 << 0;
const OBJ_SET_XX = 1 << 1;
const OBJ_EX = 1 << 2;
const OBJ_PX = 1 << 3;
const OBJ_KEEPTTL = 1 << 4;
const OBJ_SET_GET = 1 << 5;
const OBJ_EXAT = 1 << 6;
const OBJ_PXAT = 1 << 7;
const OBJ_PERSIST = 1 << 8;
const ANY_EXPIRE = OBJ_EX | OBJ_PX | OBJ_EXAT | OBJ_PXAT;

interface ExtendedArgs {
  flags: number;
  /** The expire argument, if any. */
  expire: string | null;
  ms: boolean;
}

/** Redis's parseExtendedStringArgumentsOrReply, for SET (`forSet`) or GETEX. */
function parseExtendedArgs(c: Client, argv: string[], forSet: boolean): ExtendedArgs | null {
  let flags = 0;
  let expire: string | null = null;
  let ms = false;
  for (let j = forSet ? 3 : 2; j < argv.length; j++) {
    const opt = cstr(argv[j]).toLowerCase();
    const hasNext = j < argv.length - 1;
    if (opt === "nx" && !(flags & OBJ_SET_XX) && forSet) {
      flags |= OBJ_SET_NX;
    } else if (opt === "xx" && !(flags & OBJ_SET_NX) && forSet) {
      flags |= OBJ_SET_XX;
    } else if (opt === "get" && forSet) {
      flags |= OBJ_SET_GET;
    } else if (opt === "keepttl" && !(flags & (OBJ_PERSIST | ANY_EXPIRE)) && forSet) {
      flags |= OBJ_KEEPTTL;
    } else if (opt === "persist" && !forSet && !(flags & (ANY_EXPIRE | OBJ_KEEPTTL))) {
      flags |= OBJ_PERSIST;
    } else if (
      opt === "ex" && !(flags & (OBJ_KEEPTTL | OBJ_PERSIST | OBJ_EXAT | OBJ_PX | OBJ_PXAT)) &&
      hasNext
    ) {
      flags |= OBJ_EX;
      expire = argv[++j];
    } else if (
      opt === "px" && !(flags & (OBJ_KEEPTTL | OBJ_PERSIST | OBJ_EX | OBJ_EXAT | OBJ_PXAT)) &&
      hasNext
    ) {
      flags |= OBJ_PX;
      ms = true;
      expire = argv[++j];
    } else if (
      opt === "exat" && !(flags & (OBJ_KEEPTTL | OBJ_PERSIST | OBJ_EX | OBJ_PX | OBJ_PXAT)) &&
      hasNext
    ) {
      flags |= OBJ_EXAT;
      expire = argv[++j];
    } else if (
      opt === "pxat" && !(flags & (OBJ_KEEPTTL | OBJ_PERSIST | OBJ_EX | OBJ_EXAT | OBJ_PX)) &&
      hasNext
    ) {
      flags |= OBJ_PXAT;
      ms = true;
      expire = argv[++j];
    } else {
      c.reply.error(ERR_SYNTAX);
      return null;
    }
  }
  return { flags, expire, ms };
}

/**
 * Redis's getExpireMillisecondsOrReply: the absolute expiry in ms, or null after
 * replying the error. `cmd` names the command in the error text.
 */
function expireMillis(
  c: Client,
  cmd: string,
  expire: string,
  flags: number,
  ms: boolean,
): bigint | number | null {
  // The common case in doubles: a positive count of up to 15 digits whose result is a
  // safe integer is exact there, and costs no BigInt allocations (several per SET EX).
  const v = expire.length <= 15 ? parseInt64(expire) : null;
  if (v !== null && v > 0) {
    const w = (ms ? v : v * 1000) + (flags & (OBJ_PX | OBJ_EX) ? c.server.now() : 0);
    if (w <= Number.MAX_SAFE_INTEGER) return w;
  }
  let when = parseBigInt64(expire);
  if (when === null) {
    c.reply.error(ERR_NOT_INT);
    return null;
  }
  const invalid = `ERR invalid expire time in '${cmd}' command`;
  if (when <= 0n || (!ms && when > LLONG_MAX / 1000n)) {
    c.reply.error(invalid);
    return null;
  }
  if (!ms) when *= 1000n;
  if (flags & (OBJ_PX | OBJ_EX)) when += BigInt(c.server.now());
  if (when > LLONG_MAX) {
    // C's signed overflow wraps to a negative value, which Redis then rejects.
    c.reply.error(invalid);
    return null;
  }
  return when;
}

/** Redis's getGenericCommand: replies the value (or null); false on WRONGTYPE. */
function getGeneric(c: Client, key: string): boolean {
  const v = getString(c, key);
  if (v === null) return false;
  c.reply.bulkOrNull(v);
  return true;
}

/** Redis's setGenericCommand. `okReply`/`abortReply` are raw replies (SETNX: :1 / :0). */
function setGeneric(
  c: Client,
  argv: string[],
  cmd: string,
  flags: number,
  key: string,
  value: string,
  expire: string | null,
  ms: boolean,
  okReply?: string,
  abortReply?: string,
): void {
  let when: bigint | number = 0;
  if (expire !== null) {
    const w = expireMillis(c, cmd, expire, flags, ms);
    if (w === null) return;
    when = w;
  }
  if (flags & OBJ_SET_GET) {
    if (!getGeneric(c, key)) return;
  }
  // Only NX/XX need the old value. Otherwise only lazy expiry must run first (an
  // expired key is deleted, with its DEL and events, before SET creates it anew); the
  // LRU touch of a full lookup would be overwritten by db.set anyway.
  let found = false;
  if (flags & (OBJ_SET_NX | OBJ_SET_XX)) found = c.db.lookupWrite(key) !== undefined;
  else if (c.db.expires.size !== 0) c.db.expireIfNeeded(key);
  if ((flags & OBJ_SET_NX && found) || (flags & OBJ_SET_XX && !found)) {
    if (!(flags & OBJ_SET_GET)) {
      if (abortReply !== undefined) c.reply.raw(abortReply);
      else c.reply.null();
    }
    return;
  }
  c.db.set(key, value, (flags & OBJ_KEEPTTL) !== 0, expire !== null ? Number(when) : undefined);
  dirty(c);
  c.server.notify("$", "set", key, c.db.id);
  if (expire !== null) {
    c.server.rewritePropagation(["SET", key, value, "PXAT", String(when)]);
    c.server.notify("g", "expire", key, c.db.id);
  }
  if (!(flags & OBJ_SET_GET)) {
    if (okReply !== undefined) c.reply.raw(okReply);
    else c.reply.ok();
  }
  if ((flags & OBJ_SET_GET) && expire === null) {
    // Propagate without the GET tokens (which may be repeated).
    c.server.rewritePropagation(argv.filter((a, j) => j < 3 || cstr(a).toLowerCase() !== "get"));
  }
}

function set(c: Client, argv: string[]): void {
  const args = parseExtendedArgs(c, argv, true);
  if (!args) return;
  setGeneric(c, argv, "set", args.flags, argv[1], argv[2], args.expire, args.ms);
}

function getex(c: Client, argv: string[]): void {
  const args = parseExtendedArgs(c, argv, false);
  if (!args) return;
  const key = argv[1];
  const v = lookupRead(c, key);
  if (v === undefined) {
    c.reply.null();
    return;
  }
  if (typeof v !== "string") {
    c.reply.error(ERR_WRONGTYPE);
    return;
  }
  let when: bigint | number = 0;
  if (args.expire !== null) {
    const w = expireMillis(c, "getex", args.expire, args.flags, args.ms);
    if (w === null) return;
    when = w;
  }
  c.reply.bulk(v);
  const db = c.db;
  const server = c.server;
  if ((args.flags & (OBJ_PXAT | OBJ_EXAT)) && alreadyExpired(server, when)) {
    const lazy = lazyfree(server, "lazyfree-lazy-expire");
    db.delete(key);
    server.rewritePropagation([lazy ? "UNLINK" : "DEL", key]);
    server.notify("g", "del", key, db.id);
    dirty(c);
  } else if (args.expire !== null) {
    keepingEncoding(server, db, key, () => db.setExpire(key, Number(when)));
    server.rewritePropagation(["PEXPIREAT", key, String(when)]);
    server.notify("g", "expire", key, db.id);
    dirty(c);
  } else if (args.flags & OBJ_PERSIST) {
    let removed = false;
    keepingEncoding(server, db, key, () => removed = db.persist(key));
    if (removed) {
      server.rewritePropagation(["PERSIST", key]);
      server.notify("g", "persist", key, db.id);
      dirty(c);
    }
  }
  // A plain GETEX changes nothing, so it leaves dirty alone and propagates nothing.
}

function getset(c: Client, argv: string[]): void {
  const key = argv[1];
  if (!getGeneric(c, key)) return;
  c.db.set(key, argv[2]);
  c.server.notify("$", "set", key, c.db.id);
  dirty(c);
  c.server.rewritePropagation(["SET", key, argv[2]]);
}

function getdel(c: Client, argv: string[]): void {
  const key = argv[1];
  if (!getGeneric(c, key)) return;
  if (c.db.delete(key)) {
    const lazy = lazyfree(c.server, "lazyfree-lazy-user-del");
    c.server.rewritePropagation([lazy ? "UNLINK" : "DEL", key]);
    c.server.notify("g", "del", key, c.db.id);
    dirty(c);
  }
}

function msetGeneric(c: Client, argv: string[], nx: boolean): void {
  if (argv.length % 2 === 0) {
    c.reply.error(`ERR wrong number of arguments for '${nx ? "msetnx" : "mset"}' command`);
    return;
  }
  if (nx) {
    for (let j = 1; j < argv.length; j += 2) {
      if (c.db.lookupWrite(argv[j]) !== undefined) {
        c.reply.integer(0);
        return;
      }
    }
  }
  for (let j = 1; j < argv.length; j += 2) {
    c.db.set(argv[j], argv[j + 1]);
    c.server.notify("$", "set", argv[j], c.db.id);
  }
  dirty(c, (argv.length - 1) / 2);
  if (nx) c.reply.integer(1);
  else c.reply.ok();
}

// ---- APPEND / ranges ------------------------------------------------------------------

function append(c: Client, argv: string[]): void {
  const key = argv[1];
  const add = argv[2];
  const o = c.db.lookupWrite(key);
  let total: number;
  if (o === undefined) {
    c.db.set(key, add);
    total = add.length;
  } else {
    if (typeof o !== "string") {
      c.reply.error(ERR_WRONGTYPE);
      return;
    }
    if (!checkStringLength(c, BigInt(o.length + add.length))) return;
    const s = buildString(c, () => o + add);
    if (s === null) return;
    c.db.set(key, s, true);
    if (stringEncoding(s) !== "raw") markStringEncoding(c.server, c.db, key, "raw");
    total = s.length;
  }
  c.server.notify("$", "append", key, c.db.id);
  dirty(c);
  c.reply.integer(total);
}

function setrange(c: Client, argv: string[]): void {
  const key = argv[1];
  const value = argv[3];
  const offset = parseBigInt64(argv[2]);
  if (offset === null) {
    c.reply.error(ERR_NOT_INT);
    return;
  }
  if (offset < 0n) {
    c.reply.error("ERR offset is out of range");
    return;
  }
  const o = c.db.lookupWrite(key);
  let old = "";
  if (o === undefined) {
    if (value.length === 0) {
      c.reply.integer(0);
      return;
    }
    if (!checkStringLength(c, offset + BigInt(value.length))) return;
  } else {
    if (typeof o !== "string") {
      c.reply.error(ERR_WRONGTYPE);
      return;
    }
    if (value.length === 0) {
      c.reply.integer(o.length);
      return;
    }
    if (!checkStringLength(c, offset + BigInt(value.length))) return;
    old = o;
  }
  const off = Number(offset);
  const s = buildString(c, () => {
    if (off >= old.length) return old + "\0".repeat(off - old.length) + value;
    return old.slice(0, off) + value + old.slice(off + value.length);
  });
  if (s === null) return;
  c.db.set(key, s, true);
  if (stringEncoding(s) !== "raw") markStringEncoding(c.server, c.db, key, "raw");
  c.server.notify("$", "setrange", key, c.db.id);
  dirty(c);
  c.reply.integer(s.length);
}

function getrange(c: Client, argv: string[]): void {
  let start = parseBigInt64(argv[2]);
  let end = start === null ? null : parseBigInt64(argv[3]);
  if (start === null || end === null) {
    c.reply.error(ERR_NOT_INT);
    return;
  }
  const v = lookupRead(c, argv[1]);
  if (v === undefined) {
    c.reply.bulk("");
    return;
  }
  if (typeof v !== "string") {
    c.reply.error(ERR_WRONGTYPE);
    return;
  }
  const len = BigInt(v.length);
  if (start < 0n && end < 0n && start > end) {
    c.reply.bulk("");
    return;
  }
  if (start < 0n) start = len + start;
  if (end < 0n) end = len + end;
  if (start < 0n) start = 0n;
  if (end < 0n) end = 0n;
  if (end >= len) end = len - 1n;
  if (start > end || len === 0n) {
    c.reply.bulk("");
    return;
  }
  c.reply.bulk(v.slice(Number(start), Number(end) + 1));
}

// ---- counters ------------------------------------------------------------------------

/** Parses an int64 argument: a safe number when it is one, else a bigint; null if invalid. */
function int64Arg(s: string): number | bigint | null {
  const n = parseInt64(s);
  return n !== null ? n : parseBigInt64(s);
}

/**
 * The strings of 0..9999, each made once when first needed: what Redis's shared integer
 * objects are for, here so that INCR of a small counter stores no new string (a stored
 * string survives the young generation, and the one it replaces is old-space garbage).
 */
const SHARED_INTS: string[] = [];

function intString(n: number | bigint): string {
  if (typeof n === "number" && n >= 0 && n < 10000) return SHARED_INTS[n] ??= String(n);
  return String(n);
}

/** Redis's incrDecrCommand. Numbers take a fast path; bigints keep the int64 edges exact. */
function incrDecr(c: Client, key: string, incr: number | bigint): void {
  const o = c.db.lookupWrite(key);
  if (o !== undefined && typeof o !== "string") {
    c.reply.error(ERR_WRONGTYPE);
    return;
  }
  let value: number | bigint = 0;
  if (o !== undefined) {
    const v = int64Arg(o);
    if (v === null) {
      c.reply.error(ERR_NOT_INT);
      return;
    }
    value = v;
  }
  let next: number | bigint;
  if (typeof value === "number" && typeof incr === "number" && Number.isSafeInteger(value + incr)) {
    next = value + incr;
  } else {
    next = BigInt(value) + BigInt(incr);
    if (!inInt64(next)) {
      c.reply.error(ERR_OVERFLOW);
      return;
    }
  }
  c.db.set(key, intString(next), true);
  c.server.notify("$", "incrby", key, c.db.id);
  dirty(c);
  c.reply.integer(next);
}

function incrbyfloat(c: Client, argv: string[]): void {
  const key = argv[1];
  const o = c.db.lookupWrite(key);
  if (o !== undefined && typeof o !== "string") {
    c.reply.error(ERR_WRONGTYPE);
    return;
  }
  const r = incrByFloatText(o ?? "0", argv[2]);
  if ("error" in r) {
    c.reply.error(r.error);
    return;
  }
  const s = r.value;
  c.db.set(key, s, true);
  // createStringObjectFromLongDouble never makes an int object.
  if (stringEncoding(s) === "int") markStringEncoding(c.server, c.db, key, "noint");
  c.server.notify("$", "incrbyfloat", key, c.db.id);
  dirty(c);
  c.reply.bulk(s);
  c.server.rewritePropagation(["SET", key, s, "KEEPTTL"]);
}

// ---- the table -----------------------------------------------------------------------

export const stringCommands: HandlerMap = {
  get(c, argv) {
    getGeneric(c, argv[1]);
  },
  set,
  setnx(c, argv) {
    setGeneric(c, argv, "setnx", OBJ_SET_NX, argv[1], argv[2], null, false, ":1\r\n", ":0\r\n");
  },
  setex(c, argv) {
    setGeneric(c, argv, "setex", OBJ_EX, argv[1], argv[3], argv[2], false);
  },
  psetex(c, argv) {
    setGeneric(c, argv, "psetex", OBJ_PX, argv[1], argv[3], argv[2], true);
  },
  getset,
  getdel,
  getex,
  mget(c, argv) {
    c.reply.array(argv.length - 1);
    for (let j = 1; j < argv.length; j++) {
      const v = lookupRead(c, argv[j]);
      if (typeof v === "string") c.reply.bulk(v);
      else c.reply.null();
    }
  },
  mset(c, argv) {
    msetGeneric(c, argv, false);
  },
  msetnx(c, argv) {
    msetGeneric(c, argv, true);
  },
  append,
  strlen(c, argv) {
    const v = getString(c, argv[1]);
    if (v === null) return;
    c.reply.integer(v === undefined ? 0 : v.length);
  },
  incr(c, argv) {
    incrDecr(c, argv[1], 1);
  },
  decr(c, argv) {
    incrDecr(c, argv[1], -1);
  },
  incrby(c, argv) {
    const incr = int64Arg(argv[2]);
    if (incr === null) {
      c.reply.error(ERR_NOT_INT);
      return;
    }
    incrDecr(c, argv[1], incr);
  },
  decrby(c, argv) {
    const incr = int64Arg(argv[2]);
    if (incr === null) {
      c.reply.error(ERR_NOT_INT);
      return;
    }
    if (incr === LLONG_MIN) {
      c.reply.error("ERR decrement would overflow");
      return;
    }
    incrDecr(c, argv[1], -incr);
  },
  incrbyfloat,
  getrange,
  substr: getrange,
  setrange,
};
