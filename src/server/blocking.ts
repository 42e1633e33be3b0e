/**
 * Clients blocked on keys (BLPOP & co, BZPOPMIN & co): Redis 7.0's blocked.c for the
 * key-based cases, plus the blocking-timeout argument parser they all share.
 *
 * How a blocking command uses it (the list and sorted-set families do exactly this):
 *
 * ```ts
 * const deadline = parseTimeout(c, argv[argv.length - 1]); // replies the error itself
 * if (deadline === null) return;
 * // ... try to serve at once from the first non-empty key, as Redis does ...
 * if (!canBlock(c)) return c.reply.nullArray(); // MULTI/EXEC, scripts: act as timed out
 * blockForKeys(c, keys, deadline, {
 *   type: "list",
 *   // Runs after a command made `key` ready and it holds a value of `type`. Pop, write
 *   // the reply to `c`, dirty()/notify(), and c.server.alsoPropagate(...) the
 *   // non-blocking form; return true when `c` was answered (it gets unblocked) or false
 *   // to stay blocked (e.g. the key is empty again).
 *   tryServe: (key) => serve(c, key),
 *   // Optional: the reply on timeout; the default is the null array (`*-1` / `_`),
 *   // which is what Redis 7.0 sends for every list and zset blocking command.
 *   onTimeout: () => c.reply.nullArray(),
 * });
 * ```
 *
 * Writers need do nothing: any change to a key somebody is blocked on (a push, a
 * RENAME/MOVE/RESTORE/SORT STORE onto it, SWAPDB) marks it ready through the server's
 * keyModified / dbReplaced hooks, which stands in for Redis's `signalKeyAsReady`
 * calls in dbAdd and the push paths. `signalKeyAsReady` is still exported for code
 * that changes a value without going through the Database methods.
 *
 * After each top-level command (server.onAfterCommand; after EXEC as a whole, never
 * inside it) the ready keys are served in the order they became ready, each to its
 * blocked clients in the order they blocked (FIFO), as handleClientsBlockedOnKeys.
 * A served client is unblocked and its buffered input resumes on a microtask, i.e.
 * after the current command, as Redis's processUnblockedClients in beforeSleep.
 * Timeouts run from a per-client timer, so a 0.1 s timeout fires ~100 ms later rather
 * than at the next cron tick.
 */
import type { Client } from "./client.ts";
import type { Server } from "./server.ts";
import type { Database } from "../keyspace/db.ts";

/** What a blocked client waits for and how it is answered. */
export interface BlockSpec {
  /** Type of value that can serve the client ("list", "zset"): Redis's btype. */
  type: string;
  /**
   * Called when `key` (in the client's db) was made ready and now holds a value of
   * `type`. Return true once the client has its reply (it is then unblocked).
   */
  tryServe(key: string): boolean;
  /** The reply on timeout; default: null array. */
  onTimeout?(): void;
}

interface Blocked {
  c: Client;
  db: Database;
  keys: string[];
  spec: BlockSpec;
  /** Absolute unix ms, 0 = forever. */
  deadline: number;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** The per-server blocking state (Redis's db->blocking_keys, server.ready_keys). */
class BlockingState {
  readonly byClient = new Map<Client, Blocked>();
  /** db -> key -> clients blocked on it, in blocking order (a Set keeps insertion order). */
  readonly blockingKeys = new Map<Database, Map<string, Set<Client>>>();
  /** Keys signalled since the last serve, in signal order, deduplicated per db. */
  ready: { db: Database; key: string }[] = [];
  readonly readySet = new Map<Database, Set<string>>();
  private serving = false;

  constructor(readonly server: Server) {
    server.onKeyModified((db, key) => {
      if (this.byClient.size !== 0) this.signal(db, key);
    });
    server.onDbReplaced((db) => {
      // SWAPDB/FLUSHDB: Redis's scanDatabaseForReadyKeys over the keys clients wait on.
      const keys = this.blockingKeys.get(db);
      if (keys) { for (const k of keys.keys()) this.signal(db, k); }
    });
    server.onAfterCommand(() => {
      if (this.ready.length !== 0) this.serveReady();
    });
    server.onClientFreed((c) => {
      if (this.byClient.has(c)) this.unblock(c, false);
    });
  }

  signal(db: Database, key: string): void {
    const keys = this.blockingKeys.get(db);
    if (keys === undefined || !keys.has(key)) return;
    let set = this.readySet.get(db);
    if (set === undefined) this.readySet.set(db, set = new Set());
    if (set.has(key)) return;
    set.add(key);
    this.ready.push({ db, key });
  }

  block(c: Client, keys: string[], deadline: number, spec: BlockSpec): void {
    const unique = [...new Set(keys)];
    const b: Blocked = { c, db: c.db, keys: unique, spec, deadline, timer: undefined };
    let map = this.blockingKeys.get(c.db);
    if (map === undefined) this.blockingKeys.set(c.db, map = new Map());
    for (const k of unique) {
      let set = map.get(k);
      if (set === undefined) map.set(k, set = new Set());
      set.add(c);
    }
    this.byClient.set(c, b);
    dbStates.set(c.db, this);
    c.blocked = true;
    if (deadline > 0) this.arm(b);
  }

  /** setTimeout holds at most 2^31-1 ms; longer waits re-arm until the deadline. */
  private arm(b: Blocked): void {
    const delay = Math.max(0, Math.min(b.deadline - Date.now(), 0x7fffffff));
    b.timer = setTimeout(() => {
      b.timer = undefined;
      if (this.byClient.get(b.c) !== b) return;
      if (Date.now() < b.deadline) return this.arm(b);
      if (b.spec.onTimeout) b.spec.onTimeout();
      else b.c.reply.nullArray();
      this.unblock(b.c, true);
    }, delay);
  }

  /** Removes `c` from every structure; `resume` restarts its input processing. */
  unblock(c: Client, resume: boolean): void {
    const b = this.byClient.get(c);
    if (b === undefined) return;
    this.byClient.delete(c);
    if (b.timer !== undefined) clearTimeout(b.timer);
    const map = this.blockingKeys.get(b.db);
    if (map !== undefined) {
      for (const k of b.keys) {
        const set = map.get(k);
        if (set === undefined) continue;
        set.delete(c);
        if (set.size === 0) map.delete(k);
      }
      if (map.size === 0) this.blockingKeys.delete(b.db);
    }
    c.blocked = false;
    if (!resume) return;
    const server = this.server;
    server.scheduleFlush(c);
    queueMicrotask(() => {
      if (!c.blocked && !c.closing && server.clients.has(c.id)) server.processInput(c);
    });
  }

  /** Redis's handleClientsBlockedOnKeys. */
  serveReady(): void {
    if (this.serving) return;
    this.serving = true;
    try {
      while (this.ready.length !== 0) {
        // Serving may signal more keys (BLMOVE pushes): they go to a fresh list.
        const list = this.ready;
        this.ready = [];
        for (const { db, key } of list) {
          this.readySet.get(db)?.delete(key);
          const clients = this.blockingKeys.get(db)?.get(key);
          if (clients === undefined) continue;
          for (const rc of [...clients]) {
            const b = this.byClient.get(rc);
            if (b === undefined || rc.closing) continue;
            const v = db.peek(key);
            if (v === undefined) break;
            if (typeof v === "string" || v.type !== b.spec.type) continue;
            if (b.spec.tryServe(key)) {
              this.unblock(rc, true);
              // Each served client propagates on its own, as Redis's afterCommand(receiver).
              this.server.propagatePending();
            }
          }
        }
      }
    } finally {
      this.serving = false;
    }
  }
}

const states = new WeakMap<Server, BlockingState>();
/** Databases where some client ever blocked, to their server's state. */
const dbStates = new WeakMap<Database, BlockingState>();

function stateOf(server: Server): BlockingState {
  let st = states.get(server);
  if (st === undefined) states.set(server, st = new BlockingState(server));
  return st;
}

/**
 * Installs the blocking hooks on `server` (idempotent). Blocking installs itself on
 * first use; calling this at start-up only makes the hook order deterministic.
 */
export function installBlocking(server: Server): void {
  stateOf(server);
}

/**
 * Blocks `c` on `keys` (in `c.db`) until served or until `deadline` (absolute unix ms
 * from parseTimeout; 0 = forever). The command handler must not reply itself.
 */
export function blockForKeys(c: Client, keys: string[], deadline: number, spec: BlockSpec): void {
  stateOf(c.server).block(c, keys, deadline, spec);
}

/** Redis's signalKeyAsReady: `key` in `db` may now serve blocked clients. */
export function signalKeyAsReady(db: Database, key: string): void {
  dbStates.get(db)?.signal(db, key);
}

/**
 * False where Redis sets CLIENT_DENY_BLOCKING: inside MULTI/EXEC, and for clients
 * without a connection (scripts, AOF loading). Blocking commands then act as if the
 * timeout had expired at once.
 */
export function canBlock(c: Client): boolean {
  // EXEC keeps c.multiQueue set while it runs the queue (CLIENT_MULTI in Redis).
  return c.socket !== null && c.multiQueue === null;
}

/** True while `c` waits in blockForKeys (not for other kinds of blocking). */
export function isBlockedOnKeys(c: Client): boolean {
  return states.get(c.server)?.byClient.has(c) ?? false;
}

/** Number of clients blocked on keys and of distinct keys they wait on (INFO). */
export function blockingStats(server: Server): { clients: number; keys: number } {
  const st = states.get(server);
  if (st === undefined) return { clients: 0, keys: 0 };
  let keys = 0;
  for (const m of st.blockingKeys.values()) keys += m.size;
  return { clients: st.byClient.size, keys };
}

/**
 * CLIENT UNBLOCK: answers a client blocked on keys as on timeout, or with the
 * UNBLOCKED error. Returns false if `c` is not blocked on keys.
 */
export function unblockClientByRequest(c: Client, error: boolean): boolean {
  const st = states.get(c.server);
  const b = st?.byClient.get(c);
  if (st === undefined || b === undefined) return false;
  if (error) c.reply.error("UNBLOCKED client unblocked via CLIENT UNBLOCK");
  else if (b.spec.onTimeout) b.spec.onTimeout();
  else c.reply.nullArray();
  st.unblock(c, true);
  return true;
}

// ---- timeout argument ------------------------------------------------------------------

const LLONG_MAX = 2n ** 63n - 1n;
const LLONG_MIN = -(2n ** 63n);
const MAX_LONG_DOUBLE_CHARS = 5 * 1024;

/**
 * Redis 7.0's getTimeoutFromObjectOrReply(UNIT_SECONDS): the argument is read with
 * strtold (decimal, hex floats, inf), then `(long long) ceill(secs * 1000.0L)`; an
 * out-of-range cast yields LLONG_MIN, hence "timeout is negative" for huge values.
 * Returns the absolute deadline in unix ms (0 = block forever), or null after replying
 * the error.
 */
export function parseTimeout(c: Client, arg: string): number | null {
  const ms = timeoutMs(arg);
  if (ms === null) {
    c.reply.error("ERR timeout is not a float or out of range");
    return null;
  }
  if (ms < 0n) {
    c.reply.error("ERR timeout is negative");
    return null;
  }
  if (ms === 0n) return 0;
  const now = BigInt(Date.now());
  // mstime() + tval overflowing gives a negative deadline: Redis then never times out.
  if (ms > LLONG_MAX - now) return 0;
  const deadline = ms + now;
  return deadline > BigInt(Number.MAX_SAFE_INTEGER) ? 0 : Number(deadline);
}

/** ceill(x * 1000.0L) cast to long long for the strtold value of `s`; null if invalid. */
export function timeoutMs(s: string): bigint | null {
  // string2ld requires strtold to consume every byte: an embedded NUL fails too.
  if (s.length === 0 || s.length >= MAX_LONG_DOUBLE_CHARS) return null;
  const v = parseLongDouble(s);
  if (v === null) return null;
  if (v === "inf" || v === "-inf") return LLONG_MIN;
  // x87 arithmetic: round the input, multiply by 1000 and round again to 64 bits.
  const [neg, m, e] = v;
  if (m === 0n) return 0n;
  const [m2, e2] = roundMantissa(m * 1000n, e);
  let mag: bigint;
  if (e2 >= 0) mag = m2 << BigInt(e2);
  else {
    const sh = BigInt(-e2);
    const q = m2 >> sh;
    const exact = q << sh === m2;
    // ceil of a positive value rounds up; of a negative one, its magnitude rounds down.
    mag = neg || exact ? q : q + 1n;
  }
  const r = neg ? -mag : mag;
  if (r > LLONG_MAX || r < LLONG_MIN) return LLONG_MIN;
  return r;
}

/** [negative, mantissa, exponent]: value = mantissa * 2^exponent, mantissa < 2^64. */
type LongDouble = [boolean, bigint, number];

/** x87 extended: 64-bit mantissa, exponents up to 16383 (subnormals to ~2^-16445). */
const LD_MAX_EXP = 16384;
const LD_MIN_EXP = -16445;

/** Rounds m * 2^e to a 64-bit mantissa, half to even. */
function roundMantissa(m: bigint, e: number): [bigint, number] {
  const bits = m.toString(2).length;
  if (bits <= 64) return [m, e];
  const sh = bits - 64;
  const shb = BigInt(sh);
  let q = m >> shb;
  const rem = m - (q << shb);
  const half = 1n << (shb - 1n);
  if (rem > half || (rem === half && (q & 1n) === 1n)) q += 1n;
  if (q >> 64n !== 0n) return [q >> 1n, e + sh + 1];
  return [q, e + sh];
}

/**
 * strtold as string2ld accepts it: no leading space, the whole string consumed, no
 * NaN, no overflow to infinity and no underflow to zero. Returns the value rounded to
 * x87 extended precision.
 */
function parseLongDouble(s: string): LongDouble | "inf" | "-inf" | null {
  const m =
    /^([+-]?)(?:(inf(?:inity)?)|0x([0-9a-f]*)(?:\.([0-9a-f]*))?(?:p([+-]?\d+))?|(\d*)(?:\.(\d*))?(?:e([+-]?\d+))?)$/i
      .exec(s);
  if (m === null) return null;
  const neg = m[1] === "-";
  if (m[2] !== undefined) return neg ? "-inf" : "inf";
  let num: bigint;
  let den = 1n;
  let exp2 = 0;
  if (m[3] !== undefined) {
    const int = m[3], frac = m[4] ?? "";
    if (int.length + frac.length === 0) return null; // "0x" alone parses as "0" + junk
    num = BigInt("0x" + (int + frac || "0"));
    const p = m[5] === undefined ? 0 : Number(m[5]);
    exp2 = p - 4 * frac.length;
  } else {
    const int = m[6] ?? "", frac = m[7] ?? "";
    if (int.length + frac.length === 0) return null;
    num = BigInt(int + frac || "0");
    let e10 = (m[8] === undefined ? 0 : Number(m[8])) - frac.length;
    if (num === 0n) return [neg, 0n, 0];
    // Beyond these the value over/underflows any x87 number whatever the digits.
    const digits = num.toString().length;
    if (digits + e10 > 4933) return null;
    if (digits + e10 < -4952) return null;
    if (e10 >= 0) num *= 10n ** BigInt(e10);
    else {
      // Scale the quotient so it keeps well over 64 significant bits.
      den = 10n ** BigInt(-e10);
    }
    e10 = 0;
  }
  if (num === 0n) return [neg, 0n, 0];
  // value = num / den * 2^exp2; take 66+ significant bits of the quotient, then round.
  const nb = num.toString(2).length, db = den.toString(2).length;
  let shift = 70 - (nb - db); // left-shift num so the quotient has ~70 bits
  if (shift < 0) shift = 0;
  const scaled = num << BigInt(shift);
  const q = scaled / den;
  const sticky = q * den !== scaled ? 1n : 0n;
  // Append a sticky bit so half-way detection stays correct.
  let [mant, e] = roundMantissa((q << 1n) | sticky, exp2 - shift - 1);
  const top = e + 64; // value < 2^top
  if (top > LD_MAX_EXP) return null;
  if (e < LD_MIN_EXP) {
    // Subnormal range: fewer mantissa bits; only "is it zero?" matters for timeouts.
    const sh = LD_MIN_EXP - e;
    if (sh >= 65) return null;
    mant >>= BigInt(sh);
    e = LD_MIN_EXP;
    if (mant === 0n) return null;
  }
  return [neg, mant, e];
}
