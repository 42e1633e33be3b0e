// Tests for src/commands/transactions.ts and src/keyspace/watch.ts: differential
// MULTI/EXEC/DISCARD/WATCH flows against redis-server (queueing errors and EXECABORT,
// errors inside EXEC, WATCH invalidated by another client, by expiry, by FLUSHDB /
// FLUSHALL / SWAPDB, Redis 7.0's stale-key rules), the MULTI/EXEC wrapper on the
// propagation feed, commandstats, and ioredis / node-redis transactions.
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { type Pair, startPair } from "./helpers/differential.ts";
import { encodeCommand, type RawClient } from "./helpers/resp_client.ts";
import { skipWithoutRedis, startAmber } from "./helpers/servers.ts";
import type { PropagatedOp } from "../src/server/server.ts";
import { prng } from "./helpers/prng.ts";

const noRedis = skipWithoutRedis();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** N connections to each server driven in lockstep; every reply must be byte-equal. */
class Lockstep {
  constructor(readonly r: RawClient[], readonly a: RawClient[]) {}

  static async open(pair: Pair, n: number): Promise<Lockstep> {
    const r: RawClient[] = [];
    const a: RawClient[] = [];
    for (let i = 0; i < n; i++) {
      const [x, y] = await pair.clients();
      r.push(x);
      a.push(y);
    }
    return new Lockstep(r, a);
  }

  /** Client `i` sends `argv` to both servers; `n` replies are read and compared. */
  async run(i: number, argv: string[], n = 1): Promise<string> {
    this.r[i].write(encodeCommand(argv));
    this.a[i].write(encodeCommand(argv));
    let last = "";
    for (let k = 0; k < n; k++) {
      const [rr, ar] = await Promise.all([this.r[i].read(), this.a[i].read()]);
      assert.equal(ar, rr, `client ${i}: reply ${k} to ${JSON.stringify(argv)} differs`);
      last = rr;
    }
    return last;
  }

  /** Runs a script of [client, ...argv] steps. */
  async script(steps: [number, ...string[]][]): Promise<void> {
    for (const [i, ...argv] of steps) await this.run(i, argv);
  }
}

async function withLockstep(
  n: number,
  body: (s: Lockstep, pair: Pair) => Promise<void>,
): Promise<void> {
  const pair = await startPair();
  try {
    await body(await Lockstep.open(pair, n), pair);
  } finally {
    await pair.stop();
  }
}

Deno.test({
  name: "transactions: MULTI/EXEC/DISCARD flows and errors match redis-server",
  ignore: noRedis,
  async fn() {
    await withLockstep(1, async (s) => {
      await s.script([
        [0, "EXEC"],
        [0, "DISCARD"],
        [0, "MULTI"],
        [0, "MULTI"],
        [0, "EXEC"],
        [0, "MULTI"],
        [0, "EXEC"],
        // WATCH inside MULTI is refused without aborting the transaction.
        [0, "MULTI"],
        [0, "SET", "a", "1"],
        [0, "WATCH", "x"],
        [0, "INCR", "a"],
        [0, "EXEC"],
        [0, "GET", "a"],
        // Errors while queueing abort the EXEC.
        [0, "MULTI"],
        [0, "SET", "a", "2"],
        [0, "NOSUCHCOMMAND", "x"],
        [0, "EXEC"],
        [0, "GET", "a"],
        [0, "MULTI"],
        [0, "GET"],
        [0, "SET", "a", "3"],
        [0, "EXEC"],
        [0, "MULTI"],
        [0, "CONFIG", "NOSUCHSUB"],
        [0, "EXEC"],
        [0, "GET", "a"],
        // Errors while executing do not stop the rest.
        [0, "SET", "s", "abc"],
        [0, "MULTI"],
        [0, "INCR", "s"],
        [0, "APPEND", "s", "def"],
        [0, "INCRBY", "a", "notanumber"],
        [0, "SELECT", "99"],
        [0, "GET", "s"],
        [0, "EXEC"],
        // Commands that change the connection state inside EXEC.
        [0, "MULTI"],
        [0, "PING"],
        [0, "ECHO", "hi"],
        [0, "SELECT", "2"],
        [0, "SET", "k", "in2"],
        [0, "SELECT", "0"],
        [0, "GET", "k"],
        [0, "EXEC"],
        [0, "SELECT", "2"],
        [0, "GET", "k"],
        [0, "SELECT", "0"],
        // DISCARD
        [0, "MULTI"],
        [0, "SET", "d", "1"],
        [0, "DISCARD"],
        [0, "GET", "d"],
        [0, "EXEC"],
        [0, "MULTI"],
        [0, "NOSUCH"],
        [0, "DISCARD"],
        [0, "MULTI"],
        [0, "EXEC"],
        // UNWATCH is queued inside MULTI; EXEC twice.
        [0, "UNWATCH"],
        [0, "MULTI"],
        [0, "UNWATCH"],
        [0, "EXEC"],
        [0, "EXEC"],
        [0, "WATCH"],
        [0, "MULTI", "x"],
        [0, "EXEC", "x"],
        [0, "DISCARD", "x"],
        [0, "UNWATCH", "x"],
        // A rejected EXEC aborts: inside MULTI the transaction, outside it the watches.
        [0, "MULTI"],
        [0, "SET", "a", "4"],
        [0, "EXEC", "x"],
        [0, "EXEC"],
        [0, "GET", "a"],
        [0, "WATCH", "a"],
        [0, "EXEC", "x"],
        [0, "SET", "a", "5"],
        [0, "MULTI"],
        [0, "EXEC"],
        [0, "WATCH", "a"],
        [0, "SUBSCRIBE", "ch"],
        [0, "EXEC"],
        [0, "UNSUBSCRIBE"],
        [0, "SET", "a", "6"],
        [0, "MULTI"],
        [0, "EXEC"],
      ]);
      // RESP3: nil EXEC is `_`, maps inside EXEC are maps.
      const [rr, ar] = await Promise.all([s.r[0].call("HELLO", "3"), s.a[0].call("HELLO", "3")]);
      assert.ok(rr.startsWith("%7") && ar.startsWith("%7"));
      await s.script([
        [0, "MULTI"],
        [0, "CONFIG", "GET", "maxmemory"],
        [0, "SET", "x", "1"],
        [0, "GET", "nokey"],
        [0, "EXEC"],
        [0, "WATCH", "x"],
        [0, "SET", "x", "2"],
        [0, "MULTI"],
        [0, "EXEC"],
        [0, "MULTI"],
        [0, "NOSUCH"],
        [0, "EXEC"],
      ]);
    });
  },
});

Deno.test({
  name: "transactions: blocking commands and collection errors inside EXEC",
  ignore: noRedis,
  async fn() {
    await withLockstep(2, async (s, pair) => {
      if (!pair.amber.amber.server.commands.has("blpop")) return;
      await s.script([
        [0, "MULTI"],
        [0, "BLPOP", "nolist", "0"],
        [0, "LPUSH", "l", "a", "b"],
        [0, "BRPOP", "l", "0"],
        [0, "BLMOVE", "l", "l2", "LEFT", "LEFT", "0"],
        [0, "BLPOP", "l", "0"],
        [0, "INCR", "l2"],
        [0, "LRANGE", "l2", "0", "-1"],
        [0, "EXEC"],
        // A client blocked outside a transaction is served by another's EXEC.
        [1, "DEL", "q"],
      ]);
      const blocked = [s.r[1], s.a[1]].map((c) => {
        c.write(encodeCommand(["BLPOP", "q", "5"]));
        return c;
      });
      await sleep(50);
      await s.script([[0, "MULTI"], [0, "RPUSH", "q", "x", "y"], [0, "LPOP", "q"], [0, "EXEC"]]);
      const [rr, ar] = await Promise.all(blocked.map((c) => c.read()));
      assert.equal(ar, rr);
      await s.script([[1, "LRANGE", "q", "0", "-1"]]);
    });
  },
});

Deno.test({
  name: "transactions: WATCH invalidation by other clients matches redis-server",
  ignore: noRedis,
  async fn() {
    await withLockstep(2, async (s) => {
      await s.script([
        // A write to the watched key aborts EXEC with a nil reply.
        [0, "SET", "k", "1"],
        [0, "WATCH", "k"],
        [1, "SET", "k", "2"],
        [0, "MULTI"],
        [0, "SET", "r", "1"],
        [0, "EXEC"],
        [0, "GET", "r"],
        // A write elsewhere does not.
        [0, "WATCH", "k"],
        [1, "SET", "other", "2"],
        [0, "MULTI"],
        [0, "PING"],
        [0, "EXEC"],
        // A no-op on a missing key is no change.
        [0, "WATCH", "missing"],
        [1, "DEL", "missing"],
        [1, "PERSIST", "missing"],
        [1, "EXPIRE", "missing", "10"],
        [0, "MULTI"],
        [0, "EXEC"],
        // The watching client's own writes count too.
        [0, "WATCH", "k"],
        [0, "SET", "k", "self"],
        [0, "MULTI"],
        [0, "EXEC"],
        // UNWATCH, DISCARD and EXEC forget the watches.
        [0, "WATCH", "k"],
        [0, "UNWATCH"],
        [1, "SET", "k", "3"],
        [0, "MULTI"],
        [0, "EXEC"],
        [0, "WATCH", "k"],
        [0, "MULTI"],
        [0, "DISCARD"],
        [1, "SET", "k", "4"],
        [0, "MULTI"],
        [0, "EXEC"],
        [0, "WATCH", "k"],
        [0, "MULTI"],
        [0, "EXEC"],
        [1, "SET", "k", "5"],
        [0, "MULTI"],
        [0, "EXEC"],
        // Once dirty, more WATCHes change nothing until UNWATCH.
        [0, "WATCH", "k"],
        [1, "SET", "k", "6"],
        [0, "WATCH", "j"],
        [0, "MULTI"],
        [0, "EXEC"],
        [0, "WATCH", "k", "k2", "k"],
        [1, "SET", "k2", "x"],
        [0, "MULTI"],
        [0, "EXEC"],
        // EXPIRE / PERSIST / RENAME / APPEND / INCR / DEL touch.
        [0, "WATCH", "k"],
        [1, "EXPIRE", "k", "100"],
        [0, "MULTI"],
        [0, "EXEC"],
        [0, "WATCH", "k"],
        [1, "PERSIST", "k"],
        [0, "MULTI"],
        [0, "EXEC"],
        [0, "WATCH", "dst"],
        [1, "RENAME", "k", "dst"],
        [0, "MULTI"],
        [0, "EXEC"],
        [0, "WATCH", "dst"],
        [1, "APPEND", "dst", "x"],
        [0, "MULTI"],
        [0, "EXEC"],
        [1, "SET", "n", "1"],
        [0, "WATCH", "n"],
        [1, "INCR", "n"],
        [0, "MULTI"],
        [0, "EXEC"],
        [0, "WATCH", "n"],
        [1, "DEL", "n"],
        [0, "MULTI"],
        [0, "EXEC"],
        // A watch belongs to the database it was made in.
        [0, "SELECT", "5"],
        [0, "WATCH", "w"],
        [0, "SELECT", "9"],
        [1, "SELECT", "5"],
        [1, "SET", "w", "1"],
        [1, "SELECT", "0"],
        [0, "MULTI"],
        [0, "EXEC"],
        [0, "WATCH", "w"],
        [1, "SET", "w", "db0"],
        [0, "MULTI"],
        [0, "EXEC"],
        [0, "SELECT", "0"],
        // The other client's transaction touches when it runs.
        [0, "WATCH", "t"],
        [1, "MULTI"],
        [1, "SET", "t", "1"],
        [0, "MULTI"],
        [0, "PING"],
        [1, "EXEC"],
        [0, "EXEC"],
        // RESET forgets watches.
        [0, "WATCH", "t"],
        [0, "RESET"],
        [1, "SET", "t", "2"],
        [0, "MULTI"],
        [0, "EXEC"],
      ]);
    });
  },
});

Deno.test({
  name: "transactions: FLUSHDB/FLUSHALL/SWAPDB touch only keys that exist (7.0.15)",
  ignore: noRedis,
  async fn() {
    await withLockstep(2, async (s) => {
      await s.script([
        [0, "SET", "k", "v"],
        [0, "WATCH", "k"],
        [1, "FLUSHALL"],
        [0, "MULTI"],
        [0, "PING"],
        [0, "EXEC"],
        [0, "WATCH", "k"],
        [1, "FLUSHALL"],
        [0, "MULTI"],
        [0, "PING"],
        [0, "EXEC"],
        [0, "SET", "k", "v"],
        [0, "WATCH", "k"],
        [1, "FLUSHDB"],
        [0, "MULTI"],
        [0, "EXEC"],
        [0, "SET", "k", "v"],
        [0, "WATCH", "k"],
        [1, "SELECT", "1"],
        [1, "SET", "k", "other-db"],
        [1, "FLUSHDB"],
        [1, "SELECT", "0"],
        [0, "MULTI"],
        [0, "EXEC"],
        // SWAPDB: a watched key that exists, or will exist, is touched.
        [0, "WATCH", "k"],
        [1, "SWAPDB", "0", "1"],
        [0, "MULTI"],
        [0, "EXEC"],
        [1, "SWAPDB", "0", "1"],
        [0, "WATCH", "k"],
        [1, "SWAPDB", "0", "1"],
        [0, "MULTI"],
        [0, "EXEC"],
        [0, "WATCH", "nowhere"],
        [1, "SWAPDB", "0", "1"],
        [0, "MULTI"],
        [0, "EXEC"],
        [0, "WATCH", "k"],
        [1, "SWAPDB", "2", "3"],
        [0, "MULTI"],
        [0, "EXEC"],
        [0, "WATCH", "k"],
        [1, "SWAPDB", "0", "0"],
        [0, "MULTI"],
        [0, "EXEC"],
        // FLUSHALL inside the watching client's own transaction runs (checked at EXEC).
        [0, "WATCH", "k"],
        [0, "MULTI"],
        [0, "FLUSHALL"],
        [0, "EXEC"],
      ]);
    });
  },
});

Deno.test({
  name: "transactions: WATCH and expiry, stale keys (Redis 7.0 rules)",
  ignore: noRedis,
  async fn() {
    await withLockstep(2, async (s) => {
      await s.run(0, ["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
      // A key that expires while watched fails EXEC, even if nothing deleted it.
      await s.script([[0, "SET", "k", "v", "PX", "100"], [0, "WATCH", "k"]]);
      await sleep(150);
      await s.script([[0, "MULTI"], [0, "PING"], [0, "EXEC"]]);
      // ... and so does its lazy deletion by another client.
      await s.script([[0, "SET", "k", "v", "PX", "100"], [0, "WATCH", "k"]]);
      await sleep(150);
      await s.script([[1, "GET", "k"], [0, "MULTI"], [0, "PING"], [0, "EXEC"]]);
      // A key already expired when WATCHed: no failure ...
      await s.script([[0, "SET", "k", "v", "PX", "1"]]);
      await sleep(20);
      await s.script([[0, "WATCH", "k"], [0, "MULTI"], [0, "PING"], [0, "EXEC"]]);
      // ... when it gets lazily deleted (DEL finds nothing) ...
      await s.script([[0, "SET", "k", "v", "PX", "1"]]);
      await sleep(20);
      await s.script([[0, "WATCH", "k"], [1, "DEL", "k"], [0, "MULTI"], [0, "EXEC"]]);
      await s.script([[0, "SET", "k", "v", "PX", "1"]]);
      await sleep(20);
      await s.script([[0, "WATCH", "k"], [1, "EXISTS", "k"], [0, "MULTI"], [0, "EXEC"]]);
      // ... or flushed ...
      await s.script([[0, "SET", "k", "v", "PX", "1"]]);
      await sleep(20);
      await s.script([[0, "WATCH", "k"], [1, "FLUSHDB"], [0, "MULTI"], [0, "EXEC"]]);
      // ... but a new value for it is a change.
      await s.script([[0, "SET", "k", "v", "PX", "1"]]);
      await sleep(20);
      await s.script([[0, "WATCH", "k"], [1, "SET", "k", "new"], [0, "MULTI"], [0, "EXEC"]]);
      await s.script([[0, "SET", "k", "v", "PX", "1"]]);
      await sleep(20);
      await s.script([
        [0, "WATCH", "k"],
        [1, "GET", "k"],
        [1, "SET", "k", "later"],
        [0, "MULTI"],
        [0, "EXEC"],
      ]);
      await s.script([[0, "SET", "k", "v", "PX", "1"]]);
      await sleep(20);
      await s.script([[0, "WATCH", "k"], [1, "INCR", "k"], [0, "MULTI"], [0, "EXEC"]]);
      // SWAPDB and stale keys.
      await s.script([[0, "FLUSHALL"], [0, "SET", "k", "v", "PX", "1"]]);
      await sleep(20);
      // A stale key swapped away for nothing: no change.
      await s.script([[0, "WATCH", "k"], [1, "SWAPDB", "0", "1"], [0, "MULTI"], [0, "EXEC"]]);
      await s.script([[0, "FLUSHALL"], [0, "SELECT", "1"], [0, "SET", "k", "v", "PX", "1"]]);
      await s.script([[0, "SELECT", "0"]]);
      await sleep(20);
      // A missing key replaced by a stale one: no change.
      await s.script([[0, "WATCH", "k"], [1, "SWAPDB", "0", "1"], [0, "MULTI"], [0, "EXEC"]]);
      await s.script([
        [0, "FLUSHALL"],
        [0, "SET", "k", "v", "PX", "1"],
        [0, "SELECT", "1"],
        [0, "SET", "k", "v", "PX", "1"],
        [0, "SELECT", "0"],
      ]);
      await sleep(20);
      // A stale key replaced by another stale key: no change.
      await s.script([[0, "WATCH", "k"], [1, "SWAPDB", "0", "1"], [0, "MULTI"], [0, "EXEC"]]);
      await s.script([[0, "FLUSHALL"], [0, "SET", "k", "v", "PX", "1"], [0, "SELECT", "1"]]);
      await s.script([[0, "SET", "k", "live"], [0, "SELECT", "0"]]);
      await sleep(20);
      // A stale key replaced by a live one: a change.
      await s.script([[0, "WATCH", "k"], [1, "SWAPDB", "0", "1"], [0, "MULTI"], [0, "EXEC"]]);
      await s.run(0, ["DEBUG", "SET-ACTIVE-EXPIRE", "1"]);
    });
  },
});

Deno.test({
  name: "transactions: random two-client MULTI/WATCH sequences match redis-server",
  ignore: noRedis,
  async fn() {
    await withLockstep(2, async (s) => {
      const rnd = prng(0x7a11);
      const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)];
      const key = () => pick(["k0", "k1", "k2", "k3"]);
      const gens: (() => string[])[] = [
        () => ["MULTI"],
        () => ["MULTI"],
        () => ["EXEC"],
        () => ["EXEC"],
        () => ["EXEC"],
        () => ["DISCARD"],
        () => ["WATCH", key()],
        () => ["WATCH", key(), key()],
        () => ["UNWATCH"],
        () => ["SET", key(), String(Math.floor(rnd() * 100))],
        () => ["INCR", key()],
        () => ["GET", key()],
        () => ["DEL", key()],
        () => ["APPEND", key(), "x"],
        () => ["EXPIRE", key(), "100"],
        () => ["PERSIST", key()],
        () => ["RENAME", key(), key()],
        () => ["SELECT", pick(["0", "1"])],
        () => ["MGET", key(), key()],
        () => ["DBSIZE"],
      ];
      const rare: (() => string[])[] = [
        () => ["FLUSHDB"],
        () => ["FLUSHALL"],
        () => ["SWAPDB", "0", "1"],
        () => ["NOSUCHCOMMAND"],
        () => ["GET"],
        () => ["EXEC", "x"],
        () => ["WATCH"],
      ];
      const execs = { nil: 0, abort: 0, ran: 0 };
      for (let i = 0; i < 1500; i++) {
        const who = rnd() < 0.5 ? 0 : 1;
        const argv = rnd() < 0.04 ? pick(rare)() : pick(gens)();
        const reply = await s.run(who, argv);
        if (argv[0] !== "EXEC") continue;
        if (reply === "*-1\r\n") execs.nil++;
        else if (reply.startsWith("-EXECABORT")) execs.abort++;
        else if (reply.startsWith("*")) execs.ran++;
      }
      // The script exercises every EXEC outcome.
      assert.ok(execs.nil > 5 && execs.abort > 2 && execs.ran > 20, JSON.stringify(execs));
      // End both transactions so every queued command has been answered.
      await s.run(0, ["DISCARD"]);
      await s.run(1, ["DISCARD"]);
    });
  },
});

Deno.test({
  name: "transactions: EXEC rejected before running (NOAUTH) aborts with EXECABORT",
  ignore: noRedis,
  async fn() {
    const pair = await startPair(["--requirepass", "pw"]);
    try {
      const s = await Lockstep.open(pair, 1);
      await s.script([
        [0, "EXEC"],
        [0, "MULTI"],
        [0, "AUTH", "pw"],
        [0, "MULTI"],
        [0, "SET", "a", "1"],
        [0, "EXEC", "x"],
        [0, "EXEC"],
        [0, "GET", "a"],
      ]);
    } finally {
      await pair.stop();
    }
  },
});

Deno.test({
  name: "transactions: commandstats count errors inside EXEC on the inner command only",
  ignore: noRedis,
  async fn() {
    await withLockstep(1, async (s) => {
      await s.script([
        [0, "CONFIG", "RESETSTAT"],
        [0, "SET", "s", "abc"],
        [0, "MULTI"],
        [0, "INCR", "s"],
        [0, "GET", "s"],
        [0, "EXEC"],
        [0, "MULTI"],
        [0, "NOSUCH"],
        [0, "EXEC"],
        [0, "EXEC"],
        [0, "EXEC", "x"],
        [0, "MULTI"],
        [0, "EXEC", "x"],
      ]);
      const stats = async (c: RawClient) => {
        const info = await c.call("INFO", "commandstats");
        return info.split("\r\n")
          .filter((l) => /^cmdstat_(exec|incr|multi|get):/.test(l))
          .map((l) => l.replace(/usec=\d+,usec_per_call=[\d.]+,/, ""))
          .sort();
      };
      assert.deepEqual(await stats(s.a[0]), await stats(s.r[0]));
      const errs = async (c: RawClient) =>
        (await c.call("INFO", "errorstats")).split("\r\n").filter((l) => l.startsWith("error"));
      assert.deepEqual(await errs(s.a[0]), await errs(s.r[0]));
    });
  },
});

Deno.test({
  name: "transactions: CLIENT INFO inside EXEC shows the MULTI state",
  ignore: noRedis,
  async fn() {
    await withLockstep(1, async (s) => {
      for (const c of [s.r[0], s.a[0]]) {
        await c.call("MULTI");
        await c.call("CLIENT", "INFO");
        await c.call("PING");
        const r = await c.call("EXEC");
        assert.match(r, /flags=x db=0 sub=0 psub=0 ssub=0 multi=2 /);
        assert.match(await c.call("CLIENT", "INFO"), /flags=N db=0 .* multi=-1 /);
      }
    });
  },
});

Deno.test("transactions: EXEC propagates its writes wrapped in MULTI/EXEC", async () => {
  const t = await startAmber();
  try {
    const server = t.amber.server;
    const batches: string[][] = [];
    server.addFeed((ops: PropagatedOp[]) =>
      batches.push(ops.map((o) => `${o.db}:${o.argv.join(" ")}`))
    );
    const c = await t.client();
    const tx = async (...cmds: string[][]) => {
      batches.length = 0;
      await c.call("MULTI");
      for (const cmd of cmds) await c.call(...cmd);
      await c.call("EXEC");
      return batches.slice();
    };
    // Reads only: nothing.
    assert.deepEqual(await tx(["GET", "a"], ["PING"]), []);
    // One write: bare, as Redis 7.0 (a single op is atomic).
    assert.deepEqual(await tx(["SET", "a", "1"], ["GET", "a"]), [["0:SET a 1"]]);
    // Several writes: one batch, MULTI first, EXEC last, each op in its db.
    assert.deepEqual(
      await tx(["SET", "a", "2"], ["INCR", "a"], ["SELECT", "3"], ["SET", "b", "x"]),
      [["0:MULTI", "0:SET a 2", "0:INCR a", "3:SET b x", "3:EXEC"]],
    );
    await c.call("SELECT", "0");
    // Failed writes do not propagate.
    assert.deepEqual(await tx(["SET", "s", "abc"], ["INCR", "s"]), [["0:SET s abc"]]);
    // An aborted transaction propagates nothing.
    batches.length = 0;
    await c.call("WATCH", "a");
    await c.call("SET", "a", "9");
    batches.length = 0;
    await c.call("MULTI");
    await c.call("SET", "a", "10");
    assert.equal(await c.call("EXEC"), "*-1\r\n");
    assert.deepEqual(batches, []);
    // Outside a transaction: a lazily expired key's DEL and the write stay together.
    await c.call("SET", "e", "1", "PX", "1");
    await new Promise((r) => setTimeout(r, 20));
    await c.call("DEBUG", "SET-ACTIVE-EXPIRE", "0");
    batches.length = 0;
    await c.call("INCR", "e");
    assert.deepEqual(batches, [["0:MULTI", "0:DEL e", "0:INCR e", "0:EXEC"]]);
  } finally {
    await t.stop();
  }
});

Deno.test("transactions: refused writes (MISCONF) abort MULTI as in Redis 7.0", async () => {
  const t = await startAmber();
  try {
    let denied = false;
    t.amber.server.addWriteGuard(() => denied ? "MISCONF disk is unhappy" : null);
    const c = await t.client();
    denied = true;
    // Queued writes are refused at once, which dooms the EXEC; reads still queue.
    assert.equal(await c.call("MULTI"), "+OK\r\n");
    assert.equal(await c.call("SET", "a", "1"), "-MISCONF disk is unhappy\r\n");
    assert.equal(await c.call("GET", "a"), "+QUEUED\r\n");
    assert.equal(
      await c.call("EXEC"),
      "-EXECABORT Transaction discarded because of previous errors.\r\n",
    );
    // A read-only transaction runs.
    await c.call("MULTI");
    await c.call("GET", "a");
    assert.equal(await c.call("EXEC"), "*1\r\n$-1\r\n");
    // Writes queued before the refusal started: EXEC itself is refused.
    denied = false;
    await c.call("MULTI");
    assert.equal(await c.call("SET", "a", "1"), "+QUEUED\r\n");
    denied = true;
    assert.equal(
      await c.call("EXEC"),
      "-EXECABORT Transaction discarded because of: MISCONF disk is unhappy\r\n",
    );
    assert.equal(await c.call("EXEC"), "-ERR EXEC without MULTI\r\n");
    denied = false;
    assert.equal(await c.call("GET", "a"), "$-1\r\n");
  } finally {
    await t.stop();
  }
});

Deno.test("transactions: ioredis multi/exec and watch", async () => {
  const t = await startAmber();
  const r = new Redis({ port: t.port, host: "127.0.0.1", lazyConnect: true });
  const other = new Redis({ port: t.port, host: "127.0.0.1", lazyConnect: true });
  try {
    await r.connect();
    await other.connect();
    const res = await r.multi().set("a", "1").incr("a").get("a").exec();
    assert.deepEqual(res, [[null, "OK"], [null, 2], [null, "2"]]);
    const withErr = await r.multi().set("s", "x").incr("s").exec();
    assert.equal(withErr![0][1], "OK");
    assert.match(String(withErr![1][0]), /not an integer/);
    await r.watch("a");
    await other.set("a", "changed");
    assert.equal(await r.multi().set("a", "mine").exec(), null);
    assert.equal(await r.get("a"), "changed");
    await r.watch("a");
    assert.deepEqual(await r.multi().set("a", "mine").exec(), [[null, "OK"]]);
    await assert.rejects(r.multi().call("NOSUCHCMD").exec(), /EXECABORT/);
  } finally {
    r.disconnect();
    other.disconnect();
    await t.stop();
  }
});

Deno.test("transactions: node-redis multi and watch", async () => {
  const t = await startAmber();
  const c = createClient({ url: `redis://127.0.0.1:${t.port}` });
  c.on("error", () => {});
  try {
    await c.connect();
    assert.deepEqual(await c.multi().set("k", "1").incr("k").get("k").exec(), ["OK", 2, "2"]);
    const iso = c.duplicate();
    iso.on("error", () => {});
    await iso.connect();
    await iso.watch("k");
    await c.set("k", "5");
    await assert.rejects(iso.multi().set("k", "x").exec(), /watched keys has been changed/);
    await iso.quit();
    assert.equal(await c.get("k"), "5");
  } finally {
    await c.quit().catch(() => {});
    await t.stop();
  }
});
