/**
 * Server commands: FLUSHDB, FLUSHALL, DBSIZE, TIME, SWAPDB, LASTSAVE, SHUTDOWN, DEBUG
 * (SLEEP, SET-ACTIVE-EXPIRE, HELP) and MONITOR.
 *
 * Later features add DEBUG subcommands (RELOAD, OBJECT, ...) through
 * `registerDebugSubcommand`, and FLUSHALL's save through `saveAfterFlushAll`.
 */
import { rdbOf } from "../persistence/rdb_persistence.ts";
import type { Handler, HandlerMap } from "./registry.ts";
import type { Client } from "../server/client.ts";
import type { Server } from "../server/server.ts";
import { ERR_SYNTAX, is, parseBigInt64, replyHelp, subcommandSyntaxError } from "./common.ts";

// ---- FLUSHDB / FLUSHALL ------------------------------------------------------------------

/** Redis's getFlushCommandFlags: only the argument form matters (clearing is O(1) here). */
function flushArgsOk(c: Client, argv: string[]): boolean {
  if (argv.length === 1 || (argv.length === 2 && (is(argv[1], "sync") || is(argv[1], "async")))) {
    return true;
  }
  c.reply.error(ERR_SYNTAX);
  return false;
}

/** Empties `db`; returns the number of keys removed (Redis's emptyData count). */
function emptyDb(server: Server, id: number): number {
  const db = server.dbs[id];
  const removed = db.size;
  db.clear();
  return removed;
}

/**
 * Hook point for the RDB feature: Redis's flushAllDataAndResetRDB saves the (now empty)
 * dataset right after FLUSHALL when save points are configured (rdbSave then resets
 * `dirty` and `lastSave`), and a BGSAVE in progress is stopped first.
 */
function saveAfterFlushAll(server: Server): void {
  const rdb = rdbOf(server);
  rdb.killBgsave();
  if (server.config.saveParams().length === 0) return;
  try {
    rdb.saveSync();
  } catch {
    // Logged by saveSync; FLUSHALL itself succeeded.
  }
}

/**
 * Redis 7.0.15's forceCommandPropagation for FLUSHDB/FLUSHALL: they reach the AOF even
 * when nothing was removed (and so `dirty` did not move).
 */
function forcePropagation(c: Client, argv: string[]): void {
  c.server.preventPropagation();
  c.server.alsoPropagate(c.db.id, argv);
}

function flushdb(c: Client, argv: string[]): void {
  if (!flushArgsOk(c, argv)) return;
  c.server.dirty += emptyDb(c.server, c.db.id);
  forcePropagation(c, argv);
  c.reply.ok();
}

function flushall(c: Client, argv: string[]): void {
  if (!flushArgsOk(c, argv)) return;
  const server = c.server;
  let removed = 0;
  for (let i = 0; i < server.dbs.length; i++) removed += emptyDb(server, i);
  server.dirty += removed;
  saveAfterFlushAll(server);
  forcePropagation(c, argv);
  c.reply.ok();
}

// ---- SWAPDB ---------------------------------------------------------------------------

/** Redis's getIntFromObjectOrReply: a strict integer within C int range. */
function dbIndexArg(s: string): number | null {
  const v = parseBigInt64(s);
  if (v === null || v < -2147483648n || v > 2147483647n) return null;
  return Number(v);
}

function swapdb(c: Client, argv: string[]): void {
  const id1 = dbIndexArg(argv[1]);
  if (id1 === null) {
    c.reply.error("ERR invalid first DB index");
    return;
  }
  const id2 = dbIndexArg(argv[2]);
  if (id2 === null) {
    c.reply.error("ERR invalid second DB index");
    return;
  }
  const n = c.server.dbs.length;
  if (id1 < 0 || id1 >= n || id2 < 0 || id2 >= n) {
    c.reply.error("ERR DB index is out of range");
    return;
  }
  if (id1 !== id2) c.server.dbs[id1].swapWith(c.server.dbs[id2]);
  c.server.dirty++;
  c.reply.ok();
}

// ---- SHUTDOWN ---------------------------------------------------------------------------

function shutdown(c: Client, argv: string[]): void {
  let nosave = false;
  let save = false;
  let flags = false;
  let abort = false;
  let force = false;
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i];
    if (is(a, "nosave")) nosave = flags = true;
    else if (is(a, "save")) save = flags = true;
    // NOW changes nothing here: there are no replicas to wait for.
    else if (is(a, "now")) flags = true;
    else if (is(a, "force")) force = flags = true;
    else if (is(a, "abort")) abort = true;
    else {
      c.reply.error(ERR_SYNTAX);
      return;
    }
  }
  if ((abort && flags) || (nosave && save)) {
    c.reply.error(ERR_SYNTAX);
    return;
  }
  if (abort) {
    // Amber's shutdown never waits for lagging replicas, so there is nothing to abort.
    c.reply.error("ERR No shutdown in progress.");
    return;
  }
  const server = c.server;
  // Like Redis's blockClient(BLOCKED_SHUTDOWN): nothing more from this client meanwhile.
  c.blocked = true;
  server.shutdown({ save: nosave ? false : save ? true : undefined, force }).catch((e) => {
    server.logger.warning(`Errors trying to shut down the server: ${(e as Error).message}`);
    c.blocked = false;
    c.reply.error("ERR Errors trying to SHUTDOWN. Check logs.");
    server.processInput(c);
  });
}

// ---- DEBUG ------------------------------------------------------------------------------

interface DebugSub {
  /** Redis checks each subcommand's argc in its `if`; a mismatch is a syntax error. */
  argcOk: (argc: number) => boolean;
  handler: Handler;
}

const debugSubs = new Map<string, DebugSub>();

/** Adds a DEBUG subcommand (lowercase `name`); `argcOk` gets the full argc incl. DEBUG. */
export function registerDebugSubcommand(
  name: string,
  argcOk: (argc: number) => boolean,
  handler: Handler,
): void {
  debugSubs.set(name, { argcOk, handler });
}

/** C's strtod on a prefix, as DEBUG SLEEP parses (garbage is 0, no error). */
function strtod(s: string): number {
  const hex = /^\s*([+-]?)0x([0-9a-f]+)/i.exec(s);
  if (hex) return (hex[1] === "-" ? -1 : 1) * parseInt(hex[2], 16);
  const m = /^\s*[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?/i.exec(s);
  return m ? Number(m[0]) : 0;
}

/** Blocks the whole process, as nanosleep() blocks Redis's only thread. */
function sleepBlocking(ms: number): void {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  } catch {
    const end = performance.now() + ms;
    while (performance.now() < end) { /* busy-wait where Atomics.wait is refused */ }
  }
}

/** C's atoi: optional spaces and sign, then digits; anything else stops it. */
function atoi(s: string): number {
  const m = /^\s*([+-]?\d+)/.exec(s);
  return m ? Number(m[1]) : 0;
}

registerDebugSubcommand("sleep", (n) => n === 3, (c, argv) => {
  const d = strtod(argv[2]);
  // Redis casts seconds*1e6 to long long; inf/nan become negative and do not sleep.
  const usec = Number.isFinite(d) ? Math.trunc(d * 1e6) : 0;
  if (usec > 0) sleepBlocking(usec / 1000);
  c.reply.ok();
});

registerDebugSubcommand("set-active-expire", (n) => n === 3, (c, argv) => {
  c.server.activeExpireEnabled = atoi(argv[2]) !== 0;
  c.reply.ok();
});

const DEBUG_HELP = [
  "AOF-FLUSH-SLEEP <microsec>",
  "    Server will sleep before flushing the AOF, this is used for testing.",
  "ASSERT",
  "    Crash by assertion failed.",
  "CHANGE-REPL-ID",
  "    Change the replication IDs of the instance.",
  "    Dangerous: should be used only for testing the replication subsystem.",
  "CONFIG-REWRITE-FORCE-ALL",
  "    Like CONFIG REWRITE but writes all configuration options, including",
  "    keywords not listed in original configuration file or default values.",
  "CRASH-AND-RECOVER [<milliseconds>]",
  "    Hard crash and restart after a <milliseconds> delay (default 0).",
  "DIGEST",
  "    Output a hex signature representing the current DB content.",
  "DIGEST-VALUE <key> [<key> ...]",
  "    Output a hex signature of the values of all the specified keys.",
  "ERROR <string>",
  "    Return a Redis protocol error with <string> as message. Useful for clients",
  "    unit tests to simulate Redis errors.",
  "LEAK <string>",
  "    Create a memory leak of the input string.",
  "LOG <message>",
  "    Write <message> to the server log.",
  "HTSTATS <dbid>",
  "    Return hash table statistics of the specified Redis database.",
  "HTSTATS-KEY <key>",
  "    Like HTSTATS but for the hash table stored at <key>'s value.",
  "LOADAOF",
  "    Flush the AOF buffers on disk and reload the AOF in memory.",
  "REPLICATE <string>",
  "    Replicates the provided string to replicas, allowing data divergence.",
  "MALLCTL <key> [<val>]",
  "    Get or set a malloc tuning integer.",
  "MALLCTL-STR <key> [<val>]",
  "    Get or set a malloc tuning string.",
  "OBJECT <key>",
  "    Show low level info about `key` and associated value.",
  "DROP-CLUSTER-PACKET-FILTER <packet-type>",
  "    Drop all packets that match the filtered type. Set to -1 allow all packets.",
  "OOM",
  "    Crash the server simulating an out-of-memory error.",
  "PANIC",
  "    Crash the server simulating a panic.",
  "POPULATE <count> [<prefix>] [<size>]",
  "    Create <count> string keys named key:<num>. If <prefix> is specified then",
  "    it is used instead of the 'key' prefix. These are not propagated to",
  "    replicas. Cluster slots are not respected so keys not belonging to the",
  "    current node can be created in cluster mode.",
  "PROTOCOL <type>",
  "    Reply with a test value of the specified type. <type> can be: string,",
  "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
  "    true, false.",
  "RELOAD [option ...]",
  "    Save the RDB on disk and reload it back to memory. Valid <option> values:",
  "    * MERGE: conflicting keys will be loaded from RDB.",
  "    * NOFLUSH: the existing database will not be removed before load, but",
  "      conflicting keys will generate an exception and kill the server.",
  "    * NOSAVE: the database will be loaded from an existing RDB file.",
  "    Examples:",
  "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
  "      the database.",
  "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
  "      existing RDB file.",
  "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
  "      file to the database.",
  "RESTART [<milliseconds>]",
  "    Graceful restart: save config, db, restart after a <milliseconds> delay (default 0).",
  "SDSLEN <key>",
  "    Show low level SDS string info representing `key` and value.",
  "SEGFAULT",
  "    Crash the server with sigsegv.",
  "SET-ACTIVE-EXPIRE <0|1>",
  "    Setting it to 0 disables expiring keys in background when they are not",
  "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
  "    default.",
  "QUICKLIST-PACKED-THRESHOLD <size>",
  "    Sets the threshold for elements to be inserted as plain vs packed nodes",
  "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
  "SET-SKIP-CHECKSUM-VALIDATION <0|1>",
  "    Enables or disables checksum checks for RDB files and RESTORE's payload.",
  "SLEEP <seconds>",
  "    Stop the server for <seconds>. Decimals allowed.",
  "STRINGMATCH-TEST",
  "    Run a fuzz tester against the stringmatchlen() function.",
  "STRUCTSIZE",
  "    Return the size of different Redis core C structures.",
  "LISTPACK <key>",
  "    Show low level info about the listpack encoding of <key>.",
  "QUICKLIST <key> [<0|1>]",
  "    Show low level info about the quicklist encoding of <key>.",
  "    The optional argument (0 by default) sets the level of detail",
  "CLIENT-EVICTION",
  "    Show low level client eviction pools info (maxmemory-clients).",
  "PAUSE-CRON <0|1>",
  "    Stop periodic cron job processing.",
  "REPLYBUFFER PEAK-RESET-TIME <NEVER||RESET|time>",
  "    Sets the time (in milliseconds) to wait between client reply buffer peak resets.",
  "    In case NEVER is provided the last observed peak will never be reset",
  "    In case RESET is provided the peak reset time will be restored to the default value",
  "REPLYBUFFER RESIZING <0|1>",
  "    Enable or disable the reply buffer resize cron job",
  "CLUSTERLINK KILL <to|from|all> <node-id>",
  "    Kills the link based on the direction to/from (both) with the provided node.",
];

function debug(c: Client, argv: string[]): void {
  const sub = argv[1].toLowerCase();
  if (sub === "help" && argv.length === 2) {
    replyHelp(c, argv[0], DEBUG_HELP);
    return;
  }
  const s = debugSubs.get(sub);
  if (!s || !s.argcOk(argv.length)) {
    subcommandSyntaxError(c, argv);
    return;
  }
  s.handler(c, argv);
}

// ---- MONITOR ------------------------------------------------------------------------------

/** Servers whose client-freed hook already drops closed monitors. */
const monitorCleanup = new WeakSet<Server>();

function monitor(c: Client): void {
  // Redis ignores MONITOR from a client already monitoring: no reply at all.
  if (c.monitor) return;
  const server = c.server;
  if (!monitorCleanup.has(server)) {
    monitorCleanup.add(server);
    server.onClientFreed((x) => server.monitors.delete(x));
  }
  c.monitor = true;
  server.monitors.add(c);
  c.reply.ok();
}

export const serverCommands: HandlerMap = {
  flushdb,
  flushall,
  dbsize(c) {
    c.reply.integer(c.db.size);
  },
  time(c) {
    const us = Math.floor((performance.timeOrigin + performance.now()) * 1000);
    c.reply.array(2);
    c.reply.bulk(String(Math.floor(us / 1e6)));
    c.reply.bulk(String(us % 1e6));
  },
  swapdb,
  lastsave(c) {
    c.reply.integer(c.server.lastSave);
  },
  shutdown,
  debug,
  monitor,
};
