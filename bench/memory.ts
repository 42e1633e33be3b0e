/**
 * Memory, Amber vs redis-server: load N small hashes, sets or sorted sets (the compact
 * encodings) into each server and compare resident memory growth (VmRSS, read the same
 * way for both processes). Target: Amber/Redis <= 1.5.
 *
 * Measured 1 s after the load and, with `--settle S`, again after S seconds of idle: V8
 * runs its memory reducer (a major GC) about 30 s after a burst, while Redis's resident
 * size does not move, so both moments are reported.
 *
 * Usage: deno task bench:memory [--keys 1000000] [--types hash,set,zset,string] [--settle 40]
 */
import { parseArgs } from "node:util";
import { removeDir, rssBytes, sendRaw, startAmber, startRedis, type Target } from "./common.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    keys: { type: "string", default: "1000000" },
    types: { type: "string", default: "hash,set,zset" },
    settle: { type: "string", default: "0" },
  },
});
const N = Number(values.keys);
const SETTLE_S = Number(values.settle);

function bulk(s: string): string {
  return `$${s.length}\r\n${s}\r\n`;
}

/** The command that creates small key number `i` of `type`: 5 fields/members each. */
function command(type: string, i: number): string {
  const key = `${type}:${String(i).padStart(8, "0")}`;
  switch (type) {
    case "hash":
      return "*12\r\n" + bulk("HSET") + bulk(key) +
        [1, 2, 3, 4, 5].map((f) => bulk(`f${f}`) + bulk(`value-${i % 1000}-${f}`)).join("");
    case "set":
      return "*7\r\n" + bulk("SADD") + bulk(key) +
        [1, 2, 3, 4, 5].map((m) => bulk(`member-${m}-${i % 100}`)).join("");
    case "zset":
      return "*12\r\n" + bulk("ZADD") + bulk(key) +
        [1, 2, 3, 4, 5].map((m) => bulk(String(m * 1.5)) + bulk(`member-${m}`)).join("");
    case "string":
      return "*3\r\n" + bulk("SET") + bulk(key) + bulk(`value-${i}`);
  }
  throw new Error(`unknown type ${type}`);
}

async function load(t: Target, type: string): Promise<void> {
  const BATCH = 10_000;
  for (let i = 0; i < N; i += BATCH) {
    let s = "";
    const n = Math.min(BATCH, N - i);
    for (let j = 0; j < n; j++) s += command(type, i + j);
    await sendRaw(t.port, new TextEncoder().encode(s), n);
  }
}

const rows: string[] = [];
for (const type of values.types!.split(",")) {
  const args = ["--save", "", "--appendonly", "no", "--bind", "127.0.0.1"];
  const amber = await startAmber(args);
  const redis = await startRedis(args);
  try {
    const base = { amber: rssBytes(amber.proc.pid!), redis: rssBytes(redis.proc.pid!) };
    await load(amber, type);
    await load(redis, type);
    await new Promise((r) => setTimeout(r, 1000));
    const a = rssBytes(amber.proc.pid!) - base.amber;
    const r = rssBytes(redis.proc.pid!) - base.redis;
    const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
    let row = `| ${N.toLocaleString("en-US")} small ${type === "hash" ? "hashe" : type}s | ${
      mib(a)
    } | ${mib(r)} | ${(a / r).toFixed(2)} |`;
    if (SETTLE_S > 0) {
      await new Promise((res) => setTimeout(res, SETTLE_S * 1000));
      const a2 = rssBytes(amber.proc.pid!) - base.amber;
      const r2 = rssBytes(redis.proc.pid!) - base.redis;
      row += ` ${mib(a2)} | ${mib(r2)} | ${(a2 / r2).toFixed(2)} |`;
    }
    rows.push(row);
  } finally {
    await amber.stop();
    await redis.stop();
    removeDir(amber);
    removeDir(redis);
  }
}
const later = SETTLE_S > 0
  ? ` Amber after ${SETTLE_S} s | Redis after ${SETTLE_S} s | Amber/Redis after ${SETTLE_S} s |`
  : "";
console.log(`| dataset | Amber RSS growth | Redis RSS growth | Amber/Redis |${later}`);
console.log(`|---|---|---|---|${SETTLE_S > 0 ? "---|---|---|" : ""}`);
for (const r of rows) console.log(r);
