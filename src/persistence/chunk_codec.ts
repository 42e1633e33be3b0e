/**
 * The bytes a snapshot chunk travels in from the main thread to its Worker: keys, TTLs and
 * values (as toTransferValue gives them) in one ArrayBuffer that postMessage transfers
 * instead of cloning. Cloning a chunk's objects cost the main thread its serialization,
 * and under Bun a clone waits while the receiving Worker collects garbage (100+ ms on the
 * first BGSAVE after a 1M-key load; a transferred buffer never waited: BENCHMARKS.md).
 *
 * Layout, little-endian: per entry a key, the expire time (f64, -1 for none) and a value:
 * a tag byte, then what the tag says. A string is a u32 length and its Latin-1 bytes.
 */
import type { RdbValue } from "./rdb/types.ts";
import { latin1 } from "./rdb/types.ts";
import { writeLatin1 } from "../util/latin1.ts";

/** The value tags. */
const Tag = {
  STRING: 0,
  LIST: 1,
  SET: 2,
  INTSET: 3,
  HASH: 4,
  HASH_PACKED: 5,
  ZSET: 6,
  ZSET_PACKED: 7,
  /** A big value's shell (its tag and payload follow): value_stream.ts. */
  BEGIN: 8,
  /** A slice of the big value begun last (its tag and payload follow). */
  SLICE: 9,
  /** The end of the big value begun last. */
  END: 10,
} as const;

/** What an entry of a chunk is: a whole value, or a part of a streamed big value. */
export const EntryPart = { WHOLE: 0, BEGIN: 1, SLICE: 2, END: 3 } as const;
export type EntryPart = (typeof EntryPart)[keyof typeof EntryPart];

/** Encoding hints the writers read (RdbValue.encoding), as one byte; 0 is none. */
const ENCODINGS = [undefined, "listpack", "hashtable", "skiplist", "intset", "quicklist"] as const;

function encodingCode(e: string | undefined): number {
  const i = ENCODINGS.indexOf(e as (typeof ENCODINGS)[number]);
  return i < 0 ? 0 : i;
}

/** Builds one chunk's bytes. */
export class ChunkEncoder {
  private buf = new Uint8Array(64 * 1024);
  private view = new DataView(this.buf.buffer);
  private pos = 0;
  private n = 0;

  get count(): number {
    return this.n;
  }

  /** Appends one entry; `expireAt` is -1 for none. */
  entry(key: string, value: string | RdbValue, expireAt: number): void {
    this.head(key, expireAt);
    this.value(value);
  }

  /** Begins a big value sent in slices: its key, TTL and shell (value_stream.ts). */
  begin(key: string, shell: RdbValue, expireAt: number): void {
    this.head(key, expireAt);
    this.u8(Tag.BEGIN);
    this.value(shell);
  }

  /** A slice of the big value begun last. */
  slice(part: RdbValue): void {
    this.head("", -1);
    this.u8(Tag.SLICE);
    this.value(part);
  }

  /** Ends the big value begun last. */
  end(): void {
    this.head("", -1);
    this.u8(Tag.END);
  }

  private head(key: string, expireAt: number): void {
    this.n++;
    this.str(key);
    this.room(9);
    this.view.setFloat64(this.pos, expireAt, true);
    this.pos += 8;
  }

  private value(value: string | RdbValue): void {
    this.room(1);
    if (typeof value === "string") {
      this.buf[this.pos++] = Tag.STRING;
      this.str(value);
      return;
    }
    switch (value.type) {
      case "string":
        this.buf[this.pos++] = Tag.STRING;
        this.str(value.value);
        return;
      case "list": {
        this.buf[this.pos++] = Tag.LIST;
        const nodes = value.nodes ?? [value.items];
        this.u32(nodes.length);
        for (const node of nodes) this.strs(node);
        return;
      }
      case "set":
        if (value.count !== undefined) {
          this.buf[this.pos++] = Tag.INTSET;
          this.u32(value.count);
          this.str(value.blob!);
          return;
        }
        this.buf[this.pos++] = Tag.SET;
        this.u8(value.intset ? 4 : encodingCode(value.encoding));
        this.strs(value.members);
        this.u8(value.blob === undefined ? 0 : 1);
        if (value.blob !== undefined) this.str(value.blob);
        return;
      case "hash":
        if (value.packed !== undefined) {
          this.buf[this.pos++] = Tag.HASH_PACKED;
          this.str(value.packed);
          return;
        }
        this.buf[this.pos++] = Tag.HASH;
        this.u8(encodingCode(value.encoding));
        this.u32(value.entries.length);
        for (const [f, v] of value.entries) {
          this.str(f);
          this.str(v);
        }
        return;
      case "zset":
        if (value.packed !== undefined) {
          this.buf[this.pos++] = Tag.ZSET_PACKED;
          this.u32(value.count!);
          this.str(value.packed);
          return;
        }
        this.buf[this.pos++] = Tag.ZSET;
        this.u8(encodingCode(value.encoding));
        this.u32(value.entries.length);
        for (const [m, score] of value.entries) {
          this.str(m);
          this.room(8);
          this.view.setFloat64(this.pos, score, true);
          this.pos += 8;
        }
        return;
    }
  }

  /** The chunk so far (a view of a buffer this encoder gives up: transfer it). */
  take(): Uint8Array {
    const out = this.buf.subarray(0, this.pos);
    this.buf = new Uint8Array(Math.max(64 * 1024, this.pos));
    this.view = new DataView(this.buf.buffer);
    this.pos = 0;
    this.n = 0;
    return out;
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const grown = new Uint8Array(Math.max(2 * this.buf.length, this.pos + n));
    grown.set(this.buf.subarray(0, this.pos));
    this.buf = grown;
    this.view = new DataView(grown.buffer);
  }

  private u8(b: number): void {
    this.room(1);
    this.buf[this.pos++] = b;
  }

  private u32(n: number): void {
    this.room(4);
    this.view.setUint32(this.pos, n, true);
    this.pos += 4;
  }

  private str(s: string): void {
    this.u32(s.length);
    this.room(s.length);
    this.pos = writeLatin1(this.buf, this.pos, s);
  }

  private strs(a: readonly string[]): void {
    this.u32(a.length);
    for (let i = 0; i < a.length; i++) this.str(a[i]);
  }
}

/**
 * Reads a chunk's entries back, in order (the Worker's side). A streamed big value
 * comes as BEGIN (key, TTL, shell), SLICEs (key "") and END (key "", value null).
 */
export function decodeChunk(
  bytes: Uint8Array,
  fn: (
    key: string,
    value: RdbValue | null,
    expireAt: number | undefined,
    part: EntryPart,
  ) => void,
): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let p = 0;
  const u32 = (): number => {
    const v = view.getUint32(p, true);
    p += 4;
    return v;
  };
  const str = (): string => {
    const n = u32();
    const s = latin1(bytes, p, p + n);
    p += n;
    return s;
  };
  const strs = (): string[] => {
    const n = u32();
    const out = new Array<string>(n);
    for (let i = 0; i < n; i++) out[i] = str();
    return out;
  };
  while (p < bytes.length) {
    const key = str();
    const exp = view.getFloat64(p, true);
    p += 8;
    let tag = bytes[p++];
    let part: EntryPart = EntryPart.WHOLE;
    if (tag === Tag.END) {
      fn(key, null, undefined, EntryPart.END);
      continue;
    }
    if (tag === Tag.BEGIN || tag === Tag.SLICE) {
      part = tag === Tag.BEGIN ? EntryPart.BEGIN : EntryPart.SLICE;
      tag = bytes[p++];
    }
    let value: RdbValue;
    switch (tag) {
      case Tag.STRING:
        value = { type: "string", value: str() };
        break;
      case Tag.LIST: {
        const n = u32();
        const nodes = new Array<string[]>(n);
        for (let i = 0; i < n; i++) nodes[i] = strs();
        value = { type: "list", items: [], encoding: "quicklist", nodes };
        break;
      }
      case Tag.INTSET: {
        const count = u32();
        value = {
          type: "set",
          members: [],
          count,
          intset: true,
          encoding: "intset",
          blob: str(),
        };
        break;
      }
      case Tag.SET: {
        const enc = ENCODINGS[bytes[p++]];
        const members = strs();
        const blob = bytes[p++] === 1 ? str() : undefined;
        value = { type: "set", members, intset: enc === "intset", encoding: setEncoding(enc) };
        if (blob !== undefined) value.blob = blob;
        break;
      }
      case Tag.HASH_PACKED:
        value = { type: "hash", entries: [], packed: str(), encoding: "listpack" };
        break;
      case Tag.HASH: {
        const enc = ENCODINGS[bytes[p++]];
        const n = u32();
        const entries = new Array<[string, string]>(n);
        for (let i = 0; i < n; i++) entries[i] = [str(), str()];
        value = { type: "hash", entries };
        if (enc === "listpack" || enc === "hashtable") value.encoding = enc;
        break;
      }
      case Tag.ZSET_PACKED: {
        const count = u32();
        value = { type: "zset", entries: [], packed: str(), count, encoding: "listpack" };
        break;
      }
      case Tag.ZSET: {
        const enc = ENCODINGS[bytes[p++]];
        const n = u32();
        const entries = new Array<[string, number]>(n);
        for (let i = 0; i < n; i++) {
          const m = str();
          entries[i] = [m, view.getFloat64(p, true)];
          p += 8;
        }
        value = { type: "zset", entries };
        if (enc === "listpack" || enc === "skiplist") value.encoding = enc;
        break;
      }
      default:
        throw new Error(`snapshot chunk: unknown value tag ${tag} at byte ${p - 1}`);
    }
    fn(key, value, exp < 0 ? undefined : exp, part);
  }
}

function setEncoding(e: string | undefined): "intset" | "hashtable" | "listpack" | undefined {
  return e === "intset" || e === "hashtable" || e === "listpack" ? e : undefined;
}
