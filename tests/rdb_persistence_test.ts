/**
 * RDB persistence end to end: Redis-made fixtures load at start; files Amber writes
 * load in redis-server and pass redis-check-rdb; BGSAVE is point in time while clients
 * keep writing; a process killed during SAVE/BGSAVE leaves the previous file intact;
 * save points, MISCONF, shutdown saves, and refusal of a damaged file.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type DatasetDump, diffDatasets, dumpDataset } from "./helpers/dataset.ts";
import { encodeCommand, parseReply, type RawClient } from "./helpers/resp_client.ts";
import {
  refusedStart,
  skipWithoutRedis,
  spawnAmber,
  spawnRedis,
  startAmber,
  tempDir,
} from "./helpers/servers.ts";
import { parseRdb } from "../src/persistence/rdb/reader.ts";
import { concat, RdbWriter } from "../src/persistence/rdb/writer.ts";
import { snapshotWorkersStarted, valueStreamStats } from "../src/persistence/snapshot_job.ts";
import { FIXTURES, MAKE_FIXTURES_TOOL } from "./helpers/fixtures.ts";

function fixtureDirs(): string[] {
  const base = join(FIXTURES, "redis-7.0.15");
  return readdirSync(base).filter((d) => d.startsWith("rdb-")).map((d) => join(base, d));
}

async function waitFor(cond: () => Promise<boolean>, ms = 10000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("condition not met in time");
}

async function info(c: RawClient, field: string): Promise<string> {
  const text = parseReply(await c.call("INFO", "persistence")) as string;
  const m = text.match(new RegExp(`^${field}:(.*)\\r$`, "m"));
  return m ? m[1] : "";
}

/** Loads `n` keys of mixed types through one pipelined write. */
async function fill(c: RawClient, n: number, prefix = "k"): Promise<void> {
  let raw = "";
  for (let i = 0; i < n; i++) {
    const k = `${prefix}${i}`;
    switch (i % 5) {
      case 0:
        raw += encodeCommand(["SET", k, `value-${i}`]);
        break;
      case 1:
        raw += encodeCommand(["RPUSH", k, "a", String(i), "c"]);
        break;
      case 2:
        raw += encodeCommand(["HSET", k, "f", String(i), "g", "x".repeat(i % 100)]);
        break;
      case 3:
        raw += encodeCommand(["SADD", k, String(i), String(i + 1)]);
        break;
      case 4:
        raw += encodeCommand(["ZADD", k, String(i / 7), "m1", "2.5", "m2"]);
        break;
    }
  }
  c.write(raw);
  for (let i = 0; i < n; i++) await c.read();
}

Deno.test("rdb: every Redis-made fixture loads at start and equals expected.json", async () => {
  for (const dir of fixtureDirs()) {
    const t = await startAmberWithFile(join(dir, "dump.rdb"));
    try {
      const c = await t.client();
      const expected = JSON.parse(readFileSync(join(dir, "expected.json"), "latin1")).dbs;
      const problems = diffDatasets(await dumpDataset(c), expected);
      assert.deepEqual(problems, [], `${dir}: ${problems.slice(0, 5).join("; ")}`);
    } finally {
      await t.stop();
    }
  }
});

/**
 * Waits for the BGSAVE in progress to end well, then loads its dump.rdb into a fresh
 * server: it must hold `before`, the dataset as of the BGSAVE command.
 */
async function assertSaved(c: RawClient, dir: string, before: DatasetDump): Promise<void> {
  await waitFor(async () => (await info(c, "rdb_bgsave_in_progress")) === "0");
  assert.equal(await info(c, "rdb_last_bgsave_status"), "ok");
  const t2 = await startAmberWithFile(join(dir, "dump.rdb"));
  try {
    assert.deepEqual(diffDatasets(await dumpDataset(await t2.client()), before), []);
  } finally {
    await t2.stop();
  }
}

async function startAmberWithFile(file: string, extra: string[] = []) {
  const dir = tempDir();
  copyFileSync(file, join(dir, "dump.rdb"));
  return await startAmber(["--dir", dir, ...extra]);
}

Deno.test("rdb: a damaged file stops the start, naming the offset and the key", () => {
  const dir = tempDir();
  copyFileSync(join(FIXTURES, "redis-assets", "corrupt_ziplist.rdb"), join(dir, "dump.rdb"));
  const out = refusedStart(dir);
  assert.match(out, /offset \d+/);
  assert.match(out, /reading key/);
});

Deno.test("rdb: a key stored twice in the file stops the start, naming it, as Redis", () => {
  // Few keys and many (the bulk index sorts by home slot above 16k keys).
  for (const count of [3, 40_000]) {
    const dir = tempDir();
    const chunks: Uint8Array[] = [];
    const w = new RdbWriter({ onChunk: (c) => chunks.push(c.slice()) });
    w.start();
    w.selectDb(0, count + 1, 0);
    for (let i = 0; i < count; i++) w.writeEntry(`key:${i}`, { type: "string", value: "v" });
    w.writeEntry(`key:${count >> 1}`, { type: "string", value: "again" });
    w.end();
    writeFileSync(join(dir, "dump.rdb"), concat(chunks));
    const out = refusedStart(dir);
    assert.match(out, new RegExp(`RDB has duplicated key 'key:${count >> 1}' in DB 0`), out);
  }
});

Deno.test({
  name: "rdb: SAVE output loads in redis-server with identical contents; redis-check-rdb OK",
  ignore: skipWithoutRedis(),
  async fn() {
    const t = await startAmber();
    try {
      const c = await t.client();
      await fill(c, 3000);
      for (const db of ["3", "15"]) {
        await c.call("SELECT", db);
        await fill(c, 200, `db${db}:`);
        await c.call("SET", `ttl${db}`, "\x00\xff binary", "EX", "10000");
        await c.call("RPUSH", `big${db}`, ..."y".repeat(600).split("").map((x, i) => x + i));
      }
      await c.call("SELECT", "0");
      assert.equal(await c.call("SAVE"), "+OK\r\n");
      const ours = await dumpDataset(c);
      const file = join(t.dir, "dump.rdb");
      const check = spawnSync("redis-check-rdb", [file], { encoding: "latin1" });
      assert.match(check.stdout, /RDB looks OK!/, check.stdout);
      const r = await spawnRedis(["--dbfilename", "dump.rdb"], t.dir);
      try {
        const theirs = await dumpDataset(await r.client());
        assert.deepEqual(diffDatasets(theirs, ours), []);
      } finally {
        await r.stop();
      }
    } finally {
      await t.stop();
    }
  },
});

Deno.test({
  name: "rdb: redis-server's own SAVE of a dataset loads here identically",
  ignore: skipWithoutRedis(),
  async fn() {
    const dir = tempDir();
    const r = await spawnRedis([], dir);
    let theirs;
    try {
      const c = await r.client();
      await fill(c, 2000);
      await c.call("SET", "ttl", "x", "EX", "5000");
      theirs = await dumpDataset(c);
      assert.equal(await c.call("SAVE"), "+OK\r\n");
    } finally {
      await r.stop();
    }
    const t = await startAmber(["--dir", dir]);
    try {
      assert.deepEqual(diffDatasets(await dumpDataset(await t.client()), theirs), []);
    } finally {
      await t.stop();
    }
  },
});

Deno.test("rdb: BGSAVE holds the dataset as of the command while clients write", async () => {
  const t = await startAmber();
  try {
    const c = await t.client();
    const w = await t.client();
    await fill(c, 60_000);
    const before = await dumpDataset(c);
    assert.equal(await c.call("BGSAVE"), "+Background saving started\r\n");
    // Overwrite, delete, grow and create keys while the snapshot is being written.
    let i = 0;
    while ((await info(c, "rdb_bgsave_in_progress")) === "1" && i < 20000) {
      let raw = "";
      for (let j = 0; j < 50; j++, i++) {
        raw += encodeCommand(["SET", `k${(i * 5) % 60000}`, "overwritten"]);
        raw += encodeCommand(["DEL", `k${(i * 5 + 1) % 60000}`]);
        raw += encodeCommand(["RPUSH", `k${(i * 5 + 1 + 5) % 60000}`, "more"]);
        raw += encodeCommand(["SET", `new${i}`, "after"]);
      }
      w.write(raw);
      for (let j = 0; j < 200; j++) await w.read();
    }
    assert.ok(i > 0, "no write happened during the BGSAVE");
    await assertSaved(c, t.dir, before);
  } finally {
    await t.stop();
  }
});

Deno.test("rdb: BGSAVE streams big collections, and holds them as of the command while clients write to them", async () => {
  const t = await startAmber();
  try {
    const c = await t.client();
    const w = await t.client();
    await fill(c, 20_000);
    // One of each big encoding, over value_stream.ts's threshold many times over.
    const N = 50_000;
    for (let b = 0; b < N; b += 1000) {
      const ids = Array.from({ length: 1000 }, (_, j) => String(b + j));
      let raw = encodeCommand(["HSET", "bighash", ...ids.flatMap((i) => [`f${i}`, `v${i}`])]);
      raw += encodeCommand(["SADD", "bigset", ...ids.map((i) => `m${i}`)]);
      raw += encodeCommand([
        "ZADD",
        "bigzset",
        ...ids.flatMap((i) => [String(Number(i) % 97), `m${i}`]),
      ]);
      raw += encodeCommand(["RPUSH", "biglist", ...ids.map((i) => `e${i}`)]);
      w.write(raw);
      for (let j = 0; j < 4; j++) await w.read();
    }
    const before = await dumpDataset(c);
    const s0 = valueStreamStats();
    assert.equal(await c.call("BGSAVE"), "+Background saving started\r\n");
    // Once the first big value is on its way, write to every big key, again and again:
    // the rest of one in flight is copied (frozen), the others are kept as frozen copies.
    let i = 0;
    while ((await info(c, "rdb_bgsave_in_progress")) === "1" && i < 100_000) {
      if (valueStreamStats().begun === s0.begun) continue;
      let raw = "";
      for (let j = 0; j < 20; j++, i++) {
        raw += encodeCommand(["HSET", "bighash", `f${i}`, "changed", `new${i}`, "x"]);
        raw += encodeCommand(["SREM", "bigset", `m${i}`]);
        raw += encodeCommand(["ZADD", "bigzset", "-1", `m${i}`]);
        raw += encodeCommand(["LPUSH", "biglist", "pushed"]);
      }
      w.write(raw);
      for (let j = 0; j < 80; j++) await w.read();
    }
    assert.ok(i > 0, "no write happened during the BGSAVE");
    await assertSaved(c, t.dir, before);
    const s1 = valueStreamStats();
    assert.equal(s1.begun - s0.begun, 4, "each big value streamed once");
    assert.ok(s1.carried > s0.carried, "no big value went on over an event-loop turn");
    assert.ok(s1.frozen > s0.frozen, "no big value in flight was frozen for a write");
  } finally {
    await t.stop();
  }
});

Deno.test("rdb: SIGKILL during BGSAVE or SAVE leaves the previous dump.rdb intact", async () => {
  const t = await spawnAmber(["--save", ""]);
  try {
    const c = await t.client();
    await fill(c, 2000);
    assert.equal(await c.call("SAVE"), "+OK\r\n");
    const first = readFileSync(join(t.dir, "dump.rdb"));
    await fill(c, 150_000, "more");
    c.write(encodeCommand(["BGSAVE"]));
    await new Promise((r) => setTimeout(r, 30));
    await t.stop("SIGKILL");
    const now = readFileSync(join(t.dir, "dump.rdb"));
    // Either the old file or a complete new one, never a torn one.
    const parsed = parseRdb(new Uint8Array(now));
    assert.ok(parsed.entries.length === 2000 || parsed.entries.length === 152000);
    if (parsed.entries.length === 2000) assert.ok(first.equals(now));
  } finally {
    await t.stop("SIGKILL");
  }
});

Deno.test("rdb: save points trigger a BGSAVE; LASTSAVE and dirty follow", async () => {
  const t = await startAmber(["--save", "1 1"]);
  try {
    const c = await t.client();
    const last = parseReply(await c.call("LASTSAVE")) as number;
    await c.call("SET", "a", "1");
    await waitFor(async () => (await info(c, "rdb_saves")) === "1", 8000);
    assert.ok((parseReply(await c.call("LASTSAVE")) as number) >= last);
    assert.equal(await info(c, "rdb_changes_since_last_save"), "0");
    const log = readFileSync(join(t.dir, "amber.log"), "latin1");
    assert.match(log, /1 changes in 1 seconds\. Saving\.\.\./);
    assert.match(log, /Background saving terminated with success/);
  } finally {
    await t.stop();
  }
});

Deno.test("rdb: a failed BGSAVE refuses writes with MISCONF until a save succeeds", async () => {
  const dir = tempDir();
  const t = await startAmber(["--dir", dir, "--save", "3600 1"]);
  try {
    const c = await t.client();
    rmSync(dir, { recursive: true, force: true });
    assert.equal(await c.call("BGSAVE"), "+Background saving started\r\n");
    await waitFor(async () => (await info(c, "rdb_last_bgsave_status")) === "err");
    assert.match(
      await c.call("SET", "x", "1"),
      /^-MISCONF Redis is configured to save RDB snapshots/,
    );
    assert.equal(await c.call("GET", "x"), "$-1\r\n");
    Deno.mkdirSync(dir);
    assert.equal(await c.call("SAVE"), "+OK\r\n");
    assert.equal(await c.call("SET", "x", "1"), "+OK\r\n");
  } finally {
    await t.stop();
  }
});

Deno.test("rdb: a BGSAVE that succeeded leaves its Worker to the next job; a failed one's is replaced", async () => {
  const dir = tempDir();
  const t = await startAmber(["--dir", dir]);
  try {
    const c = await t.client();
    await fill(c, 500);
    const started = snapshotWorkersStarted();
    for (let round = 0; round < 3; round++) {
      await c.call("SET", "round", String(round));
      assert.equal(await c.call("BGSAVE"), "+Background saving started\r\n");
      await waitFor(async () => (await info(c, "rdb_bgsave_in_progress")) === "0");
      assert.equal(await info(c, "rdb_last_bgsave_status"), "ok");
      // Each file is whole and current: the reused Worker starts from a clean state.
      const file = parseRdb(readFileSync(join(dir, "dump.rdb")));
      assert.equal(file.entries.length, 501);
      const r = file.entries.find((e) => e.key === "round")!;
      assert.deepEqual(r.value, { type: "string", value: String(round) });
    }
    // Starting a Worker stalls the main thread ~20 ms in Deno: none was started.
    assert.equal(snapshotWorkersStarted(), started);
    rmSync(dir, { recursive: true, force: true });
    assert.equal(await c.call("BGSAVE"), "+Background saving started\r\n");
    await waitFor(async () => (await info(c, "rdb_last_bgsave_status")) === "err");
    await waitFor(() => Promise.resolve(snapshotWorkersStarted() === started + 1));
    Deno.mkdirSync(dir);
    assert.equal(await c.call("BGSAVE"), "+Background saving started\r\n");
    await waitFor(async () => (await info(c, "rdb_last_bgsave_status")) === "ok");
    assert.equal(parseRdb(readFileSync(join(dir, "dump.rdb"))).entries.length, 501);
  } finally {
    await t.stop();
  }
});

Deno.test("rdb: SIGTERM saves when save points are configured; SHUTDOWN NOSAVE does not", async () => {
  const t = await spawnAmber(["--save", "3600 1"]);
  const c = await t.client();
  await c.call("SET", "kept", "yes");
  await t.stop("SIGTERM");
  assert.match(t.output(), /Saving the final RDB snapshot before exiting/);
  const t2 = await spawnAmber(["--save", "3600 1"], t.dir);
  try {
    const c2 = await t2.client();
    assert.equal(await c2.call("GET", "kept"), "$3\r\nyes\r\n");
    await c2.call("SET", "lost", "1");
    c2.write(encodeCommand(["SHUTDOWN", "NOSAVE"]));
    await c2.waitClosed();
  } finally {
    await t2.stop("SIGKILL");
  }
  const parsed = parseRdb(new Uint8Array(readFileSync(join(t.dir, "dump.rdb"))));
  assert.deepEqual(parsed.entries.map((e) => e.key), ["kept"]);
});

Deno.test("rdb: DEBUG RELOAD keeps the dataset", async () => {
  const t = await startAmber();
  try {
    const c = await t.client();
    await fill(c, 500);
    await c.call("SET", "ttl", "v", "PX", "100000");
    const before = await dumpDataset(c);
    assert.equal(await c.call("DEBUG", "RELOAD"), "+OK\r\n");
    assert.deepEqual(diffDatasets(await dumpDataset(c), before), []);
  } finally {
    await t.stop();
  }
});

Deno.test({
  name: "rdb: fixtures made now by redis-server with a random seed load here",
  ignore: skipWithoutRedis(),
  async fn() {
    const out = tempDir("fresh-fixtures-");
    const seed = String(1 + Math.floor(Math.random() * 1_000_000));
    const tool = MAKE_FIXTURES_TOOL;
    const made = spawnSync("python3", [
      tool,
      out,
      "--seed",
      seed,
      "--only",
      "rdb-default,rdb-no-listpacks,rdb-compressed-list",
    ], {
      encoding: "latin1",
      timeout: 120_000,
    });
    assert.equal(made.status, 0, `make-redis-fixtures.py failed (seed ${seed}): ${made.stderr}`);
    for (const name of readdirSync(out).filter((d) => d.startsWith("rdb-"))) {
      const t = await startAmberWithFile(join(out, name, "dump.rdb"));
      try {
        const expected = JSON.parse(readFileSync(join(out, name, "expected.json"), "latin1")).dbs;
        const problems = diffDatasets(await dumpDataset(await t.client()), expected);
        assert.deepEqual(problems, [], `seed ${seed} ${name}: ${problems.slice(0, 5).join("; ")}`);
      } finally {
        await t.stop();
      }
    }
  },
});

Deno.test("rdb: SIGKILL during a blocking SAVE leaves the previous dump.rdb intact", async () => {
  const t = await spawnAmber(["--save", ""]);
  try {
    const c = await t.client();
    await fill(c, 1000);
    assert.equal(await c.call("SAVE"), "+OK\r\n");
    const first = readFileSync(join(t.dir, "dump.rdb"));
    await fill(c, 200_000, "more");
    c.write(encodeCommand(["SAVE"]));
    // SAVE blocks the server; kill it while the temp file is being written.
    for (let i = 0; i < 200 && !readdirSync(t.dir).some((f) => f.startsWith("temp-")); i++) {
      await new Promise((r) => setTimeout(r, 5));
    }
    await t.stop("SIGKILL");
    const now = readFileSync(join(t.dir, "dump.rdb"));
    const parsed = parseRdb(new Uint8Array(now));
    assert.ok(parsed.entries.length === 1000 || parsed.entries.length === 201_000);
    if (parsed.entries.length === 1000) assert.ok(first.equals(now));
  } finally {
    await t.stop("SIGKILL");
  }
});
