/**
 * The active expiry cycle: Redis's `activeExpireCycle` (slow cycle, run from cron).
 *
 * Lazy expiry alone never reclaims keys nobody reads, so every cron tick walks part of
 * each database's expires dictionary with a persistent cursor (as Redis 7.0 walks
 * `db->expires_cursor`), deletes what has expired, and repeats while more than the
 * acceptable share of the sampled keys was stale, within 25% of the tick's time.
 */
import type { Database } from "./db.ts";
import type { KeyTable } from "./keytable.ts";

const KEYS_PER_LOOP = 20;
const ACCEPTABLE_STALE = 10;
const SLOW_TIME_PERC = 25;

interface ExpireHost {
  readonly dbs: Database[];
  readonly stats: { expiredStalePerc: number; expiredTimeCapReachedCount: number };
  readonly expiryPaused: boolean;
}

/** Persistent cursors, keyed by the expires map itself (a FLUSHDB or SWAPDB resets them). */
const cursors = new WeakMap<KeyTable<number>, Iterator<[string, number]>>();
let nextDb = 0;

/**
 * One slow cycle. `effort` is `active-expire-effort` (1..10); `periodMs` is 1000/hz.
 * Returns the number of keys expired.
 */
export function activeExpireCycle(host: ExpireHost, effort: number, periodMs: number): number {
  if (host.expiryPaused) return 0;
  const e = Math.max(1, Math.min(10, effort)) - 1;
  const perLoop = KEYS_PER_LOOP + (KEYS_PER_LOOP / 4) * e;
  const acceptableStale = ACCEPTABLE_STALE - e;
  const deadline = performance.now() + (periodMs * SLOW_TIME_PERC) / 100;
  let expired = 0;
  let sampledTotal = 0;
  let expiredTotal = 0;
  const dbs = host.dbs;
  for (let n = 0; n < dbs.length; n++) {
    const db = dbs[nextDb];
    nextDb = (nextDb + 1) % dbs.length;
    let iterations = 0;
    while (db.expires.size > 0) {
      let sampled = 0;
      let stale = 0;
      const now = Date.now();
      let it = cursors.get(db.expires);
      if (!it) cursors.set(db.expires, it = db.expires.entries());
      while (sampled < perLoop) {
        const r = it.next();
        if (r.done) {
          cursors.delete(db.expires);
          break;
        }
        sampled++;
        const [key, when] = r.value;
        if (when < now && db.expireIfNeeded(key)) stale++;
      }
      sampledTotal += sampled;
      expiredTotal += stale;
      expired += stale;
      iterations++;
      if ((iterations & 15) === 0 && performance.now() > deadline) {
        host.stats.expiredTimeCapReachedCount++;
        break;
      }
      if (sampled === 0 || (stale * 100) / sampled <= acceptableStale) break;
    }
    if (performance.now() > deadline) break;
  }
  const current = sampledTotal ? expiredTotal / sampledTotal : 0;
  host.stats.expiredStalePerc = current * 0.05 + host.stats.expiredStalePerc * 0.95;
  return expired;
}
