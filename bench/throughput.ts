/**
 * Throughput, Amber vs redis-server, in the same run: redis-benchmark with 50 clients
 * at pipeline 1 and 16, no persistence on either side. Prints a Markdown table of
 * requests/s and the ratio Amber/Redis, and of each server's CPU time per request (read
 * from /proc around each run): on this noisy 2-core machine the CPU per request moves
 * far less between runs than requests/s, which also depends on what else ran meanwhile.
 *
 * Suites: `core` (SET GET INCR MSET; targets >= 0.95 at -P 1, >= 0.8 at -P 16 for SET
 * and GET), `collections` (LPUSH LPOP SADD HSET ZADD and ZRANGE of 100 elements;
 * target >= 0.8 at -P 16) and `ttl` (SET with EX, then GET of those keys: a cache's
 * traffic, where every key has a TTL; no target in the issues).
 *
 * Usage: deno task bench [--suite core|collections|ttl|all] [--requests N] [--rounds R]
 */
import { parseArgs } from "node:util";
import {
  cpuMicros,
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
  ttl: "setex,getttl",
};
/** Tests given as a command line rather than a `redis-benchmark -t` name. */
const COMMANDS: Record<string, string[]> = {
  setex: ["SET", "key:__rand_int__", "xxx", "EX", "100000"],
  getttl: ["GET", "key:__rand_int__"],
};
const suites = values.suite === "all" ? ["core", "collections", "ttl"] : [values.suite!];
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

/** Test names as redis-benchmark prints them, per `-t` name. */
const NAMES: Record<string, string> = {
  set: "SET",
  get: "GET",
  incr: "INCR",
  mset: "MSET (10 keys)",
  lpush: "LPUSH",
  lpop: "LPOP",
  sadd: "SADD",
  hset: "HSET",
  zadd: "ZADD",
  setex: "SET EX",
  getttl: "GET (keys with a TTL)",
};

interface Sample {
  ops: number;
  /** Server CPU time (all threads, user + system) per request, µs. */
  cpu: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const common = ["--save", "", "--appendonly", "no", "--bind", "127.0.0.1"];
const amber = await startAmber(common);
const redis = await startRedis(common);
try {
  if (withZrange) await Promise.all([loadZrangeKey(amber), loadZrangeKey(redis)]);
  const testList = tests.split(",");
  const names = testList.map((t) => NAMES[t] ?? t.toUpperCase());
  if (withZrange) names.push("ZRANGE (100 elements)");
  const rows: string[] = [];
  for (const pipeline of [1, 16]) {
    const samples = new Map<string, Sample[]>();
    const n = pipeline === 1 ? Number(values.requests) / 2 : Number(values.requests);
    const args = ["-n", String(n), "-c", values.clients!, "-P", String(pipeline)];
    for (let round = 0; round < Number(values.rounds); round++) {
      // One test at a time, in suite order (LPOP pops what LPUSH pushed), both servers
      // in turn, alternating which goes first so neither always runs on a warmer machine.
      for (let i = 0; i < names.length; i++) {
        const order = (round + i) % 2 === 0 ? [redis, amber] : [amber, redis];
        for (const t of order) {
          const before = cpuMicros(t.proc.pid!);
          const test = testList[i];
          const ops = i === testList.length
            ? redisBenchmarkCommand(t.port, args, ["ZRANGE", "zbench", "0", "99"])
            : COMMANDS[test] !== undefined
            ? redisBenchmarkCommand(t.port, [...args, "-r", "100000"], COMMANDS[test])
            : redisBenchmark(t.port, ["-t", test, "-r", "100000", ...args]).get(names[i]) ?? 0;
          const cpu = (cpuMicros(t.proc.pid!) - before) / n;
          const key = `${t.name} ${names[i]}`;
          samples.set(key, [...(samples.get(key) ?? []), { ops, cpu }]);
        }
      }
    }
    for (const test of names) {
      const a = samples.get(`amber ${test}`)!;
      const r = samples.get(`redis ${test}`)!;
      const aOps = Math.max(...a.map((x) => x.ops));
      const rOps = Math.max(...r.map((x) => x.ops));
      const aCpu = median(a.map((x) => x.cpu));
      const rCpu = median(r.map((x) => x.cpu));
      rows.push(
        `| ${test} | ${pipeline} | ${fmtRate(aOps)} | ${fmtRate(rOps)} | ${
          (aOps / rOps).toFixed(2)
        } | ${aCpu.toFixed(2)} | ${rCpu.toFixed(2)} | ${(rCpu / aCpu).toFixed(2)} |`,
      );
    }
  }
  console.log(
    `redis-benchmark -c ${values.clients} -r 100000, one test at a time, ${values.rounds} rounds: ` +
      "best ops/s; median server CPU per request (all threads, user + system)\n",
  );
  console.log(
    "| test | -P | Amber ops/s | Redis ops/s | Amber/Redis | Amber CPU µs/req | Redis CPU µs/req | Redis/Amber CPU |",
  );
  console.log("|---|---|---|---|---|---|---|---|");
  for (const r of rows) console.log(r);
} finally {
  await amber.stop();
  await redis.stop();
  removeDir(amber);
  removeDir(redis);
}
