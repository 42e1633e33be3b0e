// Tests for src/commands/strings.ts: differential scripts against redis-server (every SET
// and GETEX option combination, error paths, binary and 1MB values, int64 limits,
// INCRBYFLOAT's long double arithmetic, a fixed-seed random sequence), the long double
// helpers on their own, and the canonical forms written to the propagation feed.
import assert from "node:assert/strict";
import { compareScript, type Pair, type Step, withPair } from "./helpers/differential.ts";
import { skipWithoutRedis, startAmber } from "./helpers/servers.ts";
import type { PropagatedOp } from "../src/server/server.ts";
import {
  addLongDouble,
  formatLongDoubleHuman,
  incrByFloatText,
  parseLongDouble,
} from "../src/commands/strings.ts";
import { prng } from "./helpers/prng.ts";

const noRedis = skipWithoutRedis();

/** True when Amber knows `cmd` (steps using other families run only once they exist). */
function amberHas(pair: Pair, cmd: string): boolean {
  return pair.amber.amber.server.commands.has(cmd);
}

const FUTURE_S = String(Math.floor(Date.now() / 1000) + 100000);
const FUTURE_MS = String(Date.now() + 100000000);
const PAST_S = "1000";
const PAST_MS = "1000000";

/**
 * A TTL query whose answer cannot differ between two servers a millisecond apart: TTL
 * after relative expiries (rounded to seconds), EXPIRETIME after absolute ones.
 */
function ttlStep(opts: string[]): Step {
  const abs = opts.some((o) => /^(ex|px)at$/i.test(o));
  return [abs ? "EXPIRETIME" : "TTL", "k"];
}

Deno.test({
  name: "strings: GET/SET basics and errors match redis-server",
  ignore: noRedis,
  async fn() {
    await withPair([], async (r, a, pair) => {
      const steps: Step[] = [
        ["GET", "nokey"],
        ["SET", "k", "v"],
        ["GET", "k"],
        ["SET", "k", ""],
        ["GET", "k"],
        ["STRLEN", "k"],
        ["STRLEN", "nokey"],
        ["SET"],
        ["SET", "k"],
        ["GET"],
        ["GET", "a", "b"],
        ["set", "K", "upper"],
        ["get", "K"],
        ["SET", "k", "v", "bogus"],
        ["SET", "k", "v", "EX"],
        ["SET", "k", "v", "EX", "10", "PX", "100"],
        ["SETNX", "n", "1"],
        ["SETNX", "n", "2"],
        ["GET", "n"],
        ["SETNX", "n"],
        ["SETEX", "e", "100", "v"],
        ["TTL", "e"],
        ["SETEX", "e", "0", "v"],
        ["SETEX", "e", "-5", "v"],
        ["SETEX", "e", "abc", "v"],
        ["SETEX", "e", "9223372036854775", "v"],
        ["SETEX", "e", "9223372036854776", "v"],
        ["SETEX", "e", "10"],
        ["PSETEX", "p", "100000", "v"],
        ["TTL", "p"],
        ["PSETEX", "p", "0", "v"],
        ["PSETEX", "p", "-1", "v"],
        ["PSETEX", "p", "9223372036854775807", "v"],
        ["PSETEX", "p", "1.5", "v"],
        ["GETSET", "gs", "1"],
        ["GETSET", "gs", "2"],
        ["GET", "gs"],
        ["SETEX", "gst", "1000", "x"],
        ["GETSET", "gst", "y"],
        ["TTL", "gst"],
        ["GETDEL", "gs"],
        ["GETDEL", "gs"],
        ["EXISTS", "gs"],
        ["MSET", "m1", "a", "m2", "b", "m3", "c"],
        ["MGET", "m1", "m2", "nokey", "m3"],
        ["MSET", "m1", "a", "m2"],
        ["MSET", "m1"],
        ["MSETNX", "m1", "x", "new", "y"],
        ["GET", "new"],
        ["MSETNX", "new1", "x", "new2", "y"],
        ["MGET", "new1", "new2"],
        ["MSETNX", "new1", "x", "new2"],
        ["MSET", "dup", "1", "dup", "2"],
        ["GET", "dup"],
        ["MSETNX", "dupnx", "1", "dupnx", "2"],
        ["GET", "dupnx"],
        ["APPEND", "ap", "hello"],
        ["APPEND", "ap", " world"],
        ["APPEND", "ap", ""],
        ["GET", "ap"],
        ["APPEND", "ap"],
        ["SETEX", "apt", "1000", "x"],
        ["APPEND", "apt", "y"],
        ["TTL", "apt"],
        ["SET", "int", "10"],
        ["APPEND", "int", "5"],
        ["GET", "int"],
        ["OBJECT", "ENCODING", "int"],
        ["INCR", "int"],
        ["OBJECT", "ENCODING", "int"],
      ];
      if (amberHas(pair, "rpush")) {
        steps.push(
          ["RPUSH", "list", "a"],
          ["GET", "list"],
          ["SET", "list", "v", "GET"],
          ["GETSET", "list", "v"],
          ["GETDEL", "list"],
          ["GETEX", "list"],
          ["APPEND", "list", "x"],
          ["STRLEN", "list"],
          ["INCR", "list"],
          ["INCRBYFLOAT", "list", "1"],
          ["GETRANGE", "list", "0", "1"],
          ["SETRANGE", "list", "0", "x"],
          ["MGET", "list", "m1"],
          ["SET", "list", "v"],
          ["GET", "list"],
        );
      }
      await compareScript(r, a, steps);
    });
  },
});

Deno.test({
  name: "strings: every pair of SET options, on a missing and an existing key",
  ignore: noRedis,
  async fn() {
    const opts: string[][] = [
      ["NX"],
      ["XX"],
      ["GET"],
      ["KEEPTTL"],
      ["EX", "1000"],
      ["PX", "1000000"],
      ["EXAT", FUTURE_S],
      ["PXAT", FUTURE_MS],
      ["EXAT", PAST_S],
      ["ex", "0"],
      ["px", "-1"],
      ["EX", "x"],
      ["nx"],
      ["get"],
      ["keepttl"],
      ["PERSIST"],
      ["EX"],
    ];
    await withPair([], async (r, a) => {
      const steps: Step[] = [];
      for (const o1 of opts) {
        steps.push(["SET", "k", "v", ...o1]);
        steps.push(["GET", "k"]);
        for (const o2 of opts) {
          for (const existing of [false, true]) {
            steps.push(["DEL", "k"]);
            if (existing) steps.push(["SET", "k", "old", "EX", "5000"]);
            steps.push(["SET", "k", "new", ...o1, ...o2]);
            steps.push(["GET", "k"]);
            steps.push(ttlStep([...o1, ...o2]));
          }
        }
      }
      // Triples that Redis accepts or refuses depending on order.
      steps.push(
        ["SET", "k", "v", "NX", "GET", "EX", "100"],
        ["SET", "k", "v", "GET", "GET", "XX"],
        ["SET", "k", "v", "EX", "10", "EX", "20"],
        ["TTL", "k"],
        ["SET", "k", "v", "KEEPTTL", "KEEPTTL"],
        ["SET", "k", "v", "NX", "NX"],
        ["SET", "k", "v", "XX", "NX"],
        ["SET", "k", "v", "EX", "10", "KEEPTTL"],
        ["SET", "k", "v", "PXAT", "9223372036854775807"],
        ["PTTL", "nokey"],
        ["SET", "k", "v", "EXAT", "9223372036854775"],
        ["SET", "k", "v", "EXAT", "9223372036854776"],
        ["SET", "k", "v", "EX", "9223372036854775807"],
        ["SET", "k", "v", "PX", "9223372036854775807"],
        ["SET", "k", "v", "PX", "9223372036854775806"],
        // Either side of the largest exact double (2^53 - 1 = 9007199254740991 ms).
        ["SET", "k", "v", "EXAT", "9007199254740"],
        ["PEXPIRETIME", "k"],
        ["SET", "k", "v", "EXAT", "9007199254741"],
        ["PEXPIRETIME", "k"],
        ["SET", "k", "v", "PXAT", "999999999999999"],
        ["PEXPIRETIME", "k"],
        // Past 2^53 - 1 Amber keeps the nearest double (README, compatibility notes).
        ["SET", "k", "v", "PXAT", "9007199254740993"],
        ["SET", "k", "v", "EX", "1.5"],
        ["SET", "k", "v", "EX", ""],
        ["SET", "k", "v", "nx\0junk"],
        ["GET", "k"],
      );
      // The "old" key's EX 5000 survives a refused SET: a TTL relative to now.
      await compareScript(r, a, steps, { ttlSlack: true });
    });
  },
});

Deno.test({
  name: "strings: GETEX options and errors",
  ignore: noRedis,
  async fn() {
    const opts: string[][] = [
      [],
      ["EX", "1000"],
      ["PX", "1000000"],
      ["EXAT", FUTURE_S],
      ["PXAT", FUTURE_MS],
      ["PERSIST"],
      ["EXAT", PAST_S],
      ["PXAT", PAST_MS],
      ["EX", "0"],
      ["PX", "-1"],
      ["EX", "abc"],
      ["EX", "9223372036854776"],
      ["KEEPTTL"],
      ["NX"],
      ["GET"],
      ["EX"],
      ["persist"],
    ];
    await withPair([], async (r, a) => {
      const steps: Step[] = [["GETEX", "nokey"], ["GETEX", "nokey", "EX", "abc"], ["GETEX"]];
      for (const o1 of opts) {
        for (const o2 of opts) {
          steps.push(["SET", "k", "v", "EX", "5000"]);
          steps.push(["GETEX", "k", ...o1, ...o2]);
          steps.push(ttlStep([...o1, ...o2]));
          steps.push(["EXISTS", "k"]);
        }
      }
      steps.push(
        ["SET", "k", "v"],
        ["GETEX", "k", "PERSIST"],
        ["TTL", "k"],
        ["GETEX", "k", "EXAT", FUTURE_S],
        ["EXPIRETIME", "k"],
        ["GETEX", "k", "PXAT", FUTURE_MS],
        ["PEXPIRETIME", "k"],
      );
      // A refused GETEX leaves the SET's EX 5000, relative to now.
      await compareScript(r, a, steps, { ttlSlack: true });
    });
  },
});

Deno.test({
  name: "strings: binary keys and values with every byte 0x00-0xff",
  ignore: noRedis,
  async fn() {
    let all = "";
    for (let i = 0; i < 256; i++) all += String.fromCharCode(i);
    await withPair([], async (r, a) => {
      const steps: Step[] = [
        ["SET", all, all],
        ["GET", all],
        ["STRLEN", all],
        ["APPEND", all, all],
        ["GETRANGE", all, "250", "260"],
        ["SETRANGE", all, "1", "\0\xff\r\n"],
        ["GETRANGE", all, "0", "5"],
        ["GETDEL", all],
      ];
      for (let i = 0; i < 256; i++) {
        const b = String.fromCharCode(i);
        steps.push(["SET", "k" + b, b + "v" + b]);
      }
      for (let i = 0; i < 256; i++) {
        const b = String.fromCharCode(i);
        steps.push(["GET", "k" + b], ["APPEND", "k" + b, b]);
      }
      steps.push(["MGET", ...Array.from({ length: 256 }, (_, i) => "k" + String.fromCharCode(i))]);
      await compareScript(r, a, steps);
    });
  },
});

Deno.test({
  name: "strings: 1MB values, ranges and the proto-max-bulk-len limit",
  ignore: noRedis,
  async fn() {
    const rnd = prng(7);
    let big = "";
    const chunk: string[] = [];
    for (let i = 0; i < 1 << 20; i++) chunk.push(String.fromCharCode(Math.floor(rnd() * 256)));
    big = chunk.join("");
    await withPair(["--proto-max-bulk-len", "2mb"], async (r, a) => {
      await compareScript(r, a, [
        ["SET", "big", big],
        ["STRLEN", "big"],
        ["GETRANGE", "big", "500000", "500100"],
        ["GETRANGE", "big", "-100", "-1"],
        ["SUBSTR", "big", "1048570", "99999999"],
        ["APPEND", "big", big],
        ["STRLEN", "big"],
        ["APPEND", "big", "x"],
        ["STRLEN", "big"],
        ["SETRANGE", "big", "2097151", "y"],
        ["SETRANGE", "big", "2097152", "y"],
        ["SETRANGE", "big", "2097152", ""],
        ["SETRANGE", "new", "2097152", "y"],
        ["SETRANGE", "new", "2097152", ""],
        ["EXISTS", "new"],
        ["SETRANGE", "new", "2097151", "y"],
        ["STRLEN", "new"],
        ["GETRANGE", "new", "0", "3"],
        ["GETRANGE", "new", "-2", "-1"],
        ["GET", "big"],
        ["SET", "small", "ab"],
        ["APPEND", "small", big + big],
        ["SETRANGE", "small", "536870911", "x"],
      ]);
    });
    await withPair([], async (r, a) => {
      await compareScript(r, a, [
        ["SETRANGE", "k", "536870911", ""],
        ["SETRANGE", "k", "536870912", "x"],
        ["SETRANGE", "k", "9223372036854775807", "x"],
        ["SETRANGE", "k", "-1", "x"],
        ["SETRANGE", "k", "abc", "x"],
        ["SET", "k", "hello"],
        ["SETRANGE", "k", "536870912", "x"],
        ["SETRANGE", "k", "-1", ""],
        ["SETRANGE", "k", "1", ""],
        ["GET", "k"],
      ]);
    });
  },
});

Deno.test({
  name: "strings: SETRANGE, GETRANGE and SUBSTR index arithmetic",
  ignore: noRedis,
  async fn() {
    const idx = [
      "0",
      "1",
      "2",
      "4",
      "5",
      "6",
      "100",
      "-1",
      "-2",
      "-5",
      "-6",
      "-100",
      "9223372036854775807",
      "-9223372036854775808",
      "-9223372036854775807",
    ];
    await withPair([], async (r, a) => {
      const steps: Step[] = [["SET", "s", "hello"], ["SET", "e", ""], ["SET", "n", "12345"]];
      for (const s of idx) {
        for (const e of idx) {
          steps.push(["GETRANGE", "s", s, e], ["SUBSTR", "n", s, e], ["GETRANGE", "e", s, e]);
        }
      }
      steps.push(
        ["GETRANGE", "nokey", "0", "-1"],
        ["GETRANGE", "s", "a", "1"],
        ["GETRANGE", "s", "0", "b"],
        ["GETRANGE", "s", "9223372036854775808", "1"],
        ["GETRANGE", "nokey", "x", "1"],
        ["GETRANGE", "s", "0"],
        ["SETRANGE", "s", "0", "J"],
        ["SETRANGE", "s", "5", "!"],
        ["SETRANGE", "s", "10", "?"],
        ["GET", "s"],
        ["SETRANGE", "n", "0", "9"],
        ["GET", "n"],
        ["OBJECT", "ENCODING", "n"],
        ["SETRANGE", "fresh", "3", "abc"],
        ["GET", "fresh"],
        ["OBJECT", "ENCODING", "fresh"],
        ["SETRANGE", "s", "2", "xyzxyzxyz"],
        ["GET", "s"],
      );
      await compareScript(r, a, steps);
    });
  },
});

Deno.test({
  name: "strings: INCR family at the int64 limits and with malformed numbers",
  ignore: noRedis,
  async fn() {
    const values = [
      "0",
      "1",
      "-1",
      "9223372036854775807",
      "9223372036854775806",
      "-9223372036854775808",
      "-9223372036854775807",
      "9223372036854775808",
      "-9223372036854775809",
      "01",
      "-0",
      "+1",
      " 1",
      "1 ",
      "1.0",
      "",
      "abc",
      "12345678901234567890",
      "00",
      "9999",
      "10000",
      "1\0",
    ];
    await withPair([], async (r, a) => {
      const steps: Step[] = [["INCR", "fresh"], ["DECR", "fresh2"], ["INCRBY", "fresh3", "-5"]];
      for (const v of values) {
        steps.push(
          ["SET", "k", v],
          ["INCR", "k"],
          ["GET", "k"],
          ["SET", "k", v],
          ["DECR", "k"],
          ["SET", "k", v],
          ["INCRBY", "k", "9223372036854775807"],
          ["SET", "k", v],
          ["INCRBY", "k", "-9223372036854775808"],
          ["SET", "k", v],
          ["DECRBY", "k", "9223372036854775807"],
          ["SET", "k", v],
          ["DECRBY", "k", "-9223372036854775807"],
          ["GET", "k"],
          ["SET", "k", "5"],
          ["INCRBY", "k", v],
          ["DECRBY", "k", v],
          ["GET", "k"],
        );
      }
      steps.push(
        ["SET", "k", "1"],
        ["DECRBY", "k", "-9223372036854775808"],
        ["INCRBY", "k"],
        ["INCR", "k", "1"],
        ["SETEX", "t", "1000", "1"],
        ["INCR", "t"],
        ["TTL", "t"],
        ["INCRBY", "t", "10"],
        ["TTL", "t"],
        ["SET", "r", "9998"],
        ["INCR", "r"],
        ["OBJECT", "REFCOUNT", "r"],
        ["INCR", "r"],
        ["OBJECT", "REFCOUNT", "r"],
        ["OBJECT", "ENCODING", "r"],
        ["SET", "r", "-1"],
        ["INCR", "r"],
        ["OBJECT", "REFCOUNT", "r"],
      );
      await compareScript(r, a, steps);
    });
  },
});

const FLOATS = [
  "0",
  "1",
  "-1",
  "0.1",
  "-0.1",
  "10.5",
  "3.0e3",
  "1e-7",
  "1E+2",
  "1e-18",
  "-1e-18",
  "5.0e-324",
  "1.7976931348623157e308",
  "1e400",
  "-1e400",
  "1e-400",
  "1e4932",
  "1.2e4932",
  "1e-4950",
  "1e-5000",
  "1e5000",
  "inf",
  "-inf",
  "+inf",
  "Infinity",
  "-INFINITY",
  "infin",
  "nan",
  "NaN",
  "-nan",
  "0x10",
  "0x1p-2",
  "0X1.8P1",
  "0x",
  "0x.8",
  " 1",
  "1 ",
  "+1",
  ".5",
  "5.",
  ".",
  "1e",
  "1e+",
  "-0",
  "-0.0",
  "00012.5",
  "1.23456789012345678901234567890",
  "123456789012345678901234567890",
  "9223372036854775807",
  "0.30000000000000004",
  "1\0garbage",
  "",
  "abc",
  "1..2",
  "--1",
];

Deno.test({
  name: "strings: INCRBYFLOAT formatting and parsing match Redis's long double",
  ignore: noRedis,
  async fn() {
    await withPair([], async (r, a) => {
      const steps: Step[] = [
        ["INCRBYFLOAT", "f", "10.5"],
        ["INCRBYFLOAT", "f", "0.1"],
        ["INCRBYFLOAT", "f", "-5"],
        ["INCRBYFLOAT", "f", "3.0e3"],
        ["INCRBYFLOAT", "f", "1e-7"],
        ["INCRBYFLOAT", "f", "inf"],
        ["INCRBYFLOAT", "f"],
        ["GET", "f"],
        ["OBJECT", "ENCODING", "f"],
      ];
      for (let i = 0; i < 12; i++) steps.push(["INCRBYFLOAT", "tenth", "0.1"]);
      for (let i = 0; i < 12; i++) steps.push(["INCRBYFLOAT", "tenth", "-0.1"]);
      for (const v of FLOATS) {
        steps.push(["SET", "k", v], ["INCRBYFLOAT", "k", "0"], ["DEL", "k"]);
        steps.push(["INCRBYFLOAT", "k", v], ["GET", "k"]);
        steps.push(["SET", "k", "1.5"], ["INCRBYFLOAT", "k", v]);
      }
      const rnd = prng(99);
      for (let i = 0; i < 200; i++) {
        const digits = Math.floor(rnd() * 18);
        const scale = Math.floor(rnd() * 40) - 20;
        const sign = rnd() < 0.3 ? "-" : "";
        const mant = (rnd() * 10 ** (1 + Math.floor(rnd() * 6))).toFixed(digits);
        steps.push(["INCRBYFLOAT", "acc", `${sign}${mant}e${scale}`]);
        if (i % 25 === 0) steps.push(["SET", "acc", "0"]);
      }
      steps.push(
        ["SETEX", "ft", "1000", "1"],
        ["INCRBYFLOAT", "ft", "1.5"],
        ["TTL", "ft"],
        ["SET", "fi", "10"],
        ["INCRBYFLOAT", "fi", "1"],
        ["OBJECT", "ENCODING", "fi"],
        ["OBJECT", "REFCOUNT", "fi"],
        ["INCR", "fi"],
        ["OBJECT", "ENCODING", "fi"],
      );
      await compareScript(r, a, steps);
    });
  },
});

Deno.test("strings: long double helpers", () => {
  const fmt = (s: string) => {
    const v = parseLongDouble(s);
    return v === null ? null : formatLongDoubleHuman(v);
  };
  assert.equal(fmt("10.5"), "10.5");
  assert.equal(fmt("0.1"), "0.1");
  assert.equal(fmt("-0"), "0");
  assert.equal(fmt("1e-18"), "0");
  assert.equal(fmt("0x10"), "16");
  assert.equal(fmt("1e5000"), null);
  assert.equal(fmt("1e-5000"), null);
  assert.equal(fmt("nan"), null);
  assert.equal(fmt(" 1"), null);
  assert.equal(fmt("9223372036854775807"), "9223372036854775807");
  assert.equal(fmt("18446744073709551615"), "18446744073709551615");
  // 2^64 + 1 needs 65 bits: rounds to even.
  assert.equal(fmt("18446744073709551617"), "18446744073709551616");
  assert.deepEqual(incrByFloatText("0.2", "0.1"), { value: "0.3" });
  assert.deepEqual(incrByFloatText("10.5", "0.1"), { value: "10.6" });
  assert.deepEqual(incrByFloatText("1", "inf"), {
    error: "ERR increment would produce NaN or Infinity",
  });
  assert.deepEqual(incrByFloatText("x", "1"), { error: "ERR value is not a valid float" });
  const inf = parseLongDouble("inf")!;
  const ninf = parseLongDouble("-inf")!;
  assert.equal(addLongDouble(inf, ninf), null);
});

Deno.test({
  name: "strings: fixed-seed random sequence of string and key commands",
  ignore: noRedis,
  async fn() {
    const rnd = prng(20240611);
    const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)];
    const keys = ["a", "b", "c", "n", "f", "\x00\xff", "long key with spaces"];
    const values = ["", "0", "1", "-7", "42", "3.5", "hello", "\r\n\x00", "x".repeat(50), "10000"];
    const ints = ["1", "-1", "0", "100", "-9223372036854775808", "9223372036854775807", "x"];
    const floats = ["0.1", "-2.5", "1e3", "3", "x", "1e-5"];
    const gens: (() => Step)[] = [
      () => ["SET", pick(keys), pick(values)],
      () => ["SET", pick(keys), pick(values), ...pick([[], ["NX"], ["XX"], ["GET"], ["KEEPTTL"]])],
      () => ["SET", pick(keys), pick(values), "EX", pick(["100", "0", "5000"])],
      () => ["GET", pick(keys)],
      () => ["GETSET", pick(keys), pick(values)],
      () => ["GETDEL", pick(keys)],
      () => ["GETEX", pick(keys), ...pick([[], ["PERSIST"], ["EX", "1000"]])],
      () => ["SETNX", pick(keys), pick(values)],
      () => ["APPEND", pick(keys), pick(values)],
      () => ["STRLEN", pick(keys)],
      () => ["INCR", pick(keys)],
      () => ["DECR", pick(keys)],
      () => ["INCRBY", pick(keys), pick(ints)],
      () => ["DECRBY", pick(keys), pick(ints)],
      () => ["INCRBYFLOAT", pick(keys), pick(floats)],
      () => ["GETRANGE", pick(keys), pick(["0", "-1", "2", "-3"]), pick(["0", "-1", "5", "100"])],
      () => ["SETRANGE", pick(keys), pick(["0", "3", "10"]), pick(values)],
      () => ["MSET", pick(keys), pick(values), pick(keys), pick(values)],
      () => ["MSETNX", pick(keys), pick(values), pick(keys), pick(values)],
      () => ["MGET", pick(keys), pick(keys), pick(keys)],
      () => ["DEL", pick(keys), pick(keys)],
      () => ["EXISTS", pick(keys), pick(keys)],
      () => ["TYPE", pick(keys)],
      () => ["RENAME", pick(keys), pick(keys)],
      () => ["RENAMENX", pick(keys), pick(keys)],
      () => ["COPY", pick(keys), pick(keys), ...pick([[], ["REPLACE"], ["DB", "1"]])],
      () => ["MOVE", pick(keys), pick(["1", "0"])],
      () => ["EXPIRE", pick(keys), pick(["1000", "5000"]), ...pick([[], ["NX"], ["GT"], ["LT"]])],
      () => ["PERSIST", pick(keys)],
      () => ["TTL", pick(keys)],
      () => ["OBJECT", "ENCODING", pick(keys)],
      () => ["OBJECT", "REFCOUNT", pick(keys)],
      () => ["SELECT", pick(["0", "0", "1"])],
    ];
    await withPair([], async (r, a) => {
      const steps: Step[] = [];
      for (let i = 0; i < 600; i++) steps.push(pick(gens)());
      await compareScript(r, a, steps);
    });
  },
});

Deno.test("strings: propagation uses Redis's canonical forms", async () => {
  const t = await startAmber();
  try {
    const ops: PropagatedOp[] = [];
    t.amber.server.addFeed((batch) => ops.push(...batch));
    const c = await t.client();
    const run = async (...argv: string[]) => {
      ops.length = 0;
      await c.call(...argv);
      return ops.map((o) => o.argv);
    };
    const pxat = (argv: string[][]) => {
      assert.equal(argv.length, 1);
      assert.equal(argv[0][3], "PXAT");
      return Number(argv[0][4]);
    };
    const before = Date.now();
    let p = await run("SET", "k", "v", "EX", "100");
    assert.deepEqual(p[0].slice(0, 4), ["SET", "k", "v", "PXAT"]);
    assert.ok(Math.abs(pxat(p) - (before + 100000)) < 2000);
    p = await run("SET", "k", "v", "PX", "5000", "NX");
    assert.deepEqual(p, []);
    p = await run("SET", "k", "v2", "XX", "GET", "PX", "5000");
    assert.ok(Math.abs(pxat(p) - (before + 5000)) < 2000);
    p = await run("SET", "k", "v", "EXAT", "4000000000");
    assert.deepEqual(p, [["SET", "k", "v", "PXAT", "4000000000000"]]);
    p = await run("SET", "k", "v", "PXAT", "4000000000123");
    assert.deepEqual(p, [["SET", "k", "v", "PXAT", "4000000000123"]]);
    p = await run("SET", "k", "v3", "GET", "XX", "get");
    assert.deepEqual(p, [["SET", "k", "v3", "XX"]]);
    p = await run("SET", "k", "v", "KEEPTTL");
    assert.deepEqual(p, [["SET", "k", "v", "KEEPTTL"]]);
    p = await run("SETEX", "k", "100", "v");
    assert.deepEqual(p[0].slice(0, 4), ["SET", "k", "v", "PXAT"]);
    p = await run("PSETEX", "k", "100000", "v");
    assert.ok(Math.abs(pxat(p) - (before + 100000)) < 2000);
    p = await run("SETNX", "nx", "1");
    assert.deepEqual(p, [["SETNX", "nx", "1"]]);
    p = await run("SETNX", "nx", "1");
    assert.deepEqual(p, []);
    p = await run("GETSET", "k", "new");
    assert.deepEqual(p, [["SET", "k", "new"]]);
    p = await run("GETDEL", "k");
    assert.deepEqual(p, [["DEL", "k"]]);
    p = await run("GETDEL", "k");
    assert.deepEqual(p, []);
    p = await run("INCRBYFLOAT", "f", "1.5");
    assert.deepEqual(p, [["SET", "f", "1.5", "KEEPTTL"]]);
    p = await run("INCRBYFLOAT", "f", "0.1");
    assert.deepEqual(p, [["SET", "f", "1.6", "KEEPTTL"]]);
    p = await run("INCR", "i");
    assert.deepEqual(p, [["INCR", "i"]]);
    p = await run("SET", "g", "v");
    p = await run("GETEX", "g", "EX", "100");
    assert.equal(p[0][0], "PEXPIREAT");
    assert.ok(Math.abs(Number(p[0][2]) - (before + 100000)) < 2000);
    p = await run("GETEX", "g", "PXAT", "4000000000000");
    assert.deepEqual(p, [["PEXPIREAT", "g", "4000000000000"]]);
    p = await run("GETEX", "g", "PERSIST");
    assert.deepEqual(p, [["PERSIST", "g"]]);
    p = await run("GETEX", "g", "PERSIST");
    assert.deepEqual(p, []);
    p = await run("GETEX", "g");
    assert.deepEqual(p, []);
    p = await run("GETEX", "g", "EXAT", "1000");
    assert.deepEqual(p, [["DEL", "g"]]);
    p = await run("MSET", "a", "1", "b", "2");
    assert.deepEqual(p, [["MSET", "a", "1", "b", "2"]]);
    p = await run("APPEND", "a", "x");
    assert.deepEqual(p, [["APPEND", "a", "x"]]);
    p = await run("GET", "a");
    assert.deepEqual(p, []);
    // A key found expired by a read propagates a DEL of its own.
    await run("SET", "exp", "v", "PX", "1");
    await new Promise((r) => setTimeout(r, 20));
    p = await run("GET", "exp");
    assert.deepEqual(p, [["DEL", "exp"]]);
  } finally {
    await t.stop();
  }
});

Deno.test("strings: keyspace notifications and dirty counter", async () => {
  const t = await startAmber();
  try {
    const events: string[] = [];
    const server = t.amber.server;
    server.onNotify((cls, event, key) => events.push(`${cls}:${event}:${key}`));
    const c = await t.client();
    const d0 = server.dirty;
    await c.call("SET", "k", "1", "EX", "100");
    await c.call("INCRBY", "k", "2");
    await c.call("INCRBYFLOAT", "k", "0.5");
    await c.call("APPEND", "k", "0");
    await c.call("SETRANGE", "k", "0", "9");
    await c.call("GETDEL", "k");
    await c.call("MSET", "a", "1", "b", "2");
    await c.call("GET", "a");
    assert.deepEqual(events, [
      "$:set:k",
      "g:expire:k",
      "$:incrby:k",
      "$:incrbyfloat:k",
      "$:append:k",
      "$:setrange:k",
      "g:del:k",
      "$:set:a",
      "$:set:b",
    ]);
    assert.equal(server.dirty - d0, 8);
  } finally {
    await t.stop();
  }
});
