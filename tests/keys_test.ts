// Tests for src/commands/keys.ts: differential scripts against redis-server (DEL, EXISTS,
// TYPE, RENAME, MOVE, COPY, TOUCH, OBJECT, SCAN/KEYS argument errors, KEYS patterns compared
// as sets), and in-process checks of what cannot be compared byte for byte: SCAN walks,
// RANDOMKEY, expired keys never shown, propagation and notifications.
import assert from "node:assert/strict";
import { compareScript, type Pair, type Step, withPair } from "./helpers/differential.ts";
import { skipWithoutRedis, startAmber } from "./helpers/servers.ts";
import type { RawClient } from "./helpers/resp_client.ts";
import type { PropagatedOp } from "../src/server/server.ts";

const noRedis = skipWithoutRedis();

/** Parses a RESP reply (bulk strings, integers, arrays) into JS values. */
function parseReply(s: string): unknown {
  let pos = 0;
  const line = () => {
    const nl = s.indexOf("\r\n", pos);
    const l = s.slice(pos, nl);
    pos = nl + 2;
    return l;
  };
  const one = (): unknown => {
    const l = line();
    const t = l[0];
    const rest = l.slice(1);
    if (t === "+" || t === "-") return rest;
    if (t === ":") return Number(rest);
    if (t === "$") {
      const n = Number(rest);
      if (n < 0) return null;
      const v = s.slice(pos, pos + n);
      pos += n + 2;
      return v;
    }
    if (t === "*") {
      const n = Number(rest);
      if (n < 0) return null;
      const out: unknown[] = [];
      for (let i = 0; i < n; i++) out.push(one());
      return out;
    }
    throw new Error("unexpected reply " + JSON.stringify(l));
  };
  return one();
}

async function call(c: RawClient, ...argv: string[]): Promise<unknown> {
  return parseReply(await c.call(...argv));
}

/** Full SCAN walk: every key returned, with the number of calls it took. */
async function scanAll(c: RawClient, ...opts: string[]): Promise<string[]> {
  const seen: string[] = [];
  let cursor = "0";
  let calls = 0;
  do {
    const [next, keys] = await call(c, "SCAN", cursor, ...opts) as [string, string[]];
    seen.push(...keys);
    cursor = next;
    assert.ok(++calls < 100000, "SCAN does not terminate");
  } while (cursor !== "0");
  return seen;
}

Deno.test({
  name: "keys: DEL, UNLINK, EXISTS, TYPE, TOUCH, RENAME, RENAMENX match redis-server",
  ignore: noRedis,
  async fn() {
    await withPair([], async (r, a, pair) => {
      const steps: Step[] = [
        ["MSET", "a", "1", "b", "2", "c", "3"],
        ["EXISTS", "a", "b", "nokey", "a"],
        ["EXISTS"],
        ["DEL", "a", "a", "nokey"],
        ["DEL"],
        ["UNLINK", "b", "c", "nokey"],
        ["UNLINK"],
        ["EXISTS", "a", "b", "c"],
        ["SET", "s", "v"],
        ["TYPE", "s"],
        ["TYPE", "nokey"],
        ["TYPE"],
        ["TYPE", "s", "x"],
        ["TOUCH", "s", "nokey", "s"],
        ["TOUCH"],
        ["RENAME", "nokey", "x"],
        ["RENAME", "nokey", "nokey"],
        ["RENAME", "s", "s"],
        ["RENAMENX", "s", "s"],
        ["RENAMENX", "nokey", "s"],
        ["RENAME", "s", "t"],
        ["GET", "s"],
        ["GET", "t"],
        ["SETEX", "ttl", "1000", "v"],
        ["RENAME", "ttl", "ttl2"],
        ["TTL", "ttl2"],
        ["SET", "t", "other"],
        ["RENAME", "ttl2", "t"],
        ["TTL", "t"],
        ["GET", "t"],
        ["SET", "u", "u"],
        ["RENAMENX", "t", "u"],
        ["RENAMENX", "t", "w"],
        ["GET", "w"],
        ["TTL", "w"],
        ["RENAME", "w"],
        ["RENAME", "w", "x", "y"],
        ["SET", "raw", "1"],
        ["APPEND", "raw", "2"],
        ["RENAME", "raw", "raw2"],
        ["OBJECT", "ENCODING", "raw2"],
        ["SET", "\x00bin\xff", "v"],
        ["RENAME", "\x00bin\xff", "\xff\x00"],
        ["GET", "\xff\x00"],
        ["EXISTS", "\x00bin\xff", "\xff\x00"],
      ];
      if (amberHas(pair, "rpush")) {
        steps.push(
          ["RPUSH", "l", "a", "b"],
          ["TYPE", "l"],
          ["RENAME", "l", "l2"],
          ["TYPE", "l2"],
          ["OBJECT", "ENCODING", "l2"],
          ["COPY", "l2", "l3"],
          ["LRANGE", "l3", "0", "-1"],
          ["RPUSH", "l3", "c"],
          ["LRANGE", "l2", "0", "-1"],
        );
      }
      await compareScript(r, a, steps);
    });
  },
});

function amberHas(pair: Pair, cmd: string): boolean {
  return pair.amber.amber.server.commands.has(cmd);
}

Deno.test({
  name: "keys: MOVE and COPY across databases, options and errors",
  ignore: noRedis,
  async fn() {
    await withPair([], async (r, a) => {
      await compareScript(r, a, [
        ["SET", "k", "v"],
        ["MOVE", "k", "0"],
        ["MOVE", "k", "16"],
        ["MOVE", "k", "-1"],
        ["MOVE", "k", "abc"],
        ["MOVE", "k", "2147483648"],
        ["MOVE", "k", "4294967297"],
        ["MOVE", "nokey", "1"],
        ["MOVE", "nokey", "0"],
        ["SETEX", "k", "1000", "v"],
        ["MOVE", "k", "1"],
        ["EXISTS", "k"],
        ["SELECT", "1"],
        ["GET", "k"],
        ["TTL", "k"],
        ["SELECT", "0"],
        ["SET", "k", "again"],
        ["MOVE", "k", "1"],
        ["GET", "k"],
        ["MOVE", "k"],
        ["COPY", "k", "k"],
        ["COPY", "k", "k", "DB", "0"],
        ["COPY", "k", "k", "DB", "1"],
        ["COPY", "nokey", "x"],
        ["COPY", "k", "c1"],
        ["GET", "c1"],
        ["COPY", "k", "c1"],
        ["SET", "k", "changed"],
        ["COPY", "k", "c1", "REPLACE"],
        ["GET", "c1"],
        ["COPY", "k", "c1", "replace", "REPLACE"],
        ["COPY", "k", "c1", "DB"],
        ["COPY", "k", "c1", "DB", "x"],
        ["COPY", "k", "c1", "DB", "16"],
        ["COPY", "k", "c1", "DB", "-1"],
        ["COPY", "k", "c1", "BOGUS"],
        ["COPY", "k", "c1", "DB", "x", "BOGUS"],
        ["COPY", "k", "c1", "BOGUS", "DB", "x"],
        ["COPY", "k", "c2", "DB", "2"],
        ["COPY", "k", "c2", "DB", "2", "DB", "3"],
        ["SELECT", "2"],
        ["GET", "c2"],
        ["SELECT", "3"],
        ["GET", "c2"],
        ["SELECT", "0"],
        ["SETEX", "ttl", "1000", "v"],
        ["COPY", "ttl", "ttlc"],
        ["TTL", "ttlc"],
        ["SET", "i", "5"],
        ["COPY", "i", "ic"],
        ["OBJECT", "REFCOUNT", "i"],
        ["OBJECT", "REFCOUNT", "ic"],
        ["OBJECT", "ENCODING", "ic"],
        ["SET", "ap", "5"],
        ["APPEND", "ap", "5"],
        ["COPY", "ap", "apc"],
        ["OBJECT", "ENCODING", "apc"],
        ["INCRBYFLOAT", "fl", "3"],
        ["COPY", "fl", "flc"],
        ["OBJECT", "ENCODING", "flc"],
        ["COPY", "k"],
      ]);
    });
  },
});

Deno.test({
  name: "keys: OBJECT subcommands, encodings and errors",
  ignore: noRedis,
  async fn() {
    await withPair([], async (r, a) => {
      await compareScript(r, a, [
        ["OBJECT", "HELP"],
        ["object", "help"],
        ["OBJECT", "HELP", "x"],
        ["OBJECT"],
        ["OBJECT", "BOGUS"],
        ["OBJECT", "BOGUS", "k"],
        ["OBJECT", "ENCODING"],
        ["OBJECT", "ENCODING", "nokey"],
        ["OBJECT", "REFCOUNT", "nokey"],
        ["OBJECT", "IDLETIME", "nokey"],
        ["OBJECT", "FREQ", "nokey"],
        ["SET", "int", "12345"],
        ["SET", "shared", "9999"],
        ["SET", "neg", "-1"],
        ["SET", "emb", "x".repeat(44)],
        ["SET", "raw", "x".repeat(45)],
        ["SET", "bigint", "9223372036854775807"],
        ["SET", "toolong", "92233720368547758070"],
        ["SET", "lead0", "012"],
        ["SET", "empty", ""],
        ...["int", "shared", "neg", "emb", "raw", "bigint", "toolong", "lead0", "empty"].flatMap((
          k,
        ) => [["OBJECT", "ENCODING", k], ["OBJECT", "REFCOUNT", k]]),
        ["OBJECT", "FREQ", "int"],
        ["OBJECT", "ENCODING", "int", "x"],
        ["SET", "a", "1"],
        ["SETRANGE", "a", "0", "2"],
        ["OBJECT", "ENCODING", "a"],
        ["EXPIRE", "a", "100"],
        ["OBJECT", "ENCODING", "a"],
        ["PERSIST", "a"],
        ["OBJECT", "ENCODING", "a"],
        ["GETEX", "a", "EX", "100"],
        ["OBJECT", "ENCODING", "a"],
        ["SET", "a", "2"],
        ["OBJECT", "ENCODING", "a"],
        ["MOVE", "raw", "1"],
        ["SELECT", "1"],
        ["OBJECT", "ENCODING", "raw"],
      ]);
    });
    // Under an LFU policy FREQ answers and IDLETIME refuses.
    await withPair(["--maxmemory", "100mb", "--maxmemory-policy", "allkeys-lfu"], async (r, a) => {
      await compareScript(r, a, [
        ["SET", "k", "v"],
        ["OBJECT", "FREQ", "k"],
        ["OBJECT", "IDLETIME", "k"],
        ["SET", "n", "5"],
        ["OBJECT", "REFCOUNT", "n"],
      ]);
    });
    await withPair(["--maxmemory", "100mb", "--maxmemory-policy", "volatile-lru"], async (r, a) => {
      await compareScript(r, a, [
        ["SET", "n", "5"],
        ["OBJECT", "REFCOUNT", "n"],
        ["OBJECT", "ENCODING", "n"],
      ]);
    });
  },
});

Deno.test("keys: OBJECT IDLETIME counts seconds since the last access", async () => {
  const t = await startAmber();
  try {
    const c = await t.client();
    await c.call("SET", "k", "v");
    // A seconds clock: a tick between the two commands shows as 1.
    assert.ok((await call(c, "OBJECT", "IDLETIME", "k") as number) <= 1);
    await new Promise((r) => setTimeout(r, 2100));
    const idle = await call(c, "OBJECT", "IDLETIME", "k") as number;
    assert.ok(idle >= 2 && idle <= 3, `idle ${idle}`);
    // OBJECT, TYPE, EXISTS and TTL do not touch the key; GET does.
    await c.call("TYPE", "k");
    await c.call("EXISTS", "k");
    await c.call("TTL", "k");
    assert.equal(await call(c, "OBJECT", "IDLETIME", "k"), idle);
    await c.call("GET", "k");
    assert.ok((await call(c, "OBJECT", "IDLETIME", "k") as number) <= 1);
  } finally {
    await t.stop();
  }
});

Deno.test({
  name: "keys: KEYS patterns return the same sets, SCAN argument errors",
  ignore: noRedis,
  async fn() {
    await withPair([], async (r, a) => {
      const keys = [
        "foo",
        "foobar",
        "bar",
        "hello",
        "hallo",
        "hxllo",
        "h\\llo",
        "a*b",
        "a?b",
        "",
        "\x00",
        "\xff\xfe",
        "user:1",
        "user:2",
        "user:10",
        "UsEr:3",
        "[x]",
      ];
      const mset: string[] = ["MSET"];
      for (const k of keys) mset.push(k, "v");
      await compareScript(r, a, [mset]);
      const patterns = [
        "*",
        "",
        "foo*",
        "*bar",
        "h?llo",
        "h[ae]llo",
        "h[^e]llo",
        "h[a-b]llo",
        "h\\\\llo",
        "a\\*b",
        "a\\?b",
        "user:?",
        "user:*",
        "USER:*",
        "*\xff*",
        "\\[x\\]",
        "[",
        "**",
        "?",
        "*[",
      ];
      for (const p of patterns) {
        const [rr, ar] = await Promise.all([call(r, "KEYS", p), call(a, "KEYS", p)]);
        assert.deepEqual((ar as string[]).sort(), (rr as string[]).sort(), `KEYS ${p}`);
        const all = await scanAll(a, "MATCH", p, "COUNT", "3");
        assert.deepEqual(all.sort(), (rr as string[]).sort(), `SCAN MATCH ${p}`);
      }
      await compareScript(r, a, [
        ["KEYS"],
        ["KEYS", "a", "b"],
        ["SCAN"],
        ["SCAN", "abc"],
        ["SCAN", "-"],
        ["SCAN", " 0"],
        ["SCAN", "0 "],
        ["SCAN", "18446744073709551616"],
        ["SCAN", "1.5"],
        ["SCAN", "0", "COUNT"],
        ["SCAN", "0", "COUNT", "0"],
        ["SCAN", "0", "COUNT", "-1"],
        ["SCAN", "0", "COUNT", "x"],
        ["SCAN", "0", "MATCH"],
        ["SCAN", "0", "TYPE"],
        ["SCAN", "0", "BOGUS", "x"],
        ["SCAN", "0", "COUNT", "10", "BOGUS"],
        ["SCAN", "0", "COUNT", "9223372036854775808"],
        ["SCAN", "0", "MATCH", "nomatch*", "COUNT", "1000"],
        ["SCAN", "0", "TYPE", "list", "COUNT", "1000"],
        ["SCAN", "0", "TYPE", "nosuchtype", "COUNT", "1000"],
      ]);
    });
  },
});

Deno.test("keys: SCAN walks every key once, filters TYPE and skips expired keys", async () => {
  const t = await startAmber();
  try {
    const c = await t.client();
    const n = 1000;
    const mset = ["MSET"];
    for (let i = 0; i < n; i++) mset.push(`key:${i}`, String(i));
    await c.call(...mset);
    for (const count of ["1", "7", "10", "100", "5000"]) {
      const seen = await scanAll(c, "COUNT", count);
      assert.equal(seen.length, n);
      assert.equal(new Set(seen).size, n);
    }
    // Keys deleted and added during the walk: everything present throughout is returned.
    let cursor = "0";
    const seen = new Set<string>();
    let step = 0;
    do {
      const [next, keys] = await call(c, "SCAN", cursor, "COUNT", "50") as [string, string[]];
      for (const k of keys) seen.add(k);
      cursor = next;
      if (step++ === 3) {
        await c.call("DEL", "key:999", "key:998");
        await c.call("SET", "added", "x");
      }
    } while (cursor !== "0");
    for (let i = 0; i < 998; i++) assert.ok(seen.has(`key:${i}`), `key:${i} missed`);
    assert.deepEqual(await scanAll(c, "MATCH", "key:99?"), [
      "key:990",
      "key:991",
      "key:992",
      "key:993",
      "key:994",
      "key:995",
      "key:996",
      "key:997",
    ]);
    assert.equal((await scanAll(c, "TYPE", "string")).length, 999);
    assert.equal((await scanAll(c, "TYPE", "STRING")).length, 999);
    assert.equal((await scanAll(c, "TYPE", "hash")).length, 0);
    // Expired keys are never returned by SCAN or KEYS, and SCAN reclaims them.
    for (let i = 0; i < 100; i++) await c.call("PEXPIRE", `key:${i}`, "1");
    await new Promise((r) => setTimeout(r, 20));
    const keysReply = await call(c, "KEYS", "*") as string[];
    assert.equal(keysReply.length, 899);
    assert.equal((await call(c, "KEYS", "key:1?") as string[]).length, 0);
    const after = await scanAll(c, "COUNT", "1000");
    assert.equal(after.length, 899);
    assert.ok(!after.includes("key:5"));
    assert.equal(t.amber.server.dbs[0].dict.size, 899);
    // An unknown or stale cursor restarts the walk rather than failing.
    const [, some] = await call(c, "SCAN", "123456789012", "COUNT", "2000") as [string, string[]];
    assert.equal(some.length, 899);
    assert.match(await c.call("SCAN", ""), /^\*2\r\n/);
  } finally {
    await t.stop();
  }
});

Deno.test("keys: RANDOMKEY returns live keys, never expired ones, in O(1)-ish time", async () => {
  const t = await startAmber();
  try {
    const c = await t.client();
    assert.equal(await c.call("RANDOMKEY"), "$-1\r\n");
    assert.equal(
      await c.call("RANDOMKEY", "x"),
      "-ERR wrong number of arguments for 'randomkey' command\r\n",
    );
    await c.call("MSET", "a", "1", "b", "2", "c", "3");
    const got = new Set<string>();
    for (let i = 0; i < 200; i++) got.add(await call(c, "RANDOMKEY") as string);
    assert.deepEqual([...got].sort(), ["a", "b", "c"]);
    await c.call("DEL", "a", "b");
    for (let i = 0; i < 20; i++) assert.equal(await call(c, "RANDOMKEY"), "c");
    await c.call("SET", "d", "4");
    const later = new Set<string>();
    for (let i = 0; i < 300; i++) later.add(await call(c, "RANDOMKEY") as string);
    assert.deepEqual([...later].sort(), ["c", "d"]);
    // All keys volatile and expired: RANDOMKEY reclaims them and answers nil.
    for (const k of ["c", "d"]) await c.call("PEXPIRE", k, "1");
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(await c.call("RANDOMKEY"), "$-1\r\n");
    assert.equal(t.amber.server.dbs[0].dict.size, 0);

    // Many keys: calls stay cheap (no full walk per call), and expired keys never show.
    const server = t.amber.server;
    const fc = server.fakeClient();
    const db = server.dbs[0];
    for (let i = 0; i < 200000; i++) db.set(`k${i}`, "v");
    for (let i = 0; i < 200000; i += 2) db.setExpire(`k${i}`, Date.now() - 1000);
    server.execute(fc, ["RANDOMKEY"]); // builds the sample once
    const t0 = performance.now();
    for (let i = 0; i < 2000; i++) {
      const out = server.execute(fc, ["RANDOMKEY"]);
      const key = out.slice(out.indexOf("\r\n") + 2, -2);
      assert.equal(Number(key.slice(1)) % 2, 1, `expired key ${key} returned`);
    }
    const per = (performance.now() - t0) / 2000;
    assert.ok(per < 1, `RANDOMKEY took ${per.toFixed(3)} ms per call`);
  } finally {
    await t.stop();
  }
});

Deno.test("keys: propagation and keyspace notifications", async () => {
  const t = await startAmber();
  try {
    const server = t.amber.server;
    const ops: PropagatedOp[] = [];
    server.addFeed((batch) => ops.push(...batch));
    const events: string[] = [];
    server.onNotify((cls, event, key, db) => events.push(`${cls}:${event}:${key}:${db}`));
    const c = await t.client();
    const run = async (...argv: string[]) => {
      ops.length = 0;
      events.length = 0;
      await c.call(...argv);
      return ops.map((o) => `${o.db}:${o.argv.join(" ")}`);
    };
    await run("MSET", "a", "1", "b", "2");
    assert.deepEqual(await run("DEL", "a", "nokey"), ["0:DEL a nokey"]);
    assert.deepEqual(events, ["g:del:a:0"]);
    assert.deepEqual(await run("DEL", "nokey"), []);
    assert.deepEqual(await run("UNLINK", "b"), ["0:UNLINK b"]);
    await run("SET", "s", "v");
    assert.deepEqual(await run("RENAME", "s", "t"), ["0:RENAME s t"]);
    assert.deepEqual(events, ["g:rename_from:s:0", "g:rename_to:t:0"]);
    assert.deepEqual(await run("RENAME", "t", "t"), []);
    assert.deepEqual(await run("MOVE", "t", "3"), ["0:MOVE t 3"]);
    assert.deepEqual(events, ["g:move_from:t:0", "g:move_to:t:3"]);
    await run("SET", "x", "v");
    assert.deepEqual(await run("COPY", "x", "y", "DB", "2"), ["0:COPY x y DB 2"]);
    assert.deepEqual(events, ["g:copy_to:y:2"]);
    assert.deepEqual(await run("COPY", "x", "y", "DB", "2"), []);
    assert.deepEqual(await run("TOUCH", "x"), []);
    // A key that expired meanwhile is propagated as DEL when a command finds it.
    await run("SET", "e", "v", "PX", "1");
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(await run("EXISTS", "e"), ["0:DEL e"]);
    assert.deepEqual(events, ["x:expired:e:0"]);
  } finally {
    await t.stop();
  }
});
