/**
 * RDB persistence, Amber vs redis-server, same data, same run:
 * - SAVE time, load time (restart to "DB loaded from disk") and file size at N keys of
 *   mixed types (targets: time ratio <= 1.5, size ratio <= 1.1);
 * - BGSAVE under load: a client sends GETs back to back during the BGSAVE and records
 *   p99/max latency, against the same client with no BGSAVE; Amber's longest event-loop
 *   stall (INFO amber_eventloop_max_stall_ms), also over the baseline's 2 s for scale,
 *   against Redis's latest_fork_usec (target:
 *   stall <= 5 ms at 1M keys; throughput during BGSAVE >= 0.8 of without).
 *
 * With `--big-keys`, also one key of 1M elements per collection type (hash, set, sorted
 * set, list), each in a fresh server: Amber's longest pause over a BGSAVE against Redis's
 * fork, first with no client, then with a write to the big key right after the BGSAVE
 * command (which makes Amber copy the key before the snapshot has saved it).
 *
 * The BGSAVE runs `--rounds` times (default 5) per server, each under the same GETs, and
 * the pause is reported per round: first (a fresh server's), median and max.
 *
 * With `--cpulist`, both servers run with `server_cpulist 0`, `bgsave_cpulist 1` and
 * `bio_cpulist 1` (Redis's directives; Amber's mapping is in src/util/cpu_affinity.ts).
 *
 * Usage: deno task bench:persistence [--keys 1000000] [--rounds 5] [--cpulist] [--big-keys]
 */
import { parseArgs } from "node:util";
import { spawnSync } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { connect, type Socket } from "node:net";
import { removeDir, sendRaw, startAmber, startRedis } from "./common.ts";
import { loadMixed } from "./dataset.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    keys: { type: "string", default: "1000000" },
    "big-keys": { type: "boolean", default: false },
    rounds: { type: "string", default: "5" },
    cpulist: { type: "boolean", default: false },
  },
});
const N = Number(values.keys);
const ROUNDS = Math.max(1, Number(values.rounds));

/** A tiny sequential client: one command at a time, returns latency in ms. */
class Probe {
  private buf = "";
  private wait: (() => void) | null = null;
  private constructor(private s: Socket) {
    s.on("data", (d: Uint8Array) => {
      this.buf += new TextDecoder().decode(d);
      this.wait?.();
    });
  }
  static open(port: number): Promise<Probe> {
    return new Promise((r) => {
      const s = connect(port, "127.0.0.1", () => r(new Probe(s)));
    });
  }
  /** Sends an inline command and waits for a reply that ends with CRLF. */
  async call(cmd: string): Promise<[number, string]> {
    this.buf = "";
    const t0 = performance.now();
    this.s.write(cmd + "\r\n");
    while (!this.complete()) await new Promise<void>((r) => this.wait = r);
    return [performance.now() - t0, this.buf];
  }
  private complete(): boolean {
    if (!this.buf.endsWith("\r\n")) return false;
    if (this.buf[0] !== "$") return true;
    const nl = this.buf.indexOf("\r\n");
    const n = Number(this.buf.slice(1, nl));
    return n < 0 || this.buf.length >= nl + 2 + n + 2;
  }
  close() {
    this.s.destroy();
  }
}

function infoField(text: string, field: string): string {
  return text.match(new RegExp(`^${field}:(.*)\\r$`, "m"))?.[1] ?? "";
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * p))];
}

/** GET latencies for `ms` milliseconds (or until `until` resolves true). */
async function probeLatency(p: Probe, until: () => Promise<boolean>): Promise<number[]> {
  const lat: number[] = [];
  let i = 0;
  while (true) {
    const [ms] = await p.call(`GET key:${String((i++ * 7919) % N).padStart(9, "0")}`);
    lat.push(ms);
    if (i % 50 === 0 && await until()) return lat;
  }
}

interface Result {
  saveS: number;
  loadS: number;
  size: number;
  baseline: number[];
  during: number[];
  opsBaseline: number;
  opsDuring: number;
  /** Amber's longest event-loop stall over the 2 s baseline, with no BGSAVE (ms). */
  stallBaseline: number;
  /** Per BGSAVE round: Amber's longest stall, or Redis's fork time (ms). */
  pauses: number[];
}

/** Server arguments for `--cpulist`: main thread on CPU 0, BGSAVE and helpers on CPU 1. */
const CPU_LISTS = ["--server_cpulist", "0", "--bgsave_cpulist", "1", "--bio_cpulist", "1"];

/** Lets the disk settle (after a SAVE or a BGSAVE), so writeback is not measured. */
async function settle(ms: number): Promise<void> {
  spawnSync("sync");
  await new Promise((r) => setTimeout(r, ms));
}

async function measure(name: "amber" | "redis"): Promise<Result> {
  const args = [
    "--save",
    "",
    "--appendonly",
    "no",
    "--bind",
    "127.0.0.1",
    ...(values.cpulist ? CPU_LISTS : []),
  ];
  const start = name === "amber" ? startAmber : startRedis;
  let t = await start(args);
  const dir = t.dir;
  try {
    await loadMixed(t, N);
    const p = await Probe.open(t.port);
    const [saveMs] = await p.call("SAVE");
    const size = statSync(join(dir, "dump.rdb")).size;
    await settle(1000);
    // Baseline latency and throughput: 2 seconds of back-to-back GETs.
    await p.call("CONFIG RESETSTAT");
    const t0 = performance.now();
    const baseline = await probeLatency(p, () => Promise.resolve(performance.now() - t0 > 2000));
    const opsBaseline = baseline.length / ((performance.now() - t0) / 1000);
    const [, statsBaseline] = await p.call("INFO stats");
    const stallBaseline = Number(infoField(statsBaseline, "amber_eventloop_max_stall_ms"));
    // BGSAVE rounds, each under the same back-to-back GETs; the first is the one a
    // freshly started server pays (its code not yet optimized).
    const probe2 = await Probe.open(t.port);
    const during: number[] = [];
    const pauses: number[] = [];
    let duringMs = 0;
    for (let round = 0; round < ROUNDS; round++) {
      if (round > 0) await settle(500);
      await p.call("CONFIG RESETSTAT");
      await p.call("BGSAVE");
      const t1 = performance.now();
      during.push(
        ...await probeLatency(p, async () => {
          const [, info] = await probe2.call("INFO persistence");
          return infoField(info, "rdb_bgsave_in_progress") === "0";
        }),
      );
      duringMs += performance.now() - t1;
      const [, stats] = await probe2.call("INFO stats");
      pauses.push(
        name === "amber"
          ? Number(infoField(stats, "amber_eventloop_max_stall_ms"))
          : Number(infoField(stats, "latest_fork_usec")) / 1000,
      );
    }
    const opsDuring = during.length / (duringMs / 1000);
    p.close();
    probe2.close();
    await t.stop();
    // Restart on the saved file; both servers log "DB loaded from disk: X seconds" (they
    // accept connections before loading ends, so connecting would not time the load).
    const log = join(dir, "server.log");
    t = await start([...args, "--logfile", log], dir);
    let loadS = NaN;
    for (let i = 0; i < 600 && Number.isNaN(loadS); i++) {
      const m = readFileSync(log, "latin1").match(/DB loaded from disk: ([0-9.]+) seconds/);
      if (m) loadS = Number(m[1]);
      else await new Promise((r) => setTimeout(r, 100));
    }
    return {
      saveS: saveMs / 1000,
      loadS,
      size,
      baseline,
      during,
      opsBaseline,
      opsDuring,
      stallBaseline,
      pauses,
    };
  } finally {
    await t.stop();
    removeDir(t);
  }
}

/** "first / median / max" of a round's pauses, and how many were at most 5 ms. */
function pauseSummary(xs: number[], unit: string): string {
  const sorted = [...xs].sort((a, b) => a - b);
  const median = sorted[Math.floor((sorted.length - 1) / 2)];
  const under = xs.filter((x) => x <= 5).length;
  return `${xs[0].toFixed(2)} / ${median.toFixed(2)} / ${
    sorted[sorted.length - 1].toFixed(2)
  } ms ${unit} (${under}/${xs.length} <= 5 ms)`;
}

const amber = await measure("amber");
const redis = await measure("redis");
const r2 = (a: number, b: number) => (a / b).toFixed(2);
console.log(`${N.toLocaleString("en-US")} keys (60% strings, 10% each small list/hash/set/zset)\n`);
console.log("| measure | Amber | Redis | Amber/Redis |");
console.log("|---|---|---|---|");
console.log(
  `| SAVE | ${amber.saveS.toFixed(2)} s | ${redis.saveS.toFixed(2)} s | ${
    r2(amber.saveS, redis.saveS)
  } |`,
);
console.log(
  `| load at start (its own log line) | ${amber.loadS.toFixed(2)} s | ${
    redis.loadS.toFixed(2)
  } s | ${r2(amber.loadS, redis.loadS)} |`,
);
console.log(
  `| dump.rdb size | ${(amber.size / 2 ** 20).toFixed(1)} MiB | ${
    (redis.size / 2 ** 20).toFixed(1)
  } MiB | ${r2(amber.size, redis.size)} |`,
);
for (const [label, key] of [["GET p99", 0.99], ["GET max", 1]] as const) {
  console.log(
    `| ${label} without / during BGSAVE | ${pct(amber.baseline, key).toFixed(2)} / ${
      pct(amber.during, key).toFixed(2)
    } ms | ${pct(redis.baseline, key).toFixed(2)} / ${pct(redis.during, key).toFixed(2)} ms | |`,
  );
}
console.log(
  `| sequential GETs/s during / without BGSAVE | ${r2(amber.opsDuring, amber.opsBaseline)} | ${
    r2(redis.opsDuring, redis.opsBaseline)
  } | |`,
);
console.log(
  `| Amber's longest stall without BGSAVE (2 s of GETs) | ${
    amber.stallBaseline.toFixed(2)
  } ms | | |`,
);
console.log(
  `| longest main-thread pause per BGSAVE, ${ROUNDS} rounds: first / median / max | ${
    pauseSummary(amber.pauses, "stall")
  } | ${pauseSummary(redis.pauses, "fork")} | |`,
);
console.log("\nEach round's pause (ms), Amber / Redis:");
console.log(amber.pauses.map((a, i) => `${a.toFixed(2)}/${redis.pauses[i].toFixed(2)}`).join(" "));

/** The commands that build one key of `n` elements of `type`, 1000 per command. */
function bigKeyCommands(type: string, n: number): [Uint8Array, number] {
  const enc = new TextEncoder();
  const bulk = (x: string) => `$${x.length}\r\n${x}\r\n`;
  let raw = "";
  let cmds = 0;
  for (let b = 0; b < n; b += 1000) {
    const args: string[] = [];
    for (let i = b; i < Math.min(n, b + 1000); i++) {
      if (type === "hash") args.push(`f${i}`, `v${i}`);
      else if (type === "zset") args.push(String(i % 1000), `m${i}`);
      else args.push(`m${i}`);
    }
    const cmd = { hash: "HSET", set: "SADD", zset: "ZADD", list: "RPUSH" }[type]!;
    const all = [cmd, "big", ...args];
    raw += `*${all.length}\r\n` + all.map(bulk).join("");
    cmds++;
  }
  return [enc.encode(raw), cmds];
}

/** A write to the key "big" of `type` (one new element). */
function bigKeyWrite(type: string): string {
  return {
    hash: "HSET big new 1",
    set: "SADD big new",
    zset: "ZADD big 1 new",
    list: "RPUSH big new",
  }[
    type
  ]!;
}

/** The BGSAVE pause with one big key: Amber's stall or Redis's fork, in ms. */
async function bigKeyPause(name: "amber" | "redis", type: string, write: boolean): Promise<number> {
  const start = name === "amber" ? startAmber : startRedis;
  const t = await start(["--save", "", "--appendonly", "no", "--bind", "127.0.0.1"]);
  try {
    const [raw, replies] = bigKeyCommands(type, 1_000_000);
    await sendRaw(t.port, raw, replies);
    const p = await Probe.open(t.port);
    await new Promise((r) => setTimeout(r, 500));
    await p.call("CONFIG RESETSTAT");
    await p.call("BGSAVE");
    if (write) await p.call(bigKeyWrite(type));
    while (true) {
      const [, info] = await p.call("INFO persistence");
      if (infoField(info, "rdb_bgsave_in_progress") === "0") break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const [, stats] = await p.call("INFO stats");
    p.close();
    return name === "amber"
      ? Number(infoField(stats, "amber_eventloop_max_stall_ms"))
      : Number(infoField(stats, "latest_fork_usec")) / 1000;
  } finally {
    await t.stop();
    removeDir(t);
  }
}

if (values["big-keys"]) {
  console.log("\nOne key of 1M elements, BGSAVE (Amber: longest main-thread pause; Redis: fork)\n");
  console.log("| key | Amber | Redis | Amber, a write to it right after BGSAVE | Redis |");
  console.log("|---|---|---|---|---|");
  for (const type of ["hash", "set", "zset", "list"]) {
    const cells: string[] = [];
    for (const write of [false, true]) {
      for (const name of ["amber", "redis"] as const) {
        cells.push(`${(await bigKeyPause(name, type, write)).toFixed(2)} ms`);
      }
    }
    console.log(`| ${type} | ${cells.join(" | ")} |`);
  }
}
