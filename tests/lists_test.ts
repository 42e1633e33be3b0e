/**
 * The list commands against redis-server 7.0, byte for byte: every command, option and
 * error, RESP2 and RESP3 null forms, and randomized fixed-seed command sequences.
 * Also the propagated forms (via the server's feed) and the ioredis/node-redis view.
 */
import assert from "node:assert/strict";
import type { RawClient } from "./helpers/resp_client.ts";
import { compareScript, type Pair, startPair, type Step } from "./helpers/differential.ts";
import type { ListValue } from "../src/types/list.ts";
import { skipWithoutRedis, startAmber } from "./helpers/servers.ts";
import type { PropagatedOp } from "../src/server/server.ts";
import { prng as rng } from "./helpers/prng.ts";

const ignore = skipWithoutRedis();

const s = (line: string): Step => line.split(" ");

async function differential(
  steps: Step[],
  args: string[] = [],
  resp3 = false,
  after?: (pair: Pair, redis: RawClient) => Promise<void>,
): Promise<void> {
  const pair = await startPair(args);
  try {
    const [r, a] = await pair.clients();
    // HELLO's reply carries the client id, which differs: not compared.
    if (resp3) await Promise.all([r.call("hello", "3"), a.call("hello", "3")]);
    for (let i = 0; i < steps.length; i += 1) {
      try {
        await compareScript(r, a, [steps[i]]);
      } catch (e) {
        throw new Error(`step ${i} ${JSON.stringify(steps[i])}: ${(e as Error).message}`);
      }
    }
    if (after) await after(pair, r);
  } finally {
    await pair.stop();
  }
}

Deno.test({
  name: "pushes, LLEN, LRANGE, LINDEX, LSET, LINSERT match Redis",
  ignore,
  async fn() {
    await differential([
      s("lpush l a b c"),
      s("rpush l d e f"),
      s("lrange l 0 -1"),
      s("llen l"),
      s("llen nokey"),
      s("lpushx nokey a"),
      s("rpushx nokey a"),
      s("exists nokey"),
      s("lpushx l x y"),
      s("rpushx l z"),
      s("lrange l 0 -1"),
      s("object encoding l"),
      s("type l"),
      s("lrange l 2 4"),
      s("lrange l -3 -1"),
      s("lrange l -100 100"),
      s("lrange l 5 2"),
      s("lrange l 100 200"),
      s("lrange l -1 -100"),
      s("lrange l 0 0"),
      s("lrange l a 1"),
      s("lrange l 1 b"),
      s("lrange l 1.5 2"),
      s("lrange nokey 0 -1"),
      s("lrange nokey x 1"),
      s("lrange l 9223372036854775807 -9223372036854775808"),
      s("lrange l -9223372036854775808 9223372036854775807"),
      s("lrange l 0 9223372036854775808"),
      s("lindex l 0"),
      s("lindex l -1"),
      s("lindex l 100"),
      s("lindex l -100"),
      s("lindex l x"),
      s("lindex nokey x"),
      s("lindex nokey 0"),
      s("lset l 0 first"),
      s("lset l -1 last"),
      s("lset l 100 x"),
      s("lset l -100 x"),
      s("lset l x y"),
      s("lset nokey 0 x"),
      s("lset nokey x y"),
      s("lrange l 0 -1"),
      s("linsert l before first new0"),
      s("linsert l after last newN"),
      s("linsert l AFTER b mid"),
      s("linsert l BeFoRe b mid2"),
      s("linsert l before missing x"),
      s("linsert l middle b x"),
      s("linsert nokey before a b"),
      s("linsert nokey middle a b"),
      s("lrange l 0 -1"),
      s("set str hello"),
      s("lpush str a"),
      s("rpush str a"),
      s("lpushx str a"),
      s("rpushx str a"),
      s("llen str"),
      s("lrange str 0 -1"),
      s("lindex str 0"),
      s("lset str 0 a"),
      s("linsert str before a b"),
      s("lpush"),
      s("lpush l"),
      s("rpushx l"),
      s("llen"),
      s("llen a b"),
      s("lrange l 0"),
      s("lindex l"),
      s("lset l 0"),
      s("linsert l before a"),
      ["rpush", "bin", "\x00\x01\xff", "", "\r\n", "caf\xe9"],
      ["lrange", "bin", "0", "-1"],
      ["linsert", "bin", "before", "", "empty-pivot"],
      ["lrange", "bin", "0", "-1"],
      s("rpush ints 1 2 3 -1 0 9223372036854775807 -9223372036854775808 18446744073709551616 01"),
      s("lrange ints 0 -1"),
      s("lindex ints 5"),
      // COPY deep-copies (value.clone()); RENAME moves the object.
      s("copy ints ints2"),
      s("rpush ints2 copied"),
      s("lrange ints -2 -1"),
      s("lrange ints2 -2 -1"),
      s("object encoding ints2"),
      s("rename ints2 ints3"),
      s("lrange ints3 -1 -1"),
      s("type ints3"),
    ]);
  },
});

Deno.test({
  name: "pops with and without COUNT, LPOS, LREM, LTRIM match Redis",
  ignore,
  async fn() {
    await differential([
      s("rpush l a b c d e f g h"),
      s("lpop l"),
      s("rpop l"),
      s("lpop l 2"),
      s("rpop l 2"),
      s("lpop l 0"),
      s("rpop l 0"),
      s("lpop l 100"),
      s("exists l"),
      s("lpop l"),
      s("lpop l 1"),
      s("rpop l 0"),
      s("lpop l -1"),
      s("lpop l x"),
      s("lpop l 1 2"),
      s("rpop l 1 2 3"),
      s("lpop"),
      s("rpush l a b"),
      s("lpop l 9223372036854775807"),
      s("rpush l a b"),
      s("rpop l 9223372036854775808"),
      s("set str x"),
      s("lpop str"),
      s("rpop str 1"),
      s("lpop str -1"),
      s("lpop str 0"),
      // LPOS
      s("rpush p a b c 1 2 3 c c"),
      s("lpos p c"),
      s("lpos p c rank 2"),
      s("lpos p c rank -1"),
      s("lpos p c rank -3"),
      s("lpos p c rank -4"),
      s("lpos p c rank 4"),
      s("lpos p c count 0"),
      s("lpos p c count 2"),
      s("lpos p c count 2 rank 2"),
      s("lpos p c count 0 rank -1"),
      s("lpos p c count 1 rank -2"),
      s("lpos p c maxlen 3"),
      s("lpos p c maxlen 4"),
      s("lpos p c maxlen 2 count 0"),
      s("lpos p c maxlen 7 count 0 rank -1"),
      s("lpos p c maxlen 1 rank -1"),
      s("lpos p z"),
      s("lpos p z count 0"),
      s("lpos p 1 RANK 1 COUNT 1 MAXLEN 0"),
      s("lpos p c rank 0"),
      s("lpos p c rank x"),
      s("lpos p c rank -9223372036854775808"),
      s("lpos p c rank -9223372036854775808 count 1"),
      s("lpos p c rank -9223372036854775808 count 2"),
      s("lpos p c rank 9223372036854775807"),
      s("lpos p c count -1"),
      s("lpos p c count x"),
      s("lpos p c maxlen -1"),
      s("lpos p c maxlen x"),
      s("lpos p c rank"),
      s("lpos p c count"),
      s("lpos p c foo 1"),
      s("lpos p c rank 1 rank 2"),
      s("lpos nokey c"),
      s("lpos nokey c count 1"),
      s("lpos nokey c rank 0"),
      s("lpos str c"),
      s("lpos str c count 1"),
      s("lpos str c rank 0"),
      // LREM
      s("rpush r a b a c a d a"),
      s("lrem r 2 a"),
      s("lrange r 0 -1"),
      s("lrem r -1 a"),
      s("lrange r 0 -1"),
      s("lrem r 0 a"),
      s("lrange r 0 -1"),
      s("lrem r 0 zz"),
      s("lrem r 0 b"),
      s("lrem r -5 c"),
      s("lrem r 1 d"),
      s("exists r"),
      s("lrem r 1 d"),
      s("lrem r x d"),
      s("lrem nokey x d"),
      s("lrem str 0 x"),
      s("lrem str x x"),
      // LTRIM
      s("rpush t 0 1 2 3 4 5 6 7 8 9"),
      s("ltrim t 1 -2"),
      s("lrange t 0 -1"),
      s("ltrim t 0 -1"),
      s("ltrim t -3 100"),
      s("lrange t 0 -1"),
      s("ltrim t 2 1"),
      s("exists t"),
      s("rpush t a b c"),
      s("ltrim t 5 10"),
      s("exists t"),
      s("ltrim t 0 1"),
      s("ltrim t x 1"),
      s("ltrim nokey x 1"),
      s("ltrim str 0 1"),
      s("ltrim str x 1"),
    ]);
  },
});

Deno.test({
  name: "RPOPLPUSH, LMOVE, LMPOP and the blocking forms served at once match Redis",
  ignore,
  async fn() {
    await differential([
      s("rpush src a b c d"),
      s("rpoplpush src dst"),
      s("lmove src dst left right"),
      s("lmove src dst RIGHT LEFT"),
      s("lmove src dst LeFt lEfT"),
      s("lrange src 0 -1"),
      s("lrange dst 0 -1"),
      s("lmove src dst up left"),
      s("lmove src dst left down"),
      s("lmove nokey dst left left"),
      s("lmove nokey dst up left"),
      s("rpoplpush nokey dst"),
      s("rpoplpush dst dst"),
      s("lmove dst dst left right"),
      s("lrange dst 0 -1"),
      s("rpush one x"),
      s("rpoplpush one one"),
      s("lrange one 0 -1"),
      s("lmove one other left left"),
      s("exists one"),
      s("set str v"),
      s("rpoplpush str dst"),
      s("rpoplpush dst str"),
      s("lmove dst str left left"),
      s("lmove str dst left left"),
      s("rpoplpush nokey str"),
      s("lrange dst 0 -1"),
      // LMPOP
      s("rpush m1 a b c d e"),
      s("lmpop 1 m1 left"),
      s("lmpop 1 m1 right"),
      s("lmpop 1 m1 left count 2"),
      s("lmpop 1 m1 right count 10"),
      s("exists m1"),
      s("lmpop 2 nokey m1 left"),
      s("rpush m2 x y z"),
      s("lmpop 3 nokey m1 m2 right count 2"),
      s("lmpop 2 str m2 left"),
      s("lmpop 2 m2 str left"),
      s("lmpop 0 m2 left"),
      s("lmpop -1 m2 left"),
      s("lmpop x m2 left"),
      s("lmpop 2 m2 left"),
      s("lmpop 1 m2 up"),
      s("lmpop 1 m2 left count"),
      s("lmpop 1 m2 left count 0"),
      s("lmpop 1 m2 left count -1"),
      s("lmpop 1 m2 left count x"),
      s("lmpop 1 m2 left count 1 count 1"),
      s("lmpop 1 m2 left foo"),
      s("lmpop 1 m2 LEFT COUNT 9223372036854775807"),
      s("lmpop 9223372036854775807 m2 left"),
      s("lmpop 1 m2"),
      s("lmpop 1"),
      s("lmpop 1 nokey left"),
      // Blocking forms with data ready: answered at once.
      s("rpush b1 a b c"),
      s("rpush b2 x y z"),
      s("blpop b1 0"),
      s("brpop b1 0"),
      s("blpop nokey b2 0"),
      s("brpop nokey b2 1"),
      s("blpop nokey str 1"),
      s("blpop str b2 1"),
      s("blpop b2 str 1"),
      s("rpush b2 1 2 3 4 5 6 7 8 9"),
      s("blpop b2 x"),
      s("blpop b2 -1"),
      s("blpop b2 inf"),
      s("blpop b2 1e30"),
      s("blpop b2 0x10"),
      s("blpop b2 nan"),
      s("blpop b2 1e"),
      s("blpop b2"),
      s("rpush b3 1 2 3 4"),
      s("blmpop 0 1 b3 left count 2"),
      s("blmpop 0 2 nokey b3 right count 5"),
      s("blmpop 0 1 str left"),
      s("blmpop x 1 b3 left"),
      s("blmpop -1 1 b3 left"),
      s("blmpop 0 0 b3 left"),
      s("blmpop 0 1 b3 up"),
      s("blmpop 0 1 b3 left count 0"),
      s("blmpop x 0 b3 left"),
      s("blmpop 0 1 b3"),
      s("rpush b4 p q r"),
      s("brpoplpush b4 d4 0"),
      s("blmove b4 d4 left left 0"),
      s("blmove b4 d4 right right 0.5"),
      s("lrange d4 0 -1"),
      s("brpoplpush str d4 0"),
      s("brpoplpush d4 str 0"),
      s("blmove d4 str left left 0"),
      s("blmove d4 d4 up left 0"),
      s("blmove d4 d4 left left x"),
      s("blmove d4 d4 left left -1"),
      s("brpoplpush d4 d4 x"),
      s("brpoplpush d4 d4 -1"),
      s("lrange d4 0 -1"),
    ]);
  },
});

Deno.test({
  name: "RESP3 null and array forms match Redis",
  ignore,
  async fn() {
    await differential(
      [
        s("lpop nokey"),
        s("lpop nokey 1"),
        s("lpop nokey 0"),
        s("rpush l a b c"),
        s("lpop l 0"),
        s("rpop l 2"),
        s("lindex l 5"),
        s("lindex nokey 0"),
        s("lpos l zz"),
        s("lpos l zz count 0"),
        s("lpos nokey zz"),
        s("lmpop 1 nokey left"),
        s("lmpop 1 l left"),
        s("rpoplpush nokey x"),
        s("lmove nokey x left left"),
        s("rpush l d e f"),
        s("blpop l 0"),
        s("blpop nokey 0.01"),
        s("brpop nokey 0.01"),
        s("blmpop 0.01 1 nokey left"),
        s("blmove nokey x left left 0.01"),
        s("brpoplpush nokey x 0.01"),
        s("lrange nokey 0 -1"),
      ],
      [],
      true,
    );
  },
});

/**
 * A fixed-seed random sequence over a few keys. The blocking forms use tiny timeouts,
 * so an empty key costs one short wait.
 */
function randomSteps(seed: number, n: number): Step[] {
  const rand = rng(seed);
  const keys = ["k1", "k2", "k3", "str"];
  const vals = ["a", "b", "c", "1", "22", "-5", "x".repeat(70), ""];
  const pick = <T>(a: T[]): T => a[Math.floor(rand() * a.length)];
  const int = () => String(Math.floor(rand() * 14) - 7);
  const side = () => pick(["left", "right", "LEFT", "Right", "middle"]);
  const gens: (() => Step)[] = [
    () => [
      "lpush",
      pick(keys),
      ...Array.from({ length: 1 + Math.floor(rand() * 4) }, () => pick(vals)),
    ],
    () => [
      "rpush",
      pick(keys),
      ...Array.from({ length: 1 + Math.floor(rand() * 4) }, () => pick(vals)),
    ],
    () => ["lpushx", pick(keys), pick(vals)],
    () => ["rpushx", pick(keys), pick(vals)],
    () => ["lpop", pick(keys)],
    () => ["rpop", pick(keys), pick([int(), "0", "1", "3", "x"])],
    () => ["llen", pick(keys)],
    () => ["lrange", pick(keys), int(), int()],
    () => ["lindex", pick(keys), pick([int(), "x"])],
    () => ["lset", pick(keys), int(), pick(vals)],
    () => ["linsert", pick(keys), pick(["before", "after", "x"]), pick(vals), pick(vals)],
    () => ["lrem", pick(keys), int(), pick(vals)],
    () => ["ltrim", pick(keys), int(), int()],
    () => [
      "lpos",
      pick(keys),
      pick(vals),
      "rank",
      pick([int(), "1"]),
      "count",
      pick(["0", "1", "2"]),
    ],
    () => ["lpos", pick(keys), pick(vals), "maxlen", pick(["0", "1", "3"])],
    () => ["rpoplpush", pick(keys), pick(keys)],
    () => ["lmove", pick(keys), pick(keys), side(), side()],
    () => ["lmpop", "2", pick(keys), pick(keys), side(), "count", pick(["1", "2", "5", "0"])],
    () => ["blpop", pick(keys), pick(keys), "0.01"],
    () => ["brpop", pick(keys), "0.01"],
    () => ["blmove", pick(keys), pick(keys), side(), side(), "0.01"],
    () => ["blmpop", "0.01", "1", pick(keys), side()],
    () => ["set", "str", pick(vals)],
    () => ["del", pick(keys)],
    () => ["lrange", pick(keys), "0", "-1"],
  ];
  const steps: Step[] = [];
  for (let i = 0; i < n; i++) {
    const g = pick(gens)();
    steps.push(g);
    if (i % 10 === 0) { for (const k of keys) steps.push(["lrange", k, "0", "-1"]); }
  }
  return steps;
}

Deno.test({
  name: "randomized list command sequences match Redis (fixed seed)",
  ignore,
  async fn() {
    // hz 100: Redis fires the tiny blocking timeouts within 10 ms instead of 100.
    await differential(randomSteps(20240607, 1200), ["--hz", "100"]);
  },
});

/** Node count and listpack bytes of every list equal Redis's (DEBUG OBJECT). */
async function sameNodes(pair: Pair, r: RawClient): Promise<void> {
  let checked = 0;
  for (const [key, v] of pair.amber.amber.server.dbs[0].dict) {
    if (typeof v === "string" || v.type !== "list") continue;
    const l = v as ListValue;
    const info = await r.call("debug", "object", key);
    const nodes = Number(/ql_nodes:(\d+)/.exec(info)?.[1]);
    const size = Number(/ql_uncompressed_size:(\d+)/.exec(info)?.[1]);
    assert.deepEqual(
      { nodes: l.nodes.length, size: l.nodes.reduce((a, n) => a + n.sz, 0) },
      { nodes, size },
      `quicklist of ${key}`,
    );
    checked++;
  }
  assert.ok(checked > 0);
}

Deno.test({
  name: "randomized sequences over multi-node lists match Redis (fill 3 and -1)",
  ignore,
  async fn() {
    // Tiny nodes exercise node splits, merges and cross-node ranges and removals.
    await differential(
      randomSteps(777, 1000),
      ["--hz", "100", "--list-max-listpack-size", "3"],
      false,
      sameNodes,
    );
    await differential(
      randomSteps(778, 600),
      ["--hz", "100", "--list-max-listpack-size", "-1"],
      false,
      sameNodes,
    );
  },
});

Deno.test({
  name: "list-max-listpack-size is read when a list is created",
  ignore,
  async fn() {
    const big = "v".repeat(500);
    const steps: Step[] = [s("config set list-max-listpack-size 2")];
    for (let i = 0; i < 7; i++) steps.push(["rpush", "l", big]);
    steps.push(s("object encoding l"), s("llen l"), s("config set list-max-listpack-size -5"));
    for (let i = 0; i < 7; i++) steps.push(["lpush", "l", String(i)]);
    steps.push(s("lrange l 0 3"), s("config get list-max-ziplist-size"));
    await differential(steps);
  },
});

Deno.test("list writes propagate in Redis's forms", async () => {
  const t = await startAmber();
  try {
    const ops: string[] = [];
    t.amber.server.addFeed((batch: PropagatedOp[]) => {
      for (const op of batch) ops.push(op.argv.join(" "));
    });
    const c = await t.client();
    const run = async (line: string) => await c.call(...line.split(" "));
    await run("rpush l a b c d e f");
    await run("ltrim l 0 -1"); // nothing removed: not propagated
    await run("ltrim l 0 4");
    await run("lpop l");
    await run("rpop l 1");
    await run("blpop l 0");
    await run("brpop nokey l 0");
    await run("rpush m 1 2 3 4 5");
    await run("lmpop 1 m left count 2");
    await run("lmpop 1 m right count 10");
    await run("rpush m x y");
    await run("blmpop 0 1 m right count 5");
    await run("rpush n p q r");
    await run("brpoplpush n o 0");
    await run("blmove n o left right 0");
    await run("lmove n o right left");
    await run("lrem o 0 zz"); // nothing removed: not propagated
    await run("linsert o before zz yy"); // pivot missing: not propagated
    await run("lset o 0 v");
    await run("lpop nokey");
    await run("lpushx nokey a");
    assert.deepEqual(ops, [
      "rpush l a b c d e f",
      "ltrim l 0 4",
      "lpop l",
      "rpop l 1",
      "LPOP l",
      "RPOP l",
      "rpush m 1 2 3 4 5",
      "LPOP m 2",
      "RPOP m 3",
      "rpush m x y",
      "RPOP m 2",
      "rpush n p q r",
      "RPOPLPUSH n o",
      "LMOVE n o left right",
      "lmove n o right left",
      "lset o 0 v",
    ]);
  } finally {
    await t.stop();
  }
});

Deno.test("ioredis and node-redis see lists as Redis clients expect", async () => {
  const t = await startAmber();
  const { Redis } = await import("ioredis");
  const { createClient } = await import("redis");
  const io = new Redis({ port: t.port, host: "127.0.0.1", lazyConnect: true });
  const nr = createClient({ url: `redis://127.0.0.1:${t.port}` });
  try {
    await io.connect();
    await nr.connect();
    assert.equal(await io.rpush("l", "a", "b", "c"), 3);
    assert.deepEqual(await io.lrange("l", 0, -1), ["a", "b", "c"]);
    assert.deepEqual(await io.lpop("l", 2), ["a", "b"]);
    assert.equal(await io.lpos("l", "c"), 0);
    assert.deepEqual(await nr.lRange("l", 0, -1), ["c"]);
    assert.equal(await nr.lPush("n", ["x", "y"]), 2);
    assert.deepEqual(await nr.lmPop(["nokey", "n"], "LEFT", { COUNT: 5 }), ["n", ["y", "x"]]);
    assert.equal(await nr.lMove("l", "m", "LEFT", "RIGHT"), "c");
    assert.equal(await nr.lLen("m"), 1);
    assert.equal(await io.lindex("m", 0), "c");
  } finally {
    io.disconnect();
    await nr.quit();
    await t.stop();
  }
});

/** Reads replies until none arrives for `quietMs`. */
async function drain(c: RawClient, quietMs = 150): Promise<string[]> {
  const out: string[] = [];
  while (true) {
    try {
      out.push(await c.read(quietMs));
    } catch {
      return out;
    }
  }
}

Deno.test({
  name: "keyspace notifications of list commands match Redis",
  ignore,
  async fn() {
    const pair = await startPair(["--notify-keyspace-events", "KEA"]);
    try {
      const [rs, as] = await pair.clients();
      const [r, a] = await pair.clients();
      await compareScript(rs, as, [s("psubscribe __key*__:*")]);
      const steps = [
        s("rpush l a b c d e f"),
        s("lpush l z"),
        s("lpushx l y"),
        s("rpushx nokey y"),
        s("linsert l before a q"),
        s("linsert l before nope q"),
        s("lset l 0 w"),
        s("lpop l"),
        s("rpop l 2"),
        s("lrem l 1 q"),
        s("lrem l 1 nope"),
        s("ltrim l 0 1"),
        s("ltrim l 0 -1"),
        s("rpoplpush l m"),
        s("lmove l m left right"),
        s("lmove m m left left"),
        s("lmpop 1 m left count 5"),
        s("rpush b 1"),
        s("blpop b 0"),
        s("rpush b 1 2"),
        s("blmpop 0 1 b right count 1"),
        s("blmove b c left left 0"),
        s("brpoplpush c c 0"),
        s("ltrim c 1 0"),
      ];
      await compareScript(r, a, steps);
      const [want, got] = await Promise.all([drain(rs), drain(as)]);
      assert.deepEqual(got, want);
      assert.ok(want.length > 40);
    } finally {
      await pair.stop();
    }
  },
});
