/**
 * Persistence commands: SAVE, BGSAVE [SCHEDULE], BGREWRITEAOF, DEBUG RELOAD (save,
 * flush, load) and DEBUG LOADAOF.
 * The machinery lives in src/persistence/; these are the thin command layer.
 */
import type { HandlerMap } from "./registry.ts";
import { ERR_SYNTAX, is } from "./common.ts";
import { rdbOf } from "../persistence/rdb_persistence.ts";
import { loadRdbFile } from "../persistence/rdb_file.ts";
import { valueLimits } from "../persistence/values.ts";
import { registerDebugSubcommand } from "./server.ts";
import { aofOf } from "../persistence/aof/aof_persistence.ts";

export const persistenceCommands: HandlerMap = {
  save(c) {
    const rdb = rdbOf(c.server);
    if (rdb.bgsave) {
      c.reply.error("ERR Background save already in progress");
      return;
    }
    try {
      rdb.saveSync();
      c.reply.ok();
    } catch {
      c.reply.error("ERR");
    }
  },
  bgsave(c, argv) {
    const rdb = rdbOf(c.server);
    if (argv.length > 2 || (argv.length === 2 && !is(argv[1], "schedule"))) {
      c.reply.error(ERR_SYNTAX);
      return;
    }
    if (rdb.bgsave) {
      c.reply.error("ERR Background save already in progress");
      return;
    }
    if (aofOf(c.server).rewriteInProgress || c.multiQueue !== null) {
      // Redis 7.0: another child (the AOF rewrite) is running, or inside EXEC.
      if (argv.length === 2 || c.multiQueue !== null) {
        rdb.scheduled = true;
        c.reply.simple("Background saving scheduled");
      } else {
        c.reply.error(
          "ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.",
        );
      }
      return;
    }
    const err = rdb.startBgsave();
    if (err) c.reply.error(err);
    else c.reply.simple("Background saving started");
  },
  bgrewriteaof(c) {
    const aof = aofOf(c.server);
    // Inside EXEC a rewrite is only scheduled, as Redis's server.in_exec rule.
    if (c.multiQueue !== null && !aof.rewriteInProgress) {
      aof.rewriteScheduled = true;
      aof.consecutiveFailures = 0;
      c.reply.simple("Background append only file rewriting scheduled");
      return;
    }
    const r = aof.bgrewriteaof();
    if (r.ok) c.reply.simple(r.text);
    else c.reply.error(r.text);
  },
};

/** DEBUG LOADAOF: flush the AOF, empty the dataset, reload it from the AOF files. */
registerDebugSubcommand("loadaof", (n) => n === 2, (c) => {
  const err = aofOf(c.server).debugLoadAof();
  if (err !== null) {
    c.server.logger.warning(`Error loading the AOF by DEBUG LOADAOF: ${err}`);
    c.reply.error(`ERR Error loading the AOF: ${err}`);
    return;
  }
  c.reply.ok();
});

/**
 * DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: save the dataset, empty it, load the file
 * back (blocking, as in Redis). The reply is +OK, or the error that stopped it.
 */
registerDebugSubcommand("reload", (n) => n >= 2, (c, argv) => {
  let save = true;
  let flush = true;
  for (const opt of argv.slice(2)) {
    if (is(opt, "nosave")) save = false;
    else if (is(opt, "noflush")) flush = false;
    else if (is(opt, "merge")) flush = false;
    else {
      c.reply.error("ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.");
      return;
    }
  }
  const server = c.server;
  const rdb = rdbOf(server);
  if (save) {
    try {
      rdb.saveSync();
    } catch {
      c.reply.error("ERR Error trying to save the DB");
      return;
    }
  }
  if (flush) { for (const db of server.dbs) db.clear(); }
  server.expiryPaused = true;
  try {
    loadRdbFile(rdb.path, server.dbs, valueLimits(server.config), {
      onWarning: (m) => server.logger.warning(m),
    });
  } catch (e) {
    server.logger.warning(`Error trying to load the RDB dump: ${(e as Error).message}`);
    c.reply.error("ERR Error trying to load the RDB dump, check server logs.");
    return;
  } finally {
    server.expiryPaused = false;
  }
  server.logger.notice("DB reloaded by DEBUG RELOAD");
  c.reply.ok();
});
