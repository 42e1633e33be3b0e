// Tests for src/commands/expiry.ts: differential scripts against redis-server (EXPIRE
// family options, overflow and error paths, TTL/EXPIRETIME on fixed absolute times),
// real expiry with short PEXPIREs (lazy on access, active for keys nobody reads), and the
// canonical forms written to the propagation feed (PEXPIREAT, DEL).
import assert from "node:assert/strict";
import { compareScript, type Step, withPair } from "./helpers/differential.ts";
import { skipWithoutRedis, startAmber } from "./helpers/servers.ts";
import type { PropagatedOp } from "../src/server/server.ts";

const noRedis = skipWithoutRedis();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Absolute times far in the future, so answers do not depend on the clock. */
const AT_S = "4000000000";
const AT_S2 = "4000000500";
const AT_MS = "4000000000123";

Deno.test({
  name: "expiry: EXPIRE family options, overflow and errors match redis-server",
  ignore: noRedis,
  async fn() {
    await withPair([], async (r, a) => {
      const steps: Step[] = [
        ["EXPIRE", "nokey", "100"],
        ["EXPIRE", "nokey", "abc"],
        ["EXPIRE", "nokey"],
        ["EXPIRE"],
        ["SET", "k", "v"],
        ["EXPIRE", "k", "abc"],
        ["EXPIRE", "k", "1.5"],
        ["EXPIRE", "k", ""],
        ["EXPIRE", "k", "100", "BOGUS"],
        ["EXPIRE", "k", "abc", "BOGUS"],
        ["EXPIRE", "k", "100", "NX", "XX"],
        ["EXPIRE", "k", "100", "NX", "GT"],
        ["EXPIRE", "k", "100", "LT", "NX"],
        ["EXPIRE", "k", "100", "GT", "LT"],
        ["EXPIRE", "k", "100", "XX", "GT", "LT"],
        ["EXPIRE", "k", "100", "NX", "BOGUS"],
        ["EXPIRE", "k", "100", "line\r\nbreak"],
        ["EXPIRE", "k", "100", "nx\0junk"],
        ["TTL", "k"],
        ["PERSIST", "k"],
        ["EXPIRE", "k", "9223372036854775807"],
        ["EXPIRE", "k", "9223372036854775"],
        ["EXPIRE", "k", "9223372036854776"],
        ["EXPIRE", "k", "-9223372036854775"],
        ["EXPIRE", "k", "-9223372036854776"],
        ["EXPIRE", "k", "-9223372036854775808"],
        ["EXISTS", "k"],
        ["SET", "k", "v"],
        ["PEXPIRE", "k", "9223372036854775807"],
        ["PEXPIRE", "k", "9223370000000000000"],
        ["EXPIREAT", "k", "9223372036854776"],
        ["EXPIREAT", "k", "9223372036854775"],
        ["PEXPIREAT", "k", "9223372036854775807"],
        ["PEXPIREAT", "k", "9007199254740991"],
        ["PEXPIRETIME", "k"],
        ["EXPIRETIME", "k"],
        ["PEXPIREAT", "k", "-9223372036854775808"],
        ["EXISTS", "k"],
        ["TTL", "k"],
        ["PTTL", "k"],
        ["EXPIRETIME", "k"],
        ["PEXPIRETIME", "k"],
        ["SET", "k", "v"],
        ["TTL", "k"],
        ["PTTL", "k"],
        ["EXPIRETIME", "k"],
        ["PEXPIRETIME", "k"],
        ["TTL"],
        ["TTL", "k", "x"],
        ["EXPIREAT", "k", AT_S],
        ["TTL", "k"],
        ["EXPIRETIME", "k"],
        ["PEXPIRETIME", "k"],
        ["PEXPIREAT", "k", AT_MS],
        ["EXPIRETIME", "k"],
        ["PEXPIRETIME", "k"],
        ["PERSIST", "k"],
        ["PERSIST", "k"],
        ["PERSIST", "nokey"],
        ["PERSIST"],
        ["TTL", "k"],
        ["EXPIRETIME", "k"],
        ["EXPIRETIME", "nokey"],
        ["PEXPIRETIME", "nokey"],
        ["EXPIRE", "k", "0"],
        ["EXISTS", "k"],
        ["SET", "k", "v"],
        ["EXPIRE", "k", "-1"],
        ["EXISTS", "k"],
        ["SET", "k", "v"],
        ["PEXPIRE", "k", "-100"],
        ["GET", "k"],
        ["SET", "k", "v"],
        ["EXPIREAT", "k", "1"],
        ["GET", "k"],
        ["SET", "k", "v"],
        ["PEXPIREAT", "k", "0"],
        ["GET", "k"],
      ];
      // NX / XX / GT / LT against no TTL, a shorter one and a longer one.
      const flagSets = [[], ["NX"], ["XX"], ["GT"], ["LT"], ["XX", "GT"], ["XX", "LT"], [
        "gt",
        "xx",
      ], ["nx"]];
      const initial: Step[] = [
        ["PERSIST", "f"],
        ["EXPIREAT", "f", AT_S],
      ];
      for (const flags of flagSets) {
        for (const init of initial) {
          for (const when of [AT_S, AT_S2, "3999999999", "1"]) {
            steps.push(["SET", "f", "v"], init);
            steps.push(["EXPIREAT", "f", when, ...flags], ["EXPIRETIME", "f"], ["EXISTS", "f"]);
            steps.push(["SET", "f", "v"], init);
            steps.push(["PEXPIREAT", "f", when + "000", ...flags], ["PEXPIRETIME", "f"]);
          }
          steps.push(["SET", "f", "v"], init);
          steps.push(["EXPIRE", "f", "-5", ...flags], ["EXISTS", "f"]);
          steps.push(["SET", "f", "v"], init);
          steps.push(["EXPIRE", "f", "1000", ...flags], ["TTL", "f"]);
          steps.push(["SET", "f", "v"], init);
          steps.push(["PEXPIRE", "f", "1000000", ...flags], ["TTL", "f"]);
        }
      }
      await compareScript(r, a, steps);
    });
  },
});

Deno.test({
  name: "expiry: keys expire after a short PEXPIRE on both servers",
  ignore: noRedis,
  async fn() {
    await withPair([], async (r, a) => {
      await compareScript(r, a, [
        ["SET", "a", "1"],
        ["SET", "b", "2"],
        ["SET", "c", "3"],
        ["PEXPIRE", "a", "30"],
        ["PEXPIRE", "b", "30"],
        ["SET", "d", "4", "PX", "30"],
        ["PSETEX", "e", "30", "5"],
        ["EXISTS", "a", "b", "c", "d", "e"],
      ]);
      await sleep(80);
      await compareScript(r, a, [
        ["GET", "a"],
        ["EXISTS", "a", "b", "c", "d", "e"],
        ["TTL", "b"],
        ["PTTL", "d"],
        ["TYPE", "e"],
        ["MGET", "a", "b", "c", "d", "e"],
        ["KEYS", "*"],
        ["INCR", "b"],
        ["APPEND", "d", "x"],
        ["GET", "d"],
        ["TTL", "d"],
        ["RENAME", "e", "f"],
        ["PERSIST", "c"],
        ["EXPIRE", "a", "100"],
      ]);
    });
  },
});

Deno.test("expiry: TTL and PTTL count down; PERSIST keeps the key", async () => {
  const t = await startAmber();
  try {
    const c = await t.client();
    await c.call("SET", "k", "v");
    assert.equal(await c.call("PEXPIRE", "k", "2000"), ":1\r\n");
    const pttl = Number((await c.call("PTTL", "k")).slice(1));
    assert.ok(pttl > 1900 && pttl <= 2000, `pttl ${pttl}`);
    assert.equal(await c.call("TTL", "k"), ":2\r\n");
    await sleep(600);
    const ttl = await c.call("TTL", "k");
    assert.ok(ttl === ":1\r\n" || ttl === ":2\r\n", ttl);
    assert.equal(await c.call("PERSIST", "k"), ":1\r\n");
    assert.equal(await c.call("TTL", "k"), ":-1\r\n");
    await c.call("PEXPIRE", "k", "50");
    await sleep(100);
    assert.equal(await c.call("TTL", "k"), ":-2\r\n");
    assert.equal(await c.call("PERSIST", "k"), ":0\r\n");
    // SET without KEEPTTL drops the TTL; KEEPTTL, APPEND, INCR, SETRANGE keep it.
    await c.call("SET", "k", "1", "EX", "100");
    await c.call("SET", "k", "2");
    assert.equal(await c.call("TTL", "k"), ":-1\r\n");
    await c.call("EXPIRE", "k", "100");
    for (
      const cmd of [["SET", "k", "3", "KEEPTTL"], ["APPEND", "k", "1"], ["INCR", "k"], [
        "SETRANGE",
        "k",
        "0",
        "9",
      ], ["INCRBYFLOAT", "k", "1.5"]]
    ) {
      await c.call(...cmd);
      assert.equal(await c.call("TTL", "k"), ":100\r\n", cmd.join(" "));
    }
  } finally {
    await t.stop();
  }
});

Deno.test("expiry: active expiry reclaims keys nobody reads", async () => {
  const t = await startAmber();
  try {
    const c = await t.client();
    const server = t.amber.server;
    const n = 500;
    // Paused while the keys are created, so a slow machine cannot expire them early.
    assert.equal(await c.call("DEBUG", "SET-ACTIVE-EXPIRE", "0"), "+OK\r\n");
    for (let i = 0; i < n; i++) await c.call("SET", `v:${i}`, "x", "PX", "50");
    await c.call("SET", "keep", "x");
    await c.call("SET", "later", "x", "EX", "1000");
    assert.equal(server.dbs[0].dict.size, n + 2);
    await sleep(60);
    assert.equal(server.dbs[0].dict.size, n + 2, "nothing reads them: only active expiry can");
    assert.equal(await c.call("DEBUG", "SET-ACTIVE-EXPIRE", "1"), "+OK\r\n");
    const expiredBefore = server.stats.expiredKeys;
    const deadline = Date.now() + 5000;
    while (server.dbs[0].dict.size > 2 && Date.now() < deadline) await sleep(50);
    assert.equal(server.dbs[0].dict.size, 2);
    assert.equal(server.stats.expiredKeys - expiredBefore, n);
    assert.equal(server.dbs[0].expires.size, 1);
    if (server.commands.has("dbsize")) assert.equal(await c.call("DBSIZE"), ":2\r\n");
  } finally {
    await t.stop();
  }
});

Deno.test("expiry: propagation uses PEXPIREAT and DEL", async () => {
  const t = await startAmber();
  try {
    const server = t.amber.server;
    const ops: PropagatedOp[] = [];
    server.addFeed((batch) => ops.push(...batch));
    const events: string[] = [];
    server.onNotify((cls, event, key) => events.push(`${cls}:${event}:${key}`));
    const c = await t.client();
    const run = async (...argv: string[]) => {
      ops.length = 0;
      events.length = 0;
      await c.call(...argv);
      return ops.map((o) => o.argv);
    };
    await run("SET", "k", "v");
    const before = Date.now();
    let p = await run("EXPIRE", "k", "100");
    assert.equal(p.length, 1);
    assert.equal(p[0][0], "PEXPIREAT");
    assert.equal(p[0][1], "k");
    assert.ok(Math.abs(Number(p[0][2]) - (before + 100000)) < 2000);
    assert.deepEqual(events, ["g:expire:k"]);
    p = await run("PEXPIRE", "k", "200000", "GT");
    assert.deepEqual([p[0][0], p[0][1], p[0][3]], ["PEXPIREAT", "k", "GT"]);
    assert.ok(Math.abs(Number(p[0][2]) - (before + 200000)) < 2000);
    p = await run("EXPIREAT", "k", AT_S);
    assert.deepEqual(p, [["PEXPIREAT", "k", AT_S + "000"]]);
    p = await run("pexpireat", "k", AT_MS, "xx");
    assert.deepEqual(p, [["pexpireat", "k", AT_MS, "xx"]]);
    p = await run("EXPIRE", "k", "100", "NX");
    assert.deepEqual(p, []);
    p = await run("EXPIRE", "nokey", "100");
    assert.deepEqual(p, []);
    p = await run("PERSIST", "k");
    assert.deepEqual(p, [["PERSIST", "k"]]);
    assert.deepEqual(events, ["g:persist:k"]);
    p = await run("PERSIST", "k");
    assert.deepEqual(p, []);
    p = await run("TTL", "k");
    assert.deepEqual(p, []);
    const d0 = server.dirty;
    p = await run("EXPIRE", "k", "-1");
    assert.deepEqual(p, [["DEL", "k"]]);
    assert.deepEqual(events, ["g:del:k"]);
    assert.equal(server.dirty - d0, 1);
    await run("SET", "k", "v");
    p = await run("PEXPIREAT", "k", "1");
    assert.deepEqual(p, [["DEL", "k"]]);
    // Expiry by time (lazy or active) also becomes a DEL, with an "expired" event.
    await run("SET", "k", "v", "PX", "1");
    ops.length = 0;
    events.length = 0;
    await sleep(300);
    assert.deepEqual(ops.map((o) => o.argv), [["DEL", "k"]]);
    assert.deepEqual(events, ["x:expired:k"]);
  } finally {
    await t.stop();
  }
});

Deno.test("expiry: SET EX rewrites a key's TTL in place; SET drops it; KEEPTTL keeps it", async () => {
  const t = await startAmber();
  try {
    const db = t.amber.server.dbs[0];
    const c = await t.client();
    assert.equal(await c.call("SET", "k", "v", "EX", "100"), "+OK\r\n");
    assert.equal(await c.call("TTL", "k"), ":100\r\n");
    assert.equal(await c.call("SET", "k", "w", "EX", "200"), "+OK\r\n");
    assert.equal(await c.call("TTL", "k"), ":200\r\n");
    assert.equal(db.expires.size, 1);
    assert.equal(await c.call("SET", "k", "x", "KEEPTTL"), "+OK\r\n");
    assert.equal(await c.call("TTL", "k"), ":200\r\n");
    assert.equal(await c.call("SET", "k", "y"), "+OK\r\n");
    assert.equal(await c.call("TTL", "k"), ":-1\r\n");
    assert.equal(db.expires.size, 0);
    // Churn: every key rewritten with a new TTL many times, then read back.
    for (let round = 1; round <= 5; round++) {
      for (let i = 0; i < 200; i++) {
        await c.call("SET", `c:${i}`, `v${round}`, "PX", String(1000000 * round + i));
      }
    }
    assert.equal(db.expires.size, 200);
    assert.equal(db.dict.size, 201);
    for (const i of [0, 77, 199]) {
      const pttl = Number((await c.call("PTTL", `c:${i}`)).slice(1));
      assert.ok(pttl > 5000000 + i - 2000 && pttl <= 5000000 + i, `PTTL c:${i} = ${pttl}`);
      assert.equal(await c.call("GET", `c:${i}`), "$2\r\nv5\r\n");
    }
    assert.equal(
      await c.call("SET", "c:5", "z", "EX", "0"),
      "-ERR invalid expire time in 'set' command\r\n",
    );
    assert.equal(await c.call("GET", "c:5"), "$2\r\nv5\r\n");
  } finally {
    await t.stop();
  }
});
