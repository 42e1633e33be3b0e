/**
 * Persistence commands: SAVE, BGSAVE [SCHEDULE], and DEBUG RELOAD (save, flush, load).
 * The machinery lives in src/persistence/; these are the thin command layer.
 */
import type { HandlerMap } from "./registry.ts";
import { ERR_SYNTAX, is } from "./common.ts";
import { rdbOf } from "../persistence/rdb_persistence.ts";
import { loadRdbFile } from "../persistence/rdb_file.ts";
import { valueLimits } from "../persistence/values.ts";
import { registerDebugSubcommand } from "./server.ts";

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
    const err = rdb.startBgsave();
    if (err) c.reply.error(err);
    else c.reply.simple("Background saving started");
  },
};

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
