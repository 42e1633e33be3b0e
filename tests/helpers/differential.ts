/**
 * Differential testing: run the same command script against redis-server and Amber,
 * and require byte-for-byte identical raw replies.
 */
import { RawClient } from "./resp_client.ts";
import { spawnRedis, startAmber, type TestAmber, type TestProcess } from "./servers.ts";
import assert from "node:assert/strict";

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
 */
export async function compareScript(
  r: RawClient,
  a: RawClient,
  steps: Step[],
): Promise<string[]> {
  const replies: string[] = [];
  for (const argv of steps) {
    const [rr, ar] = await Promise.all([r.call(...argv), a.call(...argv)]);
    assert.equal(ar, rr, `reply to ${JSON.stringify(argv)} differs`);
    replies.push(rr);
  }
  return replies;
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
