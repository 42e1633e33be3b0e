// Tests for src/persistence/rdb against real Redis: every RDB file under shared/fixtures
// (written by redis-server 7.0.15, or older ones from Redis's own test assets) parses and
// holds what expected.json says; RdbWriter rewrites the 7.0.15 files byte for byte; and,
// live, redis-check-rdb and redis-server accept files and DUMP payloads we write, and
// DEBUG DIGEST agrees with digest.ts.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { formatDouble } from "../src/server/reply.ts";
import { parseRdb, RdbParser } from "../src/persistence/rdb/reader.ts";
import { concat, RdbWriter, writeRdb } from "../src/persistence/rdb/writer.ts";
import {
  decodeDump,
  DUMP_ERR_VERSION_OR_CHECKSUM,
  DumpPayloadError,
  encodeDumpLatin1,
} from "../src/persistence/rdb/dump.ts";
import { datasetDigest, valueDigest } from "../src/persistence/rdb/digest.ts";
import { RdbError } from "../src/persistence/rdb/types.ts";
import type { RdbEntry, RdbValue } from "../src/persistence/rdb/types.ts";
import { IN_CI, skipWithoutRedis, spawnRedis, tempDir } from "./helpers/servers.ts";
import type { RawClient } from "./helpers/resp_client.ts";
import { prng } from "./helpers/prng.ts";
import { FIXTURES } from "./helpers/fixtures.ts";

// shared/ sits beside the repository (locally /work/shared, in CI next to the clone).
const haveFixtures = existsSync(join(FIXTURES, "README.md"));
// Missing fixtures skip locally and fail in CI (the test then runs and says why).
const noFixtures = !haveFixtures && !IN_CI;
const noRedis = skipWithoutRedis();

function fixturePath(...parts: string[]): string {
  assert.ok(haveFixtures, `fixtures not found at ${FIXTURES} (set AMBER_FIXTURES)`);
  return join(FIXTURES, ...parts);
}

/** The error `fn` throws (fails if it returns). */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new assert.AssertionError({ message: "expected an error" });
}

function readBytes(path: string): Uint8Array {
  const b = readFileSync(path);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

// ---- expected.json comparison ----------------------------------------------------------

interface ExpectedKey {
  type: string;
  encoding: string;
  value: unknown;
  pexpireat: number | null;
}
type ExpectedDbs = Record<string, Record<string, ExpectedKey>>;

/** Our value in expected.json's shape: sets sorted, hashes as objects, scores as %.17g. */
function jsonShape(v: RdbValue): unknown {
  switch (v.type) {
    case "string":
      return v.value;
    case "list":
      return v.items;
    case "set":
      return [...v.members].sort();
    case "hash":
      return Object.fromEntries(v.entries);
    case "zset":
      return v.entries.map(([m, s]) => [m, formatDouble(s)]);
  }
}

/** Compares entries with expected.json's dbs, skipping keys named in `skip`. */
function compareWithExpected(
  entries: RdbEntry[],
  expected: ExpectedDbs,
  what: string,
  skip: Set<string> = new Set(),
): number {
  const ours = new Map<string, RdbEntry>();
  for (const e of entries) {
    const id = `${e.db}/${e.key}`;
    assert.ok(!ours.has(id), `${what}: key ${JSON.stringify(e.key)} twice in db ${e.db}`);
    ours.set(id, e);
  }
  let compared = 0;
  for (const [db, keys] of Object.entries(expected)) {
    for (const [key, exp] of Object.entries(keys)) {
      if (skip.has(key)) continue;
      const e = ours.get(`${db}/${key}`);
      assert.ok(e, `${what}: db ${db} key ${JSON.stringify(key)} missing`);
      assert.equal(e.value.type, exp.type, `${what}: type of ${JSON.stringify(key)}`);
      assert.deepEqual(jsonShape(e.value), exp.value, `${what}: value of ${JSON.stringify(key)}`);
      if (exp.pexpireat === null) {
        assert.equal(e.expireAtMs, undefined, `${what}: ${JSON.stringify(key)} has no TTL`);
      } else {
        assert.ok(
          e.expireAtMs !== undefined && Math.abs(e.expireAtMs - exp.pexpireat) < 5000,
          `${what}: expiry of ${JSON.stringify(key)}: ${e.expireAtMs} vs ${exp.pexpireat}`,
        );
      }
      ours.delete(`${db}/${key}`);
      compared++;
    }
  }
  for (const e of ours.values()) {
    assert.ok(skip.has(e.key), `${what}: unexpected key ${JSON.stringify(e.key)} in db ${e.db}`);
  }
  return compared;
}

/** Every argument of every command in AOF files (a superset of the keys they touch). */
function aofArguments(paths: string[]): Set<string> {
  const out = new Set<string>();
  for (const path of paths) {
    const s = readFileSync(path).toString("latin1");
    let p = 0;
    while (p < s.length) {
      const nl = s.indexOf("\r\n", p);
      if (nl < 0) break;
      const line = s.slice(p, nl);
      p = nl + 2;
      if (line[0] === "$") {
        const n = Number(line.slice(1));
        out.add(s.slice(p, p + n));
        p += n + 2;
      }
    }
  }
  return out;
}

const SCENARIOS_7 = [
  "rdb-default",
  "rdb-nocompress",
  "rdb-nochecksum",
  "rdb-compressed-list",
  "rdb-no-listpacks",
];

Deno.test({
  name: "rdb fixtures: every redis-7.0.15 dump.rdb equals its expected.json",
  ignore: noFixtures,
  fn() {
    for (const scenario of SCENARIOS_7) {
      const dir = fixturePath("redis-7.0.15", scenario);
      const warnings: string[] = [];
      const file = parseRdb(readBytes(join(dir, "dump.rdb")), {
        onWarning: (m) => warnings.push(m),
      });
      const expected = JSON.parse(readFileSync(join(dir, "expected.json"), "utf8"));
      assert.equal(file.version, 10, scenario);
      assert.equal(file.aux.get("redis-ver"), "7.0.15", scenario);
      assert.deepEqual(
        [...file.aux.keys()],
        ["redis-ver", "redis-bits", "ctime", "used-mem", "aof-base"],
        scenario,
      );
      assert.ok(file.checksum, scenario);
      if (scenario === "rdb-nochecksum") {
        assert.equal(file.checksum.stored, 0n);
        assert.ok(warnings.some((w) => w.includes("checksum disabled")), scenario);
      } else {
        assert.equal(file.checksum.stored, file.checksum.computed, scenario);
      }
      const n = compareWithExpected(file.entries, expected.dbs, scenario);
      assert.equal(n, 30, scenario);
    }
  },
});

Deno.test({
  name: "rdb fixtures: AOF base RDBs parse; the current base matches expected.json",
  ignore: noFixtures,
  fn() {
    for (const scenario of ["aof-hybrid", "aof-hybrid-ts", "aof-history"]) {
      const dir = fixturePath("redis-7.0.15", scenario, "appendonlydir");
      const manifest = readFileSync(join(dir, "appendonly.aof.manifest"), "utf8");
      const files = manifest.trim().split("\n").map((l) => {
        const f = l.split(" ");
        return { name: f[1], type: f[f.indexOf("type") + 1] };
      });
      for (const name of readdirSync(dir).filter((n) => n.endsWith(".rdb"))) {
        const file = parseRdb(readBytes(join(dir, name)));
        assert.equal(file.aux.get("aof-base"), "1", `${scenario}/${name} is an AOF base`);
        assert.equal(file.checksum!.stored, file.checksum!.computed, `${scenario}/${name}`);
      }
      const base = files.find((f) => f.type === "b")!;
      const incr = files.filter((f) => f.type === "i").map((f) => join(dir, f.name));
      const file = parseRdb(readBytes(join(dir, base.name)));
      const expected = JSON.parse(
        readFileSync(fixturePath("redis-7.0.15", scenario, "expected.json"), "utf8"),
      );
      const n = compareWithExpected(file.entries, expected.dbs, scenario, aofArguments(incr));
      assert.ok(n >= 25, `${scenario}: compared ${n} keys`);
    }
  },
});

Deno.test({
  name: "rdb fixtures: Redis test assets (v3..v10, zipmap, ziplists, quicklist v1, preamble)",
  ignore: noFixtures,
  fn() {
    const expected = JSON.parse(
      readFileSync(fixturePath("redis-assets", "expected.json"), "utf8"),
    ) as Record<string, { dbs?: ExpectedDbs; loads_in_redis_7_0_15: boolean }>;
    const versions: Record<string, number> = {};
    for (const [name, exp] of Object.entries(expected)) {
      if (!exp.loads_in_redis_7_0_15) continue;
      const warnings: string[] = [];
      const file = parseRdb(readBytes(fixturePath("redis-assets", name)), {
        onWarning: (m) => warnings.push(m),
      });
      versions[name] = file.version;
      compareWithExpected(file.entries, exp.dbs ?? {}, name);
      if (file.checksum && file.checksum.stored !== 0n) {
        assert.equal(file.checksum.stored, file.checksum.computed, name);
      }
    }
    assert.deepEqual(versions, {
      "corrupt_empty_keys.rdb": 10,
      "encodings.rdb": 4,
      "hash-ziplist.rdb": 9,
      "hash-zipmap.rdb": 3,
      "list-quicklist.rdb": 8,
      "scriptbackup.rdb": 10,
      "zset-ziplist.rdb": 10,
    });
    // scriptbackup.rdb carries a Lua script in a "lua" AUX field, which Redis ignores.
    const script = parseRdb(readBytes(fixturePath("redis-assets", "scriptbackup.rdb")));
    assert.ok(script.aux.get("lua")?.startsWith("return redis.call"));
    // An AOF with an RDB preamble: the RDB ends, the commands follow.
    const aof = readBytes(fixturePath("redis-assets", "rdb-preamble.aof"));
    const p = new RdbParser();
    p.push(aof);
    p.finish();
    const keys: string[] = [];
    for (let e = p.next(); e; e = p.next()) keys.push(e.key);
    assert.ok(p.done);
    assert.deepEqual(keys.sort(), ["k1", "k2"]);
    assert.equal(p.offset, 117);
    assert.equal(new TextDecoder().decode(p.rest()).slice(0, 1), "*");
  },
});

Deno.test({
  name: "rdb fixtures: corrupt_empty_keys.rdb loads empty, skipping each empty key with a warning",
  ignore: noFixtures,
  fn() {
    const warnings: [string, number][] = [];
    const file = parseRdb(readBytes(fixturePath("redis-assets", "corrupt_empty_keys.rdb")), {
      onWarning: (m, o) => warnings.push([m, o]),
    });
    assert.equal(file.entries.length, 0);
    assert.equal(file.emptyKeysSkipped, 9);
    const skipped = warnings.map(([m]) => m).filter((m) => m.startsWith("skipping empty key"));
    assert.deepEqual(skipped.map((m) => JSON.parse(m.slice(19))).sort(), [
      "hash",
      "hash_ziplist",
      "list_quicklist",
      "list_quicklist_empty_ziplist",
      "list_ziplist",
      "set",
      "zset",
      "zset_listpack",
      "zset_ziplist",
    ]);
  },
});

Deno.test({
  name: "rdb fixtures: corrupt_ziplist.rdb is refused naming the offset and the key",
  ignore: noFixtures,
  fn() {
    const bytes = readBytes(fixturePath("redis-assets", "corrupt_ziplist.rdb"));
    const err = thrown(() => parseRdb(bytes));
    assert.ok(err instanceof RdbError, String(err));
    assert.match(
      err.message,
      /^RDB error at offset \d+ reading key "key:\d+": hash-ziplist integrity check failed: /,
    );
    assert.equal(err.key?.startsWith("key:"), true);
    assert.ok(err.offset > 9 && err.offset < bytes.length);
    // Streaming refuses it too, and yields nothing for the bad key.
    const p = new RdbParser();
    const seen: string[] = [];
    assert.throws(() => {
      for (let i = 0; i < bytes.length; i += 100) {
        p.push(bytes.subarray(i, i + 100));
        for (let e = p.next(); e; e = p.next()) seen.push(e.key);
      }
      p.finish();
      for (let e = p.next(); e; e = p.next()) seen.push(e.key);
    }, RdbError);
    assert.ok(!seen.includes(err.key!));
  },
});

Deno.test({
  name: "rdb fixtures: RdbWriter rewrites every redis-7.0.15 RDB byte for byte",
  ignore: noFixtures,
  fn() {
    const paths = SCENARIOS_7.map((s) => fixturePath("redis-7.0.15", s, "dump.rdb"));
    for (const scenario of ["aof-hybrid", "aof-hybrid-ts", "aof-history"]) {
      const dir = fixturePath("redis-7.0.15", scenario, "appendonlydir");
      for (const n of readdirSync(dir)) if (n.endsWith(".rdb")) paths.push(join(dir, n));
    }
    for (const path of paths) {
      const original = readBytes(path);
      const file = parseRdb(original, { listNodes: true });
      const aux = file.aux;
      const w = new RdbWriter({
        ctime: Number(aux.get("ctime")),
        usedMem: Number(aux.get("used-mem")),
        aofBase: aux.get("aof-base") === "1",
        compression: !path.includes("nocompress"),
        checksum: file.checksum!.stored !== 0n,
        chunkSize: 4096,
      });
      w.start();
      const dbs = new Map<number, RdbEntry[]>();
      for (const e of file.entries) {
        if (!dbs.has(e.db)) dbs.set(e.db, []);
        dbs.get(e.db)!.push(e);
      }
      for (const [db, list] of dbs) {
        w.selectDb(db, list.length, list.filter((e) => e.expireAtMs !== undefined).length);
        for (const e of list) assert.ok(w.write(e));
      }
      w.end();
      const ours = concat(w.takeChunks());
      assert.equal(ours.length, original.length, path);
      const at = ours.findIndex((b, i) => b !== original[i]);
      assert.equal(at, -1, `${path}: first difference at byte ${at}`);
    }
  },
});

// ---- live interop with redis-server -----------------------------------------------------

/** A dataset exercising every type and encoding the writer produces, with TTLs. */
function liveDataset(seed: number): RdbEntry[] {
  const rnd = prng(seed);
  const int = (n: number) => Math.floor(rnd() * n);
  const bin = (n: number) => {
    let s = "";
    for (let i = 0; i < n; i++) s += String.fromCharCode(int(256));
    return s;
  };
  const word = (n: number) => {
    let s = "";
    for (let i = 0; i < n; i++) s += "abcdefgh"[int(8)];
    return s;
  };
  const now = Date.now();
  const out: RdbEntry[] = [];
  const add = (db: number, key: string, value: RdbValue, ttl = false) => {
    const e: RdbEntry = { db, key, value };
    if (ttl) e.expireAtMs = now + 86_400_000 + int(1e9);
    out.push(e);
  };
  const strings = [
    "",
    "0",
    "-1",
    "127",
    "-128",
    "128",
    "32767",
    "-32769",
    "2147483647",
    "-2147483648",
    "2147483648",
    "9223372036854775807",
    "-9223372036854775808",
    "9223372036854775808",
    "007",
    "-0",
    "+5",
    " 1",
    "1.5",
    "x".repeat(21),
    "ab".repeat(500),
    word(70000),
    bin(300),
  ];
  strings.forEach((s, i) => add(0, `str:${i}`, { type: "string", value: s }, i % 3 === 0));
  add(0, bin(12), { type: "string", value: "binary key" });
  add(0, "12345", { type: "string", value: "an int-encoded key" });
  for (let db = 0; db < 16; db++) {
    for (let i = 0; i < 20; i++) {
      add(db, `db${db}:k${i}`, { type: "string", value: word(int(40)) }, i % 4 === 0);
    }
    add(db, `db${db}:list`, { type: "list", items: [String(db), "x", bin(5)] });
  }
  add(0, "list:small", { type: "list", items: ["a", "b", "1", "-5", "70000", "", bin(10)] }, true);
  add(0, "list:big", {
    type: "list",
    items: Array.from({ length: 3000 }, (_, i) => `item-${i}-${word(i % 60)}`),
  });
  add(0, "list:ints", {
    type: "list",
    items: Array.from(
      { length: 300 },
      () => String(BigInt.asIntN(64, BigInt(int(2 ** 52)) << 12n)),
    ),
  });
  add(0, "list:nodes", { type: "list", items: [], nodes: [["a", "b"], ["c"], ["d", "e", "f"]] });
  add(0, "list:plain", { type: "list", items: ["p".repeat(20000), "q", "r".repeat(9000)] });
  add(0, "set:intset", { type: "set", members: ["1", "-100", "70000", "1099511627776", "3"] });
  add(0, "set:int64", {
    type: "set",
    members: ["-9223372036854775808", "9223372036854775807", "0"],
    intset: true,
  });
  add(0, "set:small", { type: "set", members: ["a", "b", bin(7)] }, true);
  add(0, "set:ints-as-table", { type: "set", members: ["1", "2"], encoding: "hashtable" });
  add(0, "set:big", { type: "set", members: Array.from({ length: 1000 }, (_, i) => `m${i}`) });
  add(0, "set:bigints", {
    type: "set",
    members: Array.from({ length: 600 }, (_, i) => String(i * 7 - 2000)),
  });
  const scores = [-Infinity, -1e300, -2.5, -0, 0, 0.1, 1 / 3, 1, 2 ** 53 + 2, 1e300, Infinity];
  add(0, "zset:small", {
    type: "zset",
    entries: scores.map((s, i) => [`m${i}`, s] as [string, number]),
  });
  add(0, "zset:ties", {
    type: "zset",
    entries: [["a", 1], ["b", 1], ["c", 1], [bin(4), 2]].sort((x, y) =>
      (x[1] as number) - (y[1] as number) || (x[0] < y[0] ? -1 : 1)
    ) as [string, number][],
  });
  const big: [string, number][] = Array.from(
    { length: 300 },
    (_, i) => [`z${i}`, Math.round((rnd() - 0.5) * 2e6) / 7],
  );
  big.sort((x, y) => x[1] - y[1] || (x[0] < y[0] ? -1 : 1));
  add(0, "zset:big", { type: "zset", entries: big }, true);
  add(0, "hash:small", { type: "hash", entries: [["f1", "v1"], ["f2", "2"], ["f3", ""]] }, true);
  add(0, "hash:binary", { type: "hash", entries: [[bin(5), bin(30)], ["n", "-70000"]] });
  add(0, "hash:longval", { type: "hash", entries: [["f", "v".repeat(200)]] });
  add(0, "hash:big", {
    type: "hash",
    entries: Array.from({ length: 500 }, (_, i) => [`field${i}`, `value${i}`] as [string, string]),
  });
  return out;
}

/** A RESP2 reply (Latin-1 string) as a JS value: arrays, strings, numbers, errors. */
function parseReply(raw: string): unknown {
  let p = 0;
  const read = (): unknown => {
    const nl = raw.indexOf("\r\n", p);
    const t = raw[p];
    const head = raw.slice(p + 1, nl);
    p = nl + 2;
    switch (t) {
      case "+":
        return head;
      case "-":
        return new Error(head);
      case ":":
        return Number(head);
      case "$": {
        const n = Number(head);
        if (n < 0) return null;
        const s = raw.slice(p, p + n);
        p += n + 2;
        return s;
      }
      case "*": {
        const n = Number(head);
        if (n < 0) return null;
        return Array.from({ length: n }, read);
      }
      default:
        throw new Error(`bad reply ${JSON.stringify(raw.slice(0, 40))}`);
    }
  };
  return read();
}

async function cmd(c: RawClient, ...argv: string[]): Promise<unknown> {
  return parseReply(await c.call(...argv));
}

/** A value in a comparable normal form (sets and hashes sorted). */
function normal(v: RdbValue): unknown {
  switch (v.type) {
    case "string":
      return ["string", v.value];
    case "list":
      return ["list", v.nodes ? v.nodes.flat() : v.items];
    case "set":
      return ["set", [...v.members].sort()];
    case "hash":
      return ["hash", [...v.entries].sort((a, b) => (a[0] < b[0] ? -1 : 1))];
    case "zset":
      return ["zset", v.entries.map(([m, s]) => [m, Object.is(s, -0) ? 0 : s])];
  }
}

Deno.test({
  name: "rdb live: a file from RdbWriter passes redis-check-rdb and loads into redis-server",
  ignore: noRedis,
  async fn() {
    const data = liveDataset(7);
    const dir = tempDir("rdb-live-");
    const bytes = writeRdb(data, {
      usedMem: 123456,
      thresholds: { listPackedThreshold: 10000 }, // exercise PLAIN quicklist nodes
      functions: [],
    });
    writeFileSync(join(dir, "x.rdb"), bytes);
    const check = spawnSync("redis-check-rdb", [join(dir, "x.rdb")], { encoding: "utf8" });
    assert.equal(check.status, 0, check.stdout + check.stderr);
    assert.match(check.stdout, /RDB looks OK/);

    const redis = await spawnRedis(["--dbfilename", "x.rdb"], dir);
    try {
      const c = await redis.client();
      assert.equal(await cmd(c, "DEBUG", "DIGEST"), datasetDigest(data));
      const byDb = new Map<number, RdbEntry[]>();
      for (const e of data) {
        if (!byDb.has(e.db)) byDb.set(e.db, []);
        byDb.get(e.db)!.push(e);
      }
      for (const [db, list] of byDb) {
        await cmd(c, "SELECT", String(db));
        assert.equal(await cmd(c, "DBSIZE"), list.length, `db ${db} size`);
        for (const e of list) {
          const what = `db ${db} key ${JSON.stringify(e.key)}`;
          const dump = await cmd(c, "DUMP", e.key);
          assert.equal(typeof dump, "string", what);
          assert.deepEqual(normal(decodeDump(dump as string)), normal(e.value), what);
          const pttl = (await cmd(c, "PTTL", e.key)) as number;
          if (e.expireAtMs === undefined) assert.equal(pttl, -1, what);
          else assert.ok(Math.abs(Date.now() + pttl - e.expireAtMs) < 5000, what);
          const [dv] = (await cmd(c, "DEBUG", "DIGEST-VALUE", e.key)) as string[];
          assert.equal(dv, valueDigest(e.value, e.expireAtMs !== undefined), what);
        }
      }
      // Spot checks through plain commands, independent of our DUMP decoder.
      await cmd(c, "SELECT", "0");
      assert.deepEqual(await cmd(c, "LRANGE", "list:nodes", "0", "-1"), [
        "a",
        "b",
        "c",
        "d",
        "e",
        "f",
      ]);
      assert.equal(await cmd(c, "GET", "str:11"), "9223372036854775807");
      assert.deepEqual(await cmd(c, "ZRANGE", "zset:small", "0", "2", "WITHSCORES"), [
        "m0",
        "-inf",
        "m1",
        "-1.0000000000000001e+300",
        "m2",
        "-2.5",
      ]);
      assert.equal(await cmd(c, "HGET", "hash:big", "field499"), "value499");
      assert.equal(await cmd(c, "SISMEMBER", "set:int64", "-9223372036854775808"), 1);
    } finally {
      await redis.stop();
    }
  },
});

Deno.test({
  name: "rdb live: redis-server's SAVE of the same data reads back equal, and DUMP round trips",
  ignore: noRedis,
  async fn() {
    const data = liveDataset(11).filter((e) => e.db === 0);
    const dir = tempDir("rdb-live-");
    const redis = await spawnRedis([], dir);
    try {
      const c = await redis.client();
      // RESTORE each value from our DUMP payload; Redis checks CRC and format.
      for (const e of data) {
        const payload = encodeDumpLatin1(e.value);
        const ttl = e.expireAtMs === undefined ? "0" : String(e.expireAtMs);
        const args = ["RESTORE", e.key, ttl, payload];
        if (e.expireAtMs !== undefined) args.push("ABSTTL");
        assert.equal(await cmd(c, ...args), "OK", `RESTORE ${JSON.stringify(e.key)}`);
        // Ordered encodings come back byte for byte (hash tables iterate in Redis's order).
        const ordered = e.value.type === "string" || e.value.type === "list" ||
          ["set:intset", "set:int64", "hash:small", "hash:binary", "zset:small", "zset:ties"]
            .includes(e.key);
        if (ordered) {
          assert.equal(await cmd(c, "DUMP", e.key), payload, `DUMP ${JSON.stringify(e.key)}`);
        }
      }
      assert.equal(await cmd(c, "DEBUG", "DIGEST"), datasetDigest(data));
      // A damaged payload: the same refusal from Redis and from decodeDump.
      const bad = encodeDumpLatin1({ type: "string", value: "hello" });
      const flipped = bad.slice(0, 3) + String.fromCharCode(bad.charCodeAt(3) ^ 1) + bad.slice(4);
      const reply = await cmd(c, "RESTORE", "bad", "0", flipped);
      assert.ok(reply instanceof Error);
      assert.equal(reply.message, DUMP_ERR_VERSION_OR_CHECKSUM);
      assert.throws(() => decodeDump(flipped), (e: unknown) => {
        return e instanceof DumpPayloadError && e.message === DUMP_ERR_VERSION_OR_CHECKSUM;
      });
      // Redis's own RDB of this data reads back equal.
      assert.equal(await cmd(c, "SAVE"), "OK");
      const file = parseRdb(readBytes(join(dir, "dump.rdb")));
      const back = new Map(file.entries.map((e) => [e.key, e]));
      assert.equal(back.size, data.length);
      for (const e of data) {
        const got = back.get(e.key);
        assert.ok(got, e.key);
        assert.deepEqual(normal(got.value), normal(e.value), JSON.stringify(e.key));
        assert.equal(got.expireAtMs, e.expireAtMs, JSON.stringify(e.key));
      }
    } finally {
      await redis.stop();
    }
  },
});
