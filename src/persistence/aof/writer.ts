/**
 * The AOF writer: the buffer the propagation feed fills during an event-loop turn, and
 * its flush to the open incr file under the `appendfsync` policy (Redis 7.0 aof.c
 * `feedAppendOnlyFile` + `flushAppendOnlyFile`).
 *
 * - The buffer is written with one write(2) at the end of the turn, before any reply of
 *   the turn is sent, whatever the policy: a write acknowledged to a client is at least
 *   in the OS page cache, so it survives the process being killed.
 * - `always`: the write is followed by fdatasync before the replies (one sync per turn
 *   for every write of the turn: group commit). If either fails, `flush()` says so and
 *   the caller must not acknowledge the turn's writes (Redis exits instead).
 * - `everysec`: fdatasync runs off the main thread about once a second. While one is
 *   still running, writes are postponed for up to 2 seconds, then written anyway
 *   (`aof_delayed_fsync`), as Redis does.
 * - `no`: the OS decides when to sync.
 * A failed write leaves the data in the buffer (retried every second by the cron) and
 * sets `lastWriteOk = false`, which refuses writes with -MISCONF until a write succeeds.
 */
import { close, closeSync, fdatasync, fdatasyncSync, ftruncateSync, writeSync } from "node:fs";
import type { PropagatedOp } from "../../server/server.ts";
import type { Logger } from "../../log.ts";
import { encodeTimestamp } from "./stream.ts";
import { putHeader } from "../../server/wire.ts";
import { writeLatin1 } from "../../util/latin1.ts";

export type AppendFsync = "always" | "everysec" | "no";

/** The file operations the writer uses: node:fs, or a fake that fails on demand in tests. */
export interface AofFileOps {
  writeSync(fd: number, buf: Uint8Array, offset: number, length: number): number;
  fdatasyncSync(fd: number): void;
  fdatasync(fd: number, cb: (err: Error | null) => void): void;
  ftruncateSync(fd: number, len: number): void;
  close(fd: number): void;
}

export const nodeFileOps: AofFileOps = {
  writeSync: (fd, buf, offset, length) => writeSync(fd, buf, offset, length),
  fdatasyncSync: (fd) => fdatasyncSync(fd),
  fdatasync: (fd, cb) => fdatasync(fd, (err) => cb(err ?? null)),
  ftruncateSync: (fd, len) => ftruncateSync(fd, len),
  close: (fd) => close(fd, () => {}),
};

/** What the writer needs to know about the server, read at each flush. */
export interface AofWriterHost {
  readonly logger: Logger;
  appendfsync(): AppendFsync;
  timestampsEnabled(): boolean;
  /** `no-appendfsync-on-rewrite yes` and a background job is running. */
  skipFsync(): boolean;
}

/** aof.c AOF_WRITE_LOG_ERROR_RATE: at most one write-error log line per 30 s. */
const WRITE_ERROR_LOG_RATE_S = 30;

function unixtime(): number {
  return Math.floor(Date.now() / 1000);
}

function errText(e: unknown): string {
  const err = e as { code?: string; message?: string };
  if (err.code === "ENOSPC") return "No space left on device";
  if (err.code === "EIO") return "Input/output error";
  if (err.code === "EBADF") return "Bad file descriptor";
  if (err.code === "EROFS") return "Read-only file system";
  if (err.code === "EDQUOT") return "Disk quota exceeded";
  return err.message ?? String(e);
}

export class AofWriter {
  /** The open incr file (-1: none), and its name for log lines. */
  fd = -1;
  fileName = "";
  /** aof_buf: the turn's commands, encoded straight into bytes (no string building). */
  private buf = new Uint8Array(64 * 1024);
  private bufLength = 0;
  /** The db the last appended command ran in (-1: the next command gets a SELECT). */
  selectedDb = -1;
  private curTimestamp = 0;

  /** aof_current_size: base + every incr, as written. */
  currentSize = 0;
  /** aof_last_incr_size: bytes in the open incr file. */
  lastIncrSize = 0;
  /** aof_fsync_offset: currentSize when the last sync started. */
  fsyncOffset = 0;
  /** aof_last_fsync (unix seconds). */
  lastFsync = unixtime();
  /** Background fsyncs not finished yet (aof_pending_bio_fsync). */
  pendingFsyncs = 0;
  private flushPostponedStart = 0;
  /** aof_delayed_fsync. */
  delayedFsync = 0;
  /** aof_last_write_status / aof_bio_fsync_status, with the error text. */
  lastWriteOk = true;
  lastWriteError = "";
  bioFsyncOk = true;
  bioFsyncError = "";
  private lastWriteErrorLog = 0;

  constructor(private host: AofWriterHost, private fs: AofFileOps = nodeFileOps) {}

  /** Test seam: the file operations of a running writer (failure injection). */
  setFileOps(fs: AofFileOps): void {
    this.fs = fs;
  }

  /** Bytes waiting to be written (aof_buffer_length). */
  get bufferLength(): number {
    return this.bufLength;
  }

  /** Whether writes must be refused (writeCommandsDeniedByDiskError's AOF part). */
  get writeError(): string | null {
    if (!this.lastWriteOk) return this.lastWriteError;
    if (!this.bioFsyncOk) return this.bioFsyncError;
    return null;
  }

  private room(n: number): void {
    if (this.bufLength + n <= this.buf.length) return;
    const nb = new Uint8Array(Math.max(this.bufLength + n, this.buf.length * 2));
    nb.set(this.buf.subarray(0, this.bufLength));
    this.buf = nb;
  }

  /** Appends Latin-1 text that is known to fit (room() was called). */
  private put(s: string): void {
    this.bufLength = writeLatin1(this.buf, this.bufLength, s);
  }

  private append(s: string): void {
    this.room(s.length);
    this.put(s);
  }

  /** catAppendOnlyGenericCommand: `*<argc>\r\n` then `$<len>\r\n<arg>\r\n` per argument. */
  private appendCommand(argv: readonly string[]): void {
    let n = 16;
    for (let i = 0; i < argv.length; i++) n += argv[i].length + 16;
    this.room(n);
    const b = this.buf;
    let p = putHeader(b, this.bufLength, 42, argv.length);
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i];
      p = writeLatin1(b, putHeader(b, p, 36, a.length), a);
      b[p] = 13;
      b[p + 1] = 10;
      p += 2;
    }
    this.bufLength = p;
  }

  /** feedAppendOnlyFile for each op: `#TS:` when the second changed, SELECT, the command. */
  feed(ops: readonly PropagatedOp[]): void {
    const ts = this.host.timestampsEnabled();
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i];
      if (ts) {
        const now = unixtime();
        if (this.curTimestamp < now) {
          this.append(encodeTimestamp(now));
          this.curTimestamp = now;
        }
      }
      if (op.db !== this.selectedDb) {
        this.appendCommand(["SELECT", String(op.db)]);
        this.selectedDb = op.db;
      }
      this.appendCommand(op.argv);
    }
  }

  /** Drops what is buffered (the AOF was turned off or the buffer belongs to a dead file). */
  discardBuffer(): void {
    this.bufLength = 0;
    if (this.buf.length > 4 * 1024 * 1024) this.buf = new Uint8Array(64 * 1024);
  }

  private logWriteError(msg: string): void {
    const now = unixtime();
    if (now - this.lastWriteErrorLog > WRITE_ERROR_LOG_RATE_S) {
      this.lastWriteErrorLog = now;
      this.host.logger.warning(msg);
    }
  }

  /**
   * flushAppendOnlyFile. Returns false when the buffer could not be written or, under
   * `always`, synced: nothing of this turn may then be acknowledged as durable.
   */
  flush(force = false): boolean {
    const policy = this.host.appendfsync();
    if (this.fd < 0) return true;
    if (this.bufLength === 0) {
      // An everysec sync is still owed for data written in an earlier second.
      if (
        policy === "everysec" && this.fsyncOffset !== this.currentSize &&
        unixtime() > this.lastFsync && this.pendingFsyncs === 0
      ) {
        this.fsyncIfNeeded(policy, false);
        return true;
      }
      // Under `always`, a sync that failed before is owed before anything is acked.
      if (policy === "always" && this.fsyncOffset !== this.currentSize) {
        const ok = this.fsyncIfNeeded(policy, false);
        // Everything written is on disk now and nothing waits: the error is over (else
        // a failed fsync refused writes forever, as no write comes to clear it).
        if (ok && !this.lastWriteOk && this.fsyncOffset === this.currentSize) {
          this.host.logger.warning("AOF write error looks solved, Redis can write again.");
          this.lastWriteOk = true;
        }
        return ok;
      }
      return true;
    }
    const syncInProgress = policy === "everysec" && this.pendingFsyncs > 0;
    if (policy === "everysec" && !force && syncInProgress) {
      const now = unixtime();
      if (this.flushPostponedStart === 0) {
        this.flushPostponedStart = now;
        return true;
      } else if (now - this.flushPostponedStart < 2) {
        return true;
      }
      this.delayedFsync++;
      this.host.logger.notice(
        "Asynchronous AOF fsync is taking too long (disk is busy?). Writing the AOF buffer without waiting for fsync to complete, this may slow down Redis.",
      );
    }
    this.flushPostponedStart = 0;
    const n = this.bufLength;
    let written = 0;
    try {
      while (written < n) written += this.fs.writeSync(this.fd, this.buf, written, n - written);
    } catch (e) {
      this.onWriteError(e, written, n);
      return false;
    }
    if (!this.lastWriteOk) {
      this.host.logger.warning("AOF write error looks solved, Redis can write again.");
      this.lastWriteOk = true;
    }
    this.currentSize += n;
    this.lastIncrSize += n;
    this.discardBuffer();
    return this.fsyncIfNeeded(policy, syncInProgress);
  }

  private onWriteError(e: unknown, written: number, n: number): void {
    const text = errText(e);
    if (written === 0) {
      this.logWriteError(`Error writing to the AOF file: ${text}`);
    } else {
      this.logWriteError(
        `Short write while writing to the AOF file: (nwritten=${written}, expected=${n})`,
      );
      // Remove the partial command so the file stays loadable; if that fails too,
      // keep only the unwritten part buffered.
      try {
        this.fs.ftruncateSync(this.fd, this.lastIncrSize);
        written = 0;
      } catch (t) {
        this.logWriteError(
          `Could not remove short write from the append-only file.  Redis may refuse to load the AOF the next time it starts.  ftruncate: ${
            errText(t)
          }`,
        );
      }
    }
    this.lastWriteOk = false;
    this.lastWriteError = text;
    if (written > 0) {
      this.currentSize += written;
      this.lastIncrSize += written;
      this.buf.copyWithin(0, written, this.bufLength);
      this.bufLength -= written;
    }
  }

  private fsyncIfNeeded(policy: AppendFsync, syncInProgress: boolean): boolean {
    if (this.host.skipFsync()) return true;
    if (policy === "always") {
      try {
        this.fs.fdatasyncSync(this.fd);
      } catch (e) {
        const text = errText(e);
        this.logWriteError(
          `Can't persist AOF for fsync error when the AOF fsync policy is 'always': ${text}.`,
        );
        this.lastWriteOk = false;
        this.lastWriteError = text;
        return false;
      }
      this.fsyncOffset = this.currentSize;
      this.lastFsync = unixtime();
    } else if (policy === "everysec" && unixtime() > this.lastFsync) {
      if (!syncInProgress) this.backgroundFsync(this.fd, false);
      this.lastFsync = unixtime();
    }
    return true;
  }

  /** aof_background_fsync (and _and_close): an fdatasync on the thread pool. */
  private backgroundFsync(fd: number, thenClose: boolean): void {
    this.pendingFsyncs++;
    const offset = this.currentSize;
    this.fs.fdatasync(fd, (err) => {
      this.pendingFsyncs--;
      // bio.c ignores EBADF and EINVAL (a closed descriptor, a file that cannot sync).
      const code = (err as { code?: string } | null)?.code;
      if (err && code !== "EBADF" && code !== "EINVAL") {
        const text = errText(err);
        if (this.bioFsyncOk) this.host.logger.warning(`Fail to fsync the AOF file: ${text}`);
        this.bioFsyncOk = false;
        this.bioFsyncError = text;
      } else {
        if (!this.bioFsyncOk) {
          this.host.logger.notice("AOF fsync error looks solved, Redis can write again.");
        }
        this.bioFsyncOk = true;
        if (!thenClose) this.fsyncOffset = Math.max(this.fsyncOffset, offset);
      }
      if (thenClose) this.fs.close(fd);
    });
  }

  /**
   * Makes `fd` the file appended to (a new incr file after a rewrite started). The old
   * one is synced and closed in the background; the next command gets a SELECT.
   */
  switchTo(fd: number, fileName: string, size: number): void {
    if (this.fd >= 0) {
      this.backgroundFsync(this.fd, true);
      this.fsyncOffset = this.currentSize;
      this.lastFsync = unixtime();
    }
    this.fd = fd;
    this.fileName = fileName;
    this.lastIncrSize = size;
    this.selectedDb = -1;
  }

  /** Syncs and closes the file now (turning the AOF off, shutdown). */
  closeFile(): void {
    if (this.fd < 0) return;
    try {
      this.fs.fdatasyncSync(this.fd);
    } catch (e) {
      this.host.logger.warning(`Fail to fsync the AOF file: ${errText(e)}`);
    }
    try {
      closeSync(this.fd);
    } catch { /* already closed */ }
    this.fd = -1;
    this.fsyncOffset = this.currentSize;
  }
}
