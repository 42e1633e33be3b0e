// Tests for src/commands/hashes.ts: differential scripts against redis-server (every
// command, option and error, RESP2 and RESP3, the listpack -> hashtable conversions at
// hash-max-listpack-entries/-value, listpack order in every reply, HINCRBY's int64 edges
// and HINCRBYFLOAT's long double formatting), a fixed-seed random command sequence,
// HRANDFIELD's properties, propagation, keyspace events, and an ioredis round trip.
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

function bulkText(item: string): string {
  const nl = item.indexOf("\r\n");
  return item.slice(nl + 2, item.length - 2);
}

/** Decoded bulk strings of a flat array reply. */
function bulks(raw: string): string[] {
  return elements(raw).items.map(bulkText);
}

/**
 * A reply in hash order made comparable: flat field/value lists (HGETALL, RESP2
 * WITHVALUES) are sorted as pairs, nested pairs (RESP3) and plain lists as elements.
 */
function normalized(raw: string, paired: boolean): string {
  if (!"*~%".includes(raw[0]) || raw.startsWith("*-1")) return raw;
  const { header, items } = elements(raw);
  if (!paired || items.length % 2 !== 0 || items.some((it) => it[0] === "*")) {
    return header + items.sort().join("");
  }
  const pairs: string[] = [];
  for (let i = 0; i < items.length; i += 2) pairs.push(items[i] + items[i + 1]);
  return header + pairs.sort().join("");
}

/** A step whose reply is in hash order (`paired`: a flat field/value list). */
interface Unordered {
  unordered: string[];
  paired: boolean;
}
type HashStep = string[] | Unordered;

/** Hash order, flat pairs (HGETALL, HRANDFIELD ... WITHVALUES in RESP2). */
function UP(...argv: string[]): Unordered {
  return { unordered: argv, paired: true };
}
/** Hash order, single elements (HKEYS, HVALS). */
function U(...argv: string[]): Unordered {
  return { unordered: argv, paired: false };
}

async function compare(r: RawClient, a: RawClient, steps: HashStep[]): Promise<string[]> {
  const out: string[] = [];
  for (const s of steps) {
    const argv = Array.isArray(s) ? s : s.unordered;
    const [rr, ar] = await Promise.all([r.call(...argv), a.call(...argv)]);
    const msg = `reply to ${JSON.stringify(argv)} differs`;
    if (Array.isArray(s)) assert.equal(ar, rr, msg);
    else assert.equal(normalized(ar, s.paired), normalized(rr, s.paired), msg);
    out.push(rr);
  }
  return out;
}

/** Every field/value pair a full HSCAN walk returns, as sorted "field=value" strings. */
/** HSCAN calls made by fullScan per client (each one a keyspace hit). */
const scanCalls = new Map<RawClient, number>();

async function fullScan(c: RawClient, key: string, extra: string[] = []): Promise<string[]> {
  let cursor = "0";
  const seen = new Set<string>();
  do {
    scanCalls.set(c, (scanCalls.get(c) ?? 0) + 1);
    const { items } = elements(await c.call("HSCAN", key, cursor, ...extra));
    cursor = bulkText(items[0]);
    const flat = bulks(items[1]);
    for (let i = 0; i < flat.length; i += 2) seen.add(flat[i] + "=" + flat[i + 1]);
  } while (cursor !== "0");
  return [...seen].sort();
}

const L64 = "x".repeat(64);
const L65 = "y".repeat(65);

Deno.test({
  name: "hashes: basic commands, errors and listpack order match redis-server",
  ignore: noRedis,
  async fn() {
    await withPair([], async (r, a) => {
      await compare(r, a, [
        ["HSET", "h", "a", "1", "b", "2", "c", "3"],
        ["HSET", "h", "a", "10", "d", "4"],
        ["HSET", "h", "b", "2"],
        ["HGETALL", "h"],
        ["HKEYS", "h"],
        ["HVALS", "h"],
        ["HLEN", "h"],
        ["HLEN", "nokey"],
        ["HGETALL", "nokey"],
        ["HKEYS", "nokey"],
        ["HVALS", "nokey"],
        ["OBJECT", "ENCODING", "h"],
        ["HGET", "h", "a"],
        ["HGET", "h", "zz"],
        ["HGET", "nokey", "a"],
        ["HMGET", "h", "a", "zz", "b"],
        ["HMGET", "nokey", "a", "b"],
        ["HEXISTS", "h", "a"],
        ["HEXISTS", "h", "zz"],
        ["HEXISTS", "nokey", "a"],
        ["HSTRLEN", "h", "a"],
        ["HSTRLEN", "h", "zz"],
        ["HSTRLEN", "nokey", "a"],
        ["HSET", "h", "n", "-12345", "z", "007", "e", ""],
        ["HSTRLEN", "h", "n"],
        ["HSTRLEN", "h", "z"],
        ["HSTRLEN", "h", "e"],
        ["HSETNX", "h", "a", "x"],
        ["HSETNX", "h", "f", "5"],
        ["HSETNX", "new", "f", "v"],
        ["HGETALL", "new"],
        ["HMSET", "h", "x", "1", "y", "2"],
        ["HGETALL", "h"],
        ["HMSET", "h", "x"],
        ["HMSET", "h", "x", "1", "y"],
        ["HSET", "h", "x"],
        ["HSET", "h", "x", "1", "y"],
        ["HSET", "nokey", "x", "1", "y"],
        ["hset", "h", "x"],
        ["HDEL", "h", "a", "zz"],
        ["HDEL", "h", "zz"],
        ["HDEL", "nokey", "a"],
        ["HGETALL", "h"],
        ["HDEL", "h", "b", "c", "d", "n", "z", "e", "f", "x", "y", "more"],
        ["EXISTS", "h"],
        // Binary-safe fields and values.
        ["HSET", "b", "", "", "\0", "\xff", "a\r\nb", "x\0y", "\xfe", "1"],
        ["HGETALL", "b"],
        ["HGET", "b", ""],
        ["HGET", "b", "\0"],
        ["HSTRLEN", "b", "a\r\nb"],
        ["HEXISTS", "b", "x\0y"],
        ["HDEL", "b", ""],
        ["HKEYS", "b"],
        // WRONGTYPE everywhere.
        ["SET", "str", "v"],
        ["HSET", "str", "f", "v"],
        ["HMSET", "str", "f", "v"],
        ["HSETNX", "str", "f", "v"],
        ["HGET", "str", "f"],
        ["HMGET", "str", "f"],
        ["HDEL", "str", "f"],
        ["HLEN", "str"],
        ["HSTRLEN", "str", "f"],
        ["HEXISTS", "str", "f"],
        ["HKEYS", "str"],
        ["HVALS", "str"],
        ["HGETALL", "str"],
        ["HINCRBY", "str", "f", "1"],
        ["HINCRBY", "str", "f", "x"],
        ["HINCRBYFLOAT", "str", "f", "1"],
        ["HINCRBYFLOAT", "str", "f", "x"],
        ["HRANDFIELD", "str"],
        ["HRANDFIELD", "str", "1"],
        ["HRANDFIELD", "str", "1", "x"],
        ["HSCAN", "str", "0"],
        ["HSCAN", "str", "x"],
        ["SADD", "set", "m"],
        ["HGET", "set", "m"],
        // Arity (checked centrally).
        ["HSET", "h"],
        ["HSET", "h", "f"],
        ["HSETNX", "h", "f"],
        ["HGET", "h"],
        ["HMGET", "h"],
        ["HDEL", "h"],
        ["HLEN"],
        ["HSTRLEN", "h"],
        ["HEXISTS", "h"],
        ["HKEYS"],
        ["HVALS", "a", "b"],
        ["HGETALL"],
        ["HINCRBY", "h", "f"],
        ["HINCRBYFLOAT", "h", "f"],
        ["HRANDFIELD"],
        ["HSCAN", "h"],
      ]);
    });
  },
});

Deno.test({
  name: "hashes: listpack -> hashtable conversions match redis-server",
  ignore: noRedis,
  async fn() {
    await withPair([], async (r, a) => {
      await compare(r, a, [
        ["HSET", "v", "f", L64],
        ["OBJECT", "ENCODING", "v"],
        ["HSET", "v", "g", L65],
        ["OBJECT", "ENCODING", "v"],
        UP("HGETALL", "v"),
        ["HDEL", "v", "g"],
        ["OBJECT", "ENCODING", "v"],
        ["HSET", "f", L65, "v"],
        ["OBJECT", "ENCODING", "f"],
        ["HSET", "f2", L64, "v"],
        ["OBJECT", "ENCODING", "f2"],
        // A long value converts even when it only updates an existing field.
        ["HSET", "u", "a", "1", "b", "2"],
        ["HSET", "u", "a", L65],
        ["OBJECT", "ENCODING", "u"],
        // HSETNX converts only when it sets.
        ["HSET", "n", "a", "1"],
        ["HSETNX", "n", "a", L65],
        ["OBJECT", "ENCODING", "n"],
        ["HSETNX", "n", "b", L65],
        ["OBJECT", "ENCODING", "n"],
        // HINCRBY / HINCRBYFLOAT with a long field.
        ["HSET", "i", "a", "1"],
        ["HINCRBY", "i", L65, "1"],
        ["OBJECT", "ENCODING", "i"],
        ["HSET", "j", "a", "1"],
        ["HINCRBYFLOAT", "j", L65, "1.5"],
        ["OBJECT", "ENCODING", "j"],
        // Entries: CONFIG SET takes effect at once (the canonical name and the alias).
        ["CONFIG", "SET", "hash-max-listpack-entries", "4"],
        ["HSET", "e", "f1", "1", "f2", "2", "f3", "3", "f4", "4"],
        ["OBJECT", "ENCODING", "e"],
        ["HGETALL", "e"],
        ["HSET", "e", "f1", "11"],
        ["OBJECT", "ENCODING", "e"],
        ["HSET", "e", "f5", "5"],
        ["OBJECT", "ENCODING", "e"],
        UP("HGETALL", "e"),
        ["HSET", "e5", "f1", "1", "f2", "2", "f3", "3", "f4", "4", "f5", "5"],
        ["OBJECT", "ENCODING", "e5"],
        ["CONFIG", "SET", "hash-max-ziplist-entries", "0"],
        ["HSET", "z", "f", "v"],
        ["OBJECT", "ENCODING", "z"],
        ["CONFIG", "SET", "hash-max-listpack-entries", "512"],
        ["CONFIG", "SET", "hash-max-listpack-value", "3"],
        ["HSET", "w", "abc", "def"],
        ["OBJECT", "ENCODING", "w"],
        ["HSET", "w", "abcd", "d"],
        ["OBJECT", "ENCODING", "w"],
        ["CONFIG", "SET", "hash-max-ziplist-value", "0"],
        ["HSET", "w0", "", ""],
        ["OBJECT", "ENCODING", "w0"],
        ["HSET", "w1", "a", ""],
        ["OBJECT", "ENCODING", "w1"],
        ["CONFIG", "SET", "hash-max-listpack-value", "64"],
        // COPY keeps the encoding.
        ["HSET", "c", "a", "1", "b", "2"],
        ["COPY", "c", "c2"],
        ["HGETALL", "c2"],
        ["OBJECT", "ENCODING", "c2"],
        ["COPY", "v", "v2"],
        ["OBJECT", "ENCODING", "v2"],
        UP("HGETALL", "v2"),
      ]);
    });
  },
});

Deno.test({
  name: "hashes: HINCRBY and HINCRBYFLOAT match redis-server",
  ignore: noRedis,
  async fn() {
    await withPair([], async (r, a) => {
      await compare(r, a, [
        ["HINCRBY", "h", "n", "5"],
        ["HINCRBY", "h", "n", "-10"],
        ["HINCRBY", "h", "n", "abc"],
        ["HINCRBY", "h", "n", "1.5"],
        ["HINCRBY", "h", "n", ""],
        ["HINCRBY", "h", "n", "9223372036854775808"],
        ["HINCRBY", "h", "n", "9223372036854775807"],
        ["HINCRBY", "h", "n", "10"],
        ["HINCRBY", "h", "n", "-9223372036854775808"],
        ["HGET", "h", "n"],
        ["HINCRBY", "h", "big", "9223372036854775807"],
        ["HINCRBY", "h", "big", "1"],
        ["HINCRBY", "h", "big", "-1"],
        ["HINCRBY", "h", "neg", "-9223372036854775808"],
        ["HINCRBY", "h", "neg", "-1"],
        ["HINCRBY", "h", "neg", "9223372036854775807"],
        ["HINCRBY", "h", "safe", "9007199254740991"],
        ["HINCRBY", "h", "safe", "2"],
        ["HINCRBY", "h", "safe", "-9007199254740995"],
        ["HSET", "h", "s", "abc", "sp", " 1", "lz", "01", "fl", "1.0", "e", ""],
        ["HINCRBY", "h", "s", "1"],
        ["HINCRBY", "h", "sp", "1"],
        ["HINCRBY", "h", "lz", "1"],
        ["HINCRBY", "h", "fl", "1"],
        ["HINCRBY", "h", "e", "1"],
        ["HINCRBY", "nokey2", "f", "1"],
        ["HGETALL", "nokey2"],
        ["HINCRBY", "nokey3", "f", "x"],
        ["EXISTS", "nokey3"],
        ["HGETALL", "h"],
        ["HINCRBYFLOAT", "f", "x", "1.5"],
        ["HINCRBYFLOAT", "f", "x", "0.1"],
        ["HINCRBYFLOAT", "f", "x", "-1.6"],
        ["HINCRBYFLOAT", "f", "x", "1e3"],
        ["HINCRBYFLOAT", "f", "x", "3.0e-5"],
        ["HINCRBYFLOAT", "f", "x", "-1000.00003"],
        ["HINCRBYFLOAT", "f", "y", "10.50"],
        ["HINCRBYFLOAT", "f", "y", "5.0e3"],
        ["HINCRBYFLOAT", "f", "y", "inf"],
        ["HINCRBYFLOAT", "f", "y", "-inf"],
        ["HINCRBYFLOAT", "f", "y", "nan"],
        ["HINCRBYFLOAT", "f", "y", "abc"],
        ["HINCRBYFLOAT", "f", "y", "1 "],
        ["HINCRBYFLOAT", "f", "y", " 1"],
        ["HINCRBYFLOAT", "f", "y", ""],
        ["HINCRBYFLOAT", "f", "y", "0x10"],
        ["HINCRBYFLOAT", "f", "y", "1.7976931348623157e308"],
        ["HINCRBYFLOAT", "f", "y", "1e4933"],
        ["HINCRBYFLOAT", "f", "z", "1e-4940"],
        ["HINCRBYFLOAT", "f", "i", "9223372036854775807"],
        ["HINCRBYFLOAT", "f", "i", "1"],
        ["HSET", "f", "s", "abc", "n", "17", "inf", "inf", "sp", " 1", "neg", "-inf"],
        ["HINCRBYFLOAT", "f", "s", "1"],
        ["HINCRBYFLOAT", "f", "n", "0.25"],
        ["HINCRBYFLOAT", "f", "inf", "1"],
        ["HINCRBYFLOAT", "f", "neg", "1"],
        ["HINCRBYFLOAT", "f", "sp", "1"],
        ["HINCRBYFLOAT", "nokey4", "g", "2.5"],
        ["HGETALL", "nokey4"],
        ["HINCRBYFLOAT", "nokey5", "g", "x"],
        ["EXISTS", "nokey5"],
        // The 309-digit value of "y" made it a hashtable: hash order.
        ["OBJECT", "ENCODING", "f"],
        UP("HGETALL", "f"),
        ["HINCRBY", "f", "n", "1"],
      ]);
    });
  },
});

Deno.test({
  name: "hashes: HRANDFIELD errors and deterministic replies match redis-server",
  ignore: noRedis,
  async fn() {
    await withPair([], async (r, a) => {
      const steps: HashStep[] = [
        ["HSET", "h", "a", "1", "b", "2", "c", "3"],
        ["HSET", "one", "f", "v"],
        ["HRANDFIELD", "nokey"],
        ["HRANDFIELD", "nokey", "3"],
        ["HRANDFIELD", "nokey", "0"],
        ["HRANDFIELD", "nokey", "-3"],
        ["HRANDFIELD", "nokey", "3", "WITHVALUES"],
        ["HRANDFIELD", "nokey", "1", "withvalues", "x"],
        ["HRANDFIELD", "h", "0"],
        ["HRANDFIELD", "h", "0", "WITHVALUES"],
        ["HRANDFIELD", "h", "3"],
        ["HRANDFIELD", "h", "100"],
        ["HRANDFIELD", "h", "100", "WITHVALUES"],
        ["HRANDFIELD", "h", "100", "withvalues"],
        ["HRANDFIELD", "h", "1", "x"],
        ["HRANDFIELD", "h", "1", "withvalues", "x"],
        ["HRANDFIELD", "h", "1", "withvalue"],
        ["HRANDFIELD", "h", "abc"],
        ["HRANDFIELD", "h", "abc", "WITHVALUES"],
        ["HRANDFIELD", "h", "1.5"],
        ["HRANDFIELD", "h", "-9223372036854775808"],
        ["HRANDFIELD", "nokey", "-9223372036854775808"],
        ["HRANDFIELD", "h", "9223372036854775807"],
        ["HRANDFIELD", "h", "4611686018427387903", "WITHVALUES"],
        ["HRANDFIELD", "h", "4611686018427387904", "WITHVALUES"],
        ["HRANDFIELD", "h", "-4611686018427387904", "WITHVALUES"],
        ["HRANDFIELD", "nokey", "4611686018427387904", "WITHVALUES"],
        ["HRANDFIELD", "one"],
        ["HRANDFIELD", "one", "1"],
        ["HRANDFIELD", "one", "1", "WITHVALUES"],
        ["HRANDFIELD", "one", "-3"],
        ["HRANDFIELD", "one", "-3", "WITHVALUES"],
        ["HSET", "big", ...Array.from({ length: 600 }, (_, i) => [`f${i}`, `v${i}`]).flat()],
        ["OBJECT", "ENCODING", "big"],
        UP("HRANDFIELD", "big", "600", "WITHVALUES"),
        U("HRANDFIELD", "big", "1000"),
      ];
      await compare(r, a, steps);
      await Promise.all([r.call("HELLO", "3"), a.call("HELLO", "3")]);
      await compare(r, a, [
        ["HRANDFIELD", "h", "100", "WITHVALUES"],
        ["HRANDFIELD", "h", "100"],
        ["HRANDFIELD", "one", "-2", "WITHVALUES"],
        ["HRANDFIELD", "one", "1", "WITHVALUES"],
        ["HRANDFIELD", "nokey", "2", "WITHVALUES"],
        ["HRANDFIELD", "nokey"],
        ["HRANDFIELD", "h", "0", "WITHVALUES"],
        ["HGETALL", "h"],
        ["HGETALL", "nokey"],
        ["HKEYS", "nokey"],
        ["HMGET", "h", "a", "zz"],
        ["HGET", "h", "zz"],
        ["HSCAN", "h", "0"],
        ["HSCAN", "nokey", "0"],
        UP("HGETALL", "big"),
      ]);
    });
  },
});

Deno.test({
  name: "hashes: HSCAN matches redis-server",
  ignore: noRedis,
  async fn() {
    await withPair([], async (r, a) => {
      await compare(r, a, [
        ["HSET", "h", "a1", "1", "b2", "2", "a3", "3", "c", "a1"],
        ["HSCAN", "h", "0"],
        ["HSCAN", "h", "42"],
        ["HSCAN", "h", "0", "MATCH", "a*"],
        ["HSCAN", "h", "0", "MATCH", "1"],
        ["HSCAN", "h", "0", "MATCH", "*"],
        ["HSCAN", "h", "0", "COUNT", "1"],
        ["HSCAN", "h", "0", "COUNT", "0"],
        ["HSCAN", "h", "0", "COUNT", "-5"],
        ["HSCAN", "h", "0", "COUNT", "x"],
        ["HSCAN", "h", "0", "COUNT"],
        ["HSCAN", "h", "0", "MATCH"],
        ["HSCAN", "h", "0", "TYPE", "hash"],
        ["HSCAN", "h", "0", "NOVALUES"],
        ["HSCAN", "h", "x"],
        ["HSCAN", "h", "-1"],
        ["HSCAN", "h", "18446744073709551616"],
        ["HSCAN", "nokey", "0"],
        ["HSCAN", "nokey", "0", "COUNT", "0"],
        ["HSCAN", "nokey", "x"],
      ]);
      const args = Array.from({ length: 700 }, (_, i) => [`field:${i}`, `value:${i}`]).flat();
      await r.call("HSET", "big", ...args);
      await a.call("HSET", "big", ...args);
      const want = Array.from({ length: 700 }, (_, i) => `field:${i}=value:${i}`).sort();
      assert.deepEqual(await fullScan(a, "big"), want);
      assert.deepEqual(await fullScan(a, "big", ["COUNT", "3"]), want);
      assert.deepEqual(
        await fullScan(a, "big", ["MATCH", "field:1?"]),
        await fullScan(r, "big", ["MATCH", "field:1?"]),
      );
      // Fields deleted during a walk are skipped; the others are all seen.
      const { items } = elements(await a.call("HSCAN", "big", "0", "COUNT", "100"));
      assert.equal(bulks(items[1]).length, 200);
      await a.call("HDEL", "big", "field:699", "field:698");
      let cursor = bulkText(items[0]);
      const rest = new Set(bulks(items[1]).filter((_, i) => i % 2 === 0));
      while (cursor !== "0") {
        const e = elements(await a.call("HSCAN", "big", cursor, "COUNT", "100")).items;
        cursor = bulkText(e[0]);
        bulks(e[1]).forEach((x, i) => i % 2 === 0 && rest.add(x));
      }
      assert.equal(rest.size, 698);
    });
  },
});

Deno.test({
  name: "hashes: a fixed-seed random command sequence matches redis-server",
  ignore: noRedis,
  async fn() {
    const cfg = ["--hash-max-listpack-entries", "8", "--hash-max-listpack-value", "16"];
    await withPair(cfg, async (r, a) => {
      const rand = prng(0x4a54);
      const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)];
      const keys = ["h0", "h1", "h2", "h3"];
      const fields = [...Array.from({ length: 12 }, (_, i) => "f" + i), "", "long-field-name-17"];
      const values = [
        "0",
        "1",
        "-7",
        "42",
        "3.5",
        "abc",
        "",
        "9223372036854775807",
        "a-value-of-17-chr",
        "1e3",
      ];
      const field = () => rand() < 0.95 ? fields[Math.floor(rand() * 12)] : pick(fields);
      const value = () => pick(values);
      await compare(r, a, [["SET", "str", "v"]]);
      let steps = 0;
      for (let i = 0; i < 1000; i++) {
        const k = pick(keys);
        const op = rand();
        let s: HashStep[];
        if (op < 0.25) {
          const n = 1 + Math.floor(rand() * 3);
          const argv = ["HSET", k];
          for (let j = 0; j < n; j++) argv.push(field(), value());
          s = [argv];
        } else if (op < 0.3) s = [["HSETNX", k, field(), value()]];
        else if (op < 0.4) s = [["HDEL", k, field(), ...(rand() < 0.3 ? [field()] : [])]];
        else if (op < 0.45) s = [["HGET", k, field()], ["HEXISTS", k, field()]];
        else if (op < 0.5) s = [["HMGET", k, field(), field()], ["HSTRLEN", k, field()]];
        else if (op < 0.55) s = [["HLEN", k]];
        else if (op < 0.63) s = [["HINCRBY", k, field(), pick(["1", "-3", "100", "x"])]];
        else if (op < 0.7) s = [["HINCRBYFLOAT", k, field(), pick(["1.5", "-0.25", "1e2", "x"])]];
        else if (op < 0.9) {
          // Reply order follows the encoding: exact for a listpack.
          // Asked of both servers so their keyspace hit/miss counters stay comparable.
          const [enc] = await Promise.all([
            r.call("OBJECT", "ENCODING", k),
            a.call("OBJECT", "ENCODING", k),
          ]);
          const ordered = !enc.includes("hashtable");
          s = [["OBJECT", "ENCODING", k]];
          const cmd = pick([
            ["HGETALL", k],
            ["HKEYS", k],
            ["HVALS", k],
            ["HRANDFIELD", k, "50"],
            ["HRANDFIELD", k, "50", "WITHVALUES"],
            ["HSCAN", k, "0"],
          ]);
          const paired = cmd[0] === "HGETALL" || cmd.length === 4;
          if (cmd[0] === "HSCAN" && !ordered) {
            const [rs, as] = await Promise.all([fullScan(r, k), fullScan(a, k)]);
            assert.deepEqual(as, rs, `HSCAN walk of ${k}`);
          } else s.push(ordered ? cmd : { unordered: cmd, paired });
        } else if (op < 0.95) s = [[pick(["HSET", "HGET", "HDEL", "HLEN"]), "str", "f", "v"]];
        else s = [["DEL", k]];
        if (s[0] && Array.isArray(s[0]) && s[0][1] === "str") {
          const c = s[0];
          s = [c[0] === "HSET" ? c : c[0] === "HLEN" ? c.slice(0, 2) : c.slice(0, 3)];
        }
        steps += s.length;
        await compare(r, a, s);
      }
      for (const k of keys) {
        await compare(r, a, [["OBJECT", "ENCODING", k], UP("HGETALL", k), ["HLEN", k]]);
      }
      assert.ok(steps > 1000);
      // Full HSCAN walks take a different number of calls on each side: not counted.
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
  name: "hashes: keyspace events match redis-server",
  ignore: noRedis,
  async fn() {
    await withPair([], async (r, a, pair) => {
      const subs: [RawClient, RawClient] = [await pair.redis.client(), await pair.amber.client()];
      const n = await compareEvents(r, a, subs, [
        ["HSET", "h", "a", "1", "b", "2"],
        ["HSET", "h", "a", "1"],
        ["HMSET", "h", "c", "3"],
        ["HSETNX", "h", "a", "x"],
        ["HSETNX", "h", "d", "4"],
        ["HSETNX", "n", "f", "v"],
        ["HINCRBY", "h", "i", "5"],
        ["HINCRBY", "h", "a", "x"],
        ["HINCRBY", "h", "b", "1"],
        ["HSET", "h", "s", "abc"],
        ["HINCRBY", "h", "s", "1"],
        ["HINCRBYFLOAT", "h", "f", "1.5"],
        ["HINCRBYFLOAT", "h", "s", "1.5"],
        ["HINCRBYFLOAT", "h", "f", "inf"],
        ["HINCRBY", "new", "f", "1"],
        ["HINCRBYFLOAT", "new2", "f", "1"],
        ["HDEL", "h", "nope"],
        ["HDEL", "h", "a", "nope"],
        ["HDEL", "h", "b", "c", "d", "i", "s", "f"],
        ["HDEL", "nokey", "a"],
        ["HGETALL", "n"],
        ["HRANDFIELD", "n", "2"],
      ]);
      assert.ok(n > 25);
    });
  },
});

Deno.test("hashes: HRANDFIELD random replies have the right shape", async () => {
  const t = await startAmber();
  try {
    const c = await t.client();
    for (const [key, n] of [["lp", 30], ["ht", 700]] as const) {
      const args = Array.from({ length: n }, (_, i) => [`f${i}`, `v${i}`]).flat();
      await c.call("HSET", key, ...args);
      const order = bulks(await c.call("HKEYS", key));
      for (const count of [1, 2, 5, 10, 11, n - 1, n, n + 5]) {
        const got = bulks(await c.call("HRANDFIELD", key, String(count)));
        assert.equal(got.length, Math.min(count, n));
        assert.equal(new Set(got).size, got.length, "distinct");
        for (const f of got) assert.ok(/^f\d+$/.test(f));
        if (key === "lp" && count * 3 <= n) {
          // A unique sample of a listpack keeps listpack order.
          const idx = got.map((f) => order.indexOf(f));
          assert.deepEqual(idx, [...idx].sort((x, y) => x - y));
        }
        const wv = bulks(await c.call("HRANDFIELD", key, String(count), "WITHVALUES"));
        assert.equal(wv.length, 2 * Math.min(count, n));
        for (let i = 0; i < wv.length; i += 2) assert.equal(wv[i + 1], "v" + wv[i].slice(1));
      }
      const neg = bulks(await c.call("HRANDFIELD", key, "-200", "WITHVALUES"));
      assert.equal(neg.length, 400);
      for (let i = 0; i < neg.length; i += 2) assert.equal(neg[i + 1], "v" + neg[i].slice(1));
      assert.ok(new Set(neg.filter((_, i) => i % 2 === 0)).size > 10);
      const one = await c.call("HRANDFIELD", key);
      assert.ok(/^\$\d+\r\nf\d+\r\n$/.test(one));
    }
    // A hashtable with most fields deleted: random picks skip the holes they left.
    await c.call("HDEL", "ht", ...Array.from({ length: 600 }, (_, i) => `f${i}`));
    for (const count of [1, 5, 33, 34, 99, 100]) {
      const got = bulks(await c.call("HRANDFIELD", "ht", String(count), "WITHVALUES"));
      assert.equal(got.length, 2 * count);
      const fields = got.filter((_, i) => i % 2 === 0);
      assert.equal(new Set(fields).size, count, "distinct");
      for (let i = 0; i < got.length; i += 2) {
        assert.ok(Number(got[i].slice(1)) >= 600, `${got[i]} was deleted`);
        assert.equal(got[i + 1], "v" + got[i].slice(1));
      }
    }
    const picks = new Set<string>();
    for (let i = 0; i < 40; i++) {
      for (const f of bulks(await c.call("HRANDFIELD", "ht", "-50"))) picks.add(f);
    }
    assert.ok(picks.size > 90, `only ${picks.size} of 100 fields picked`);
    for (const f of picks) assert.ok(Number(f.slice(1)) >= 600, `${f} was deleted`);
    await c.call("HELLO", "3");
    const raw = await c.call("HRANDFIELD", "lp", "-3", "WITHVALUES");
    const { header, items } = elements(raw);
    assert.equal(header, "*3\r\n");
    for (const it of items) assert.ok(it.startsWith("*2\r\n"));
    // A huge negative count is refused without building the reply.
    const big = await t.client();
    big.write(
      "*4\r\n$10\r\nHRANDFIELD\r\n$2\r\nlp\r\n$20\r\n-4611686018427387903\r\n$10\r\nWITHVALUES\r\n",
    );
    await big.waitClosed(30000);
    assert.equal(await c.call("PING"), "+PONG\r\n");
  } finally {
    await t.stop();
  }
});

Deno.test("hashes: propagation, keyspace events and the dirty counter", async () => {
  const t = await startAmber();
  try {
    const server = t.amber.server;
    const c = await t.client();
    const run = effectsRecorder(server, c);
    let x = await run("HSET", "h", "a", "1", "b", "2");
    assert.deepEqual([x.ops, x.events, x.dirty], [
      [["HSET", "h", "a", "1", "b", "2"]],
      ["h:hset:h"],
      2,
    ]);
    x = await run("HSET", "h", "a", "1");
    assert.deepEqual([x.reply, x.events, x.dirty], [":0\r\n", ["h:hset:h"], 1]);
    x = await run("HMSET", "h", "c", "3");
    assert.deepEqual([x.ops, x.events], [[["HMSET", "h", "c", "3"]], ["h:hset:h"]]);
    x = await run("HSETNX", "h", "a", "9");
    assert.deepEqual([x.ops, x.events, x.dirty], [[], [], 0]);
    x = await run("HSETNX", "h", "d", "4");
    assert.deepEqual([x.ops, x.events, x.dirty], [[["HSETNX", "h", "d", "4"]], ["h:hset:h"], 1]);
    x = await run("HINCRBY", "h", "n", "5");
    assert.deepEqual([x.ops, x.events, x.dirty], [
      [["HINCRBY", "h", "n", "5"]],
      ["h:hincrby:h"],
      1,
    ]);
    x = await run("HINCRBYFLOAT", "h", "f", "1.5");
    assert.deepEqual(x.ops, [["HSET", "h", "f", "1.5"]]);
    assert.deepEqual(x.events, ["h:hincrbyfloat:h"]);
    x = await run("HINCRBYFLOAT", "h", "f", "0.1");
    assert.deepEqual(x.ops, [["HSET", "h", "f", "1.6"]]);
    x = await run("HINCRBYFLOAT", "h", "a", "x");
    assert.deepEqual([x.ops, x.dirty], [[], 0]);
    x = await run("HDEL", "h", "zz");
    assert.deepEqual([x.ops, x.events, x.dirty], [[], [], 0]);
    x = await run("HDEL", "h", "a", "b", "zz");
    assert.deepEqual([x.ops, x.events, x.dirty], [
      [["HDEL", "h", "a", "b", "zz"]],
      ["h:hdel:h"],
      2,
    ]);
    x = await run("HDEL", "h", "c", "d", "n", "f");
    assert.deepEqual([x.events, x.dirty], [["h:hdel:h", "g:del:h"], 4]);
    x = await run("HGETALL", "h");
    assert.deepEqual([x.reply, x.ops, x.dirty], ["*0\r\n", [], 0]);
    x = await run("HRANDFIELD", "h", "3");
    assert.deepEqual([x.ops, x.dirty], [[], 0]);
  } finally {
    await t.stop();
  }
});

Deno.test("hashes: WATCH hooks run only on real changes", async () => {
  const t = await startAmber();
  try {
    const touched: string[] = [];
    t.amber.server.onKeyModified((_db, key) => touched.push(key));
    const c = await t.client();
    await c.call("HSET", "h", "a", "1");
    assert.deepEqual(touched, ["h"]);
    touched.length = 0;
    await c.call("HSETNX", "h", "a", "2");
    await c.call("HDEL", "h", "zz");
    await c.call("HINCRBY", "h", "a", "x");
    await c.call("HGET", "h", "a");
    assert.deepEqual(touched, []);
    await c.call("HINCRBY", "h", "a", "1");
    await c.call("HINCRBY", "new", "a", "1");
    assert.deepEqual(touched, ["h", "new"]);
  } finally {
    await t.stop();
  }
});

Deno.test("hashes: ioredis round trip", async () => {
  const t = await startAmber();
  const client = new Redis({ port: t.port, lazyConnect: true });
  try {
    await client.connect();
    assert.equal(await client.hset("user:1", { name: "Ada", lang: "en", visits: "1" }), 3);
    assert.deepEqual(await client.hgetall("user:1"), { name: "Ada", lang: "en", visits: "1" });
    assert.equal(await client.hincrby("user:1", "visits", 41), 42);
    assert.equal(await client.hincrbyfloat("user:1", "score", "2.5"), "2.5");
    assert.deepEqual(await client.hmget("user:1", "name", "nope"), ["Ada", null]);
    assert.deepEqual(await client.hkeys("user:1"), ["name", "lang", "visits", "score"]);
    assert.equal(await client.hlen("user:1"), 4);
    assert.equal(await client.hexists("user:1", "lang"), 1);
    assert.equal(await client.hstrlen("user:1", "name"), 3);
    assert.equal(await client.hdel("user:1", "lang"), 1);
    assert.equal(await client.hsetnx("user:1", "name", "Bob"), 0);
    const rf = await client.hrandfield("user:1", 2, "WITHVALUES");
    assert.equal(rf?.length, 4);
    const seen: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const stream = client.hscanStream("user:1", { count: 1 });
      stream.on("data", (batch: string[]) => seen.push(...batch));
      stream.on("end", resolve);
      stream.on("error", reject);
    });
    assert.deepEqual(seen, ["name", "Ada", "visits", "42", "score", "2.5"]);
    await assert.rejects(client.hincrby("user:1", "name", 1), /hash value is not an integer/);
  } finally {
    client.disconnect();
    await t.stop();
  }
});
