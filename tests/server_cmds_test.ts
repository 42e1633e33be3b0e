/**
 * Server commands (FLUSHDB, FLUSHALL, DBSIZE, TIME, SWAPDB, LASTSAVE, SHUTDOWN, DEBUG,
 * MONITOR): byte-for-byte differential scripts against redis-server, plus in-process
 * checks of what a script cannot see (dirty accounting, blocking, shutdown).
 */
import assert from "node:assert/strict";
import { compareRaw, compareScript, startPair, type Step } from "./helpers/differential.ts";
import { RawClient } from "./helpers/resp_client.ts";
import { skipWithoutRedis, startAmber, tempDir } from "./helpers/servers.ts";
import { startServer } from "../mod.ts";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** A tiny fixed-seed PRNG (mulberry32) so randomized scripts are reproducible. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

Deno.test({
  name: "differential: FLUSHDB/FLUSHALL/DBSIZE/SWAPDB/LASTSAVE errors and sequences",
  ignore: skipWithoutRedis(),
  async fn() {
    const pair = await startPair();
    try {
      const [r, a] = await pair.clients();
      const steps: Step[] = [
        ["DBSIZE"],
        ["DBSIZE", "x"],
        ["SET", "a", "1"],
        ["SET", "b", "2"],
        ["DBSIZE"],
        ["FLUSHDB", "x"],
        ["FLUSHDB", "sync", "x"],
        ["FLUSHDB", "SYNC", "async"],
        ["FLUSHDB", "lazy"],
        ["FLUSHALL", "x"],
        ["FLUSHALL", "ASYNC", "ASYNC"],
        ["DBSIZE"],
        ["FLUSHDB", "SyNc"],
        ["DBSIZE"],
        ["SET", "a", "1"],
        ["FLUSHDB", "ASYNC"],
        ["DBSIZE"],
        ["SWAPDB"],
        ["SWAPDB", "0"],
        ["SWAPDB", "0", "1", "2"],
        ["SWAPDB", "a", "1"],
        ["SWAPDB", "1", "b"],
        ["SWAPDB", "a", "b"],
        ["SWAPDB", "0", "16"],
        ["SWAPDB", "-1", "0"],
        ["SWAPDB", "0", "-1"],
        ["SWAPDB", "99", "b"],
        ["SWAPDB", "2147483648", "0"],
        ["SWAPDB", "0", "2147483648"],
        ["SWAPDB", "+1", "0"],
        ["SWAPDB", " 1", "0"],
        ["SWAPDB", "01", "0"],
        ["SWAPDB", "1.0", "0"],
        ["SWAPDB", "", "0"],
        ["SWAPDB", "0", "0"],
        ["SET", "x", "in0"],
        ["SWAPDB", "0", "1"],
        ["DBSIZE"],
        ["GET", "x"],
        ["SELECT", "1"],
        ["DBSIZE"],
        ["GET", "x"],
        ["SWAPDB", "1", "15"],
        ["DBSIZE"],
        ["SELECT", "15"],
        ["GET", "x"],
        ["FLUSHALL"],
        ["DBSIZE"],
        ["LASTSAVE", "x"],
        ["TIME", "x"],
        ["FLUSHALL", "SYNC"],
      ];
      await compareScript(r, a, steps);
      // A randomized mix of writes, swaps and flushes over a few dbs.
      const rand = prng(7);
      const rnd: Step[] = [];
      for (let i = 0; i < 300; i++) {
        const p = rand();
        const db = String(Math.floor(rand() * 4));
        if (p < 0.45) rnd.push(["SET", "k" + Math.floor(rand() * 20), "v" + i]);
        else if (p < 0.55) rnd.push(["SELECT", db]);
        else if (p < 0.7) rnd.push(["SWAPDB", db, String(Math.floor(rand() * 4))]);
        else if (p < 0.75) rnd.push(["FLUSHDB"]);
        else if (p < 0.77) rnd.push(["FLUSHALL", rand() < 0.5 ? "ASYNC" : "SYNC"]);
        else if (p < 0.9) rnd.push(["DBSIZE"]);
        else rnd.push(["GET", "k" + Math.floor(rand() * 20)]);
      }
      await compareScript(r, a, rnd);
    } finally {
      await pair.stop();
    }
  },
});

Deno.test({
  name: "differential: DEBUG, SHUTDOWN and MONITOR argument errors",
  ignore: skipWithoutRedis(),
  async fn() {
    const pair = await startPair();
    try {
      const [r, a] = await pair.clients();
      await compareScript(r, a, [
        ["DEBUG"],
        ["DEBUG", "foo"],
        ["debug", "foo"],
        ["DEBUG", "sleep"],
        ["DEBUG", "SLEEP", "0", "1"],
        ["DEBUG", "SLEEP", "0"],
        ["DEBUG", "sleep", "abc"],
        ["DEBUG", "sleep", "-1"],
        ["DEBUG", "sleep", "inf"],
        ["DEBUG", "sleep", "0.01"],
        ["DEBUG", "sleep", ".01x"],
        ["DEBUG", "set-active-expire"],
        ["DEBUG", "set-active-expire", "0"],
        ["DEBUG", "SET-ACTIVE-EXPIRE", "1"],
        ["DEBUG", "set-active-expire", "yes"],
        ["DEBUG", "set-active-expire", "1"],
        ["DEBUG", "help"],
        ["DEBUG", "HELP"],
        ["debug", "help", "x"],
        ["DEBUG", "a\r\nb"],
        ["DEBUG", "x".repeat(200)],
        ["SHUTDOWN", "foo"],
        ["SHUTDOWN", "save", "nosave"],
        ["SHUTDOWN", "NOSAVE", "SAVE"],
        ["SHUTDOWN", "abort"],
        ["SHUTDOWN", "ABORT", "now"],
        ["SHUTDOWN", "abort", "force"],
        ["SHUTDOWN", "abort", "nosave"],
        ["SHUTDOWN", "now", "bogus"],
        ["MONITOR", "x"],
        ["PING"],
      ]);
    } finally {
      await pair.stop();
    }
  },
});

/** MONITOR lines with the timestamp and the client's port masked. */
function maskMonitor(line: string): string {
  return line.replace(/^\+\d+\.\d{6} \[(\d+) 127\.0\.0\.1:\d+\]/, "+TS [$1 ADDR]");
}

Deno.test({
  name: "differential: MONITOR feed format (redaction, quoting, db, admin commands hidden)",
  ignore: skipWithoutRedis(),
  async fn() {
    const pair = await startPair();
    try {
      const [rm, am] = await pair.clients();
      const [r, a] = await pair.clients();
      await compareScript(rm, am, [["MONITOR"]]);
      const steps: Step[] = [
        ["SET", "a", 'x\x00\xff\n"y\\\t\r\x07\x08 z~\x7f'],
        ["select", "3"],
        ["PING"],
        ["ECHO", ""],
        ["AUTH", "a", "b"],
        ["auth", "secret"],
        ["HELLO", "2", "AUTH", "x", "y"],
        ["HELLO", "2", "SETNAME", "foo", "AUTH", "default", "y"],
        ["HELLO", "2", "setname", "foo"],
        ["CONFIG", "GET", "port"],
        ["DEBUG", "sleep", "0"],
        ["CLIENT", "ID"],
        ["CLIENT", "LIST"],
        ["GET"],
        ["NOSUCHCOMMAND"],
        ["DBSIZE"],
        ["SELECT", "0"],
        ["FLUSHALL"],
        ["TIME"],
      ];
      for (const s of steps) await Promise.all([r.call(...s), a.call(...s)]);
      // The monitor's own commands are fed to itself too, after their reply.
      await compareRaw(rm, am, "PING\r\nMONITOR\r\nPING\r\n", 0);
      const n = 14 + 4; // fed commands of the script + PONG, line, PONG, line
      const got: [string, string][] = [];
      for (let i = 0; i < n; i++) {
        got.push([maskMonitor(await rm.read()), maskMonitor(await am.read())]);
      }
      for (const [rr, ar] of got) assert.equal(ar, rr);
      assert.ok(got.some(([x]) => x.includes('"(redacted)"')));
      // Nothing more pending on either side.
      const [p1, p2] = await Promise.all([rm.call("PING"), am.call("PING")]);
      assert.equal(p1, "+PONG\r\n");
      assert.equal(p2, p1);
    } finally {
      await pair.stop();
    }
  },
});

Deno.test("FLUSHDB/FLUSHALL/SWAPDB count changes like Redis's server.dirty", async () => {
  const t = await startAmber();
  try {
    const c = await t.client();
    const srv = t.amber.server;
    await c.call("SET", "a", "1");
    await c.call("SET", "b", "1");
    await c.call("SELECT", "2");
    await c.call("SET", "c", "1");
    const d0 = srv.dirty;
    assert.equal(await c.call("FLUSHDB"), "+OK\r\n");
    assert.equal(srv.dirty - d0, 1, "FLUSHDB adds the keys removed");
    assert.equal(await c.call("FLUSHDB"), "+OK\r\n");
    assert.equal(srv.dirty - d0, 1, "FLUSHDB of an empty db changes nothing");
    const d1 = srv.dirty;
    assert.equal(await c.call("FLUSHALL"), "+OK\r\n");
    assert.equal(srv.dirty - d1, 2, "FLUSHALL adds the keys removed");
    assert.equal(await c.call("FLUSHALL", "ASYNC"), "+OK\r\n");
    assert.equal(srv.dirty - d1, 2);
    assert.equal(await c.call("SWAPDB", "0", "0"), "+OK\r\n");
    assert.equal(srv.dirty - d1, 3);
    assert.equal(await c.call("SWAPDB", "0", "1"), "+OK\r\n");
    assert.equal(srv.dirty - d1, 4);
    assert.equal(await c.call("LASTSAVE"), `:${srv.lastSave}\r\n`);
  } finally {
    await t.stop();
  }
});

Deno.test("FLUSHDB/FLUSHALL propagate even when nothing was removed (7.0.15)", async () => {
  const t = await startAmber();
  try {
    const ops: string[] = [];
    t.amber.server.addFeed((batch) => {
      for (const op of batch) ops.push(`${op.db}:${op.argv.join(" ")}`);
    });
    const c = await t.client();
    await c.call("SELECT", "3");
    await c.call("flushdb");
    await c.call("FLUSHALL", "ASYNC");
    await c.call("FLUSHDB", "bad");
    await c.call("SET", "k", "v");
    await c.call("FLUSHDB", "SYNC");
    assert.deepEqual(ops, ["3:flushdb", "3:FLUSHALL ASYNC", "3:SET k v", "3:FLUSHDB SYNC"]);
  } finally {
    await t.stop();
  }
});

Deno.test("TIME is [seconds, microseconds] as bulk strings", async () => {
  const t = await startAmber();
  try {
    const c = await t.client();
    const before = Math.floor(Date.now() / 1000);
    const r = await c.call("TIME");
    const m = /^\*2\r\n\$\d+\r\n(\d+)\r\n\$\d+\r\n(\d+)\r\n$/.exec(r);
    assert.ok(m, r);
    assert.ok(Math.abs(Number(m[1]) - before) <= 1);
    assert.ok(Number(m[2]) < 1e6);
  } finally {
    await t.stop();
  }
});

Deno.test("DEBUG SLEEP blocks the whole server; SET-ACTIVE-EXPIRE toggles active expiry", async () => {
  const t = await startAmber();
  try {
    const a = await t.client();
    const b = await t.client();
    const t0 = performance.now();
    a.write("*3\r\n$5\r\nDEBUG\r\n$5\r\nSLEEP\r\n$3\r\n0.3\r\n");
    await new Promise((r) => setTimeout(r, 50));
    const pong = await b.call("PING");
    const waited = performance.now() - t0;
    assert.equal(pong, "+PONG\r\n");
    assert.equal(await a.read(), "+OK\r\n");
    assert.ok(waited >= 280, `PING answered after ${waited} ms, during the sleep`);
    assert.equal(await a.call("DEBUG", "SET-ACTIVE-EXPIRE", "0"), "+OK\r\n");
    assert.equal(t.amber.server.activeExpireEnabled, false);
    assert.equal(await a.call("DEBUG", "SET-ACTIVE-EXPIRE", " 7"), "+OK\r\n");
    assert.equal(t.amber.server.activeExpireEnabled, true);
  } finally {
    await t.stop();
  }
});

Deno.test("MONITOR: second MONITOR is ignored, closed monitors are dropped, RESET stops it", async () => {
  const t = await startAmber();
  try {
    const m = await t.client();
    const c = await t.client();
    assert.equal(await m.call("MONITOR"), "+OK\r\n");
    m.write("*1\r\n$7\r\nMONITOR\r\n");
    await c.call("ECHO", "hi");
    assert.match(await m.read(), /^\+\d+\.\d{6} \[0 127\.0\.0\.1:\d+\] "ECHO" "hi"\r\n$/);
    assert.equal(t.amber.server.monitors.size, 1);
    assert.equal(await m.call("RESET"), "+RESET\r\n");
    assert.equal(t.amber.server.monitors.size, 0);
    assert.equal(await m.call("MONITOR"), "+OK\r\n");
    m.close();
    await c.call("PING");
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(t.amber.server.monitors.size, 0);
  } finally {
    await t.stop();
  }
});

Deno.test("SHUTDOWN closes the connection and stops the server", async () => {
  const t = await startAmber();
  try {
    const c = await t.client();
    assert.equal(await c.call("SHUTDOWN", "ABORT"), "-ERR No shutdown in progress.\r\n");
    c.write("*2\r\n$8\r\nSHUTDOWN\r\n$6\r\nNOSAVE\r\n*1\r\n$4\r\nPING\r\n");
    assert.equal(await c.waitClosed(), "");
    await t.amber.closed;
    await assert.rejects(RawClient.connect(t.port));
  } finally {
    await t.stop();
  }
});

/** Parses a flat RESP2 array of bulk strings into [name, value] pairs, sorted. */
function pairs(reply: string): string[] {
  const items: string[] = [];
  const re = /\$(\d+)\r\n/g;
  let m;
  while ((m = re.exec(reply)) !== null) {
    const start = m.index + m[0].length;
    items.push(reply.slice(start, start + Number(m[1])));
    re.lastIndex = start + Number(m[1]) + 2;
  }
  const out: string[] = [];
  for (let i = 0; i + 1 < items.length; i += 2) out.push(`${items[i]}=${items[i + 1]}`);
  return out.sort();
}

Deno.test({
  name: "differential: CONFIG GET/SET/RESETSTAT/REWRITE/HELP",
  ignore: skipWithoutRedis(),
  async fn() {
    const pair = await startPair();
    try {
      const [r, a] = await pair.clients();
      for (
        const pat of [
          ["hz"],
          ["databases"],
          ["HZ", "timeout"],
          ["*max*"],
          ["*expire*"],
          ["save", "appendonly", "appendfsync"],
          ["notify-keyspace-events", "requirepass"],
          ["lazyfree*"],
          ["list-*", "hash-*"],
          ["nosuch"],
          ["maxmemory", "maxmemory"],
        ]
      ) {
        const [rr, ar] = await Promise.all([
          r.call("CONFIG", "GET", ...pat),
          a.call("CONFIG", "GET", ...pat),
        ]);
        assert.deepEqual(pairs(ar), pairs(rr), `CONFIG GET ${pat.join(" ")}`);
        assert.equal(ar.slice(0, ar.indexOf("\r\n")), rr.slice(0, rr.indexOf("\r\n")));
      }
      await compareScript(r, a, [
        ["CONFIG"],
        ["CONFIG", "GET"],
        ["CONFIG", "NOSUCH"],
        ["CONFIG", "HELP"],
        ["config", "help"],
        ["CONFIG", "HELP", "x"],
        ["CONFIG", "SET", "hz"],
        ["CONFIG", "SET", "hz", "10", "timeout"],
        ["CONFIG", "SET", "hz", "abc"],
        ["CONFIG", "SET", "nosuch", "1"],
        ["CONFIG", "SET", "hz", "20", "hz", "30"],
        ["CONFIG", "SET", "daemonize", "yes"],
        ["CONFIG", "SET", "dir", "/tmp"],
        ["CONFIG", "SET", "maxmemory", "10mb"],
        ["CONFIG", "GET", "maxmemory"],
        ["CONFIG", "SET", "maxmemory", "0", "timeout", "5"],
        ["CONFIG", "GET", "timeout"],
        ["CONFIG", "SET", "timeout", "0"],
        ["CONFIG", "RESETSTAT", "x"],
        ["CONFIG", "RESETSTAT"],
        ["CONFIG", "REWRITE"],
        ["CONFIG", "REWRITE", "x"],
      ]);
    } finally {
      await pair.stop();
    }
  },
});

Deno.test("CONFIG REWRITE writes the config file the server was started with", async () => {
  const dir = tempDir();
  const file = join(dir, "amber.conf");
  writeFileSync(file, "# mine\nhz 10\n");
  const amber = await startServer({
    args: [
      file,
      "--port",
      "0",
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--dir",
      dir,
      "--logfile",
      join(dir, "log"),
    ],
  });
  const c = await RawClient.connect(amber.port);
  try {
    assert.equal(await c.call("CONFIG", "SET", "hz", "20"), "+OK\r\n");
    assert.equal(await c.call("CONFIG", "REWRITE"), "+OK\r\n");
    const text = readFileSync(file, "latin1");
    assert.match(text, /^# mine\nhz 20\n/);
  } finally {
    c.close();
    await amber.close({ save: false });
    rmSync(dir, { recursive: true, force: true });
  }
});
