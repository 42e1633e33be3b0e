/**
 * RDB persistence for a running server: SAVE (blocking), BGSAVE (point in time, in a
 * Worker), `save <seconds> <changes>` points with Redis's 5-second retry after a
 * failure, `stop-writes-on-bgsave-error`, saving on SHUTDOWN and after FLUSHALL,
 * loading at start, and the INFO persistence fields — Redis's rdb.c + the RDB parts
 * of server.c, minus fork.
 *
 * BGSAVE walks a `Snapshot` in chunks sized to take ~2 ms of the main thread each,
 * converts them to the codec's neutral form and posts them to the Worker, with at most
 * a few chunks unacknowledged, so neither the event loop nor memory is swamped.
 */
import process from "node:process";
import { unlinkSync } from "node:fs";
import type { Server } from "../server/server.ts";
import { Snapshot } from "./snapshot.ts";
import { toRdbValue, valueLimits } from "./values.ts";
import { loadRdbFile, rdbExists, RdbFileWriter, RdbLoadError } from "./rdb_file.ts";
import type { RdbWriterOptions } from "./rdb/writer.ts";
import type { WorkerReply, WorkerRequest } from "./snapshot_worker.ts";
import type { RdbValue } from "./rdb/types.ts";
import { registerInfoSection } from "../commands/info.ts";
import { activeJob } from "./snapshot_job.ts";
import { spawnSnapshotWorker } from "./worker_spawn.ts";

/** Redis's CONFIG_BGSAVE_RETRY_DELAY: wait this long after a failed BGSAVE. */
const BGSAVE_RETRY_DELAY_S = 5;
/** Unacknowledged chunks allowed in flight to the Worker. */
const MAX_IN_FLIGHT = 4;
/** A Worker that has not opened the file by then failed to start: fail the BGSAVE. */
const WORKER_START_TIMEOUT_MS = 10_000;
/** Main-thread time per chunk the BGSAVE driver aims for. */
const CHUNK_BUDGET_MS = 1;

export const MISCONF_ERR =
  "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.";

interface Bgsave {
  worker: Worker;
  startedAt: number;
  snapshot: Snapshot;
  tmp: string;
  aborted: boolean;
  done: Promise<boolean>;
  /** Fails the BGSAVE if the Worker never answers `open`. */
  watchdog?: ReturnType<typeof setTimeout>;
}

/** The RDB state of one server (what Redis keeps in `server.rdb_*` / `lastbgsave_*`). */
export class RdbPersistence {
  bgsave: Bgsave | null = null;
  /** BGSAVE SCHEDULE asked while another background job ran. */
  scheduled = false;
  lastBgsaveOk = true;
  lastBgsaveTry = 0;
  lastBgsaveTimeSec = -1;
  saves = 0;
  lastLoadKeysLoaded = 0;
  lastLoadKeysExpired = 0;

  /**
   * A Worker started ahead of time: creating one costs 30-200 ms of main-thread time
   * in Deno, which BGSAVE must not pay while clients wait.
   */
  private spare: Worker | null = null;

  constructor(private server: Server) {}

  private newWorker(): Worker {
    return spawnSnapshotWorker();
  }

  /** Starts the spare Worker (at start-up and after each background job). */
  prepareWorker(): void {
    if (this.spare === null && !this.server.shuttingDown) this.spare = this.newWorker();
  }

  private takeWorker(): Worker {
    const w = this.spare ?? this.newWorker();
    this.spare = null;
    return w;
  }

  /** Stops the spare Worker (shutdown). */
  dropWorker(): void {
    this.spare?.terminate();
    this.spare = null;
  }

  get path(): string {
    return this.server.config.resolvePath(this.server.config.get("dbfilename"));
  }

  private writerOptions(): RdbWriterOptions {
    const cfg = this.server.config;
    return {
      compression: cfg.getBool("rdbcompression"),
      checksum: cfg.getBool("rdbchecksum"),
      usedMem: (process.memoryUsage?.().heapUsed) ?? 0,
    };
  }

  private tempPath(): string {
    return this.server.config.resolvePath(`temp-${process.pid}.rdb`);
  }

  /** SAVE: the whole dataset, synchronously. Throws on failure (after logging it). */
  saveSync(): void {
    const server = this.server;
    const out = new RdbFileWriter(this.path, this.tempPath(), this.writerOptions());
    try {
      for (const db of server.dbs) {
        if (db.dict.size === 0) continue;
        out.selectDb(db.id, db.dict.size, db.expires.size);
        for (const [key, value] of db.dict) out.entry(key, toRdbValue(value), db.expires.get(key));
      }
      out.commit();
    } catch (e) {
      out.abort();
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
    const worker = this.takeWorker();
    const tmp = this.tempPath();
    const sizes = server.dbs.map((db) => [db.dict.size, db.expires.size]);
    const snapshot = Snapshot.start(server);
    let resolveDone!: (ok: boolean) => void;
    const job: Bgsave = {
      worker,
      startedAt: Date.now(),
      snapshot,
      tmp,
      aborted: false,
      done: new Promise((r) => resolveDone = r),
    };
    this.bgsave = job;
    server.logger.notice(`Background saving started by pid ${process.pid}`);

    let acked = 0;
    let sent = 0;
    let wake: (() => void) | null = null;
    const finish = (ok: boolean, message?: string) => {
      clearTimeout(startWatchdog);
      if (this.bgsave !== job) return;
      this.bgsave = null;
      snapshot.finish();
      worker.terminate();
      const secs = Math.round((Date.now() - job.startedAt) / 1000);
      this.lastBgsaveTimeSec = secs;
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
      resolveDone(ok);
      // The next BGSAVE's Worker starts now, off the critical path.
      setTimeout(() => this.prepareWorker(), 0);
    };
    worker.onmessage = (ev: MessageEvent<WorkerReply>) => {
      const m = ev.data;
      if (m.op === "ready") clearTimeout(startWatchdog);
      else if (m.op === "ack") {
        acked = m.seq;
        wake?.();
      } else if (m.op === "done") finish(true);
      else finish(false, m.message);
    };
    worker.onerror = (ev) => {
      ev.preventDefault?.();
      finish(false, ev.message ?? "worker failed");
    };
    const post = (m: WorkerRequest) => worker.postMessage(m);
    // Some runtimes report a Worker that cannot load by never answering: do not let
    // such a BGSAVE stay "in progress" forever.
    const startWatchdog = job.watchdog = setTimeout(
      () => finish(false, "the snapshot Worker did not start"),
      WORKER_START_TIMEOUT_MS,
    );
    post({ op: "open", path: this.path, tmp, options: this.writerOptions() });

    const pump = async () => {
      let n = 1000;
      let currentDb = -1;
      while (this.bgsave === job) {
        const t0 = performance.now();
        const chunk = snapshot.next(n);
        if (chunk === null) break;
        let list: [string, RdbValue, number | undefined][] = [];
        for (const e of chunk) {
          if (e.db !== currentDb) {
            if (list.length > 0) post({ op: "entries", seq: ++sent, list });
            list = [];
            currentDb = e.db;
            post({ op: "db", db: e.db, keys: sizes[e.db][0], expires: sizes[e.db][1] });
          }
          list.push([e.key, toRdbValue(e.value), e.expireAt]);
        }
        if (list.length > 0) post({ op: "entries", seq: ++sent, list });
        const took = performance.now() - t0;
        n = Math.max(100, Math.min(50_000, Math.round(n * CHUNK_BUDGET_MS / Math.max(took, 0.05))));
        // Let clients in, and keep the Worker's queue short.
        await new Promise((r) => setTimeout(r, 0));
        while (sent - acked > MAX_IN_FLIGHT && this.bgsave === job) {
          await new Promise<void>((r) => wake = r);
          wake = null;
        }
      }
      if (this.bgsave === job) {
        snapshot.finish();
        post({ op: "end" });
      }
    };
    pump().catch((e) => finish(false, (e as Error).message));
    return null;
  }

  /** Stops a BGSAVE in progress (FLUSHALL, SHUTDOWN), removing its temp file. */
  killBgsave(): void {
    const job = this.bgsave;
    if (!job) return;
    job.aborted = true;
    clearTimeout(job.watchdog);
    job.worker.terminate();
    this.bgsave = null;
    job.snapshot.finish();
    try {
      unlinkSync(job.tmp);
    } catch { /* not created yet */ }
    this.server.logger.warning("Background saving terminated by signal 10");
  }

  /** serverCron's save-point check (and BGSAVE SCHEDULE). */
  cron(): void {
    // One background job at a time, as one child process in Redis.
    if (this.bgsave || activeJob(this.server)) return;
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
  loadAtStart(): void {
    const server = this.server;
    const path = this.path;
    if (!rdbExists(path)) return;
    const t0 = performance.now();
    server.expiryPaused = true;
    try {
      const r = loadRdbFile(path, server.dbs, valueLimits(server.config), {
        onWarning: (msg) => server.logger.warning(msg),
        progress: (bytes) =>
          server.logger.notice(`Loading RDB: ${(bytes / 2 ** 20).toFixed(0)} MB read`),
      });
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
    } catch (e) {
      for (const db of server.dbs) db.clear();
      const what = e instanceof RdbLoadError ? e.message : String(e);
      server.logger.warning(`Fatal error loading the DB: ${what}. Exiting.`);
      throw new RdbLoadError(`Fatal error loading the DB ${path}: ${what}`);
    } finally {
      server.expiryPaused = false;
    }
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
    fields.set("current_save_keys_processed", job ? job.snapshot.keysProcessed : 0);
    fields.set("current_save_keys_total", job ? job.snapshot.keysTotal : 0);
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
  server.onListening(() => rdb.prepareWorker());
  // Runs before every write command: test the rare condition first.
  server.addWriteGuard(() =>
    !rdb.lastBgsaveOk && server.config.getBool("stop-writes-on-bgsave-error") &&
      server.config.saveParams().length > 0
      ? MISCONF_ERR
      : null
  );
  server.onShutdown((opts) => {
    rdb.killBgsave();
    rdb.dropWorker();
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
