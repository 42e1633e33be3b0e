/**
 * One Redis database: the key -> value dictionary, the expires dictionary, and the
 * LRU clock per key (OBJECT IDLETIME).
 *
 * Every read goes through `lookup*` (which applies lazy expiry, as Redis's
 * `lookupKey` / `expireIfNeeded`) and every change goes through `set` / `delete` /
 * `setExpire`, so that the bookkeeping other parts need hangs off one seam: the
 * `Keyspace` hooks called before a key changes (snapshot copy-on-write, WATCH) and
 * when a key expires (propagating a DEL, keyspace events).
 *
 * Values are stored bare: a string value is a Latin-1 JS string; the collection types
 * are objects from `src/types/`. No per-key wrapper object, to keep memory per key low.
 * A key's LRU word lives in its collection object, or beside a string value in the
 * dictionary's entry (lruWord / setLruWord).
 */
import type { Value } from "../types/value.ts";
import { KeyTable } from "./keytable.ts";

/** The maps that hold one database's contents (replaced whole by FLUSHDB and SWAPDB). */
export interface DatabaseMaps {
  dict: KeyTable<Value>;
  expires: KeyTable<number>;
}

/** Hooks the keyspace owner installs; the database calls them, never the reverse. */
export interface KeyspaceHooks {
  /** Called before `key` in `db` is modified or deleted (and after the change for WATCH). */
  keyModified(db: Database, key: string): void;
  /**
   * Called when the whole database is emptied or swapped; `old` holds the contents
   * that were there (the maps are replaced, never cleared in place, so a snapshot in
   * progress can keep reading them).
   */
  dbReplaced(db: Database, old: DatabaseMaps): void;
  /** Called after lazy or active expiry removed `key`. */
  keyExpired(db: Database, key: string): void;
  /** Called after `set` created `key` (Redis's dbAdd: the `new` keyspace event). */
  keyCreated?(db: Database, key: string): void;
  /** The current time in ms for expiry decisions (cached per command, as Redis does). */
  now(): number;
  /** Lazy expiry disabled (e.g. while loading, or replica semantics). */
  readonly expiryPaused: boolean;
}

/** Unix seconds at start-up: the LRU clock counts from here, so it stays a small integer. */
const LRU_EPOCH = Math.floor(Date.now() / 1000);

/**
 * The seconds-resolution LRU clock, as Redis's `server.lruclock`: refreshed by cron
 * (`updateLruClock`), read on every key access without a system call.
 */
let lruClockValue = 0;

export function lruClock(): number {
  return lruClockValue;
}

export function updateLruClock(): void {
  lruClockValue = Math.floor(Date.now() / 1000) - LRU_EPOCH;
}

/**
 * Point-in-time snapshot bookkeeping, shared by every database (SWAPDB moves maps
 * between them). Each LRU word is `clock << 1 | bit`: a key whose bit equals
 * `parity` has been handled by the snapshot in progress (sent, or saved before it
 * changed) or did not exist when it started. A new snapshot flips `parity`, which
 * makes every existing key "not yet sent" in O(1). Outside a snapshot, touching a
 * key may overwrite the bit freely; during one, reads must keep it.
 */
export const snapshotState = { parity: 0, active: false };

export class Database {
  /**
   * key -> value, with `lruClock() << 1 | snapshot bit` at last access (see
   * snapshotState) as each entry's word: Redis's robj->lru, kept beside the value so
   * that neither a string nor a collection carries a field for it.
   */
  dict = new KeyTable<Value>();
  /**
   * key -> absolute unix time in ms. Only keys with a TTL are here. The same table as the
   * keys (no LRU words), not a `Map`: V8 internalizes a string looked up in a `Map`
   * (a probe of its string table first), one more cache miss on every lookup of a key
   * once any key has a TTL.
   */
  expires = new KeyTable<number>(0, false);
  /** Average TTL estimate, kept as Redis's `avg_ttl` for INFO keyspace. */
  avgTtl = 0;

  constructor(readonly id: number, private hooks: KeyspaceHooks) {}

  get size(): number {
    return this.dict.size;
  }

  /** Removes `key` if its TTL has passed. Returns true if it was (or is now) gone. */
  expireIfNeeded(key: string): boolean {
    const when = this.expires.get(key);
    if (when === undefined) return false;
    // Redis's keyIsExpired: expired only once now is strictly past the expire time.
    if (this.hooks.expiryPaused || when >= this.hooks.now()) return false;
    this.hooks.keyModified(this, key);
    this.dict.delete(key);
    this.expires.delete(key);
    this.hooks.keyExpired(this, key);
    return true;
  }

  /** Value for a read: applies lazy expiry and touches the LRU clock. */
  lookupRead(key: string): Value | undefined {
    if (this.expires.size !== 0) this.expireIfNeeded(key);
    const dict = this.dict;
    const i = dict.find(key);
    if (i < 0) return undefined;
    const v = dict.valueAt(i);
    const bit = snapshotState.active ? dict.wordAt(i) & 1 : snapshotState.parity;
    dict.setWordAt(i, (lruClockValue << 1) | bit);
    return v;
  }

  /** Value for a write (same as a read in Redis, minus the keyspace-miss stat). */
  lookupWrite(key: string): Value | undefined {
    return this.lookupRead(key);
  }

  /** Like lookupRead but leaves the LRU clock alone (OBJECT, TYPE-less peeks, SCAN). */
  peek(key: string): Value | undefined {
    if (this.expires.size !== 0) this.expireIfNeeded(key);
    return this.dict.get(key);
  }

  has(key: string): boolean {
    return this.peek(key) !== undefined;
  }

  /**
   * Stores `value` at `key`. Unless `keepTtl`, any TTL is removed (Redis's
   * `setKey` with or without KEEPTTL), or replaced by `expireAt` (ms) when given: SET
   * with EX/PX then updates the key's expires entry in place rather than deleting it
   * and adding it again.
   */
  set(key: string, value: Value, keepTtl = false, expireAt?: number): void {
    this.hooks.keyModified(this, key);
    // The size tells creation from overwrite without a second lookup.
    const dict = this.dict;
    const before = dict.size;
    const i = dict.set(key, value);
    if (expireAt !== undefined) this.expires.set(dict.keyAt(i), expireAt);
    else if (!keepTtl && this.expires.size !== 0) this.expires.delete(key);
    // Marked handled: a snapshot in progress saved the old value in keyModified, or
    // the key is new and not part of it.
    dict.setWordAt(i, (lruClockValue << 1) | snapshotState.parity);
    if (dict.size !== before) this.hooks.keyCreated?.(this, key);
  }

  /**
   * Announces an in-place change of the collection at `key` (a push, an HSET):
   * the value object stays the same, but hooks must see the change.
   */
  touchWrite(key: string): void {
    this.hooks.keyModified(this, key);
  }

  /** Deletes `key`; true if it existed (and was not expired). */
  delete(key: string): boolean {
    if (this.peek(key) === undefined) return false;
    this.hooks.keyModified(this, key);
    this.dict.delete(key);
    if (this.expires.size !== 0) this.expires.delete(key);
    return true;
  }

  getExpire(key: string): number | undefined {
    return this.expires.get(key);
  }

  /** Sets an absolute expiry in ms on an existing key. */
  setExpire(key: string, whenMs: number): void {
    this.hooks.keyModified(this, key);
    // A new entry takes the key's string as the dictionary stores it: the argument's
    // copy would be a second string per key with a TTL (and a survivor of every young
    // collection, under SET EX traffic).
    const i = this.dict.find(key);
    this.expires.set(i >= 0 ? this.dict.keyAt(i) : key, whenMs);
  }

  /** Removes the TTL; true if there was one. */
  persist(key: string): boolean {
    if (!this.expires.has(key)) return false;
    this.hooks.keyModified(this, key);
    this.expires.delete(key);
    return true;
  }

  /** Idle seconds since last access (OBJECT IDLETIME). */
  idleSeconds(key: string): number {
    const i = this.dict.find(key);
    if (i < 0) return 0;
    const t = this.dict.wordAt(i);
    const now = Math.floor(Date.now() / 1000) - LRU_EPOCH;
    return Math.max(0, now - (t >> 1));
  }

  /**
   * Backdates `key`'s last access to `seconds` ago (RESTORE ... IDLETIME). The clock is
   * read the way idleSeconds reads it, so OBJECT IDLETIME reports exactly `seconds` at
   * once; the snapshot bit is kept, since this is no change a snapshot must see.
   */
  setIdle(key: string, seconds: number): void {
    const dict = this.dict;
    const i = dict.find(key);
    if (i < 0) return;
    const t = dict.wordAt(i);
    // Bounded so that `clock << 1` stays a 32-bit integer (Redis's clock is 24 bits).
    const idle = Math.min(Math.max(0, Math.floor(seconds)), 1 << 28);
    const now = Math.floor(Date.now() / 1000) - LRU_EPOCH;
    dict.setWordAt(i, ((now - idle) << 1) | (t & 1));
  }

  /** Empties the database in O(1): the old maps go to the hook, new ones replace them. */
  clear(): void {
    const old = { dict: this.dict, expires: this.expires };
    this.dict = new KeyTable();
    this.expires = new KeyTable<number>(0, false);
    this.avgTtl = 0;
    this.hooks.dbReplaced(this, old);
  }

  /** SWAPDB: exchanges the contents of two databases. */
  swapWith(other: Database): void {
    const mine = { dict: this.dict, expires: this.expires };
    const theirs = { dict: other.dict, expires: other.expires };
    [this.dict, other.dict] = [other.dict, this.dict];
    [this.expires, other.expires] = [other.expires, this.expires];
    [this.avgTtl, other.avgTtl] = [other.avgTtl, this.avgTtl];
    this.hooks.dbReplaced(this, mine);
    this.hooks.dbReplaced(other, theirs);
  }

  /** Number of keys with a TTL (INFO keyspace `expires`). */
  get expiresCount(): number {
    return this.expires.size;
  }
}
