/**
 * The keyspace dictionary (Redis's `db->dict`): string keys to values, with an LRU word
 * per key, with live iterators, and no pause that grows with its size under inserts,
 * deletes and churn (Redis rehashes incrementally; so does this table).
 *
 * Why not a JS `Map`: a `Map` lookup with a freshly parsed key string first looks the
 * string up in V8's string table (to internalize it) and then walks the map's bucket
 * chain: two random accesses into large tables per key, plus a second `Map` for the
 * string keys' LRU words. Measured at `redis-benchmark -P 16 -r 100000` that was 1.1 µs
 * of Amber's ~2.6 µs per SET; this table took 0.5 µs off it (BENCHMARKS.md). A `Map`
 * also grows by rehashing everything at once: a 100 ms pause at 1M keys. The large
 * forms of hashes and sets index their fields and members with it too (HSET and SADD at
 * `-P 16` took 20-25% less CPU), and so does a large sorted set's member -> score
 * dictionary (ZADD `-P 16` 18% less; it had measured 10% dearer while a score update
 * stored the argument's string in the index and the table kept the first one).
 *
 * Layout, after CPython's compact dict: entries live in dense arrays held in fixed-size
 * chunks (keys, values, LRU words), and an open-addressing index (linear probing, at
 * most half full) maps a hash to an entry position, storing the hash beside it so a
 * probe rarely touches a key that does not match. A delete leaves a hole in the entries
 * (which the next insert fills) and a tombstone in the index.
 *
 * Nothing is ever copied or rehashed at once (this machine faults fresh memory in at
 * ~0.6 ms per MiB, so even allocating 16 MiB at once is a visible pause):
 * - the entry chunks are never reallocated: growth adds a chunk;
 * - a full index (entries and tombstones) is replaced by migration, as Redis's dict
 *   rehashes from ht[0] to ht[1]: a new index is allocated (its pages fault in as they
 *   are written), each write moves a few slots of the old index into it, and cron
 *   moves more for up to a millisecond per tick (`activerehashing`). Lookups try the
 *   new index, then the old. The index stores each entry's hash, so migration never
 *   rehashes a key;
 * - holes are reused by inserts, so churn (delete one key, insert another) never needs
 *   the entries squeezed. Only a table that emptied out (7/8 holes) is compacted: the
 *   live entries move down in one sequential pass, then the index migrates, translating
 *   old positions through the rebuild's map.
 *
 * Iterators (SCAN cursors, snapshots, KEYS, SAVE) survive inserts and deletes and visit
 * every entry present for their whole walk exactly once, in position order; an entry
 * added meanwhile is visited if it lands ahead of the iterator (at the end, or in a
 * hole not reached yet), and not if it fills a hole behind it. That is what SCAN
 * promises and what a snapshot needs (entries created after it started are skipped by
 * their snapshot bit anyway). A rebuild that squeezes out holes moves entries; it
 * leaves a map from old to new positions in the retired generation, which iterators
 * created before it follow. Retired generations are garbage once no iterator holds them.
 */
import { sampleIndexes } from "../util/sample.ts";

/** A frozen view of a table's entries (KeyTable.shareEntries), positions `from` to `end`. */
export interface FrozenEntries<V> {
  /** Chunks of keys (undefined: a hole) and values, the first holding position `base`. */
  keys: (string | undefined)[][];
  values: (V | undefined)[][];
  base: number;
  from: number;
  end: number;
}

/** The key at position `p` of copied entries (undefined: a hole). */
export function frozenKey<V>(f: FrozenEntries<V>, p: number): string | undefined {
  return f.keys[(p - f.base) >>> CHUNK_BITS][p & CHUNK_MASK];
}

/** The value at position `p` of copied entries. */
export function frozenValue<V>(f: FrozenEntries<V>, p: number): V {
  return f.values[(p - f.base) >>> CHUNK_BITS][p & CHUNK_MASK] as V;
}

/** A rebuild's record of where entries moved, for iterators created before it. */
interface Generation {
  /** old position -> new position (the count of live entries before it). */
  moved: Int32Array | null;
  next: Generation | null;
}

/**
 * Entries per chunk: 4096 (32 KiB of pointers per chunk of keys or values). Chunks fill
 * by appending, so a table's last chunk holds just what it uses.
 */
const CHUNK_BITS = 12;
const CHUNK = 1 << CHUNK_BITS;
const CHUNK_MASK = CHUNK - 1;
/** The smallest index: 16 slots. */
const MIN_SLOTS = 16;
/** Old-index slots moved per write while migrating (at least; see `stepSlots`). */
const STEP_SLOTS = 16;

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

/**
 * The last key hashed, by any table (the hash does not depend on the table): a lookup
 * followed by a store on one key hashes once, and so does a key's lookup in its
 * database's dictionary and then in its expires table.
 */
let lastKey = "";
let lastHash = hashKey("");

export class KeyTable<V> {
  private kc: (string | undefined)[][] = [];
  private vc: (V | undefined)[][] = [];
  private wc: Int32Array[] = [];
  /** Entries appended so far, holes included. */
  private used = 0;
  /**
   * Entry chunks a frozen view (shareEntries) still reads: 1 until the table's first
   * write to the chunk, which copies it first. Null when no view was taken.
   */
  private shared: Uint8Array | null = null;
  /** Frozen views taken and not released (an abandoned one keeps writes copying). */
  private views = 0;
  private live = 0;
  /** Pairs (hash, entry position + 1); 0 is an empty slot, -1 a tombstone. */
  private index: Int32Array;
  private mask: number;
  /** Non-empty slots of `index` (entries and tombstones). */
  private fill = 0;
  /** The index being migrated from, or null. */
  private old: Int32Array | null = null;
  private oldMask = 0;
  /** Where the old index's positions now are, when a rebuild moved entries. */
  private oldMoved: Int32Array | null = null;
  /**
   * Old-index slots below this one have been migrated. They stay as they were: a lookup
   * tries the new index first, and an old slot whose entry was deleted since points to a
   * hole, which matches no key.
   */
  private cursor = 0;
  private stepSlots = STEP_SLOTS;
  /** Holes left by deletes, reused by inserts (a stack of positions). */
  private free = new Int32Array(0);
  private nfree = 0;
  /** Entries appended by `append` and not indexed yet: the last `pending` positions. */
  private pending = 0;
  private pendingHashes: Int32Array | null = null;
  private gen: Generation = { moved: null, next: null };

  /**
   * `words: false` for a table that keeps no LRU words (a hash's fields, a set's
   * members): 4 bytes per entry fewer, and wordAt/setWordAt must not be called.
   */
  constructor(capacity = 0, private readonly words = true) {
    const slots = slotsFor(capacity);
    this.index = new Int32Array(slots * 2);
    this.mask = slots - 1;
  }

  get size(): number {
    return this.live;
  }

  /** True while an old index is being migrated (Redis's dictIsRehashing). */
  get rehashing(): boolean {
    return this.old !== null;
  }

  private hash(key: string): number {
    if (key === lastKey) return lastHash;
    const h = hashKey(key);
    lastKey = key;
    lastHash = h;
    return h;
  }

  private keyIs(e: number, key: string): boolean {
    return this.kc[e >>> CHUNK_BITS][e & CHUNK_MASK] === key;
  }

  /**
   * The slot of `index` holding `key` (whose hash is `h`), or, when absent, `~slot` of the
   * empty slot that ends its probe sequence (where an insert goes).
   */
  private probe(key: string, h: number): number {
    const index = this.index;
    const mask = this.mask;
    let s = h & mask;
    for (;;) {
      const e = index[2 * s + 1];
      if (e === 0) return ~s;
      if (e > 0 && index[2 * s] === h && this.keyIs(e - 1, key)) return s;
      s = (s + 1) & mask;
    }
  }

  /** probe() in the old index: the slot, or -1. */
  private probeOld(key: string, h: number): number {
    const old = this.old!;
    const moved = this.oldMoved;
    const mask = this.oldMask;
    let s = h & mask;
    for (;;) {
      const e = old[2 * s + 1];
      if (e === 0) return -1;
      if (e > 0 && old[2 * s] === h) {
        const p = moved === null ? e - 1 : moved[e - 1];
        if (this.keyIs(p, key)) return s;
      }
      s = (s + 1) & mask;
    }
  }

  /** The entry position the old index's slot `s` points to. */
  private oldPosition(s: number): number {
    const e = this.old![2 * s + 1] - 1;
    return this.oldMoved === null ? e : this.oldMoved[e];
  }

  /** The entry position of `key`, or -1. Valid until the next insert or delete. */
  find(key: string): number {
    if (this.pending !== 0) this.indexAppended();
    const h = this.hash(key);
    const s = this.probe(key, h);
    if (s >= 0) return this.index[2 * s + 1] - 1;
    if (this.old === null) return -1;
    const o = this.probeOld(key, h);
    return o < 0 ? -1 : this.oldPosition(o);
  }

  get(key: string): V | undefined {
    const i = this.find(key);
    return i < 0 ? undefined : this.vc[i >>> CHUNK_BITS][i & CHUNK_MASK];
  }

  has(key: string): boolean {
    return this.find(key) >= 0;
  }

  /** The value at entry position `i` (from find or set). */
  valueAt(i: number): V {
    return this.vc[i >>> CHUNK_BITS][i & CHUNK_MASK] as V;
  }

  /** The LRU word at entry position `i`. */
  wordAt(i: number): number {
    return this.wc[i >>> CHUNK_BITS][i & CHUNK_MASK];
  }

  setWordAt(i: number, word: number): void {
    this.wc[i >>> CHUNK_BITS][i & CHUNK_MASK] = word;
  }

  /**
   * Stores `value` at `key` (an existing key keeps its place in the order and its LRU
   * word) and returns the entry position.
   */
  set(key: string, value: V): number {
    if (this.pending !== 0) this.indexAppended();
    if (this.old !== null) this.migrate(this.stepSlots);
    const h = this.hash(key);
    let s = this.probe(key, h);
    let e = s >= 0 ? this.index[2 * s + 1] - 1 : -1;
    if (e < 0 && this.old !== null) {
      const o = this.probeOld(key, h);
      if (o >= 0) e = this.oldPosition(o);
    }
    if (e >= 0) {
      if (this.shared !== null) this.own(e >>> CHUNK_BITS);
      this.vc[e >>> CHUNK_BITS][e & CHUNK_MASK] = value;
      return e;
    }
    if (2 * (this.fill + 1) > this.mask + 1) {
      // Half full (entries and tombstones): migrate to an index sized for the live
      // entries, which drops the tombstones. Holes in the entries stay: inserts reuse them.
      this.startMigration(slotsFor(this.live), null);
      s = this.probe(key, h);
    }
    const i = this.appendEntry(key, value);
    s = ~s;
    this.index[2 * s] = h;
    this.index[2 * s + 1] = i + 1;
    this.fill++;
    return i;
  }

  /**
   * Stores a new entry (not indexed) in the hole a delete left last, else at the end, and
   * returns its position. `atEnd` for bulk appends, which must be the last positions.
   */
  private appendEntry(key: string, value: V, atEnd = false): number {
    if (this.nfree !== 0 && !atEnd) {
      const h = this.free[--this.nfree];
      const c = h >>> CHUNK_BITS;
      const o = h & CHUNK_MASK;
      if (this.shared !== null) this.own(c);
      this.kc[c][o] = key;
      this.vc[c][o] = value;
      if (this.words) this.wc[c][o] = 0;
      this.live++;
      return h;
    }
    const i = this.used++;
    const c = i >>> CHUNK_BITS;
    const o = i & CHUNK_MASK;
    if (c === this.kc.length) {
      // The first chunk starts small (a large hash or sorted set has its own table).
      this.kc.push([]);
      this.vc.push(valueChunk<V>());
      if (this.words) this.wc.push(new Int32Array(c === 0 ? 8 : CHUNK));
    } else if (this.words && o === this.wc[c].length) {
      const w = new Int32Array(Math.min(CHUNK, 2 * o));
      w.set(this.wc[c]);
      this.wc[c] = w;
    }
    // Past the end a view reads, but a shared chunk's length is what it reads up to.
    if (this.shared !== null) this.own(c);
    this.kc[c][o] = key;
    this.vc[c][o] = value;
    if (this.words) this.wc[c][o] = 0;
    this.live++;
    return i;
  }

  /**
   * Bulk loading (an RDB at start): appends `key` without looking it up, and returns its
   * position. The index is written by `indexAppended`, in home-slot order (one pass
   * front to back instead of a cache miss per key: the lookup was 12% of loading 1M
   * keys), which also finds a key appended twice; any other use of the table first
   * indexes what is pending.
   */
  append(key: string, value: V): number {
    if (this.old !== null) this.migrate(Infinity);
    let hs = this.pendingHashes;
    if (hs === null || this.pending === hs.length) {
      const grown = new Int32Array(Math.max(1024, 2 * this.pending));
      if (hs !== null) grown.set(hs);
      this.pendingHashes = hs = grown;
    }
    hs[this.pending++] = hashKey(key);
    return this.appendEntry(key, value, true);
  }

  /**
   * Indexes the entries `append` added. Returns the first key found twice (the later
   * copy is dropped, as a hole), or null.
   */
  indexAppended(): string | null {
    const n = this.pending;
    if (n === 0) return null;
    const hashes = this.pendingHashes!;
    this.pending = 0;
    this.pendingHashes = null;
    const first = this.used - n;
    if (2 * (this.fill + n) > this.mask + 1) {
      // Not reserved: a new index for everything, the indexed entries moved in first.
      this.startMigration(slotsFor(this.live), null);
      this.migrate(Infinity);
    }
    const index = this.index;
    const mask = this.mask;
    const order = homeOrder(hashes, n, mask);
    let dup: string | null = null;
    for (let j = 0; j < n; j++) {
      const k = order === null ? j : order[j];
      const h = hashes[k];
      const e = first + k;
      let s = h & mask;
      for (;;) {
        const x = index[2 * s + 1];
        if (x === 0) {
          index[2 * s] = h;
          index[2 * s + 1] = e + 1;
          this.fill++;
          break;
        }
        // The key itself is read only on a full hash match (it is a cache miss).
        if (x > 0 && index[2 * s] === h && this.keyIs(x - 1, this.keyAt(e))) {
          if (dup === null) dup = this.keyAt(e);
          this.clearEntry(e);
          break;
        }
        s = (s + 1) & mask;
      }
    }
    return dup;
  }

  delete(key: string): boolean {
    if (this.pending !== 0) this.indexAppended();
    if (this.old !== null) this.migrate(this.stepSlots);
    const h = this.hash(key);
    let e: number;
    const s = this.probe(key, h);
    if (s >= 0) {
      e = this.index[2 * s + 1] - 1;
      this.index[2 * s + 1] = -1;
    } else {
      if (this.old === null) return false;
      const o = this.probeOld(key, h);
      if (o < 0) return false;
      e = this.oldPosition(o);
      this.old[2 * o + 1] = -1;
    }
    this.clearEntry(e);
    // Mostly holes (a table that emptied out, as Redis's htNeedsResize below 10% fill):
    // squeeze them out and shrink the index.
    if (this.live * 8 < this.used && this.used > 64) this.rebuild();
    return true;
  }

  /** Empties the entry at `e` (already out of the index): a hole the next insert fills. */
  private clearEntry(e: number): void {
    if (this.shared !== null) this.own(e >>> CHUNK_BITS);
    this.kc[e >>> CHUNK_BITS][e & CHUNK_MASK] = undefined;
    this.vc[e >>> CHUNK_BITS][e & CHUNK_MASK] = undefined;
    this.live--;
    if (this.nfree === this.free.length) {
      const f = new Int32Array(Math.max(16, 2 * this.nfree));
      f.set(this.free);
      this.free = f;
    }
    this.free[this.nfree++] = e;
  }

  /** Starts moving the current index's entries into a new index of `slots` slots. */
  private startMigration(slots: number, moved: Int32Array | null): void {
    if (this.old !== null) this.migrate(Infinity);
    this.old = this.index;
    this.oldMask = this.mask;
    this.oldMoved = moved;
    this.cursor = 0;
    this.index = new Int32Array(slots * 2);
    this.mask = slots - 1;
    this.fill = 0;
    // The new index has room for slots/2 - live inserts before it is half full; the
    // old one's slots must all be moved by then (deletes step too, which only helps).
    const room = Math.max(1, slots / 2 - this.live);
    this.stepSlots = Math.max(STEP_SLOTS, 2 * Math.ceil((this.oldMask + 1) / room));
  }

  /**
   * Moves up to `n` slots of the old index into the new one (Redis's dictRehash). Returns
   * true while slots remain.
   */
  private migrate(n: number): boolean {
    const old = this.old!;
    const moved = this.oldMoved;
    const end = Math.min(this.oldMask + 1, this.cursor + n);
    const index = this.index;
    const mask = this.mask;
    let s = this.cursor;
    let added = 0;
    for (; s < end; s++) {
      const e = old[2 * s + 1];
      if (e > 0) {
        insertSlot(index, mask, old[2 * s], moved === null ? e - 1 : moved[e - 1]);
        added++;
      }
    }
    this.fill += added;
    this.cursor = s;
    if (s <= this.oldMask) return true;
    this.old = null;
    this.oldMoved = null;
    release(old);
    return false;
  }

  /**
   * Migrates for up to `ms` milliseconds (Redis's dictRehashMilliseconds, which cron
   * runs when `activerehashing` is on). Returns true while migration remains.
   */
  rehashMilliseconds(ms: number): boolean {
    if (this.old === null) return false;
    const until = performance.now() + ms;
    while (this.migrate(4096)) if (performance.now() >= until) return true;
    return false;
  }

  /**
   * Moves the live entries down over the holes (in place, one sequential pass), records
   * where they moved for older iterators, and migrates the index to one sized for them.
   */
  private rebuild(): void {
    if (this.old !== null) this.migrate(Infinity);
    // Entries move in place: a frozen view keeps the chunks as they were.
    if (this.shared !== null) {
      for (let c = 0; c < this.kc.length; c++) this.own(c);
    }
    const used = this.used;
    const moved = new Int32Array(used + 1);
    const kc = this.kc;
    const vc = this.vc;
    const wc = this.wc;
    let n = 0;
    let dk = kc[0];
    let dv = vc[0];
    let dw = wc[0];
    for (let c = 0; c < kc.length; c++) {
      const sk = kc[c];
      const sv = vc[c];
      const sw = wc[c];
      const base = c * CHUNK;
      const lim = Math.min(CHUNK, used - base);
      for (let j = 0; j < lim; j++) {
        moved[base + j] = n;
        const k = sk[j];
        if (k === undefined) continue;
        const o = n & CHUNK_MASK;
        if (o === 0) {
          const d = n >>> CHUNK_BITS;
          dk = kc[d];
          dv = vc[d];
          dw = wc[d];
        }
        if (n !== base + j) {
          dk[o] = k;
          dv[o] = sv[j];
          if (sw !== undefined) dw[o] = sw[j];
        }
        n++;
      }
    }
    moved[used] = n;
    // Positions from n on are empty now: cut the last chunk there (appends continue at
    // its end), drop the chunks past it.
    const chunks = (n + CHUNK_MASK) >>> CHUNK_BITS;
    if ((n & CHUNK_MASK) !== 0) kc[chunks - 1].length = vc[chunks - 1].length = n & CHUNK_MASK;
    kc.length = vc.length = chunks;
    if (this.words) wc.length = chunks;
    this.free = new Int32Array(0);
    this.nfree = 0;
    this.used = n;
    const next: Generation = { moved: null, next: null };
    this.gen.moved = moved;
    this.gen.next = next;
    this.gen = next;
    // The index's tombstones go with the migration; its positions go through `moved`.
    this.startMigration(slotsFor(n), moved);
  }

  /**
   * Makes room for `n` entries at once (RESIZEDB while loading), as Redis's dictExpand:
   * growing by doubling would migrate the index twenty times on the way to 1M keys.
   */
  reserve(n: number): void {
    if (this.pending !== 0) this.indexAppended();
    const slots = reservedSlots(n);
    if (slots <= this.mask + 1) return;
    if (this.used === 0 && this.old === null) {
      this.index = new Int32Array(slots * 2);
      this.mask = slots - 1;
      this.fill = 0;
    } else {
      this.startMigration(slots, null);
    }
  }

  /**
   * Bulk loading with the index built elsewhere (a Worker, in parallel): the hashes of the
   * entries appended since the last call, in position order, as a copy to hand over.
   * Nothing changes here: indexAppended still works if the index never comes back.
   */
  appendedHashesSince(from: number): Int32Array {
    const hs = this.pendingHashes;
    return hs === null || from >= this.pending ? new Int32Array(0) : hs.slice(from, this.pending);
  }

  /** Entries appended and not indexed yet. */
  get appendedCount(): number {
    return this.pending;
  }

  /**
   * Installs `index` (pairs of hash and position + 1, `index.length / 2` slots, at most
   * half full), built elsewhere from appendedHashesSince for a table that held nothing
   * else. `candidates` are the position pairs whose full hashes are equal: if any two
   * are the same key, nothing is installed and indexAppended handles it as it does.
   * Returns false when the index does not fit the table (then indexAppended is due).
   */
  adoptIndex(index: Int32Array, candidates: Int32Array): boolean {
    const n = this.pending;
    if (this.old !== null || this.used !== n || this.live !== n || index.length / 2 < 2 * n) {
      return false;
    }
    for (let j = 0; j < candidates.length; j += 2) {
      if (this.keyAt(candidates[j]) === this.keyAt(candidates[j + 1])) return false;
    }
    const old = this.index;
    this.index = index;
    this.mask = index.length / 2 - 1;
    this.fill = n;
    this.pending = 0;
    this.pendingHashes = null;
    release(old);
    return true;
  }

  /**
   * A key drawn uniformly (RANDOMKEY), or undefined when empty. Holes are redrawn; a
   * table is rebuilt before it is 7/8 holes, so that takes a few draws at most.
   */
  randomKey(): string | undefined {
    return this.live === 0 ? undefined : this.keyAt(this.randomPosition());
  }

  /**
   * The position of a uniformly random entry (a live table: -1 when empty), for
   * `keyAt`/`valueAt`. Holes are skipped by drawing again; a table is compacted before
   * holes are 7/8 of it.
   */
  randomPosition(): number {
    if (this.live === 0) return -1;
    for (;;) {
      const i = Math.floor(Math.random() * this.used);
      if (this.kc[i >>> CHUNK_BITS][i & CHUNK_MASK] !== undefined) return i;
    }
  }

  /**
   * `count` (at most size) distinct random entry positions, in no particular order, as
   * Redis picks distinct random elements (HRANDFIELD, SRANDMEMBER cases 3 and 4): a
   * partial shuffle of every position when `count` is over a third of the size, else
   * random draws until `count` differ.
   */
  distinctRandomPositions(count: number): number[] {
    if (count * 3 <= this.live) {
      const seen = new Set<number>();
      while (seen.size < count) seen.add(this.randomPosition());
      return [...seen];
    }
    const live: number[] = [];
    for (let i = this.nextLive(0); i >= 0; i = this.nextLive(i + 1)) live.push(i);
    return sampleIndexes(live.length, count).map((k) => live[k]);
  }

  /** @internal Throws if the bookkeeping disagrees with the arrays (tests call it). */
  check(): void {
    if (this.pending !== 0) throw new Error("appended entries not indexed");
    for (let j = 0; j < this.nfree; j++) {
      if (this.keyAt(this.free[j]) !== undefined) throw new Error("a free position is not a hole");
    }
    let fill = 0;
    let positions = 0;
    for (let s = 0; s <= this.mask; s++) {
      const e = this.index[2 * s + 1];
      if (e !== 0) fill++;
      if (e > 0) positions++;
    }
    if (fill !== this.fill) throw new Error(`fill ${this.fill}, index has ${fill}`);
    if (2 * fill > this.mask + 1) throw new Error("index more than half full");
    let live = 0;
    for (let i = 0; i < this.used; i++) if (this.keyAt(i) !== undefined) live++;
    if (live !== this.live) throw new Error(`live ${this.live}, entries hold ${live}`);
    if (this.old === null && positions !== live) throw new Error("index and entries disagree");
  }

  // ---- iteration (Map-compatible) --------------------------------------------------

  /** @internal The first live entry at or after `pos`, or -1. */
  nextLive(pos: number): number {
    const kc = this.kc;
    for (let i = pos; i < this.used; i++) {
      if (kc[i >>> CHUNK_BITS][i & CHUNK_MASK] !== undefined) return i;
    }
    return -1;
  }

  /** @internal */
  currentGeneration(): Generation {
    return this.gen;
  }

  /**
   * A frozen view of the entries from position `from` to the end, keys and values, as
   * they are now: a snapshot's copy of a big collection (persistence/value_stream.ts).
   * The view shares the entry chunks, and the table copies a chunk before its first
   * write to it, as a forked process's pages are copied on write: taking the view costs
   * a flag per chunk, a write then at most one 4096-entry chunk copy. Holes read as
   * undefined keys. Writes stop copying once every view is released (releaseEntries).
   */
  shareEntries(from: number): FrozenEntries<V> {
    const first = from >>> CHUNK_BITS;
    const n = this.kc.length;
    const shared = new Uint8Array(n);
    shared.fill(1, first);
    // Another view still alive keeps its chunks shared too.
    const prev = this.shared;
    if (prev !== null) { for (let c = 0; c < Math.min(n, prev.length); c++) shared[c] |= prev[c]; }
    this.shared = shared;
    this.views++;
    return {
      keys: this.kc.slice(first),
      values: this.vc.slice(first),
      base: first << CHUNK_BITS,
      from,
      end: this.used,
    };
  }

  /** The frozen view is no longer read: writes stop copying chunks. */
  releaseEntries(): void {
    if (this.views > 0 && --this.views === 0) this.shared = null;
  }

  /** Gives chunk `c` back to the table alone (a copy) if a frozen view shares it. */
  private own(c: number): void {
    const shared = this.shared!;
    if (c >= shared.length || shared[c] === 0) return;
    shared[c] = 0;
    this.kc[c] = this.kc[c].slice();
    this.vc[c] = this.vc[c].slice();
  }

  /** @internal */
  keyAt(i: number): string {
    return this.kc[i >>> CHUNK_BITS][i & CHUNK_MASK] as string;
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
    for (let i = it.step(); i >= 0; i = it.step()) f(this.valueAt(i), this.keyAt(i));
  }
}

/**
 * An empty value chunk whose elements kind is already the generic one. An array that
 * starts empty takes the kind of what is first stored (small integers, doubles, or
 * objects), and tables of slot numbers would then hand `set`/`valueAt` chunks of
 * several kinds, making every element access polymorphic.
 */
function valueChunk<V>(): (V | undefined)[] {
  // Measured with %HasObjectElements: `[undefined]` emptied goes back to the initial
  // kind, an array that held an object keeps the generic one.
  const a = [GENERIC] as unknown as (V | undefined)[];
  a.length = 0;
  return a;
}

const GENERIC = {};

/** Buckets of the counting sort in homeOrder (a few hundred KiB of write streams). */
const HOME_BUCKETS_LOG2 = 12;

/**
 * `0..n-1` ordered by the top bits of each hash's home slot (a counting sort), so that
 * inserting in that order walks the index front to back; null when the index is small
 * enough for any order.
 */
function homeOrder(hashes: Int32Array, n: number, mask: number): Int32Array | null {
  const slotsLog2 = Math.log2(mask + 1);
  if (n < 1 << 14 || slotsLog2 <= HOME_BUCKETS_LOG2) return null;
  const shift = slotsLog2 - HOME_BUCKETS_LOG2;
  const start = new Int32Array((1 << HOME_BUCKETS_LOG2) + 1);
  for (let e = 0; e < n; e++) start[((hashes[e] & mask) >>> shift) + 1]++;
  for (let b = 1; b < start.length; b++) start[b] += start[b - 1];
  const order = new Int32Array(n);
  for (let e = 0; e < n; e++) order[start[(hashes[e] & mask) >>> shift]++] = e;
  return order;
}

/** Index slots reserve(n) sizes for: at most half full once the n entries are in. */
export function reservedSlots(n: number): number {
  return Math.max(MIN_SLOTS, 2 ** Math.ceil(Math.log2(Math.max(1, n) * 2)));
}

/**
 * Builds an index of `slots` slots from hashes given in position order, batch by batch
 * (the Worker side of KeyTable.adoptIndex). Equal full hashes are noted as candidates.
 */
export class IndexBuilder {
  readonly index: Int32Array;
  private readonly mask: number;
  private count = 0;
  private cand: number[] = [];

  constructor(slots: number) {
    this.index = new Int32Array(slots * 2);
    this.mask = slots - 1;
  }

  /** False once more entries came than a half-full index holds. */
  add(hashes: Int32Array): boolean {
    const index = this.index;
    const mask = this.mask;
    if (2 * (this.count + hashes.length) > mask + 1) return false;
    for (let k = 0; k < hashes.length; k++) {
      const h = hashes[k];
      const e = this.count++;
      let s = h & mask;
      for (;;) {
        const x = index[2 * s + 1];
        if (x === 0) break;
        if (index[2 * s] === h) this.cand.push(x - 1, e);
        s = (s + 1) & mask;
      }
      index[2 * s] = h;
      index[2 * s + 1] = e + 1;
    }
    return true;
  }

  candidates(): Int32Array {
    return Int32Array.from(this.cand);
  }
}

function insertSlot(index: Int32Array, mask: number, h: number, e: number): void {
  let s = h & mask;
  while (index[2 * s + 1] !== 0) s = (s + 1) & mask;
  index[2 * s] = h;
  index[2 * s + 1] = e + 1;
}

/** Index slots for `n` entries: a power of two at least four times `n`, so the index
 * starts at most a quarter full and can take as many inserts again before it migrates. */
function slotsFor(n: number): number {
  return Math.max(MIN_SLOTS, 2 ** Math.ceil(Math.log2(Math.max(1, n) * 4)));
}

/**
 * Returns a retired index's memory now rather than at the next major GC: transferring
 * an ArrayBuffer detaches it and frees its store (ES2024; V8 and JavaScriptCore).
 */
function release(a: Int32Array): void {
  const buf = a.buffer as ArrayBuffer & { transfer?: (n: number) => ArrayBuffer };
  if (typeof buf.transfer === "function") buf.transfer(0);
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

  /**
   * The position the next `step()` starts looking from: where the walk stands, for as
   * long as the table does not change (a copy of the rest starts there).
   */
  get position(): number {
    return this.pos;
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
