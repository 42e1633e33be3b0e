/**
 * What every command family shares: Redis's exact error strings, strict number parsing
 * (`string2ll`, `string2ld`, `getTimeoutFromObjectOrReply` rules), and typed lookups
 * that answer WRONGTYPE.
 */
import type { Client } from "../server/client.ts";
import type { Collection, Value } from "../types/value.ts";

export const ERR_SYNTAX = "ERR syntax error";
export const ERR_WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value";
export const ERR_NOT_INT = "ERR value is not an integer or out of range";
export const ERR_NOT_FLOAT = "ERR value is not a valid float";
export const ERR_OVERFLOW = "ERR increment or decrement would overflow";
export const ERR_NO_KEY = "ERR no such key";
export const ERR_DB_INDEX = "ERR DB index is out of range";
export const ERR_INVALID_EXPIRE = (cmd: string) => `ERR invalid expire time in '${cmd}' command`;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * Redis's `string2ll`: a strict signed 64-bit decimal (no spaces, no "+", no leading
 * zeros except "0"). Returns a number when it is exactly representable, else a bigint;
 * null if not an integer or out of range.
 */
export function parseInt64(s: string): number | null {
  const n = s.length;
  if (n === 0 || n > 20) return null;
  let i = 0;
  if (s.charCodeAt(0) === 45) {
    if (n === 1) return null;
    i = 1;
  }
  const first = s.charCodeAt(i);
  if (first === 48) return n === 1 ? 0 : null;
  if (first < 49 || first > 57) return null;
  for (let j = i + 1; j < n; j++) {
    const c = s.charCodeAt(j);
    if (c < 48 || c > 57) return null;
  }
  if (n - i <= 15) return Number(s);
  const b = BigInt(s);
  if (b < INT64_MIN || b > INT64_MAX) return null;
  // Values beyond 2^53 are kept exact as bigint-derived numbers only when safe.
  return Number.isSafeInteger(Number(b)) ? Number(b) : null;
}

/**
 * Like parseInt64 but exact over the whole int64 range (INCRBY on large values).
 */
export function parseBigInt64(s: string): bigint | null {
  const n = s.length;
  if (n === 0 || n > 20) return null;
  if (!/^(0|-?[1-9][0-9]*)$/.test(s)) return null;
  const b = BigInt(s);
  return b < INT64_MIN || b > INT64_MAX ? null : b;
}

export function inInt64(b: bigint): boolean {
  return b >= INT64_MIN && b <= INT64_MAX;
}

/** Parses an integer argument or replies ERR_NOT_INT (or `err`). Returns null on error. */
export function intArg(c: Client, s: string, err = ERR_NOT_INT): number | null {
  const v = parseInt64(s);
  if (v === null) {
    // Large but valid int64 values that are not safe integers still count as integers.
    const b = parseBigInt64(s);
    if (b !== null) return Number(b);
    c.reply.error(err);
  }
  return v;
}

/**
 * Redis's `string2ld`/`strtold` acceptance for float arguments: decimal or exponent
 * forms, "inf"/"-inf"/"+inf" (case-insensitive); no spaces, no NaN, no hex.
 */
export function parseFloatArg(s: string): number | null {
  // MAX_LONG_DOUBLE_CHARS: longer arguments are refused before parsing.
  if (s.length === 0 || s.length > 5 * 1024) return null;
  const lower = s.toLowerCase();
  if (lower === "inf" || lower === "+inf" || lower === "infinity" || lower === "+infinity") {
    return Infinity;
  }
  if (lower === "-inf" || lower === "-infinity") return -Infinity;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(s)) return null;
  const v = Number(s);
  return Number.isNaN(v) ? null : v;
}

export function floatArg(c: Client, s: string, err = ERR_NOT_FLOAT): number | null {
  const v = parseFloatArg(s);
  if (v === null) c.reply.error(err);
  return v;
}

/**
 * The string at `key` for a read, or undefined when missing. Replies WRONGTYPE and
 * returns null when the key holds another type.
 */
export function getString(c: Client, key: string): string | undefined | null {
  const v = c.db.lookupRead(key);
  if (v === undefined) {
    c.server.stats.keyspaceMisses++;
    return undefined;
  }
  c.server.stats.keyspaceHits++;
  if (typeof v !== "string") {
    c.reply.error(ERR_WRONGTYPE);
    return null;
  }
  return v;
}

/**
 * A read lookup that counts keyspace hits and misses (Redis's lookupKeyRead).
 */
export function lookupRead(c: Client, key: string): Value | undefined {
  const v = c.db.lookupRead(key);
  if (v === undefined) c.server.stats.keyspaceMisses++;
  else c.server.stats.keyspaceHits++;
  return v;
}

/**
 * The collection of `type` at `key`, undefined when missing; replies WRONGTYPE and
 * returns null for another type. `write` selects lookupWrite (no hit/miss stats).
 */
export function getCollection<T extends Collection>(
  c: Client,
  key: string,
  type: string,
  write = false,
): T | undefined | null {
  const v = write ? c.db.lookupWrite(key) : lookupRead(c, key);
  if (v === undefined) return undefined;
  if (typeof v === "string" || v.type !== type) {
    c.reply.error(ERR_WRONGTYPE);
    return null;
  }
  return v as T;
}

/** Case-insensitive option compare (argv options are ASCII). */
export function is(arg: string, opt: string): boolean {
  return arg.length === opt.length && arg.toLowerCase() === opt;
}

/** Marks a change to the dataset: one more change since the last save. */
export function dirty(c: Client, n = 1): void {
  c.server.dirty += n;
}

/**
 * Redis's addReplyHelp: a header naming the command as the client typed it (uppercased),
 * the `lines`, then the HELP entry every container lists last.
 */
export function replyHelp(c: Client, argv0: string, lines: readonly string[]): void {
  c.reply.array(lines.length + 3);
  c.reply.simple(`${argv0.toUpperCase()} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:`);
  for (const l of lines) c.reply.simple(l);
  c.reply.simple("HELP");
  c.reply.simple("    Prints this help.");
}

/** Redis's addReplySubcommandSyntaxError (a known container, a bad subcommand form). */
export function subcommandSyntaxError(c: Client, argv: string[]): void {
  const sub = argv[1].slice(0, 128).replace(/[\r\n]/g, " ");
  const cmd = argv[0].toUpperCase();
  c.reply.error(
    `ERR unknown subcommand or wrong number of arguments for '${sub}'. Try ${cmd} HELP.`,
  );
}

/** What removeMembers needs of a collection (a hash's fields, a set's members). */
export interface MemberStore {
  has(m: string): boolean;
  delete(m: string): boolean;
  readonly size: number;
}

/**
 * HDEL / SREM: removes `argv[from..]` from the collection at `key`, deleting the key
 * once empty; notifies `event` (class `cls`) and `del`, and counts the changes as dirty.
 * The keyspace hook (WATCH, snapshots) runs only if something is really removed.
 * Returns how many were removed.
 */
export function removeMembers(
  c: Client,
  key: string,
  coll: MemberStore,
  argv: string[],
  from: number,
  cls: string,
  event: string,
): number {
  let deleted = 0;
  let removed = false;
  let touched = false;
  for (let j = from; j < argv.length; j++) {
    if (!touched) {
      if (!coll.has(argv[j])) continue;
      c.db.touchWrite(key);
      touched = true;
    }
    if (coll.delete(argv[j])) {
      deleted++;
      if (coll.size === 0) {
        c.db.delete(key);
        removed = true;
        break;
      }
    }
  }
  if (deleted) {
    c.server.notify(cls, event, key, c.db.id);
    if (removed) c.server.notify("g", "del", key, c.db.id);
    dirty(c, deleted);
  }
  return deleted;
}

/** LONG_MAX, the bound of Redis's long arguments. */
export const LONG_MAX = 2n ** 63n - 1n;

/**
 * Redis's getRangeLongFromObjectOrReply: an integer within [min, max], else the error
 * (`msg` replaces both the parse and the range message when given). Null after replying.
 */
export function rangeLongArg(
  c: Client,
  s: string,
  min: bigint,
  max: bigint,
  msg?: string,
): bigint | null {
  const v = parseBigInt64(s);
  if (v === null) {
    c.reply.error(msg ?? ERR_NOT_INT);
    return null;
  }
  if (v < min || v > max) {
    c.reply.error(msg ?? `ERR value is out of range, value must between ${min} and ${max}`);
    return null;
  }
  return v;
}

/** Redis's getPositiveLongFromObjectOrReply (a non-negative long). */
export function positiveLongArg(c: Client, s: string, msg?: string): bigint | null {
  return rangeLongArg(c, s, 0n, LONG_MAX, msg ?? "ERR value is out of range, must be positive");
}
