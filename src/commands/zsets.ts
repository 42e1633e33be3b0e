/**
 * The sorted set commands (Redis 7.0's t_zset.c): ZADD & co, the range family (ZRANGE,
 * ZRANGESTORE and the legacy BYSCORE/BYLEX/REV variants), removals, pops (ZPOPMIN,
 * ZMPOP and the blocking BZPOPMIN/BZPOPMAX/BZMPOP), ZRANDMEMBER, the set algebra
 * (ZUNION/ZINTER/ZDIFF, their STORE forms, ZINTERCARD) and ZSCAN.
 *
 * Number arguments follow Redis's C parsers on purpose: scores go through `string2d`
 * (strtod, whole argument, no leading space, hex accepted, overflow refused) while range
 * bounds go through bare `strtod` up to the first NUL (so " 1", "(" and "1e400" are
 * valid bounds), as zslParseRange does.
 */
import type { HandlerMap } from "./registry.ts";
import type { Client } from "../server/client.ts";
import type { Server } from "../server/server.ts";
import {
  addedScore,
  armBeforeChange,
  formatScore,
  type LexRange,
  lpScoreRepr,
  type RangeOut,
  type ScoreRange,
  ZADD_GT,
  ZADD_INCR,
  ZADD_LT,
  ZADD_NX,
  ZADD_OUT_ADDED,
  ZADD_OUT_NAN,
  ZADD_OUT_NOP,
  ZADD_OUT_UPDATED,
  ZADD_XX,
  ZSet,
  type ZsetLimits,
} from "../types/zset.ts";
import { parseScanCursor, scanStep } from "../keyspace/scan.ts";
import { isMatchAll, stringMatch } from "../util/glob.ts";
import {
  dirty,
  ERR_NOT_INT,
  ERR_SYNTAX,
  ERR_WRONGTYPE,
  getCollection,
  intArg,
  LONG_MAX,
  lookupRead,
  parseBigInt64,
  positiveLongArg,
  rangeLongArg,
} from "./common.ts";
import { cis, cstr } from "./strings.ts";
import { blockForKeys, canBlock, parseTimeout } from "../server/blocking.ts";
import type { SetValue } from "../types/set.ts";

const ERR_NOT_FLOAT = "ERR value is not a valid float";
const ERR_NAN = "ERR resulting score is not a number (NaN)";
const ERR_RANGE_FLOAT = "ERR min or max is not a float";
const ERR_RANGE_LEX = "ERR min or max not valid string range item";

// ---- number parsing ------------------------------------------------------------------

/** Result of `strtod`: the value, where parsing stopped, and whether errno was ERANGE. */
export interface Strtod {
  value: number;
  end: number;
  erange: boolean;
}

function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

function startsWithCI(s: string, i: number, word: string): boolean {
  return s.length - i >= word.length && s.slice(i, i + word.length).toLowerCase() === word;
}

/**
 * glibc's `strtod` over `s` (a C string: callers cut at NUL where C would): leading
 * white space, sign, decimal or hex (`0x1.8p3`) forms, `inf`/`infinity`, `nan(...)`.
 * No digits at all is "no conversion": value 0 and end 0.
 */
export function strtod(s: string): Strtod {
  const n = s.length;
  let i = 0;
  while (i < n && isSpace(s.charCodeAt(i))) i++;
  let neg = false;
  if (i < n && (s[i] === "+" || s[i] === "-")) {
    neg = s[i] === "-";
    i++;
  }
  const sign = neg ? -1 : 1;
  const c0 = s.charCodeAt(i) | 0x20;
  if (c0 === 105 /* i */ && startsWithCI(s, i, "inf")) {
    return {
      value: sign * Infinity,
      end: i + (startsWithCI(s, i, "infinity") ? 8 : 3),
      erange: false,
    };
  }
  if (c0 === 110 /* n */ && startsWithCI(s, i, "nan")) {
    let end = i + 3;
    if (s[end] === "(") {
      let j = end + 1;
      while (j < n && /[0-9A-Za-z_]/.test(s[j])) j++;
      if (s[j] === ")") end = j + 1;
    }
    return { value: NaN, end, erange: false };
  }
  if (
    s[i] === "0" && (s[i + 1] === "x" || s[i + 1] === "X") &&
    (hexVal(s.charCodeAt(i + 2)) >= 0 || (s[i + 2] === "." && hexVal(s.charCodeAt(i + 3)) >= 0))
  ) {
    return hexStrtod(s, i + 2, sign);
  }
  const start = i;
  let digits = 0;
  let nonzero = false;
  while (i < n && isDigit(s.charCodeAt(i))) {
    if (s[i] !== "0") nonzero = true;
    i++;
    digits++;
  }
  if (s[i] === ".") {
    i++;
    while (i < n && isDigit(s.charCodeAt(i))) {
      if (s[i] !== "0") nonzero = true;
      i++;
      digits++;
    }
  }
  if (digits === 0) return { value: 0, end: 0, erange: false };
  if (s[i] === "e" || s[i] === "E") {
    let j = i + 1;
    if (s[j] === "+" || s[j] === "-") j++;
    if (j < n && isDigit(s.charCodeAt(j))) {
      while (j < n && isDigit(s.charCodeAt(j))) j++;
      i = j;
    }
  }
  // JS number syntax accepts every form matched above ("1.", ".5", "1.e5").
  const v = Number(s.slice(start, i));
  const erange = v === Infinity || (v === 0 && nonzero);
  return { value: sign * v, end: i, erange };
}

function hexStrtod(s: string, i: number, sign: number): Strtod {
  const n = s.length;
  let mant = 0n;
  let fracDigits = 0;
  let seenDot = false;
  while (i < n) {
    const h = hexVal(s.charCodeAt(i));
    if (h >= 0) {
      mant = mant * 16n + BigInt(h);
      if (seenDot) fracDigits++;
      i++;
    } else if (s[i] === "." && !seenDot) {
      seenDot = true;
      i++;
    } else break;
  }
  let exp = 0;
  if (s[i] === "p" || s[i] === "P") {
    let j = i + 1;
    let eneg = false;
    if (s[j] === "+" || s[j] === "-") {
      eneg = s[j] === "-";
      j++;
    }
    if (j < n && isDigit(s.charCodeAt(j))) {
      let e = 0;
      while (j < n && isDigit(s.charCodeAt(j))) {
        if (e < 100000) e = e * 10 + (s.charCodeAt(j) - 48);
        j++;
      }
      exp = eneg ? -e : e;
      i = j;
    }
  }
  exp -= 4 * fracDigits;
  let v = Number(mant);
  // Scale in steps so no intermediate power of two overflows on its own.
  while (exp > 0 && v !== 0 && v !== Infinity) {
    const k = Math.min(exp, 1000);
    v *= 2 ** k;
    exp -= k;
  }
  while (exp < 0 && v !== 0) {
    const k = Math.min(-exp, 1000);
    v /= 2 ** k;
    exp += k;
  }
  const erange = v === Infinity || (v === 0 && mant !== 0n);
  return { value: sign * v, end: i, erange };
}

const POW10 = [
  1,
  1e1,
  1e2,
  1e3,
  1e4,
  1e5,
  1e6,
  1e7,
  1e8,
  1e9,
  1e10,
  1e11,
  1e12,
  1e13,
  1e14,
  1e15,
  1e16,
];

/** Redis's string2d (scores, increments, weights): null when not a valid float. */
export function parseScore(s: string): number | null {
  const n = s.length;
  if (n === 0 || isSpace(s.charCodeAt(0))) return null;
  // Fast path for plain decimals of at most 15 digits (what clients send): the digits
  // and the power of ten are exact doubles, so one division is correctly rounded.
  if (n <= 17) {
    const c0 = s.charCodeAt(0);
    let i = c0 === 45 || c0 === 43 ? 1 : 0;
    let m = 0;
    let digits = 0;
    let frac = -1;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 48 && c <= 57) {
        m = m * 10 + (c - 48);
        digits++;
      } else if (c === 46 && frac === -1) frac = i;
      else break;
    }
    if (i === n && digits > 0 && digits <= 15) {
      const v = frac === -1 ? m : m / POW10[n - 1 - frac];
      return c0 === 45 ? -v : v;
    }
  }
  const r = strtod(s);
  if (r.end !== s.length || Number.isNaN(r.value)) return null;
  if (r.erange && (r.value === 0 || !Number.isFinite(r.value))) return null;
  return r.value;
}

function parseBound(raw: string): { v: number; ex: boolean } | null {
  let s = cstr(raw);
  let ex = false;
  if (s[0] === "(") {
    ex = true;
    s = s.slice(1);
  }
  const r = strtod(s);
  if (r.end !== s.length || Number.isNaN(r.value)) return null;
  return { v: r.value, ex };
}

/** Redis's zslParseRange. */
export function parseScoreRange(min: string, max: string): ScoreRange | null {
  const a = parseBound(min);
  if (a === null) return null;
  const b = parseBound(max);
  if (b === null) return null;
  return { min: a.v, max: b.v, minex: a.ex, maxex: b.ex };
}

function parseLexItem(s: string): { v: string; ex: boolean; inf: number } | null {
  switch (s[0]) {
    case "+":
      return s.length === 1 || s[1] === "\0" ? { v: "", ex: true, inf: 1 } : null;
    case "-":
      return s.length === 1 || s[1] === "\0" ? { v: "", ex: true, inf: -1 } : null;
    case "(":
      return { v: s.slice(1), ex: true, inf: 0 };
    case "[":
      return { v: s.slice(1), ex: false, inf: 0 };
    default:
      return null;
  }
}

/** Redis's zslParseLexRange. */
export function parseLexRange(min: string, max: string): LexRange | null {
  const a = parseLexItem(min);
  const b = parseLexItem(max);
  if (a === null || b === null) return null;
  return { min: a.v, max: b.v, minInf: a.inf, maxInf: b.inf, minex: a.ex, maxex: b.ex };
}

// ---- shared plumbing --------------------------------------------------------------------

const limitCache = new WeakMap<Server, ZsetLimits>();

/** The listpack thresholds, cached per server and refreshed on CONFIG SET. */
export function zsetLimits(server: Server): ZsetLimits {
  let lim = limitCache.get(server);
  if (lim === undefined) {
    const l: ZsetLimits = { entries: 0, value: 0 };
    const load = () => {
      l.entries = server.config.getInt("zset-max-listpack-entries");
      l.value = server.config.getInt("zset-max-listpack-value");
    };
    load();
    server.config.onChange("zset-max-listpack-entries", load);
    server.config.onChange("zset-max-listpack-value", load);
    limitCache.set(server, lim = l);
  }
  return lim;
}

/** Runs `body` with the key's WATCH/snapshot hook armed for the first real change. */
function changingKey<T>(c: Client, key: string, body: () => T): T {
  armBeforeChange(() => c.db.touchWrite(key));
  try {
    return body();
  } finally {
    armBeforeChange(null);
  }
}

/**
 * addReplyDouble: a RESP3 double, or in RESP2 a bulk string, of `%.17g` (formatScore, which
 * also gets exact ties right).
 */
function replyScore(c: Client, d: number): void {
  const s = formatScore(d);
  c.reply.raw(c.reply.resp === 3 ? "," + s + "\r\n" : "$" + s.length + "\r\n" + s + "\r\n");
}

function newOut(): RangeOut {
  return { members: [], scores: [] };
}

/** Replies member[,score] entries as Redis's zrange result handler does. */
function replyEntries(c: Client, out: RangeOut, withscores: boolean): void {
  const r = c.reply;
  const n = out.members.length;
  r.array(withscores && r.resp === 2 ? 2 * n : n);
  for (let i = 0; i < n; i++) {
    if (withscores && r.resp === 3) r.array(2);
    r.bulk(out.members[i]);
    if (withscores) replyScore(c, out.scores[i]);
  }
}

/** ZRANGE by rank of a listpack zset, replied straight from its packed entries. */
function replyPackedRange(
  c: Client,
  z: ZSet,
  start: number,
  end: number,
  reverse: boolean,
  withscores: boolean,
): boolean {
  if (!z.isListpack) return false;
  const r = c.reply;
  const n = end - start + 1;
  r.array(withscores && r.resp === 2 ? 2 * n : n);
  z.eachPackedByRank(start, end, reverse, withscores, (packed, at, len, score) => {
    if (withscores && r.resp === 3) r.array(2);
    r.bulkSlice(packed, at, len);
    if (withscores) replyScore(c, score);
  });
  return true;
}

// ---- ZADD / ZINCRBY / ZREM ---------------------------------------------------------------

function zaddGeneric(c: Client, argv: string[], flags: number): void {
  const key = argv[1];
  let ch = false;
  let idx = 2;
  for (; idx < argv.length; idx++) {
    const o = argv[idx];
    // Scores end the options: skip lowercasing anything that cannot be one.
    const opt = o.length >= 2 && (o.charCodeAt(0) | 0x20) >= 97 ? cstr(o).toLowerCase() : "";
    if (opt === "nx") flags |= ZADD_NX;
    else if (opt === "xx") flags |= ZADD_XX;
    else if (opt === "ch") ch = true;
    else if (opt === "incr") flags |= ZADD_INCR;
    else if (opt === "gt") flags |= ZADD_GT;
    else if (opt === "lt") flags |= ZADD_LT;
    else break;
  }
  const incr = (flags & ZADD_INCR) !== 0;
  const nx = (flags & ZADD_NX) !== 0;
  const xx = (flags & ZADD_XX) !== 0;
  const gt = (flags & ZADD_GT) !== 0;
  const lt = (flags & ZADD_LT) !== 0;
  let elements = argv.length - idx;
  if (elements % 2 !== 0 || elements === 0) {
    c.reply.error(ERR_SYNTAX);
    return;
  }
  elements /= 2;
  if (nx && xx) {
    c.reply.error("ERR XX and NX options at the same time are not compatible");
    return;
  }
  if ((gt && nx) || (lt && nx) || (gt && lt)) {
    c.reply.error("ERR GT, LT, and/or NX options at the same time are not compatible");
    return;
  }
  if (incr && elements > 1) {
    c.reply.error("ERR INCR option supports a single increment-element pair");
    return;
  }
  const scores = new Array<number>(elements);
  for (let j = 0; j < elements; j++) {
    const s = parseScore(argv[idx + 2 * j]);
    if (s === null) {
      c.reply.error(ERR_NOT_FLOAT);
      return;
    }
    scores[j] = s;
  }
  let z = getCollection<ZSet>(c, key, "zset", true);
  if (z === null) return;
  let added = 0;
  let updated = 0;
  let processed = 0;
  let score = 0;
  if (z === undefined) {
    if (xx) {
      if (incr) c.reply.null();
      else c.reply.integer(0);
      return;
    }
    const lim = zsetLimits(c.server);
    z = new ZSet(lim.entries === 0 || lim.value < argv[idx + 1].length);
    c.db.set(key, z);
  }
  const zset = z;
  const lim = zsetLimits(c.server);
  const nan = changingKey(c, key, () => {
    for (let j = 0; j < elements; j++) {
      const out = zset.add(scores[j], argv[idx + 1 + 2 * j], flags, lim);
      if (out & ZADD_OUT_NAN) return true;
      if (out & ZADD_OUT_ADDED) added++;
      if (out & ZADD_OUT_UPDATED) updated++;
      if (!(out & ZADD_OUT_NOP)) processed++;
      score = addedScore();
    }
    return false;
  });
  if (nan) {
    c.reply.error(ERR_NAN);
  } else {
    dirty(c, added + updated);
    if (incr) {
      if (processed) replyScore(c, score);
      else c.reply.null();
    } else {
      c.reply.integer(ch ? added + updated : added);
    }
  }
  if (added || updated) c.server.notify("z", incr ? "zincr" : "zadd", key, c.db.id);
}

function zrem(c: Client, argv: string[]): void {
  const key = argv[1];
  const z = getCollection<ZSet>(c, key, "zset", true);
  if (z === null) return;
  if (z === undefined) {
    c.reply.integer(0);
    return;
  }
  let deleted = 0;
  let removed = false;
  changingKey(c, key, () => {
    for (let j = 2; j < argv.length; j++) {
      if (z.delete(argv[j])) deleted++;
      if (z.size === 0) {
        c.db.delete(key);
        removed = true;
        break;
      }
    }
  });
  if (deleted) {
    c.server.notify("z", "zrem", key, c.db.id);
    if (removed) c.server.notify("g", "del", key, c.db.id);
    dirty(c, deleted);
  }
  c.reply.integer(deleted);
}

// ---- ZREMRANGEBY* --------------------------------------------------------------------------

type RangeType = "auto" | "rank" | "score" | "lex";

function zremrangeGeneric(c: Client, argv: string[], type: RangeType): void {
  const key = argv[1];
  let start = 0;
  let end = 0;
  let range: ScoreRange | null = null;
  let lex: LexRange | null = null;
  if (type === "rank") {
    const s = intArg(c, argv[2]);
    if (s === null) return;
    const e = intArg(c, argv[3]);
    if (e === null) return;
    start = s;
    end = e;
  } else if (type === "score") {
    range = parseScoreRange(argv[2], argv[3]);
    if (range === null) {
      c.reply.error(ERR_RANGE_FLOAT);
      return;
    }
  } else {
    lex = parseLexRange(argv[2], argv[3]);
    if (lex === null) {
      c.reply.error(ERR_RANGE_LEX);
      return;
    }
  }
  const z = getCollection<ZSet>(c, key, "zset", true);
  if (z === null) return;
  if (z === undefined) {
    c.reply.integer(0);
    return;
  }
  if (type === "rank") {
    const llen = z.size;
    if (start < 0) start = llen + start;
    if (end < 0) end = llen + end;
    if (start < 0) start = 0;
    if (start > end || start >= llen) {
      c.reply.integer(0);
      return;
    }
    if (end >= llen) end = llen - 1;
  }
  const deleted = changingKey(c, key, () => {
    if (type === "rank") return z.deleteRangeByRank(start, end);
    if (type === "score") return z.deleteRangeByScore(range!);
    return z.deleteRangeByLex(lex!);
  });
  let removed = false;
  if (z.size === 0) {
    c.db.delete(key);
    removed = true;
  }
  if (deleted) {
    c.server.notify("z", "zremrangeby" + type, key, c.db.id);
    if (removed) c.server.notify("g", "del", key, c.db.id);
  }
  dirty(c, deleted);
  c.reply.integer(deleted);
}

// ---- ZRANGE family --------------------------------------------------------------------------

/** Where a range result goes: the client, or a destination key (ZRANGESTORE). */
function finishStore(c: Client, dst: string, out: RangeOut): void {
  const n = out.members.length;
  if (n > 0) {
    const lim = zsetLimits(c.server);
    const z = new ZSet(n > lim.entries);
    for (let i = 0; i < n; i++) z.add(out.scores[i], out.members[i], 0, lim);
    c.db.set(dst, z);
    c.reply.integer(n);
    c.server.notify("z", "zrangestore", dst, c.db.id);
    dirty(c);
  } else {
    c.reply.integer(0);
    if (c.db.delete(dst)) {
      c.server.notify("g", "del", dst, c.db.id);
      dirty(c);
    }
  }
}

/** Redis's zrangeGenericCommand: option parsing, then one of the three walks. */
function zrangeGeneric(
  c: Client,
  argv: string[],
  argcStart: number,
  dst: string | null,
  type: RangeType,
  dir: "auto" | "fwd" | "rev",
): void {
  const key = argv[argcStart];
  let minidx = argcStart + 1;
  let maxidx = argcStart + 2;
  let withscores = false;
  let offset = 0;
  let limit = -1;
  for (let j = argcStart + 3; j < argv.length; j++) {
    const left = argv.length - j - 1;
    const o = argv[j];
    if (dst === null && cis(o, "withscores")) {
      withscores = true;
    } else if (cis(o, "limit") && left >= 2) {
      const off = intArg(c, argv[j + 1]);
      if (off === null) return;
      const lim = intArg(c, argv[j + 2]);
      if (lim === null) return;
      offset = off;
      limit = lim;
      j += 2;
    } else if (dir === "auto" && cis(o, "rev")) {
      dir = "rev";
    } else if (type === "auto" && cis(o, "bylex")) {
      type = "lex";
    } else if (type === "auto" && cis(o, "byscore")) {
      type = "score";
    } else {
      c.reply.error(ERR_SYNTAX);
      return;
    }
  }
  if (dir === "auto") dir = "fwd";
  if (type === "auto") type = "rank";
  if (limit !== -1 && type === "rank") {
    c.reply.error(
      "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
    );
    return;
  }
  if (withscores && type === "lex") {
    c.reply.error("ERR syntax error, WITHSCORES not supported in combination with BYLEX");
    return;
  }
  const reverse = dir === "rev";
  if (reverse && type !== "rank") [minidx, maxidx] = [maxidx, minidx];
  let start = 0;
  let end = 0;
  let range: ScoreRange | null = null;
  let lex: LexRange | null = null;
  if (type === "rank") {
    const s = intArg(c, argv[minidx]);
    if (s === null) return;
    const e = intArg(c, argv[maxidx]);
    if (e === null) return;
    start = s;
    end = e;
  } else if (type === "score") {
    range = parseScoreRange(argv[minidx], argv[maxidx]);
    if (range === null) {
      c.reply.error(ERR_RANGE_FLOAT);
      return;
    }
  } else {
    lex = parseLexRange(argv[minidx], argv[maxidx]);
    if (lex === null) {
      c.reply.error(ERR_RANGE_LEX);
      return;
    }
  }
  const v = lookupRead(c, key);
  const out = newOut();
  if (v === undefined) {
    if (dst !== null) finishStore(c, dst, out);
    else c.reply.array(0);
    return;
  }
  if (typeof v === "string" || v.type !== "zset") {
    c.reply.error(ERR_WRONGTYPE);
    return;
  }
  const z = v as ZSet;
  if (type === "rank") {
    const llen = z.size;
    if (start < 0) start = llen + start;
    if (end < 0) end = llen + end;
    if (start < 0) start = 0;
    if (!(start > end || start >= llen)) {
      if (end >= llen) end = llen - 1;
      if (dst === null && replyPackedRange(c, z, start, end, reverse, withscores)) return;
      z.rangeByRank(start, end, reverse, out);
    }
  } else if (type === "score") {
    if (!(offset > 0 && offset >= z.size)) z.rangeByScore(range!, reverse, offset, limit, out);
  } else {
    z.rangeByLex(lex!, reverse, offset, limit, out);
  }
  if (dst !== null) finishStore(c, dst, out);
  else replyEntries(c, out, withscores);
}

// ---- counts, scores, ranks -------------------------------------------------------------------

function zcount(c: Client, argv: string[]): void {
  const range = parseScoreRange(argv[2], argv[3]);
  if (range === null) {
    c.reply.error(ERR_RANGE_FLOAT);
    return;
  }
  const z = getCollection<ZSet>(c, argv[1], "zset");
  if (z === null) return;
  c.reply.integer(z === undefined ? 0 : z.countByScore(range));
}

function zlexcount(c: Client, argv: string[]): void {
  const range = parseLexRange(argv[2], argv[3]);
  if (range === null) {
    c.reply.error(ERR_RANGE_LEX);
    return;
  }
  const z = getCollection<ZSet>(c, argv[1], "zset");
  if (z === null) return;
  c.reply.integer(z === undefined ? 0 : z.countByLex(range));
}

function zrankGeneric(c: Client, argv: string[], reverse: boolean): void {
  const z = getCollection<ZSet>(c, argv[1], "zset");
  if (z === null) return;
  if (z === undefined) {
    c.reply.null();
    return;
  }
  const r = z.rank(argv[2], reverse);
  if (r >= 0) c.reply.integer(r);
  else c.reply.null();
}

// ---- pops --------------------------------------------------------------------------------------

/**
 * Redis's genericZpopCommand. `count` -1 means "no COUNT given" (one element). With
 * `emitKey` the reply names the key; `nested` pairs each member with its score in a
 * sub-array. Returns the key popped from, or null.
 */
export function genericZpop(
  c: Client,
  keys: string[],
  max: boolean,
  emitKey: boolean,
  count: number,
  nested: boolean,
  nilWhenEmpty: boolean,
): string | null {
  let key = "";
  let z: ZSet | undefined;
  for (const k of keys) {
    const v = getCollection<ZSet>(c, k, "zset", true);
    if (v === null) return null;
    if (v === undefined) continue;
    key = k;
    z = v;
    break;
  }
  const r = c.reply;
  if (z === undefined) {
    if (nilWhenEmpty) r.nullArray();
    else r.array(0);
    return null;
  }
  if (count === 0) {
    r.array(0);
    return null;
  }
  if (count === -1) count = 1;
  const llen = z.size;
  let rangelen = count > llen ? llen : count;
  if (!nested && !emitKey) r.array(rangelen * 2);
  else if (nested && !emitKey) r.array(rangelen);
  else if (!nested && emitKey) {
    r.array(rangelen * 2 + 1);
    r.bulk(key);
  } else {
    r.array(2);
    r.bulk(key);
    r.array(rangelen);
  }
  c.db.touchWrite(key);
  let first = true;
  do {
    const [member, score] = z.edge(max)!;
    z.delete(member);
    dirty(c);
    if (first) {
      c.server.notify("z", max ? "zpopmax" : "zpopmin", key, c.db.id);
      first = false;
    }
    if (nested) r.array(2);
    r.bulk(member);
    replyScore(c, score);
  } while (--rangelen > 0);
  if (z.size === 0) {
    c.db.delete(key);
    c.server.notify("g", "del", key, c.db.id);
  }
  return key;
}

function zpopMinMax(c: Client, argv: string[], max: boolean): void {
  if (argv.length > 3) {
    c.reply.error(ERR_SYNTAX);
    return;
  }
  let count = -1;
  if (argv.length === 3) {
    const n = positiveLongArg(c, argv[2]);
    if (n === null) return;
    count = Number(n);
  }
  genericZpop(c, [argv[1]], max, false, count, c.reply.resp > 2 && count !== -1, false);
}

/** ZMPOP/BZMPOP arguments after numkeys: keys, MIN|MAX, [COUNT n]. */
interface MpopArgs {
  keys: string[];
  max: boolean;
  count: number;
}

export function parseMpop(c: Client, argv: string[], numkeysIdx: number): MpopArgs | null {
  const numkeys = rangeLongArg(
    c,
    argv[numkeysIdx],
    1n,
    LONG_MAX,
    "ERR numkeys should be greater than 0",
  );
  if (numkeys === null) return null;
  const whereIdx = numkeysIdx + Number(numkeys) + 1;
  if (whereIdx >= argv.length) {
    c.reply.error(ERR_SYNTAX);
    return null;
  }
  let max: boolean;
  if (cis(argv[whereIdx], "min")) max = false;
  else if (cis(argv[whereIdx], "max")) max = true;
  else {
    c.reply.error(ERR_SYNTAX);
    return null;
  }
  let count = -1;
  for (let j = whereIdx + 1; j < argv.length; j++) {
    const more = argv.length - 1 - j;
    if (count === -1 && cis(argv[j], "count") && more > 0) {
      j++;
      const n = rangeLongArg(c, argv[j], 1n, LONG_MAX, "ERR count should be greater than 0");
      if (n === null) return null;
      count = Number(n);
    } else {
      c.reply.error(ERR_SYNTAX);
      return null;
    }
  }
  if (count === -1) count = 1;
  return { keys: argv.slice(numkeysIdx + 1, whereIdx), max, count };
}

function zmpop(c: Client, argv: string[]): void {
  const a = parseMpop(c, argv, 1);
  if (a === null) return;
  const before = c.server.dirty;
  const key = genericZpop(c, a.keys, a.max, true, a.count, true, true);
  if (key !== null && c.server.dirty !== before) {
    // Propagated as the single-key pop it turned out to be, with the count it served.
    const popped = c.server.dirty - before;
    c.server.rewritePropagation([a.max ? "ZPOPMAX" : "ZPOPMIN", key, String(popped)]);
  }
}

/** The single-key pop a blocking pop is propagated as (Redis's rewrite in 7.0). */
function popArgv(max: boolean, key: string, count: number, llen: number): string[] {
  const cmd = max ? "ZPOPMAX" : "ZPOPMIN";
  return count === -1 ? [cmd, key] : [cmd, key, String(count > llen ? llen : count)];
}

/**
 * Redis's blockingGenericZpopCommand: pop from the first non-empty key at once, else
 * block until a ZADD & co makes one of `keys` a zset, serving clients in blocking order.
 * `count` is -1 for BZPOPMIN/BZPOPMAX; `nested` is BZMPOP's reply shape.
 */
function blockingZpop(
  c: Client,
  keys: string[],
  max: boolean,
  deadline: number,
  count: number,
  nested: boolean,
): void {
  for (const key of keys) {
    const z = getCollection<ZSet>(c, key, "zset", true);
    if (z === null) return;
    if (z === undefined || z.size === 0) continue;
    const llen = z.size;
    genericZpop(c, [key], max, true, count, nested, false);
    c.server.rewritePropagation(popArgv(max, key, count, llen));
    return;
  }
  if (!canBlock(c)) {
    c.reply.nullArray();
    return;
  }
  blockForKeys(c, keys, deadline, {
    type: "zset",
    tryServe(key) {
      const v = c.db.lookupWrite(key);
      if (v === undefined || typeof v === "string" || !(v instanceof ZSet) || v.size === 0) {
        return false;
      }
      c.server.alsoPropagate(c.db.id, popArgv(max, key, count, v.size));
      genericZpop(c, [key], max, true, count, nested, false);
      return true;
    },
  });
}

function bzpopMinMax(c: Client, argv: string[], max: boolean): void {
  const deadline = parseTimeout(c, argv[argv.length - 1]);
  if (deadline === null) return;
  blockingZpop(c, argv.slice(1, -1), max, deadline, -1, false);
}

function bzmpop(c: Client, argv: string[]): void {
  const a = parseMpop(c, argv, 2);
  if (a === null) return;
  const deadline = parseTimeout(c, argv[1]);
  if (deadline === null) return;
  blockingZpop(c, a.keys, a.max, deadline, a.count, true);
}

// ---- ZRANDMEMBER --------------------------------------------------------------------------------

/** Redis's ZRANDMEMBER_SUB_STRATEGY_MUL */
const SUB_STRATEGY_MUL = 3;

function zrandmemberWithCount(c: Client, argv: string[], l: number, withscores: boolean): void {
  const z = getCollection<ZSet>(c, argv[1], "zset");
  if (z === null) return;
  const r = c.reply;
  if (z === undefined) {
    r.array(0);
    return;
  }
  const size = z.size;
  const uniq = l >= 0;
  let count = Math.abs(l);
  if (count === 0) {
    r.array(0);
    return;
  }
  const emit = (m: string, s: number) => {
    if (withscores && r.resp > 2) r.array(2);
    r.bulk(m);
    if (withscores) replyScore(c, s);
  };
  if (!uniq || count === 1) {
    r.array(withscores && r.resp === 2 ? count * 2 : count);
    while (count-- > 0) {
      const [m, s] = z.randomEntry();
      emit(m, s);
    }
    return;
  }
  const replySize = count < size ? count : size;
  r.array(withscores && r.resp === 2 ? replySize * 2 : replySize);
  if (count >= size) {
    // Everything, in the order Redis's zuiNext walks: from the highest entry down.
    z.forEach(emit, true);
    return;
  }
  if (count * SUB_STRATEGY_MUL > size) {
    // Copy everything, then drop random entries until `count` remain.
    const ms: string[] = [];
    const ss: number[] = [];
    z.forEach((m, s) => {
      ms.push(m);
      ss.push(s);
    }, true);
    let n = ms.length;
    while (n > count) {
      const i = Math.floor(Math.random() * n);
      n--;
      ms[i] = ms[n];
      ss[i] = ss[n];
    }
    for (let i = 0; i < count; i++) emit(ms[i], ss[i]);
    return;
  }
  if (z.isListpack) {
    // Redis's lpRandomPairsUnique: a random subset, in listpack order.
    let need = count;
    let i = 0;
    z.forEach((m, s) => {
      if (Math.random() * (size - i++) < need) {
        emit(m, s);
        need--;
      }
      return need === 0;
    });
    return;
  }
  const seen = new Set<string>();
  while (seen.size < count) {
    const [m, s] = z.randomEntry();
    if (seen.has(m)) continue;
    seen.add(m);
    emit(m, s);
  }
}

const LONG_HALF = 2n ** 62n;

function zrandmember(c: Client, argv: string[]): void {
  if (argv.length >= 3) {
    const l = parseBigInt64(argv[2]);
    if (l === null) {
      c.reply.error(ERR_NOT_INT);
      return;
    }
    let withscores = false;
    if (argv.length > 4 || (argv.length === 4 && !cis(argv[3], "withscores"))) {
      c.reply.error(ERR_SYNTAX);
      return;
    } else if (argv.length === 4) {
      withscores = true;
      if (l < -LONG_HALF || l > LONG_HALF - 1n) {
        c.reply.error("ERR value is out of range");
        return;
      }
    }
    zrandmemberWithCount(c, argv, Number(l), withscores);
    return;
  }
  const z = getCollection<ZSet>(c, argv[1], "zset");
  if (z === null) return;
  if (z === undefined) {
    c.reply.null();
    return;
  }
  c.reply.bulk(z.randomEntry()[0]);
}

// ---- ZUNION / ZINTER / ZDIFF -------------------------------------------------------------------

/** A set given to the zset algebra: Redis reads sets as zsets whose scores are all 1. */
type SetSource = SetValue;

interface Source {
  value: ZSet | SetSource | undefined;
  weight: number;
}

function srcLen(s: Source): number {
  return s.value === undefined ? 0 : s.value.size;
}

/** Walks a source as Redis's zuiNext does; `fn` returning true stops. */
function srcEach(s: Source, fn: (member: string, score: number) => boolean | void): void {
  const v = s.value;
  if (v === undefined) return;
  if (v instanceof ZSet) v.forEach(fn, true);
  else {
    for (const m of v.toArray()) if (fn(m, 1) === true) return;
  }
}

function srcFind(s: Source, member: string): number | undefined {
  const v = s.value;
  if (v === undefined) return undefined;
  if (v instanceof ZSet) return v.score(member);
  return v.has(member) ? 1 : undefined;
}

const AGG_SUM = 0;
const AGG_MIN = 1;
const AGG_MAX = 2;

function aggregate(target: number, val: number, agg: number): number {
  if (agg === AGG_SUM) {
    const t = target + val;
    // inf + -inf: Redis settles on 0 rather than store a NaN.
    return Number.isNaN(t) ? 0 : t;
  }
  if (agg === AGG_MIN) return val < target ? val : target;
  return val > target ? val : target;
}

type SetOp = "union" | "inter" | "diff";

/** Sorts a member -> score result into (score, member) order. */
function sortedResult(acc: Map<string, number>): RangeOut {
  const members = Array.from(acc.keys());
  members.sort((a, b) => {
    const sa = acc.get(a)!;
    const sb = acc.get(b)!;
    if (sa !== sb) return sa < sb ? -1 : 1;
    return a < b ? -1 : a > b ? 1 : 0;
  });
  return { members, scores: members.map((m) => acc.get(m)!) };
}

function zsetAlgebra(
  c: Client,
  argv: string[],
  dst: string | null,
  numkeysIdx: number,
  op: SetOp,
  cardinalityOnly: boolean,
): void {
  const setnum = intArg(c, argv[numkeysIdx]);
  if (setnum === null) return;
  if (setnum < 1) {
    const name = argv[0].toLowerCase();
    c.reply.error(`ERR at least 1 input key is needed for '${name}' command`);
    return;
  }
  if (setnum > argv.length - (numkeysIdx + 1)) {
    c.reply.error(ERR_SYNTAX);
    return;
  }
  const src: Source[] = [];
  let j = numkeysIdx + 1;
  for (let i = 0; i < setnum; i++, j++) {
    const v = lookupRead(c, argv[j]);
    if (v !== undefined && (typeof v === "string" || (v.type !== "zset" && v.type !== "set"))) {
      c.reply.error(ERR_WRONGTYPE);
      return;
    }
    src.push({ value: v as ZSet | SetSource | undefined, weight: 1 });
  }
  let agg = AGG_SUM;
  let withscores = false;
  let limit = 0;
  let remaining = argv.length - j;
  while (remaining > 0) {
    const o = argv[j];
    if (op !== "diff" && !cardinalityOnly && remaining >= setnum + 1 && cis(o, "weights")) {
      j++;
      remaining--;
      for (let i = 0; i < setnum; i++, j++, remaining--) {
        const w = parseScore(argv[j]);
        if (w === null) {
          c.reply.error("ERR weight value is not a float");
          return;
        }
        src[i].weight = w;
      }
    } else if (op !== "diff" && !cardinalityOnly && remaining >= 2 && cis(o, "aggregate")) {
      j++;
      remaining--;
      const a = argv[j];
      if (cis(a, "sum")) agg = AGG_SUM;
      else if (cis(a, "min")) agg = AGG_MIN;
      else if (cis(a, "max")) agg = AGG_MAX;
      else {
        c.reply.error(ERR_SYNTAX);
        return;
      }
      j++;
      remaining--;
    } else if (remaining >= 1 && dst === null && !cardinalityOnly && cis(o, "withscores")) {
      j++;
      remaining--;
      withscores = true;
    } else if (cardinalityOnly && remaining >= 2 && cis(o, "limit")) {
      j++;
      remaining--;
      const n = positiveLongArg(c, argv[j], "ERR LIMIT can't be negative");
      if (n === null) return;
      limit = Number(n);
      j++;
      remaining--;
    } else {
      c.reply.error(ERR_SYNTAX);
      return;
    }
  }
  // Smallest input first (a stable sort, like glibc's merge-sorting qsort).
  if (op !== "diff") src.sort((a, b) => srcLen(a) - srcLen(b));
  const acc = new Map<string, number>();
  let cardinality = 0;
  if (op === "inter") {
    const s0 = src[0];
    if (srcLen(s0) > 0) {
      const visit = (member: string, score0: number) => {
        let score = s0.weight * score0;
        if (Number.isNaN(score)) score = 0;
        let k = 1;
        for (; k < setnum; k++) {
          const sk = src[k];
          let value: number;
          if (sk.value === s0.value) {
            value = score0 * sk.weight;
          } else {
            const f = srcFind(sk, member);
            if (f === undefined) break;
            value = f * sk.weight;
          }
          score = aggregate(score, value, agg);
        }
        if (k === setnum) {
          if (cardinalityOnly) cardinality++;
          else acc.set(member, score);
        }
      };
      srcEach(s0, (m, s) => {
        visit(m, s);
        // ZINTERCARD's LIMIT ends the walk as soon as it is reached.
        return cardinalityOnly && limit > 0 && cardinality >= limit;
      });
    }
  } else if (op === "union") {
    for (const s of src) {
      if (srcLen(s) === 0) continue;
      srcEach(s, (member, score0) => {
        let score = s.weight * score0;
        if (Number.isNaN(score)) score = 0;
        const cur = acc.get(member);
        acc.set(member, cur === undefined ? score : aggregate(cur, score, agg));
      });
    }
  } else {
    const s0 = src[0];
    if (srcLen(s0) > 0) {
      srcEach(s0, (member, score) => {
        for (let k = 1; k < setnum; k++) {
          if (src[k].value === s0.value || srcFind(src[k], member) !== undefined) return;
        }
        acc.set(member, score);
      });
    }
  }
  if (cardinalityOnly) {
    c.reply.integer(cardinality);
    return;
  }
  const out = sortedResult(acc);
  if (dst !== null) {
    if (out.members.length > 0) {
      const z = ZSet.fromSorted(out.members, out.scores, zsetLimits(c.server));
      c.db.set(dst, z);
      c.reply.integer(z.size);
      c.server.notify("z", `z${op}store`, dst, c.db.id);
      dirty(c);
    } else {
      c.reply.integer(0);
      if (c.db.delete(dst)) {
        c.server.notify("g", "del", dst, c.db.id);
        dirty(c);
      }
    }
    return;
  }
  replyEntries(c, out, withscores);
}

// ---- ZSCAN ---------------------------------------------------------------------------------------

function zscan(c: Client, argv: string[]): void {
  const cursor = parseScanCursor(argv[2]);
  if (cursor === null) {
    c.reply.error("ERR invalid cursor");
    return;
  }
  const z = getCollection<ZSet>(c, argv[1], "zset");
  if (z === null) return;
  if (z === undefined) {
    c.reply.raw("*2\r\n$1\r\n0\r\n*0\r\n");
    return;
  }
  let count = 10;
  let pattern: string | null = null;
  for (let i = 3; i < argv.length;) {
    const left = argv.length - i;
    if (cis(argv[i], "count") && left >= 2) {
      const n = intArg(c, argv[i + 1]);
      if (n === null) return;
      if (n < 1) {
        c.reply.error(ERR_SYNTAX);
        return;
      }
      count = n;
      i += 2;
    } else if (cis(argv[i], "match") && left >= 2) {
      pattern = isMatchAll(argv[i + 1]) ? null : argv[i + 1];
      i += 2;
    } else {
      c.reply.error(ERR_SYNTAX);
      return;
    }
  }
  const items: string[] = [];
  let next = "0";
  const zs = z.zs;
  if (zs === null) {
    z.forEach((m, s) => {
      if (pattern === null || stringMatch(pattern, m, false)) items.push(m, lpScoreRepr(s));
    });
  } else {
    const step = scanStep(c.server.cursors, zs.dict, zs.dict, cursor, count);
    next = step.cursor;
    for (const [m, score] of step.items) {
      if (pattern !== null && !stringMatch(pattern, m, false)) continue;
      items.push(m, formatScore(score));
    }
  }
  c.reply.array(2);
  c.reply.bulk(next);
  c.reply.bulkArray(items);
}

// ---- the table ------------------------------------------------------------------------------------

export const zsetCommands: HandlerMap = {
  zadd(c, argv) {
    zaddGeneric(c, argv, 0);
  },
  zincrby(c, argv) {
    zaddGeneric(c, argv, ZADD_INCR);
  },
  zrem,
  zcard(c, argv) {
    const z = getCollection<ZSet>(c, argv[1], "zset");
    if (z === null) return;
    c.reply.integer(z === undefined ? 0 : z.size);
  },
  zscore(c, argv) {
    const z = getCollection<ZSet>(c, argv[1], "zset");
    if (z === null) return;
    const s = z === undefined ? undefined : z.score(argv[2]);
    if (s === undefined) c.reply.null();
    else replyScore(c, s);
  },
  zmscore(c, argv) {
    const z = getCollection<ZSet>(c, argv[1], "zset");
    if (z === null) return;
    c.reply.array(argv.length - 2);
    for (let j = 2; j < argv.length; j++) {
      const s = z === undefined ? undefined : z.score(argv[j]);
      if (s === undefined) c.reply.null();
      else replyScore(c, s);
    }
  },
  zrank(c, argv) {
    zrankGeneric(c, argv, false);
  },
  zrevrank(c, argv) {
    zrankGeneric(c, argv, true);
  },
  zcount,
  zlexcount,
  zrange(c, argv) {
    zrangeGeneric(c, argv, 1, null, "auto", "auto");
  },
  zrangestore(c, argv) {
    zrangeGeneric(c, argv, 2, argv[1], "auto", "auto");
  },
  zrevrange(c, argv) {
    zrangeGeneric(c, argv, 1, null, "rank", "rev");
  },
  zrangebyscore(c, argv) {
    zrangeGeneric(c, argv, 1, null, "score", "fwd");
  },
  zrevrangebyscore(c, argv) {
    zrangeGeneric(c, argv, 1, null, "score", "rev");
  },
  zrangebylex(c, argv) {
    zrangeGeneric(c, argv, 1, null, "lex", "fwd");
  },
  zrevrangebylex(c, argv) {
    zrangeGeneric(c, argv, 1, null, "lex", "rev");
  },
  zremrangebyrank(c, argv) {
    zremrangeGeneric(c, argv, "rank");
  },
  zremrangebyscore(c, argv) {
    zremrangeGeneric(c, argv, "score");
  },
  zremrangebylex(c, argv) {
    zremrangeGeneric(c, argv, "lex");
  },
  zpopmin(c, argv) {
    zpopMinMax(c, argv, false);
  },
  zpopmax(c, argv) {
    zpopMinMax(c, argv, true);
  },
  zmpop,
  bzpopmin(c, argv) {
    bzpopMinMax(c, argv, false);
  },
  bzpopmax(c, argv) {
    bzpopMinMax(c, argv, true);
  },
  bzmpop,
  zrandmember,
  zunion(c, argv) {
    zsetAlgebra(c, argv, null, 1, "union", false);
  },
  zinter(c, argv) {
    zsetAlgebra(c, argv, null, 1, "inter", false);
  },
  zdiff(c, argv) {
    zsetAlgebra(c, argv, null, 1, "diff", false);
  },
  zintercard(c, argv) {
    zsetAlgebra(c, argv, null, 1, "inter", true);
  },
  zunionstore(c, argv) {
    zsetAlgebra(c, argv, argv[1], 2, "union", false);
  },
  zinterstore(c, argv) {
    zsetAlgebra(c, argv, argv[1], 2, "inter", false);
  },
  zdiffstore(c, argv) {
    zsetAlgebra(c, argv, argv[1], 2, "diff", false);
  },
  zscan,
};
