/**
 * The TTL commands (Redis's expire.c): EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT with
 * NX/XX/GT/LT, TTL, PTTL, EXPIRETIME, PEXPIRETIME and PERSIST.
 *
 * Times are computed in bigint so overflow is detected exactly as Redis's long long
 * checks do; what is stored is the Database's ms number. A successful expire
 * propagates as `PEXPIREAT key <abs-ms> [flags]` (replicas and the AOF must not
 * re-evaluate a relative time), and a time already in the past deletes the key on the
 * spot and propagates DEL (UNLINK with lazyfree-lazy-expire), as Redis does.
 */
import type { HandlerMap } from "./registry.ts";
import type { Client } from "../server/client.ts";
import { dirty, ERR_NOT_INT, parseBigInt64 } from "./common.ts";
import { alreadyExpired, cstr, errorFormat, keepingEncoding, lazyfree } from "./strings.ts";

const LLONG_MAX = 2n ** 63n - 1n;
const LLONG_MIN = -(2n ** 63n);

const EXPIRE_NX = 1;
const EXPIRE_XX = 2;
const EXPIRE_GT = 4;
const EXPIRE_LT = 8;

/** Redis's parseExtendedExpireArgumentsOrReply. */
function parseExpireFlags(c: Client, argv: string[]): number | null {
  let flags = 0;
  for (let j = 3; j < argv.length; j++) {
    const opt = cstr(argv[j]);
    switch (opt.toLowerCase()) {
      case "nx":
        flags |= EXPIRE_NX;
        break;
      case "xx":
        flags |= EXPIRE_XX;
        break;
      case "gt":
        flags |= EXPIRE_GT;
        break;
      case "lt":
        flags |= EXPIRE_LT;
        break;
      default:
        errorFormat(c, `ERR Unsupported option ${opt}`);
        return null;
    }
  }
  if ((flags & EXPIRE_NX) && (flags & (EXPIRE_XX | EXPIRE_GT | EXPIRE_LT))) {
    c.reply.error("ERR NX and XX, GT or LT options at the same time are not compatible");
    return null;
  }
  if ((flags & EXPIRE_GT) && (flags & EXPIRE_LT)) {
    c.reply.error("ERR GT and LT options at the same time are not compatible");
    return null;
  }
  return flags;
}

/**
 * Redis's expireGenericCommand. `relative` adds the current time (EXPIRE, PEXPIRE);
 * `seconds` scales the argument (EXPIRE, EXPIREAT).
 */
function expireGeneric(c: Client, argv: string[], relative: boolean, seconds: boolean): void {
  const name = argv[0].toLowerCase();
  const key = argv[1];
  const flags = parseExpireFlags(c, argv);
  if (flags === null) return;
  let when = parseBigInt64(argv[2]);
  if (when === null) {
    c.reply.error(ERR_NOT_INT);
    return;
  }
  const invalid = `ERR invalid expire time in '${name}' command`;
  if (seconds) {
    if (when > LLONG_MAX / 1000n || when < LLONG_MIN / 1000n) {
      c.reply.error(invalid);
      return;
    }
    when *= 1000n;
  }
  const basetime = relative ? BigInt(c.server.now()) : 0n;
  if (when > LLONG_MAX - basetime) {
    c.reply.error(invalid);
    return;
  }
  when += basetime;

  const db = c.db;
  if (db.lookupWrite(key) === undefined) {
    c.reply.integer(0);
    return;
  }
  if (flags) {
    const cur = db.getExpire(key);
    const current = cur === undefined ? -1n : BigInt(Math.trunc(cur));
    if ((flags & EXPIRE_NX) && current !== -1n) {
      c.reply.integer(0);
      return;
    }
    if ((flags & EXPIRE_XX) && current === -1n) {
      c.reply.integer(0);
      return;
    }
    // No TTL counts as an infinite one: GT always fails, LT always passes.
    if ((flags & EXPIRE_GT) && (when <= current || current === -1n)) {
      c.reply.integer(0);
      return;
    }
    if ((flags & EXPIRE_LT) && current !== -1n && when >= current) {
      c.reply.integer(0);
      return;
    }
  }

  const server = c.server;
  if (alreadyExpired(server, when)) {
    db.delete(key);
    dirty(c);
    server.rewritePropagation([lazyfree(server, "lazyfree-lazy-expire") ? "UNLINK" : "DEL", key]);
    server.notify("g", "del", key, db.id);
    c.reply.integer(1);
    return;
  }
  keepingEncoding(server, db, key, () => db.setExpire(key, Number(when)));
  c.reply.integer(1);
  if (relative || seconds) {
    const prop = argv.slice();
    prop[0] = "PEXPIREAT";
    prop[2] = String(when);
    server.rewritePropagation(prop);
  }
  server.notify("g", "expire", key, db.id);
  dirty(c);
}

/** Redis's ttlGenericCommand. `abs` answers the absolute time (EXPIRETIME). */
function ttlGeneric(c: Client, argv: string[], ms: boolean, abs: boolean): void {
  const key = argv[1];
  const v = c.db.peek(key);
  if (v === undefined) {
    c.server.stats.keyspaceMisses++;
    c.reply.integer(-2);
    return;
  }
  c.server.stats.keyspaceHits++;
  const expire = c.db.getExpire(key);
  if (expire === undefined) {
    c.reply.integer(-1);
    return;
  }
  let ttl = BigInt(Math.trunc(abs ? expire : expire - c.server.now()));
  if (ttl < 0n) ttl = 0n;
  c.reply.integer(ms ? ttl : (ttl + 500n) / 1000n);
}

export const expiryCommands: HandlerMap = {
  expire(c, argv) {
    expireGeneric(c, argv, true, true);
  },
  pexpire(c, argv) {
    expireGeneric(c, argv, true, false);
  },
  expireat(c, argv) {
    expireGeneric(c, argv, false, true);
  },
  pexpireat(c, argv) {
    expireGeneric(c, argv, false, false);
  },
  ttl(c, argv) {
    ttlGeneric(c, argv, false, false);
  },
  pttl(c, argv) {
    ttlGeneric(c, argv, true, false);
  },
  expiretime(c, argv) {
    ttlGeneric(c, argv, false, true);
  },
  pexpiretime(c, argv) {
    ttlGeneric(c, argv, true, true);
  },
  persist(c, argv) {
    const key = argv[1];
    const db = c.db;
    if (db.lookupWrite(key) === undefined) {
      c.reply.integer(0);
      return;
    }
    let removed = false;
    keepingEncoding(c.server, db, key, () => removed = db.persist(key));
    if (!removed) {
      c.reply.integer(0);
      return;
    }
    c.server.notify("g", "persist", key, db.id);
    c.reply.integer(1);
    dirty(c);
  },
};
