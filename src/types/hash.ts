/**
 * The hash type: Redis's two encodings, `listpack` (small hashes, insertion order) and
 * `hashtable`, with Redis 7.0's conversion rules (a field or value longer than
 * hash-max-listpack-value, or more than hash-max-listpack-entries pairs, converts for
 * good; nothing converts back).
 *
 * Memory drives the compact form: a million small hashes must stay within 1.5x of
 * Redis. A JS string costs a header per string, an array a header plus a slot per
 * element, so the listpack is ONE Latin-1 string, a packed buffer like Redis's own:
 *
 *   count (4 chars, uint32 LE) then field, value, field, value, ... each element as
 *   len (1 char, or 0xFF + uint32 LE when >= 255) followed by its bytes.
 *
 * Every change rebuilds the buffer with `Array.prototype.join`, which yields a flat
 * string (`+` would leave a rope of slices that keeps the old buffer alive). Lookups
 * scan it without allocating, as lpFind does. Strings handed out of the buffer are
 * copies, so nothing long-lived can pin an old buffer.
 *
 * The large form is a KeyTable of field -> value (Redis's dict): one lookup per HSET or
 * HGET, and a random field (HRANDFIELD) is a random entry of its dense entry arrays.
 */
import type { Collection } from "./value.ts";
import { KeyTable } from "../keyspace/keytable.ts";

/** hash-max-listpack-entries / hash-max-listpack-value, read by the caller per command. */
export interface HashLimits {
  entries: number;
  value: number;
}

const HDR = 4;

function u32(n: number): string {
  return String.fromCharCode(n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255);
}

function readU32(s: string, p: number): number {
  return (s.charCodeAt(p) | (s.charCodeAt(p + 1) << 8) | (s.charCodeAt(p + 2) << 16) |
    (s.charCodeAt(p + 3) << 24)) >>> 0;
}

/** One length-prefixed element of a packed buffer. */
export function packElement(s: string): string {
  const n = s.length;
  return n < 255 ? String.fromCharCode(n) + s : "\xff" + u32(n) + s;
}

/**
 * Decoder scratch: `decode` leaves the element's start and length here and returns the
 * position after it. Module state instead of a returned object keeps scans allocation
 * free (JS is single-threaded, and no caller holds these across another decode).
 */
let eStart = 0;
let eLen = 0;

function decode(s: string, p: number): number {
  const n = s.charCodeAt(p);
  if (n !== 255) {
    eStart = p + 1;
    eLen = n;
    return p + 1 + n;
  }
  eLen = readU32(s, p + 1);
  eStart = p + 5;
  return eStart + eLen;
}

/**
 * A standalone copy of `s`. V8 makes substrings of 13+ chars "sliced" views that keep
 * the whole parent alive; joining two pieces allocates a fresh flat string instead.
 */
export function copyString(s: string): string {
  return s.length < 13 ? s : [s.slice(0, 1), s.slice(1)].join("");
}

/** Position of the field element equal to `f` in a packed hash, or -1. */
function findField(s: string, f: string): number {
  const end = s.length;
  const fl = f.length;
  const c0 = fl === 0 ? -1 : f.charCodeAt(0);
  let p = HDR;
  while (p < end) {
    const next = decode(s, p);
    if (eLen === fl && (fl === 0 || (s.charCodeAt(eStart) === c0 && s.startsWith(f, eStart)))) {
      return p;
    }
    p = decode(s, next);
  }
  return -1;
}

/** The hashtable form. */
class HashTable {
  readonly slot = new KeyTable<string>(0, false);

  get(f: string): string | undefined {
    return this.slot.get(f);
  }

  /** True if the field is new. */
  set(f: string, v: string): boolean {
    const n = this.slot.size;
    this.slot.set(f, v);
    return this.slot.size !== n;
  }

  delete(f: string): boolean {
    return this.slot.delete(f);
  }
}

/** A Redis hash value. */
export class HashValue implements Collection {
  /** A packed listpack string, or the hashtable form. */
  private d: string | HashTable = "\0\0\0\0";

  get type(): string {
    return "hash";
  }

  encoding(): string {
    return typeof this.d === "string" ? "listpack" : "hashtable";
  }

  get isListpack(): boolean {
    return typeof this.d === "string";
  }

  /** The packed listpack buffer (see fromPacked), or null for the hashtable form. */
  packedForm(): string | null {
    return typeof this.d === "string" ? this.d : null;
  }

  get size(): number {
    const d = this.d;
    return typeof d === "string" ? readU32(d, 0) : d.slot.size;
  }

  get(field: string): string | undefined {
    const d = this.d;
    if (typeof d !== "string") return d.get(field);
    const p = findField(d, field);
    if (p === -1) return undefined;
    decode(d, decode(d, p));
    return copyString(d.slice(eStart, eStart + eLen));
  }

  /** Length of the field's value, -1 when the field is missing (no copy made). */
  valueLength(field: string): number {
    const d = this.d;
    if (typeof d !== "string") {
      const v = d.get(field);
      return v === undefined ? -1 : v.length;
    }
    const p = findField(d, field);
    if (p === -1) return -1;
    decode(d, decode(d, p));
    return eLen;
  }

  has(field: string): boolean {
    const d = this.d;
    return typeof d === "string" ? findField(d, field) !== -1 : d.slot.has(field);
  }

  /**
   * Redis's hashTypeTryConversion: converts to a hashtable when any of `args` is longer
   * than hash-max-listpack-value (checked before a write, for all its arguments).
   */
  tryConversion(args: readonly string[], from: number, to: number, maxValue: number): void {
    if (typeof this.d !== "string") return;
    for (let i = from; i <= to; i++) {
      if (args[i].length > maxValue) {
        this.convert();
        return;
      }
    }
  }

  /** Redis's hashTypeSet. Returns true if the field was added, false if updated. */
  set(field: string, value: string, limits: HashLimits): boolean {
    if (
      typeof this.d === "string" && (field.length > limits.value || value.length > limits.value)
    ) {
      this.convert();
    }
    const d = this.d;
    if (typeof d !== "string") return d.set(field, value);
    const p = findField(d, field);
    if (p !== -1) {
      const vp = decode(d, p);
      const vend = decode(d, vp);
      this.d = [d.slice(0, vp), packElement(value), d.slice(vend)].join("");
      return false;
    }
    const n = readU32(d, 0) + 1;
    this.d = [u32(n), d.slice(HDR), packElement(field), packElement(value)].join("");
    if (n > limits.entries) this.convert();
    return true;
  }

  delete(field: string): boolean {
    const d = this.d;
    if (typeof d !== "string") return d.delete(field);
    const p = findField(d, field);
    if (p === -1) return false;
    const end = decode(d, decode(d, p));
    this.d = [u32(readU32(d, 0) - 1), d.slice(HDR, p), d.slice(end)].join("");
    return true;
  }

  /** Converts to the hashtable encoding (no-op if already). */
  convert(): void {
    const d = this.d;
    if (typeof d !== "string") return;
    const t = new HashTable();
    this.forEach((f, v) => t.set(copyString(f), copyString(v)));
    this.d = t;
  }

  /**
   * Calls `fn` for each pair, in listpack order for the compact form. The strings may be
   * views of the internal buffer: copy them (`copyString`) before storing them.
   */
  forEach(fn: (field: string, value: string) => void): void {
    const d = this.d;
    if (typeof d !== "string") {
      d.slot.forEach((v, f) => fn(f, v));
      return;
    }
    const end = d.length;
    let p = HDR;
    while (p < end) {
      p = decode(d, p);
      const f = d.slice(eStart, eStart + eLen);
      p = decode(d, p);
      fn(f, d.slice(eStart, eStart + eLen));
    }
  }

  /** The pairs as [field, value], in listpack order for the compact form. */
  *entries(): IterableIterator<[string, string]> {
    const out: [string, string][] = [];
    this.forEach((f, v) => out.push([copyString(f), copyString(v)]));
    yield* out;
  }

  /** All pairs as a flat [f, v, f, v, ...] array (views; transient use only). */
  flat(): string[] {
    const out: string[] = [];
    this.forEach((f, v) => out.push(f, v));
    return out;
  }

  /**
   * `count` (below size) distinct random pairs of the hashtable form, in no particular
   * order (HRANDFIELD cases 3 and 4); null for a listpack.
   */
  distinctRandomPairs(count: number): [string, string][] | null {
    const d = this.d;
    if (typeof d === "string") return null;
    const t = d.slot;
    return t.distinctRandomPositions(count).map((i) => [t.keyAt(i), t.valueAt(i)]);
  }

  /** A uniformly random pair (views; transient use only). */
  randomPair(): [string, string] {
    const d = this.d;
    if (typeof d !== "string") {
      const i = d.slot.randomPosition();
      return [d.slot.keyAt(i), d.slot.valueAt(i)];
    }
    const flat = this.flat();
    const i = Math.floor(Math.random() * (flat.length / 2)) * 2;
    return [flat[i], flat[i + 1]];
  }

  /**
   * For HSCAN of the hashtable form: the table whose live key iterator a cursor parks
   * (null for the listpack form, which is scanned in one call as Redis does).
   */
  scanSource(): KeyTable<string> | null {
    return typeof this.d === "string" ? null : this.d.slot;
  }

  /**
   * A listpack hash over `packed`, a buffer in this module's packed form (count, then
   * length-prefixed fields and values) that the caller built and checked: no field twice.
   */
  static fromPacked(packed: string): HashValue {
    const h = new HashValue();
    h.d = packed;
    return h;
  }

  /** Deep copy with the same encoding (Redis's hashTypeDup). */
  clone(): HashValue {
    const h = new HashValue();
    const d = this.d;
    if (typeof d === "string") {
      h.d = d;
    } else {
      const t = new HashTable();
      d.slot.forEach((v, f) => t.set(f, v));
      h.d = t;
    }
    return h;
  }

  /**
   * Builds a hash from pairs in order (RDB loading, tests): listpack while the pairs
   * fit `limits`, as Redis does when it loads a hash.
   */
  static fromPairs(pairs: Iterable<[string, string]>, limits: HashLimits): HashValue {
    const h = new HashValue();
    if (Array.isArray(pairs)) {
      const packed = packPairs(pairs, limits);
      if (packed !== null) {
        h.d = packed;
        return h;
      }
    }
    for (const [f, v] of pairs) h.set(f, v, limits);
    return h;
  }
}

/**
 * The listpack buffer of `pairs` in one join, or null unless they fit `limits` with no
 * field twice (then set() one by one decides). What loading spends per small hash.
 */
function packPairs(pairs: [string, string][], limits: HashLimits): string | null {
  const n = pairs.length;
  if (n > limits.entries) return null;
  const seen = n > 16 ? new Set<string>() : null;
  const parts = new Array<string>(4 * n + 1);
  parts[0] = u32(n);
  for (let i = 0; i < n; i++) {
    const f = pairs[i][0];
    const v = pairs[i][1];
    if (f.length > limits.value || v.length > limits.value) return null;
    if (seen === null) {
      for (let j = 0; j < i; j++) if (pairs[j][0] === f) return null;
    } else {
      if (seen.has(f)) return null;
      seen.add(f);
    }
    // Single-char strings below 256 are V8's cached ones: no allocation for the lengths.
    parts[4 * i + 1] = f.length < 255 ? String.fromCharCode(f.length) : "\xff" + u32(f.length);
    parts[4 * i + 2] = f;
    parts[4 * i + 3] = v.length < 255 ? String.fromCharCode(v.length) : "\xff" + u32(v.length);
    parts[4 * i + 4] = v;
  }
  return parts.join("");
}
