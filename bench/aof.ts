/**
 * The AOF, Amber vs redis-server with the same config, in the same run:
 * 1. Write throughput with the AOF on: redis-benchmark SET at `-P 1` and `-P 16` under
 *    `appendfsync always`, `everysec` and `no` (target: Amber/Redis >= 0.8 for each),
 *    each server warmed up by a first run of half as many requests.
 * 2. The backup strategies side by side for N keys of mixed types: write throughput
 *    while loading them, on-disk size (after SAVE, or after BGREWRITEAOF so the AOF is
 *    one base), and recovery, restart to ready (first PING answered PONG), for RDB only,
 *    AOF with a RESP base (`aof-use-rdb-preamble no`) and the hybrid (RDB base).
 *
 * Usage: deno task bench:aof [--keys 1000000] [--requests 400000] [--rounds 3]
 *        [--part all|fsync|strategies]
 */
import { parseArgs } from "node:util";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { connect } from "node:net";
import { spawnSync } from "node:child_process";
import { redisBenchmark, removeDir, startAmber, startRedis, type Target } from "./common.ts";
import { loadMixed } from "./dataset.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    keys: { type: "string", default: "1000000" },
    requests: { type: "string", default: "400000" },
    part: { type: "string", default: "all" },
    rounds: { type: "string", default: "3" },
  },
});
const N = Number(values.keys);
const REQUESTS = values.requests;
const ROUNDS = Number(values.rounds);

/** One inline command on a fresh connection; resolves with the first reply line. */
function call(port: number, cmd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = "";
    const s = connect(port, "127.0.0.1", () => s.write(cmd + "\r\n"));
    s.on("data", (d: Uint8Array) => {
      buf += new TextDecoder().decode(d);
      const first = buf.indexOf("\r\n");
      if (first < 0) return;
      if (buf[0] === "$") {
        const n = Number(buf.slice(1, first));
        if (buf.length < first + 2 + n + 2) return;
      }
      s.destroy();
      resolve(buf);
    });
    s.on("error", reject);
  });
}

function infoField(text: string, field: string): string {
  return text.match(new RegExp(`^${field}:(.*)\\r$`, "m"))?.[1] ?? "";
}

async function waitRewrite(port: number): Promise<void> {
  while (true) {
    const info = await call(port, "INFO persistence");
    if (
      infoField(info, "aof_rewrite_in_progress") === "0" &&
      infoField(info, "aof_rewrite_scheduled") === "0"
    ) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

const start = (name: "amber" | "redis") => name === "amber" ? startAmber : startRedis;

// ---- 1. throughput by appendfsync --------------------------------------------------

let rowCount = 0;

async function fsyncRow(policy: string, pipeline: number): Promise<[number, number]> {
  const args = ["--save", "", "--appendonly", "yes", "--appendfsync", policy];
  const rates = new Map<string, number>();
  // Alternate who goes first, and let the disk finish the previous run's writeback.
  const order = rowCount++ % 2 === 0 ? ["amber", "redis"] as const : ["redis", "amber"] as const;
  for (const name of order) {
    const t = await start(name)(args);
    try {
      const run = (n: string) =>
        redisBenchmark(t.port, [
          "-t",
          "set",
          "-n",
          n,
          "-c",
          "50",
          "-P",
          String(pipeline),
          "-r",
          "100000",
        ]);
      // A warm-up run first, for both servers: the rate wanted is a running server's, not
      // the first 0.3 s of a fresh one, which under a JIT include compiling the hot path.
      run(String(Math.ceil(Number(REQUESTS) / 2)));
      spawnSync("sync");
      await new Promise((r) => setTimeout(r, 1000));
      const r = run(REQUESTS);
      rates.set(name, r.get("SET") ?? 0);
    } finally {
      await t.stop();
      removeDir(t);
    }
  }
  return [rates.get("amber")!, rates.get("redis")!];
}

async function fsyncTable(): Promise<void> {
  console.log(
    `redis-benchmark -t set -n ${REQUESTS} -c 50 -r 100000, appendonly yes, after a warm-up ` +
      `run of half as many, best of ${ROUNDS}\n`,
  );
  console.log("| appendfsync | pipeline | Amber SET/s | Redis SET/s | Amber/Redis |");
  console.log("|---|---|---|---|---|");
  for (const policy of ["always", "everysec", "no"]) {
    for (const p of [1, 16]) {
      // Best of the rounds for each server: the disk's own noise only ever slows a run.
      let a = 0;
      let r = 0;
      for (let i = 0; i < ROUNDS; i++) {
        const [x, y] = await fsyncRow(policy, p);
        a = Math.max(a, x);
        r = Math.max(r, y);
      }
      console.log(
        `| ${policy} | ${p} | ${Math.round(a).toLocaleString("en-US")} | ${
          Math.round(r).toLocaleString("en-US")
        } | ${(a / r).toFixed(2)} |`,
      );
    }
  }
  console.log();
}

// ---- 2. strategies ----------------------------------------------------------------

const STRATEGIES = {
  "RDB only": ["--appendonly", "no"],
  "AOF, RESP base": ["--appendonly", "yes", "--aof-use-rdb-preamble", "no"],
  "hybrid (RDB base)": ["--appendonly", "yes", "--aof-use-rdb-preamble", "yes"],
} as const;

interface StrategyResult {
  writesPerSec: number;
  bytes: number;
  readyS: number;
}

function dirBytes(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile() || e.name.endsWith(".log")) continue;
    const parent = (e as unknown as { parentPath?: string; path?: string }).parentPath ??
      (e as unknown as { path?: string }).path ?? dir;
    n += statSync(join(parent, e.name)).size;
  }
  return n;
}

async function strategy(name: "amber" | "redis", args: readonly string[]): Promise<StrategyResult> {
  const base = ["--save", "", ...args];
  let t: Target = await start(name)(base);
  const dir = t.dir;
  try {
    const secs = await loadMixed(t, N);
    if (args[1] === "no") await call(t.port, "SAVE");
    else {
      await call(t.port, "BGREWRITEAOF");
      await waitRewrite(t.port);
    }
    const bytes = dirBytes(dir);
    await t.stop();
    const t0 = performance.now();
    t = await start(name)(base, dir);
    while (!(await call(t.port, "PING")).startsWith("+PONG")) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const readyS = (performance.now() - t0) / 1000;
    const keys = Number((await call(t.port, "DBSIZE")).slice(1));
    if (keys !== N) throw new Error(`${name} recovered ${keys} keys, expected ${N}`);
    return { writesPerSec: N / secs, bytes, readyS };
  } finally {
    await t.stop();
    removeDir(t);
  }
}

async function strategyTable(): Promise<void> {
  console.log(
    `${N.toLocaleString("en-US")} keys (60% strings, 10% each small list/hash/set/zset), ` +
      "written as pipelined batches of 10k; appendfsync everysec\n",
  );
  console.log(
    "| strategy | writes/s Amber / Redis (ratio) | on disk Amber / Redis (ratio) | restart to ready Amber / Redis (ratio) |",
  );
  console.log("|---|---|---|---|");
  for (const [label, args] of Object.entries(STRATEGIES)) {
    const a = await strategy("amber", args);
    const r = await strategy("redis", args);
    const mib = (b: number) => (b / 2 ** 20).toFixed(1);
    console.log(
      `| ${label} | ${Math.round(a.writesPerSec).toLocaleString("en-US")} / ${
        Math.round(r.writesPerSec).toLocaleString("en-US")
      } (${(a.writesPerSec / r.writesPerSec).toFixed(2)}) | ${mib(a.bytes)} / ${
        mib(r.bytes)
      } MiB (${(a.bytes / r.bytes).toFixed(2)}) | ${a.readyS.toFixed(2)} / ${
        r.readyS.toFixed(2)
      } s (${(a.readyS / r.readyS).toFixed(2)}) |`,
    );
  }
}

if (values.part === "all" || values.part === "fsync") await fsyncTable();
if (values.part === "all" || values.part === "strategies") await strategyTable();
