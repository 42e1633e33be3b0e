/**
 * A `.base.aof` being written (the AOF base when `aof-use-rdb-preamble no`): the same
 * interface as RdbFileWriter, so the snapshot Worker can produce either kind of base.
 * Bytes go to a temp file, which is fsynced and renamed over the final name on commit.
 */
import {
  closeSync,
  fstatSync,
  fsyncSync,
  openSync,
  renameSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { dirname } from "node:path";
import type { RdbValue } from "../rdb/types.ts";
import { fsyncDir } from "../rdb_file.ts";
import { rewriteKey, selectCommand } from "./rewrite.ts";
import { encodeTimestamp } from "./stream.ts";

/** Text buffered before a write(2): big enough to amortize the call. */
const FLUSH_AT = 256 * 1024;

export interface AofBaseOptions {
  /** With `aof-timestamp-enabled yes` the base starts with `#TS:<sec>`. */
  timestampSec?: number;
}

export class AofBaseFileWriter {
  private fd: number;
  private pending = "";
  private bytes = new Uint8Array(FLUSH_AT * 2);

  constructor(readonly path: string, readonly tmp: string, opts: AofBaseOptions = {}) {
    this.fd = openSync(tmp, "w");
    if (opts.timestampSec !== undefined) this.pending = encodeTimestamp(opts.timestampSec);
  }

  private write(force: boolean): void {
    if (!force && this.pending.length < FLUSH_AT) return;
    const s = this.pending;
    this.pending = "";
    if (this.bytes.length < s.length) this.bytes = new Uint8Array(s.length);
    const b = this.bytes;
    for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
    let off = 0;
    while (off < s.length) off += writeSync(this.fd, b, off, s.length - off);
  }

  selectDb(db: number, _keys: number, _expires: number): void {
    this.pending += selectCommand(db);
    this.write(false);
  }

  entry(key: string, value: RdbValue, expireAt?: number): void {
    this.pending += rewriteKey(key, value, expireAt);
    this.write(false);
  }

  /** Writes what is buffered, syncs, renames over `path`. Returns the file size. */
  commit(): number {
    try {
      this.write(true);
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
