/**
 * The set commands (Redis 7.0's t_set.c): SADD SREM SMEMBERS SISMEMBER SMISMEMBER SCARD
 * SPOP SRANDMEMBER SMOVE SINTER SINTERCARD SINTERSTORE SUNION SUNIONSTORE SDIFF
 * SDIFFSTORE SSCAN, plus the helpers the collection scans and random-count commands
 * share (HSCAN and HRANDFIELD use them too).
 *
 * Where Redis's reply order is deterministic it is reproduced: intsets iterate in
 * ascending order, and the temporary sets SUNION/SDIFF/SPOP build go through the same
 * intset -> hashtable conversions as in Redis, so an all-integer result comes out
 * sorted exactly when Redis's does. Hashtable order is Redis's hash order, which no
 * client can rely on (it changes with Redis's random hash seed).
 */
import type { HandlerMap } from "./registry.ts";
import type { Client } from "../server/client.ts";
import type { Server } from "../server/server.ts";
import { SetValue } from "../types/set.ts";
import { parseScanCursor, scanStep } from "../keyspace/scan.ts";
import { isMatchAll, stringMatch } from "../util/glob.ts";
import {
  dirty,
  ERR_NOT_INT,
  ERR_SYNTAX,
  ERR_WRONGTYPE,
  getCollection,
  LONG_MAX,
  parseBigInt64,
  positiveLongArg,
  rangeLongArg,
  removeMembers,
} from "./common.ts";
import { cis } from "./strings.ts";
import { sampleIndexes } from "../util/sample.ts";

// ---- helpers shared with the other collection families --------------------------------

/** SRANDMEMBER / HRANDFIELD count: -LONG_MAX..LONG_MAX. */
export function randomCountArg(c: Client, s: string): bigint | null {
  return rangeLongArg(c, s, -LONG_MAX, LONG_MAX);
}

/**
 * Past this many pending reply bytes a reply is abandoned and the client dropped, as
 * Redis does when a client overcomes its output buffer limits (a huge negative
 * SRANDMEMBER/HRANDFIELD count would otherwise grow the reply without bound).
 */
const MAX_PENDING_REPLY = 1 << 28;

function closeForOverflow(c: Client): void {
  c.server.logger.warning(
    `Client id=${c.id} addr=${c.addr} scheduled to be closed ASAP for overcoming of output buffer limits.`,
  );
  c.reply.clear();
  c.server.closeAfterReply(c);
}

/** True (and the client is being closed) when the reply being built is too large. */
export function replyOverflowed(c: Client): boolean {
  if (c.reply.len <= MAX_PENDING_REPLY) return false;
  closeForOverflow(c);
  return true;
}

/**
 * True (and the client is being closed) when `count` replies of at least `minBytes`
 * each cannot fit: such a reply is refused before any of it is built.
 */
export function replyCannotFit(c: Client, count: number, minBytes: number): boolean {
  if (count * minBytes <= MAX_PENDING_REPLY) return false;
  closeForOverflow(c);
  return true;
}

/** Options of a collection scan (HSCAN/SSCAN/ZSCAN): COUNT and MATCH. */
export interface ScanArgs {
  count: number;
  /** null when every element matches. */
  pattern: string | null;
}

/**
 * scanGenericCommand's option parsing for a key's collection (TYPE is SCAN-only, so a
 * syntax error here). Replies the error and returns null on failure.
 */
export function parseScanArgs(c: Client, argv: string[], from = 3): ScanArgs | null {
  let count = 10;
  let pattern: string | null = null;
  for (let i = from; i < argv.length;) {
    const left = argv.length - i;
    if (cis(argv[i], "count") && left >= 2) {
      const n = parseBigInt64(argv[i + 1]);
      if (n === null) {
        c.reply.error(ERR_NOT_INT);
        return null;
      }
      if (n < 1n) {
        c.reply.error(ERR_SYNTAX);
        return null;
      }
      count = Number(n);
      i += 2;
    } else if (cis(argv[i], "match") && left >= 2) {
      pattern = isMatchAll(argv[i + 1]) ? null : argv[i + 1];
      i += 2;
    } else {
      c.reply.error(ERR_SYNTAX);
      return null;
    }
  }
  return { count, pattern };
}

/** The reply to a scan of a missing key (shared.emptyscan). */
export function replyEmptyScan(c: Client): void {
  c.reply.raw("*2\r\n$1\r\n0\r\n*0\r\n");
}

// ---- config ------------------------------------------------------------------------------

/** set-max-intset-entries, cached per server and refreshed by CONFIG SET. */
const intsetMaxCache = new WeakMap<Server, { max: number }>();

function intsetMax(c: Client): number {
  let e = intsetMaxCache.get(c.server);
  if (!e) {
    const cfg = c.server.config;
    const entry = { max: cfg.getInt("set-max-intset-entries") };
    cfg.onChange("set-max-intset-entries", () => {
      entry.max = cfg.getInt("set-max-intset-entries");
    });
    intsetMaxCache.set(c.server, entry);
    e = entry;
  }
  return e.max;
}

// ---- single-key commands -----------------------------------------------------------------

function sadd(c: Client, argv: string[]): void {
  const key = argv[1];
  let s = getCollection<SetValue>(c, key, "set", true);
  if (s === null) return;
  const max = intsetMax(c);
  let touched = false;
  if (s === undefined) {
    s = SetValue.create(argv[2]);
    c.db.set(key, s);
    touched = true;
  }
  let added = 0;
  for (let j = 2; j < argv.length; j++) {
    // The keyspace hook runs before the first real change only: a no-op SADD is no
    // modification (WATCH stays valid, as in Redis).
    if (!touched) {
      if (s.has(argv[j])) continue;
      c.db.touchWrite(key);
      touched = true;
    }
    if (s.add(argv[j], max)) added++;
  }
  if (added) c.server.notify("s", "sadd", key, c.db.id);
  dirty(c, added);
  c.reply.integer(added);
}

function srem(c: Client, argv: string[]): void {
  const key = argv[1];
  const s = getCollection<SetValue>(c, key, "set", true);
  if (s === null) return;
  c.reply.integer(s === undefined ? 0 : removeMembers(c, key, s, argv, 2, "s", "srem"));
}

function isSet(v: unknown): v is SetValue {
  return v instanceof SetValue;
}

function smove(c: Client, argv: string[]): void {
  const [, srckey, dstkey, ele] = argv;
  const src = c.db.lookupWrite(srckey);
  const dst = c.db.lookupWrite(dstkey);
  if (src === undefined) {
    c.reply.integer(0);
    return;
  }
  if (!isSet(src) || (dst !== undefined && !isSet(dst))) {
    c.reply.error(ERR_WRONGTYPE);
    return;
  }
  if (src === dst) {
    c.reply.integer(src.has(ele) ? 1 : 0);
    return;
  }
  if (!src.has(ele)) {
    c.reply.integer(0);
    return;
  }
  c.db.touchWrite(srckey);
  src.delete(ele);
  c.server.notify("s", "srem", srckey, c.db.id);
  if (src.size === 0) {
    c.db.delete(srckey);
    c.server.notify("g", "del", srckey, c.db.id);
  }
  let dstset = dst as SetValue | undefined;
  if (dstset === undefined) {
    dstset = SetValue.create(ele);
    c.db.set(dstkey, dstset);
  }
  dirty(c);
  if (!dstset.has(ele)) {
    c.db.touchWrite(dstkey);
    dstset.add(ele, intsetMax(c));
    dirty(c);
    c.server.notify("s", "sadd", dstkey, c.db.id);
  }
  c.reply.integer(1);
}

function sismember(c: Client, argv: string[]): void {
  const s = getCollection<SetValue>(c, argv[1], "set");
  if (s === null) return;
  c.reply.integer(s !== undefined && s.has(argv[2]) ? 1 : 0);
}

function smismember(c: Client, argv: string[]): void {
  const s = getCollection<SetValue>(c, argv[1], "set");
  if (s === null) return;
  c.reply.array(argv.length - 2);
  for (let j = 2; j < argv.length; j++) {
    c.reply.integer(s !== undefined && s.has(argv[j]) ? 1 : 0);
  }
}

function scard(c: Client, argv: string[]): void {
  const s = getCollection<SetValue>(c, argv[1], "set");
  if (s === null) return;
  c.reply.integer(s === undefined ? 0 : s.size);
}

// ---- SPOP / SRANDMEMBER ----------------------------------------------------------------

/** Redis's SPOP_MOVE_STRATEGY_MUL. */
const SPOP_MOVE_STRATEGY_MUL = 5;

/** The members as SUNION of the one set would reply them (through a temporary set). */
function unionOfOne(c: Client, s: SetValue): SetValue {
  const tmp = SetValue.intset();
  const max = intsetMax(c);
  s.forEach((m) => tmp.add(m, max));
  return tmp;
}

function replySetMembers(c: Client, s: SetValue): void {
  c.reply.set(s.size);
  s.forEach((m) => c.reply.bulk(m));
}

function spop(c: Client, argv: string[]): void {
  if (argv.length === 3) {
    spopWithCount(c, argv);
    return;
  }
  if (argv.length > 3) {
    c.reply.error(ERR_SYNTAX);
    return;
  }
  const key = argv[1];
  const s = getCollection<SetValue>(c, key, "set", true);
  if (s === null) return;
  if (s === undefined) {
    c.reply.null();
    return;
  }
  const ele = s.random();
  c.db.touchWrite(key);
  s.delete(ele);
  c.server.notify("s", "spop", key, c.db.id);
  c.server.rewritePropagation(["SREM", key, ele]);
  c.reply.bulk(ele);
  if (s.size === 0) {
    c.db.delete(key);
    c.server.notify("g", "del", key, c.db.id);
  }
  dirty(c);
}

function spopWithCount(c: Client, argv: string[]): void {
  const l = positiveLongArg(c, argv[2]);
  if (l === null) return;
  const key = argv[1];
  const s = getCollection<SetValue>(c, key, "set", true);
  if (s === null) return;
  if (s === undefined || l === 0n) {
    c.reply.set(0);
    return;
  }
  const size = s.size;
  const count = l >= BigInt(size) ? size : Number(l);
  c.server.notify("s", "spop", key, c.db.id);
  dirty(c, count);

  // CASE 1: the whole set, replied as SUNION would, then the key is gone (one DEL).
  if (count >= size) {
    // Redis replies through SUNION of the key, whose read lookup counts a hit.
    c.server.stats.keyspaceHits++;
    replySetMembers(c, unionOfOne(c, s));
    c.db.delete(key);
    c.server.notify("g", "del", key, c.db.id);
    c.server.rewritePropagation(["DEL", key]);
    return;
  }

  const db = c.db.id;
  c.reply.set(count);
  c.db.touchWrite(key);
  let remaining = size - count;
  if (remaining * SPOP_MOVE_STRATEGY_MUL > count) {
    // CASE 2: few elements: pop them one by one.
    for (let i = 0; i < count; i++) {
      const ele = s.random();
      c.reply.bulk(ele);
      s.delete(ele);
      c.server.alsoPropagate(db, ["SREM", key, ele]);
    }
  } else {
    // CASE 3: most elements: move the survivors to a new set, reply the rest.
    const max = intsetMax(c);
    let newset: SetValue | null = null;
    while (remaining-- > 0) {
      const ele = s.random();
      if (newset === null) newset = SetValue.create(ele);
      newset.add(ele, max);
      s.delete(ele);
    }
    s.forEach((ele) => {
      c.reply.bulk(ele);
      c.server.alsoPropagate(db, ["SREM", key, ele]);
    });
    c.db.set(key, newset!, true);
  }
  c.server.preventPropagation();
}

function srandmember(c: Client, argv: string[]): void {
  if (argv.length === 3) {
    srandmemberWithCount(c, argv);
    return;
  }
  if (argv.length > 3) {
    c.reply.error(ERR_SYNTAX);
    return;
  }
  const s = getCollection<SetValue>(c, argv[1], "set");
  if (s === null) return;
  if (s === undefined) c.reply.null();
  else c.reply.bulk(s.random());
}

function srandmemberWithCount(c: Client, argv: string[]): void {
  const l = randomCountArg(c, argv[2]);
  if (l === null) return;
  const uniq = l >= 0n;
  const count = Number(uniq ? l : -l);
  const s = getCollection<SetValue>(c, argv[1], "set");
  if (s === null) return;
  if (s === undefined || count === 0) {
    c.reply.array(0);
    return;
  }
  const size = s.size;
  // CASE 1: repeats allowed (or a single element): sample with replacement.
  if (!uniq || count === 1) {
    // The smallest element reply is "$0\r\n\r\n".
    if (replyCannotFit(c, count, 6)) return;
    c.reply.array(count);
    for (let i = 0; i < count; i++) {
      c.reply.bulk(s.random());
      if ((i & 1023) === 1023 && replyOverflowed(c)) return;
    }
    return;
  }
  // CASE 2: the whole set, in set order.
  if (count >= size) {
    c.reply.array(size);
    s.forEach((m) => c.reply.bulk(m));
    return;
  }
  // CASE 3 and 4: distinct random members (Redis replies them in a temporary dict's
  // order, i.e. no particular order).
  c.reply.array(count);
  const members = s.distinctRandom(count);
  if (members !== null) { for (const m of members) c.reply.bulk(m); }
  else for (const i of sampleIndexes(size, count)) c.reply.bulk(s.at(i));
}

// ---- SINTER / SUNION / SDIFF -------------------------------------------------------------

/** sinterGenericCommand: SINTER, SMEMBERS, SINTERSTORE, SINTERCARD. */
function sinterGeneric(
  c: Client,
  keys: string[],
  dstkey: string | null,
  cardOnly: boolean,
  limit: number,
): void {
  const sets: SetValue[] = [];
  let empty = 0;
  for (const k of keys) {
    const s = getCollection<SetValue>(c, k, "set");
    if (s === null) return;
    if (s === undefined) empty++;
    else sets.push(s);
  }
  if (empty > 0) {
    if (dstkey !== null) {
      if (c.db.delete(dstkey)) {
        c.server.notify("g", "del", dstkey, c.db.id);
        dirty(c);
      }
      c.reply.integer(0);
    } else if (cardOnly) {
      c.reply.integer(0);
    } else {
      c.reply.set(0);
    }
    return;
  }
  // Smallest first (a stable sort, as glibc's qsort is in practice).
  sets.sort((a, b) => a.size - b.size);
  const first = sets[0];
  const out: string[] = [];
  const dstset = dstkey !== null ? SetValue.intset() : null;
  const max = dstset ? intsetMax(c) : 0;
  let cardinality = 0;
  for (const ele of first) {
    let j = 1;
    for (; j < sets.length; j++) {
      if (sets[j] === first) continue;
      if (!sets[j].has(ele)) break;
    }
    if (j !== sets.length) continue;
    if (cardOnly) {
      cardinality++;
      if (limit && cardinality >= limit) break;
    } else if (dstset === null) {
      out.push(ele);
    } else {
      dstset.add(ele, max);
    }
  }
  if (cardOnly) {
    c.reply.integer(cardinality);
  } else if (dstset !== null) {
    storeResult(c, dstkey!, dstset, "sinterstore");
  } else {
    c.reply.set(out.length);
    for (const m of out) c.reply.bulk(m);
  }
}

/** Stores a SINTERSTORE/SUNIONSTORE/SDIFFSTORE result (or deletes the destination). */
function storeResult(c: Client, dstkey: string, dstset: SetValue, event: string): void {
  const size = dstset.size;
  if (size > 0) {
    c.db.set(dstkey, dstset);
    c.reply.integer(size);
    c.server.notify("s", event, dstkey, c.db.id);
    dirty(c);
  } else {
    c.reply.integer(0);
    if (c.db.delete(dstkey)) {
      dirty(c);
      c.server.notify("g", "del", dstkey, c.db.id);
    }
  }
}

const SET_OP_UNION = 0;
const SET_OP_DIFF = 1;

/** sunionDiffGenericCommand: SUNION, SUNIONSTORE, SDIFF, SDIFFSTORE. */
function sunionDiffGeneric(c: Client, keys: string[], dstkey: string | null, op: number): void {
  const sets: (SetValue | null)[] = [];
  let sameset = false;
  for (let j = 0; j < keys.length; j++) {
    const s = getCollection<SetValue>(c, keys[j], "set");
    if (s === null) return;
    sets.push(s ?? null);
    if (j > 0 && sets[0] === sets[j]) sameset = true;
  }
  const setnum = sets.length;
  let diffAlgo = 1;
  if (op === SET_OP_DIFF && sets[0] !== null && !sameset) {
    let one = 0;
    let two = 0;
    for (const s of sets) {
      if (s === null) continue;
      one += sets[0].size;
      two += s.size;
    }
    one = Math.floor(one / 2);
    diffAlgo = one <= two ? 1 : 2;
    if (diffAlgo === 1 && setnum > 1) {
      const rest = sets.slice(1).sort((a, b) => (b?.size ?? 0) - (a?.size ?? 0));
      for (let j = 1; j < setnum; j++) sets[j] = rest[j - 1];
    }
  }
  const max = intsetMax(c);
  const dstset = SetValue.intset();
  if (op === SET_OP_UNION) {
    for (const s of sets) {
      if (s === null) continue;
      s.forEach((m) => dstset.add(m, max));
    }
  } else if (sameset) {
    // A later key is the first set itself: the difference is empty.
  } else if (sets[0] !== null && diffAlgo === 1) {
    const first = sets[0];
    first.forEach((ele) => {
      let j = 1;
      for (; j < setnum; j++) {
        const s = sets[j];
        if (s === null) continue;
        if (s === first) break;
        if (s.has(ele)) break;
      }
      if (j === setnum) dstset.add(ele, max);
    });
  } else if (sets[0] !== null) {
    let cardinality = 0;
    for (let j = 0; j < setnum; j++) {
      const s = sets[j];
      if (s === null) continue;
      s.forEach((ele) => {
        if (j === 0) {
          if (dstset.add(ele, max)) cardinality++;
        } else if (dstset.delete(ele)) {
          cardinality--;
        }
      });
      if (cardinality === 0) break;
    }
  }
  if (dstkey === null) replySetMembers(c, dstset);
  else storeResult(c, dstkey, dstset, op === SET_OP_UNION ? "sunionstore" : "sdiffstore");
}

function sintercard(c: Client, argv: string[]): void {
  const nk = rangeLongArg(c, argv[1], 1n, LONG_MAX, "ERR numkeys should be greater than 0");
  if (nk === null) return;
  if (nk > BigInt(argv.length - 2)) {
    c.reply.error("ERR Number of keys can't be greater than number of args");
    return;
  }
  const numkeys = Number(nk);
  let limit = 0;
  for (let j = 2 + numkeys; j < argv.length; j++) {
    const more = argv.length - 1 - j;
    if (cis(argv[j], "limit") && more > 0) {
      j++;
      const l = positiveLongArg(c, argv[j], "ERR LIMIT can't be negative");
      if (l === null) return;
      limit = Number(l);
    } else {
      c.reply.error(ERR_SYNTAX);
      return;
    }
  }
  sinterGeneric(c, argv.slice(2, 2 + numkeys), null, true, limit);
}

function sscan(c: Client, argv: string[]): void {
  const cursor = parseScanCursor(argv[2]);
  if (cursor === null) {
    c.reply.error("ERR invalid cursor");
    return;
  }
  const s = getCollection<SetValue>(c, argv[1], "set");
  if (s === null) return;
  if (s === undefined) {
    replyEmptyScan(c);
    return;
  }
  const opts = parseScanArgs(c, argv);
  if (opts === null) return;
  const src = s.scanSource();
  let next = "0";
  let items: string[];
  if (src === null) {
    items = s.toArray();
  } else {
    const step = scanStep(c.server.cursors, src.keys(), src, cursor, opts.count);
    next = step.cursor;
    items = step.items;
  }
  const pattern = opts.pattern;
  if (pattern !== null) items = items.filter((m) => stringMatch(pattern, m, false));
  c.reply.array(2);
  c.reply.bulk(next);
  c.reply.bulkArray(items);
}

export const setCommands: HandlerMap = {
  sadd,
  srem,
  smove,
  sismember,
  smismember,
  scard,
  spop,
  srandmember,
  smembers(c, argv) {
    sinterGeneric(c, argv.slice(1), null, false, 0);
  },
  sinter(c, argv) {
    sinterGeneric(c, argv.slice(1), null, false, 0);
  },
  sintercard,
  sinterstore(c, argv) {
    sinterGeneric(c, argv.slice(2), argv[1], false, 0);
  },
  sunion(c, argv) {
    sunionDiffGeneric(c, argv.slice(1), null, SET_OP_UNION);
  },
  sunionstore(c, argv) {
    sunionDiffGeneric(c, argv.slice(2), argv[1], SET_OP_UNION);
  },
  sdiff(c, argv) {
    sunionDiffGeneric(c, argv.slice(1), null, SET_OP_DIFF);
  },
  sdiffstore(c, argv) {
    sunionDiffGeneric(c, argv.slice(2), argv[1], SET_OP_DIFF);
  },
  sscan,
};
