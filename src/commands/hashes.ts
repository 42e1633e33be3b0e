/**
 * The hash commands (Redis 7.0's t_hash.c): HSET HSETNX HGET HMGET HMSET HDEL HLEN
 * HSTRLEN HEXISTS HKEYS HVALS HGETALL HINCRBY HINCRBYFLOAT HRANDFIELD HSCAN.
 *
 * Listpack-encoded hashes reply in insertion order, as Redis's do; so does HRANDFIELD
 * where Redis's order is deterministic (a count covering the whole hash) or follows the
 * listpack (a unique sample of a listpack hash comes out in listpack order).
 */
import type { HandlerMap } from "./registry.ts";
import type { Client } from "../server/client.ts";
import type { Server } from "../server/server.ts";
import { type HashLimits, HashValue } from "../types/hash.ts";
import { parseScanCursor, scanStep } from "../keyspace/scan.ts";
import { stringMatch } from "../util/glob.ts";
import {
  dirty,
  ERR_NOT_FLOAT,
  ERR_NOT_INT,
  ERR_OVERFLOW,
  ERR_SYNTAX,
  getCollection,
  inInt64,
  parseBigInt64,
  parseInt64,
  removeMembers,
} from "./common.ts";
import {
  addLongDouble,
  cis,
  formatLongDoubleHuman,
  type LongDouble,
  parseLongDouble,
} from "./strings.ts";
import {
  parseScanArgs,
  randomCountArg,
  replyCannotFit,
  replyEmptyScan,
  replyOverflowed,
} from "./sets.ts";
import { sampleIndexes } from "../util/sample.ts";

/** hash-max-listpack-entries / -value, cached per server and refreshed by CONFIG SET. */
const limitsCache = new WeakMap<Server, HashLimits>();

function hashLimits(c: Client): HashLimits {
  let l = limitsCache.get(c.server);
  if (!l) {
    const cfg = c.server.config;
    const entry: HashLimits = {
      entries: cfg.getInt("hash-max-listpack-entries"),
      value: cfg.getInt("hash-max-listpack-value"),
    };
    cfg.onChange("hash-max-listpack-entries", () => {
      entry.entries = cfg.getInt("hash-max-listpack-entries");
    });
    cfg.onChange("hash-max-listpack-value", () => {
      entry.value = cfg.getInt("hash-max-listpack-value");
    });
    limitsCache.set(c.server, entry);
    l = entry;
  }
  return l;
}

/** Whether the last lookupWriteOrCreate created the key (its keyspace hook already ran). */
let justCreated = false;

/** Redis's hashTypeLookupWriteOrCreate; null after a WRONGTYPE reply. */
function lookupWriteOrCreate(c: Client, key: string): HashValue | null {
  justCreated = false;
  const h = getCollection<HashValue>(c, key, "hash", true);
  if (h === null) return null;
  if (h !== undefined) return h;
  const created = new HashValue();
  c.db.set(key, created);
  justCreated = true;
  return created;
}

/** The keyspace hook before an in-place change of an existing hash. */
function touch(c: Client, key: string): void {
  if (!justCreated) c.db.touchWrite(key);
}

function hsetGeneric(c: Client, argv: string[], name: string): void {
  if (argv.length % 2 === 1) {
    c.reply.error(`ERR wrong number of arguments for '${name}' command`);
    return;
  }
  const key = argv[1];
  const h = lookupWriteOrCreate(c, key);
  if (h === null) return;
  const lim = hashLimits(c);
  touch(c, key);
  h.tryConversion(argv, 2, argv.length - 1, lim.value);
  let created = 0;
  for (let i = 2; i < argv.length; i += 2) {
    if (h.set(argv[i], argv[i + 1], lim)) created++;
  }
  if (name === "hset") c.reply.integer(created);
  else c.reply.ok();
  c.server.notify("h", "hset", key, c.db.id);
  dirty(c, (argv.length - 2) / 2);
}

function hsetnx(c: Client, argv: string[]): void {
  const key = argv[1];
  const h = lookupWriteOrCreate(c, key);
  if (h === null) return;
  if (h.has(argv[2])) {
    c.reply.integer(0);
    return;
  }
  const lim = hashLimits(c);
  touch(c, key);
  h.tryConversion(argv, 2, 3, lim.value);
  h.set(argv[2], argv[3], lim);
  c.reply.integer(1);
  c.server.notify("h", "hset", key, c.db.id);
  dirty(c);
}

function hget(c: Client, argv: string[]): void {
  const h = getCollection<HashValue>(c, argv[1], "hash");
  if (h === null) return;
  c.reply.bulkOrNull(h?.get(argv[2]));
}

function hmget(c: Client, argv: string[]): void {
  const h = getCollection<HashValue>(c, argv[1], "hash");
  if (h === null) return;
  c.reply.array(argv.length - 2);
  for (let i = 2; i < argv.length; i++) c.reply.bulkOrNull(h?.get(argv[i]));
}

function hdel(c: Client, argv: string[]): void {
  const key = argv[1];
  const h = getCollection<HashValue>(c, key, "hash", true);
  if (h === null) return;
  c.reply.integer(h === undefined ? 0 : removeMembers(c, key, h, argv, 2, "h", "hdel"));
}

function hlen(c: Client, argv: string[]): void {
  const h = getCollection<HashValue>(c, argv[1], "hash");
  if (h === null) return;
  c.reply.integer(h === undefined ? 0 : h.size);
}

function hstrlen(c: Client, argv: string[]): void {
  const h = getCollection<HashValue>(c, argv[1], "hash");
  if (h === null) return;
  c.reply.integer(h === undefined ? 0 : Math.max(0, h.valueLength(argv[2])));
}

function hexists(c: Client, argv: string[]): void {
  const h = getCollection<HashValue>(c, argv[1], "hash");
  if (h === null) return;
  c.reply.integer(h !== undefined && h.has(argv[2]) ? 1 : 0);
}

const KEYS = 1;
const VALUES = 2;

/** genericHgetallCommand: HKEYS, HVALS, HGETALL. */
function hgetallGeneric(c: Client, argv: string[], what: number): void {
  const h = getCollection<HashValue>(c, argv[1], "hash");
  if (h === null) return;
  const both = what === (KEYS | VALUES);
  const n = h === undefined ? 0 : h.size;
  if (both) c.reply.map(n);
  else c.reply.array(n);
  if (h === undefined) return;
  const r = c.reply;
  h.forEach((f, v) => {
    if (what & KEYS) r.bulk(f);
    if (what & VALUES) r.bulk(v);
  });
}

function hincrby(c: Client, argv: string[]): void {
  const incrText = argv[3];
  let incr: number | bigint | null = parseInt64(incrText);
  if (incr === null) incr = parseBigInt64(incrText);
  if (incr === null) {
    c.reply.error(ERR_NOT_INT);
    return;
  }
  const key = argv[1];
  const h = lookupWriteOrCreate(c, key);
  if (h === null) return;
  const cur = h.get(argv[2]);
  let value: number | bigint = 0;
  if (cur !== undefined) {
    const v = parseInt64(cur) ?? parseBigInt64(cur);
    if (v === null) {
      c.reply.error("ERR hash value is not an integer");
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
  touch(c, key);
  h.set(argv[2], String(next), hashLimits(c));
  c.reply.integer(next);
  c.server.notify("h", "hincrby", key, c.db.id);
  dirty(c);
}

const LD_ZERO: LongDouble = { neg: false, m: 0n, e: 0, inf: false };

function hincrbyfloat(c: Client, argv: string[]): void {
  const incr = parseLongDouble(argv[3]);
  if (incr === null) {
    c.reply.error(ERR_NOT_FLOAT);
    return;
  }
  if (incr.inf) {
    c.reply.error("ERR value is NaN or Infinity");
    return;
  }
  const key = argv[1];
  const h = lookupWriteOrCreate(c, key);
  if (h === null) return;
  const cur = h.get(argv[2]);
  let value = LD_ZERO;
  if (cur !== undefined) {
    const v = parseLongDouble(cur);
    if (v === null) {
      c.reply.error("ERR hash value is not a float");
      return;
    }
    value = v;
  }
  const sum = addLongDouble(value, incr);
  if (sum === null || sum.inf) {
    c.reply.error("ERR increment would produce NaN or Infinity");
    return;
  }
  const text = formatLongDoubleHuman(sum);
  touch(c, key);
  h.set(argv[2], text, hashLimits(c));
  c.reply.bulk(text);
  c.server.notify("h", "hincrbyfloat", key, c.db.id);
  dirty(c);
  // Replicas and the AOF get the result, never a float computation to redo.
  c.server.rewritePropagation(["HSET", key, argv[2], text]);
}

// ---- HRANDFIELD --------------------------------------------------------------------------

/** Redis's LONG_MAX / 2: the WITHVALUES count bound (the reply holds 2 per field). */
const HALF_LONG_MAX = (2n ** 63n - 1n) / 2n;
/** Redis's HRANDFIELD_SUB_STRATEGY_MUL. */
const HRANDFIELD_SUB_STRATEGY_MUL = 3;

function hrandfield(c: Client, argv: string[]): void {
  if (argv.length >= 3) {
    const l = randomCountArg(c, argv[2]);
    if (l === null) return;
    let withvalues = false;
    if (argv.length > 4 || (argv.length === 4 && !cis(argv[3], "withvalues"))) {
      c.reply.error(ERR_SYNTAX);
      return;
    } else if (argv.length === 4) {
      withvalues = true;
      if (l < -HALF_LONG_MAX || l > HALF_LONG_MAX) {
        c.reply.error("ERR value is out of range");
        return;
      }
    }
    hrandfieldWithCount(c, argv[1], l, withvalues);
    return;
  }
  const h = getCollection<HashValue>(c, argv[1], "hash");
  if (h === null) return;
  if (h === undefined) c.reply.null();
  else c.reply.bulk(h.randomPair()[0]);
}

function hrandfieldWithCount(c: Client, key: string, l: bigint, withvalues: boolean): void {
  const h = getCollection<HashValue>(c, key, "hash");
  if (h === null) return;
  if (h === undefined) {
    c.reply.array(0);
    return;
  }
  const uniq = l >= 0n;
  const count = Number(uniq ? l : -l);
  if (count === 0) {
    c.reply.array(0);
    return;
  }
  const r = c.reply;
  const resp3 = r.resp === 3;
  const pair = (f: string, v: string) => {
    if (withvalues && resp3) r.array(2);
    r.bulk(f);
    if (withvalues) r.bulk(v);
  };
  const size = h.size;

  // CASE 1: repeats allowed (or a single field): sample with replacement.
  if (!uniq || count === 1) {
    if (replyCannotFit(c, count, withvalues ? 12 : 6)) return;
    r.array(withvalues && !resp3 ? count * 2 : count);
    if (h.isListpack) {
      const flat = h.flat();
      for (let i = 0; i < count; i++) {
        const j = Math.floor(Math.random() * size) * 2;
        pair(flat[j], flat[j + 1]);
        if ((i & 1023) === 1023 && replyOverflowed(c)) return;
      }
    } else {
      for (let i = 0; i < count; i++) {
        const [f, v] = h.randomPair();
        pair(f, v);
        if ((i & 1023) === 1023 && replyOverflowed(c)) return;
      }
    }
    return;
  }

  const replySize = count < size ? count : size;
  r.array(withvalues && !resp3 ? replySize * 2 : replySize);

  // CASE 2: the whole hash, in hash order.
  if (count >= size) {
    h.forEach(pair);
    return;
  }

  // CASE 3, and CASE 4 on a hashtable: distinct random fields in no particular order
  // (Redis replies them from a temporary dict). O(count) on a hashtable.
  if (!h.isListpack) {
    for (const [f, v] of h.distinctRandomPairs(count)!) pair(f, v);
    return;
  }
  const flat = h.flat();
  if (count * HRANDFIELD_SUB_STRATEGY_MUL <= size) {
    // CASE 4 on a listpack: Redis's lpRandomPairsUnique, a selection sample that keeps
    // listpack order.
    let remaining = count;
    for (let i = 0; i < size && remaining > 0; i++) {
      if (Math.random() * (size - i) < remaining) {
        pair(flat[2 * i], flat[2 * i + 1]);
        remaining--;
      }
    }
    return;
  }
  for (const i of sampleIndexes(size, count)) pair(flat[2 * i], flat[2 * i + 1]);
}

// ---- HSCAN ---------------------------------------------------------------------------------

function hscan(c: Client, argv: string[]): void {
  const cursor = parseScanCursor(argv[2]);
  if (cursor === null) {
    c.reply.error("ERR invalid cursor");
    return;
  }
  const h = getCollection<HashValue>(c, argv[1], "hash");
  if (h === null) return;
  if (h === undefined) {
    replyEmptyScan(c);
    return;
  }
  const opts = parseScanArgs(c, argv);
  if (opts === null) return;
  const src = h.scanSource();
  let next = "0";
  const out: string[] = [];
  const pattern = opts.pattern;
  if (src === null) {
    h.forEach((f, v) => {
      if (pattern === null || stringMatch(pattern, f, false)) out.push(f, v);
    });
  } else {
    const step = scanStep(c.server.cursors, src.keys(), src, cursor, opts.count);
    next = step.cursor;
    for (const f of step.items) {
      if (pattern !== null && !stringMatch(pattern, f, false)) continue;
      out.push(f, h.get(f)!);
    }
  }
  c.reply.array(2);
  c.reply.bulk(next);
  c.reply.bulkArray(out);
}

export const hashCommands: HandlerMap = {
  hset(c, argv) {
    hsetGeneric(c, argv, "hset");
  },
  hmset(c, argv) {
    hsetGeneric(c, argv, "hmset");
  },
  hsetnx,
  hget,
  hmget,
  hdel,
  hlen,
  hstrlen,
  hexists,
  hkeys(c, argv) {
    hgetallGeneric(c, argv, KEYS);
  },
  hvals(c, argv) {
    hgetallGeneric(c, argv, VALUES);
  },
  hgetall(c, argv) {
    hgetallGeneric(c, argv, KEYS | VALUES);
  },
  hincrby,
  hincrbyfloat,
  hrandfield,
  hscan,
};
