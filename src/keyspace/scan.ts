/**
 * SCAN cursors for the keyspace table and the Map-based collections.
 *
 * Redis scans its hash tables with a reverse-binary bucket cursor. Here every dictionary
 * (a JS Map, or a KeyTable: the keyspace, large hashes and sets) has iterators that stay
 * valid across inserts and deletes and visit every entry present for the whole walk
 * exactly once. So a cursor here names a live iterator kept server-side: SCAN's
 * guarantee (every element present from start to end is returned) holds, and the cursor
 * stays an opaque unsigned integer for clients. Cursors idle for 5 minutes, or beyond 10k open ones, are dropped; an unknown cursor
 * restarts the walk (duplicates are allowed by SCAN's contract, omissions are not).
 */

const MAX_CURSORS = 10_000;
const IDLE_MS = 5 * 60 * 1000;

interface Open {
  iter: Iterator<unknown>;
  /** The collection the iterator walks; a cursor is only valid for the same one. */
  owner: object;
  used: number;
}

export class CursorTable {
  private open = new Map<string, Open>();
  private next = 1 + Math.floor(Math.random() * 1e9);

  /** Removes and returns the iterator behind `cursor` if it walks `owner`. */
  take<T>(cursor: string, owner: object): Iterator<T> | undefined {
    const o = this.open.get(cursor);
    if (!o) return undefined;
    this.open.delete(cursor);
    return o.owner === owner ? (o.iter as Iterator<T>) : undefined;
  }

  /** Parks `iter` and returns the cursor that resumes it. */
  park(iter: Iterator<unknown>, owner: object): string {
    if (this.open.size >= MAX_CURSORS) {
      const oldest = this.open.keys().next().value;
      if (oldest !== undefined) this.open.delete(oldest);
    }
    const id = String(this.next++);
    this.open.set(id, { iter, owner, used: Date.now() });
    return id;
  }

  /** Drops idle cursors (called from cron). */
  expire(): void {
    const limit = Date.now() - IDLE_MS;
    for (const [id, o] of this.open) {
      if (o.used >= limit) break; // insertion order is age order
      this.open.delete(id);
    }
  }

  get size(): number {
    return this.open.size;
  }
}

const ULONG_MAX = 2n ** 64n - 1n;

/**
 * Redis's parseScanCursorOrReply: `strtoul` over the whole argument (up to a NUL, as C
 * sees it), so "" is 0, "+5" is 5 and "-1" wraps to 2^64-1; overflow is an error.
 * Returns the cursor as a canonical decimal string, or null for `ERR invalid cursor`.
 */
export function parseScanCursor(raw: string): string | null {
  const nul = raw.indexOf("\0");
  const s = nul === -1 ? raw : raw.slice(0, nul);
  if (s === "") return "0";
  const m = /^([+-]?)(\d+)$/.exec(s);
  if (!m) return null;
  const v = BigInt(m[2]);
  if (v > ULONG_MAX) return null;
  return String(m[1] === "-" && v !== 0n ? ULONG_MAX + 1n - v : v);
}

/**
 * Advances a scan over `source` by up to `count` entries from `cursor`.
 * Returns the next cursor ("0" at the end) and the entries visited.
 */
export function scanStep<T>(
  table: CursorTable,
  source: { [Symbol.iterator](): Iterator<T> },
  owner: object,
  cursor: string,
  count: number,
): { cursor: string; items: T[] } {
  let it = cursor === "0" ? undefined : table.take<T>(cursor, owner);
  if (!it) it = source[Symbol.iterator]();
  const items: T[] = [];
  while (items.length < count) {
    const r = it.next();
    if (r.done) return { cursor: "0", items };
    items.push(r.value);
  }
  return { cursor: table.park(it, owner), items };
}
