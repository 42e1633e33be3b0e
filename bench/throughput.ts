/**
 * Throughput, Amber vs redis-server, in the same run: redis-benchmark with 50 clients
 * at pipeline 1 and 16, no persistence on either side. Prints a Markdown table of
 * requests/s and the ratio Amber/Redis (targets: >= 0.95 at -P 1 and >= 0.8 at -P 16
 * for SET and GET).
 *
 * Usage: deno task bench [--requests N] [--tests set,get,incr,mset] [--rounds R]
 */
import { parseArgs } from "node:util";
import { fmtRate, redisBenchmark, startAmber, startRedis } from "./common.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    requests: { type: "string", default: "200000" },
    tests: { type: "string", default: "set,get,incr,mset" },
    rounds: { type: "string", default: "2" },
    clients: { type: "string", default: "50" },
  },
});

const common = ["--save", "", "--appendonly", "no", "--bind", "127.0.0.1"];
const amber = await startAmber(common);
const redis = await startRedis(common);
try {
  const rows: string[] = [];
  for (const pipeline of [1, 16]) {
    const best = { amber: new Map<string, number>(), redis: new Map<string, number>() };
    for (let round = 0; round < Number(values.rounds); round++) {
      // Alternate the order so neither side always runs on a warmer machine.
      const order = round % 2 === 0 ? [redis, amber] : [amber, redis];
      for (const t of order) {
        const n = pipeline === 1 ? Number(values.requests) / 2 : Number(values.requests);
        const res = redisBenchmark(t.port, [
          "-t",
          values.tests!,
          "-n",
          String(n),
          "-c",
          values.clients!,
          "-P",
          String(pipeline),
          "-r",
          "100000",
        ]);
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
}
