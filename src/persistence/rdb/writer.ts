/**
 * The RDB writer: produces what Redis 7.0's `rdbSaveRio` writes (RDB version 10), in
 * chunks, so a Worker can stream a snapshot to a file without building it in memory.
 *
 * Byte for byte it follows rdb.c: the magic, the AUX fields of `rdbSaveInfoAuxFields`
 * in their order, FUNCTION2 records, SELECTDB + RESIZEDB per non-empty db, per key the
 * EXPIRETIME_MS / IDLE / FREQ opcodes, the type, the key and the value, then EOF and the
 * CRC-64 (0 with `rdbchecksum no`). Every string goes through `rdbSaveRawString`'s rules:
 * an int8/16/32 encoding for canonical integers, LZF when compression is on, the string
 * is longer than 20 bytes and LZF saves at least 4 bytes, else verbatim.
 *
 * Encodings are those Redis 7.0 saves: lists as QUICKLIST_2 with listpack nodes (plain
 * nodes for elements over the packed threshold), hashes and sorted sets as listpacks or
 * their plain forms, sets as intsets or plain sets. The value's `encoding` hint decides,
 * as the in-memory encoding decides in Redis; without a hint, Redis 7.0's default
 * thresholds do. With the same hints, aux values and compression setting the output is
 * identical to Redis's file for the same dataset (tests check this on Redis-made files).
 */
import { Crc64 } from "./crc64.ts";
import { intsetEncode } from "./intset.ts";
import { encoded, listpackEncodeInto } from "./listpack.ts";
import { writeLatin1 } from "../../util/latin1.ts";
import { lzfCompress, lzfCompressInto } from "./lzf.ts";
import {
  d2string,
  latin1,
  latin1Bytes,
  QUICKLIST_NODE_CONTAINER_PACKED,
  QUICKLIST_NODE_CONTAINER_PLAIN,
  RDB_VERSION_7_0,
  RdbEntry,
  RdbOpcode,
  RdbSet,
  RdbType,
  RdbValue,
  stringToInt64,
} from "./types.ts";

/** The config values that pick encodings (redis.conf names in the comments). */
export interface EncodingThresholds {
  /** hash-max-listpack-entries */
  hashMaxListpackEntries: number;
  /** hash-max-listpack-value */
  hashMaxListpackValue: number;
  /** zset-max-listpack-entries */
  zsetMaxListpackEntries: number;
  /** zset-max-listpack-value */
  zsetMaxListpackValue: number;
  /** set-max-intset-entries */
  setMaxIntsetEntries: number;
  /** list-max-listpack-size (negative: a byte limit per node; positive: elements). */
  listMaxListpackSize: number;
  /** Elements this large get a node of their own, PLAIN (quicklist packed_threshold). */
  listPackedThreshold: number;
}

/** Redis 7.0's defaults. */
export const DEFAULT_THRESHOLDS: EncodingThresholds = {
  hashMaxListpackEntries: 128,
  hashMaxListpackValue: 64,
  zsetMaxListpackEntries: 128,
  zsetMaxListpackValue: 64,
  setMaxIntsetEntries: 512,
  listMaxListpackSize: -2,
  listPackedThreshold: 1 << 30,
};

export interface RdbWriterOptions {
  /** rdbcompression (default true). */
  compression?: boolean;
  /** rdbchecksum (default true); off writes a 0 checksum. */
  checksum?: boolean;
  /** Writing an AOF base (`aof-base 1`). */
  aofBase?: boolean;
  /** The `redis-ver` aux field (default "7.0.15"). */
  redisVersion?: string;
  /** The `ctime` aux field, Unix seconds (default now). */
  ctime?: number;
  /** The `used-mem` aux field (default 0). */
  usedMem?: number;
  /** repl-stream-db / repl-id / repl-offset, written only when given (as for a replica). */
  replication?: { streamDb: number; replId: string; offset: number };
  /** Size of the chunks handed out (default 256 KiB; larger strings come whole). */
  chunkSize?: number;
  /** Receives each finished chunk (ownership passes); else collect with takeChunks(). */
  onChunk?: (chunk: Uint8Array) => void;
  thresholds?: Partial<EncodingThresholds>;
}

/** Output buffer: fills fixed-size chunks, checksums and hands each one out when full. */
class Sink {
  buf: Uint8Array;
  pos = 0;
  total = 0;
  readonly chunks: Uint8Array[] = [];
  readonly crc: Crc64 | null;
  constructor(
    private readonly chunkSize: number,
    checksum: boolean,
    private readonly onChunk?: (chunk: Uint8Array) => void,
  ) {
    this.buf = new Uint8Array(chunkSize);
    this.crc = checksum ? new Crc64() : null;
  }

  /** Makes room for n contiguous bytes at `pos`. */
  room(n: number): Uint8Array {
    if (this.pos + n > this.buf.length) {
      this.flush();
      if (n > this.buf.length) this.buf = new Uint8Array(n);
    }
    return this.buf;
  }

  flush(): void {
    if (this.pos === 0) return;
    const chunk = this.buf.subarray(0, this.pos);
    this.emit(chunk);
    this.buf = new Uint8Array(this.chunkSize);
    this.pos = 0;
  }

  /** Hands out a finished array we own without copying it. */
  emit(chunk: Uint8Array): void {
    this.crc?.update(chunk);
    this.total += chunk.length;
    if (this.onChunk) this.onChunk(chunk);
    else this.chunks.push(chunk);
  }

  u8(b: number): void {
    if (this.pos >= this.buf.length) this.room(1);
    this.buf[this.pos++] = b;
  }

  bytes(b: Uint8Array): void {
    if (b.length > this.chunkSize >> 1) {
      this.flush();
      this.emit(b);
      return;
    }
    this.room(b.length).set(b, this.pos);
    this.pos += b.length;
  }

  /** The first `n` bytes of `b`, which the caller reuses at once. */
  copy(b: Uint8Array, n: number): void {
    if (n > this.chunkSize >> 1) {
      this.bytes(b.slice(0, n));
      return;
    }
    const out = this.room(n);
    let p = this.pos;
    // A short copy by hand: a subarray view for set() is an allocation.
    if (n <= 64) { for (let i = 0; i < n; i++) out[p++] = b[i]; }
    else {
      out.set(b.subarray(0, n), p);
      p += n;
    }
    this.pos = p;
  }

  latin1(s: string): void {
    const n = s.length;
    if (n > this.chunkSize) {
      this.flush();
      const out = new Uint8Array(n);
      writeLatin1(out, 0, s);
      this.emit(out);
      return;
    }
    this.pos = writeLatin1(this.room(n), this.pos, s);
  }

  /** rdbSaveLen. */
  len(n: number): void {
    const b = this.room(9);
    let p = this.pos;
    if (n < 64) {
      b[p++] = n;
    } else if (n < 16384) {
      b[p++] = 0x40 | (n >>> 8);
      b[p++] = n & 0xff;
    } else if (n <= 0xffffffff) {
      b[p++] = 0x80;
      b[p++] = n >>> 24;
      b[p++] = n >>> 16;
      b[p++] = n >>> 8;
      b[p++] = n;
    } else {
      const hi = Math.floor(n / 4294967296);
      b[p++] = 0x81;
      b[p++] = hi >>> 24;
      b[p++] = hi >>> 16;
      b[p++] = hi >>> 8;
      b[p++] = hi;
      b[p++] = n >>> 24;
      b[p++] = n >>> 16;
      b[p++] = n >>> 8;
      b[p++] = n;
    }
    this.pos = p;
  }

  /** rdbEncodeInteger: true if `v` fit in int8/16/32 and was written. */
  encodedInt(v: number): boolean {
    const b = this.room(5);
    const p = this.pos;
    if (v >= -128 && v <= 127) {
      b[p] = 0xc0;
      b[p + 1] = v;
      this.pos += 2;
    } else if (v >= -32768 && v <= 32767) {
      b[p] = 0xc1;
      b[p + 1] = v;
      b[p + 2] = v >> 8;
      this.pos += 3;
    } else if (v >= -2147483648 && v <= 2147483647) {
      b[p] = 0xc2;
      b[p + 1] = v;
      b[p + 2] = v >> 8;
      b[p + 3] = v >> 16;
      b[p + 4] = v >> 24;
      this.pos += 5;
    } else {
      return false;
    }
    return true;
  }

  f64(v: number): void {
    const b = this.room(8);
    F64[0] = v;
    b.set(F64_BYTES, this.pos);
    this.pos += 8;
  }

  i64(v: number): void {
    const b = this.room(8);
    const lo = v % 4294967296;
    const hi = Math.floor(v / 4294967296);
    let p = this.pos;
    b[p++] = lo;
    b[p++] = lo >>> 8;
    b[p++] = lo >>> 16;
    b[p++] = lo >>> 24;
    b[p++] = hi;
    b[p++] = hi >>> 8;
    b[p++] = hi >>> 16;
    b[p++] = hi >>> 24;
    this.pos = p;
  }
}

const F64 = new Float64Array(1);
const F64_BYTES = new Uint8Array(F64.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
if (!LITTLE_ENDIAN) throw new Error("the RDB writer assumes a little-endian platform");

let scratch = new Uint8Array(4096);
/** lzfShared output: compressed bytes, copied into the sink at once. */
let lzfOut = new Uint8Array(4096);

/**
 * Writes an RDB file incrementally.
 *
 * @example
 * ```ts
 * const w = new RdbWriter({ onChunk: (c) => file.writeSync(c) });
 * w.start();
 * w.selectDb(0, 1, 0);
 * w.writeEntry("greeting", { type: "string", value: "hello" });
 * w.end();
 * ```
 */
export class RdbWriter {
  /** Keys skipped because their collection was empty (Redis would skip them on load). */
  skippedEmpty = 0;
  private readonly sink: Sink;
  private readonly compression: boolean;
  private readonly th: EncodingThresholds;
  private started = false;
  private ended = false;

  constructor(private readonly opts: RdbWriterOptions = {}) {
    this.sink = new Sink(opts.chunkSize ?? 256 * 1024, opts.checksum !== false, opts.onChunk);
    this.compression = opts.compression !== false;
    this.th = { ...DEFAULT_THRESHOLDS, ...opts.thresholds };
  }

  /** Bytes produced so far (handed out or buffered). */
  get bytesWritten(): number {
    return this.sink.total + this.sink.pos;
  }

  /** The magic and the default AUX fields (rdbSaveInfoAuxFields). */
  start(): void {
    if (this.started) return;
    this.started = true;
    const o = this.opts;
    this.sink.latin1("REDIS" + String(RDB_VERSION_7_0).padStart(4, "0"));
    this.aux("redis-ver", o.redisVersion ?? "7.0.15");
    this.aux("redis-bits", "64");
    this.aux("ctime", String(o.ctime ?? Math.floor(Date.now() / 1000)));
    this.aux("used-mem", String(o.usedMem ?? 0));
    if (o.replication) {
      this.aux("repl-stream-db", String(o.replication.streamDb));
      this.aux("repl-id", o.replication.replId);
      this.aux("repl-offset", String(o.replication.offset));
    }
    this.aux("aof-base", o.aofBase ? "1" : "0");
  }

  /** An AUX field (RDB_OPCODE_AUX). */
  aux(key: string, value: string): void {
    this.sink.u8(RdbOpcode.AUX);
    this.rawString(key);
    this.rawString(value);
  }

  /** A function library (RDB_OPCODE_FUNCTION2), as FUNCTION DUMP/rdbSaveFunctions do. */
  functionLibrary(code: string): void {
    this.start();
    this.sink.u8(RdbOpcode.FUNCTION2);
    this.rawString(code);
  }

  /** SELECTDB + RESIZEDB: call before the keys of each non-empty db, in db order. */
  selectDb(db: number, keys: number, expires: number): void {
    this.start();
    this.sink.u8(RdbOpcode.SELECTDB);
    this.sink.len(db);
    this.sink.u8(RdbOpcode.RESIZEDB);
    this.sink.len(keys);
    this.sink.len(expires);
  }

  /**
   * One key (rdbSaveKeyValuePair). Returns false, writing nothing, for an empty
   * collection.
   */
  writeEntry(
    key: string,
    value: RdbValue,
    expireAtMs?: number,
    lruIdle?: number,
    lfuFreq?: number,
  ): boolean {
    this.start();
    const type = this.chooseType(value);
    if (type < 0) {
      this.skippedEmpty++;
      return false;
    }
    const s = this.sink;
    if (expireAtMs !== undefined) {
      s.u8(RdbOpcode.EXPIRETIME_MS);
      s.i64(Math.trunc(expireAtMs));
    }
    if (lruIdle !== undefined) {
      s.u8(RdbOpcode.IDLE);
      s.len(lruIdle);
    }
    if (lfuFreq !== undefined) {
      s.u8(RdbOpcode.FREQ);
      s.u8(lfuFreq);
    }
    s.u8(type);
    this.rawString(key);
    this.writeValue(type, value);
    return true;
  }

  /**
   * `<type> <value>` with no key and no header: the body of a DUMP payload. Returns
   * false, writing nothing, for an empty collection.
   */
  writeObject(value: RdbValue): boolean {
    const type = this.chooseType(value);
    if (type < 0) return false;
    this.sink.u8(type);
    this.writeValue(type, value);
    return true;
  }

  /** Writes an RdbEntry (the db must already be selected). */
  write(entry: RdbEntry): boolean {
    return this.writeEntry(entry.key, entry.value, entry.expireAtMs, entry.lruIdle, entry.lfuFreq);
  }

  /** EOF and the checksum; flushes the last chunk. */
  end(): void {
    if (this.ended) return;
    this.start();
    this.ended = true;
    const s = this.sink;
    s.u8(RdbOpcode.EOF);
    s.flush(); // the CRC covers everything up to here
    const trailer = new Uint8Array(8);
    s.crc?.writeLE(trailer, 0);
    s.emit(trailer);
  }

  /** Chunks produced so far (when no onChunk was given); the writer forgets them. */
  takeChunks(): Uint8Array[] {
    return this.sink.chunks.splice(0);
  }

  /** Flushes the partly filled chunk now (e.g. before a pause in a long save). */
  flush(): void {
    this.sink.flush();
  }

  // ---- values -----------------------------------------------------------------------

  /** The RDB type Redis 7.0 would save `value` as, or -1 for an empty collection. */
  chooseType(value: RdbValue): number {
    const th = this.th;
    switch (value.type) {
      case "string":
        return RdbType.STRING;
      case "list": {
        const empty = value.nodes
          ? value.nodes.every((n) => n.length === 0)
          : value.items.length === 0;
        return empty ? -1 : RdbType.LIST_QUICKLIST_2;
      }
      case "set": {
        const m = value.members;
        if (m.length === 0) return -1;
        const hint = value.intset ? "intset" : value.encoding;
        if (hint === "intset" || (hint === undefined && m.length <= th.setMaxIntsetEntries)) {
          for (let i = 0; i < m.length; i++) {
            if (stringToInt64(m[i]) === null) return RdbType.SET;
          }
          return RdbType.SET_INTSET;
        }
        return RdbType.SET;
      }
      case "zset": {
        const e = value.entries;
        if (e.length === 0) return -1;
        if (value.encoding === "listpack") return RdbType.ZSET_LISTPACK;
        if (value.encoding === "skiplist") return RdbType.ZSET_2;
        if (e.length > th.zsetMaxListpackEntries) return RdbType.ZSET_2;
        for (let i = 0; i < e.length; i++) {
          if (e[i][0].length > th.zsetMaxListpackValue) return RdbType.ZSET_2;
        }
        return RdbType.ZSET_LISTPACK;
      }
      case "hash": {
        const e = value.entries;
        if (e.length === 0) return -1;
        if (value.encoding === "listpack") return RdbType.HASH_LISTPACK;
        if (value.encoding === "hashtable") return RdbType.HASH;
        if (e.length > th.hashMaxListpackEntries) return RdbType.HASH;
        const max = th.hashMaxListpackValue;
        for (let i = 0; i < e.length; i++) {
          if (e[i][0].length > max || e[i][1].length > max) return RdbType.HASH;
        }
        return RdbType.HASH_LISTPACK;
      }
    }
  }

  /** Writes the body of `value` as RDB type `type` (from chooseType). */
  writeValue(type: number, value: RdbValue): void {
    const s = this.sink;
    switch (type) {
      case RdbType.STRING:
        this.rawString((value as { value: string }).value);
        return;
      case RdbType.LIST_QUICKLIST_2: {
        const v = value as { items: string[]; nodes?: string[][] };
        const nodes = v.nodes ? v.nodes.filter((n) => n.length > 0) : this.splitNodes(v.items);
        s.len(nodes.length);
        const threshold = this.th.listPackedThreshold;
        for (const node of nodes) {
          if (node.length === 1 && node[0].length >= threshold) {
            s.len(QUICKLIST_NODE_CONTAINER_PLAIN);
            this.rawString(node[0]);
          } else {
            s.len(QUICKLIST_NODE_CONTAINER_PACKED);
            this.rawListpack(node);
          }
        }
        return;
      }
      case RdbType.SET_INTSET: {
        const blob = (value as RdbSet).blob;
        if (blob === undefined) {
          this.rawBytes(intsetEncode((value as RdbSet).members)!);
          return;
        }
        if (scratch.length < blob.length) scratch = new Uint8Array(2 * blob.length);
        this.rawBytes(scratch, writeLatin1(scratch, 0, blob), true);
        return;
      }
      case RdbType.SET: {
        const m = (value as { members: string[] }).members;
        s.len(m.length);
        for (let i = 0; i < m.length; i++) this.rawString(m[i]);
        return;
      }
      case RdbType.ZSET_LISTPACK: {
        const e = (value as { entries: [string, number][] }).entries;
        const flat = new Array<string>(e.length * 2);
        for (let i = 0; i < e.length; i++) {
          flat[2 * i] = e[i][0];
          flat[2 * i + 1] = d2string(e[i][1]);
        }
        this.rawListpack(flat);
        return;
      }
      case RdbType.ZSET_2: {
        // Highest rank first, as Redis walks its skiplist from the tail (rdb.c explains:
        // the loader then always inserts at the head).
        const e = (value as { entries: [string, number][] }).entries;
        s.len(e.length);
        for (let i = e.length - 1; i >= 0; i--) {
          this.rawString(e[i][0]);
          s.f64(e[i][1]);
        }
        return;
      }
      case RdbType.HASH_LISTPACK: {
        const e = (value as { entries: [string, string][] }).entries;
        const flat = new Array<string>(e.length * 2);
        for (let i = 0; i < e.length; i++) {
          flat[2 * i] = e[i][0];
          flat[2 * i + 1] = e[i][1];
        }
        this.rawListpack(flat);
        return;
      }
      case RdbType.HASH: {
        const e = (value as { entries: [string, string][] }).entries;
        s.len(e.length);
        for (let i = 0; i < e.length; i++) {
          this.rawString(e[i][0]);
          this.rawString(e[i][1]);
        }
        return;
      }
      default:
        throw new Error(`RdbWriter cannot write RDB type ${type}`);
    }
  }

  /**
   * Node boundaries as RPUSH builds them (quicklist `_quicklistNodeAllowInsert`): a
   * negative fill caps a node's listpack bytes (-2: 8 KB) counting each new element as
   * its length + 8; a positive fill caps the element count, within an 8 KB safety limit.
   */
  private splitNodes(items: readonly string[]): string[][] {
    const fill = this.th.listMaxListpackSize;
    const threshold = this.th.listPackedThreshold;
    const sizeLimit = fill < 0 ? [4096, 8192, 16384, 32768, 65536][Math.min(-fill, 5) - 1] : 0;
    const nodes: string[][] = [];
    let node: string[] | null = null;
    let nodeBytes = 0;
    for (let i = 0; i < items.length; i++) {
      const it = items[i];
      const sz = it.length;
      if (sz >= threshold) {
        nodes.push([it]);
        node = null;
        continue;
      }
      let allow = false;
      if (node !== null) {
        const newSz = nodeBytes + sz + 8;
        if (fill < 0) allow = newSz <= sizeLimit;
        else allow = newSz <= 8192 && node.length < fill;
      }
      if (!allow) {
        node = [];
        nodes.push(node);
        nodeBytes = 7; // empty listpack: header + terminator
      }
      node!.push(it);
      nodeBytes += entrySize(it);
    }
    return nodes;
  }

  /** rdbSaveRawString for a Latin-1 string. */
  private rawString(str: string): void {
    const n = str.length;
    const s = this.sink;
    if (n <= 11 && n > 0) {
      const v = stringToInt64(str);
      if (typeof v === "number" && s.encodedInt(v)) return;
    }
    if (this.compression && n > 20) {
      // Strings over 1 MB get their own buffer so the shared scratch stays small.
      if (n > 1 << 20) {
        const own = latin1Bytes(str);
        const c = lzfCompress(own, 0, n);
        if (c !== null) this.lzfBlob(c, n);
        else {
          s.len(n);
          s.bytes(own);
        }
        return;
      }
      if (scratch.length < n) scratch = new Uint8Array(Math.max(n, scratch.length * 2));
      writeLatin1(scratch, 0, str);
      if (this.lzfShared(scratch, n)) return;
      s.len(n);
      s.room(n).set(scratch.subarray(0, n), s.pos);
      s.pos += n;
      return;
    }
    s.len(n);
    s.latin1(str);
  }

  /**
   * rdbSaveRawString for the bytes `b[0, n)`: a blob we own (a large one is kept without a
   * copy) or, with `reused`, a buffer the caller reuses at once (always copied).
   */
  private rawBytes(b: Uint8Array, n = b.length, reused = false): void {
    const s = this.sink;
    if (n <= 11) {
      const v = stringToInt64(latin1(b, 0, n));
      if (typeof v === "number" && s.encodedInt(v)) return;
    }
    if (this.compression && n > 20 && this.lzfShared(b, n)) return;
    s.len(n);
    if (reused) s.copy(b, n);
    else s.bytes(b);
  }

  /** rawBytes of the listpack of `items`, encoded in a reused buffer. */
  private rawListpack(items: readonly string[]): void {
    // The size first: encoding may grow (replace) the buffer.
    const n = listpackEncodeInto(items);
    this.rawBytes(encoded.bytes, n, true);
  }

  /**
   * rdbSaveLzfStringObject for `b[0, n)` when compressing gains (true), through the
   * shared output buffer; false when the caller must store the bytes verbatim.
   */
  private lzfShared(b: Uint8Array, n: number): boolean {
    if (lzfOut.length < n) lzfOut = new Uint8Array(Math.max(n, lzfOut.length * 2));
    const c = lzfCompressInto(b, 0, n, n - 4, lzfOut);
    if (c < 0) return false;
    const s = this.sink;
    s.u8(0xc3);
    s.len(c);
    s.len(n);
    s.copy(lzfOut, c);
    return true;
  }

  /** rdbSaveLzfBlob. */
  private lzfBlob(compressed: Uint8Array, originalLen: number): void {
    const s = this.sink;
    s.u8(0xc3);
    s.len(compressed.length);
    s.len(originalLen);
    s.bytes(compressed);
  }
}

/** Bytes one element takes in a listpack (encoding, data and backlen). */
function entrySize(s: string): number {
  const v = stringToInt64(s);
  let l: number;
  if (v === null) {
    const n = s.length;
    l = n < 64 ? 1 + n : n < 4096 ? 2 + n : 5 + n;
  } else if (typeof v === "bigint") l = 9;
  else if (v >= 0 && v <= 127) l = 1;
  else if (v >= -4096 && v <= 4095) l = 2;
  else if (v >= -32768 && v <= 32767) l = 3;
  else if (v >= -8388608 && v <= 8388607) l = 4;
  else if (v >= -2147483648 && v <= 2147483647) l = 5;
  else l = 9;
  return l + (l <= 127 ? 1 : l < 16383 ? 2 : l < 2097151 ? 3 : l < 268435455 ? 4 : 5);
}

/**
 * Encodes a whole dataset as one RDB file (tests, DEBUG RELOAD-sized data). Entries are
 * grouped by db in ascending order, keeping their order within a db.
 */
export function writeRdb(
  entries: Iterable<RdbEntry>,
  opts: Omit<RdbWriterOptions, "onChunk"> & { functions?: string[] } = {},
): Uint8Array {
  const byDb = new Map<number, RdbEntry[]>();
  for (const e of entries) {
    let list = byDb.get(e.db);
    if (!list) byDb.set(e.db, list = []);
    list.push(e);
  }
  const w = new RdbWriter(opts);
  w.start();
  for (const code of opts.functions ?? []) w.functionLibrary(code);
  for (const db of [...byDb.keys()].sort((a, b) => a - b)) {
    const list = byDb.get(db)!;
    let expires = 0;
    for (const e of list) if (e.expireAtMs !== undefined) expires++;
    w.selectDb(db, list.length, expires);
    for (const e of list) w.write(e);
  }
  w.end();
  return concat(w.takeChunks());
}

/**
 * The type byte and body of one value as `rdbSaveObjectType` + `rdbSaveObject` write it
 * (the DUMP payload body). Null for an empty collection.
 */
export function encodeObject(
  value: RdbValue,
  opts: { compression?: boolean; thresholds?: Partial<EncodingThresholds> } = {},
): Uint8Array | null {
  // Small chunks: DUMP is per command, and most values are far below the 256 KiB default.
  const w = new RdbWriter({ ...opts, checksum: false, chunkSize: 4096 });
  if (!w.writeObject(value)) return null;
  w.flush();
  return concat(w.takeChunks());
}

/** Joins chunks into one array. */
export function concat(chunks: readonly Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  let n = 0;
  for (const c of chunks) n += c.length;
  const out = new Uint8Array(n);
  let p = 0;
  for (const c of chunks) {
    out.set(c, p);
    p += c.length;
  }
  return out;
}
