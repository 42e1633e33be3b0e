/**
 * DUMP, RESTORE (Redis 7.0's cluster.c dumpCommand / restoreCommand) and the DEBUG
 * DIGEST / DIGEST-VALUE subcommands (debug.c), on top of the RDB codecs: payloads are
 * byte-identical to redis-server's for the same encodings, and digests equal its digests
 * for the same dataset.
 */
import type { HandlerMap } from "./registry.ts";
import type { Client } from "../server/client.ts";
import type { Server } from "../server/server.ts";
import type { Value } from "../types/value.ts";
import { dirty, ERR_NOT_INT, ERR_SYNTAX, is, lookupRead, parseBigInt64 } from "./common.ts";
import { alreadyExpired } from "./strings.ts";
import { registerDebugSubcommand } from "./server.ts";
import { decodeDump, DumpPayloadError, encodeDumpLatin1 } from "../persistence/rdb/dump.ts";
import { DatasetDigest, valueDigest } from "../persistence/rdb/digest.ts";
import { fromRdbValue, toRdbValue, valueLimits } from "../persistence/values.ts";

const ERR_BUSYKEY = "BUSYKEY Target key name already exists.";

function configBool(server: Server, name: string, fallback: boolean): boolean {
  try {
    return server.config.getBool(name);
  } catch {
    return fallback;
  }
}

function lfuPolicy(server: Server): boolean {
  try {
    return server.config.get("maxmemory-policy").endsWith("-lfu");
  } catch {
    return false;
  }
}

// ---- DUMP ---------------------------------------------------------------------------------

function dump(c: Client, argv: string[]): void {
  const v = lookupRead(c, argv[1]);
  if (v === undefined) {
    c.reply.null();
    return;
  }
  // rdbSaveRawString compresses payload strings exactly as it does in RDB files.
  const compression = configBool(c.server, "rdbcompression", true);
  c.reply.bulk(encodeDumpLatin1(toRdbValue(v), { compression }));
}

// ---- RESTORE ------------------------------------------------------------------------------

/** LRU_CLOCK_MAX: Redis's per-object access clock is a 24-bit field of seconds. */
const LRU_CLOCK_MAX = (1n << 24n) - 1n;

/**
 * What OBJECT IDLETIME reports right after RESTORE ... IDLETIME `idle` on Redis 7.0:
 * objectSetLRUOrLFU works in the wrapping 24-bit clock with C's 64-bit arithmetic
 * (idle * 1000 may overflow), so huge idle times come back folded. Measured on 7.0.15:
 * an underflowing access time is moved up by LRU_CLOCK_MAX, and estimateObjectIdleTime's
 * wrapped branch loses one more second.
 */
function redisIdleAfterRestore(idle: bigint): number {
  const clock = BigInt(Math.floor(Date.now() / 1000)) & LRU_CLOCK_MAX;
  const lruIdle = BigInt.asIntN(64, idle * 1000n) / 1000n;
  let abs = BigInt.asIntN(64, clock - lruIdle);
  if (abs < 0n) abs += LRU_CLOCK_MAX;
  const lru = BigInt.asUintN(24, abs);
  return Number(clock >= lru ? clock - lru : clock + (LRU_CLOCK_MAX - lru));
}

function restore(c: Client, argv: string[]): void {
  let replace = false;
  let absttl = false;
  let idle: bigint | null = null;
  let freq: bigint | null = null;
  for (let j = 4; j < argv.length; j++) {
    const additional = argv.length - j - 1;
    const a = argv[j];
    if (is(a, "replace")) {
      replace = true;
    } else if (is(a, "absttl")) {
      absttl = true;
    } else if (is(a, "idletime") && additional >= 1 && freq === null) {
      idle = parseBigInt64(argv[j + 1]);
      if (idle === null) {
        c.reply.error(ERR_NOT_INT);
        return;
      }
      if (idle < 0n) {
        c.reply.error("ERR Invalid IDLETIME value, must be >= 0");
        return;
      }
      j++;
    } else if (is(a, "freq") && additional >= 1 && idle === null) {
      freq = parseBigInt64(argv[j + 1]);
      if (freq === null) {
        c.reply.error(ERR_NOT_INT);
        return;
      }
      if (freq < 0n || freq > 255n) {
        c.reply.error("ERR Invalid FREQ value, must be >= 0 and <= 255");
        return;
      }
      j++;
    } else {
      c.reply.error(ERR_SYNTAX);
      return;
    }
  }

  const key = argv[1];
  const db = c.db;
  if (!replace && db.lookupWrite(key) !== undefined) {
    c.reply.error(ERR_BUSYKEY);
    return;
  }
  const ttl = parseBigInt64(argv[2]);
  if (ttl === null) {
    c.reply.error(ERR_NOT_INT);
    return;
  }
  if (ttl < 0n) {
    c.reply.error("ERR Invalid TTL value, must be >= 0");
    return;
  }

  let value: Value | null;
  try {
    const r = decodeDump(argv[3], { listNodes: true, readIntoFooter: true });
    value = fromRdbValue(r, valueLimits(c.server.config));
  } catch (e) {
    if (!(e instanceof DumpPayloadError)) throw e;
    if (e.detail) c.server.logger.verbose(`RESTORE of a bad payload: ${e.detail}`);
    c.reply.error(e.message);
    return;
  }
  if (value === null) {
    // rdbLoadObject refuses empty collections (decodeDump already does; kept for safety).
    c.reply.error("ERR Bad data format");
    return;
  }

  const deleted = replace && db.delete(key);
  // C's `ttl += mstime()` wraps on overflow, and a wrapped time counts as expired.
  const when = ttl === 0n ? 0n : absttl ? ttl : BigInt.asIntN(64, ttl + BigInt(c.server.now()));
  if (when !== 0n && alreadyExpired(c.server, when)) {
    if (deleted) {
      c.server.rewritePropagation(["DEL", key]);
      c.server.notify("g", "del", key, db.id);
      dirty(c);
    }
    c.reply.ok();
    return;
  }

  db.set(key, value);
  if (when !== 0n) {
    db.setExpire(key, Number(when));
    // Replicas and the AOF get the absolute time, so a replay does not extend the TTL.
    if (!absttl) {
      c.server.rewritePropagation([...argv.slice(0, 2), String(when), ...argv.slice(3), "ABSTTL"]);
    }
  }
  // objectSetLRUOrLFU: FREQ only counts under an LFU policy, IDLETIME only without one.
  // Amber keeps no per-key LFU counter, so a FREQ is validated but not stored.
  if (idle !== null && !lfuPolicy(c.server)) db.setIdle(key, redisIdleAfterRestore(idle));
  c.server.notify("g", "restore", key, db.id);
  dirty(c);
  c.reply.ok();
}

// ---- DEBUG DIGEST / DIGEST-VALUE ----------------------------------------------------------

/** computeDatasetDigest: every key in every db, logically expired ones included. */
function datasetDigest(server: Server): string {
  const d = new DatasetDigest();
  for (const db of server.dbs) {
    const expires = db.expires;
    for (const [key, v] of db.dict) d.add(db.id, key, toRdbValue(v), expires.has(key));
  }
  return d.hex();
}

registerDebugSubcommand("digest", (n) => n === 2, (c) => {
  c.reply.simple(datasetDigest(c.server));
});

registerDebugSubcommand("digest-value", (n) => n >= 2, (c, argv) => {
  c.reply.array(argv.length - 2);
  // No lookup, as in debug.c: a debug command sees logically expired keys too.
  const db = c.db;
  for (let j = 2; j < argv.length; j++) {
    const v = db.dict.get(argv[j]);
    c.reply.simple(
      v === undefined ? valueDigest(null) : valueDigest(toRdbValue(v), db.expires.has(argv[j])),
    );
  }
});

export const dumpCommands: HandlerMap = {
  dump,
  restore,
};
