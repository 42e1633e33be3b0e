/**
 * The neutral value form the RDB codecs read and write (independent of Amber's collection
 * classes, so the codecs can run in a Worker and in the command-line tools), the RDB
 * format's vocabulary (value types, opcodes), the errors the codecs throw, and the few
 * byte helpers every codec shares: Latin-1 string <-> bytes and Redis's `string2ll`.
 */
import { SHORT_BY_ARGS, shortLatin1, writeLatin1 } from "../../util/latin1.ts";
import { formatScore } from "../../util/double.ts";
import { Buffer } from "node:buffer";

/**
 * A value as the RDB format sees it. Strings are Latin-1 JS strings (one char per byte).
 *
 * The optional `encoding` fields are hints: the reader reports the encoding the file used,
 * and the writer follows a hint the way Redis 7.0 follows the in-memory encoding
 * ("listpack" -> a listpack blob, "hashtable"/"skiplist" -> the plain forms). Without a
 * hint the writer decides with Redis 7.0's default thresholds.
 */
export type RdbValue =
  | RdbString
  | RdbList
  | RdbSet
  | RdbZset
  | RdbHash;

export interface RdbString {
  type: "string";
  value: string;
}

export interface RdbList {
  type: "list";
  items: string[];
  /** Redis 7.0 lists are always quicklists (7.2 added small "listpack" lists). */
  encoding?: "quicklist" | "listpack";
  /**
   * Quicklist node boundaries. When present the writer writes one node per array (and
   * ignores `items`); the reader fills it only with `listNodes: true`.
   */
  nodes?: string[][];
}

export interface RdbSet {
  type: "set";
  members: string[];
  /** Shorthand for `encoding: "intset"`. */
  intset?: boolean;
  encoding?: "intset" | "hashtable" | "listpack";
  /**
   * The intset bytes as Redis holds them (Latin-1). An intset keeps the width it grew
   * to after removals, so re-encoding `members` could pick a smaller one: when present,
   * the writer writes these bytes and loading keeps them.
   */
  blob?: string;
  /**
   * Set (with `blob`, and `members` empty) when the reader left the intset's members
   * undecoded (its `intsetBlobs` option).
   */
  count?: number;
}

export interface RdbZset {
  type: "zset";
  /** In rank order: by score, then by member bytes. */
  entries: [member: string, score: number][];
  encoding?: "listpack" | "skiplist";
  /**
   * The entries in zset.ts's packed form, with `entries` empty and `count` entries, when
   * the reader's `packedZsets` option read them so.
   */
  packed?: string;
  count?: number;
}

export interface RdbHash {
  type: "hash";
  entries: [field: string, value: string][];
  encoding?: "listpack" | "hashtable";
  /**
   * The pairs in hash.ts's packed form, with `entries` empty and `count` pairs, when the
   * reader's `packedHashes` option read them so.
   */
  packed?: string;
  count?: number;
}

/** One key as stored in an RDB file. */
export interface RdbEntry {
  db: number;
  key: string;
  value: RdbValue;
  /** Absolute Unix time in milliseconds. */
  expireAtMs?: number;
  /** LRU idle time in seconds (RDB_OPCODE_IDLE). */
  lruIdle?: number;
  /** LFU logarithmic counter 0..255 (RDB_OPCODE_FREQ). */
  lfuFreq?: number;
}

/** The RDB version Redis 7.0 writes (and the newest it reads). */
export const RDB_VERSION_7_0 = 10;
/** The newest RDB version the reader understands the framing of (Redis 7.4). */
export const RDB_VERSION_MAX = 12;

/** Value types (rdb.h RDB_TYPE_*). */
export const RdbType = {
  STRING: 0,
  LIST: 1,
  SET: 2,
  ZSET: 3,
  HASH: 4,
  ZSET_2: 5,
  MODULE: 6,
  MODULE_2: 7,
  HASH_ZIPMAP: 9,
  LIST_ZIPLIST: 10,
  SET_INTSET: 11,
  ZSET_ZIPLIST: 12,
  HASH_ZIPLIST: 13,
  LIST_QUICKLIST: 14,
  STREAM_LISTPACKS: 15,
  HASH_LISTPACK: 16,
  ZSET_LISTPACK: 17,
  LIST_QUICKLIST_2: 18,
  STREAM_LISTPACKS_2: 19,
  SET_LISTPACK: 20,
  STREAM_LISTPACKS_3: 21,
} as const;

/** Names for error messages, as rdb.h spells them. */
export const RDB_TYPE_NAMES: Record<number, string> = {
  0: "string",
  1: "list",
  2: "set",
  3: "zset",
  4: "hash",
  5: "zset-2",
  6: "module",
  7: "module-2",
  9: "hash-zipmap",
  10: "list-ziplist",
  11: "set-intset",
  12: "zset-ziplist",
  13: "hash-ziplist",
  14: "list-quicklist",
  15: "stream-listpacks",
  16: "hash-listpack",
  17: "zset-listpack",
  18: "list-quicklist-2",
  19: "stream-listpacks-2",
  20: "set-listpack",
  21: "stream-listpacks-3",
  22: "hash-metadata-pre-ga",
  23: "hash-listpack-ex-pre-ga",
  24: "hash-metadata",
  25: "hash-listpack-ex",
};

/** Special opcodes (rdb.h RDB_OPCODE_*). */
export const RdbOpcode = {
  SLOT_INFO: 0xf4,
  FUNCTION2: 0xf5,
  FUNCTION: 0xf6,
  MODULE_AUX: 0xf7,
  IDLE: 0xf8,
  FREQ: 0xf9,
  AUX: 0xfa,
  RESIZEDB: 0xfb,
  EXPIRETIME_MS: 0xfc,
  EXPIRETIME: 0xfd,
  SELECTDB: 0xfe,
  EOF: 0xff,
} as const;

/** Quicklist node containers (quicklist.h). */
export const QUICKLIST_NODE_CONTAINER_PLAIN = 1;
export const QUICKLIST_NODE_CONTAINER_PACKED = 2;

/**
 * A blob (listpack, ziplist, intset, zipmap, LZF) that does not add up. `at` is the byte
 * offset inside the blob where the problem was found, so the RDB reader can turn it into
 * a file offset.
 */
export class BlobError extends Error {
  constructor(message: string, readonly at: number) {
    super(message);
    this.name = "BlobError";
  }
}

/**
 * An RDB file (or DUMP payload) that cannot be read. The message names the byte offset
 * and, when inside a key, the key: `RDB error at offset 1234 reading key "foo": ...`.
 */
export class RdbError extends Error {
  constructor(
    readonly reason: string,
    readonly offset: number,
    readonly key?: string,
  ) {
    super(
      `RDB error at offset ${offset}${key === undefined ? "" : ` reading key ${quoteKey(key)}`}: ` +
        reason,
    );
    this.name = "RdbError";
  }
}

/** A key for an error message: JSON-quoted (binary shows as escapes), long keys cut. */
export function quoteKey(key: string): string {
  return JSON.stringify(key.length > 120 ? key.slice(0, 120) + "..." : key);
}

// ---- Latin-1 <-> bytes ----------------------------------------------------------------

// Buffer's latin1Slice is the fastest byte->string path on both Deno and Bun (measured:
// ~80 ns for 8 bytes, ~1.6 us for 5 KB; a charCode loop is 30x slower on 5 KB). It needs
// a Buffer view, which costs about as much again to make; the last four are cached because
// codecs decode many strings from one array, and the RDB reader goes between four (the
// file's bytes, its LZF output, and the packed hash and sorted set it builds).
type Latin1Buffer = Buffer & { latin1Slice?: (start: number, end: number) => string };
const VIEWS = 4;
const viewOf: (Uint8Array | null)[] = new Array(VIEWS).fill(null);
const views: (Latin1Buffer | null)[] = new Array(VIEWS).fill(null);
/** The slot the next new view replaces (round robin). */
let nextView = 0;
const hasLatin1Slice =
  typeof (Buffer.prototype as unknown as Latin1Buffer).latin1Slice === "function";

/** Bytes [start, end) of `bytes` as a Latin-1 string (one char per byte). */
export function latin1(bytes: Uint8Array, start: number, end: number): string {
  const n = end - start;
  if (n <= 4) {
    // Tiny strings (list items, small ints) are cheaper without the native call.
    if (n <= 0) return "";
    if (n === 1) return String.fromCharCode(bytes[start]);
    if (n === 2) return String.fromCharCode(bytes[start], bytes[start + 1]);
    if (n === 3) return String.fromCharCode(bytes[start], bytes[start + 1], bytes[start + 2]);
    return String.fromCharCode(bytes[start], bytes[start + 1], bytes[start + 2], bytes[start + 3]);
  }
  if (n <= 16 && SHORT_BY_ARGS) return shortLatin1(bytes, start, n);
  let v: Latin1Buffer | null = null;
  for (let i = 0; i < VIEWS; i++) {
    if (viewOf[i] === bytes) {
      v = views[i];
      break;
    }
  }
  if (v === null) {
    v = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) as Latin1Buffer;
    viewOf[nextView] = bytes;
    views[nextView] = v;
    nextView = (nextView + 1) % VIEWS;
  }
  return hasLatin1Slice ? v.latin1Slice!(start, end) : v.toString("latin1", start, end);
}

/** Forgets the cached Buffer views so a large decoded array can be collected. */
export function releaseLatin1Cache(): void {
  viewOf.fill(null);
  views.fill(null);
}

/** The Latin-1 string `s` as a new byte array. */
export function latin1Bytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  writeLatin1(out, 0, s);
  return out;
}

// ---- integers ------------------------------------------------------------------------

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * Redis's `string2ll` / listpack's `lpStringToInt64`: the value of `s` when it is the
 * canonical decimal form of a signed 64-bit integer (no sign but "-", no leading zeros,
 * no "-0", at most 20 chars), else null. Safe integers come back as numbers, others as
 * bigints.
 */
export function stringToInt64(s: string): number | bigint | null {
  const n = s.length;
  if (n === 0 || n > 20) return null;
  let c = s.charCodeAt(0);
  if (n === 1) return c >= 48 && c <= 57 ? c - 48 : null;
  let i = 0;
  if (c === 45) {
    i = 1;
    c = s.charCodeAt(1);
  }
  if (c < 49 || c > 57) return null;
  let v = c - 48;
  for (let j = i + 1; j < n; j++) {
    const d = s.charCodeAt(j);
    if (d < 48 || d > 57) return null;
    v = v * 10 + (d - 48);
  }
  if (n - i <= 15) return i ? -v : v; // below 2^53: exact
  const b = BigInt(s);
  if (b < INT64_MIN || b > INT64_MAX) return null;
  return Number.isSafeInteger(Number(b)) ? Number(b) : b;
}

/** Formats the signed 64-bit integer (hi, lo) as decimal. */
export function int64ToString(hi: number, lo: number): string {
  // hi * 2^32 is exact; |value| below 2^53 keeps the sum exact too.
  if (hi >= -0x200000 && hi < 0x200000) return String(hi * 4294967296 + (lo >>> 0));
  return BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo >>> 0)).toString();
}

/** C's `%.17g` (ties half to even, as glibc), as Redis writes ASCII scores. */
export const formatG17: (d: number) => string = formatScore;

/**
 * Redis 7.0's `d2string`, used for sorted-set scores stored in listpacks: integral values
 * within +-2^52 print as integers, the rest as `%.17g`.
 */
export function d2string(d: number): string {
  if (Number.isInteger(d) && d > -4503599627370495 && d < 4503599627370496 && !Object.is(d, -0)) {
    return String(d);
  }
  return formatG17(d);
}

/**
 * Parses a score the way `strtod` does for the texts Redis writes (decimal, exponent,
 * "inf"/"-inf"/"nan" in any case). Returns NaN for text strtod would not take whole.
 */
export function parseDouble(s: string): number {
  const t = s.trim();
  if (t.length === 0) return NaN;
  const n = Number(t);
  if (!Number.isNaN(n)) {
    // Number() accepts forms strtod reads differently ("0x1p3" is fine either way; "0b1"
    // and "0o7" are not C): refuse those.
    const c = t.charCodeAt(t[0] === "-" || t[0] === "+" ? 1 : 0);
    if (c === 48 && /^[+-]?0[bBoO]/.test(t)) return NaN;
    return n;
  }
  const l = t.toLowerCase();
  if (l === "inf" || l === "+inf" || l === "infinity" || l === "+infinity") return Infinity;
  if (l === "-inf" || l === "-infinity") return -Infinity;
  return NaN;
}
