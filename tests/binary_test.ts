/**
 * The built `amber` binary (AMBER_BIN, e.g. dist/amber from `deno task compile:bun`)
 * as a user runs it: --version, the wire protocol and every data type byte for byte
 * against redis-server, SAVE and BGSAVE (the snapshot Worker embedded in the binary),
 * save points, restart recovery, and SIGTERM saving before exit.
 *
 * Without AMBER_BIN these tests are ignored: the source is covered in-process by the
 * other files. .ci/run builds the binary, runs this file with AMBER_BIN set, and fails
 * if any of it was ignored there, so CI cannot skip it silently.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { accessSync, constants, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { diffDatasets, dumpDataset } from "./helpers/dataset.ts";
import { compareRaw, compareScript, startProcessPair, type Step } from "./helpers/differential.ts";
import {
  encodeCommand,
  exchangeUntilClose,
  parseReply,
  type RawClient,
} from "./helpers/resp_client.ts";
import {
  skipWithoutRedis,
  spawnAmber,
  spawnRedis,
  tempDir,
  type TestProcess,
} from "./helpers/servers.ts";

const BIN = Deno.env.get("AMBER_BIN");
const ignore = !BIN;
/** Tests that also need redis-server (a failure in CI when it is missing). */
const ignoreWithoutRedis = ignore || skipWithoutRedis();

async function waitFor(what: string, cond: () => Promise<boolean>, ms = 15000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function info(c: RawClient, field: string): Promise<string> {
  const text = parseReply(await c.call("INFO", "persistence")) as string;
  const m = text.match(new RegExp(`^${field}:(.*)\\r$`, "m"));
  return m ? m[1] : "";
}

/** Mixed-type keys through one pipelined write. */
async function fill(c: RawClient, n: number, prefix = "k"): Promise<void> {
  let raw = "";
  for (let i = 0; i < n; i++) {
    const k = `${prefix}${i}`;
    const argv = [
      ["SET", k, `value-${i}`],
      ["RPUSH", k, "a", String(i), "c"],
      ["HSET", k, "f", String(i), "g", "x".repeat(i % 100)],
      ["SADD", k, String(i), `m${i}`],
      ["ZADD", k, String(i / 7), "m1", "2.5", "m2"],
    ][i % 5];
    raw += encodeCommand(argv);
  }
  c.write(raw);
  for (let i = 0; i < n; i++) await c.read();
}

/** A dataset touching every type, both encodings of each, several DBs and TTLs. */
async function fillVaried(c: RawClient): Promise<void> {
  await fill(c, 3000);
  await c.call("SET", "bin", "\x00\xff\r\n binary");
  await c.call("SET", "int", "12345");
  await c.call("SET", "ttl", "v", "EX", "100000");
  await c.call("RPUSH", "biglist", ...Array.from({ length: 600 }, (_, i) => `e${i}`));
  await c.call("HSET", "bighash", ...Array.from({ length: 600 }, (_, i) => `f${i}`));
  await c.call("SADD", "intset", "1", "2", "3", "-7");
  await c.call("SADD", "bigset", ...Array.from({ length: 600 }, (_, i) => `s${i}`));
  await c.call(
    "ZADD",
    "bigz",
    ...Array.from({ length: 600 }, (_, i) => [String(i), `z${i}`]).flat(),
  );
  for (const db of ["3", "15"]) {
    await c.call("SELECT", db);
    await fill(c, 100, `db${db}:`);
    await c.call("SET", `ttl${db}`, "x", "PX", "90000000");
  }
  await c.call("SELECT", "0");
}

function checkRdb(file: string): void {
  const check = spawnSync("redis-check-rdb", [file], { encoding: "latin1" });
  assert.match(check.stdout, /RDB looks OK!/, check.stdout + check.stderr);
}

/** Stops `t` even if it already exited, then removes its directory. */
async function cleanup(t: TestProcess | undefined, keepDir = false): Promise<void> {
  if (!t) return;
  await t.stop("SIGKILL");
  if (!keepDir) rmSync(t.dir, { recursive: true, force: true });
}

Deno.test({
  name: "binary: AMBER_BIN is executable; --version names Amber, Redis 7.0.15 and the runtime",
  ignore,
  fn() {
    assert.ok(statSync(BIN!).isFile(), `${BIN} is not a file`);
    accessSync(BIN!, constants.X_OK);
    const r = spawnSync(BIN!, ["--version"], { encoding: "latin1", timeout: 30000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stdout,
      /^Amber server v=\d+\.\d+\.\d+ redis_version=7\.0\.15 runtime=(bun|deno) \d+\.\d+\.\d+ bits=64\n$/,
    );
  },
});

Deno.test({
  name: "binary: pipelining, inline commands and protocol errors match redis-server",
  ignore: ignoreWithoutRedis,
  async fn() {
    const pair = await startProcessPair();
    try {
      const [r, a] = await pair.clients();
      let raw = "";
      for (let i = 0; i < 300; i++) raw += encodeCommand(["ECHO", `m${i}`]);
      await compareRaw(r, a, raw, 300);
      await compareRaw(
        r,
        a,
        "PING\r\nECHO 'a b'\r\nECHO \"\\x41\\x00\"\n\r\nNOPE a b\r\nGET\r\n",
        4,
      );
      await compareScript(r, a, [["SET", "k"], ["GET", "a", "b"], ["HELLO", "4"], ["PING"]]);
      // A protocol error answers, then closes only that connection.
      for (const bad of ["*1\r\n$4\r\nPING\r\n*1\r\n+PING\r\n", "*x\r\n", "*1\r\n$-3\r\n"]) {
        const [r2, a2] = await pair.clients();
        await compareRaw(r2, a2, bad, bad.startsWith("*1\r\n$4") ? 2 : 1);
        const [rr, ar] = await Promise.all([r2.waitClosed(), a2.waitClosed()]);
        assert.equal(ar, rr);
      }
      await compareScript(r, a, [["PING"]]);
    } finally {
      await pair.stop();
    }
  },
});

Deno.test({
  name: "binary: a half-closed client and QUIT after a large reply get every byte, as Redis",
  ignore: ignoreWithoutRedis,
  async fn() {
    const pair = await startProcessPair();
    try {
      const [r, a] = await pair.clients();
      const value = "v".repeat(6 << 20);
      await compareScript(r, a, [["SET", "big", value]]);
      const cases: [string, { halfClose?: boolean; pauseMs?: number }][] = [
        ["PING\r\nSET hc 1\r\nGET hc\r\n", { halfClose: true }],
        ["GET big\r\nGET big\r\nQUIT\r\n", { pauseMs: 300 }],
      ];
      for (const [input, opts] of cases) {
        const [rr, ar] = await Promise.all([
          exchangeUntilClose(pair.redis.port, input, { ...opts, timeoutMs: 30000 }),
          exchangeUntilClose(pair.amber.port, input, { ...opts, timeoutMs: 30000 }),
        ]);
        assert.ok(rr.length > 0);
        assert.equal(ar.length, rr.length);
        assert.ok(ar === rr);
      }
    } finally {
      await pair.stop();
    }
  },
});

const s = (line: string): Step => line.split(" ");

const TYPE_SCRIPTS: Record<string, Step[]> = {
  strings: [
    s("SET k v"),
    s("GET k"),
    s("APPEND k more"),
    s("GETRANGE k 1 3"),
    s("SETRANGE k 10 x"),
    s("GET k"),
    s("INCR n"),
    s("INCRBY n 41"),
    s("INCRBYFLOAT n 0.5"),
    s("DECR k"),
    s("MSET a 1 b 2"),
    s("MGET a b nokey"),
    ["SET", "bin", "\x00\xff\r\n"],
    s("GET bin"),
    s("SET e v EX 100 NX"),
    s("TTL e"),
    s("GETDEL a"),
    s("STRLEN b"),
    s("OBJECT ENCODING n"),
    s("OBJECT ENCODING k"),
  ],
  lists: [
    s("RPUSH l a b c"),
    s("LPUSH l z"),
    s("LRANGE l 0 -1"),
    s("LINSERT l BEFORE b x"),
    s("LPOS l b"),
    s("LSET l 0 y"),
    s("LREM l 1 x"),
    s("LPOP l 2"),
    s("RPOP l"),
    s("LLEN l"),
    s("OBJECT ENCODING l"),
    ["RPUSH", "big", ...Array.from({ length: 200 }, (_, i) => `v${i}`)],
    s("OBJECT ENCODING big"),
    s("LRANGE big 100 110"),
    s("LMOVE big l LEFT RIGHT"),
    s("LRANGE l 0 -1"),
    s("GET l"),
  ],
  hashes: [
    s("HSET h f1 v1 f2 v2"),
    s("HGET h f1"),
    s("HGETALL h"),
    s("HINCRBY h n 5"),
    s("HINCRBYFLOAT h x 1.5"),
    s("HDEL h f2 nofield"),
    s("HEXISTS h f1"),
    s("HLEN h"),
    s("HKEYS h"),
    s("HVALS h"),
    s("HSETNX h f1 other"),
    s("OBJECT ENCODING h"),
    ["HSET", "h", "long", "y".repeat(100)],
    s("OBJECT ENCODING h"),
    s("HSTRLEN h long"),
    s("LPUSH h x"),
  ],
  sets: [
    s("SADD ints 3 1 2 -5"),
    s("SMEMBERS ints"),
    s("OBJECT ENCODING ints"),
    s("SADD strs a b c"),
    s("OBJECT ENCODING strs"),
    s("SISMEMBER strs b"),
    s("SMISMEMBER strs a nope"),
    s("SCARD strs"),
    s("SREM strs a"),
    s("SORT strs ALPHA"),
    s("SINTERCARD 2 ints strs"),
    s("SADD other b z"),
    s("SINTER strs other"),
    s("SDIFFSTORE d strs other"),
    s("SMEMBERS d"),
    s("SORT ints"),
  ],
  zsets: [
    s("ZADD z 1 a 2 b 3 c"),
    s("ZRANGE z 0 -1 WITHSCORES"),
    s("ZINCRBY z 2.5 a"),
    s("ZSCORE z a"),
    s("ZRANK z a"),
    s("ZRANGEBYSCORE z (1 +inf WITHSCORES LIMIT 0 2"),
    s("ZREVRANGE z 0 1"),
    s("ZADD z XX GT CH 10 b"),
    s("ZPOPMIN z"),
    s("ZCARD z"),
    s("ZADD z inf top -inf bottom"),
    s("ZRANGE z 0 -1 WITHSCORES"),
    s("OBJECT ENCODING z"),
    ["ZADD", "bigz", ...Array.from({ length: 200 }, (_, i) => [String(i * 0.5), `m${i}`]).flat()],
    s("OBJECT ENCODING bigz"),
    s("ZRANGE bigz 10 15 WITHSCORES"),
    s("ZADD z nan x"),
  ],
  keyspace: [
    s("SET k v"),
    s("EXPIRE k 100"),
    s("TTL k"),
    s("PERSIST k"),
    s("TTL k"),
    s("TYPE k"),
    s("RENAME k k2"),
    s("EXISTS k k2"),
    s("DEL k2 nokey"),
    s("RPUSH l a"),
    s("TYPE l"),
    s("GET l"),
    s("MULTI"),
    s("INCR c"),
    s("INCR c"),
    s("EXEC"),
    s("DBSIZE"),
    s("FLUSHALL"),
    s("DBSIZE"),
  ],
};

for (const [name, steps] of Object.entries(TYPE_SCRIPTS)) {
  Deno.test({
    name: `binary: ${name} match redis-server byte for byte`,
    ignore: ignoreWithoutRedis,
    async fn() {
      const pair = await startProcessPair();
      try {
        const [r, a] = await pair.clients();
        await compareScript(r, a, steps);
      } finally {
        await pair.stop();
      }
    },
  });
}

Deno.test({
  name: "binary: SAVE and BGSAVE write files redis-check-rdb accepts and redis-server loads",
  ignore: ignoreWithoutRedis,
  async fn() {
    let t: TestProcess | undefined;
    try {
      t = await spawnAmber(["--save", ""]);
      const c = await t.client();
      await fillVaried(c);
      const before = await dumpDataset(c);
      const file = join(t.dir, "dump.rdb");

      assert.equal(await c.call("SAVE"), "+OK\r\n");
      checkRdb(file);
      const saved = readFileSync(file);

      await c.call("SET", "after-save", "1");
      assert.equal(await c.call("BGSAVE"), "+Background saving started\r\n");
      await waitFor("BGSAVE", async () => (await info(c, "rdb_bgsave_in_progress")) === "0");
      assert.equal(await info(c, "rdb_last_bgsave_status"), "ok", t.output());
      assert.match(t.output(), /Background saving terminated with success/);
      assert.ok(!saved.equals(readFileSync(file)), "BGSAVE did not replace dump.rdb");
      checkRdb(file);
      const expected = await dumpDataset(c);
      assert.deepEqual(diffDatasets(expected, before), ['db 0: unexpected key "after-save"']);

      const r = await spawnRedis(["--dbfilename", "dump.rdb"], t.dir);
      try {
        assert.deepEqual(diffDatasets(await dumpDataset(await r.client()), expected), []);
      } finally {
        await r.stop();
      }
    } finally {
      await cleanup(t);
    }
  },
});

Deno.test({
  name: "binary: BGSAVE of 100k keys keeps the point in time while clients write",
  ignore,
  async fn() {
    let t: TestProcess | undefined;
    let t2: TestProcess | undefined;
    try {
      t = await spawnAmber(["--save", ""]);
      const c = await t.client();
      await fill(c, 100_000);
      assert.equal(await c.call("BGSAVE"), "+Background saving started\r\n");
      // Writes racing the Worker: none of them may reach the file.
      for (let i = 0; i < 200; i++) await c.call("SET", `k${i * 5}`, "overwritten");
      await c.call("SET", "new-key", "1");
      await waitFor("BGSAVE", async () => (await info(c, "rdb_bgsave_in_progress")) === "0");
      assert.equal(await info(c, "rdb_last_bgsave_status"), "ok", t.output());
      await t.stop("SIGKILL");

      t2 = await spawnAmber(["--save", ""], t.dir);
      const c2 = await t2.client();
      assert.equal(await c2.call("DBSIZE"), ":100000\r\n");
      assert.equal(await c2.call("GET", "k0"), "$7\r\nvalue-0\r\n");
      assert.equal(await c2.call("GET", "k995"), "$9\r\nvalue-995\r\n");
      assert.equal(await c2.call("EXISTS", "new-key"), ":0\r\n");
    } finally {
      await cleanup(t2, true);
      await cleanup(t);
    }
  },
});

Deno.test({
  name: "binary: a save point starts a BGSAVE by itself",
  ignore,
  async fn() {
    let t: TestProcess | undefined;
    try {
      t = await spawnAmber(["--save", "1 1"]);
      const c = await t.client();
      await c.call("SET", "a", "1");
      await waitFor("the save point", async () => (await info(c, "rdb_saves")) === "1");
      assert.equal(await info(c, "rdb_last_bgsave_status"), "ok");
      assert.match(t.output(), /1 changes in 1 seconds\. Saving\.\.\./);
      assert.match(t.output(), /Background saving terminated with success/);
    } finally {
      await cleanup(t);
    }
  },
});

Deno.test({
  name: "binary: SIGTERM saves before exit; a restart recovers; SIGKILL keeps the last save",
  ignore,
  async fn() {
    const dir = tempDir();
    let t: TestProcess | undefined;
    try {
      t = await spawnAmber(["--save", "3600 1"], dir);
      const c = await t.client();
      await fillVaried(c);
      const expected = await dumpDataset(c);
      await t.stop("SIGTERM");
      const out = t.output();
      assert.match(out, /Received SIGTERM scheduling shutdown\.\.\./);
      assert.match(out, /Saving the final RDB snapshot before exiting\./);
      assert.match(out, /DB saved on disk/);
      assert.match(out, /Redis is now ready to exit, bye bye\.\.\./);

      t = await spawnAmber(["--save", "3600 1"], dir);
      const c2 = await t.client();
      assert.deepEqual(diffDatasets(await dumpDataset(c2), expected), []);
      assert.match(t.output(), /Done loading RDB, keys loaded: \d+, keys expired: 0\./);
      // Unsaved writes die with a SIGKILL; the file keeps the last save.
      await c2.call("SET", "unsaved", "1");
      await t.stop("SIGKILL");

      t = await spawnAmber(["--save", ""], dir);
      const c3 = await t.client();
      assert.equal(await c3.call("EXISTS", "unsaved"), ":0\r\n");
      assert.deepEqual(diffDatasets(await dumpDataset(c3), expected), []);
    } finally {
      await cleanup(t, true);
      rmSync(dir, { recursive: true, force: true });
    }
  },
});

Deno.test("binary: the Dockerfile ships dist/amber as PID 1 with /data and port 6379", () => {
  const root = new URL("../", import.meta.url);
  const text = readFileSync(new URL("Dockerfile", root), "utf8");
  const lines = text.split("\n").filter((l) => l.trim() !== "" && !l.startsWith("#"));
  const directive = (name: string) => lines.filter((l) => l.startsWith(name + " "));
  // One stage: the image holds the binary CI tested, not a rebuild.
  assert.equal(directive("FROM").length, 1);
  const copy = directive("COPY");
  assert.equal(copy.length, 1);
  const [, src, dest] = copy[0].split(/\s+/);
  assert.equal(src, "dist/amber");
  assert.deepEqual(directive("EXPOSE"), ["EXPOSE 6379"]);
  assert.deepEqual(directive("VOLUME"), ["VOLUME /data"]);
  // Exec form, so amber is PID 1 and gets `docker stop`'s SIGTERM (and saves).
  const entry = directive("ENTRYPOINT");
  assert.equal(entry.length, 1);
  assert.deepEqual(JSON.parse(entry[0].slice("ENTRYPOINT ".length)), [dest]);
  const cmd = JSON.parse(directive("CMD")[0].slice("CMD ".length)) as string[];
  const arg = (name: string) => cmd[cmd.indexOf(name) + 1];
  assert.equal(arg("--dir"), "/data");
  assert.equal(arg("--bind"), "0.0.0.0");
  assert.ok(!cmd.includes("--save"), "the default save points make SIGTERM save");
  assert.match(readFileSync(new URL(".dockerignore", root), "utf8"), /^\*\n!dist\/amber\n/m);
  // The compile tasks build that file and embed the snapshot Worker.
  const tasks = JSON.parse(readFileSync(new URL("deno.json", root), "utf8")).tasks;
  assert.match(
    tasks["compile:bun"],
    /--outfile dist\/amber src\/cli\.ts src\/persistence\/snapshot_worker\.ts$/,
  );
  assert.match(tasks.compile, /--include src\/persistence\/snapshot_worker\.ts /);
  assert.match(tasks.compile, /--output dist\/amber src\/cli\.ts$/);
});

// ---- the AOF through the binary: rewrite in the embedded Worker, restart recovery ----

function readManifest(dir: string): string {
  return readFileSync(join(dir, "appendonlydir", "appendonly.aof.manifest"), "latin1");
}

for (const preamble of ["yes", "no"]) {
  Deno.test({
    name: `binary: AOF (preamble ${preamble}) survives SIGKILL, BGREWRITEAOF, more writes; ` +
      "Redis loads the directory",
    ignore: ignoreWithoutRedis,
    async fn() {
      // always: SIGKILL below must not race an everysec write postponed behind an fsync.
      const args = [
        "--save",
        "",
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
        "--aof-use-rdb-preamble",
        preamble,
      ];
      let t: TestProcess | undefined;
      let t2: TestProcess | undefined;
      let r: TestProcess | undefined;
      try {
        t = await spawnAmber(args);
        const c = await t.client();
        await fillVaried(c);
        assert.equal(
          await c.call("BGREWRITEAOF"),
          "+Background append only file rewriting started\r\n",
        );
        // Writes racing the rewrite land in the new incr file, not lost, not doubled.
        for (let i = 0; i < 300; i++) await c.call("INCR", "counter");
        await c.call("RPUSH", "biglist", "during");
        await waitFor(
          "the rewrite",
          async () => (await info(c, "aof_rewrite_in_progress")) === "0",
        );
        assert.equal(await info(c, "aof_last_bgrewrite_status"), "ok", t.output());
        assert.equal(
          readManifest(t.dir),
          `file appendonly.aof.2.base.${preamble === "yes" ? "rdb" : "aof"} seq 2 type b\n` +
            "file appendonly.aof.2.incr.aof seq 2 type i\n",
        );
        await c.call("SET", "after", "rewrite");
        await c.call("EXPIRE", "after", "100000");
        const before = await dumpDataset(c);
        // No shutdown: SIGKILL, the AOF must hold every acknowledged write.
        await t.stop("SIGKILL");

        t2 = await spawnAmber(args, t.dir);
        const c2 = await t2.client();
        assert.equal(await c2.call("GET", "counter"), "$3\r\n300\r\n");
        assert.deepEqual(diffDatasets(before, await dumpDataset(c2)), []);
        await t2.stop("SIGKILL");

        const check = spawnSync(
          "redis-check-aof",
          [join(t.dir, "appendonlydir", "appendonly.aof.manifest")],
          { encoding: "latin1" },
        );
        assert.equal(check.status, 0, check.stdout + check.stderr);
        r = await spawnRedis(["--appendonly", "yes"], t.dir);
        assert.deepEqual(diffDatasets(before, await dumpDataset(await r.client())), []);
      } finally {
        await cleanup(r, true);
        await cleanup(t2, true);
        await cleanup(t);
      }
    },
  });
}

Deno.test({
  name: "binary: CONFIG SET appendonly yes writes a base in the Worker; a torn tail is truncated",
  ignore,
  async fn() {
    let t: TestProcess | undefined;
    let t2: TestProcess | undefined;
    try {
      // always: the SIGKILL below must not race an everysec write postponed by an fsync.
      t = await spawnAmber(["--save", "", "--appendfsync", "always"]);
      const c = await t.client();
      await fill(c, 20_000);
      assert.equal(await c.call("CONFIG", "SET", "appendonly", "yes"), "+OK\r\n");
      await c.call("SET", "x", "1");
      await waitFor("the first rewrite", async () =>
        (await info(c, "aof_rewrites")) === "1" &&
        (await info(c, "aof_rewrite_in_progress")) === "0");
      assert.match(readManifest(t.dir), /type b\n.*seq 1 type i\n$/s);
      await c.call("SET", "y", "2");
      await t.stop("SIGKILL");
      // A write torn by a crash: the last incr ends mid-command.
      const incr = join(t.dir, "appendonlydir", "appendonly.aof.1.incr.aof");
      Deno.writeFileSync(incr, new TextEncoder().encode("*3\r\n$3\r\nSET\r\n$1\r\nz"), {
        append: true,
      });
      t2 = await spawnAmber(["--save", "", "--appendonly", "yes"], t.dir);
      const c2 = await t2.client();
      assert.equal(await c2.call("DBSIZE"), ":20002\r\n");
      assert.equal(await c2.call("GET", "y"), "$1\r\n2\r\n");
      assert.match(t2.output(), /!!! Truncating the AOF appendonly\.aof\.1\.incr\.aof at offset/);
    } finally {
      await cleanup(t2, true);
      await cleanup(t);
    }
  },
});
