/**
 * Memory, Amber vs redis-server: load N small hashes, sets or sorted sets (the compact
 * encodings) into each server and compare resident memory growth (VmRSS, read the same
 * way for both processes). Target: Amber/Redis <= 1.5.
 *
 * Usage: deno task bench:memory [--keys 1000000] [--types hash,set,zset,string]
 */
import { parseArgs } from "node:util";
import { removeDir, rssBytes, sendRaw, startAmber, startRedis, type Target } from "./common.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    keys: { type: "string", default: "1000000" },
    types: { type: "string", default: "hash,set,zset" },
  },
});
const N = Number(values.keys);

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
    rows.push(
      `| ${N.toLocaleString("en-US")} small ${type === "hash" ? "hashe" : type}s | ${
        (a / 2 ** 20).toFixed(0)
      } MiB | ${(r / 2 ** 20).toFixed(0)} MiB | ${(a / r).toFixed(2)} |`,
    );
  } finally {
    await amber.stop();
    await redis.stop();
    removeDir(amber);
    removeDir(redis);
  }
}
console.log("| dataset | Amber RSS growth | Redis RSS growth | Amber/Redis |");
console.log("|---|---|---|---|");
for (const r of rows) console.log(r);
