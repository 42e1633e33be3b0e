/**
 * The generic keyspace commands (Redis's db.c / object.c parts): DEL, UNLINK, EXISTS,
 * TYPE, KEYS, SCAN, RANDOMKEY, RENAME, RENAMENX, MOVE, COPY, TOUCH and OBJECT.
 *
 * Expired keys are never shown: lookups go through the Database (lazy expiry), and the
 * walks (KEYS, SCAN, RANDOMKEY) skip or reclaim keys whose TTL has passed.
 */
import type { HandlerMap } from "./registry.ts";
import type { Client } from "../server/client.ts";
import type { Server } from "../server/server.ts";
import type { Database } from "../keyspace/db.ts";
import { type Collection, typeName, type Value } from "../types/value.ts";
import { parseScanCursor, scanStep } from "../keyspace/scan.ts";
import { isMatchAll, stringMatch } from "../util/glob.ts";
import {
  dirty,
  ERR_DB_INDEX,
  ERR_NO_KEY,
  ERR_NOT_INT,
  ERR_SYNTAX,
  lookupRead,
  parseBigInt64,
} from "./common.ts";
import {
  cis,
  copiedStringMark,
  cstr,
  markStringEncoding,
  stringEncodingMark,
  stringObjectInfo,
} from "./strings.ts";

const ERR_SAME_OBJECT = "ERR source and destination objects are the same";

/** True when `key` has a TTL that has passed (Redis's keyIsExpired: now > when), without deleting. */
function isExpired(server: Server, db: Database, key: string, now: number): boolean {
  const when = db.expires.get(key);
  return when !== undefined && !server.expiryPaused && when < now;
}

/** Redis's lookupKeyReadWithFlags(LOOKUP_NOTOUCH): no LRU touch, but hit/miss stats. */
function peekCounted(c: Client, key: string): Value | undefined {
  const v = c.db.peek(key);
  if (v === undefined) c.server.stats.keyspaceMisses++;
  else c.server.stats.keyspaceHits++;
  return v;
}

/** Redis's getIntFromObjectOrReply: a 32-bit signed integer, with its range error. */
function int32Arg(c: Client, s: string): number | null {
  const v = parseBigInt64(s);
  if (v === null) {
    c.reply.error(ERR_NOT_INT);
    return null;
  }
  if (v < -2147483648n || v > 2147483647n) {
    c.reply.error("ERR value is out of range, value must between -2147483648 and 2147483647");
    return null;
  }
  return Number(v);
}

function delGeneric(c: Client, argv: string[]): void {
  let n = 0;
  for (let j = 1; j < argv.length; j++) {
    if (c.db.delete(argv[j])) {
      c.server.notify("g", "del", argv[j], c.db.id);
      dirty(c);
      n++;
    }
  }
  c.reply.integer(n);
}

function keys(c: Client, argv: string[]): void {
  const pattern = argv[1];
  const all = isMatchAll(pattern);
  const now = c.server.now();
  const db = c.db;
  const out: string[] = [];
  const checkTtl = db.expires.size !== 0;
  for (const key of db.dict.keys()) {
    if (!all && !stringMatch(pattern, key, false)) continue;
    if (checkTtl && isExpired(c.server, db, key, now)) continue;
    out.push(key);
  }
  c.reply.bulkArray(out);
}

function scan(c: Client, argv: string[]): void {
  const cursor = parseScanCursor(argv[1]);
  if (cursor === null) {
    c.reply.error("ERR invalid cursor");
    return;
  }
  let count = 10;
  let pattern: string | null = null;
  let type: string | null = null;
  for (let i = 2; i < argv.length;) {
    const left = argv.length - i;
    if (cis(argv[i], "count") && left >= 2) {
      const n = parseBigInt64(argv[i + 1]);
      if (n === null) {
        c.reply.error(ERR_NOT_INT);
        return;
      }
      if (n < 1n) {
        c.reply.error(ERR_SYNTAX);
        return;
      }
      count = Number(n);
      i += 2;
    } else if (cis(argv[i], "match") && left >= 2) {
      pattern = isMatchAll(argv[i + 1]) ? null : argv[i + 1];
      i += 2;
    } else if (cis(argv[i], "type") && left >= 2) {
      type = cstr(argv[i + 1]).toLowerCase();
      i += 2;
    } else {
      c.reply.error(ERR_SYNTAX);
      return;
    }
  }
  const db = c.db;
  const step = scanStep(c.server.cursors, db.dict.keys(), db.dict, cursor, count);
  const out: string[] = [];
  for (const key of step.items) {
    if (pattern !== null && !stringMatch(pattern, key, false)) continue;
    if (type !== null) {
      const v = peekCounted(c, key);
      if (v === undefined || typeName(v) !== type) continue;
    }
    if (db.expireIfNeeded(key) || !db.dict.has(key)) continue;
    out.push(key);
  }
  c.reply.array(2);
  c.reply.bulk(step.cursor);
  c.reply.bulkArray(out);
}

// ---- RANDOMKEY ------------------------------------------------------------------------

/** Redis's dbRandomKey: a uniformly drawn key, retried while the draw has expired. */
function randomKey(db: Database): string | undefined {
  while (true) {
    const key = db.dict.randomKey();
    if (key === undefined) return undefined;
    if (db.expireIfNeeded(key)) continue;
    return key;
  }
}

// ---- RENAME / MOVE / COPY ----------------------------------------------------------------

function renameGeneric(c: Client, argv: string[], nx: boolean): void {
  const src = argv[1];
  const dst = argv[2];
  const db = c.db;
  const o = db.lookupWrite(src);
  if (o === undefined) {
    c.reply.error(ERR_NO_KEY);
    return;
  }
  if (src === dst) {
    if (nx) c.reply.integer(0);
    else c.reply.ok();
    return;
  }
  const expire = db.getExpire(src);
  const mark = stringEncodingMark(db, src);
  if (db.lookupWrite(dst) !== undefined) {
    if (nx) {
      c.reply.integer(0);
      return;
    }
    db.delete(dst);
  }
  db.set(dst, o);
  if (expire !== undefined) db.setExpire(dst, expire);
  db.delete(src);
  markStringEncoding(c.server, db, dst, mark);
  c.server.notify("g", "rename_from", src, db.id);
  c.server.notify("g", "rename_to", dst, db.id);
  dirty(c);
  if (nx) c.reply.integer(1);
  else c.reply.ok();
}

function move(c: Client, argv: string[]): void {
  const key = argv[1];
  const id = int32Arg(c, argv[2]);
  if (id === null) return;
  if (id < 0 || id >= c.server.dbs.length) {
    c.reply.error(ERR_DB_INDEX);
    return;
  }
  const src = c.db;
  const dst = c.server.dbs[id];
  if (src === dst) {
    c.reply.error(ERR_SAME_OBJECT);
    return;
  }
  const o = src.lookupWrite(key);
  if (o === undefined) {
    c.reply.integer(0);
    return;
  }
  const expire = src.getExpire(key);
  if (dst.lookupWrite(key) !== undefined) {
    c.reply.integer(0);
    return;
  }
  const mark = stringEncodingMark(src, key);
  dst.set(key, o);
  if (expire !== undefined) dst.setExpire(key, expire);
  src.delete(key);
  markStringEncoding(c.server, dst, key, mark);
  c.server.notify("g", "move_from", key, src.id);
  c.server.notify("g", "move_to", key, dst.id);
  dirty(c);
  c.reply.integer(1);
}

function copy(c: Client, argv: string[]): void {
  const src = c.db;
  let dst = c.db;
  let replace = false;
  for (let j = 3; j < argv.length; j++) {
    const additional = argv.length - j - 1;
    if (cis(argv[j], "replace")) {
      replace = true;
    } else if (cis(argv[j], "db") && additional >= 1) {
      const id = int32Arg(c, argv[j + 1]);
      if (id === null) return;
      if (id < 0 || id >= c.server.dbs.length) {
        c.reply.error(ERR_DB_INDEX);
        return;
      }
      dst = c.server.dbs[id];
      j++;
    } else {
      c.reply.error(ERR_SYNTAX);
      return;
    }
  }
  const key = argv[1];
  const newkey = argv[2];
  if (src === dst && key === newkey) {
    c.reply.error(ERR_SAME_OBJECT);
    return;
  }
  const o = lookupRead(c, key);
  if (o === undefined) {
    c.reply.integer(0);
    return;
  }
  const expire = src.getExpire(key);
  let del = false;
  if (dst.lookupWrite(newkey) !== undefined) {
    if (!replace) {
      c.reply.integer(0);
      return;
    }
    del = true;
  }
  let copyValue: Value;
  let mark;
  if (typeof o === "string") {
    copyValue = o;
    mark = copiedStringMark(c.server, src, key, o);
  } else {
    // Collections deep-copy themselves (Redis's listTypeDup, setTypeDup, ...).
    const dup = (o as Collection & { clone?: () => Value }).clone;
    if (typeof dup !== "function") {
      c.reply.error("ERR unknown type object");
      return;
    }
    copyValue = dup.call(o);
  }
  if (del) dst.delete(newkey);
  dst.set(newkey, copyValue);
  if (expire !== undefined) dst.setExpire(newkey, expire);
  markStringEncoding(c.server, dst, newkey, mark);
  c.server.notify("g", "copy_to", newkey, dst.id);
  dirty(c);
  c.reply.integer(1);
}

// ---- OBJECT ------------------------------------------------------------------------------

const OBJECT_HELP = [
  "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "ENCODING <key>",
  "    Return the kind of internal representation used in order to store the value",
  "    associated with a <key>.",
  "FREQ <key>",
  "    Return the access frequency index of the <key>. The returned integer is",
  "    proportional to the logarithm of the recent access frequency of the key.",
  "IDLETIME <key>",
  "    Return the idle time of the <key>, that is the approximated number of",
  "    seconds elapsed since the last access to the key.",
  "REFCOUNT <key>",
  "    Return the number of references of the value associated with the specified",
  "    <key>.",
  "HELP",
  "    Prints this help.",
];

function maxmemoryPolicy(server: Server): string {
  try {
    return server.config.get("maxmemory-policy");
  } catch {
    return "noeviction";
  }
}

function lfuPolicy(server: Server): boolean {
  return maxmemoryPolicy(server).endsWith("-lfu");
}

/** LFU_INIT_VAL: the counter a new key starts with under an LFU policy. */
const LFU_INIT_VAL = 5;

/**
 * OBJECT FREQ's counter. Access counting lives with eviction; until a Database tracks
 * it (an `lfuCounter(key)` method), this is Redis's counter for a key not accessed
 * since it was written: LFU_INIT_VAL decayed by one per `lfu-decay-time` idle minutes.
 */
function lfuFrequency(server: Server, db: Database, key: string): number {
  const tracked = (db as unknown as { lfuCounter?: (k: string) => number }).lfuCounter;
  if (typeof tracked === "function") return tracked.call(db, key);
  let decay = 1;
  try {
    decay = server.config.getInt("lfu-decay-time");
  } catch {
    // keep Redis's default
  }
  if (decay <= 0) return LFU_INIT_VAL;
  const periods = Math.floor(db.idleSeconds(key) / 60 / decay);
  return Math.max(0, LFU_INIT_VAL - periods);
}

export const keyCommands: HandlerMap = {
  del: delGeneric,
  unlink: delGeneric,
  exists(c, argv) {
    let n = 0;
    for (let j = 1; j < argv.length; j++) if (peekCounted(c, argv[j]) !== undefined) n++;
    c.reply.integer(n);
  },
  type(c, argv) {
    const v = peekCounted(c, argv[1]);
    c.reply.simple(v === undefined ? "none" : typeName(v));
  },
  keys,
  scan,
  randomkey(c) {
    const key = randomKey(c.db);
    if (key === undefined) c.reply.null();
    else c.reply.bulk(key);
  },
  rename(c, argv) {
    renameGeneric(c, argv, false);
  },
  renamenx(c, argv) {
    renameGeneric(c, argv, true);
  },
  move,
  copy,
  touch(c, argv) {
    let n = 0;
    for (let j = 1; j < argv.length; j++) if (lookupRead(c, argv[j]) !== undefined) n++;
    c.reply.integer(n);
  },
  "object|help"(c) {
    c.reply.array(OBJECT_HELP.length);
    for (const line of OBJECT_HELP) c.reply.simple(line);
  },
  "object|encoding"(c, argv) {
    const v = peekCounted(c, argv[2]);
    if (v === undefined) c.reply.null();
    else if (typeof v === "string") {
      c.reply.bulk(stringObjectInfo(c.server, c.db, argv[2], v).encoding);
    } else c.reply.bulk(v.encoding());
  },
  "object|refcount"(c, argv) {
    const v = peekCounted(c, argv[2]);
    if (v === undefined) c.reply.null();
    else if (typeof v === "string") {
      c.reply.integer(stringObjectInfo(c.server, c.db, argv[2], v).refcount);
    } else c.reply.integer(1);
  },
  "object|idletime"(c, argv) {
    const v = peekCounted(c, argv[2]);
    if (v === undefined) {
      c.reply.null();
      return;
    }
    if (lfuPolicy(c.server)) {
      c.reply.error(
        "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.",
      );
      return;
    }
    c.reply.integer(c.db.idleSeconds(argv[2]));
  },
  "object|freq"(c, argv) {
    const v = peekCounted(c, argv[2]);
    if (v === undefined) {
      c.reply.null();
      return;
    }
    if (!lfuPolicy(c.server)) {
      c.reply.error(
        "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.",
      );
      return;
    }
    c.reply.integer(lfuFrequency(c.server, c.db, argv[2]));
  },
};
