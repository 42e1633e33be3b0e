/**
 * The set type with Redis 7.0's encodings: `intset` (sorted unique 64-bit integers) and
 * `hashtable`. A set is created as an intset when its first member is an integer in
 * canonical form (`string2ll`), and converts for good to a hashtable when a non-integer
 * is added or it grows past set-max-intset-entries. (Redis 7.2 added a listpack form
 * for small non-integer sets; 7.0 has none, so neither does Amber.)
 *
 * The intset is kept as Redis's own intset blob in one Latin-1 string: encoding
 * (uint32 LE: 2, 4 or 8 bytes per value), length (uint32 LE), then the values
 * little-endian, ascending. That is the leanest form a JS heap allows (one string per
 * set), it is binary-searchable, it widens exactly when Redis's does, and the RDB
 * writer can store it as is. Changes rebuild the blob with `join`, which yields a
 * flat string.
 *
 * Values are handled as (hi, lo) pairs of 32-bit halves so the whole int64 range stays
 * exact without BigInt on the common paths.
 *
 * The hashtable encoding has two forms, both reported as `hashtable` (its order is
 * Redis's hash order, which nothing can rely on): while small (at most SMALL_MAX
 * members of at most SMALL_LEN bytes) the members are packed into one string like the
 * hash listpack ("H", a uint32 LE count, then length-prefixed members), because a Map
 * per set would cost several times what Redis's dict does; beyond that, a KeyTable of the
 * members (Redis's dict), whose dense entry arrays give a random member (SPOP,
 * SRANDMEMBER) in O(1).
 */
import type { Collection } from "./value.ts";
import { KeyTable } from "../keyspace/keytable.ts";
import { copyString, packElement } from "./hash.ts";

const TWO32 = 4294967296;

/** Scratch for the last parsed integer: high 32 bits (signed) and low 32 bits (unsigned). */
let qHi = 0;
let qLo = 0;

/**
 * Redis's string2ll acceptance (what makes a member intset-encodable): a canonical
 * decimal in the int64 range. On success the value is left in qHi/qLo.
 */
function parseMember(s: string): boolean {
  const n = s.length;
  if (n === 0 || n > 20) return false;
  let i = 0;
  const c0 = s.charCodeAt(0);
  if (c0 === 45) {
    if (n === 1) return false;
    i = 1;
  }
  const first = s.charCodeAt(i);
  if (first === 48) {
    if (n !== 1) return false;
    qHi = 0;
    qLo = 0;
    return true;
  }
  if (first < 49 || first > 57) return false;
  for (let j = i + 1; j < n; j++) {
    const c = s.charCodeAt(j);
    if (c < 48 || c > 57) return false;
  }
  if (n - i <= 15) {
    const v = Number(s);
    qHi = Math.floor(v / TWO32);
    qLo = v - qHi * TWO32;
    return true;
  }
  const b = BigInt(s);
  if (b < -(2n ** 63n) || b > 2n ** 63n - 1n) return false;
  qHi = Number(b >> 32n);
  qLo = Number(b & 0xffffffffn);
  return true;
}

/** Bytes per value Redis's _intsetValueEncoding picks for (hi, lo). */
function widthOf(hi: number, lo: number): number {
  if (hi === 0) return lo <= 0x7fff ? 2 : lo <= 0x7fffffff ? 4 : 8;
  if (hi === -1) return lo >= 0xffff8000 ? 2 : lo >= 0x80000000 ? 4 : 8;
  return 8;
}

function u32(n: number): string {
  return String.fromCharCode(n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255);
}

function readU32(s: string, p: number): number {
  return (s.charCodeAt(p) | (s.charCodeAt(p + 1) << 8) | (s.charCodeAt(p + 2) << 16) |
    (s.charCodeAt(p + 3) << 24)) >>> 0;
}

/** Little-endian bytes of (hi, lo) at width `w`. */
function encodeValue(hi: number, lo: number, w: number): string {
  if (w === 2) return String.fromCharCode(lo & 255, (lo >>> 8) & 255);
  if (w === 4) return u32(lo);
  return u32(lo) + u32(hi);
}

/** Scratch for a decoded entry. */
let eHi = 0;
let eLo = 0;

function readEntry(s: string, w: number, i: number): void {
  const p = 8 + i * w;
  if (w === 2) {
    const v = ((s.charCodeAt(p) | (s.charCodeAt(p + 1) << 8)) << 16) >> 16;
    eHi = v < 0 ? -1 : 0;
    eLo = v >>> 0;
  } else if (w === 4) {
    const v = s.charCodeAt(p) | (s.charCodeAt(p + 1) << 8) | (s.charCodeAt(p + 2) << 16) |
      (s.charCodeAt(p + 3) << 24);
    eHi = v < 0 ? -1 : 0;
    eLo = v >>> 0;
  } else {
    eLo = readU32(s, p);
    eHi = readU32(s, p + 4) | 0;
  }
}

/** Decimal text of (hi, lo). */
function valueText(hi: number, lo: number): string {
  if (hi >= -2097152 && hi < 2097152) return String(hi * TWO32 + lo);
  return BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo)).toString();
}

/** Index of (hi, lo) in the intset, or -(insertion point) - 1 (intsetSearch). */
function search(s: string, hi: number, lo: number): number {
  const w = s.charCodeAt(0);
  let min = 0;
  let max = readU32(s, 4) - 1;
  while (min <= max) {
    const mid = (min + max) >>> 1;
    readEntry(s, w, mid);
    if (eHi < hi || (eHi === hi && eLo < lo)) min = mid + 1;
    else if (eHi > hi || eLo > lo) max = mid - 1;
    else return mid;
  }
  return -min - 1;
}

const EMPTY_INTSET = u32(2) + u32(0);

// ---- the packed small hashtable form ----------------------------------------------------

/** Largest member count and member length kept in the packed form. */
const SMALL_MAX = 32;
const SMALL_LEN = 64;
/** First char of a packed form; an intset blob starts with its width (2, 4 or 8). */
const PACKED_TAG = 72; // "H"
const PHDR = 5;
const EMPTY_PACKED = "H" + u32(0);

function isPacked(s: string): boolean {
  return s.charCodeAt(0) === PACKED_TAG;
}

/** Decoder scratch for packed members (see hash.ts for why module state). */
let mStart = 0;
let mLen = 0;

function decodeMember(s: string, p: number): number {
  const n = s.charCodeAt(p);
  if (n !== 255) {
    mStart = p + 1;
    mLen = n;
    return p + 1 + n;
  }
  mLen = readU32(s, p + 1);
  mStart = p + 5;
  return mStart + mLen;
}

/** Position of member `m` in a packed form, or -1. */
function findPacked(s: string, m: string): number {
  const end = s.length;
  const ml = m.length;
  const c0 = ml === 0 ? -1 : m.charCodeAt(0);
  let p = PHDR;
  while (p < end) {
    const next = decodeMember(s, p);
    if (mLen === ml && (ml === 0 || (s.charCodeAt(mStart) === c0 && s.startsWith(m, mStart)))) {
      return p;
    }
    p = next;
  }
  return -1;
}

/** The hashtable form: the members are the table's keys (the values are unused). */
class SetTable {
  readonly slot = new KeyTable<true>(0, false);

  add(m: string): boolean {
    // A lookup first: adding a member already there (the common SADD) writes nothing.
    if (this.slot.has(m)) return false;
    this.slot.set(m, true);
    return true;
  }

  delete(m: string): boolean {
    return this.slot.delete(m);
  }

  /** A uniformly random member. */
  random(): string {
    return this.slot.keyAt(this.slot.randomPosition());
  }
}

/** A Redis set value. */
export class SetValue implements Collection {
  /** An intset blob, a packed small hashtable, or the hashtable form. */
  private d: string | SetTable;

  private constructor(d: string | SetTable) {
    this.d = d;
  }

  /** Redis's setTypeCreate: an intset if `first` is integer-encodable, else a hashtable. */
  static create(first: string): SetValue {
    return new SetValue(parseMember(first) ? EMPTY_INTSET : EMPTY_PACKED);
  }

  /** An empty intset (the temporary/destination set of SINTER/SUNION/SDIFF). */
  static intset(): SetValue {
    return new SetValue(EMPTY_INTSET);
  }

  /** An empty hashtable set. */
  static hashtable(): SetValue {
    return new SetValue(EMPTY_PACKED);
  }

  /**
   * A set of `members` as Redis's RDB loader builds one: a hashtable from the start past
   * `maxIntset` members, else an intset that converts on the first non-integer.
   */
  static fromMembers(members: Iterable<string>, maxIntset: number): SetValue {
    const all = Array.isArray(members) ? members as string[] : [...members];
    const s = all.length > maxIntset ? SetValue.hashtable() : SetValue.intset();
    for (const m of all) s.add(m, maxIntset);
    return s;
  }

  /**
   * A set over an intset blob as Redis stores it (RDB loading), which it keeps: `blob`
   * must be a string of its own (the reader's are), not a slice of a larger one. Returns
   * null if the blob is malformed (bad encoding, length mismatch, values not strictly
   * ascending).
   */
  static fromIntsetBlob(blob: string): SetValue | null {
    if (blob.length < 8) return null;
    const w = readU32(blob, 0);
    if (w !== 2 && w !== 4 && w !== 8) return null;
    const n = readU32(blob, 4);
    if (blob.length !== 8 + n * w) return null;
    let ph = 0;
    let pl = 0;
    for (let i = 0; i < n; i++) {
      readEntry(blob, w, i);
      if (i > 0 && (eHi < ph || (eHi === ph && eLo <= pl))) return null;
      ph = eHi;
      pl = eLo;
    }
    return new SetValue(blob);
  }

  get type(): string {
    return "set";
  }

  encoding(): string {
    return this.isIntset ? "intset" : "hashtable";
  }

  get isIntset(): boolean {
    const d = this.d;
    return typeof d === "string" && !isPacked(d);
  }

  /** The intset blob in Redis's byte layout (null for a hashtable set). */
  intsetBlob(): string | null {
    return this.isIntset ? this.d as string : null;
  }

  get size(): number {
    const d = this.d;
    if (typeof d !== "string") return d.slot.size;
    return readU32(d, isPacked(d) ? 1 : 4);
  }

  has(m: string): boolean {
    const d = this.d;
    if (typeof d !== "string") return d.slot.has(m);
    if (isPacked(d)) return findPacked(d, m) !== -1;
    if (!parseMember(m)) return false;
    if (widthOf(qHi, qLo) > d.charCodeAt(0)) return false;
    return search(d, qHi, qLo) >= 0;
  }

  /**
   * Redis's setTypeAdd: true if added. An intset converts when `m` is not an integer
   * or it grows past `maxIntset` entries (capped at 2^30 like Redis).
   */
  add(m: string, maxIntset: number): boolean {
    const d = this.d;
    if (typeof d !== "string") return d.add(m);
    if (isPacked(d)) {
      if (findPacked(d, m) !== -1) return false;
      const n = readU32(d, 1);
      if (n >= SMALL_MAX || m.length > SMALL_LEN) {
        this.unpack();
        return (this.d as SetTable).add(m);
      }
      this.d = ["H", u32(n + 1), d.slice(PHDR), packElement(m)].join("");
      return true;
    }
    if (!parseMember(m)) {
      this.convert();
      return this.add(m, maxIntset);
    }
    const hi = qHi;
    const lo = qLo;
    const w = d.charCodeAt(0);
    const n = readU32(d, 4);
    const vw = widthOf(hi, lo);
    if (vw > w) {
      this.d = upgradeAndAdd(d, w, n, vw, hi, lo);
    } else {
      const pos = search(d, hi, lo);
      if (pos >= 0) return false;
      const at = 8 + (-pos - 1) * w;
      this.d = [u32(w), u32(n + 1), d.slice(8, at), encodeValue(hi, lo, w), d.slice(at)].join(
        "",
      );
    }
    if (n + 1 > Math.min(maxIntset, 1 << 30)) this.convert();
    return true;
  }

  delete(m: string): boolean {
    const d = this.d;
    if (typeof d !== "string") return d.delete(m);
    if (isPacked(d)) {
      const p = findPacked(d, m);
      if (p === -1) return false;
      const end = decodeMember(d, p);
      this.d = ["H", u32(readU32(d, 1) - 1), d.slice(PHDR, p), d.slice(end)].join("");
      return true;
    }
    if (!parseMember(m)) return false;
    const w = d.charCodeAt(0);
    if (widthOf(qHi, qLo) > w) return false;
    const pos = search(d, qHi, qLo);
    if (pos < 0) return false;
    const at = 8 + pos * w;
    this.d = [u32(w), u32(readU32(d, 4) - 1), d.slice(8, at), d.slice(at + w)].join("");
    return true;
  }

  /** Converts an intset to the hashtable encoding (no-op if already). */
  convert(): void {
    if (!this.isIntset) return;
    const members = this.toArray();
    if (members.length <= SMALL_MAX) {
      this.d = ["H", u32(members.length), ...members.map(packElement)].join("");
    } else {
      const t = new SetTable();
      for (const m of members) t.add(m);
      this.d = t;
    }
  }

  /** From the packed small form to the table form. */
  private unpack(): void {
    const t = new SetTable();
    this.forEach((m) => t.add(m));
    this.d = t;
  }

  /** Calls `fn` for each member (standalone strings): ascending for an intset. */
  forEach(fn: (member: string) => void): void {
    const d = this.d;
    if (typeof d !== "string") {
      d.slot.forEach((_, m) => fn(m));
      return;
    }
    if (isPacked(d)) {
      const end = d.length;
      let p = PHDR;
      while (p < end) {
        p = decodeMember(d, p);
        fn(copyString(d.slice(mStart, mStart + mLen)));
      }
      return;
    }
    const w = d.charCodeAt(0);
    const n = readU32(d, 4);
    for (let i = 0; i < n; i++) {
      readEntry(d, w, i);
      fn(valueText(eHi, eLo));
    }
  }

  /** The members as an array (standalone strings): ascending for an intset. */
  toArray(): string[] {
    const out: string[] = [];
    this.forEach((m) => out.push(m));
    return out;
  }

  /** The members, one at a time (the hashtable form without a copy of them all). */
  [Symbol.iterator](): Iterator<string> {
    const d = this.d;
    return typeof d === "string" ? this.toArray()[Symbol.iterator]() : d.slot.keys();
  }

  /**
   * `count` (below size) distinct random members of the hashtable form, in no particular
   * order (SRANDMEMBER cases 3 and 4); null for an intset or a packed set (use `at`).
   */
  distinctRandom(count: number): string[] | null {
    const d = this.d;
    if (typeof d === "string") return null;
    const t = d.slot;
    return t.distinctRandomPositions(count).map((i) => t.keyAt(i));
  }

  /** The member at position `i` (0 <= i < size) of an intset or a packed set. */
  at(i: number): string {
    const d = this.d;
    if (typeof d !== "string") throw new Error("SetValue.at: the hashtable form has no positions");
    if (isPacked(d)) {
      let p = PHDR;
      for (let k = 0; k < i; k++) p = decodeMember(d, p);
      decodeMember(d, p);
      return copyString(d.slice(mStart, mStart + mLen));
    }
    readEntry(d, d.charCodeAt(0), i);
    return valueText(eHi, eLo);
  }

  /** A uniformly random member (intsetRandom / dictGetFairRandomKey). */
  random(): string {
    const d = this.d;
    return typeof d === "string" ? this.at(Math.floor(Math.random() * this.size)) : d.random();
  }

  /**
   * For SSCAN of the hashtable form: the table a cursor walks (null for an intset or a
   * packed set, which are scanned in one call).
   */
  scanSource(): KeyTable<true> | null {
    return typeof this.d === "string" ? null : this.d.slot;
  }

  /** Deep copy with the same encoding (Redis's setTypeDup). */
  clone(): SetValue {
    const d = this.d;
    if (typeof d === "string") return new SetValue(d);
    const t = new SetTable();
    d.slot.forEach((_, m) => t.add(m));
    return new SetValue(t);
  }
}

/** Redis's intsetUpgradeAndAdd: re-encode at width `nw`; the new value goes at an end. */
function upgradeAndAdd(s: string, w: number, n: number, nw: number, hi: number, lo: number) {
  const parts: string[] = [u32(nw), u32(n + 1)];
  // A value too wide for the old encoding is beyond every member: below if negative.
  if (hi < 0) parts.push(encodeValue(hi, lo, nw));
  for (let i = 0; i < n; i++) {
    readEntry(s, w, i);
    parts.push(encodeValue(eHi, eLo, nw));
  }
  if (hi >= 0) parts.push(encodeValue(hi, lo, nw));
  return parts.join("");
}
