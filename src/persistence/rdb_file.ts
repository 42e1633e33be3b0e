/**
 * RDB files on disk: writing one crash-safely (temp file, fsync, rename, fsync of the
 * directory, as Redis's rdbSave) and loading one into the databases at start-up
 * (Redis's rdbLoad), streaming in 1 MiB reads so a big file is never held twice.
 *
 * Used by SAVE directly and by the BGSAVE Worker (snapshot_worker.ts) for the file part.
 */
import {
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  openSync,
  readSync,
  renameSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { dirname } from "node:path";
import { checksumError, RdbParser } from "./rdb/reader.ts";
import { Crc64 } from "./rdb/crc64.ts";
import type { WorkerReply, WorkerRequest } from "./snapshot_worker.ts";
import { RdbWriter, type RdbWriterOptions } from "./rdb/writer.ts";
import type { RdbEntry, RdbValue } from "./rdb/types.ts";
import { fromRdbValue, type ValueLimits } from "./values.ts";
import { type Database, snapshotState } from "../keyspace/db.ts";
import { reservedSlots } from "../keyspace/keytable.ts";
import { debugDelay, runSteps, type Step } from "../util/steps.ts";

/**
 * A file written crash-safely, as Redis writes RDB files, AOF bases and manifests: bytes
 * go to `tmp`; commit fsyncs it, renames it over `path` and fsyncs the directory, so a
 * crash leaves either the old file or the complete new one.
 */
export class DurableFile {
  private fd: number;

  constructor(readonly path: string, readonly tmp: string) {
    this.fd = openSync(tmp, "w");
  }

  write(bytes: Uint8Array, length = bytes.length): void {
    let off = 0;
    while (off < length) off += writeSync(this.fd, bytes, off, length - off);
  }

  /** Syncs, renames over `path`, syncs the directory; returns the size. Aborts on error. */
  commit(): number {
    try {
      fsyncSync(this.fd);
      const size = fstatSync(this.fd).size;
      closeSync(this.fd);
      this.fd = -1;
      renameSync(this.tmp, this.path);
      fsyncDir(dirname(this.path));
      return size;
    } catch (e) {
      this.abort();
      throw e;
    }
  }

  /** Drops the temp file (a failed or killed save). */
  abort(): void {
    if (this.fd >= 0) {
      try {
        closeSync(this.fd);
      } catch { /* already closed */ }
      this.fd = -1;
    }
    try {
      unlinkSync(this.tmp);
    } catch { /* never created or already gone */ }
  }
}

/** An RDB file being written: bytes go to `tmp`, which replaces `path` on commit. */
export class RdbFileWriter {
  private file: DurableFile;
  readonly writer: RdbWriter;
  private failed: Error | null = null;

  constructor(readonly path: string, readonly tmp: string, opts: RdbWriterOptions) {
    this.file = new DurableFile(path, tmp);
    this.writer = new RdbWriter({
      ...opts,
      onChunk: (chunk) => this.write(chunk),
    });
    this.writer.start();
  }

  private write(chunk: Uint8Array): void {
    if (this.failed) return;
    try {
      this.file.write(chunk);
    } catch (e) {
      this.failed = e as Error;
    }
  }

  selectDb(db: number, keys: number, expires: number): void {
    this.writer.selectDb(db, keys, expires);
  }

  entry(key: string, value: RdbValue, expireAt?: number): void {
    this.writer.writeEntry(key, value, expireAt);
  }

  /** Ends the file, syncs it and renames it over `path`. Returns its size. */
  commit(): number {
    this.writer.end();
    this.writer.flush();
    if (this.failed) {
      this.abort();
      throw this.failed;
    }
    return this.file.commit();
  }

  /** Drops the temp file (a failed or killed save). */
  abort(): void {
    this.file.abort();
  }
}

/** fsync of a directory, so a rename in it survives a crash. */
export function fsyncDir(dir: string): void {
  let fd = -1;
  try {
    fd = openSync(dir, "r");
    fsyncSync(fd);
  } catch {
    // Some filesystems refuse fsync on directories; the rename is still atomic.
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

export interface LoadResult {
  version: number;
  aux: Map<string, string>;
  keysLoaded: number;
  keysExpired: number;
  bytes: number;
  /** Offset just past the RDB's EOF marker and checksum (an old-style AOF tail follows). */
  end: number;
}

/** A problem that stops loading; the message names the file offset and key. */
export class RdbLoadError extends Error {}

export interface RdbLoadOptions {
  now?: number;
  onWarning?: (msg: string) => void;
  /** Called about every 256 MiB read (the log's progress lines). */
  progress?: (bytes: number) => void;
  /** Called after each read with the bytes read so far (INFO loading_loaded_bytes). */
  onRead?: (bytes: number) => void;
  /** An AOF base keeps keys whose TTL passed (RDBFLAGS_AOF_PREAMBLE): they expire later. */
  keepExpired?: boolean;
  /** `key-load-delay`: a pause after each key (see debugDelay). */
  keyLoadDelay?: number;
  /**
   * A snapshot Worker that computes the CRC-64 in parallel (loadRdbFileSteps only: the
   * load then waits for its answer before it returns; loadRdbFile, which cannot wait,
   * hashes in the parser). The CRC took 5% of loading 1M keys on the main thread.
   */
  crcWorker?: Worker;
}

/**
 * Loads `path` into `dbs` (which must be empty), at once. Keys whose TTL has passed are
 * dropped as Redis's master does. Throws RdbLoadError on any damage: the caller must
 * not start with a partial dataset.
 */
export function loadRdbFile(
  path: string,
  dbs: Database[],
  limits: ValueLimits,
  opts: RdbLoadOptions = {},
): LoadResult {
  return runSteps(loadRdbFileSteps(path, dbs, limits, opts));
}

/** How long a load waits for the Worker's CRC-64 before computing it itself. */
const CRC_WAIT_MS = 10_000;

/** CRC-64 of the first `length` bytes of the open file `fd`. */
export function crcOfPrefix(fd: number, length: number): bigint {
  const crc = new Crc64();
  const buf = new Uint8Array(1 << 20);
  for (let at = 0; at < length;) {
    const got = readSync(fd, buf, 0, Math.min(buf.length, length - at), at);
    if (got === 0) break;
    crc.update(buf, 0, got);
    at += got;
  }
  return crc.value();
}

/**
 * Keys stored between two yields of loadRdbFileSteps: about a millisecond of work. The
 * stepper reads the clock at each yield (a runtime call: 128 keys a step spent 1.5% of a
 * 1M-key load there).
 */
const KEYS_PER_STEP = 1024;

/** Hashes per message to the Worker building the index (256 KiB). */
const HASHES_PER_MESSAGE = 65536;

/** loadRdbFile as steps: yields every few keys, so a caller can serve clients between. */
export function* loadRdbFileSteps(
  path: string,
  dbs: Database[],
  limits: ValueLimits,
  opts: RdbLoadOptions = {},
): Generator<Step, LoadResult, void> {
  const fd = openSync(path, "r");
  const st = fstatSync(fd);
  const fileSize = st.size;
  const crcWorker = opts.crcWorker;
  let crcReply: bigint | null | undefined;
  // Databases whose index the Worker builds: the slots RESIZEDB asked for, and how many
  // of the appended keys' hashes went out so far.
  const streamed = new Map<number, { slots: number; sent: number }>();
  const indexReplies = new Map<number, WorkerReply & { op: "index" }>();
  /** Resolves the wait in progress (see waitWorker) when the Worker answers. */
  let wakeUp: (() => void) | null = null;
  /**
   * What a step yields while the load waits on the Worker: a promise that its next
   * message (or `ms`) resolves, which runStepsAsync awaits with the event loop turning,
   * instead of spinning until the slice ends.
   */
  const waitWorker = (ms: number): Promise<void> =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        wakeUp = null;
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      wakeUp = done;
    });
  if (crcWorker !== undefined) {
    crcWorker.onmessage = (ev: MessageEvent<WorkerReply>) => {
      const m = ev.data;
      if (m.op === "crc") crcReply = m.value;
      else if (m.op === "index") indexReplies.set(m.db, m);
      wakeUp?.();
    };
    crcWorker.onerror = (ev) => {
      ev.preventDefault?.();
      crcReply = null; // computed here instead
    };
    // The Worker reads the file itself; its size and inode tell it that it has this one.
    crcWorker.postMessage(
      { op: "crc-file", path, size: fileSize, ino: Number(st.ino) } satisfies WorkerRequest,
    );
  }
  const parser = new RdbParser({
    externalChecksum: crcWorker !== undefined,
    databases: dbs.length,
    listNodes: true,
    intsetBlobs: true,
    packedHashes: true,
    packedZsets: true,
    onWarning: (msg) => opts.onWarning?.(msg),
    // Sized at once, as Redis's dictExpand on RESIZEDB. A key takes at least 3 bytes
    // (type, key length, value length), so a damaged count cannot make the table
    // reserve more than a third of the file's size in entries.
    // With the Worker, the index is built there instead (see sendHashes).
    onResizeDb: (db, keys, expires) => {
      const dict = dbs[db]?.dict;
      if (dict === undefined) return;
      const n = Math.min(keys, Math.floor(fileSize / 3));
      if (dbs[db].expires.size === 0) dbs[db].expires.reserve(Math.min(expires, n));
      if (crcWorker === undefined || dict.size !== 0 || dict.appendedCount !== 0) {
        dict.reserve(n);
      } else if (!streamed.has(db)) {
        streamed.set(db, { slots: reservedSlots(n), sent: 0 });
      }
    },
  });
  /** Hands the Worker the hashes of `db`'s keys appended since last time. */
  const sendHashes = (db: number, min: number): void => {
    const s = streamed.get(db);
    if (s === undefined) return;
    const dict = dbs[db].dict;
    if (dict.appendedCount - s.sent < min) return;
    const hashes = dict.appendedHashesSince(s.sent);
    s.sent += hashes.length;
    crcWorker!.postMessage(
      { op: "index-add", db, slots: s.slots, hashes } satisfies WorkerRequest,
      [hashes.buffer as ArrayBuffer],
    );
  };
  const now = opts.now ?? Date.now();
  const keyLoadDelay = opts.keyLoadDelay ?? 0;
  let keysLoaded = 0;
  let keysExpired = 0;
  let bytes = 0;
  let nextProgress = 256 * 1024 * 1024;
  const store = (e: RdbEntry) => {
    const db = dbs[e.db];
    if (e.expireAtMs !== undefined && e.expireAtMs < now && !opts.keepExpired) {
      keysExpired++;
      return;
    }
    const dict = db.dict;
    const v = fromRdbValue(e.value, limits);
    if (v === null) return;
    // Appended without a lookup; indexAppended (below, at the end of the file) indexes
    // the keys in one pass and finds a key stored twice.
    const i = dict.append(e.key, v);
    // The current snapshot bit: a stale one would make the next BGSAVE skip the key.
    dict.setWordAt(i, snapshotState.parity);
    if (e.expireAtMs !== undefined) db.expires.set(e.key, e.expireAtMs);
    keysLoaded++;
    if (keyLoadDelay) debugDelay(keyLoadDelay);
  };
  try {
    const buf = new Uint8Array(1 << 20);
    let n = 0;
    while (true) {
      const got = readSync(fd, buf, 0, buf.length, null);
      if (got === 0) break;
      bytes += got;
      // The parser may keep a reference to the chunk: hand it a copy of what was read.
      const chunk = buf.slice(0, got);
      parser.push(chunk);
      for (let e = parser.next(); e !== null; e = parser.next()) {
        store(e);
        if (++n % KEYS_PER_STEP === 0 || keyLoadDelay) {
          if (streamed.size !== 0) sendHashes(e.db, HASHES_PER_MESSAGE);
          yield;
        }
      }
      opts.onRead?.(bytes);
      if (bytes >= nextProgress) {
        opts.progress?.(bytes);
        nextProgress += 256 * 1024 * 1024;
      }
      yield;
    }
    parser.finish();
    for (let e = parser.next(); e !== null; e = parser.next()) store(e);
    if (!parser.done) throw new RdbLoadError(`Short read loading ${path}: the file ends early`);
    if (crcWorker !== undefined && parser.checksumEnd >= 0) {
      const stored = parser.checksum!.stored;
      crcWorker.postMessage({ op: "crc-end", length: parser.checksumEnd } satisfies WorkerRequest);
      const until = Date.now() + CRC_WAIT_MS;
      while (crcReply === undefined && Date.now() < until) yield waitWorker(until - Date.now());
      // No answer (a Worker that never started) or none it could give: hash it here.
      const computed = crcReply ?? crcOfPrefix(fd, parser.checksumEnd);
      parser.checksum!.computed = computed;
      if (stored !== 0n && stored !== computed) {
        throw new RdbLoadError(checksumError(stored, computed, parser.checksumEnd).message);
      }
    }
    for (const db of streamed.keys()) {
      sendHashes(db, 0);
      crcWorker!.postMessage({ op: "index-end", db } satisfies WorkerRequest);
    }
    const until = Date.now() + CRC_WAIT_MS;
    while (indexReplies.size < streamed.size && Date.now() < until) {
      yield waitWorker(until - Date.now());
    }
    for (const db of dbs) {
      // The Worker's index when it built one that fits; otherwise the pass here, which
      // also names a key stored twice.
      const r = indexReplies.get(db.id);
      if (r?.index && db.dict.adoptIndex(r.index, r.candidates!)) continue;
      const dup = db.dict.indexAppended();
      if (dup !== null) throw new RdbLoadError(`RDB has duplicated key '${dup}' in DB ${db.id}`);
    }
  } catch (e) {
    if (e instanceof RdbLoadError) throw e;
    throw new RdbLoadError((e as Error).message);
  } finally {
    closeSync(fd);
  }
  return {
    version: parser.version,
    aux: parser.aux,
    keysLoaded,
    keysExpired,
    bytes,
    end: parser.offset,
  };
}

export function rdbExists(path: string): boolean {
  return existsSync(path);
}
