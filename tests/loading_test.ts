/**
 * Loading at start, as Redis does it: the server listens while it loads, commands
 * without the `loading` flag get -LOADING, INFO shows `loading:1` and the loading_*
 * fields (compared by name and order with redis-server loading the same file, both
 * slowed down with `key-load-delay`), and a SIGTERM during loading exits without saving
 * the partial dataset. Covers dump.rdb and the AOF.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { encodeCommand, parseReply, RawClient } from "./helpers/resp_client.ts";
import {
  amberCommand,
  freePort,
  redisServerPath,
  skipWithoutRedis,
  startAmber,
  tempDir,
} from "./helpers/servers.ts";

const KEYS = 3000;
/** Microseconds per key: 3000 keys take ~3 s to load. */
const DELAY = "1000";

/** A dataset saved by an in-process Amber: dump.rdb, or an appendonlydir. */
async function makeDataset(aof: boolean): Promise<string> {
  const t = await startAmber(aof ? ["--appendonly", "yes"] : []);
  const c = await t.client();
  try {
    let raw = "";
    for (let i = 0; i < KEYS; i++) raw += encodeCommand(["SET", `k${i}`, `v${i}`]);
    c.write(raw);
    for (let i = 0; i < KEYS; i++) await c.read();
    if (!aof) assert.equal(await c.call("SAVE"), "+OK\r\n");
    return t.dir;
  } finally {
    // Keep the directory: stop() would remove it.
    c.close();
    await t.amber.close({ save: false });
  }
}

interface Proc {
  proc: ChildProcess;
  port: number;
  output(): string;
  exited: Promise<number | null>;
}

/** Starts a server and returns as soon as it listens (not when it has loaded). */
async function launch(cmd: string, args: string[], dir: string): Promise<Proc> {
  const port = await freePort();
  const proc = spawn(cmd, [...args, "--port", String(port), "--bind", "127.0.0.1", "--dir", dir], {
    cwd: dir,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  proc.stdout?.on("data", (d) => out += d.toString());
  proc.stderr?.on("data", (d) => out += d.toString());
  const exited = new Promise<number | null>((r) => proc.once("exit", (code) => r(code)));
  const deadline = Date.now() + 15000;
  while (Date.now() < deadline) {
    try {
      const c = await RawClient.connect(port);
      c.close();
      return { proc, port, output: () => out, exited };
    } catch {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  proc.kill("SIGKILL");
  throw new Error(`did not listen:\n${out}`);
}

async function stop(
  p: Proc | undefined,
  signal: NodeJS.Signals = "SIGKILL",
): Promise<number | null> {
  if (!p) return null;
  const keepAlive = setInterval(() => {}, 50);
  if (p.proc.exitCode === null && p.proc.signalCode === null) p.proc.kill(signal);
  return await p.exited.finally(() => clearInterval(keepAlive));
}

function persistenceFields(info: string): string[] {
  return info.split("\r\n").filter((l) => l.includes(":")).map((l) => l.split(":")[0]);
}

const LOADING = "-LOADING Redis is loading the dataset in memory\r\n";

for (const aof of [false, true]) {
  const what = aof ? "the AOF" : "dump.rdb";
  Deno.test(`loading: while ${what} loads, clients get -LOADING and INFO shows progress`, async () => {
    const dir = await makeDataset(aof);
    const [cmd, pre] = amberCommand();
    let a: Proc | undefined;
    try {
      a = await launch(cmd, [
        ...pre,
        "--save",
        "",
        "--appendonly",
        aof ? "yes" : "no",
        "--key-load-delay",
        DELAY,
      ], dir);
      const c = await RawClient.connect(a.port);
      assert.equal(await c.call("GET", "k1"), LOADING);
      assert.equal(await c.call("SET", "x", "1"), LOADING);
      const info = parseReply(await c.call("INFO", "persistence")) as string;
      assert.match(info, /^loading:1\r$/m);
      const field = (f: string) => Number(info.match(new RegExp(`^${f}:(.*)\\r$`, "m"))?.[1]);
      assert.ok(field("loading_total_bytes") > 0);
      assert.ok(field("loading_loaded_bytes") <= field("loading_total_bytes"));
      assert.ok(field("loading_start_time") <= Date.now() / 1000);
      // CONFIG SET appendonly is refused while loading, as Redis's DENY_LOADING_CONFIG.
      assert.equal(
        await c.call("CONFIG", "SET", "appendonly", aof ? "no" : "yes"),
        "-LOADING Redis is loading the dataset in memory\r\n",
      );
      // Then the load completes and everything is there.
      const end = Date.now() + 30000;
      let reply = LOADING;
      while (reply === LOADING && Date.now() < end) {
        await new Promise((r) => setTimeout(r, 100));
        reply = await c.call("GET", "k1");
      }
      assert.equal(reply, "$2\r\nv1\r\n");
      assert.equal(await c.call("DBSIZE"), `:${KEYS}\r\n`);
      assert.match(parseReply(await c.call("INFO", "persistence")) as string, /^loading:0\r$/m);
      c.close();
    } finally {
      await stop(a);
      Deno.removeSync(dir, { recursive: true });
    }
  });
}

Deno.test("loading: SIGTERM while loading exits 0 and does not save the partial dataset", async () => {
  const dir = await makeDataset(false);
  const before = readFileSync(join(dir, "dump.rdb"));
  const [cmd, pre] = amberCommand();
  let a: Proc | undefined;
  try {
    // Save points are on: a shutdown would save, except while loading.
    a = await launch(cmd, [...pre, "--save", "1 1", "--key-load-delay", DELAY], dir);
    const c = await RawClient.connect(a.port);
    assert.equal(await c.call("GET", "k1"), LOADING);
    c.close();
    await stop(a, "SIGTERM");
    // The graceful path (Deno reports no exit code for a child that got a signal).
    assert.match(a.output(), /ready to exit, bye bye/);
    assert.match(a.output(), /Received SIGTERM during loading, scheduling shutdown/);
    assert.deepEqual(readFileSync(join(dir, "dump.rdb")), before);
  } finally {
    await stop(a);
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test({
  name: "loading: INFO persistence while loading has Redis's fields in Redis's order",
  ignore: skipWithoutRedis(),
  async fn() {
    const dir = await makeDataset(false);
    const redisDir = tempDir("redis-load-");
    Deno.copyFileSync(join(dir, "dump.rdb"), join(redisDir, "dump.rdb"));
    const [cmd, pre] = amberCommand();
    let a: Proc | undefined;
    let r: Proc | undefined;
    try {
      const args = ["--save", "", "--key-load-delay", DELAY];
      a = await launch(cmd, [...pre, ...args], dir);
      // Redis serves events every loading-process-events-interval-bytes (2 MB by default).
      r = await launch(
        redisServerPath()!,
        [...args, "--loading-process-events-interval-bytes", "1024"],
        redisDir,
      );
      const ca = await RawClient.connect(a.port);
      const cr = await RawClient.connect(r.port);
      const ia = parseReply(await ca.call("INFO", "persistence")) as string;
      const ir = parseReply(await cr.call("INFO", "persistence")) as string;
      assert.match(ir, /^loading:1\r$/m, "redis-server finished loading too soon");
      assert.deepEqual(persistenceFields(ia), persistenceFields(ir));
      assert.equal(await ca.call("PING"), await cr.call("PING"));
      ca.close();
      cr.close();
    } finally {
      await stop(a);
      await stop(r);
      Deno.removeSync(dir, { recursive: true });
      Deno.removeSync(redisDir, { recursive: true });
    }
  },
});
