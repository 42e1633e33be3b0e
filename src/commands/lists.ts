/**
 * The list commands (Redis 7.0's t_list.c): pushes, pops (with COUNT), ranges, LPOS,
 * LMOVE/RPOPLPUSH, LMPOP and the blocking BLPOP/BRPOP/BRPOPLPUSH/BLMOVE/BLMPOP.
 *
 * Reply shapes, error texts and the order of argument checks versus key lookups follow
 * t_list.c, since clients see the difference (e.g. LINDEX looks the key up before
 * parsing the index, LRANGE after). Blocking pops served at once propagate in their
 * non-blocking form (BLPOP -> LPOP key, BLMPOP -> LPOP key n, BLMOVE -> LMOVE,
 * BRPOPLPUSH -> RPOPLPUSH); when served later from src/server/blocking.ts they
 * propagate the same way, with left/right spelled by the server as Redis does.
 */
import type { HandlerMap } from "./registry.ts";
import type { Client } from "../server/client.ts";
import { ListValue } from "../types/list.ts";
import {
  dirty,
  ERR_NO_KEY,
  ERR_SYNTAX,
  ERR_WRONGTYPE,
  getCollection,
  intArg,
  LONG_MAX,
  parseBigInt64,
} from "./common.ts";
import { cis } from "./strings.ts";
import { blockForKeys, canBlock, parseTimeout } from "../server/blocking.ts";

function newList(c: Client): ListValue {
  return new ListValue(c.server.config.getInt("list-max-listpack-size"));
}

function getList(c: Client, key: string, write = false): ListValue | undefined | null {
  return getCollection<ListValue>(c, key, "list", write);
}

/**
 * getRangeLongFromObjectOrReply(min, LONG_MAX, msg): any failure, including a
 * non-number, replies `ERR <msg>`. Returns null after replying.
 */
function rangeArg(c: Client, s: string, min: bigint, msg: string): number | null {
  const b = parseBigInt64(s);
  if (b === null || b < min || b > LONG_MAX) {
    c.reply.error("ERR " + msg);
    return null;
  }
  return Number(b);
}

/** getPositiveLongFromObjectOrReply */
function positiveArg(c: Client, s: string, msg = "value is out of range, must be positive") {
  return rangeArg(c, s, 0n, msg);
}

/** getListPositionFromObjectOrReply: LEFT -> head, RIGHT -> tail. */
function positionArg(c: Client, s: string): "left" | "right" | null {
  if (cis(s, "left")) return "left";
  if (cis(s, "right")) return "right";
  c.reply.error(ERR_SYNTAX);
  return null;
}

function notify(c: Client, event: string, key: string): void {
  c.server.notify("l", event, key, c.db.id);
}

/**
 * listElementsRemoved: the pop event, deleting the emptied key, and `count` changes.
 * Returns true if the key was deleted.
 */
function elementsRemoved(
  c: Client,
  key: string,
  head: boolean,
  l: ListValue,
  count: number,
): boolean {
  notify(c, head ? "lpop" : "rpop", key);
  let deleted = false;
  if (l.length === 0) {
    c.db.delete(key);
    c.server.notify("g", "del", key, c.db.id);
    deleted = true;
  }
  dirty(c, count);
  return deleted;
}

/** Pops one element from a non-empty list. */
function pop(l: ListValue, head: boolean): string {
  return (head ? l.popHead() : l.popTail())!;
}

/** The elements a COUNT pop takes, in pop order (the tail side comes reversed). */
function popRange(l: ListValue, head: boolean, count: number): string[] {
  const n = Math.min(count, l.length);
  let items: string[];
  if (head) {
    items = l.range(0, n - 1);
    l.deleteRange(0, n);
  } else {
    items = l.range(l.length - n, l.length - 1).reverse();
    l.deleteRange(l.length - n, n);
  }
  return items;
}

/** listPopRangeAndReplyWithKey: `[key, [elements]]`, then the removal bookkeeping. */
function popRangeWithKey(c: Client, l: ListValue, key: string, head: boolean, count: number) {
  c.db.touchWrite(key);
  const items = popRange(l, head, count);
  c.reply.array(2);
  c.reply.bulk(key);
  c.reply.bulkArray(items);
  return elementsRemoved(c, key, head, l, items.length);
}

// ---- pushes -------------------------------------------------------------------------

function pushGeneric(c: Client, argv: string[], head: boolean, onlyExisting: boolean): void {
  const key = argv[1];
  let l = getList(c, key, true);
  if (l === null) return;
  if (l === undefined) {
    if (onlyExisting) {
      c.reply.integer(0);
      return;
    }
    l = newList(c);
    for (let j = 2; j < argv.length; j++) head ? l.pushHead(argv[j]) : l.pushTail(argv[j]);
    c.db.set(key, l);
  } else {
    c.db.touchWrite(key);
    for (let j = 2; j < argv.length; j++) head ? l.pushHead(argv[j]) : l.pushTail(argv[j]);
  }
  c.reply.integer(l.length);
  notify(c, head ? "lpush" : "rpush", key);
  dirty(c, argv.length - 2);
}

/** lmoveHandlePush: pushes `value` to `dst` (created if missing), replies with it. */
function moveHandlePush(
  c: Client,
  dst: string,
  dobj: ListValue | undefined,
  value: string,
  head: boolean,
): void {
  if (dobj === undefined) {
    dobj = newList(c);
    c.db.set(dst, dobj);
  } else c.db.touchWrite(dst);
  head ? dobj.pushHead(value) : dobj.pushTail(value);
  notify(c, head ? "lpush" : "rpush", dst);
  c.reply.bulk(value);
}

/**
 * The move itself (lmoveGenericCommand after the source was found non-empty and the
 * destination checked): returns false if the destination had the wrong type.
 */
function doMove(
  c: Client,
  src: string,
  sobj: ListValue,
  dst: string,
  fromHead: boolean,
  toHead: boolean,
) {
  const dv = c.db.lookupWrite(dst);
  if (dv !== undefined && (typeof dv === "string" || dv.type !== "list")) {
    c.reply.error(ERR_WRONGTYPE);
    return false;
  }
  c.db.touchWrite(src);
  const value = pop(sobj, fromHead);
  moveHandlePush(c, dst, dv as ListValue | undefined, value, toHead);
  notify(c, fromHead ? "lpop" : "rpop", src);
  if (sobj.length === 0) {
    c.db.delete(src);
    c.server.notify("g", "del", src, c.db.id);
  }
  dirty(c);
  return true;
}

/** lmoveGenericCommand; `rewrite` is the non-blocking form to propagate, if any. */
function moveGeneric(
  c: Client,
  argv: string[],
  fromHead: boolean,
  toHead: boolean,
  rewrite: string[] | null,
): void {
  const sobj = getList(c, argv[1], true);
  if (sobj === null) return;
  if (sobj === undefined) {
    c.reply.null();
    return;
  }
  if (doMove(c, argv[1], sobj, argv[2], fromHead, toHead) && rewrite) {
    c.server.rewritePropagation(rewrite);
  }
}

// ---- pops -----------------------------------------------------------------------------

function popGeneric(c: Client, argv: string[], head: boolean): void {
  if (argv.length > 3) {
    c.reply.error(`ERR wrong number of arguments for '${head ? "lpop" : "rpop"}' command`);
    return;
  }
  const hasCount = argv.length === 3;
  let count = 0;
  if (hasCount) {
    const n = positiveArg(c, argv[2]);
    if (n === null) return;
    count = n;
  }
  const key = argv[1];
  const l = getList(c, key, true);
  if (l === null) return;
  if (l === undefined) {
    if (hasCount) c.reply.nullArray();
    else c.reply.null();
    return;
  }
  if (hasCount && count === 0) {
    c.reply.array(0);
    return;
  }
  c.db.touchWrite(key);
  if (!hasCount) {
    c.reply.bulk(pop(l, head));
    elementsRemoved(c, key, head, l, 1);
  } else {
    const items = popRange(l, head, count);
    c.reply.bulkArray(items);
    elementsRemoved(c, key, head, l, items.length);
  }
}

/** LMPOP / BLMPOP argument parsing (lmpopGenericCommand). */
function parseMpop(
  c: Client,
  argv: string[],
  numkeysIdx: number,
): { keys: string[]; head: boolean; count: number } | null {
  const numkeys = rangeArg(c, argv[numkeysIdx], 1n, "numkeys should be greater than 0");
  if (numkeys === null) return null;
  const whereIdx = numkeysIdx + numkeys + 1;
  if (whereIdx >= argv.length) {
    c.reply.error(ERR_SYNTAX);
    return null;
  }
  const where = positionArg(c, argv[whereIdx]);
  if (where === null) return null;
  let count = -1;
  for (let j = whereIdx + 1; j < argv.length; j++) {
    const more = argv.length - 1 - j;
    if (count === -1 && cis(argv[j], "count") && more > 0) {
      j++;
      const n = rangeArg(c, argv[j], 1n, "count should be greater than 0");
      if (n === null) return null;
      count = n;
    } else {
      c.reply.error(ERR_SYNTAX);
      return null;
    }
  }
  if (count === -1) count = 1;
  return { keys: argv.slice(numkeysIdx + 1, whereIdx), head: where === "left", count };
}

/**
 * blockingPopGenericCommand's immediate part, shared by LMPOP: serves from the first
 * non-empty key. Returns true if it replied (served or WRONGTYPE).
 */
function popFirstNonEmpty(
  c: Client,
  keys: string[],
  head: boolean,
  count: number | null,
): boolean {
  for (const key of keys) {
    const l = getList(c, key, true);
    if (l === null) return true;
    if (l === undefined || l.length === 0) continue;
    if (count !== null) {
      const n = Math.min(count, l.length);
      popRangeWithKey(c, l, key, head, count);
      c.server.rewritePropagation([head ? "LPOP" : "RPOP", key, String(n)]);
      return true;
    }
    c.db.touchWrite(key);
    const value = pop(l, head);
    c.reply.array(2);
    c.reply.bulk(key);
    c.reply.bulk(value);
    elementsRemoved(c, key, head, l, 1);
    c.server.rewritePropagation([head ? "LPOP" : "RPOP", key]);
    return true;
  }
  return false;
}

/** The current value at `key` when it is a non-empty list (serving a blocked client). */
function readyList(c: Client, key: string): ListValue | undefined {
  const v = c.db.lookupWrite(key);
  if (v === undefined || typeof v === "string" || v.type !== "list") return undefined;
  const l = v as ListValue;
  return l.length === 0 ? undefined : l;
}

/** BLPOP/BRPOP/BLMPOP: pop from `keys`, or block. `count` null for BLPOP/BRPOP. */
function blockingPop(
  c: Client,
  keys: string[],
  head: boolean,
  deadline: number,
  count: number | null,
): void {
  if (popFirstNonEmpty(c, keys, head, count)) return;
  if (!canBlock(c)) {
    c.reply.nullArray();
    return;
  }
  blockForKeys(c, keys, deadline, {
    type: "list",
    tryServe(key) {
      const l = readyList(c, key);
      if (l === undefined) return false;
      const cmd = head ? "LPOP" : "RPOP";
      if (count !== null) {
        c.server.alsoPropagate(c.db.id, [cmd, key, String(Math.min(count, l.length))]);
        popRangeWithKey(c, l, key, head, count);
        return true;
      }
      c.server.alsoPropagate(c.db.id, [cmd, key]);
      c.db.touchWrite(key);
      const value = pop(l, head);
      c.reply.array(2);
      c.reply.bulk(key);
      c.reply.bulk(value);
      elementsRemoved(c, key, head, l, 1);
      return true;
    },
  });
}

/** BLMOVE / BRPOPLPUSH (blmoveGenericCommand). */
function blockingMove(
  c: Client,
  argv: string[],
  fromHead: boolean,
  toHead: boolean,
  deadline: number,
  brpoplpush: boolean,
): void {
  const src = argv[1], dst = argv[2];
  const sobj = getList(c, src, true);
  if (sobj === null) return;
  if (sobj !== undefined) {
    const rewrite = brpoplpush ? ["RPOPLPUSH", src, dst] : ["LMOVE", src, dst, argv[3], argv[4]];
    if (doMove(c, src, sobj, dst, fromHead, toHead)) c.server.rewritePropagation(rewrite);
    return;
  }
  if (!canBlock(c)) {
    // Redis answers a null *bulk* here, unlike on a real timeout (null array).
    c.reply.null();
    return;
  }
  blockForKeys(c, [src], deadline, {
    type: "list",
    tryServe(key) {
      const l = readyList(c, key);
      if (l === undefined) return false;
      // A wrong-type destination answers WRONGTYPE and unblocks, leaving the source.
      if (doMove(c, key, l, dst, fromHead, toHead)) {
        // Lower case, as Redis propagates shared.left / shared.right here.
        const where = (h: boolean) => h ? "left" : "right";
        c.server.alsoPropagate(
          c.db.id,
          brpoplpush
            ? ["RPOPLPUSH", key, dst]
            : ["LMOVE", key, dst, where(fromHead), where(toHead)],
        );
      }
      return true;
    },
  });
}

// ---- the commands ----------------------------------------------------------------------

export const listCommands: HandlerMap = {
  lpush(c, argv) {
    pushGeneric(c, argv, true, false);
  },
  rpush(c, argv) {
    pushGeneric(c, argv, false, false);
  },
  lpushx(c, argv) {
    pushGeneric(c, argv, true, true);
  },
  rpushx(c, argv) {
    pushGeneric(c, argv, false, true);
  },

  linsert(c, argv) {
    let after: boolean;
    if (cis(argv[2], "after")) after = true;
    else if (cis(argv[2], "before")) after = false;
    else {
      c.reply.error(ERR_SYNTAX);
      return;
    }
    const key = argv[1];
    const l = getList(c, key, true);
    if (l === null) return;
    if (l === undefined) {
      c.reply.integer(0);
      return;
    }
    const i = l.indexOf(argv[3]);
    if (i === -1) {
      c.reply.integer(-1);
      return;
    }
    c.db.touchWrite(key);
    l.insertAt(i, argv[4], after);
    notify(c, "linsert", key);
    dirty(c);
    c.reply.integer(l.length);
  },

  llen(c, argv) {
    const l = getList(c, argv[1]);
    if (l === null) return;
    c.reply.integer(l === undefined ? 0 : l.length);
  },

  lindex(c, argv) {
    const l = getList(c, argv[1]);
    if (l === null) return;
    if (l === undefined) {
      c.reply.null();
      return;
    }
    const i = intArg(c, argv[2]);
    if (i === null) return;
    c.reply.bulkOrNull(l.get(i));
  },

  lset(c, argv) {
    const key = argv[1];
    const l = getList(c, key, true);
    if (l === null) return;
    if (l === undefined) {
      c.reply.error(ERR_NO_KEY);
      return;
    }
    const i = intArg(c, argv[2]);
    if (i === null) return;
    if (i >= l.length || i < -l.length) {
      c.reply.error("ERR index out of range");
      return;
    }
    c.db.touchWrite(key);
    l.set(i, argv[3]);
    c.reply.ok();
    notify(c, "lset", key);
    dirty(c);
  },

  lpop(c, argv) {
    popGeneric(c, argv, true);
  },
  rpop(c, argv) {
    popGeneric(c, argv, false);
  },

  lrange(c, argv) {
    let start = intArg(c, argv[2]);
    if (start === null) return;
    let end = intArg(c, argv[3]);
    if (end === null) return;
    const l = getList(c, argv[1]);
    if (l === null) return;
    if (l === undefined) {
      c.reply.array(0);
      return;
    }
    const llen = l.length;
    if (start < 0) start += llen;
    if (end < 0) end += llen;
    if (start < 0) start = 0;
    if (start > end || start >= llen) {
      c.reply.array(0);
      return;
    }
    if (end >= llen) end = llen - 1;
    c.reply.bulkArray(l.range(start, end));
  },

  ltrim(c, argv) {
    let start = intArg(c, argv[2]);
    if (start === null) return;
    let end = intArg(c, argv[3]);
    if (end === null) return;
    const key = argv[1];
    const l = getList(c, key, true);
    if (l === null) return;
    if (l === undefined) {
      c.reply.ok();
      return;
    }
    const llen = l.length;
    if (start < 0) start += llen;
    if (end < 0) end += llen;
    if (start < 0) start = 0;
    let ltrim: number, rtrim: number;
    if (start > end || start >= llen) {
      ltrim = llen;
      rtrim = 0;
    } else {
      if (end >= llen) end = llen - 1;
      ltrim = start;
      rtrim = llen - end - 1;
    }
    c.db.touchWrite(key);
    l.deleteRange(0, ltrim);
    l.deleteRange(l.length - rtrim, rtrim);
    notify(c, "ltrim", key);
    if (l.length === 0) {
      c.db.delete(key);
      c.server.notify("g", "del", key, c.db.id);
    }
    dirty(c, ltrim + rtrim);
    c.reply.ok();
  },

  lpos(c, argv) {
    const ele = argv[2];
    let rank = 1, count = -1, maxlen = 0;
    // RANK LONG_MIN: `-rank` overflows in C, so every match counts and COUNT never stops it.
    let rankMin = false;
    for (let j = 3; j < argv.length; j++) {
      const more = argv.length - 1 - j;
      if (cis(argv[j], "rank") && more > 0) {
        j++;
        const r = intArg(c, argv[j]);
        if (r === null) return;
        if (r === 0) {
          c.reply.error(
            "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list",
          );
          return;
        }
        rank = r;
        rankMin = argv[j] === "-9223372036854775808";
      } else if (cis(argv[j], "count") && more > 0) {
        j++;
        const n = positiveArg(c, argv[j], "COUNT can't be negative");
        if (n === null) return;
        count = n;
      } else if (cis(argv[j], "maxlen") && more > 0) {
        j++;
        const n = positiveArg(c, argv[j], "MAXLEN can't be negative");
        if (n === null) return;
        maxlen = n;
      } else {
        c.reply.error(ERR_SYNTAX);
        return;
      }
    }
    const fromTail = rank < 0;
    if (fromTail) rank = rankMin ? 1 : -rank;
    const l = getList(c, argv[1]);
    if (l === null) return;
    if (l === undefined) {
      if (count !== -1) c.reply.array(0);
      else c.reply.null();
      return;
    }
    const found: number[] = [];
    let matches = 0, scanned = 0;
    const visit = (s: string, i: number): boolean => {
      if (maxlen !== 0 && scanned >= maxlen) return false;
      scanned++;
      if (s !== ele) return true;
      matches++;
      if (matches < rank) return true;
      found.push(i);
      if (count === -1) return false;
      return rankMin || !(count !== 0 && matches - rank + 1 >= count);
    };
    if (fromTail) l.forEachReverse(visit);
    else l.forEach(visit);
    if (count !== -1) {
      c.reply.array(found.length);
      for (const i of found) c.reply.integer(i);
    } else if (found.length !== 0) c.reply.integer(found[0]);
    else c.reply.null();
  },

  lrem(c, argv) {
    const n = intArg(c, argv[2]);
    if (n === null) return;
    const key = argv[1];
    const l = getList(c, key, true);
    if (l === null) return;
    if (l === undefined) {
      c.reply.integer(0);
      return;
    }
    c.db.touchWrite(key);
    const removed = l.removeEqual(argv[3], Math.abs(n), n < 0);
    dirty(c, removed);
    if (removed) notify(c, "lrem", key);
    if (l.length === 0) {
      c.db.delete(key);
      c.server.notify("g", "del", key, c.db.id);
    }
    c.reply.integer(removed);
  },

  rpoplpush(c, argv) {
    moveGeneric(c, argv, false, true, null);
  },

  lmove(c, argv) {
    const from = positionArg(c, argv[3]);
    if (from === null) return;
    const to = positionArg(c, argv[4]);
    if (to === null) return;
    moveGeneric(c, argv, from === "left", to === "left", null);
  },

  lmpop(c, argv) {
    const p = parseMpop(c, argv, 1);
    if (p === null) return;
    if (!popFirstNonEmpty(c, p.keys, p.head, p.count)) c.reply.nullArray();
  },

  blpop(c, argv) {
    const deadline = parseTimeout(c, argv[argv.length - 1]);
    if (deadline === null) return;
    blockingPop(c, argv.slice(1, -1), true, deadline, null);
  },

  brpop(c, argv) {
    const deadline = parseTimeout(c, argv[argv.length - 1]);
    if (deadline === null) return;
    blockingPop(c, argv.slice(1, -1), false, deadline, null);
  },

  blmpop(c, argv) {
    const p = parseMpop(c, argv, 2);
    if (p === null) return;
    const deadline = parseTimeout(c, argv[1]);
    if (deadline === null) return;
    blockingPop(c, p.keys, p.head, deadline, p.count);
  },

  brpoplpush(c, argv) {
    const deadline = parseTimeout(c, argv[3]);
    if (deadline === null) return;
    blockingMove(c, argv, false, true, deadline, true);
  },

  blmove(c, argv) {
    const from = positionArg(c, argv[3]);
    if (from === null) return;
    const to = positionArg(c, argv[4]);
    if (to === null) return;
    const deadline = parseTimeout(c, argv[5]);
    if (deadline === null) return;
    blockingMove(c, argv, from === "left", to === "left", deadline, false);
  },
};
