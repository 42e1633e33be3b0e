/**
 * Point-in-time snapshots of the whole keyspace without fork, shared by BGSAVE and
 * BGREWRITEAOF.
 *
 * Redis forks and lets the kernel copy pages on write. Here the keyspace is walked in
 * small chunks between event-loop turns (one `structuredClone` of 1M keys blocks for
 * seconds), and copy-on-write is done per key: before the keyspace changes or deletes
 * a key that the walk has not reached yet, the `keyModified` hook saves the key's value
 * and TTL as they were (collections are cloned, since they change in place). Which keys
 * are "not reached yet" is one bit per key in its LRU word (`snapshotState`
 * in db.ts), so starting a snapshot is O(1) and costs no memory per key.
 *
 * FLUSHDB, FLUSHALL and SWAPDB replace a database's maps instead of clearing them, so
 * the snapshot simply keeps walking the maps it captured at the start.
 *
 * A big value that its job reads out over several turns (value_stream.ts) is `hold`-ed:
 * a write to its key first has the job freeze what is left of it (`freeze`: a view that
 * shares the value's storage, which the value copies a piece at a time as it changes);
 * a big value not reached yet is kept frozen the same way (FrozenValue), not cloned.
 */
import { type Database, type DatabaseMaps, snapshotState } from "../keyspace/db.ts";
import type { Server } from "../server/server.ts";
import type { TableIterator } from "../keyspace/keytable.ts";
import type { Collection, Value } from "../types/value.ts";
import { freezeValue } from "./value_stream.ts";

/** One key as it was when the snapshot started. */
export interface SnapshotEntry {
  db: number;
  key: string;
  value: Value;
  /** Absolute unix time in ms, if the key had a TTL. */
  expireAt?: number;
  /** The value is a copy the hook saved, not the live one (no write can reach it). */
  copy?: true;
}

/** A live value being read out across turns, and how to freeze what is left of it. */
interface HeldStream {
  dict: DatabaseMaps["dict"];
  key: string;
  freeze: () => void;
}

interface Section extends DatabaseMaps {
  db: number;
  iter: TableIterator<[string, Value], Value>;
  done: boolean;
}

const active = new WeakMap<Server, Snapshot>();
const hooked = new WeakSet<Server>();

function clone(v: Value): Value {
  return typeof v === "string" ? v : (v as Collection & { clone(): Collection }).clone();
}

/**
 * A snapshot in progress. Pull entries with `next()` until it returns null, then call
 * `finish()`. Only one snapshot runs at a time, as only one Redis child does.
 *
 * @example
 * ```ts
 * const snap = Snapshot.start(server);
 * for (let chunk = snap.next(10_000); chunk; chunk = snap.next(10_000)) {
 *   send(chunk); // then yield to the event loop before the next chunk
 * }
 * snap.finish();
 * ```
 */
export class Snapshot {
  private sections: Section[] = [];
  private current = 0;
  /** Keys saved by the copy-on-write hook, waiting to be handed out. */
  private preserved: SnapshotEntry[] = [];
  /** Keys the snapshot holds in total (INFO current_save_keys_total). */
  readonly keysTotal: number;
  /** Keys handed out so far (INFO current_save_keys_processed). */
  keysProcessed = 0;
  private finished = false;
  /** The big value being streamed (value_stream.ts), frozen before its key changes. */
  private held: HeldStream | null = null;

  private constructor(private server: Server) {
    let total = 0;
    for (const db of server.dbs) {
      this.sections.push({
        db: db.id,
        dict: db.dict,
        expires: db.expires,
        iter: db.dict.entries(),
        done: false,
      });
      total += db.dict.size;
    }
    this.keysTotal = total;
  }

  /** Starts a snapshot of `server`'s keyspace as it is now. */
  static start(server: Server): Snapshot {
    if (active.has(server)) throw new Error("a snapshot is already in progress");
    if (!hooked.has(server)) {
      hooked.add(server);
      // Every write runs this: the flag spares it a WeakMap lookup when no snapshot runs.
      server.onKeyModified((db, key) => {
        if (snapshotState.active) active.get(server)?.beforeWrite(db, key);
      });
    }
    const snap = new Snapshot(server);
    // Every existing key now counts as not yet sent.
    snapshotState.parity ^= 1;
    snapshotState.active = true;
    active.set(server, snap);
    return snap;
  }

  /** The snapshot in progress for `server`, if any. */
  static current(server: Server): Snapshot | undefined {
    return active.get(server);
  }

  /** The keyspace is about to change `key`: keep its old value if not sent yet. */
  private beforeWrite(db: Database, key: string): void {
    const h = this.held;
    if (h !== null && h.key === key && h.dict === db.dict) {
      // What is left of a value being streamed is frozen before the write changes it.
      this.held = null;
      h.freeze();
    }
    // Only maps the snapshot captured matter: after FLUSHDB/SWAPDB a db may hold new
    // maps (whose keys are not part of the snapshot) or another db's captured maps.
    const s = this.sections.find((x) => x.dict === db.dict);
    if (s === undefined) return;
    const i = s.dict.find(key);
    if (i < 0) return;
    const l = s.dict.wordAt(i);
    if ((l & 1) === snapshotState.parity) return;
    s.dict.setWordAt(i, (l & ~1) | snapshotState.parity);
    const expireAt = s.expires.get(key);
    // A big collection is kept frozen for its stream (value_stream.ts), not cloned.
    const value = s.dict.valueAt(i);
    this.preserved.push({
      db: s.db,
      key,
      value: freezeValue(value) ?? clone(value),
      expireAt,
      copy: true,
    });
  }

  /**
   * `e`, the last entry `next()` handed out, is a live value that will be read across
   * event-loop turns: until `release()`, `freeze` runs before any write to its key and
   * must freeze what is left to read of it. A copy needs no such care.
   */
  hold(e: SnapshotEntry, freeze: () => void): void {
    if (e.copy) return;
    const s = this.sections.find((x) => x.db === e.db)!;
    this.held = { dict: s.dict, key: e.key, freeze };
  }

  /** The held value has been read out. */
  release(): void {
    this.held = null;
  }

  /**
   * Up to `max` more entries (preserved ones first), or null when the snapshot is
   * complete. Entries are valid until the event loop turns: use them at once.
   */
  next(max: number, last?: (v: Value) => boolean): SnapshotEntry[] | null {
    if (this.finished) return null;
    const out: SnapshotEntry[] = [];
    // `last`: an entry whose value it accepts ends the batch (a value to be streamed).
    while (out.length < max && this.preserved.length > 0) {
      const e = this.preserved.pop()!;
      out.push(e);
      if (last?.(e.value)) return this.handOut(out);
    }
    const parity = snapshotState.parity;
    while (out.length < max && this.current < this.sections.length) {
      const s = this.sections[this.current];
      const i = s.iter.step();
      if (i < 0) {
        s.done = true;
        this.current++;
        continue;
      }
      const dict = s.dict;
      const l = dict.wordAt(i);
      // Handled already (saved by the hook) or created after the start: skip.
      if ((l & 1) === parity) continue;
      dict.setWordAt(i, (l & ~1) | parity);
      const key = dict.keyAt(i);
      const value = dict.valueAt(i);
      out.push({
        db: s.db,
        key,
        value,
        expireAt: s.expires.size === 0 ? undefined : s.expires.get(key),
      });
      if (last?.(value)) break;
    }
    // Keys saved by the hook while this chunk was produced are picked up next time.
    if (out.length === 0 && this.preserved.length === 0) return null;
    return this.handOut(out);
  }

  private handOut(out: SnapshotEntry[]): SnapshotEntry[] {
    this.keysProcessed += out.length;
    return out;
  }

  /** Ends the snapshot (complete or abandoned); the hook stops saving old values. */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.preserved = [];
    this.held = null;
    active.delete(this.server);
    snapshotState.active = false;
    // An abandoned walk (a killed BGSAVE or rewrite) leaves the keys it never reached
    // with the old bit, which the next snapshot's flip would read as "already sent".
    const parity = snapshotState.parity;
    for (; this.current < this.sections.length; this.current++) {
      const s = this.sections[this.current];
      const dict = s.dict;
      for (let i = s.iter.step(); i >= 0; i = s.iter.step()) {
        const l = dict.wordAt(i);
        if ((l & 1) !== parity) dict.setWordAt(i, (l & ~1) | parity);
      }
    }
  }
}
