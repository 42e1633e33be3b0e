/**
 * The RDB reader: turns the bytes of an RDB file (versions 1..12, every value encoding
 * Redis has written since 2.0 except streams and module values) into neutral RdbEntry
 * records, one at a time, so that loading a multi-GB file can report progress, never
 * holds the file and the dataset twice, and can be fed from a stream in chunks.
 *
 * It checks what Redis 7.0 checks with `sanitize-dump-payload yes` (blob integrity,
 * duplicate members/fields, NaN scores, the CRC-64 trailer) and skips what Redis skips
 * (empty collections, with a warning). Every error names the byte offset and, inside a
 * key, the key: `RDB error at offset 1234 reading key "foo": listpack header says 120
 * bytes but blob has 118`.
 *
 * Decisions left to the caller, because they depend on the server and not the file:
 * dropping keys whose expiry has passed (Redis does so when loading as a master, not for
 * an AOF preamble), refusing a key that appears twice in one db, and choosing in-memory
 * encodings (the `encoding` hints say what the file used).
 */
import { Crc64, readU64LE } from "./crc64.ts";
import { intsetCount, intsetDecode } from "./intset.ts";
import { listpackDecode, listpackPacked, packed } from "./listpack.ts";
import { packedEntries, packEntries } from "../../types/zset.ts";
import { lzfDecompressInto } from "./lzf.ts";
import {
  BlobError,
  latin1,
  parseDouble,
  QUICKLIST_NODE_CONTAINER_PACKED,
  QUICKLIST_NODE_CONTAINER_PLAIN,
  RDB_TYPE_NAMES,
  RDB_VERSION_MAX,
  RdbEntry,
  RdbError,
  RdbOpcode,
  RdbType,
  RdbValue,
  releaseLatin1Cache,
} from "./types.ts";
import { ziplistDecode } from "./ziplist.ts";
import { zipmapDecode } from "./zipmap.ts";

export interface RdbReadOptions {
  /**
   * Things Redis logs and goes on from: empty keys skipped, module AUX data or function
   * libraries skipped, a checksum of 0 (not checked). `offset` is the file offset.
   */
  onWarning?: (message: string, offset: number) => void;
  /** Function library code from FUNCTION2 (and pre-GA FUNCTION) records. */
  onFunction?: (code: string) => void;
  /** RESIZEDB hints: the number of keys and of keys with an expiry in `db`. */
  onResizeDb?: (db: number, keys: number, expires: number) => void;
  /** Verify the CRC-64 trailer (default true; a stored 0 is never checked). */
  verifyChecksum?: boolean;
  /**
   * The caller computes the CRC-64 elsewhere (a Worker, in parallel): the parser does not
   * hash, records the trailer in `checksum.stored` and where the hashed bytes end in
   * `checksumEnd`, and leaves the comparison (`checksumError`) to the caller.
   */
  externalChecksum?: boolean;
  /** Fill `nodes` on lists with the quicklist node boundaries (default false). */
  listNodes?: boolean;
  /**
   * Intset sets come back as `blob` and `count` with `members` left empty (validated all
   * the same): for a loader that keeps the blob as it is (default false).
   */
  intsetBlobs?: boolean;
  /**
   * Listpack hashes of up to PACKED_MAX pairs come back as `packed` (hash.ts's
   * packed form) and `count`, with `entries` left empty: no string per field and value
   * for a loader that keeps them packed (default false).
   */
  packedHashes?: boolean;
  /**
   * Listpack sorted sets of up to PACKED_MAX entries come back as `packed` (zset.ts's
   * packed form) and `count`, with `entries` left empty (default false).
   */
  packedZsets?: boolean;
  /** Refuse SELECTDB beyond this many databases (default 16, Redis's `databases`). */
  databases?: number;
}

/** The result of reading a whole file with parseRdb. */
export interface RdbFile {
  version: number;
  aux: Map<string, string>;
  entries: RdbEntry[];
  /** Version >= 5 only. `stored` 0n means the writer did not compute it. */
  checksum?: { stored: bigint; computed: bigint };
  /** Offset just past the RDB (an AOF preamble is followed by commands from here). */
  end: number;
  emptyKeysSkipped: number;
}

// Thrown inside the parser when the buffered bytes end mid-record; never escapes.
const NEED_MORE = Symbol("need more input");

const EMPTY = new Uint8Array(0);

/** Committed bytes are added to the CRC in blocks of at least this many. */
const CRC_BLOCK = 16 * 1024;

/**
 * An incremental RDB parser: `push()` chunks as they arrive, call `next()` for entries
 * until it returns null, and `finish()` after the last chunk. Nothing is copied when the
 * whole file is pushed at once.
 *
 * @example
 * ```ts
 * const p = new RdbParser();
 * p.push(bytes);
 * p.finish();
 * for (let e = p.next(); e !== null; e = p.next()) console.log(e.db, e.key);
 * p.done; // true once EOF and the checksum were read
 * ```
 */
export class RdbParser {
  /** RDB version from the header (0 until read). */
  version = 0;
  /** AUX fields in file order (redis-ver, ctime, ...). */
  readonly aux = new Map<string, string>();
  /** True once the EOF opcode (and checksum) were read. */
  done = false;
  checksum?: { stored: bigint; computed: bigint };
  emptyKeysSkipped = 0;

  private buf: Uint8Array = EMPTY;
  private dv: DataView | null = null;
  /** Parse cursor, end of buffered data, and start of the record being parsed. */
  private pos = 0;
  private end = 0;
  private committed = 0;
  /** File offset of buf[0]. */
  private base = 0;
  /** True when buf is our own allocation (else it is a caller's chunk, not written to). */
  private own = false;
  private ended = false;
  private sawEof = false;
  /** Don't retry a cut record until this many bytes are buffered (amortizes re-parsing). */
  private retryAt = 0;
  private readonly crc = new Crc64();
  /** With externalChecksum: the file offset where the hashed bytes end (the trailer). */
  checksumEnd = -1;
  /** buf[0, hashed) is in `crc` (hashed <= committed; hashing waits for a whole block). */
  private hashed = 0;
  private db = 0;
  // Per-key attributes set by opcodes before the key (undefined: none).
  private expireAtMs: number | undefined;
  private lruIdle: number | undefined;
  private lfuFreq: number | undefined;
  /** The key being read, for error messages. */
  private key: string | undefined;
  /** RDB type of the value being read, for blob error messages. */
  private valueType = -1;
  // The last blob read: where its bytes are, its file offset, and whether it was LZF.
  private bb: Uint8Array = EMPTY;
  private bs = 0;
  private be = 0;
  private blobAt = 0;
  private blobLzf = false;
  /** Where LZF strings are decompressed (grown as needed, reused). */
  private lzfOut: Uint8Array = EMPTY;
  private readonly opts: RdbReadOptions;
  private readonly databases: number;

  constructor(opts: RdbReadOptions = {}) {
    this.opts = opts;
    this.databases = opts.databases ?? 16;
  }

  /** File offset of the next unread byte (everything before it is fully parsed). */
  get offset(): number {
    return this.base + this.committed;
  }

  /** Bytes buffered beyond the end of the RDB (after `done`): an AOF tail, say. */
  rest(): Uint8Array {
    return this.buf.subarray(this.committed, this.end);
  }

  /** Adds input. The chunk is not copied when nothing is pending, and never modified. */
  push(chunk: Uint8Array): void {
    if (this.ended) throw new Error("RdbParser.push after finish");
    if (chunk.length === 0) return;
    const live = this.end - this.committed;
    if (live === 0) {
      this.hashCommitted();
      this.hashed = 0;
      this.base += this.end;
      this.buf = chunk;
      this.dv = null;
      this.own = false;
      this.pos = this.committed = 0;
      this.end = chunk.length;
      this.retryAt = 0;
      return;
    }
    if (this.own && this.buf.length - this.end >= chunk.length) {
      this.buf.set(chunk, this.end);
      this.end += chunk.length;
      return;
    }
    const need = live + chunk.length;
    this.hashCommitted(); // the committed bytes are about to move or go
    this.hashed = 0;
    let nb: Uint8Array;
    if (this.own && need <= this.buf.length) {
      nb = this.buf;
      nb.copyWithin(0, this.committed, this.end);
    } else {
      nb = new Uint8Array(Math.max(need, this.own ? this.buf.length * 2 : 0, 1 << 16));
      nb.set(this.buf.subarray(this.committed, this.end), 0);
      this.dv = null;
    }
    nb.set(chunk, live);
    this.retryAt = Math.max(0, this.retryAt - this.committed);
    this.base += this.committed;
    this.pos = this.committed = 0;
    this.end = need;
    this.buf = nb;
    this.own = true;
  }

  /** Declares the input complete: a record still cut short is now an error. */
  finish(): void {
    this.ended = true;
  }

  /**
   * The next key, or null when more input is needed (before `finish()`) or the file is
   * done (`done` is true). Throws RdbError on anything malformed.
   */
  next(): RdbEntry | null {
    if (this.done) return null;
    if (!this.ended && this.end < this.retryAt) return null;
    for (;;) {
      this.pos = this.committed;
      try {
        if (this.version === 0) {
          this.readHeader();
          this.commit();
          continue;
        }
        if (this.sawEof) {
          this.readTrailer();
          return null;
        }
        const type = this.u8();
        if (type >= 0xf4) {
          if (this.readOpcode(type)) return null; // EOF
          this.commit();
          continue;
        }
        if (RDB_TYPE_NAMES[type] === undefined) {
          throw this.err(`unknown value type ${type}`, 1);
        }
        const keyAt = this.base + this.pos;
        this.key = undefined;
        const key = this.readString();
        this.key = key;
        const value = this.readValue(type);
        this.commit();
        this.key = undefined;
        const entry: RdbEntry = { db: this.db, key, value: value! };
        if (this.expireAtMs !== undefined) entry.expireAtMs = this.expireAtMs;
        if (this.lruIdle !== undefined) entry.lruIdle = this.lruIdle;
        if (this.lfuFreq !== undefined) entry.lfuFreq = this.lfuFreq;
        this.expireAtMs = this.lruIdle = this.lfuFreq = undefined;
        if (value === null) {
          this.emptyKeysSkipped++;
          this.warn(`skipping empty key ${JSON.stringify(key)}`, keyAt);
          continue;
        }
        return entry;
      } catch (e) {
        if (e === NEED_MORE) {
          // Retry once the record could be complete, and at least at double its
          // buffered size, so a huge value arriving in small chunks parses in O(n).
          this.retryAt = Math.max(this.retryAt, this.committed + 2 * (this.end - this.committed));
          this.pos = this.committed;
          return null;
        }
        throw this.wrap(e);
      }
    }
  }

  // ---- records ----------------------------------------------------------------------

  private readHeader(): void {
    this.need(9);
    const b = this.buf;
    const p = this.pos;
    const magic = latin1(b, p, p + 5);
    if (magic !== "REDIS") {
      throw this.err(`not an RDB file (starts with ${JSON.stringify(latin1(b, p, p + 9))})`);
    }
    const digits = latin1(b, p + 5, p + 9);
    const version = /^\d{4}$/.test(digits) ? Number(digits) : 0;
    if (version < 1 || version > RDB_VERSION_MAX) {
      this.pos += 5;
      throw this.err(`can't handle RDB format version ${JSON.stringify(digits)}`);
    }
    this.pos += 9;
    this.version = version;
  }

  /** Handles an opcode; returns true at EOF. */
  private readOpcode(type: number): boolean {
    switch (type) {
      case RdbOpcode.EXPIRETIME_MS: {
        this.need(8);
        const p = this.pos;
        const b = this.buf;
        const lo = (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0;
        const hi = b[p + 4] | (b[p + 5] << 8) | (b[p + 6] << 16) | (b[p + 7] << 24);
        this.pos += 8;
        this.expireAtMs = hi * 4294967296 + lo;
        return false;
      }
      case RdbOpcode.EXPIRETIME: {
        this.need(4);
        const p = this.pos;
        const b = this.buf;
        this.pos += 4;
        this.expireAtMs = (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) * 1000;
        return false;
      }
      case RdbOpcode.FREQ:
        this.lfuFreq = this.u8();
        return false;
      case RdbOpcode.IDLE:
        this.lruIdle = this.readLen();
        return false;
      case RdbOpcode.SELECTDB: {
        const at = this.base + this.pos;
        const db = this.readLen();
        if (db >= this.databases) {
          throw new RdbError(
            `the file selects db ${db} but only ${this.databases} databases are configured`,
            at,
          );
        }
        this.db = db;
        return false;
      }
      case RdbOpcode.RESIZEDB: {
        const keys = this.readLen();
        const expires = this.readLen();
        this.opts.onResizeDb?.(this.db, keys, expires);
        return false;
      }
      case RdbOpcode.AUX: {
        const k = this.readString();
        const v = this.readString();
        this.aux.set(k, v);
        return false;
      }
      case RdbOpcode.MODULE_AUX:
        this.skipModuleAux();
        return false;
      case RdbOpcode.FUNCTION2: {
        const at = this.base + this.pos - 1;
        const code = this.readString();
        this.deliverFunction(code, at);
        return false;
      }
      case RdbOpcode.FUNCTION: {
        // The 7.0-rc format: name, engine, optional description, code. Redis 7.0 turns it
        // into the final form "#!<engine> name=<name>\n<code>".
        const at = this.base + this.pos - 1;
        const name = this.readString();
        const engine = this.readString();
        if (this.readLen() !== 0) this.readString();
        const code = this.readString();
        this.deliverFunction(`#!${engine} name=${name}\n${code}`, at);
        return false;
      }
      case RdbOpcode.SLOT_INFO:
        // Redis 7.4 cluster hint: slot id, keys in slot, expires in slot.
        this.readLen();
        this.readLen();
        this.readLen();
        return false;
      case RdbOpcode.EOF:
        this.commit(); // the CRC covers everything up to and including the EOF opcode
        this.hashCommitted();
        this.sawEof = true;
        this.readTrailer();
        return true;
      default:
        throw this.err(`unknown opcode 0x${type.toString(16)}`, 1);
    }
  }

  /** After EOF: the CRC-64 trailer (version >= 5). */
  private readTrailer(): void {
    if (this.version >= 5) {
      this.need(8);
      const stored = readU64LE(this.buf, this.pos);
      const external = this.opts.externalChecksum === true;
      const computed = external ? stored : this.crc.value();
      const at = this.base + this.pos;
      this.pos += 8;
      this.committed = this.pos;
      this.checksum = { stored, computed };
      if (external) this.checksumEnd = at;
      if (stored === 0n) {
        this.warn("RDB file was saved with checksum disabled: no check performed", at);
      } else if (stored !== computed && this.opts.verifyChecksum !== false) {
        throw checksumError(stored, computed, at);
      }
    }
    this.done = true;
    releaseLatin1Cache(); // don't keep a view of a big file alive through the cache
  }

  private deliverFunction(code: string, at: number): void {
    if (this.opts.onFunction) this.opts.onFunction(code);
    else this.warn("skipping a function library (FUNCTION LOAD data)", at);
  }

  /** MODULE_AUX is self-describing (module opcodes up to EOF), so it can be skipped. */
  private skipModuleAux(): void {
    const at = this.base + this.pos - 1;
    const id = this.readLenBig();
    const whenOpcode = this.readLen();
    if (whenOpcode !== 2) throw this.err(`module AUX data has bad when_opcode ${whenOpcode}`);
    this.readLen(); // when
    this.skipModuleOpcodes(moduleName(id));
    this.warn(`skipping AUX data of module '${moduleName(id)}' (no such module here)`, at);
  }

  private skipModuleOpcodes(name: string): void {
    for (;;) {
      const op = this.readLen();
      switch (op) {
        case 0: // EOF
          return;
        case 1: // SINT
        case 2: // UINT
          this.readLenBig();
          break;
        case 3: // FLOAT
          this.skip(4);
          break;
        case 4: // DOUBLE
          this.skip(8);
          break;
        case 5: // STRING
          this.readString();
          break;
        default:
          throw this.err(`unknown opcode ${op} in data of module '${name}'`);
      }
    }
  }

  // ---- values -----------------------------------------------------------------------

  /** Reads a value of RDB type `type`; null means an empty collection (skipped). */
  private readValue(type: number): RdbValue | null {
    this.valueType = type;
    switch (type) {
      case RdbType.STRING:
        return { type: "string", value: this.readString() };
      case RdbType.LIST: {
        const n = this.readLen();
        const items = this.alloc<string>(n);
        for (let i = 0; i < n; i++) items[i] = this.readString();
        if (n === 0) return null;
        return { type: "list", items, encoding: "quicklist" };
      }
      case RdbType.SET: {
        const n = this.readLen();
        const members = this.alloc<string>(n);
        for (let i = 0; i < n; i++) members[i] = this.readString();
        if (n === 0) return null;
        this.checkUnique(members, 1, "set member");
        return { type: "set", members, encoding: "hashtable" };
      }
      case RdbType.ZSET:
      case RdbType.ZSET_2: {
        const n = this.readLen();
        const entries = this.alloc<[string, number]>(n);
        for (let i = 0; i < n; i++) {
          const m = this.readString();
          const s = type === RdbType.ZSET_2 ? this.readBinaryDouble() : this.readAsciiDouble();
          if (Number.isNaN(s)) {
            throw this.err(`sorted set member ${JSON.stringify(m)} has NaN score`);
          }
          entries[i] = [m, s];
        }
        if (n === 0) return null;
        this.checkUniquePairs(entries, "sorted set member");
        sortByRank(entries);
        return { type: "zset", entries, encoding: "skiplist" };
      }
      case RdbType.HASH: {
        const n = this.readLen();
        const entries = this.alloc<[string, string]>(n);
        for (let i = 0; i < n; i++) entries[i] = [this.readString(), this.readString()];
        if (n === 0) return null;
        this.checkUniquePairs(entries, "hash field");
        return { type: "hash", entries, encoding: "hashtable" };
      }
      case RdbType.HASH_ZIPMAP: {
        this.readBlob();
        const entries = this.decode(zipmapDecode);
        this.checkUniquePairs(entries, "hash field");
        return { type: "hash", entries, encoding: "listpack" };
      }
      case RdbType.LIST_ZIPLIST: {
        this.readBlob();
        const items = this.decode(ziplistDecode);
        if (items.length === 0) return null;
        return { type: "list", items, encoding: "quicklist" };
      }
      case RdbType.SET_INTSET: {
        this.readBlob();
        if (this.opts.intsetBlobs) {
          const count = this.decode(intsetCount);
          const blob = latin1(this.bb, this.bs, this.be);
          return { type: "set", members: [], count, intset: true, encoding: "intset", blob };
        }
        const members = this.decode(intsetDecode);
        const blob = latin1(this.bb, this.bs, this.be);
        return { type: "set", members, intset: true, encoding: "intset", blob };
      }
      case RdbType.SET_LISTPACK: {
        this.readBlob();
        const members = this.decode(listpackDecode);
        if (members.length === 0) return null;
        this.checkUnique(members, 1, "set member");
        return { type: "set", members, encoding: "listpack" };
      }
      case RdbType.ZSET_ZIPLIST:
      case RdbType.ZSET_LISTPACK: {
        this.readBlob();
        if (type === RdbType.ZSET_LISTPACK && this.opts.packedZsets) {
          const n = this.decode(packElements);
          if (n === 0) return null;
          // Odd, a bad score, out of rank order or a member twice: the path below says
          // so, or sorts.
          if ((n & 1) === 0 && n <= 2 * PACKED_MAX && packedZsetEntries(n >>> 1)) {
            packEntries(packed.bytes, fieldStarts, fieldLens, entryScores, n >>> 1);
            const s = latin1(packedEntries.bytes, 0, packedEntries.len);
            return { type: "zset", entries: [], packed: s, count: n >>> 1, encoding: "listpack" };
          }
        }
        const flat = this.decode(type === RdbType.ZSET_ZIPLIST ? ziplistDecode : listpackDecode);
        if (flat.length & 1) throw this.blobErr("sorted set blob has an odd number of elements");
        if (flat.length === 0) return null;
        const entries = new Array<[string, number]>(flat.length >> 1);
        for (let i = 0; i < flat.length; i += 2) {
          const score = parseDouble(flat[i + 1]);
          if (Number.isNaN(score)) {
            throw this.blobErr(
              `sorted set member ${JSON.stringify(flat[i])} has score ${
                JSON.stringify(flat[i + 1])
              }, not a number`,
            );
          }
          entries[i >> 1] = [flat[i], score];
        }
        this.checkUnique(flat, 2, "sorted set member");
        return { type: "zset", entries, encoding: "listpack" };
      }
      case RdbType.HASH_ZIPLIST:
      case RdbType.HASH_LISTPACK: {
        this.readBlob();
        if (type === RdbType.HASH_LISTPACK && this.opts.packedHashes) {
          const n = this.decode(packHashBody);
          if (n === 0) return null;
          // An odd count or a field twice: the path below says so.
          if ((n & 1) === 0 && n <= 2 * PACKED_MAX && packedFieldsUnique()) {
            const b = packed.bytes;
            b[0] = n >>> 1;
            b[1] = b[2] = b[3] = 0;
            const s = latin1(b, 0, packed.len);
            return { type: "hash", entries: [], packed: s, count: n >>> 1, encoding: "listpack" };
          }
        }
        const flat = this.decode(type === RdbType.HASH_ZIPLIST ? ziplistDecode : listpackDecode);
        if (flat.length & 1) throw this.blobErr("hash blob has an odd number of elements");
        if (flat.length === 0) return null;
        const entries = new Array<[string, string]>(flat.length >> 1);
        for (let i = 0; i < flat.length; i += 2) entries[i >> 1] = [flat[i], flat[i + 1]];
        this.checkUnique(flat, 2, "hash field");
        return { type: "hash", entries, encoding: "listpack" };
      }
      case RdbType.LIST_QUICKLIST:
      case RdbType.LIST_QUICKLIST_2:
        return this.readQuicklist(type === RdbType.LIST_QUICKLIST_2);
      case RdbType.MODULE:
      case RdbType.MODULE_2: {
        const id = this.readLenBig();
        throw this.err(
          `value type ${RDB_TYPE_NAMES[type]} (${type}) of module '${
            moduleName(id)
          }' is not supported`,
        );
      }
      default: {
        const name = RDB_TYPE_NAMES[type];
        throw this.err(
          name ? `value type ${name} (${type}) is not supported` : `unknown value type ${type}`,
          this.key === undefined ? 1 : 0,
        );
      }
    }
  }

  private readQuicklist(v2: boolean): RdbValue | null {
    const nodeCount = this.readLen();
    let items: string[] = [];
    const nodes: string[][] | undefined = this.opts.listNodes ? [] : undefined;
    // With the nodes kept, a one-node list's node is its items too (most lists).
    const oneNode = nodes !== undefined && nodeCount === 1;
    for (let i = 0; i < nodeCount; i++) {
      let container = QUICKLIST_NODE_CONTAINER_PACKED;
      if (v2) {
        container = this.readLen();
        if (
          container !== QUICKLIST_NODE_CONTAINER_PACKED &&
          container !== QUICKLIST_NODE_CONTAINER_PLAIN
        ) {
          throw this.err(`quicklist node ${i} has unknown container ${container}`);
        }
      }
      this.readBlob();
      if (this.be === this.bs) throw this.blobErr(`quicklist node ${i} is empty (0 bytes)`);
      let node: string[];
      if (container === QUICKLIST_NODE_CONTAINER_PLAIN) {
        node = [latin1(this.bb, this.bs, this.be)];
      } else {
        node = this.decode(v2 ? listpackDecode : ziplistDecode);
        if (node.length === 0) continue; // Redis silently skips empty nodes
      }
      if (oneNode) items = node;
      else for (let k = 0; k < node.length; k++) items.push(node[k]);
      nodes?.push(node);
    }
    if (items.length === 0) return null;
    const out: RdbValue = { type: "list", items, encoding: "quicklist" };
    if (nodes) out.nodes = nodes;
    return out;
  }

  private checkUnique(list: string[], stride: number, what: string): void {
    const n = list.length / stride;
    if (n < 2) return;
    if (n <= 8) {
      // Small collections (most of a large file) compare pairwise: no Set per key.
      for (let i = stride; i < list.length; i += stride) {
        for (let j = 0; j < i; j += stride) {
          if (list[i] === list[j]) this.duplicate(list, stride, what);
        }
      }
      return;
    }
    const seen = new Set<string>();
    for (let i = 0; i < list.length; i += stride) seen.add(list[i]);
    if (seen.size !== n) this.duplicate(list, stride, what);
  }

  private checkUniquePairs(entries: [string, unknown][], what: string): void {
    if (entries.length < 2) return;
    const seen = new Set<string>();
    for (let i = 0; i < entries.length; i++) seen.add(entries[i][0]);
    if (seen.size !== entries.length) {
      this.duplicate(entries.map((e) => e[0]), 1, what);
    }
  }

  private duplicate(list: string[], stride: number, what: string): never {
    const seen = new Set<string>();
    for (let i = 0; i < list.length; i += stride) {
      if (seen.has(list[i])) throw this.err(`duplicate ${what} ${JSON.stringify(list[i])}`);
      seen.add(list[i]);
    }
    throw this.err(`duplicate ${what}`);
  }

  // ---- primitives -------------------------------------------------------------------

  /** An array for n elements; unallocated when n exceeds the bytes left (corrupt count). */
  private alloc<T>(n: number): T[] {
    return n <= this.end - this.pos ? new Array<T>(n) : [];
  }

  private commit(): void {
    this.committed = this.pos;
    // Hashed a block at a time: one update per record (most are under 40 bytes) costs
    // about twice as much per byte.
    if (this.committed - this.hashed >= CRC_BLOCK) this.hashCommitted();
  }

  /** Brings `crc` up to the committed bytes. */
  private hashCommitted(): void {
    if (this.committed > this.hashed && this.opts.externalChecksum !== true) {
      this.crc.update(this.buf, this.hashed, this.committed);
      this.hashed = this.committed;
    }
  }

  private need(n: number): void {
    if (this.pos + n > this.end) this.short(n);
  }

  private short(n: number): never {
    if (!this.ended) throw NEED_MORE;
    const left = this.end - this.pos;
    throw this.err(
      `unexpected end of file: needed ${n} bytes, ${left} left` +
        (this.key === undefined && this.pos === this.committed && left === 0
          ? " (no EOF opcode)"
          : ""),
    );
  }

  private u8(): number {
    if (this.pos >= this.end) this.short(1);
    return this.buf[this.pos++];
  }

  private skip(n: number): void {
    this.need(n);
    this.pos += n;
  }

  /** A length (rdbLoadLen); a string encoding where a length belongs is an error. */
  private readLen(): number {
    const b = this.u8();
    const kind = b >> 6;
    if (kind === 0) return b & 0x3f;
    if (kind === 1) return ((b & 0x3f) << 8) | this.u8();
    if (b === 0x80) {
      this.need(4);
      const p = this.pos;
      const d = this.buf;
      this.pos += 4;
      return ((d[p] << 24) | (d[p + 1] << 16) | (d[p + 2] << 8) | d[p + 3]) >>> 0;
    }
    if (b === 0x81) {
      this.need(8);
      const p = this.pos;
      const d = this.buf;
      const hi = ((d[p] << 24) | (d[p + 1] << 16) | (d[p + 2] << 8) | d[p + 3]) >>> 0;
      const lo = ((d[p + 4] << 24) | (d[p + 5] << 16) | (d[p + 6] << 8) | d[p + 7]) >>> 0;
      if (hi >= 0x200000) throw this.err(`length ${hi * 4294967296 + lo} is too large`, 1);
      this.pos += 8;
      return hi * 4294967296 + lo;
    }
    if (kind === 3) throw this.err(`expected a length, found string encoding ${b & 0x3f}`, 1);
    throw this.err(`unknown length encoding 0x${b.toString(16)}`, 1);
  }

  /** A length that may use all 64 bits (module ids and module integers). */
  private readLenBig(): bigint {
    if (this.pos < this.end && this.buf[this.pos] === 0x81) {
      this.pos++;
      this.need(8);
      const d = this.buf;
      const p = this.pos;
      const hi = ((d[p] << 24) | (d[p + 1] << 16) | (d[p + 2] << 8) | d[p + 3]) >>> 0;
      const lo = ((d[p + 4] << 24) | (d[p + 5] << 16) | (d[p + 6] << 8) | d[p + 7]) >>> 0;
      this.pos += 8;
      return (BigInt(hi) << 32n) | BigInt(lo);
    }
    return BigInt(this.readLen());
  }

  /** A string (rdbGenericLoadStringObject): raw, int-encoded, or LZF. */
  private readString(): string {
    const b = this.u8();
    let len: number;
    if (b < 0x40) {
      len = b;
    } else if (b < 0x80) {
      len = ((b & 0x3f) << 8) | this.u8();
    } else if (b >= 0xc0) {
      switch (b & 0x3f) {
        case 0: {
          const v = this.u8();
          return String((v << 24) >> 24);
        }
        case 1: {
          this.need(2);
          const p = this.pos;
          this.pos += 2;
          return String(((this.buf[p] | (this.buf[p + 1] << 8)) << 16) >> 16);
        }
        case 2: {
          this.need(4);
          const p = this.pos;
          const d = this.buf;
          this.pos += 4;
          return String(d[p] | (d[p + 1] << 8) | (d[p + 2] << 16) | (d[p + 3] << 24));
        }
        case 3: {
          const n = this.readLzf();
          return latin1(this.lzfOut, 0, n);
        }
        default:
          throw this.err(`unknown string encoding ${b & 0x3f}`, 1);
      }
    } else {
      this.pos--;
      len = this.readLen();
    }
    this.need(len);
    const p = this.pos;
    this.pos += len;
    return latin1(this.buf, p, p + len);
  }

  /**
   * An LZF string, decompressed into `lzfOut` (reused: valid until the next one); returns
   * its length.
   */
  private readLzf(): number {
    const clen = this.readLen();
    const len = this.readLen();
    this.need(clen);
    const p = this.pos;
    this.pos += clen;
    if (this.lzfOut.length < len) {
      // A corrupt length fails here as a RangeError (wrap() names the offset).
      this.lzfOut = new Uint8Array(Math.max(len, this.lzfOut.length * 2, 256));
    }
    try {
      lzfDecompressInto(this.buf, p, p + clen, this.lzfOut, len);
      return len;
    } catch (e) {
      if (e instanceof BlobError) {
        throw new RdbError(`invalid LZF compressed string: ${e.message}`, this.base + p, this.key);
      }
      throw e;
    }
  }

  /** A string read as bytes for a blob decoder (no copy unless it was LZF/int). */
  private readBlob(): void {
    const b = this.u8();
    if (b >= 0xc0) {
      const enc = b & 0x3f;
      if (enc === 3) {
        this.blobAt = this.base + this.pos;
        const n = this.readLzf();
        this.bb = this.lzfOut;
        this.bs = 0;
        this.be = n;
        this.blobLzf = true;
        return;
      }
      // An int-encoded "blob" is what rdbGenericLoadStringObject would hand over.
      this.pos--;
      this.blobAt = this.base + this.pos;
      const s = this.readString();
      const out = new Uint8Array(s.length);
      for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
      this.bb = out;
      this.bs = 0;
      this.be = out.length;
      this.blobLzf = true;
      return;
    }
    this.pos--;
    const len = this.readLen();
    this.need(len);
    this.blobAt = this.base + this.pos;
    this.bb = this.buf;
    this.bs = this.pos;
    this.be = this.pos + len;
    this.blobLzf = false;
    this.pos += len;
  }

  /** Runs a blob decoder on the last blob, turning its BlobError into an RdbError. */
  private decode<T>(fn: (b: Uint8Array, s: number, e: number) => T): T {
    try {
      return fn(this.bb, this.bs, this.be);
    } catch (e) {
      if (e instanceof BlobError) {
        const what = `${RDB_TYPE_NAMES[this.valueType]} integrity check failed: ${e.message}`;
        if (this.blobLzf) {
          throw new RdbError(
            `${what} (at byte ${e.at} of the decompressed blob)`,
            this.blobAt,
            this.key,
          );
        }
        throw new RdbError(what, this.blobAt + e.at, this.key);
      }
      throw e;
    }
  }

  private blobErr(message: string): RdbError {
    return new RdbError(message, this.blobAt, this.key);
  }

  private readBinaryDouble(): number {
    this.need(8);
    if (this.dv === null) {
      this.dv = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    }
    const v = this.dv.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  private readAsciiDouble(): number {
    const len = this.u8();
    if (len === 255) return -Infinity;
    if (len === 254) return Infinity;
    if (len === 253) return NaN;
    this.need(len);
    const text = latin1(this.buf, this.pos, this.pos + len);
    const v = parseDouble(text);
    if (Number.isNaN(v) && !/^\s*[+-]?nan/i.test(text)) {
      throw this.err(`bad double value ${JSON.stringify(text)}`);
    }
    this.pos += len;
    return v;
  }

  // ---- errors -----------------------------------------------------------------------

  /** An RdbError at the current position (minus `back` bytes), naming the current key. */
  private err(reason: string, back = 0): RdbError {
    return new RdbError(reason, this.base + this.pos - back, this.key);
  }

  private wrap(e: unknown): Error {
    if (e instanceof RdbError) return e;
    if (e instanceof BlobError) return new RdbError(e.message, this.blobAt + e.at, this.key);
    if (e instanceof RangeError) {
      // Allocation failures (a corrupt length asking for gigabytes) land here.
      return new RdbError(e.message, this.base + this.pos, this.key);
    }
    return e as Error;
  }

  private warn(message: string, offset: number): void {
    this.opts.onWarning?.(message, offset);
  }

  /** Positions the parser on `bytes` as a complete buffer of RDB `version` (DUMP use). */
  static forPayload(
    bytes: Uint8Array,
    start: number,
    end: number,
    version: number,
    opts: RdbReadOptions = {},
  ): RdbParser {
    const p = new RdbParser(opts);
    p.buf = bytes;
    p.pos = p.committed = p.hashed = start;
    p.end = end;
    p.ended = true;
    p.version = version;
    return p;
  }

  /** Reads `<type> <value>` at the cursor (a DUMP body); null for an empty collection. */
  readObject(): { type: number; value: RdbValue | null; end: number } {
    try {
      const type = this.u8();
      const value = this.readValue(type);
      return { type, value, end: this.pos };
    } catch (e) {
      if (e === NEED_MORE) throw this.err("unexpected end of data");
      throw this.wrap(e);
    }
  }
}

/** The most pairs (entries) a hash (sorted set) may have to come back packed. */
const PACKED_MAX = 32;

/** The fields (members) found in `packed`: where each starts, and its length. */
const fieldStarts = new Int32Array(PACKED_MAX);
const fieldLens = new Int32Array(PACKED_MAX);
const entryScores = new Float64Array(PACKED_MAX);

/** A listpack's elements into `packed`, with no head. */
function packElements(b: Uint8Array, s: number, e: number): number {
  return listpackPacked(b, s, e, 0);
}

/**
 * Reads the `n` (member, score) pairs in `packed` into fieldStarts/fieldLens and
 * entryScores. True if every score is a number, the entries are in rank order (score,
 * then member bytes) and no member appears twice.
 */
function packedZsetEntries(n: number): boolean {
  const b = packed.bytes;
  let p = 0;
  for (let i = 0; i < n; i++) {
    p = packedElement(b, p);
    fieldStarts[i] = elementAt;
    fieldLens[i] = elementLen;
    p = packedElement(b, p);
    const score = parseDouble(latin1(b, elementAt, elementAt + elementLen));
    if (Number.isNaN(score)) return false;
    entryScores[i] = score;
    if (i > 0 && compareEntries(b, i - 1, i) >= 0) return false;
  }
  // Rank order makes equal (score, member) pairs adjacent; the same member with two
  // scores is not, so compare members too (n <= 32).
  for (let i = 1; i < n; i++) {
    for (let j = 0; j < i; j++) if (sameBytes(b, fieldStarts[i], fieldLens[i], j)) return false;
  }
  return true;
}

/** Set by packedElement: where the element's bytes start in `packed`, and how many. */
let elementAt = 0;
let elementLen = 0;

/** Reads the length-prefixed element at `p` of `b`; returns the position after it. */
function packedElement(b: Uint8Array, p: number): number {
  let n = b[p];
  let at = p + 1;
  if (n === 255) {
    n = (b[p + 1] | (b[p + 2] << 8) | (b[p + 3] << 16) | (b[p + 4] << 24)) >>> 0;
    at = p + 5;
  }
  elementAt = at;
  elementLen = n;
  return at + n;
}

/** Rank order of packed entries i and j: by score, then by member bytes. */
function compareEntries(b: Uint8Array, i: number, j: number): number {
  if (entryScores[i] !== entryScores[j]) return entryScores[i] < entryScores[j] ? -1 : 1;
  const li = fieldLens[i];
  const lj = fieldLens[j];
  const si = fieldStarts[i];
  const sj = fieldStarts[j];
  for (let k = 0; k < li && k < lj; k++) {
    if (b[si + k] !== b[sj + k]) return b[si + k] - b[sj + k];
  }
  return li - lj;
}

/** True if bytes [at, at + len) equal field (member) `j`'s. */
function sameBytes(b: Uint8Array, at: number, len: number, j: number): boolean {
  if (fieldLens[j] !== len) return false;
  const s = fieldStarts[j];
  for (let k = 0; k < len; k++) if (b[s + k] !== b[at + k]) return false;
  return true;
}

/** A listpack hash's elements into `packed`, after the 4 bytes of hash.ts's header. */
function packHashBody(b: Uint8Array, s: number, e: number): number {
  return listpackPacked(b, s, e, 4);
}

/** True if no field of the pairs in `packed` (after its header) appears twice. */
function packedFieldsUnique(): boolean {
  const b = packed.bytes;
  const end = packed.len;
  // Field starts and lengths: every other element.
  const starts = fieldStarts;
  const lens = fieldLens;
  let fields = 0;
  for (let i = 0, p = 4; p < end; i++) {
    p = packedElement(b, p);
    if ((i & 1) !== 0) continue;
    for (let j = 0; j < fields; j++) if (sameBytes(b, elementAt, elementLen, j)) return false;
    starts[fields] = elementAt;
    lens[fields++] = elementLen;
  }
  return true;
}

/** Sorts zset entries by score then member bytes, fast when already in (reverse) order. */
function sortByRank(entries: [string, number][]): void {
  const n = entries.length;
  let asc = true;
  let desc = true;
  for (let i = 1; i < n && (asc || desc); i++) {
    const c = compareRank(entries[i - 1], entries[i]);
    if (c > 0) asc = false;
    else if (c < 0) desc = false;
  }
  if (asc) return;
  if (desc) {
    entries.reverse(); // Redis 7.0 writes skiplists from the highest rank down
    return;
  }
  entries.sort(compareRank);
}

function compareRank(a: [string, number], b: [string, number]): number {
  if (a[1] < b[1]) return -1;
  if (a[1] > b[1]) return 1;
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
}

const MODULE_CHARSET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** moduleTypeNameByID: the 9-char type name packed in the top 54 bits of a module id. */
function moduleName(id: bigint): string {
  let v = id >> 10n;
  let name = "";
  for (let j = 0; j < 9; j++) {
    name = MODULE_CHARSET[Number(v & 63n)] + name;
    v >>= 6n;
  }
  return name;
}

/** The error for a CRC-64 trailer that does not match the data before it (at `at`). */
export function checksumError(stored: bigint, computed: bigint, at: number): RdbError {
  return new RdbError(
    `wrong RDB checksum: the file says ${hex64(stored)} but the data hashes to ${hex64(computed)}`,
    at,
  );
}

function hex64(v: bigint): string {
  return "0x" + v.toString(16).padStart(16, "0");
}

/** Reads a whole RDB held in memory. */
export function parseRdb(bytes: Uint8Array, opts: RdbReadOptions = {}): RdbFile {
  const p = new RdbParser(opts);
  p.push(bytes);
  p.finish();
  const entries: RdbEntry[] = [];
  for (let e = p.next(); e !== null; e = p.next()) entries.push(e);
  return {
    version: p.version,
    aux: p.aux,
    entries,
    checksum: p.checksum,
    end: p.offset,
    emptyKeysSkipped: p.emptyKeysSkipped,
  };
}

/** The entries of an RDB held in memory, one at a time. */
export function* rdbEntries(
  bytes: Uint8Array,
  parser: RdbParser = new RdbParser(),
): Generator<RdbEntry, RdbParser> {
  parser.push(bytes);
  parser.finish();
  for (let e = parser.next(); e !== null; e = parser.next()) yield e;
  return parser;
}

/**
 * The entries of an RDB arriving as chunks (a file stream, a socket). Pass your own
 * parser to watch `offset` for progress. Input after the RDB's end stays in
 * `parser.rest()` (whatever arrived in the same chunk) and is not read further.
 */
export async function* readRdbStream(
  source: AsyncIterable<Uint8Array>,
  parser: RdbParser = new RdbParser(),
): AsyncGenerator<RdbEntry, RdbParser> {
  for await (const chunk of source) {
    parser.push(chunk);
    for (let e = parser.next(); e !== null; e = parser.next()) yield e;
    if (parser.done) return parser;
  }
  parser.finish();
  for (let e = parser.next(); e !== null; e = parser.next()) yield e;
  return parser;
}
