/**
 * WATCH bookkeeping (Redis 7.0.15 multi.c): which clients watch which keys, and the
 * CLIENT_DIRTY_CAS flag a change to a watched key sets, so EXEC can refuse to run.
 *
 * Redis keeps a `watched_keys` dict per database (key -> watchers) and a list per client;
 * so does this module, per server. Watches belong to the database index, not its
 * contents: SWAPDB moves data, watchers stay (as in Redis).
 *
 * Redis 7.0 treats a key that was already logically expired when WATCHed specially
 * (`watchedKey.expired`): its lazy deletion is no change, and EXEC ignores it. Redis
 * reacts to a change after it happened (`dictFind` on the new state); Amber's keyspace
 * hook fires before the change, so for such keys the reaction is settled later, against
 * the state the change left: at the next change of the key, at EXEC, or at a flush.
 */
import type { Client } from "../server/client.ts";
import type { Server } from "../server/server.ts";
import type { Database } from "./db.ts";
import type { KeyTable } from "./keytable.ts";
import type { Value } from "../types/value.ts";

interface WatchedKey {
  client: Client;
  db: number;
  key: string;
  /** The key was logically expired when WATCHed (Redis's `wk->expired`). */
  expired: boolean;
  /** A change hit this expired watch; its effect waits for the state after the change. */
  pending: boolean;
}

class WatchState {
  /** Per database index: key -> watchers, in WATCH order. */
  readonly byDb: Map<string, WatchedKey[]>[] = [];
  readonly byClient = new Map<Client, WatchedKey[]>();
  /** Clients whose watched keys changed (CLIENT_DIRTY_CAS). */
  readonly dirty = new Set<Client>();

  constructor(readonly server: Server) {
    for (let i = 0; i < server.dbs.length; i++) this.byDb.push(new Map());
  }
}

const states = new WeakMap<Server, WatchState>();

/** Installs the keyspace hooks WATCH needs on `server` (idempotent). */
export function installWatch(server: Server): void {
  if (states.has(server)) return;
  const st = new WatchState(server);
  states.set(server, st);
  server.onKeyModified((db, key) => {
    if (st.byClient.size !== 0) touchKey(st, db, key);
  });
  server.onDbReplaced((db, old) => {
    if (st.byClient.size !== 0) touchAllInDb(st, db, old);
  });
  server.onClientFreed((c) => {
    unwatchAll(c);
    st.dirty.delete(c);
  });
}

function stateOf(server: Server): WatchState {
  let st = states.get(server);
  if (!st) {
    installWatch(server);
    st = states.get(server)!;
  }
  return st;
}

/** Redis's keyIsExpired against explicit expires (the replaced contents of a db). */
function expiredIn(expires: KeyTable<number>, key: string, now: number): boolean {
  const when = expires.get(key);
  return when !== undefined && now > when;
}

function keyIsExpired(server: Server, db: Database, key: string): boolean {
  // While loading nothing expires (Redis checks server.loading).
  return !server.expiryPaused && expiredIn(db.expires, key, server.now());
}

/** Marks `c` dirty and drops its watches, as touchWatchedKey does. */
function flagDirty(st: WatchState, c: Client): void {
  st.dirty.add(c);
  unwatchAll(c);
}

/**
 * Applies a pending change to an expired watch against the state it left: a key now
 * gone was merely deleted (no logical change); a key now present and live was deleted
 * and re-created, which Redis reports as a change; a key still expired is untouched.
 */
function settle(
  st: WatchState,
  wk: WatchedKey,
  dict: KeyTable<Value>,
  expires: KeyTable<number>,
): boolean {
  wk.pending = false;
  if (!dict.has(wk.key)) {
    wk.expired = false;
    return false;
  }
  if (st.server.expiryPaused || expiredIn(expires, wk.key, st.server.now())) return false;
  flagDirty(st, wk.client);
  return true;
}

/** Redis's touchWatchedKey, called before `key` in `db` changes. */
function touchKey(st: WatchState, db: Database, key: string): void {
  const watchers = st.byDb[db.id]?.get(key);
  if (!watchers) return;
  // flagDirty unwatches, which edits this list: walk a copy.
  for (const wk of watchers.slice()) {
    if (st.dirty.has(wk.client)) continue;
    if (wk.expired) {
      if (wk.pending && settle(st, wk, db.dict, db.expires)) continue;
      if (wk.expired) {
        wk.pending = true;
        continue;
      }
    }
    flagDirty(st, wk.client);
  }
}

/**
 * Redis's touchAllWatchedKeysInDb for FLUSHDB/FLUSHALL (the db now empty) and SWAPDB (the
 * db now holding the other's data): only keys that existed before or exist now count.
 */
function touchAllInDb(
  st: WatchState,
  db: Database,
  old: { dict: KeyTable<Value>; expires: KeyTable<number> },
): void {
  const watched = st.byDb[db.id];
  if (!watched || watched.size === 0) return;
  const now = st.server.now();
  const paused = st.server.expiryPaused;
  for (const [key, watchers] of [...watched]) {
    for (const wk of watchers.slice()) {
      if (st.dirty.has(wk.client)) continue;
      if (wk.pending && settle(st, wk, old.dict, old.expires)) continue;
      const existed = old.dict.has(key);
      const exists = db.dict.has(key);
      if (!existed && !exists) continue;
      const nowExpired = !paused && expiredIn(db.expires, key, now);
      if (wk.expired) {
        if (!exists) {
          // An expired key deleted: no logical change.
          wk.expired = false;
          continue;
        }
        if (nowExpired) continue;
      } else if (!existed && nowExpired) {
        // A missing key replaced by an already expired one.
        wk.expired = true;
        continue;
      }
      flagDirty(st, wk.client);
    }
  }
}

/** Redis's watchForKey for each of `keys`, in the client's current database. */
export function watchKeys(c: Client, keys: readonly string[]): void {
  const st = stateOf(c.server);
  let mine = st.byClient.get(c);
  const db = c.db;
  const watched = st.byDb[db.id];
  for (const key of keys) {
    if (mine?.some((wk) => wk.db === db.id && wk.key === key)) continue;
    const wk: WatchedKey = {
      client: c,
      db: db.id,
      key,
      expired: keyIsExpired(c.server, db, key),
      pending: false,
    };
    if (!mine) st.byClient.set(c, mine = []);
    mine.push(wk);
    const list = watched.get(key);
    if (list) list.push(wk);
    else watched.set(key, [wk]);
  }
}

/** Redis's unwatchAllKeys. */
export function unwatchAll(c: Client): void {
  const st = states.get(c.server);
  const mine = st?.byClient.get(c);
  if (!st || !mine) return;
  st.byClient.delete(c);
  for (const wk of mine) {
    const watched = st.byDb[wk.db];
    const list = watched.get(wk.key);
    if (!list) continue;
    const i = list.indexOf(wk);
    if (i !== -1) list.splice(i, 1);
    if (list.length === 0) watched.delete(wk.key);
  }
}

/** CLIENT_DIRTY_CAS: a watched key changed since WATCH. */
export function isDirtyCas(c: Client): boolean {
  return states.get(c.server)?.dirty.has(c) ?? false;
}

export function clearDirtyCas(c: Client): void {
  states.get(c.server)?.dirty.delete(c);
}

/**
 * Redis's isWatchedKeyExpired, run by EXEC: a watched key (live when WATCHed) that has
 * expired meanwhile counts as changed even if nothing deleted it yet.
 */
export function watchedKeyExpired(c: Client): boolean {
  const st = states.get(c.server);
  const mine = st?.byClient.get(c);
  if (!st || !mine) return false;
  for (const wk of mine.slice()) {
    const db = c.server.dbs[wk.db];
    if (wk.pending && settle(st, wk, db.dict, db.expires)) return false;
    if (wk.expired) continue;
    if (keyIsExpired(c.server, db, wk.key)) return true;
  }
  return false;
}

/** Number of keys `c` watches (for tests and introspection). */
export function watchedKeyCount(c: Client): number {
  return states.get(c.server)?.byClient.get(c)?.length ?? 0;
}
