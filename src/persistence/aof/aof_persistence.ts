/**
 * The append-only file of a running server, Redis 7.0's multi-part AOF: the state
 * (off / on / waiting for the first rewrite), the manifest and its files in
 * `appenddirname`, loading at start, BGREWRITEAOF and automatic rewrite (with Redis's
 * back-off after repeated failures), turning the AOF on and off with CONFIG SET, the
 * write guard (-MISCONF) and the INFO persistence fields. The buffer and fsync policy
 * live in writer.ts, the replay in loader.ts, the formats in manifest.ts / stream.ts.
 *
 * A rewrite, as in Redis 7.0: flush the buffer, open the next incr file and persist
 * the manifest naming it, and take a point-in-time snapshot in the same synchronous
 * step; the Worker writes the new base from the snapshot while new writes go to the
 * new incr. When the base is complete it is renamed into the directory and the
 * manifest is swapped: the old base and incrs become history and are deleted.
 */
import process from "node:process";
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
} from "node:fs";
import { join } from "node:path";
import type { Server } from "../../server/server.ts";
import type { Client } from "../../server/client.ts";
import { ConfigError } from "../../config.ts";
import { registerInfoSection } from "../../commands/info.ts";
import {
  type AofManifest,
  baseFileName,
  emptyManifest,
  formatManifest,
  incrFileName,
  manifestFileName,
  parseManifest,
  tempManifestFileName,
} from "./manifest.ts";
import { type AofFileOps, AofWriter, type AppendFsync, nodeFileOps } from "./writer.ts";
import { aofTotalSize, loadAppendOnlyFiles, loadAppendOnlyFilesSteps } from "./loader.ts";
import { loadingInfo, loadWhileServing, setLoadedBytes } from "../loading.ts";
import { activeJob, SnapshotJob } from "../snapshot_job.ts";
import { DurableFile, fsyncDir, RdbFileWriter } from "../rdb_file.ts";
import type { RdbWriterOptions } from "../rdb/writer.ts";
import { AofBaseFileWriter } from "./base_file.ts";
import { rdbOf, rdbWriterOptions, writeDatasetSync } from "../rdb_persistence.ts";

export type AofState = "off" | "on" | "wait_rewrite";

/** aof.c AOF_REWRITE_LIMITE_THRESHOLD / _MAX_MINUTES. */
const REWRITE_LIMIT_THRESHOLD = 3;
const REWRITE_LIMIT_MAX_MINUTES = 60;

/** A failure that must stop the server from starting (Redis exits with status 1). */
export class AofStartError extends Error {}

function dupManifest(m: AofManifest): AofManifest {
  return {
    base: m.base ? { ...m.base } : null,
    incrs: m.incrs.map((x) => ({ ...x })),
    history: m.history.map((x) => ({ ...x })),
    currBaseSeq: m.currBaseSeq,
    currIncrSeq: m.currIncrSeq,
  };
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

function errText(e: unknown): string {
  return (e as Error).message ?? String(e);
}

/** The AOF state of one server (Redis's `server.aof_*`). */
export class AofPersistence {
  state: AofState = "off";
  manifest: AofManifest = emptyManifest();
  readonly writer: AofWriter;
  /** Replaying files: the feed must not write what is being read. */
  loading = false;
  rewriteScheduled = false;
  private rewriteTimeStart = -1;
  lastRewriteTimeSec = -1;
  lastBgrewriteOk = true;
  rewrites = 0;
  consecutiveFailures = 0;
  /** aof_rewrite_base_size: the AOF size when the last rewrite ended. */
  rewriteBaseSize = 0;
  private nextDelayMinutes = 0;
  private nextRewriteTime = 0;
  private lastWriteRetry = 0;
  private job: SnapshotJob | null = null;
  private removeTurnHook: (() => void) | null = null;
  /**
   * Under `appendfsync always`: for each client that ran a write this turn, where its
   * reply buffer stood before that write. If the turn's write or sync fails, its
   * replies are cut there and replaced by an error: no OK for data not on disk.
   */
  private turnMarks = new Map<Client, number>();

  /** Settings read on every write, cached (config.get lowercases and looks up). */
  private policy: AppendFsync;
  private timestamps: boolean;
  private noFsyncOnRewrite: boolean;

  constructor(private server: Server, fileOps: AofFileOps = nodeFileOps) {
    const cfg = server.config;
    this.policy = cfg.get("appendfsync") as AppendFsync;
    this.timestamps = cfg.getBool("aof-timestamp-enabled");
    this.noFsyncOnRewrite = cfg.getBool("no-appendfsync-on-rewrite");
    cfg.onChange("appendfsync", (v: string) => this.policy = v as AppendFsync);
    cfg.onChange("aof-timestamp-enabled", (v: string) => this.timestamps = v === "yes");
    cfg.onChange("no-appendfsync-on-rewrite", (v: string) => this.noFsyncOnRewrite = v === "yes");
    this.writer = new AofWriter({
      logger: server.logger,
      appendfsync: () => this.policy,
      timestampsEnabled: () => this.timestamps,
      skipFsync: () => this.noFsyncOnRewrite && this.childActive(),
    }, fileOps);
  }

  get dirPath(): string {
    return this.server.config.resolvePath(this.server.config.get("appenddirname"));
  }

  get appendFilename(): string {
    return this.server.config.get("appendfilename");
  }

  /** Redis's hasActiveChildProcess: a BGSAVE or an AOF rewrite is running. */
  childActive(): boolean {
    return rdbOf(this.server).bgsave !== null || activeJob(this.server) !== undefined;
  }

  get rewriteInProgress(): boolean {
    return this.job !== null;
  }

  // ---- manifest -------------------------------------------------------------------

  /** persistAofManifest: temp file, fsync, rename, fsync of the directory. */
  persistManifest(m: AofManifest): void {
    const text = formatManifest(m);
    const bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    let file: DurableFile | null = null;
    try {
      file = new DurableFile(
        join(this.dirPath, manifestFileName(this.appendFilename)),
        join(this.dirPath, tempManifestFileName(this.appendFilename)),
      );
      file.write(bytes);
      file.commit();
    } catch (e) {
      file?.abort();
      this.server.logger.warning(
        `Can't persist the AOF manifest file ${manifestFileName(this.appendFilename)}: ${
          errText(e)
        }`,
      );
      throw e;
    }
  }

  /** dirCreateIfMissing: null, or Redis's error text. */
  private ensureDir(): string | null {
    try {
      mkdirSync(this.dirPath, { recursive: true });
      return null;
    } catch (e) {
      return `Can't open or create append-only dir ${this.server.config.get("appenddirname")}: ${
        errText(e)
      }`;
    }
  }

  /** aofLoadManifestFromDisk. Throws AofStartError on a manifest Redis would refuse. */
  loadManifestFromDisk(): void {
    this.manifest = emptyManifest();
    if (!existsSync(this.dirPath)) return;
    const path = join(this.dirPath, manifestFileName(this.appendFilename));
    if (!existsSync(path)) return;
    let text: string;
    try {
      const b = readFileSync(path);
      text = "";
      for (let i = 0; i < b.length; i += 8192) {
        text += String.fromCharCode(...b.subarray(i, i + 8192));
      }
    } catch (e) {
      throw new AofStartError(`Can't open the AOF manifest file ${path}: ${errText(e)}`);
    }
    try {
      this.manifest = parseManifest(text);
    } catch (e) {
      throw new AofStartError(
        `${errText(e)} in ${path}. Check the manifest, or use redis-check-aof on it`,
      );
    }
  }

  private newBaseName(m: AofManifest): string {
    if (m.base) m.history.push({ ...m.base, type: "h" });
    const name = baseFileName(
      this.appendFilename,
      ++m.currBaseSeq,
      this.server.config.getBool("aof-use-rdb-preamble"),
    );
    m.base = { name, seq: m.currBaseSeq, type: "b" };
    return name;
  }

  private newIncrName(m: AofManifest): string {
    const name = incrFileName(this.appendFilename, ++m.currIncrSeq);
    m.incrs.push({ name, seq: m.currIncrSeq, type: "i" });
    return name;
  }

  private get tempIncrName(): string {
    return `temp-${this.appendFilename}.incr`;
  }

  /** aofDelHistoryFiles: history entries are deleted, then the manifest forgets them. */
  private delHistoryFiles(): void {
    if (this.manifest.history.length === 0) return;
    for (const h of this.manifest.history) {
      this.server.logger.notice(`Removing the history file ${h.name} in the background`);
      try {
        unlinkSync(join(this.dirPath, h.name));
      } catch { /* already gone */ }
    }
    this.manifest.history = [];
    try {
      this.persistManifest(this.manifest);
    } catch { /* logged; the files are gone either way */ }
  }

  // ---- start-up -------------------------------------------------------------------

  /**
   * loadDataFromDisk + aofOpenIfNeededOnServerStart + aofDelHistoryFiles: with
   * `appendonly yes` the AOF is the dataset (dump.rdb is not read), else the RDB is.
   */
  async loadAtStart(): Promise<void> {
    const server = this.server;
    if (!server.config.getBool("appendonly")) {
      await rdbOf(server).loadAtStart();
      return;
    }
    this.state = "on";
    this.loadManifestFromDisk();
    this.upgradeIfNeeded();
    const t0 = performance.now();
    this.loading = true;
    let r;
    try {
      r = await loadWhileServing(
        server,
        aofTotalSize(this.manifest, this.dirPath) ?? 0,
        loadAppendOnlyFilesSteps(server, this.manifest, {
          dirPath: this.dirPath,
          loadTruncated: server.config.getBool("aof-load-truncated"),
          appendFilename: this.appendFilename,
          onProgress: (bytes) => setLoadedBytes(server, bytes),
          keyLoadDelay: server.config.getInt("key-load-delay"),
        }),
      );
    } catch (e) {
      for (const db of server.dbs) db.clear();
      throw e;
    } finally {
      this.loading = false;
    }
    if (r.status === "failed" || r.status === "open_err") {
      for (const db of server.dbs) db.clear();
      throw new AofStartError(`Fatal error loading the AOF: ${r.error}. Exiting.`);
    }
    if (r.status !== "not_exist") {
      server.logger.notice(
        `DB loaded from append only file: ${((performance.now() - t0) / 1000).toFixed(3)} seconds`,
      );
    }
    this.writer.currentSize = r.totalSize;
    this.writer.fsyncOffset = r.totalSize;
    this.rewriteBaseSize = r.baseSize;
    server.dirty = 0;
    this.openOnServerStart();
    this.delHistoryFiles();
  }

  /**
   * A Redis < 7 `appendonly.aof` in `dir` becomes the base of a new directory
   * (aofUpgradePrepare), in the three situations Redis 7.0 recognizes.
   */
  private upgradeIfNeeded(): void {
    const name = this.appendFilename;
    const legacy = this.server.config.resolvePath(name);
    if (!existsSync(legacy)) return;
    const m = this.manifest;
    const need = !existsSync(this.dirPath) ||
      (m.base === null && m.incrs.length === 0) ||
      (m.base !== null && m.incrs.length === 0 && m.base.name === name &&
        !existsSync(join(this.dirPath, name)));
    if (!need) return;
    const err = this.ensureDir();
    if (err !== null) throw new AofStartError(err);
    m.base = { name, seq: 1, type: "b" };
    m.currBaseSeq = 1;
    this.persistManifest(m);
    try {
      renameSync(legacy, join(this.dirPath, name));
    } catch (e) {
      throw new AofStartError(
        `Error trying to rename the existing AOF to old AOF(${name}) : ${errText(e)}`,
      );
    }
    this.server.logger.notice("Successfully migrated an old-style AOF into the AOF directory");
  }

  /** aofOpenIfNeededOnServerStart: a base for an empty start, then the last incr. */
  private openOnServerStart(): void {
    const log = this.server.logger;
    const err = this.ensureDir();
    if (err !== null) throw new AofStartError(err);
    const m = this.manifest;
    const hadIncr = m.incrs.length > 0;
    if (m.base === null && !hadIncr) {
      const name = this.newBaseName(m);
      try {
        this.writeBaseSync(join(this.dirPath, name));
      } catch (e) {
        throw new AofStartError(`Can't create the AOF base file ${name}: ${errText(e)}`);
      }
      log.notice(`Creating AOF base file ${name} on server start`);
    }
    const name = hadIncr ? m.incrs[m.incrs.length - 1].name : this.newIncrName(m);
    const path = join(this.dirPath, name);
    let fd: number;
    try {
      fd = openSync(path, "a");
    } catch (e) {
      throw new AofStartError(`Can't open the append-only file ${name}: ${errText(e)}`);
    }
    try {
      this.persistManifest(m);
    } catch (e) {
      closeSync(fd);
      throw new AofStartError(`Can't persist the AOF manifest: ${errText(e)}`);
    }
    this.writer.switchTo(fd, name, fileSize(path));
    log.notice(
      hadIncr
        ? `Opening AOF incr file ${name} on server start`
        : `Creating AOF incr file ${name} on server start`,
    );
    this.attachTurnHook();
  }

  /** rewriteAppendOnlyFile in the foreground (only for the empty dataset at start). */
  private writeBaseSync(path: string): void {
    const server = this.server;
    const cfg = server.config;
    const tmp = server.config.resolvePath(`temp-rewriteaof-${process.pid}.aof`);
    const out = cfg.getBool("aof-use-rdb-preamble")
      ? new RdbFileWriter(path, tmp, this.rdbOptions())
      : new AofBaseFileWriter(path, tmp, {
        timestampSec: cfg.getBool("aof-timestamp-enabled")
          ? Math.floor(Date.now() / 1000)
          : undefined,
      });
    writeDatasetSync(server, out);
  }

  private rdbOptions(): RdbWriterOptions {
    return rdbWriterOptions(this.server.config, true);
  }

  // ---- the turn: feed, flush, write guard -------------------------------------------

  /** The propagation feed (feedAppendOnlyFile's condition on aof_state). */
  feed(ops: Parameters<AofWriter["feed"]>[0]): void {
    if (this.takesOps()) this.writer.feed(ops);
  }

  /** Whether writes are logged now: feed() drops them otherwise. */
  takesOps(): boolean {
    return !this.loading &&
      (this.state === "on" || (this.state === "wait_rewrite" && this.job !== null));
  }

  private attachTurnHook(): void {
    if (this.removeTurnHook === null) {
      this.removeTurnHook = this.server.onBeforeReply(() => this.beforeReply());
    }
  }

  private detachTurnHook(): void {
    this.removeTurnHook?.();
    this.removeTurnHook = null;
    this.turnMarks.clear();
  }

  /** beforeSleep's flushAppendOnlyFile(0), before any reply of the turn is sent. */
  private beforeReply(): void {
    if (this.state === "off") return;
    const ok = this.writer.flush(false);
    if (!ok && this.policy === "always") this.failTurn();
    this.turnMarks.clear();
  }

  /** The turn's writes are not on disk: their clients get an error, never an OK. */
  private failTurn(): void {
    const reason = this.writer.writeError ?? "unknown error";
    for (const [c, mark] of this.turnMarks) {
      if (c.closing) continue;
      c.reply.truncate(mark);
      c.reply.raw(`-MISCONF Errors writing to the AOF file: ${reason}\r\n`);
      this.server.closeAfterReply(c);
    }
  }

  /** The write guard: -MISCONF while writes cannot reach the AOF; marks `always` turns. */
  writeGuard(c: Client): string | null {
    if (this.state === "off") return null;
    const err = this.writer.writeError;
    if (err !== null) return `MISCONF Errors writing to the AOF file: ${err}`;
    if (this.policy === "always" && !this.turnMarks.has(c)) {
      this.turnMarks.set(c, c.reply.len);
    }
    return null;
  }

  // ---- rewrite ---------------------------------------------------------------------

  /** BGREWRITEAOF: the reply text, or an error (prefixed `ERR`). */
  bgrewriteaof(): { ok: boolean; text: string } {
    if (this.job !== null) {
      return { ok: false, text: "ERR Background append only file rewriting already in progress" };
    }
    if (this.childActive()) {
      this.rewriteScheduled = true;
      this.consecutiveFailures = 0;
      return { ok: true, text: "Background append only file rewriting scheduled" };
    }
    if (this.rewriteBackground()) {
      return { ok: true, text: "Background append only file rewriting started" };
    }
    return {
      ok: false,
      text:
        "ERR Can't execute an AOF background rewriting. Please check the server logs for more information.",
    };
  }

  /** rewriteAppendOnlyFileBackground. */
  rewriteBackground(): boolean {
    const server = this.server;
    const log = server.logger;
    if (this.childActive()) return false;
    const err = this.ensureDir();
    if (err !== null) {
      log.warning(err);
      this.lastBgrewriteOk = false;
      return false;
    }
    this.writer.selectedDb = -1;
    this.writer.flush(true);
    if (!this.openNewIncrForAppend()) {
      this.lastBgrewriteOk = false;
      return false;
    }
    this.rewrites++;
    const cfg = server.config;
    const pid = process.pid;
    const preamble = cfg.getBool("aof-use-rdb-preamble");
    const bgPath = cfg.resolvePath(`temp-rewriteaof-bg-${pid}.aof`);
    const job: SnapshotJob = new SnapshotJob(server, "aof", {
      op: "open",
      path: bgPath,
      tmp: cfg.resolvePath(`temp-rewriteaof-${pid}.aof`),
      options: this.rdbOptions(),
      format: preamble ? "rdb" : "aof",
      timestampSec: !preamble && cfg.getBool("aof-timestamp-enabled")
        ? Math.floor(Date.now() / 1000)
        : undefined,
    }, (ok, message) => this.rewriteDone(job, bgPath, ok, message));
    this.job = job;
    log.notice(`Background append only file rewriting started by pid ${pid}`);
    this.rewriteScheduled = false;
    this.rewriteTimeStart = Date.now();
    return true;
  }

  /** openNewIncrAofForAppend: the incr file the writes go to while the base is written. */
  private openNewIncrForAppend(): boolean {
    if (this.state === "off") return true;
    const log = this.server.logger;
    let temp: AofManifest | null = null;
    let name: string;
    if (this.state === "wait_rewrite") name = this.tempIncrName;
    else {
      temp = dupManifest(this.manifest);
      name = this.newIncrName(temp);
    }
    let fd: number;
    try {
      fd = openSync(join(this.dirPath, name), "w");
    } catch (e) {
      log.warning(`Can't open the append-only file ${name}: ${errText(e)}`);
      return false;
    }
    if (temp !== null) {
      try {
        this.persistManifest(temp);
      } catch {
        closeSync(fd);
        return false;
      }
    }
    log.notice(`Creating AOF incr file ${name} on background rewrite`);
    this.writer.switchTo(fd, name, 0);
    if (temp !== null) this.manifest = temp;
    return true;
  }

  /** backgroundRewriteDoneHandler. */
  private rewriteDone(job: SnapshotJob, bgPath: string, ok: boolean, message?: string): void {
    if (this.job !== job) return;
    this.job = null;
    const log = this.server.logger;
    const finish = () => {
      try {
        unlinkSync(bgPath);
      } catch { /* renamed, or never written */ }
      if (this.state === "wait_rewrite") {
        // The temp incr file only made sense with this rewrite's base.
        this.writer.discardBuffer();
        this.writer.closeFile();
        try {
          unlinkSync(join(this.dirPath, this.tempIncrName));
        } catch { /* not there */ }
        this.rewriteScheduled = true;
      }
      this.lastRewriteTimeSec = Math.round((Date.now() - this.rewriteTimeStart) / 1000);
      this.rewriteTimeStart = -1;
    };
    const fail = () => {
      this.lastBgrewriteOk = false;
      this.consecutiveFailures++;
      finish();
    };
    if (!ok) {
      if (job.aborted) log.warning("Background AOF rewrite terminated by signal 10");
      else {
        log.warning(`Background AOF rewrite terminated with error: ${message}`);
        fail();
        return;
      }
      finish();
      return;
    }
    log.notice("Background AOF rewrite terminated with success");
    const temp = dupManifest(this.manifest);
    const baseName = this.newBaseName(temp);
    const basePath = join(this.dirPath, baseName);
    const tmpName = `temp-rewriteaof-bg-${process.pid}.aof`;
    try {
      renameSync(bgPath, basePath);
    } catch (e) {
      log.warning(
        `Error trying to rename the temporary AOF base file ${tmpName} into ${baseName}: ${
          errText(e)
        }`,
      );
      fail();
      return;
    }
    log.notice(`Successfully renamed the temporary AOF base file ${tmpName} into ${baseName}`);
    if (this.state === "wait_rewrite") {
      const incrName = this.newIncrName(temp);
      try {
        renameSync(join(this.dirPath, this.tempIncrName), join(this.dirPath, incrName));
      } catch (e) {
        log.warning(
          `Error trying to rename the temporary AOF incr file ${this.tempIncrName} into ${incrName}: ${
            errText(e)
          }`,
        );
        try {
          unlinkSync(basePath);
        } catch { /* ignore */ }
        fail();
        return;
      }
      this.writer.fileName = incrName;
      log.notice(
        `Successfully renamed the temporary AOF incr file ${this.tempIncrName} into ${incrName}`,
      );
    }
    // markRewrittenIncrAofAsHistory: every incr but the one being appended to.
    const keep = this.writer.fd >= 0 ? temp.incrs.slice(-1) : [];
    for (const ai of temp.incrs.slice(0, temp.incrs.length - keep.length)) {
      temp.history.push({ ...ai, type: "h" });
    }
    temp.incrs = keep;
    try {
      fsyncDir(this.dirPath);
      this.persistManifest(temp);
    } catch {
      try {
        unlinkSync(basePath);
      } catch { /* ignore */ }
      fail();
      return;
    }
    this.manifest = temp;
    if (this.writer.fd >= 0) {
      this.writer.currentSize = fileSize(basePath) + this.writer.lastIncrSize;
      this.rewriteBaseSize = this.writer.currentSize;
      this.writer.fsyncOffset = this.writer.currentSize;
    }
    this.delHistoryFiles();
    this.lastBgrewriteOk = true;
    this.consecutiveFailures = 0;
    log.notice("Background AOF rewrite finished successfully");
    if (this.state === "wait_rewrite") this.state = "on";
    this.lastRewriteTimeSec = Math.round((Date.now() - this.rewriteTimeStart) / 1000);
    this.rewriteTimeStart = -1;
  }

  /** killAppendOnlyChild. */
  killRewrite(): void {
    const job = this.job;
    if (job === null) return;
    this.server.logger.notice(`Killing running AOF rewrite child: ${process.pid}`);
    job.abort();
  }

  /** aofRewriteLimited: after 3 failures in a row, wait 1, 2, 4 ... 60 minutes. */
  private rewriteLimited(): boolean {
    if (this.consecutiveFailures < REWRITE_LIMIT_THRESHOLD) {
      this.nextDelayMinutes = 0;
      this.nextRewriteTime = 0;
      return false;
    }
    const now = Math.floor(Date.now() / 1000);
    if (this.nextRewriteTime !== 0) {
      if (now < this.nextRewriteTime) return true;
      this.nextRewriteTime = 0;
      return false;
    }
    this.nextDelayMinutes = this.nextDelayMinutes === 0
      ? 1
      : Math.min(this.nextDelayMinutes * 2, REWRITE_LIMIT_MAX_MINUTES);
    this.nextRewriteTime = now + this.nextDelayMinutes * 60;
    this.server.logger.warning(
      `Background AOF rewrite has repeatedly failed and triggered the limit, will retry in ${this.nextDelayMinutes} minutes`,
    );
    return true;
  }

  /** serverCron's AOF part. */
  cron(): void {
    const cfg = this.server.config;
    if (this.server.loading !== null) return;
    if (this.state !== "off") {
      const now = Date.now();
      if (this.writer.lastWriteOk) this.writer.flush(false);
      else if (now - this.lastWriteRetry >= 1000) {
        this.lastWriteRetry = now;
        this.writer.flush(false);
      }
    }
    if (this.childActive()) return;
    if (this.rewriteScheduled && !this.rewriteLimited()) {
      this.rewriteBackground();
      return;
    }
    const perc = cfg.getInt("auto-aof-rewrite-percentage");
    if (
      this.state === "on" && perc > 0 &&
      this.writer.currentSize > cfg.getMemory("auto-aof-rewrite-min-size")
    ) {
      const base = this.rewriteBaseSize || 1;
      const growth = Math.floor(this.writer.currentSize * 100 / base) - 100;
      if (growth >= perc && !this.rewriteLimited()) {
        this.server.logger.notice(`Starting automatic rewriting of AOF on ${growth}% growth`);
        this.rewriteBackground();
      }
    }
  }

  // ---- on / off --------------------------------------------------------------------

  /** startAppendOnly (CONFIG SET appendonly yes): a rewrite produces the first base. */
  start(): boolean {
    const log = this.server.logger;
    this.state = "wait_rewrite";
    if (this.childActive() && this.job === null) {
      this.rewriteScheduled = true;
      log.warning(
        "AOF was enabled but there is already another background operation. An AOF background was scheduled to start when possible.",
      );
    } else {
      if (this.job !== null) {
        log.warning(
          "AOF was enabled but there is already an AOF rewriting in background. Stopping background AOF and starting a rewrite now.",
        );
        this.killRewrite();
      }
      if (!this.rewriteBackground()) {
        this.state = "off";
        log.warning(
          "Redis needs to enable the AOF but can't trigger a background AOF rewrite operation. Check the above logs for more info about the error.",
        );
        return false;
      }
    }
    this.writer.lastFsync = Math.floor(Date.now() / 1000);
    this.attachTurnHook();
    return true;
  }

  /** stopAppendOnly (CONFIG SET appendonly no). */
  stop(): void {
    this.writer.flush(true);
    this.writer.closeFile();
    this.writer.selectedDb = -1;
    this.state = "off";
    this.rewriteScheduled = false;
    this.killRewrite();
    this.writer.discardBuffer();
    this.detachTurnHook();
  }

  /** prepareForShutdown's AOF part. */
  shutdown(): void {
    if (this.job !== null) {
      this.server.logger.warning("There is a child rewriting the AOF. Killing it!");
      this.killRewrite();
    }
    if (this.state !== "off") {
      this.server.logger.notice("Calling fsync() on the AOF file.");
      this.writer.flush(true);
      this.writer.closeFile();
    }
    this.detachTurnHook();
  }

  /** DEBUG LOADAOF: flush, empty the dataset, reload from the files. */
  debugLoadAof(): string | null {
    const server = this.server;
    // Neither this command nor what it replays is a new write (Redis: dirty reset and
    // no propagation while loading); the replayed commands run nested inside it, so
    // their queued ops are emitted below, while the feed still ignores them.
    server.preventPropagation();
    if (this.state === "on") this.writer.flush(true);
    for (const db of server.dbs) db.clear();
    try {
      this.loadManifestFromDisk();
    } catch (e) {
      return errText(e);
    }
    this.delHistoryFiles();
    this.loading = true;
    let r;
    try {
      r = loadAppendOnlyFiles(server, this.manifest, {
        dirPath: this.dirPath,
        loadTruncated: server.config.getBool("aof-load-truncated"),
        appendFilename: this.appendFilename,
      });
    } finally {
      server.propagatePending();
      this.loading = false;
    }
    if (r.status !== "ok" && r.status !== "empty" && r.status !== "not_exist") {
      return r.error ?? r.status;
    }
    server.dirty = 0;
    server.logger.warning("Append Only File loaded by DEBUG LOADAOF");
    return null;
  }

  /** INFO persistence: the AOF fields, in Redis 7.0's order. */
  info(fields: Map<string, string | number>): void {
    const w = this.writer;
    fields.set("aof_enabled", this.state !== "off" ? 1 : 0);
    fields.set("aof_rewrite_in_progress", this.job !== null ? 1 : 0);
    fields.set("aof_rewrite_scheduled", this.rewriteScheduled ? 1 : 0);
    fields.set("aof_last_rewrite_time_sec", this.lastRewriteTimeSec);
    fields.set(
      "aof_current_rewrite_time_sec",
      this.rewriteTimeStart >= 0 ? Math.round((Date.now() - this.rewriteTimeStart) / 1000) : -1,
    );
    fields.set("aof_last_bgrewrite_status", this.lastBgrewriteOk ? "ok" : "err");
    fields.set("aof_rewrites", this.rewrites);
    fields.set("aof_rewrites_consecutive_failures", this.consecutiveFailures);
    fields.set("aof_last_write_status", w.writeError === null ? "ok" : "err");
    if (this.state !== "off") {
      // After module_fork_last_cow_size, as Redis appends them.
      fields.set("aof_current_size", w.currentSize);
      fields.set("aof_base_size", this.rewriteBaseSize);
      fields.set("aof_pending_rewrite", this.rewriteScheduled ? 1 : 0);
      fields.set("aof_buffer_length", w.bufferLength);
      fields.set("aof_pending_bio_fsync", w.pendingFsyncs);
      fields.set("aof_delayed_fsync", w.delayedFsync);
    }
    // Redis appends the loading_* fields after the AOF ones.
    loadingInfo(this.server, fields);
  }
}

const states = new WeakMap<Server, AofPersistence>();

/** The AOF state of `server` (created on first use). */
export function aofOf(server: Server): AofPersistence {
  let s = states.get(server);
  if (!s) states.set(server, s = new AofPersistence(server));
  return s;
}

/** Test seam: makes `server`'s AOF writer use `ops` (fake disks that fail on demand). */
export function setAofFileOps(server: Server, ops: AofFileOps): void {
  aofOf(server).writer.setFileOps(ops);
}

registerInfoSection("persistence", (server, fields) => aofOf(server).info(fields));

/** Wires the AOF into a server: feed, cron, write guard, CONFIG SET appendonly, shutdown. */
export function installAof(server: Server): void {
  const aof = aofOf(server);
  server.addFeed((ops) => aof.feed(ops), () => aof.takesOps());
  server.onCron(() => aof.cron());
  server.addWriteGuard((c) => aof.writeGuard(c));
  server.config.onChange("appendonly", (v: string) => {
    if (v === "yes" && aof.state === "off") {
      if (!aof.start()) throw new ConfigError("Unable to turn on AOF. Check server logs.");
    } else if (v === "no" && aof.state !== "off") aof.stop();
  });
  server.onShutdown(() => aof.shutdown());
}
