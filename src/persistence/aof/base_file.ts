/**
 * A `.base.aof` being written (the AOF base when `aof-use-rdb-preamble no`): the same
 * interface as RdbFileWriter, so the snapshot Worker can produce either kind of base.
 * Bytes go to a temp file, which is fsynced and renamed over the final name on commit.
 */
import type { RdbValue } from "../rdb/types.ts";
import { DurableFile } from "../rdb_file.ts";
import { rewriteKey, selectCommand } from "./rewrite.ts";
import { encodeTimestamp } from "./stream.ts";

/** Text buffered before a write(2): big enough to amortize the call. */
const FLUSH_AT = 256 * 1024;

export interface AofBaseOptions {
  /** With `aof-timestamp-enabled yes` the base starts with `#TS:<sec>`. */
  timestampSec?: number;
}

export class AofBaseFileWriter {
  private file: DurableFile;
  private pending = "";
  private bytes = new Uint8Array(FLUSH_AT * 2);

  constructor(readonly path: string, readonly tmp: string, opts: AofBaseOptions = {}) {
    this.file = new DurableFile(path, tmp);
    if (opts.timestampSec !== undefined) this.pending = encodeTimestamp(opts.timestampSec);
  }

  private write(force: boolean): void {
    if (!force && this.pending.length < FLUSH_AT) return;
    const s = this.pending;
    this.pending = "";
    if (this.bytes.length < s.length) this.bytes = new Uint8Array(s.length);
    const b = this.bytes;
    for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
    this.file.write(b, s.length);
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
    } catch (e) {
      this.abort();
      throw e;
    }
    return this.file.commit();
  }

  abort(): void {
    this.file.abort();
  }
}
