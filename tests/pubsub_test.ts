// Tests for src/commands/pubsub.ts: two-client differential flows against redis-server in
// RESP2 and RESP3 (confirmations, messages, pattern messages, shard channels, PUBSUB
// introspection, subscribed-mode restrictions, RESET and disconnect cleanup, messages
// interleaved with EXEC replies), and ioredis / node-redis subscribers.
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { type Pair, startPair } from "./helpers/differential.ts";
import { encodeCommand, RawClient } from "./helpers/resp_client.ts";
import { skipWithoutRedis, startAmber } from "./helpers/servers.ts";

const noRedis = skipWithoutRedis();

/**
 * N connections to each server, driven in lockstep: every command goes to both, and the
 * replies (or pushed messages) read from both must be byte-for-byte equal.
 */
class Lockstep {
  constructor(readonly r: RawClient[], readonly a: RawClient[]) {}

  static async open(pair: Pair, n: number): Promise<Lockstep> {
    const r: RawClient[] = [];
    const a: RawClient[] = [];
    for (let i = 0; i < n; i++) {
      const [x, y] = await pair.clients();
      r.push(x);
      a.push(y);
    }
    return new Lockstep(r, a);
  }

  /** Client `i` sends `argv` on both servers; `n` replies are read and compared. */
  async run(i: number, argv: string[], n = 1): Promise<string[]> {
    this.r[i].write(encodeCommand(argv));
    this.a[i].write(encodeCommand(argv));
    return await this.read(i, n, JSON.stringify(argv));
  }

  /** Reads `n` replies or messages pending on client `i` of both servers. */
  async read(i: number, n = 1, what = "pending message"): Promise<string[]> {
    const out: string[] = [];
    for (let k = 0; k < n; k++) {
      const [rr, ar] = await Promise.all([this.r[i].read(), this.a[i].read()]);
      assert.equal(ar, rr, `client ${i}: reply ${k} to ${what} differs`);
      out.push(rr);
    }
    return out;
  }

  /** Switches client `i` to RESP3 on both (HELLO's reply names the client id: not compared). */
  async hello3(i: number): Promise<void> {
    const [rr, ar] = await Promise.all([
      this.r[i].call("HELLO", "3"),
      this.a[i].call("HELLO", "3"),
    ]);
    assert.ok(rr.startsWith("%7") && ar.startsWith("%7"), ar);
  }

  /** Like run, but the `n` replies are compared as a multiset (Redis hash order). */
  async runSorted(i: number, argv: string[], n: number): Promise<void> {
    this.r[i].write(encodeCommand(argv));
    this.a[i].write(encodeCommand(argv));
    const rr: string[] = [];
    const ar: string[] = [];
    for (let k = 0; k < n; k++) {
      rr.push(await this.r[i].read());
      ar.push(await this.a[i].read());
    }
    // The running counts follow the order: compare names and counts as two multisets.
    const names = (l: string[]) => l.map((x) => x.replace(/:\d+\r\n$/, "")).sort();
    const counts = (l: string[]) => l.map((x) => x.slice(x.lastIndexOf(":"))).sort();
    assert.deepEqual(names(ar), names(rr), `replies to ${JSON.stringify(argv)} differ`);
    assert.deepEqual(counts(ar), counts(rr), `counts in ${JSON.stringify(argv)} differ`);
  }

  /** An array reply compared with its elements sorted (PUBSUB CHANNELS lists hash order). */
  async runSortedArray(i: number, argv: string[]): Promise<void> {
    const [rr, ar] = await Promise.all([this.r[i].call(...argv), this.a[i].call(...argv)]);
    assert.deepEqual(splitArray(ar), splitArray(rr), `reply to ${JSON.stringify(argv)}`);
  }
}

/** Elements of a flat array-of-bulks reply, sorted, with the header. */
function splitArray(raw: string): string[] {
  const lines = raw.split("\r\n");
  const head = lines[0];
  const items: string[] = [];
  for (let i = 1; i + 1 < lines.length; i += 2) items.push(lines[i] + "\r\n" + lines[i + 1]);
  return [head, ...items.sort()];
}

async function withLockstep(
  n: number,
  body: (s: Lockstep, pair: Pair) => Promise<void>,
): Promise<void> {
  const pair = await startPair();
  try {
    await body(await Lockstep.open(pair, n), pair);
  } finally {
    await pair.stop();
  }
}

Deno.test({
  name: "pubsub: RESP2 subscribe/publish/unsubscribe flows match redis-server",
  ignore: noRedis,
  async fn() {
    await withLockstep(3, async (s) => {
      // Nothing subscribed: the mass forms still reply once, with a null name.
      await s.run(0, ["UNSUBSCRIBE"]);
      await s.run(0, ["PUNSUBSCRIBE"]);
      await s.run(0, ["SUNSUBSCRIBE"]);
      await s.run(0, ["PING"]);
      await s.run(0, ["GET", "x"]);
      await s.run(0, ["SUBSCRIBE", "a", "b", "c", "a"], 4);
      // Subscribed RESP2 client: only (P|S)(UN)SUBSCRIBE, PING, QUIT, RESET.
      await s.run(0, ["PING"]);
      await s.run(0, ["PING", "hello"]);
      await s.run(0, ["GET", "x"]);
      await s.run(0, ["SET", "x", "1"]);
      await s.run(0, ["PUBLISH", "a", "m"]);
      await s.run(0, ["PUBSUB", "NUMPAT"]);
      await s.run(0, ["NOSUCHCOMMAND"]);
      await s.run(0, ["SUBSCRIBE"]);
      await s.run(1, ["PUBLISH", "a", "hello"]);
      await s.read(0);
      await s.run(1, ["PUBLISH", "nobody", "x"]);
      await s.run(1, ["PUBLISH", "b", ""]);
      await s.read(0);
      await s.run(1, ["PUBLISH", "c", "bin\x00\xff\r\nary"]);
      await s.read(0);
      // Two subscribers of one channel: both receive, the count says 2.
      await s.run(2, ["SUBSCRIBE", "c"]);
      await s.run(1, ["PUBLISH", "c", "two"]);
      await s.read(0);
      await s.read(2);
      await s.run(1, ["PUBSUB", "NUMSUB", "a", "b", "c", "zz"]);
      await s.run(1, ["PUBSUB", "NUMSUB"]);
      await s.runSortedArray(1, ["PUBSUB", "CHANNELS"]);
      await s.runSortedArray(1, ["PUBSUB", "CHANNELS", "[ab]"]);
      await s.runSortedArray(1, ["PUBSUB", "CHANNELS", "*"]);
      await s.run(0, ["UNSUBSCRIBE", "b", "nope"], 2);
      await s.run(1, ["PUBLISH", "b", "gone"]);
      await s.run(0, ["PSUBSCRIBE", "h?llo", "news.*", "h?llo"], 3);
      await s.run(1, ["PUBLISH", "hello", "p"]);
      await s.read(0);
      await s.run(1, ["PUBLISH", "news.art", "q"]);
      await s.read(0);
      // A channel and a pattern both matching: channel message first, then pmessage.
      await s.run(2, ["PSUBSCRIBE", "c*"]);
      await s.run(1, ["PUBLISH", "c", "both"]);
      await s.read(0);
      await s.read(2, 2);
      await s.run(1, ["PUBSUB", "NUMPAT"]);
      await s.run(0, ["PUNSUBSCRIBE", "news.*", "x*"], 2);
      await s.run(0, ["PUNSUBSCRIBE"], 1);
      await s.run(1, ["PUBSUB", "NUMPAT"]);
      // Mass unsubscribe walks channels in hash order in Redis: compare as a set.
      await s.runSorted(0, ["UNSUBSCRIBE"], 2);
      await s.run(0, ["PING"]);
      await s.run(0, ["GET", "x"]);
      await s.run(1, ["PUBSUB", "NUMSUB", "a", "c"]);
      await s.run(2, ["UNSUBSCRIBE", "c"]);
      await s.run(2, ["PING"]);
      await s.run(2, ["PUNSUBSCRIBE", "c*"]);
      await s.run(2, ["PING"]);
      await s.run(1, ["PUBSUB", "NUMSUB", "c"]);
    });
  },
});

Deno.test({
  name: "pubsub: RESP3 push messages, also in the middle of replies",
  ignore: noRedis,
  async fn() {
    await withLockstep(2, async (s) => {
      await s.hello3(0);
      await s.run(0, ["UNSUBSCRIBE"]);
      await s.run(0, ["SUBSCRIBE", "ch", "me"], 2);
      // RESP3 clients may run anything while subscribed.
      await s.run(0, ["SET", "k", "v"]);
      await s.run(0, ["GET", "k"]);
      await s.run(0, ["PING"]);
      // Publishing to itself: the push comes before the PUBLISH reply.
      await s.run(0, ["PUBLISH", "me", "self"], 2);
      await s.run(1, ["PUBLISH", "ch", "other"]);
      await s.read(0);
      // Messages published inside a transaction land inside the EXEC reply (7.0).
      await s.run(0, ["MULTI"]);
      await s.run(0, ["PUBLISH", "me", "in-multi"]);
      await s.run(0, ["GET", "k"]);
      await s.run(0, ["EXEC"], 1);
      await s.run(0, ["PSUBSCRIBE", "m*"]);
      await s.run(1, ["PUBLISH", "me", "twice"]);
      await s.read(0, 2);
      await s.run(0, ["PUNSUBSCRIBE", "m*", "zz"], 2);
      await s.run(0, ["UNSUBSCRIBE", "me"]);
      await s.run(0, ["UNSUBSCRIBE"]);
      await s.run(0, ["UNSUBSCRIBE"]);
      await s.run(0, ["SSUBSCRIBE", "s1", "s2"], 2);
      await s.run(1, ["SPUBLISH", "s1", "shard"]);
      await s.read(0);
      await s.run(0, ["SUNSUBSCRIBE", "s1"]);
      await s.run(0, ["SUNSUBSCRIBE"]);
      await s.run(0, ["SUNSUBSCRIBE"]);
      await s.run(0, ["PING"]);
    });
  },
});

Deno.test({
  name: "pubsub: shard channels, PUBSUB errors and help match redis-server",
  ignore: noRedis,
  async fn() {
    await withLockstep(3, async (s) => {
      await s.run(0, ["SSUBSCRIBE", "s1", "s2", "s1"], 3);
      await s.run(0, ["GET", "k"]);
      await s.run(0, ["PING"]);
      // A shard subscription does not count in SUBSCRIBE's number, and vice versa.
      await s.run(0, ["SUBSCRIBE", "c1"]);
      await s.run(0, ["SSUBSCRIBE", "s3"]);
      await s.run(1, ["SPUBLISH", "s1", "x"]);
      await s.read(0);
      await s.run(1, ["PUBLISH", "s1", "not-shard"]);
      await s.run(1, ["SPUBLISH", "c1", "not-global"]);
      await s.run(1, ["PSUBSCRIBE", "*"]);
      await s.run(0, ["SUNSUBSCRIBE", "s2"]);
      // The *-pattern subscriber gets global messages only.
      await s.run(2, ["PUBLISH", "s1", "y"]);
      await s.read(1);
      await s.run(2, ["SPUBLISH", "s1", "z"]);
      await s.read(0);
      await s.run(1, ["PUNSUBSCRIBE"]);
      // `*` does not match the empty channel name; PUBSUB CHANNELS without a pattern does.
      await s.run(1, ["PSUBSCRIBE", "*"]);
      await s.run(0, ["SUBSCRIBE", ""]);
      await s.run(2, ["PUBLISH", "", "empty"]);
      await s.read(0);
      await s.run(1, ["PUNSUBSCRIBE"]);
      await s.runSortedArray(1, ["PUBSUB", "CHANNELS"]);
      await s.runSortedArray(1, ["PUBSUB", "CHANNELS", "*"]);
      await s.runSortedArray(1, ["PUBSUB", "SHARDCHANNELS"]);
      await s.runSortedArray(1, ["PUBSUB", "SHARDCHANNELS", "s*"]);
      await s.run(1, ["PUBSUB", "SHARDNUMSUB", "s1", "s2", "s3"]);
      await s.run(1, ["PUBSUB", "SHARDNUMSUB"]);
      await s.run(1, ["PUBSUB", "NUMSUB", "s1", "c1", ""]);
      // Errors.
      await s.run(1, ["PUBSUB"]);
      await s.run(1, ["PUBSUB", "NOPE"]);
      await s.run(1, ["PUBSUB", "CHANNELS", "a", "b"]);
      await s.run(1, ["PUBSUB", "SHARDCHANNELS", "a", "b"]);
      await s.run(1, ["PUBSUB", "NUMPAT", "x"]);
      await s.run(1, ["PUBSUB", "HELP"]);
      await s.run(1, ["pubsub", "help"]);
      await s.run(1, ["PUBSUB", "HELP", "x"]);
      await s.run(1, ["PUBLISH", "a"]);
      await s.run(1, ["PUBLISH", "a", "b", "c"]);
      await s.run(1, ["SPUBLISH", "a"]);
      await s.run(1, ["SUBSCRIBE"]);
      await s.run(1, ["PSUBSCRIBE"]);
      await s.run(1, ["SSUBSCRIBE"]);
      // SUBSCRIBE works inside MULTI (RESP2 client then is subscribed); SSUBSCRIBE not.
      await s.run(1, ["MULTI"]);
      await s.run(1, ["SUBSCRIBE", "t1", "t2"]);
      await s.run(1, ["SSUBSCRIBE", "t3"]);
      await s.run(1, ["PSUBSCRIBE", "t*"]);
      await s.run(1, ["EXEC"]);
      await s.run(1, ["PING"]);
      await s.run(1, ["GET", "k"]);
      // Unsubscribing globals keeps subscribed mode while shard channels remain.
      await s.runSorted(0, ["UNSUBSCRIBE"], 2);
      await s.run(0, ["PING"]);
      await s.run(0, ["GET", "k"]);
      await s.runSorted(0, ["SUNSUBSCRIBE"], 2);
      await s.run(0, ["PING"]);
      await s.run(0, ["GET", "k"]);
    });
  },
});

Deno.test({
  name: "pubsub: RESET and disconnects drop subscriptions",
  ignore: noRedis,
  async fn() {
    await withLockstep(3, async (s, pair) => {
      await s.run(0, ["SUBSCRIBE", "a", "b"], 2);
      await s.run(0, ["PSUBSCRIBE", "p*"]);
      await s.run(0, ["SSUBSCRIBE", "s"]);
      await s.run(1, ["PUBSUB", "NUMSUB", "a", "b"]);
      await s.run(0, ["RESET"]);
      await s.run(0, ["GET", "k"]);
      await s.run(1, ["PUBSUB", "NUMSUB", "a", "b"]);
      await s.run(1, ["PUBSUB", "NUMPAT"]);
      await s.run(1, ["PUBSUB", "SHARDNUMSUB", "s"]);
      await s.run(1, ["PUBLISH", "a", "nobody"]);
      await s.run(2, ["SUBSCRIBE", "a"]);
      await s.run(2, ["PSUBSCRIBE", "a*"]);
      s.r[2].close();
      s.a[2].close();
      // The server notices the close asynchronously.
      const deadline = Date.now() + 3000;
      while (Date.now() < deadline) {
        const r = await s.a[1].call("PUBSUB", "NUMSUB", "a");
        if (r.endsWith(":0\r\n")) break;
        await new Promise((res) => setTimeout(res, 20));
      }
      await new Promise((res) => setTimeout(res, 50));
      await s.run(1, ["PUBSUB", "NUMSUB", "a"]);
      await s.run(1, ["PUBSUB", "NUMPAT"]);
      await s.run(1, ["PUBLISH", "a", "nobody"]);
      assert.equal(pair.amber.amber.server.clients.size, 2);
    });
  },
});

Deno.test({
  name: "pubsub: CLIENT LIST sub/psub and INFO pubsub counts",
  ignore: noRedis,
  async fn() {
    await withLockstep(3, async (s) => {
      await s.run(0, ["SUBSCRIBE", "a", "b"], 2);
      await s.run(0, ["PSUBSCRIBE", "p*"]);
      await s.run(1, ["SUBSCRIBE", "b", "c"], 2);
      await s.run(1, ["PSUBSCRIBE", "p*", "q*"], 2);
      for (const side of [s.r[2], s.a[2]]) {
        const list = await side.call("CLIENT", "LIST");
        assert.match(list, /flags=P db=0 sub=2 psub=1 /);
        assert.match(list, /flags=P db=0 sub=2 psub=2 /);
        const info = await side.call("INFO", "stats");
        assert.match(info, /\r\npubsub_channels:3\r\npubsub_patterns:2\r\n/);
      }
    });
  },
});

Deno.test("pubsub: ioredis subscriber and publisher", async () => {
  const t = await startAmber();
  const sub = new Redis({ port: t.port, host: "127.0.0.1", lazyConnect: true });
  const pub = new Redis({ port: t.port, host: "127.0.0.1", lazyConnect: true });
  try {
    await sub.connect();
    await pub.connect();
    const got: string[] = [];
    const done = new Promise<void>((resolve) => {
      sub.on("message", (ch: string, msg: string) => {
        got.push(`${ch}:${msg}`);
        if (got.length === 3) resolve();
      });
      sub.on("pmessage", (pat: string, ch: string, msg: string) => {
        got.push(`${pat}|${ch}:${msg}`);
        if (got.length === 3) resolve();
      });
    });
    assert.equal(await sub.subscribe("news", "sport"), 2);
    assert.equal(await sub.psubscribe("w*"), 3);
    assert.equal(await pub.publish("news", "hello"), 1);
    assert.equal(await pub.publish("weather", "rain"), 1);
    assert.equal(await pub.publish("sport", "goal"), 1);
    await done;
    assert.deepEqual(got, ["news:hello", "w*|weather:rain", "sport:goal"]);
    assert.deepEqual(await pub.pubsub("NUMSUB", "news", "x"), ["news", 1, "x", 0]);
    assert.equal(await pub.pubsub("NUMPAT"), 1);
    // (ioredis waits for a mass unsubscribe to reach count 0: patterns go first, by name.)
    assert.equal(await sub.punsubscribe("w*"), 2);
    assert.equal(await sub.unsubscribe(), 0);
    assert.equal(await pub.publish("news", "again"), 0);
  } finally {
    sub.disconnect();
    pub.disconnect();
    await t.stop();
  }
});

Deno.test("pubsub: node-redis subscribe (RESP2 subscriber connection)", async () => {
  const t = await startAmber();
  const c = createClient({ url: `redis://127.0.0.1:${t.port}` });
  c.on("error", () => {});
  const sub = c.duplicate();
  sub.on("error", () => {});
  try {
    await c.connect();
    await sub.connect();
    const got: string[] = [];
    let resolve!: () => void;
    const done = new Promise<void>((r) => resolve = r);
    await sub.subscribe("chan", (msg: string, ch: string) => {
      got.push(`${ch}:${msg}`);
      if (got.length === 2) resolve();
    });
    await sub.pSubscribe("p.*", (msg: string, ch: string) => {
      got.push(`p ${ch}:${msg}`);
      if (got.length === 2) resolve();
    });
    assert.equal(await c.publish("chan", "one"), 1);
    assert.equal(await c.publish("p.x", "two"), 1);
    await done;
    assert.deepEqual(got, ["chan:one", "p p.x:two"]);
    assert.deepEqual(await c.pubSubChannels(), ["chan"]);
    await sub.unsubscribe("chan");
    await sub.pUnsubscribe();
    assert.equal(await c.publish("chan", "three"), 0);
  } finally {
    await sub.quit().catch(() => {});
    await c.quit().catch(() => {});
    await t.stop();
  }
});

Deno.test("pubsub: publishing to many subscribers counts each delivery", async () => {
  const t = await startAmber();
  try {
    const subs: RawClient[] = [];
    for (let i = 0; i < 20; i++) {
      const c = await t.client();
      await c.call("SUBSCRIBE", "fan");
      if (i % 2 === 0) {
        c.write(encodeCommand(["PSUBSCRIBE", "f*"]));
        await c.read();
      }
      subs.push(c);
    }
    const p = await t.client();
    assert.equal(await p.call("PUBLISH", "fan", "x"), ":30\r\n");
    for (let i = 0; i < subs.length; i++) {
      assert.equal(await subs[i].read(), "*3\r\n$7\r\nmessage\r\n$3\r\nfan\r\n$1\r\nx\r\n");
      if (i % 2 === 0) {
        assert.equal(
          await subs[i].read(),
          "*4\r\n$8\r\npmessage\r\n$2\r\nf*\r\n$3\r\nfan\r\n$1\r\nx\r\n",
        );
      }
    }
  } finally {
    await t.stop();
  }
});

Deno.test({
  name: "differential: Pub/Sub pushes still arrive under CLIENT REPLY OFF (as in 7.0.15)",
  ignore: skipWithoutRedis(),
  async fn() {
    const pair = await startPair();
    try {
      const [ra, aa] = await pair.clients();
      const [rb, ab] = await pair.clients();
      for (const c of [ra, aa]) c.write("CLIENT REPLY OFF\r\nSUBSCRIBE ch\r\n");
      const [rs, as] = await Promise.all([ra.read(), aa.read()]);
      assert.equal(as, rs);
      const [rp, ap] = await Promise.all([
        rb.call("PUBLISH", "ch", "hello"),
        ab.call("PUBLISH", "ch", "hello"),
      ]);
      assert.equal(ap, rp);
      const [rm, am] = await Promise.all([ra.read(), aa.read()]);
      assert.equal(am, rm);
    } finally {
      await pair.stop();
    }
  },
});
