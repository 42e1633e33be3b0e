/**
 * RDB persistence for a running server: SAVE (blocking), BGSAVE (point in time, in a
 * Worker), `save <seconds> <changes>` points with Redis's 5-second retry after a
 * failure, `stop-writes-on-bgsave-error`, saving on SHUTDOWN and after FLUSHALL,
 * loading at start, and the INFO persistence fields — Redis's rdb.c + the RDB parts
 * of server.c, minus fork.
 *
 * BGSAVE is a `SnapshotJob` (snapshot_job.ts): a point-in-time walk of the keyspace in
 * small chunks, streamed to the Worker that writes the file.
 */
import process from "node:process";
import type { Server } from "../server/server.ts";
import type { Config } from "../config.ts";
import type { RdbValue } from "./rdb/types.ts";
import { toRdbValue, valueLimits } from "./values.ts";
import {
  loadRdbFileSteps,
  type LoadResult,
  rdbExists,
  RdbFileWriter,
  RdbLoadError,
} from "./rdb_file.ts";
import { statSync } from "node:fs";
import { LoadAborted, loadWhileServing, setLoadedBytes } from "./loading.ts";
import type { RdbWriterOptions } from "./rdb/writer.ts";
import { registerInfoSection } from "../commands/info.ts";
import {
  activeJob,
  dropWorker,
  lendWorker,
  prepareWorker,
  returnLentWorker,
  SnapshotJob,
} from "./snapshot_job.ts";

/** Redis's CONFIG_BGSAVE_RETRY_DELAY: wait this long after a failed BGSAVE. */
const BGSAVE_RETRY_DELAY_S = 5;

export const MISCONF_ERR =
  "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.";

/** What a foreground save writes to: an RDB file or a RESP AOF base. */
export interface DatasetSink {
  selectDb(db: number, keys: number, expires: number): void;
  entry(key: string, value: RdbValue, expireAt?: number): void;
  commit(): number;
  abort(): void;
}

/** Writes every database to `out` and commits it (SAVE, a base at start); aborts on error. */
export function writeDatasetSync(server: Server, out: DatasetSink): void {
  try {
    for (const db of server.dbs) {
      if (db.dict.size === 0) continue;
      out.selectDb(db.id, db.dict.size, db.expires.size);
      const expires = db.expires;
      db.dict.forEach((value, key) =>
        out.entry(key, toRdbValue(value), expires.size === 0 ? undefined : expires.get(key))
      );
    }
    out.commit();
  } catch (e) {
    out.abort();
    throw e;
  }
}

/** The writer options the config asks for; `aofBase` for an AOF base (`aof-base 1`). */
export function rdbWriterOptions(cfg: Config, aofBase: boolean): RdbWriterOptions {
  return {
    compression: cfg.getBool("rdbcompression"),
    checksum: cfg.getBool("rdbchecksum"),
    usedMem: (process.memoryUsage?.().heapUsed) ?? 0,
    aofBase,
  };
}

/** The RDB state of one server (what Redis keeps in `server.rdb_*` / `lastbgsave_*`). */
export class RdbPersistence {
  /** The BGSAVE in progress (Redis's child_type == CHILD_TYPE_RDB). */
  bgsave: SnapshotJob | null = null;
  /** BGSAVE SCHEDULE asked while another background job ran. */
  scheduled = false;
  lastBgsaveOk = true;
  lastBgsaveTry = 0;
  lastBgsaveTimeSec = -1;
  saves = 0;
  lastLoadKeysLoaded = 0;
  lastLoadKeysExpired = 0;

  constructor(private server: Server) {}

  get path(): string {
    return this.server.config.resolvePath(this.server.config.get("dbfilename"));
  }

  private writerOptions(): RdbWriterOptions {
    return rdbWriterOptions(this.server.config, false);
  }

  private tempPath(): string {
    return this.server.config.resolvePath(`temp-${process.pid}.rdb`);
  }

  /** SAVE: the whole dataset, synchronously. Throws on failure (after logging it). */
  saveSync(): void {
    const server = this.server;
    const out = new RdbFileWriter(this.path, this.tempPath(), this.writerOptions());
    try {
      writeDatasetSync(server, out);
    } catch (e) {
      server.logger.warning(
        `Failed opening the temp RDB file temp-${process.pid}.rdb (in server root dir ${
          server.config.get("dir")
        }) for saving: ${(e as Error).message}`,
      );
      this.lastBgsaveOk = false;
      throw e;
    }
    server.logger.notice("DB saved on disk");
    this.afterSave();
  }

  private afterSave(): void {
    this.server.dirty = 0;
    this.server.lastSave = Math.floor(Date.now() / 1000);
    this.lastBgsaveOk = true;
    this.saves++;
  }

  /** BGSAVE: null when started, or the error reply. */
  startBgsave(): string | null {
    if (this.bgsave) return "ERR Background save already in progress";
    const server = this.server;
    this.lastBgsaveTry = Math.floor(Date.now() / 1000);
    const dirtyAtStart = server.dirty;
    const job: SnapshotJob = new SnapshotJob(server, "rdb", {
      op: "open",
      path: this.path,
      tmp: this.tempPath(),
      options: this.writerOptions(),
    }, (ok, message) => {
      if (this.bgsave !== job) return;
      this.bgsave = null;
      this.lastBgsaveTimeSec = Math.round((Date.now() - job.startedAt) / 1000);
      if (ok) {
        server.logger.notice("DB saved on disk");
        server.logger.notice("Background saving terminated with success");
        // Changes made while the snapshot was written still count as unsaved.
        const since = server.dirty - dirtyAtStart;
        this.afterSave();
        server.dirty = Math.max(0, since);
      } else if (job.aborted) {
        server.logger.warning("Background saving terminated by signal 10");
      } else {
        server.logger.warning(`Background saving error: ${message}`);
        this.lastBgsaveOk = false;
      }
    });
    this.bgsave = job;
    server.logger.notice(`Background saving started by pid ${process.pid}`);
    return null;
  }

  /** Stops a BGSAVE in progress (FLUSHALL, SHUTDOWN), removing its temp file. */
  killBgsave(): void {
    this.bgsave?.abort();
  }

  /** serverCron's save-point check (and BGSAVE SCHEDULE). */
  cron(): void {
    // One background job at a time, as one child process in Redis.
    if (this.bgsave || activeJob(this.server) || this.server.loading !== null) return;
    const server = this.server;
    const now = Math.floor(Date.now() / 1000);
    if (this.scheduled) {
      this.scheduled = false;
      this.startBgsave();
      return;
    }
    for (const sp of server.config.saveParams()) {
      if (
        server.dirty >= sp.changes && now - server.lastSave > sp.seconds &&
        (now - this.lastBgsaveTry > BGSAVE_RETRY_DELAY_S || this.lastBgsaveOk)
      ) {
        server.logger.notice(`${sp.changes} changes in ${sp.seconds} seconds. Saving...`);
        this.startBgsave();
        return;
      }
    }
  }

  /** Loads dir/dbfilename at start, as Redis does when AOF is off. */
  async loadAtStart(): Promise<void> {
    const server = this.server;
    const path = this.path;
    if (!rdbExists(path)) return;
    const t0 = performance.now();
    // The spare snapshot Worker checks the CRC-64 meanwhile (no job can run yet).
    const crcWorker = lendWorker(server);
    let workerOk = false;
    try {
      const r = await loadWhileServing(
        server,
        statSync(path).size,
        loadRdbFileSteps(path, server.dbs, valueLimits(server.config), {
          crcWorker: crcWorker ?? undefined,
          onWarning: (msg) => server.logger.warning(msg),
          progress: (bytes) =>
            server.logger.notice(`Loading RDB: ${(bytes / 2 ** 20).toFixed(0)} MB read`),
          onRead: (bytes) => setLoadedBytes(server, bytes),
          keyLoadDelay: server.config.getInt("key-load-delay"),
        }),
      );
      workerOk = true;
      this.logLoaded(r, t0);
    } catch (e) {
      for (const db of server.dbs) db.clear();
      if (e instanceof LoadAborted) throw e;
      const what = e instanceof RdbLoadError ? e.message : String(e);
      server.logger.warning(`Fatal error loading the DB: ${what}. Exiting.`);
      throw new RdbLoadError(`Fatal error loading the DB ${path}: ${what}`);
    } finally {
      if (crcWorker !== null) {
        crcWorker.onmessage = null;
        crcWorker.onerror = null;
        returnLentWorker(server, crcWorker, workerOk);
      }
    }
  }

  private logLoaded(r: LoadResult, t0: number): void {
    const server = this.server;
    const ver = r.aux.get("redis-ver");
    if (ver) server.logger.notice(`Loading RDB produced by version ${ver}`);
    const ctime = Number(r.aux.get("ctime"));
    if (ctime) server.logger.notice(`RDB age ${Math.floor(Date.now() / 1000) - ctime} seconds`);
    const mem = Number(r.aux.get("used-mem"));
    if (mem) {
      server.logger.notice(`RDB memory usage when created ${(mem / 1024 / 1024).toFixed(2)} Mb`);
    }
    server.logger.notice(
      `Done loading RDB, keys loaded: ${r.keysLoaded}, keys expired: ${r.keysExpired}.`,
    );
    this.lastLoadKeysLoaded = r.keysLoaded;
    this.lastLoadKeysExpired = r.keysExpired;
    server.logger.notice(
      `DB loaded from disk: ${((performance.now() - t0) / 1000).toFixed(3)} seconds`,
    );
  }

  /** INFO persistence: the RDB fields. */
  info(fields: Map<string, string | number>): void {
    const job = this.bgsave;
    fields.set("rdb_bgsave_in_progress", job ? 1 : 0);
    fields.set("rdb_last_bgsave_status", this.lastBgsaveOk ? "ok" : "err");
    fields.set("rdb_last_bgsave_time_sec", this.lastBgsaveTimeSec);
    fields.set(
      "rdb_current_bgsave_time_sec",
      job ? Math.round((Date.now() - job.startedAt) / 1000) : -1,
    );
    fields.set("rdb_saves", this.saves);
    // The AOF rewrite is a save too, for these two (Redis reports any child's progress).
    const any = activeJob(this.server);
    fields.set("current_save_keys_processed", any ? any.snapshot.keysProcessed : 0);
    fields.set("current_save_keys_total", any ? any.snapshot.keysTotal : 0);
    fields.set("rdb_last_load_keys_expired", this.lastLoadKeysExpired);
    fields.set("rdb_last_load_keys_loaded", this.lastLoadKeysLoaded);
  }
}

const states = new WeakMap<Server, RdbPersistence>();

/** The RDB state of `server` (created on first use). */
export function rdbOf(server: Server): RdbPersistence {
  let s = states.get(server);
  if (!s) states.set(server, s = new RdbPersistence(server));
  return s;
}

registerInfoSection("persistence", (server, fields) => rdbOf(server).info(fields));

/** Wires RDB persistence into a server: cron, write guard, shutdown save. */
export function installRdb(server: Server): void {
  const rdb = rdbOf(server);
  server.onCron(() => rdb.cron());
  server.onListening(() => prepareWorker(server));
  // Runs before every write command: test the rare condition first.
  server.addWriteGuard(() =>
    !rdb.lastBgsaveOk && server.config.getBool("stop-writes-on-bgsave-error") &&
      server.config.saveParams().length > 0
      ? MISCONF_ERR
      : null
  );
  server.onShutdown((opts) => {
    rdb.killBgsave();
    dropWorker(server);
    // Redis never saves a dataset it has not finished loading.
    if (server.loading !== null) return;
    const save = opts.save ?? server.config.saveParams().length > 0;
    if (!save) return;
    server.logger.notice("Saving the final RDB snapshot before exiting.");
    try {
      rdb.saveSync();
    } catch (e) {
      server.logger.warning("Error trying to save the DB, can't exit.");
      throw e;
    }
  });
}
