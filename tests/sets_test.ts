// Tests for src/commands/sets.ts: differential scripts against redis-server (every
// command, option and error, RESP2 and RESP3, encodings at the intset thresholds, the
// deterministic reply orders of intsets and of the temporary sets SUNION/SDIFF/SPOP
// build), a fixed-seed random command sequence, the random commands' properties,
// propagation (SPOP as SREM/DEL), keyspace events, and an ioredis round trip.
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { compareEvents, withPair } from "./helpers/differential.ts";
import { type RawClient, replyLength } from "./helpers/resp_client.ts";
import { skipWithoutRedis, startAmber } from "./helpers/servers.ts";
import { prng } from "./helpers/prng.ts";
import { effectsRecorder } from "./helpers/effects.ts";

const noRedis = skipWithoutRedis();

/** The header and the top-level elements of an aggregate reply (raw, each complete). */
function elements(raw: string): { header: string; items: string[] } {
  const nl = raw.indexOf("\r\n");
  const header = raw.slice(0, nl + 2);
  const items: string[] = [];
  let p = nl + 2;
  while (p < raw.length) {
    const n = replyLength(raw, p);
    items.push(raw.slice(p, p + n));
    p += n;
  }
  return { header, items };
}

/** An aggregate reply with its elements sorted, nested ones too: for hash order. */
function sortedReply(raw: string): string {
  if (!"*~%".includes(raw[0]) || raw.startsWith("*-1")) return raw;
  const { header, items } = elements(raw);
  return header + items.map(sortedReply).sort().join("");
}

function bulkText(item: string): string {
  const nl = item.indexOf("\r\n");
  return item.slice(nl + 2, item.length - 2);
}

/** Decoded bulk strings of a flat array reply. */
function bulks(raw: string): string[] {
  return elements(raw).items.map((it) => {
    const nl = it.indexOf("\r\n");
    return it.slice(nl + 2, it.length - 2);
  });
}

/** A step whose reply is in hash order: compared with its elements sorted. */
interface Unordered {
  unordered: string[];
}
type SetStep = string[] | Unordered;

function U(...argv: string[]): Unordered {
  return { unordered: argv };
}

async function compare(r: RawClient, a: RawClient, steps: SetStep[]): Promise<string[]> {
  const out: string[] = [];
  for (const s of steps) {
    const argv = Array.isArray(s) ? s : s.unordered;
    const [rr, ar] = await Promise.all([r.call(...argv), a.call(...argv)]);
    if (Array.isArray(s)) assert.equal(ar, rr, `reply to ${JSON.stringify(argv)} differs`);
    else assert.equal(sortedReply(ar), sortedReply(rr), `reply to ${JSON.stringify(argv)} differs`);
    out.push(rr);
  }
  return out;
}

/** Every element a full SSCAN walk returns, sorted. */
/** SSCAN calls made by fullScan per client (each one a keyspace hit). */
const scanCalls = new Map<RawClient, number>();

async function fullScan(c: RawClient, key: string, extra: string[] = []): Promise<string[]> {
  let cursor = "0";
  const seen: string[] = [];
  do {
    scanCalls.set(c, (scanCalls.get(c) ?? 0) + 1);
    const raw = await c.call("SSCAN", key, cursor, ...extra);
    const { items } = elements(raw);
    cursor = bulks(items[0].replace(/^\$/, "*1\r\n$"))[0];
    seen.push(...bulks(items[1]));
  } while (cursor !== "0");
  return [...new Set(seen)].sort();
}

Deno.test({
  name: "sets: single-key commands, errors and encodings match redis-server",
  ignore: noRedis,
  async fn() {
    await withPair([], async (r, a) => {
      await compare(r, a, [
        ["SADD", "s", "3", "1", "2"],
        ["SADD", "s", "2", "4"],
        ["SADD", "s", "4"],
        ["SMEMBERS", "s"],
        ["OBJECT", "ENCODING", "s"],
        ["SCARD", "s"],
        ["SCARD", "nokey"],
        ["SISMEMBER", "s", "1"],
        ["SISMEMBER", "s", "9"],
        ["SISMEMBER", "s", "01"],
        ["SISMEMBER", "nokey", "1"],
        ["SMISMEMBER", "s", "1", "9", "2", "x"],
        ["SMISMEMBER", "nokey", "a", "b"],
        ["SREM", "s", "1", "9"],
        ["SREM", "s", "9"],
        ["SREM", "nokey", "a"],
        ["SMEMBERS", "s"],
        ["SADD", "s", "a"],
        ["OBJECT", "ENCODING", "s"],
        U("SMEMBERS", "s"),
        ["COPY", "s", "s2"],
        ["OBJECT", "ENCODING", "s2"],
        U("SMEMBERS", "s2"),
        ["SREM", "s", "2", "3", "4", "a", "zz"],
        ["EXISTS", "s"],
        ["SCARD", "s2"],
        ["SADD", "ci", "3", "1"],
        ["COPY", "ci", "ci2"],
        ["SADD", "ci2", "2"],
        ["SMEMBERS", "ci"],
        ["SMEMBERS", "ci2"],
        ["OBJECT", "ENCODING", "ci2"],
        ["TYPE", "ci2"],
        ["SMEMBERS", "nokey"],
        // Members that look like integers but are not canonical.
        ["SADD", "n", "1", "-1", "0"],
        ["OBJECT", "ENCODING", "n"],
        ["SADD", "n", "-0"],
        ["OBJECT", "ENCODING", "n"],
        U("SMEMBERS", "n"),
        ["SADD", "m", "+1"],
        ["OBJECT", "ENCODING", "m"],
        ["SADD", "m2", "007"],
        ["OBJECT", "ENCODING", "m2"],
        ["SADD", "m3", " 7"],
        ["OBJECT", "ENCODING", "m3"],
        // int64 limits in an intset (all three widths), ascending order.
        [
          "SADD",
          "w",
          "9223372036854775807",
          "-9223372036854775808",
          "32767",
          "-32768",
          "32768",
          "2147483647",
          "-2147483649",
          "0",
        ],
        ["SMEMBERS", "w"],
        ["OBJECT", "ENCODING", "w"],
        ["SISMEMBER", "w", "9223372036854775807"],
        ["SISMEMBER", "w", "9223372036854775808"],
        ["SREM", "w", "-9223372036854775808", "9223372036854775808"],
        ["SMEMBERS", "w"],
        ["SADD", "w", "9223372036854775808"],
        ["OBJECT", "ENCODING", "w"],
        // Binary members.
        ["SADD", "b", "\0", "\xff\xfe", "", "a\r\nb"],
        ["SISMEMBER", "b", ""],
        ["SISMEMBER", "b", "\0"],
        ["SCARD", "b"],
        U("SMEMBERS", "b"),
        ["SREM", "b", "\0", ""],
        U("SMEMBERS", "b"),
        // WRONGTYPE everywhere.
        ["SET", "str", "v"],
        ["SADD", "str", "a"],
        ["SREM", "str", "a"],
        ["SMEMBERS", "str"],
        ["SCARD", "str"],
        ["SISMEMBER", "str", "a"],
        ["SMISMEMBER", "str", "a"],
        ["SPOP", "str"],
        ["SPOP", "str", "1"],
        ["SRANDMEMBER", "str"],
        ["SRANDMEMBER", "str", "1"],
        ["SSCAN", "str", "0"],
        ["HSET", "h", "f", "v"],
        ["SADD", "h", "x"],
        ["SCARD", "h"],
        // Arity (checked centrally) and syntax.
        ["SADD", "s"],
        ["SREM", "s"],
        ["SMEMBERS"],
        ["SMEMBERS", "a", "b"],
        ["SISMEMBER", "s"],
        ["SMISMEMBER", "s"],
        ["SCARD"],
        ["SPOP"],
        ["SRANDMEMBER"],
        ["SMOVE", "a", "b"],
        ["SSCAN", "s"],
        ["SPOP", "s", "1", "2"],
        ["SPOP", "nokey", "1", "2"],
        ["SRANDMEMBER", "s", "1", "2"],
        ["SRANDMEMBER", "nokey", "1", "2"],
      ]);
    });
  },
});

Deno.test({
  name: "sets: SPOP / SRANDMEMBER errors and deterministic replies match redis-server",
  ignore: noRedis,
  async fn() {
    await withPair([], async (r, a) => {
      await compare(r, a, [
        ["SADD", "s", "5", "3", "1"],
        ["SPOP", "s", "-1"],
        ["SPOP", "s", "abc"],
        ["SPOP", "s", "9223372036854775808"],
        ["SPOP", "nokey", "-1"],
        ["SPOP", "nokey"],
        ["SPOP", "nokey", "0"],
        ["SPOP", "nokey", "5"],
        ["SPOP", "s", "0"],
        ["SRANDMEMBER", "s", "abc"],
        ["SRANDMEMBER", "s", "-0"],
        ["SRANDMEMBER", "s", "-9223372036854775808"],
        ["SRANDMEMBER", "nokey", "-9223372036854775808"],
        ["SRANDMEMBER", "s", "9223372036854775807"],
        ["SRANDMEMBER", "s", "-9223372036854775807x"],
        ["SRANDMEMBER", "nokey"],
        ["SRANDMEMBER", "nokey", "5"],
        ["SRANDMEMBER", "nokey", "-5"],
        ["SRANDMEMBER", "nokey", "0"],
        ["SRANDMEMBER", "s", "0"],
        // A count covering the set replies it whole, in intset order.
        ["SRANDMEMBER", "s", "3"],
        ["SRANDMEMBER", "s", "100"],
        ["SADD", "one", "x"],
        ["SRANDMEMBER", "one"],
        ["SRANDMEMBER", "one", "1"],
        ["SRANDMEMBER", "one", "-3"],
        ["SPOP", "one", "1"],
        ["EXISTS", "one"],
        ["SADD", "one", "y"],
        ["SPOP", "one"],
        ["EXISTS", "one"],
        // SPOP of the whole set replies it as SUNION would: sorted for integers, even
        // when the set itself had become a hashtable.
        ["SPOP", "s", "3"],
        ["EXISTS", "s"],
        ["SADD", "m", "a", "10", "-3", "7"],
        ["SREM", "m", "a"],
        ["OBJECT", "ENCODING", "m"],
        U("SRANDMEMBER", "m", "3"),
        ["SPOP", "m", "99"],
        ["EXISTS", "m"],
        // SPOP leaving few elements builds a new set: its encoding follows its content.
        ["SADD", "big", "a", "b", "c", "d", "e", "f", "g", "h", "i", "1", "2"],
      ]);
      // Pop all but one: CASE 3 (remaining * SPOP_MOVE_STRATEGY_MUL <= count) builds the
      // survivor into a new set, an intset if it is an integer. (Popping 9 of 11 is CASE 2,
      // which keeps the hashtable whatever survives, in Redis as here.)
      const [rr, ar] = await Promise.all([
        r.call("SPOP", "big", "10"),
        a.call("SPOP", "big", "10"),
      ]);
      assert.equal(elements(ar).items.length, 10);
      assert.equal(elements(rr).items.length, 10);
      const survivors = bulks(await a.call("SMEMBERS", "big")).sort();
      const popped = bulks(ar).sort();
      assert.deepEqual(
        [...survivors, ...popped].sort(),
        ["1", "2", "a", "b", "c", "d", "e", "f", "g", "h", "i"],
      );
      const allInts = survivors.every((m) => /^\d+$/.test(m));
      assert.equal(
        await a.call("OBJECT", "ENCODING", "big"),
        allInts ? "$6\r\nintset\r\n" : "$9\r\nhashtable\r\n",
      );
      // CASE 2 pops one by one and keeps the set's encoding, even with only integers left.
      await compare(r, a, [
        ["SADD", "ints", "a", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"],
        ["SREM", "ints", "a"],
        ["OBJECT", "ENCODING", "ints"],
        ["SCARD", "ints"],
      ]);
      await Promise.all([r.call("SPOP", "ints", "8"), a.call("SPOP", "ints", "8")]);
      await compare(r, a, [["SCARD", "ints"], ["OBJECT", "ENCODING", "ints"]]);
    });
  },
});

Deno.test({
  name: "sets: SMOVE matches redis-server",
  ignore: noRedis,
  async fn() {
    await withPair([], async (r, a) => {
      await compare(r, a, [
        ["SADD", "src", "1", "2", "a"],
        ["SADD", "dst", "3"],
        ["SMOVE", "src", "dst", "1"],
        ["SMEMBERS", "dst"],
        ["OBJECT", "ENCODING", "dst"],
        ["SMOVE", "src", "dst", "a"],
        ["OBJECT", "ENCODING", "dst"],
        U("SMEMBERS", "dst"),
        ["SMOVE", "src", "dst", "zz"],
        ["SMOVE", "src", "src", "2"],
        ["SMOVE", "src", "src", "9"],
        ["SMOVE", "src", "new", "2"],
        ["EXISTS", "src"],
        ["OBJECT", "ENCODING", "new"],
        ["SMOVE", "dst", "new2", "x"],
        ["SADD", "dst", "x"],
        ["SMOVE", "dst", "new2", "x"],
        ["OBJECT", "ENCODING", "new2"],
        ["SMOVE", "dst", "new", "3"],
        ["SMOVE", "dst", "new", "3"],
        ["SMEMBERS", "new"],
        ["SADD", "new", "3"],
        ["SADD", "dst", "3"],
        ["SMOVE", "dst", "new", "3"],
        ["SMEMBERS", "new"],
        ["SET", "str", "v"],
        ["SMOVE", "nokey", "str", "x"],
        ["SMOVE", "new", "str", "x"],
        ["SMOVE", "new", "str", "2"],
        ["SMOVE", "str", "new", "2"],
        ["SMOVE", "str", "nokey", "2"],
        ["SMOVE", "str", "str", "2"],
        ["SMEMBERS", "new"],
      ]);
    });
  },
});

Deno.test({
  name: "sets: SINTER / SINTERCARD / SUNION / SDIFF and their STORE forms match redis-server",
  ignore: noRedis,
  async fn() {
    await withPair(["--set-max-intset-entries", "16"], async (r, a) => {
      await compare(r, a, [
        ["SADD", "a", "1", "2", "3", "4", "5"],
        ["SADD", "b", "4", "5", "6"],
        ["SADD", "c", "5", "6", "7", "8", "9", "10"],
        ["SINTER", "a", "b"],
        ["SINTER", "a", "b", "c"],
        ["SINTER", "c", "a"],
        ["SINTER", "a", "nokey"],
        ["SINTER", "nokey", "a"],
        ["SINTER", "a", "a"],
        ["SINTER", "a"],
        ["SINTERCARD", "2", "a", "b"],
        ["SINTERCARD", "3", "a", "b", "c"],
        ["SINTERCARD", "1", "c", "LIMIT", "2"],
        ["SINTERCARD", "1", "c", "limit", "0"],
        ["SINTERCARD", "1", "c", "LIMIT", "100"],
        ["SINTERCARD", "1", "c", "LIMIT", "2", "LIMIT", "3"],
        ["SINTERCARD", "2", "a", "nokey"],
        ["SINTERCARD", "0", "a"],
        ["SINTERCARD", "-1", "a"],
        ["SINTERCARD", "abc", "a"],
        ["SINTERCARD", "2", "a"],
        ["SINTERCARD", "1", "a", "LIMIT", "-1"],
        ["SINTERCARD", "1", "a", "LIMIT", "abc"],
        ["SINTERCARD", "1", "a", "LIMIT"],
        ["SINTERCARD", "1", "a", "b"],
        ["SINTERCARD", "1", "nokey", "str"],
        ["SINTERCARD", "9223372036854775808", "a"],
        ["SINTERCARD", "1"],
        ["SUNION", "a", "b", "c"],
        ["SUNION", "a", "nokey"],
        ["SUNION", "nokey"],
        ["SUNION", "nokey", "nokey2"],
        ["SDIFF", "a", "b"],
        ["SDIFF", "a", "b", "c"],
        ["SDIFF", "c", "a", "b"],
        ["SDIFF", "a", "a"],
        ["SDIFF", "b", "a", "a"],
        ["SDIFF", "b", "nokey", "b"],
        ["SDIFF", "nokey", "a"],
        ["SDIFF", "a", "nokey"],
        ["SDIFF", "nokey"],
        ["SINTERSTORE", "d", "a", "b"],
        ["SMEMBERS", "d"],
        ["OBJECT", "ENCODING", "d"],
        ["SINTERSTORE", "d", "a", "nokey"],
        ["EXISTS", "d"],
        ["SINTERSTORE", "d", "nokey"],
        ["SINTERSTORE", "d", "a", "c", "b"],
        ["SMEMBERS", "d"],
        ["SINTERSTORE", "d", "b", "b"],
        ["SUNIONSTORE", "d", "a", "b"],
        ["SMEMBERS", "d"],
        ["SUNIONSTORE", "d", "nokey"],
        ["EXISTS", "d"],
        ["SDIFFSTORE", "d", "a", "b"],
        ["SMEMBERS", "d"],
        ["SDIFFSTORE", "d", "b", "b"],
        ["EXISTS", "d"],
        // STORE overwrites any type and drops the TTL.
        ["SET", "str", "x", "EX", "100"],
        ["SUNIONSTORE", "str", "a"],
        ["TYPE", "str"],
        ["TTL", "str"],
        ["SET", "str", "x"],
        ["SINTER", "a", "str"],
        ["SINTER", "nokey", "str"],
        ["SINTER", "str", "nokey"],
        ["SINTERCARD", "2", "nokey", "str"],
        ["SUNION", "a", "str"],
        ["SDIFF", "str", "a"],
        ["SDIFF", "nokey", "str"],
        ["SINTERSTORE", "d", "a", "str"],
        ["SUNIONSTORE", "d", "str"],
        ["SDIFFSTORE", "d", "a", "str"],
        ["SINTERSTORE", "str", "a", "b"],
        ["TYPE", "str"],
        // Mixed members: hash order, compared sorted; encodings exact.
        ["SADD", "x", "a", "b", "1", "2", "3"],
        U("SINTER", "x", "a"),
        U("SINTER", "a", "x"),
        U("SUNION", "x", "a"),
        U("SDIFF", "x", "a"),
        ["SDIFF", "a", "x"],
        ["SINTERSTORE", "d", "x", "a"],
        ["OBJECT", "ENCODING", "d"],
        ["SMEMBERS", "d"],
        ["SUNIONSTORE", "d", "x", "a"],
        ["OBJECT", "ENCODING", "d"],
        ["SDIFFSTORE", "d", "x", "b"],
        ["OBJECT", "ENCODING", "d"],
        ["SDIFFSTORE", "d", "x", "x", "a"],
        ["SDIFFSTORE", "d", "x", "c", "b", "x"],
        ["EXISTS", "d"],
        ["SINTERCARD", "2", "x", "a"],
        // Past set-max-intset-entries (16) the temporary set is a hashtable.
        ["SADD", "i1", ...Array.from({ length: 12 }, (_, i) => String(i))],
        ["SADD", "i2", ...Array.from({ length: 12 }, (_, i) => String(i + 10))],
        ["SUNIONSTORE", "d", "i1", "i2"],
        ["OBJECT", "ENCODING", "d"],
        U("SUNION", "i1", "i2"),
        ["SUNIONSTORE", "d", "i1", "i1"],
        ["OBJECT", "ENCODING", "d"],
        ["SUNION", "i1", "i1"],
        ["SINTER", "i1", "i2"],
        ["SDIFF", "i1", "i2"],
        // SDIFF's algorithm choice decides whether the result passed through a
        // hashtable: algorithm 2 adds the first set whole, then removes.
        ["SADD", "big", ...Array.from({ length: 20 }, (_, i) => String(i))],
        ["SADD", "few", "1"],
        ["SDIFFSTORE", "d", "big", "few"],
        ["OBJECT", "ENCODING", "d"],
        ["SADD", "many", ...Array.from({ length: 15 }, (_, i) => String(i))],
        ["SDIFFSTORE", "d", "big", "many"],
        ["OBJECT", "ENCODING", "d"],
        ["SMEMBERS", "d"],
        ["SDIFFSTORE", "d", "big", "many", "few"],
        ["OBJECT", "ENCODING", "d"],
        ["SADD", "small", "1", "2"],
        ["SDIFFSTORE", "d", "small", "big", "many"],
        ["SDIFFSTORE", "d", "small", "few", "many"],
        ["SDIFFSTORE", "d", "small", "few"],
        ["SMEMBERS", "d"],
        ["SDIFF", "small", "few"],
        ["SDIFF", "small", "nokey", "few", "nokey"],
        // Arity.
        ["SINTER"],
        ["SUNION"],
        ["SDIFF"],
        ["SINTERSTORE", "d"],
        ["SUNIONSTORE", "d"],
        ["SDIFFSTORE", "d"],
        ["SINTERCARD"],
      ]);
    });
  },
});

Deno.test({
  name: "sets: SSCAN matches redis-server",
  ignore: noRedis,
  async fn() {
    await withPair([], async (r, a) => {
      await compare(r, a, [
        ["SADD", "s", "10", "2", "13", "-5", "100"],
        ["SSCAN", "s", "0"],
        ["SSCAN", "s", "123"],
        ["SSCAN", "s", "0", "MATCH", "1*"],
        ["SSCAN", "s", "0", "match", "*"],
        ["SSCAN", "s", "0", "COUNT", "1"],
        ["SSCAN", "s", "0", "COUNT", "1", "MATCH", "-*", "COUNT", "2"],
        ["SSCAN", "s", "0", "COUNT", "0"],
        ["SSCAN", "s", "0", "COUNT", "-1"],
        ["SSCAN", "s", "0", "COUNT", "abc"],
        ["SSCAN", "s", "0", "COUNT"],
        ["SSCAN", "s", "0", "MATCH"],
        ["SSCAN", "s", "0", "TYPE", "string"],
        ["SSCAN", "s", "0", "BOGUS", "x"],
        ["SSCAN", "s", "abc"],
        ["SSCAN", "s", "-1"],
        ["SSCAN", "s", "18446744073709551615"],
        ["SSCAN", "s", "18446744073709551616"],
        ["SSCAN", "s", ""],
        ["SSCAN", "nokey", "0"],
        ["SSCAN", "nokey", "0", "COUNT", "0"],
        ["SSCAN", "nokey", "abc"],
        ["SADD", "h", "a", "b", "c"],
        U("SSCAN", "h", "0"),
        U("SSCAN", "h", "0", "MATCH", "[ab]"),
      ]);
      // A large hashtable set: a full walk returns every member (cursors differ).
      const members = Array.from({ length: 300 }, (_, i) => "m" + i);
      await r.call("SADD", "big", ...members);
      await a.call("SADD", "big", ...members);
      assert.deepEqual(await fullScan(a, "big"), [...members].sort());
      assert.deepEqual(await fullScan(a, "big", ["COUNT", "7"]), [...members].sort());
      assert.deepEqual(
        await fullScan(a, "big", ["MATCH", "m1*"]),
        await fullScan(r, "big", ["MATCH", "m1*"]),
      );
      // A COUNT smaller than the set gives a non-zero cursor first.
      const first = elements(await a.call("SSCAN", "big", "0", "COUNT", "10")).items;
      assert.notEqual(first[0], "$1\r\n0\r\n");
      assert.equal(elements(first[1]).items.length, 10);
    });
  },
});

Deno.test({
  name: "sets: RESP3 replies match redis-server",
  ignore: noRedis,
  async fn() {
    await withPair([], async (r, a) => {
      await compare(r, a, [["HELLO", "3"]].map((s) => s).slice(0, 0));
      await Promise.all([r.call("HELLO", "3"), a.call("HELLO", "3")]);
      await compare(r, a, [
        ["SADD", "a", "1", "2", "3"],
        ["SADD", "b", "2", "3", "4"],
        ["SMEMBERS", "a"],
        ["SMEMBERS", "nokey"],
        ["SINTER", "a", "b"],
        ["SINTER", "a", "nokey"],
        ["SUNION", "a", "b"],
        ["SDIFF", "a", "b"],
        ["SINTERCARD", "2", "a", "b"],
        ["SMISMEMBER", "a", "1", "9"],
        ["SISMEMBER", "a", "1"],
        ["SPOP", "nokey"],
        ["SPOP", "nokey", "3"],
        ["SPOP", "a", "0"],
        ["SRANDMEMBER", "nokey"],
        ["SRANDMEMBER", "nokey", "3"],
        ["SRANDMEMBER", "a", "0"],
        ["SRANDMEMBER", "a", "5"],
        ["SSCAN", "a", "0"],
        ["SSCAN", "nokey", "0"],
        ["SPOP", "b", "10"],
        ["SADD", "one", "z"],
        ["SPOP", "one"],
      ]);
    });
  },
});

Deno.test({
  name: "sets: a fixed-seed random command sequence matches redis-server",
  ignore: noRedis,
  async fn() {
    await withPair(["--set-max-intset-entries", "12"], async (r, a) => {
      const rand = prng(0x5e75);
      const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)];
      const keys = ["s0", "s1", "s2", "s3"];
      const pool = [
        ...Array.from({ length: 24 }, (_, i) => String(i - 4)),
        "70000",
        "-5000000000",
        "9223372036854775807",
        "a",
        "b",
        "c",
        "",
        "01",
      ];
      const member = () => rand() < 0.85 ? pool[Math.floor(rand() * 27)] : pick(pool);
      const some = (n: number) => Array.from({ length: 1 + Math.floor(rand() * n) }, member);
      const someKeys = () => Array.from({ length: 1 + Math.floor(rand() * 3) }, () => pick(keys));
      await compare(r, a, [["SET", "str", "v"]]);
      let steps = 0;
      for (let i = 0; i < 1000; i++) {
        const k = pick(keys);
        const op = rand();
        let s: SetStep[];
        if (op < 0.3) s = [["SADD", k, ...some(5)]];
        else if (op < 0.4) s = [["SREM", k, ...some(4)]];
        else if (op < 0.45) s = [["SISMEMBER", k, member()], ["SCARD", k]];
        else if (op < 0.5) s = [["SMISMEMBER", k, ...some(4)]];
        else if (op < 0.56) s = [["SMOVE", k, pick(keys), member()]];
        else if (op < 0.62) s = [U(pick(["SINTER", "SUNION", "SDIFF"]), ...someKeys())];
        else if (op < 0.7) {
          const ks = someKeys();
          const lim = rand() < 0.5 ? ["LIMIT", String(Math.floor(rand() * 4))] : [];
          s = [["SINTERCARD", String(ks.length), ...ks, ...lim]];
        } else if (op < 0.8) {
          const dst = pick(keys);
          s = [
            [pick(["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"]), dst, ...someKeys()],
            ["OBJECT", "ENCODING", dst],
          ];
        } else if (op < 0.9) {
          // Reply order follows the encoding: exact for an intset.
          // Asked of both servers so their keyspace hit/miss counters stay comparable.
          const [enc] = await Promise.all([
            r.call("OBJECT", "ENCODING", k),
            a.call("OBJECT", "ENCODING", k),
          ]);
          const ordered = !enc.includes("hashtable");
          s = [["OBJECT", "ENCODING", k]];
          const cmd = pick([
            ["SMEMBERS", k],
            ["SRANDMEMBER", k, "100"],
            ["SSCAN", k, "0"],
          ]);
          if (cmd[0] === "SSCAN" && !ordered) {
            // Hashtable cursors differ: compare what whole walks return.
            const [rs, as] = await Promise.all([fullScan(r, k), fullScan(a, k)]);
            assert.deepEqual(as, rs, `SSCAN walk of ${k}`);
          } else s.push(ordered ? cmd : U(...cmd));
        } else if (op < 0.93) s = [U("SPOP", k, "100"), ["EXISTS", k]];
        else if (op < 0.96) {
          s = [[pick(["SADD", "SREM", "SCARD", "SMEMBERS"]), "str", "x"].slice(0, 3)];
        } else s = [["DEL", k]];
        steps += s.length;
        await compare(r, a, s);
      }
      for (const k of keys) {
        await compare(r, a, [["OBJECT", "ENCODING", k], U("SMEMBERS", k), ["SCARD", k]]);
      }
      assert.ok(steps > 1000);
      // Full SSCAN walks take a different number of calls on each side: not counted.
      const stats = async (c: RawClient) => {
        const info = bulkText(await c.call("INFO", "stats"));
        const hits = Number(info.match(/keyspace_hits:(\d+)/)![1]) - (scanCalls.get(c) ?? 0);
        return [hits, info.match(/keyspace_misses:\d+/)![0]];
      };
      assert.deepEqual(await stats(a), await stats(r));
    });
  },
});

Deno.test({
  name: "sets: keyspace events match redis-server",
  ignore: noRedis,
  async fn() {
    await withPair([], async (r, a, pair) => {
      const subs: [RawClient, RawClient] = [await pair.redis.client(), await pair.amber.client()];
      const n = await compareEvents(r, a, subs, [
        ["SADD", "s", "1", "2", "3"],
        ["SADD", "s", "1"],
        ["SADD", "s", "x", "1"],
        ["SREM", "s", "nope"],
        ["SREM", "s", "1", "nope"],
        ["SMOVE", "s", "d", "2"],
        ["SMOVE", "s", "d", "nope"],
        ["SMOVE", "s", "s", "3"],
        ["SADD", "d", "3"],
        ["SMOVE", "s", "d", "3"],
        ["SMOVE", "s", "d", "x"],
        ["SMOVE", "nokey", "d", "x"],
        ["SADD", "p", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"],
        ["SPOP", "p"],
        ["SPOP", "p", "0"],
        ["SPOP", "p", "2"],
        ["SPOP", "p", "6"],
        ["SPOP", "p", "100"],
        ["SPOP", "p"],
        ["SADD", "one", "a"],
        ["SPOP", "one"],
        ["SRANDMEMBER", "d", "5"],
        ["SINTERSTORE", "st", "d", "d"],
        ["SUNIONSTORE", "st", "d", "nokey"],
        ["SDIFFSTORE", "st", "d", "d"],
        ["SDIFFSTORE", "st", "d", "d"],
        ["SINTERSTORE", "st", "d", "nokey"],
        ["SET", "st", "v"],
        ["SINTERSTORE", "st", "d", "nokey"],
        ["SREM", "d", "2", "3", "x"],
      ]);
      assert.ok(n > 30);
    });
  },
});

Deno.test("sets: SPOP and SRANDMEMBER random replies have the right shape", async () => {
  const t = await startAmber();
  try {
    const c = await t.client();
    const ints = Array.from({ length: 100 }, (_, i) => String(i));
    const strs = ints.map((i) => "m" + i);
    for (const [key, members] of [["i", ints], ["h", strs]] as const) {
      await c.call("SADD", key, ...members);
      const all = new Set<string>(members);
      for (const n of [1, 2, 10, 33, 34, 50, 99, 100, 150]) {
        const got = bulks(await c.call("SRANDMEMBER", key, String(n)));
        assert.equal(got.length, Math.min(n, 100));
        assert.equal(new Set(got).size, got.length, "distinct");
        for (const m of got) assert.ok(all.has(m));
      }
      const neg = bulks(await c.call("SRANDMEMBER", key, "-500"));
      assert.equal(neg.length, 500);
      for (const m of neg) assert.ok(all.has(m));
      assert.ok(new Set(neg).size > 50, "negative counts sample the whole set");
      assert.ok(all.has(bulks("*1\r\n" + await c.call("SRANDMEMBER", key))[0]));
    }
    // SPOP with count: distinct, removed, the rest intact (all three strategies).
    for (const n of [1, 3, 40, 90]) {
      await c.call("DEL", "p");
      await c.call("SADD", "p", ...ints);
      const got = bulks(await c.call("SPOP", "p", String(n)));
      assert.equal(got.length, n);
      assert.equal(new Set(got).size, n);
      const rest = bulks(await c.call("SMEMBERS", "p"));
      assert.equal(rest.length, 100 - n);
      assert.deepEqual([...got, ...rest].sort(), [...ints].sort());
      assert.equal(await c.call("OBJECT", "ENCODING", "p"), "$6\r\nintset\r\n");
      // Intset survivors iterate ascending.
      assert.deepEqual(rest, [...rest].sort((x, y) => Number(x) - Number(y)));
      if (n === 90) {
        // CASE 3 replies the popped elements from the old intset: ascending.
        assert.deepEqual(got, [...got].sort((x, y) => Number(x) - Number(y)));
      }
    }
    // A large hashtable with most members removed: random picks skip the holes.
    await c.call("SADD", "w", ...Array.from({ length: 700 }, (_, i) => "w" + i));
    await c.call("SREM", "w", ...Array.from({ length: 600 }, (_, i) => "w" + i));
    const live = (m: string) => Number(m.slice(1)) >= 600;
    for (const n of [1, 5, 33, 34, 99, 100]) {
      const got = bulks(await c.call("SRANDMEMBER", "w", String(n)));
      assert.equal(new Set(got).size, n, "distinct");
      for (const m of got) assert.ok(live(m), `${m} was removed`);
    }
    const seen = new Set<string>();
    for (let i = 0; i < 40; i++) {
      for (const m of bulks(await c.call("SRANDMEMBER", "w", "-50"))) seen.add(m);
    }
    assert.ok(seen.size > 90, `only ${seen.size} of 100 members picked`);
    const drained: string[] = [];
    for (let i = 0; i < 100; i++) drained.push(bulks("*1\r\n" + await c.call("SPOP", "w"))[0]);
    assert.equal(new Set(drained).size, 100);
    for (const m of drained) assert.ok(live(m), `${m} was removed`);
    assert.equal(await c.call("EXISTS", "w"), ":0\r\n");
    // Popping one at a time empties the set and deletes the key.
    await c.call("SADD", "q", "a", "b", "c");
    const popped = new Set<string>();
    for (let i = 0; i < 3; i++) popped.add(bulks("*1\r\n" + await c.call("SPOP", "q"))[0]);
    assert.deepEqual([...popped].sort(), ["a", "b", "c"]);
    assert.equal(await c.call("EXISTS", "q"), ":0\r\n");
    // A huge negative count is not materialized: the client is dropped, the server lives.
    await c.call("SADD", "x", "a");
    const big = await t.client();
    big.write("*3\r\n$11\r\nSRANDMEMBER\r\n$1\r\nx\r\n$20\r\n-9223372036854775807\r\n");
    await big.waitClosed(30000);
    assert.equal(await c.call("PING"), "+PONG\r\n");
  } finally {
    await t.stop();
  }
});

Deno.test("sets: propagation, keyspace events and the dirty counter", async () => {
  const t = await startAmber();
  try {
    const server = t.amber.server;
    const c = await t.client();
    // Multi-op commands come without the MULTI/EXEC wrapper the server adds.
    const run = effectsRecorder(server, c, { unwrapMulti: true });
    let x = await run("SADD", "s", "1", "2", "3");
    assert.deepEqual(x.ops, [["SADD", "s", "1", "2", "3"]]);
    assert.deepEqual(x.events, ["s:sadd:s"]);
    assert.equal(x.dirty, 3);
    x = await run("SADD", "s", "1");
    assert.deepEqual([x.ops, x.events, x.dirty], [[], [], 0]);
    x = await run("SREM", "s", "9");
    assert.deepEqual([x.ops, x.events, x.dirty], [[], [], 0]);
    x = await run("SPOP", "s");
    const ele = bulks("*1\r\n" + x.reply)[0];
    assert.deepEqual(x.ops, [["SREM", "s", ele]]);
    assert.deepEqual(x.events, ["s:spop:s"]);
    x = await run("SPOP", "s", "1");
    assert.equal(x.ops.length, 1);
    assert.equal(x.ops[0][0], "SREM");
    assert.equal(x.dirty, 1);
    x = await run("SPOP", "s", "5");
    assert.deepEqual(x.ops, [["DEL", "s"]]);
    assert.deepEqual(x.events, ["s:spop:s", "g:del:s"]);
    assert.equal(x.dirty, 1);
    await run("SADD", "s", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10");
    x = await run("SPOP", "s", "8");
    assert.equal(x.ops.length, 8);
    assert.ok(x.ops.every((o) => o[0] === "SREM" && o[1] === "s"));
    assert.deepEqual(x.ops.map((o) => o[2]).sort(), bulks(x.reply).sort());
    assert.equal(x.dirty, 8);
    x = await run("SRANDMEMBER", "s", "2");
    assert.deepEqual([x.ops, x.dirty], [[], 0]);
    await run("SADD", "src", "a");
    x = await run("SMOVE", "src", "dst", "a");
    assert.deepEqual(x.ops, [["SMOVE", "src", "dst", "a"]]);
    assert.deepEqual(x.events, ["s:srem:src", "g:del:src", "s:sadd:dst"]);
    assert.equal(x.dirty, 2);
    x = await run("SREM", "dst", "a");
    assert.deepEqual(x.events, ["s:srem:dst", "g:del:dst"]);
    await run("SADD", "a", "1", "2");
    x = await run("SINTERSTORE", "d", "a", "a");
    assert.deepEqual(x.events, ["s:sinterstore:d"]);
    x = await run("SUNIONSTORE", "d", "a");
    assert.deepEqual(x.events, ["s:sunionstore:d"]);
    x = await run("SDIFFSTORE", "d", "a", "a");
    assert.deepEqual(x.events, ["g:del:d"]);
    assert.equal(x.dirty, 1);
    x = await run("SDIFFSTORE", "d", "a", "a");
    assert.deepEqual([x.ops, x.events, x.dirty], [[], [], 0]);
  } finally {
    await t.stop();
  }
});

Deno.test("sets: WATCH is touched only by real changes", async () => {
  const t = await startAmber();
  try {
    const touched: string[] = [];
    t.amber.server.onKeyModified((_db, key) => touched.push(key));
    const c = await t.client();
    await c.call("SADD", "s", "1", "2");
    touched.length = 0;
    await c.call("SADD", "s", "1");
    await c.call("SREM", "s", "9");
    await c.call("SMOVE", "s", "d", "9");
    await c.call("SINTER", "s", "s");
    assert.deepEqual(touched, []);
    await c.call("SADD", "s", "1", "3");
    assert.deepEqual(touched, ["s"]);
  } finally {
    await t.stop();
  }
});

Deno.test("sets: ioredis round trip", async () => {
  const t = await startAmber();
  const client = new Redis({ port: t.port, lazyConnect: true });
  try {
    await client.connect();
    assert.equal(await client.sadd("fruits", "apple", "pear", "fig"), 3);
    assert.deepEqual((await client.smembers("fruits")).sort(), ["apple", "fig", "pear"]);
    assert.equal(await client.sismember("fruits", "fig"), 1);
    assert.deepEqual(await client.smismember("fruits", "fig", "kiwi"), [1, 0]);
    assert.equal(await client.sadd("nums", 3, 1, 2), 3);
    assert.deepEqual(await client.smembers("nums"), ["1", "2", "3"]);
    assert.deepEqual(await client.sinter("nums", "nums"), ["1", "2", "3"]);
    assert.equal(await client.sintercard(2, "nums", "fruits"), 0);
    assert.equal(await client.sunionstore("all", "nums", "fruits"), 6);
    assert.equal(await client.scard("all"), 6);
    assert.equal(await client.smove("all", "nums", "apple"), 1);
    assert.deepEqual((await client.sdiff("nums", "fruits")).sort(), ["1", "2", "3"]);
    const popped = await client.spop("nums", 10);
    assert.deepEqual(popped.sort(), ["1", "2", "3", "apple"]);
    const seen: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const stream = client.sscanStream("all", { count: 2 });
      stream.on("data", (batch: string[]) => seen.push(...batch));
      stream.on("end", resolve);
      stream.on("error", reject);
    });
    assert.deepEqual(seen.sort(), ["1", "2", "3", "fig", "pear"]);
    await assert.rejects(client.sadd("k", "x").then(() => client.hset("k", "f", "v")), /WRONGTYPE/);
  } finally {
    client.disconnect();
    await t.stop();
  }
});
