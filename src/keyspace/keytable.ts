/**
 * The keyspace dictionary (Redis's `db->dict`): string keys to values, with an LRU word
 * per key, in insertion order, with live iterators.
 *
 * Why not a JS `Map`: a `Map` lookup with a freshly parsed key string first looks the
 * string up in V8's string table (to internalize it) and then walks the map's bucket
 * chain: two random accesses into large tables per key, plus a second `Map` for the
 * string keys' LRU words. Measured at `redis-benchmark -P 16 -r 100000` that was 1.1 µs
 * of Amber's ~2.6 µs per SET; this table took 0.5 µs off it (BENCHMARKS.md).
 *
 * Layout, as CPython's compact dict: entries are appended to dense arrays (`ks`,
 * `vs`, `hashes`, `words`) in insertion order, and an open-addressing index
 * (linear probing, at most half full) maps a hash to an entry position, storing the
 * hash beside it so a probe rarely touches a key that does not match. A delete leaves
 * a hole in the entries and a tombstone in the index; both go at the next rebuild.
 *
 * Iterators behave as `Map` iterators: they survive inserts and deletes, visit every
 * entry present for their whole walk exactly once, and see entries added meanwhile.
 * A rebuild that squeezes out holes moves entries; it leaves a map from old to new
 * positions in the retired generation, which iterators created before it follow.
 * Retired generations are garbage once no iterator holds them.
 */

/** A rebuild's record of where entries moved, for iterators created before it. */
interface Generation {
  /** old position -> new position (the count of live entries before it). */
  moved: Int32Array | null;
  next: Generation | null;
}

const MIN_CAPACITY = 8;

/**
 * The string hash: FNV-1a over the char codes, finished with MurmurHash3's fmix32 so
 * that linear probing sees well-spread low bits. Seeded per process (Redis seeds its
 * siphash at start-up for the same reason: keys chosen to collide cannot be prepared).
 */
const SEED = (crypto.getRandomValues(new Uint32Array(1))[0] ^ 0x811c9dc5) | 0;

export function hashKey(s: string): number {
  let h = SEED;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

export class KeyTable<V> {
  private ks: (string | undefined)[];
  private vs: (V | undefined)[];
  private hashes: Int32Array;
  private words: Int32Array;
  /** Entries appended so far, holes included. */
  private used = 0;
  private live = 0;
  /** Pairs (hash, entry position + 1); 0 is an empty slot, -1 a tombstone. */
  private index: Int32Array;
  private mask: number;
  private gen: Generation = { moved: null, next: null };
  /** The last key hashed, so a lookup followed by a store on one key hashes once. */
  private lastKey = "";
  private lastHash = hashKey("");

  constructor(capacity = MIN_CAPACITY) {
    const cap = Math.max(MIN_CAPACITY, capacity);
    this.ks = new Array(cap);
    this.vs = new Array(cap);
    this.hashes = new Int32Array(cap);
    this.words = new Int32Array(cap);
    const slots = slotsFor(cap);
    this.index = new Int32Array(slots * 2);
    this.mask = slots - 1;
  }

  get size(): number {
    return this.live;
  }

  private hash(key: string): number {
    if (key === this.lastKey) return this.lastHash;
    const h = hashKey(key);
    this.lastKey = key;
    this.lastHash = h;
    return h;
  }

  /**
   * The index slot holding `key` (whose hash is `h`), or, when absent, `~slot` of the
   * empty slot that ends its probe sequence (where an insert goes).
   */
  private probe(key: string, h: number): number {
    const index = this.index;
    const mask = this.mask;
    let s = h & mask;
    for (;;) {
      const e = index[2 * s + 1];
      if (e === 0) return ~s;
      if (e > 0 && index[2 * s] === h && this.ks[e - 1] === key) return s;
      s = (s + 1) & mask;
    }
  }

  /** The entry position of `key`, or -1. Valid until the next insert or delete. */
  find(key: string): number {
    const s = this.probe(key, this.hash(key));
    return s < 0 ? -1 : this.index[2 * s + 1] - 1;
  }

  get(key: string): V | undefined {
    const i = this.find(key);
    return i < 0 ? undefined : this.vs[i];
  }

  has(key: string): boolean {
    return this.find(key) >= 0;
  }

  /** The value at entry position `i` (from find or set). */
  valueAt(i: number): V {
    return this.vs[i] as V;
  }

  /** The LRU word at entry position `i`. */
  wordAt(i: number): number {
    return this.words[i];
  }

  setWordAt(i: number, word: number): void {
    this.words[i] = word;
  }

  /**
   * Stores `value` at `key` (an existing key keeps its place in the order and its LRU
   * word) and returns the entry position.
   */
  set(key: string, value: V): number {
    const h = this.hash(key);
    let s = this.probe(key, h);
    if (s >= 0) {
      const e = this.index[2 * s + 1] - 1;
      this.vs[e] = value;
      return e;
    }
    s = ~s;
    // Not present: append. The index has room (it is at most half full by capacity).
    if (this.used === this.ks.length) {
      // Full: squeeze out holes if they are many, else double.
      const cap = this.ks.length;
      this.rebuild(this.live < cap * 0.75 ? cap : cap * 2);
      return this.set(key, value);
    }
    const i = this.used++;
    this.ks[i] = key;
    this.vs[i] = value;
    this.hashes[i] = h;
    this.words[i] = 0;
    this.index[2 * s] = h;
    this.index[2 * s + 1] = i + 1;
    this.live++;
    return i;
  }

  delete(key: string): boolean {
    const s = this.probe(key, this.hash(key));
    if (s < 0) return false;
    const e = this.index[2 * s + 1] - 1;
    this.index[2 * s + 1] = -1;
    this.ks[e] = undefined;
    this.vs[e] = undefined;
    this.live--;
    // Shrink a table that emptied out, as Redis's htNeedsResize does below 10% fill.
    if (this.live * 10 < this.ks.length && this.ks.length > MIN_CAPACITY * 4) {
      this.rebuild(Math.max(MIN_CAPACITY, 2 ** Math.ceil(Math.log2(this.live * 2 + 1))));
    }
    return true;
  }

  /**
   * Reallocates with entry capacity `cap` (a power of two), squeezing out holes and
   * tombstones; records where entries moved for older iterators.
   */
  private rebuild(cap: number): void {
    if (this.used === this.live && cap >= this.used) {
      this.grow(cap);
      return;
    }
    const keys = new Array<string | undefined>(cap);
    const vals = new Array<V | undefined>(cap);
    const hashes = new Int32Array(cap);
    const words = new Int32Array(cap);
    const slots = slotsFor(cap);
    const index = new Int32Array(slots * 2);
    const mask = slots - 1;
    const holes = this.used !== this.live;
    const moved = holes ? new Int32Array(this.used + 1) : null;
    let n = 0;
    for (let i = 0; i < this.used; i++) {
      if (moved !== null) moved[i] = n;
      const k = this.ks[i];
      if (k === undefined) continue;
      const h = this.hashes[i];
      keys[n] = k;
      vals[n] = this.vs[i];
      hashes[n] = h;
      words[n] = this.words[i];
      n++;
    }
    if (moved !== null) moved[this.used] = n;
    fillIndex(index, mask, hashes, n);
    this.ks = keys;
    this.vs = vals;
    this.hashes = hashes;
    this.words = words;
    this.index = index;
    this.mask = mask;
    this.used = n;
    if (moved !== null) {
      const next: Generation = { moved: null, next: null };
      this.gen.moved = moved;
      this.gen.next = next;
      this.gen = next;
    }
  }

  /** rebuild() without holes: no entry moves, so the arrays are copied in bulk. */
  private grow(cap: number): void {
    const n = this.used;
    // concat copies a fast array natively (half the time of an element loop at 1M).
    this.ks = this.ks.slice(0, n).concat(new Array<string | undefined>(cap - n));
    this.vs = this.vs.slice(0, n).concat(new Array<V | undefined>(cap - n));
    const hashes = new Int32Array(cap);
    hashes.set(this.hashes.subarray(0, n));
    const words = new Int32Array(cap);
    words.set(this.words.subarray(0, n));
    this.hashes = hashes;
    this.words = words;
    const slots = slotsFor(cap);
    this.index = new Int32Array(slots * 2);
    this.mask = slots - 1;
    fillIndex(this.index, this.mask, hashes, n);
  }

  /**
   * Makes room for `n` entries at once (RESIZEDB while loading), as Redis's dictExpand:
   * growing by doubling would rebuild the table twenty times on the way to 1M keys.
   */
  reserve(n: number): void {
    if (n > this.ks.length) this.rebuild(2 ** Math.ceil(Math.log2(n)));
  }

  /**
   * A key drawn uniformly (RANDOMKEY), or undefined when empty. Holes are redrawn; a
   * table is rebuilt smaller before it is 90% holes, so that takes a few draws at most.
   */
  randomKey(): string | undefined {
    if (this.live === 0) return undefined;
    for (;;) {
      const k = this.ks[Math.floor(Math.random() * this.used)];
      if (k !== undefined) return k;
    }
  }

  // ---- iteration (Map-compatible) --------------------------------------------------

  /** @internal The first live entry at or after `pos`, or -1. */
  nextLive(pos: number): number {
    const keys = this.ks;
    for (let i = pos; i < this.used; i++) if (keys[i] !== undefined) return i;
    return -1;
  }

  /** @internal */
  currentGeneration(): Generation {
    return this.gen;
  }

  /** @internal */
  keyAt(i: number): string {
    return this.ks[i] as string;
  }

  entries(): TableIterator<[string, V], V> {
    return new TableIterator(this, 0);
  }

  keys(): TableIterator<string, V> {
    return new TableIterator(this, 1);
  }

  values(): TableIterator<V, V> {
    return new TableIterator(this, 2);
  }

  [Symbol.iterator](): TableIterator<[string, V], V> {
    return this.entries();
  }

  /** Calls `f` for each entry in order, without allocating (SAVE walks 1M keys). */
  forEach(f: (value: V, key: string) => void): void {
    const it = new TableIterator<[string, V], V>(this, 0);
    for (let i = it.step(); i >= 0; i = it.step()) f(this.vs[i] as V, this.ks[i] as string);
  }
}

/** Buckets of the counting sort in fillIndex (a few hundred KiB of write streams). */
const FILL_BUCKETS_LOG2 = 12;

/**
 * Indexes entries 0..n-1 by their hashes. Inserted in entry order, each insert lands on a
 * random slot: at 1M keys, 1M cache misses (50-80 ms measured). So the entries are
 * first sorted by home slot (a counting sort on its top bits) and inserted in that
 * order, which fills the index front to back.
 */
function fillIndex(index: Int32Array, mask: number, hashes: Int32Array, n: number): void {
  const slotsLog2 = Math.log2(mask + 1);
  if (n < 1 << 14 || slotsLog2 <= FILL_BUCKETS_LOG2) {
    for (let e = 0; e < n; e++) insertSlot(index, mask, hashes[e], e);
    return;
  }
  const shift = slotsLog2 - FILL_BUCKETS_LOG2;
  const start = new Int32Array((1 << FILL_BUCKETS_LOG2) + 1);
  for (let e = 0; e < n; e++) start[((hashes[e] & mask) >>> shift) + 1]++;
  for (let b = 1; b < start.length; b++) start[b] += start[b - 1];
  const order = new Int32Array(n);
  for (let e = 0; e < n; e++) order[start[(hashes[e] & mask) >>> shift]++] = e;
  for (let j = 0; j < n; j++) {
    const e = order[j];
    insertSlot(index, mask, hashes[e], e);
  }
}

function insertSlot(index: Int32Array, mask: number, h: number, e: number): void {
  let s = h & mask;
  while (index[2 * s + 1] !== 0) s = (s + 1) & mask;
  index[2 * s] = h;
  index[2 * s + 1] = e + 1;
}

/** Index slots for `cap` entries: a power of two at least twice the capacity. */
function slotsFor(cap: number): number {
  return 2 ** Math.ceil(Math.log2(cap * 2));
}

/** 0: entries, 1: keys, 2: values. */
type Kind = 0 | 1 | 2;

export class TableIterator<T, V> implements IterableIterator<T> {
  private pos = 0;
  private gen: Generation;
  private done = false;

  constructor(private table: KeyTable<V>, private kind: Kind) {
    this.gen = table.currentGeneration();
  }

  /**
   * The position of the next entry, or -1 at the end: `next()` without allocating. The
   * position is valid until the table changes (read it with keyAt / valueAt at once).
   */
  step(): number {
    if (this.done) return -1;
    // Entries moved since this iterator last looked: follow the rebuilds' maps.
    while (this.gen.next !== null) {
      const moved = this.gen.moved!;
      this.pos = moved[Math.min(this.pos, moved.length - 1)];
      this.gen = this.gen.next;
    }
    const i = this.table.nextLive(this.pos);
    if (i < 0) {
      this.done = true;
      return -1;
    }
    this.pos = i + 1;
    return i;
  }

  next(): IteratorResult<T> {
    const i = this.step();
    if (i < 0) return { done: true, value: undefined };
    const t = this.table;
    const k = t.keyAt(i);
    if (this.kind === 1) return { done: false, value: k as unknown as T };
    const v = t.valueAt(i);
    if (this.kind === 2) return { done: false, value: v as unknown as T };
    return { done: false, value: [k, v] as unknown as T };
  }

  [Symbol.iterator](): TableIterator<T, V> {
    return this;
  }
}
