/**
 * Throughput, Amber vs redis-server, in the same run: redis-benchmark with 50 clients
 * at pipeline 1 and 16, no persistence on either side. Prints a Markdown table of
 * requests/s and the ratio Amber/Redis.
 *
 * Suites: `core` (SET GET INCR MSET; targets >= 0.95 at -P 1, >= 0.8 at -P 16 for SET
 * and GET) and `collections` (LPUSH LPOP SADD HSET ZADD and ZRANGE of 100 elements;
 * target >= 0.8 at -P 16).
 *
 * Usage: deno task bench [--suite core|collections|all] [--requests N] [--rounds R]
 */
import { parseArgs } from "node:util";
import {
  fmtRate,
  redisBenchmark,
  redisBenchmarkCommand,
  removeDir,
  sendRaw,
  startAmber,
  startRedis,
  type Target,
} from "./common.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    suite: { type: "string", default: "core" },
    requests: { type: "string", default: "200000" },
    tests: { type: "string" },
    rounds: { type: "string", default: "2" },
    clients: { type: "string", default: "50" },
  },
});

const SUITES: Record<string, string> = {
  core: "set,get,incr,mset",
  collections: "lpush,lpop,sadd,hset,zadd",
};
const suites = values.suite === "all" ? ["core", "collections"] : [values.suite!];
const tests = values.tests ?? suites.map((s) => SUITES[s]).join(",");
const withZrange = values.tests === undefined && suites.includes("collections");

/** ZRANGE of 100 elements needs a 100-member sorted set on both servers. */
async function loadZrangeKey(t: Target): Promise<void> {
  let cmd = "*202\r\n$4\r\nZADD\r\n$6\r\nzbench\r\n";
  for (let i = 0; i < 100; i++) {
    const score = String(i);
    const member = `member:${i}`;
    cmd += `$${score.length}\r\n${score}\r\n$${member.length}\r\n${member}\r\n`;
  }
  await sendRaw(t.port, new TextEncoder().encode(cmd), 1);
}

const common = ["--save", "", "--appendonly", "no", "--bind", "127.0.0.1"];
const amber = await startAmber(common);
const redis = await startRedis(common);
try {
  if (withZrange) await Promise.all([loadZrangeKey(amber), loadZrangeKey(redis)]);
  const rows: string[] = [];
  for (const pipeline of [1, 16]) {
    const best = { amber: new Map<string, number>(), redis: new Map<string, number>() };
    for (let round = 0; round < Number(values.rounds); round++) {
      // Alternate the order so neither side always runs on a warmer machine.
      const order = round % 2 === 0 ? [redis, amber] : [amber, redis];
      for (const t of order) {
        const n = pipeline === 1 ? Number(values.requests) / 2 : Number(values.requests);
        const args = ["-n", String(n), "-c", values.clients!, "-P", String(pipeline)];
        const res = redisBenchmark(t.port, ["-t", tests, "-r", "100000", ...args]);
        if (withZrange) {
          res.set(
            "ZRANGE (100 elements)",
            redisBenchmarkCommand(t.port, args, ["ZRANGE", "zbench", "0", "99"]),
          );
        }
        const m = best[t.name as "amber" | "redis"];
        for (const [k, v] of res) m.set(k, Math.max(m.get(k) ?? 0, v));
      }
    }
    for (const [test, r] of best.redis) {
      const a = best.amber.get(test) ?? 0;
      rows.push(
        `| ${test} | ${pipeline} | ${fmtRate(a)} | ${fmtRate(r)} | ${(a / r).toFixed(2)} |`,
      );
    }
  }
  console.log(`redis-benchmark -c ${values.clients} -r 100000, best of ${values.rounds} rounds\n`);
  console.log("| test | -P | Amber ops/s | Redis ops/s | Amber/Redis |");
  console.log("|---|---|---|---|---|");
  for (const r of rows) console.log(r);
} finally {
  await amber.stop();
  await redis.stop();
  removeDir(amber);
  removeDir(redis);
}
