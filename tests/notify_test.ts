// Tests for src/keyspace/notify.ts: keyspace notifications compared with redis-server
// message by message. A subscriber listens on `__key*__:*` plus a `sync` channel; after
// each command the writer publishes on `sync`, and everything the subscriber received up
// to that marker must be byte-for-byte what Redis sent (events, their order, the
// keyspace/keyevent channel forms) for several notify-keyspace-events settings.
import assert from "node:assert/strict";
import { type Pair, startPair } from "./helpers/differential.ts";
import type { RawClient } from "./helpers/resp_client.ts";
import { skipWithoutRedis, startAmber } from "./helpers/servers.ts";

const noRedis = skipWithoutRedis();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Cmd = string[];

/** One server's subscriber + writer. */
interface Side {
  sub: RawClient;
  w: RawClient;
}

async function open(pair: Pair, resp3: boolean): Promise<[Side, Side]> {
  const sides: Side[] = [];
  for (const get of [() => pair.redis.client(), () => pair.amber.client()]) {
    const sub = await get();
    const w = await get();
    if (resp3) assert.ok((await sub.call("HELLO", "3")).startsWith("%7"));
    await sub.call("PSUBSCRIBE", "__key*__:*");
    await sub.call("SUBSCRIBE", "sync");
    sides.push({ sub, w });
  }
  return [sides[0], sides[1]];
}

/** Runs `cmd` on a side and returns [reply, messages the subscriber got meanwhile]. */
async function step(side: Side, cmd: Cmd): Promise<[string, string[]]> {
  const reply = await side.w.call(...cmd);
  assert.equal(await side.w.call("PUBLISH", "sync", "."), ":1\r\n");
  const msgs: string[] = [];
  while (true) {
    const m = await side.sub.read();
    if (m.includes("\r\n$4\r\nsync\r\n")) break;
    msgs.push(m);
  }
  return [reply, msgs];
}

async function compareEvents(r: Side, a: Side, cmds: Cmd[]): Promise<number> {
  let events = 0;
  for (const cmd of cmds) {
    const [rr, ar] = await Promise.all([step(r, cmd), step(a, cmd)]);
    assert.equal(ar[0], rr[0], `reply to ${JSON.stringify(cmd)} differs`);
    assert.deepEqual(ar[1], rr[1], `events of ${JSON.stringify(cmd)} differ`);
    events += rr[1].length;
  }
  return events;
}

async function setFlags(r: Side, a: Side, flags: string): Promise<void> {
  for (const s of [r, a]) {
    assert.equal(await s.w.call("CONFIG", "SET", "notify-keyspace-events", flags), "+OK\r\n");
  }
}

/** Commands of the core families (strings, keys, expiry), in a meaningful order. */
const CORE: Cmd[] = [
  ["SET", "k", "v"],
  ["SET", "k", "v2"],
  ["SET", "k", "v3", "NX"],
  ["SET", "k", "v4", "XX", "EX", "100"],
  ["SET", "k", "v5", "KEEPTTL"],
  ["SETNX", "nx", "1"],
  ["SETNX", "nx", "2"],
  ["SETEX", "ex", "100", "v"],
  ["PSETEX", "px", "100000", "v"],
  ["GETSET", "k", "old"],
  ["APPEND", "k", "tail"],
  ["APPEND", "newappend", "x"],
  ["SETRANGE", "k", "1", "XY"],
  ["SETRANGE", "sr", "3", "z"],
  ["INCR", "n"],
  ["INCRBY", "n", "10"],
  ["DECR", "n"],
  ["DECRBY", "n", "3"],
  ["INCRBYFLOAT", "f", "1.5"],
  ["INCR", "k"],
  ["MSET", "a", "1", "b", "2", "a", "3"],
  ["MSETNX", "c", "1", "d", "2"],
  ["MSETNX", "c", "1", "e", "2"],
  ["GETDEL", "a"],
  ["GETDEL", "a"],
  ["GETEX", "b", "EX", "100"],
  ["GETEX", "b", "PERSIST"],
  ["GETEX", "b"],
  ["DEL", "b", "c", "missing"],
  ["UNLINK", "d"],
  ["SET", "t", "1"],
  ["EXPIRE", "t", "100"],
  ["PEXPIRE", "t", "100000", "XX"],
  ["EXPIRE", "t", "100", "NX"],
  ["PERSIST", "t"],
  ["PERSIST", "t"],
  ["EXPIREAT", "t", "1000"],
  ["SET", "t", "1"],
  ["PEXPIRE", "t", "-1"],
  ["SET", "t", "1", "EX", "100"],
  ["GETEX", "t", "PXAT", "1000"],
  ["SET", "r1", "x"],
  ["RENAME", "r1", "r2"],
  ["RENAME", "r2", "r2"],
  ["SET", "r3", "y"],
  ["RENAME", "r3", "r2"],
  ["RENAMENX", "r2", "nx"],
  ["RENAMENX", "r2", "r4"],
  ["MOVE", "r4", "5"],
  ["COPY", "nx", "cp"],
  ["COPY", "nx", "cp", "REPLACE"],
  ["COPY", "nx", "cp2", "DB", "4"],
  ["SELECT", "3"],
  ["SET", "in3", "v"],
  ["DEL", "in3"],
  ["SELECT", "0"],
  ["SWAPDB", "0", "1"],
  ["SWAPDB", "0", "1"],
  ["FLUSHDB"],
  ["SET", "k", "again"],
  ["FLUSHALL"],
];

/** Commands of other families, run only when Amber has them. */
const COLLECTIONS: Cmd[] = [
  ["LPUSH", "l", "a", "b", "c"],
  ["RPUSH", "l", "d"],
  ["LPUSHX", "nol", "x"],
  ["LPOP", "l"],
  ["RPOP", "l", "2"],
  ["LSET", "l", "0", "z"],
  ["LINSERT", "l", "BEFORE", "z", "y"],
  ["LREM", "l", "0", "y"],
  ["LTRIM", "l", "0", "0"],
  ["LMOVE", "l", "l2", "LEFT", "RIGHT"],
  ["RPOPLPUSH", "l2", "l3"],
  ["LPOP", "l3"],
  ["HSET", "h", "f", "1", "g", "2"],
  ["HSETNX", "h", "f", "x"],
  ["HINCRBY", "h", "f", "5"],
  ["HINCRBYFLOAT", "h", "f", "0.5"],
  ["HDEL", "h", "f", "nof"],
  ["HDEL", "h", "g"],
  ["SADD", "s", "a", "b", "c"],
  ["SADD", "s", "a"],
  ["SREM", "s", "a", "zz"],
  ["SMOVE", "s", "s2", "b"],
  ["SINTERSTORE", "s3", "s", "s2"],
  ["SUNIONSTORE", "s3", "s", "s2"],
  ["SDIFFSTORE", "s3", "s", "s2"],
  ["SREM", "s", "c"],
  ["ZADD", "z", "1", "a", "2", "b"],
  ["ZADD", "z", "INCR", "5", "a"],
  ["ZINCRBY", "z", "1", "b"],
  ["ZREM", "z", "a"],
  ["ZREMRANGEBYSCORE", "z", "0", "100"],
  ["ZADD", "z", "1", "a", "2", "b", "3", "c"],
  ["ZPOPMIN", "z"],
  ["ZPOPMAX", "z", "5"],
  ["ZADD", "z", "1", "a", "2", "b"],
  ["ZUNIONSTORE", "zu", "1", "z"],
  ["ZINTERSTORE", "zu", "2", "z", "nothing"],
  ["ZRANGESTORE", "zr", "z", "0", "-1"],
  ["DEL", "z", "zr"],
];

function available(pair: Pair, cmds: Cmd[]): Cmd[] {
  const have = pair.amber.amber.server.commands;
  return cmds.filter((c) => have.has(c[0].toLowerCase()));
}

Deno.test({
  name: "notify: KEA events of the core commands match redis-server",
  ignore: noRedis,
  async fn() {
    const pair = await startPair();
    try {
      const [r, a] = await open(pair, false);
      await setFlags(r, a, "KEA");
      const n = await compareEvents(r, a, available(pair, CORE));
      assert.ok(n > 80, `only ${n} events`);
    } finally {
      await pair.stop();
    }
  },
});

Deno.test({
  name: "notify: events of the collection families match redis-server",
  ignore: noRedis,
  async fn() {
    const pair = await startPair();
    try {
      const [r, a] = await open(pair, false);
      await setFlags(r, a, "KEA");
      const cmds = available(pair, COLLECTIONS);
      const n = await compareEvents(r, a, cmds);
      assert.ok(cmds.length === 0 || n > cmds.length, `only ${n} events`);
    } finally {
      await pair.stop();
    }
  },
});

Deno.test({
  name: "notify: class selection, keyspace-only, keyevent-only and `new` (RESP3)",
  ignore: noRedis,
  async fn() {
    const pair = await startPair();
    try {
      const [r, a] = await open(pair, true);
      const cmds = available(pair, CORE.slice(0, 45));
      for (const flags of ["", "KA", "EA", "K$", "Eg", "KE$x", "KEn", "KEAn", "Kgn", "AE"]) {
        await setFlags(r, a, flags);
        await compareEvents(r, a, [["FLUSHALL"], ...cmds]);
      }
      // Without K or E nothing is published whatever the classes.
      await setFlags(r, a, "A");
      assert.equal(await compareEvents(r, a, cmds), 0);
    } finally {
      await pair.stop();
    }
  },
});

Deno.test({
  name: "notify: expired events, lazy and active, and events inside MULTI",
  ignore: noRedis,
  async fn() {
    const pair = await startPair();
    try {
      const [r, a] = await open(pair, false);
      await setFlags(r, a, "KEA");
      await compareEvents(r, a, [["DEBUG", "SET-ACTIVE-EXPIRE", "0"], [
        "SET",
        "e",
        "1",
        "PX",
        "1",
      ]]);
      await sleep(20);
      // Lazy expiry: the read finds the key expired.
      await compareEvents(r, a, [["GET", "e"], ["SET", "e2", "1", "PX", "1"]]);
      await sleep(20);
      await compareEvents(r, a, [["INCR", "e2"], ["DEBUG", "SET-ACTIVE-EXPIRE", "1"]]);
      await compareEvents(r, a, [["SET", "e3", "1", "PX", "1"]]);
      // Active expiry: nobody touches the key.
      await sleep(400);
      await compareEvents(r, a, [["PING"]]);
      for (const s of [r, a]) {
        assert.equal(await s.w.call("MULTI"), "+OK\r\n");
        await s.w.call("SET", "m", "1");
        await s.w.call("INCR", "m");
        await s.w.call("DEL", "m");
      }
      await compareEvents(r, a, [["EXEC"]]);
    } finally {
      await pair.stop();
    }
  },
});

Deno.test("notify: nothing is published without subscribers or with events off", async () => {
  const t = await startAmber(["--notify-keyspace-events", "KEA"]);
  try {
    const c = await t.client();
    // Events reach a subscriber that arrives later, from startup config.
    await c.call("SET", "a", "1");
    const sub = await t.client();
    assert.equal(
      await sub.call("SUBSCRIBE", "__keyevent@0__:set"),
      "*3\r\n$9\r\nsubscribe\r\n$18\r\n__keyevent@0__:set\r\n:1\r\n",
    );
    assert.equal(await c.call("SET", "b", "2"), "+OK\r\n");
    assert.equal(
      await sub.read(),
      "*3\r\n$7\r\nmessage\r\n$18\r\n__keyevent@0__:set\r\n$1\r\nb\r\n",
    );
    assert.equal(await c.call("CONFIG", "SET", "notify-keyspace-events", ""), "+OK\r\n");
    await c.call("SET", "c", "3");
    assert.equal(await c.call("PUBLISH", "__keyevent@0__:set", "marker"), ":1\r\n");
    assert.equal(
      await sub.read(),
      "*3\r\n$7\r\nmessage\r\n$18\r\n__keyevent@0__:set\r\n$6\r\nmarker\r\n",
    );
  } finally {
    await t.stop();
  }
});
