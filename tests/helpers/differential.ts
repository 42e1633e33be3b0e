/**
 * Differential testing: run the same command script against redis-server and Amber,
 * and require byte-for-byte identical raw replies.
 */
import { RawClient } from "./resp_client.ts";
import { spawnAmber, spawnRedis, startAmber, type TestAmber, type TestProcess } from "./servers.ts";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";

/** A script step: a command, or a function for steps that are not plain commands. */
export type Step = string[];

export interface Pair {
  redis: TestProcess;
  amber: TestAmber;
  /** A connected client to each. */
  clients(): Promise<[RawClient, RawClient]>;
  stop(): Promise<void>;
}

/** Starts both servers with the same extra arguments. */
export async function startPair(args: string[] = []): Promise<Pair> {
  const [redis, amber] = await Promise.all([spawnRedis(args), startAmber(args)]);
  return {
    redis,
    amber,
    async clients() {
      return [await redis.client(), await amber.client()];
    },
    async stop() {
      await Promise.all([redis.stop(), amber.stop()]);
    },
  };
}

/** redis-server and Amber both as subprocesses: Amber from `spawnAmber` (AMBER_BIN if set). */
export interface ProcessPair {
  redis: TestProcess;
  amber: TestProcess;
  /** A connected client to each. */
  clients(): Promise<[RawClient, RawClient]>;
  stop(): Promise<void>;
}

/**
 * Starts redis-server and Amber as subprocesses with the same extra arguments, Amber
 * given the defaults `spawnRedis` gives redis-server (no save points, DEBUG enabled).
 * Used to test a built binary (AMBER_BIN) the way `startPair` tests the source.
 */
export async function startProcessPair(args: string[] = []): Promise<ProcessPair> {
  const started = await Promise.allSettled([
    spawnRedis(args),
    spawnAmber(["--save", "", "--enable-debug-command", "yes", ...args]),
  ]);
  const [redis, amber] = started;
  if (redis.status === "rejected" || amber.status === "rejected") {
    // Do not leave the one that did start running.
    for (const s of started) if (s.status === "fulfilled") await s.value.stop("SIGKILL");
    throw (redis.status === "rejected" ? redis : amber as PromiseRejectedResult).reason;
  }
  return {
    redis: redis.value,
    amber: amber.value,
    async clients() {
      return [await redis.value.client(), await amber.value.client()];
    },
    async stop() {
      await Promise.all([redis.value.stop(), amber.value.stop()]);
      for (const t of [redis.value, amber.value]) rmSync(t.dir, { recursive: true, force: true });
    },
  };
}

/** Runs `body` with a fresh redis-server + Amber pair and a client to each. */
export async function withPair(
  args: string[],
  body: (r: RawClient, a: RawClient, pair: Pair) => Promise<void>,
): Promise<void> {
  const pair = await startPair(args);
  try {
    const [r, a] = await pair.clients();
    await body(r, a, pair);
  } finally {
    await pair.stop();
  }
}

/**
 * Runs `steps` on both clients; each reply must match exactly. Returns the replies.
 * The message names the step so a failure reads like a bug report.
 *
 * `ttlSlack`: a positive TTL or EXPIRETIME in seconds may differ by one. A TTL set relative
 * to now is rounded to the second on each server, and the two servers run a step a
 * moment apart, so a second boundary can fall between them (-1 and -2 must still match).
 */
export async function compareScript(
  r: RawClient,
  a: RawClient,
  steps: Step[],
  opts: { ttlSlack?: boolean } = {},
): Promise<string[]> {
  const replies: string[] = [];
  for (const argv of steps) {
    const [rr, ar] = await Promise.all([r.call(...argv), a.call(...argv)]);
    if (!(opts.ttlSlack && secondsApart(argv, rr, ar))) {
      assert.equal(ar, rr, `reply to ${JSON.stringify(argv)} differs`);
    }
    replies.push(rr);
  }
  return replies;
}

/** Both replies are positive TTL/EXPIRETIME seconds at most one apart. */
function secondsApart(argv: Step, rr: string, ar: string): boolean {
  const cmd = argv[0].toUpperCase();
  if ((cmd !== "TTL" && cmd !== "EXPIRETIME") || rr[0] !== ":" || ar[0] !== ":") return false;
  const [x, y] = [Number(rr.slice(1, -2)), Number(ar.slice(1, -2))];
  return x > 0 && y > 0 && Math.abs(x - y) <= 1;
}

/** Sends `raw` bytes to both and compares the next `n` replies. */
export async function compareRaw(
  r: RawClient,
  a: RawClient,
  raw: string,
  n: number,
): Promise<void> {
  r.write(raw);
  a.write(raw);
  for (let i = 0; i < n; i++) {
    const [rr, ar] = await Promise.all([r.read(), a.read()]);
    assert.equal(ar, rr, `reply ${i} to ${JSON.stringify(raw)} differs`);
  }
}

/** Runs `cmds` on both servers with a `__key*__` subscriber each (notify-keyspace-events
 * KEA) and requires the same replies and the same events, in order. */
export async function compareEvents(
  r: RawClient,
  a: RawClient,
  subs: [RawClient, RawClient],
  cmds: string[][],
): Promise<number> {
  for (const [w, sub] of [[r, subs[0]], [a, subs[1]]]) {
    assert.equal(await w.call("CONFIG", "SET", "notify-keyspace-events", "KEA"), "+OK\r\n");
    await sub.call("PSUBSCRIBE", "__key*__:*");
    await sub.call("SUBSCRIBE", "sync");
  }
  const step = async (w: RawClient, sub: RawClient, cmd: string[]) => {
    const reply = await w.call(...cmd);
    await w.call("PUBLISH", "sync", ".");
    const msgs: string[] = [];
    while (true) {
      const m = await sub.read();
      if (m.includes("\r\n$4\r\nsync\r\n")) break;
      msgs.push(m);
    }
    return [reply, msgs] as const;
  };
  let n = 0;
  for (const cmd of cmds) {
    const [rr, ar] = await Promise.all([step(r, subs[0], cmd), step(a, subs[1], cmd)]);
    // Random pops reply differently; their events must still agree.
    if (cmd[0] !== "SPOP" && cmd[0] !== "SRANDMEMBER") {
      assert.equal(ar[0], rr[0], `reply to ${JSON.stringify(cmd)} differs`);
    }
    assert.deepEqual(ar[1], rr[1], `events of ${JSON.stringify(cmd)} differ`);
    n += rr[1].length;
  }
  return n;
}
