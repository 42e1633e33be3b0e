/**
 * Blocking list pops (src/server/blocking.ts + src/commands/lists.ts): timeouts,
 * wake-ups across clients, FIFO fairness, chained BLMOVE, MULTI/EXEC, disconnects,
 * many blocked clients, propagation of served pops, timeout parsing, and multi-client
 * scenarios replayed against redis-server with the replies compared byte for byte.
 */
import assert from "node:assert/strict";
import { RawClient } from "./helpers/resp_client.ts";
import { skipWithoutRedis, spawnRedis, startAmber, type TestAmber } from "./helpers/servers.ts";
import { blockingStats, timeoutMs, unblockClientByRequest } from "../src/server/blocking.ts";
import type { PropagatedOp } from "../src/server/server.ts";

const ignore = skipWithoutRedis();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function cmd(...argv: string[]): string {
  let out = "*" + argv.length + "\r\n";
  for (const a of argv) out += "$" + a.length + "\r\n" + a + "\r\n";
  return out;
}

/** Sends a command without waiting for its reply. */
function send(c: RawClient, line: string): void {
  c.write(cmd(...line.split(" ")));
}

async function withAmber(f: (t: TestAmber) => Promise<void>, args: string[] = []): Promise<void> {
  const t = await startAmber(args);
  try {
    await f(t);
  } finally {
    await t.stop();
  }
}

/** Waits until `n` clients are blocked on keys (the server has processed the sends). */
async function blockedCount(t: TestAmber, n: number): Promise<void> {
  const deadline = Date.now() + 3000;
  while (blockingStats(t.amber.server).clients !== n) {
    if (Date.now() > deadline) {
      throw new Error(`expected ${n} blocked, got ${blockingStats(t.amber.server).clients}`);
    }
    await sleep(2);
  }
}

Deno.test("a 0.1 s timeout fires close to 100 ms with the null array", async () => {
  await withAmber(async (t) => {
    const c = await t.client();
    for (
      const [line, reply] of [
        ["blpop nokey 0.1", "*-1\r\n"],
        ["brpop a b 0.1", "*-1\r\n"],
        ["blmpop 0.1 1 nokey left", "*-1\r\n"],
        ["brpoplpush nokey dst 0.1", "*-1\r\n"],
        ["blmove nokey dst left right 0.1", "*-1\r\n"],
      ]
    ) {
      const t0 = performance.now();
      assert.equal(await c.call(...line.split(" ")), reply, line);
      const took = performance.now() - t0;
      assert.ok(took >= 95 && took < 300, `${line} took ${took} ms`);
    }
    await c.call("hello", "3");
    assert.equal(await c.call("blpop", "nokey", "0.05"), "_\r\n");
    assert.equal(await c.call("blmove", "nokey", "d", "left", "left", "0.05"), "_\r\n");
    assert.equal(blockingStats(t.amber.server).clients, 0);
  });
});

Deno.test("a push from another client wakes the blocked one; pipelined input resumes", async () => {
  await withAmber(async (t) => {
    const a = await t.client();
    const b = await t.client();
    a.write(cmd("blpop", "k1", "k2", "0") + cmd("ping") + cmd("lpop", "k2"));
    await blockedCount(t, 1);
    assert.equal(await b.call("ping"), "+PONG\r\n");
    assert.equal(await b.call("rpush", "k2", "v1", "v2"), ":2\r\n");
    assert.equal(await a.read(), "*2\r\n$2\r\nk2\r\n$2\r\nv1\r\n");
    assert.equal(await a.read(), "+PONG\r\n");
    assert.equal(await a.read(), "$2\r\nv2\r\n");
    assert.equal(await b.call("exists", "k2"), ":0\r\n");
    assert.equal(blockingStats(t.amber.server).clients, 0);
  });
});

Deno.test("blocked clients are served first come, first served", async () => {
  await withAmber(async (t) => {
    const cs = await Promise.all([t.client(), t.client(), t.client(), t.client()]);
    for (let i = 0; i < 4; i++) {
      send(cs[i], i % 2 === 0 ? "blpop q 0" : "brpop other q 0");
      await blockedCount(t, i + 1);
    }
    const p = await t.client();
    assert.equal(await p.call("rpush", "q", "a", "b", "c"), ":3\r\n");
    assert.equal(await cs[0].read(), "*2\r\n$1\r\nq\r\n$1\r\na\r\n");
    assert.equal(await cs[1].read(), "*2\r\n$1\r\nq\r\n$1\r\nc\r\n"); // BRPOP: the tail
    assert.equal(await cs[2].read(), "*2\r\n$1\r\nq\r\n$1\r\nb\r\n");
    assert.equal(blockingStats(t.amber.server).clients, 1);
    assert.equal(await p.call("rpush", "other", "z"), ":1\r\n");
    assert.equal(await cs[3].read(), "*2\r\n$5\r\nother\r\n$1\r\nz\r\n");
  });
});

Deno.test("BLMOVE chains: the moved element serves a client blocked on the target", async () => {
  await withAmber(async (t) => {
    const [a, b, p] = await Promise.all([t.client(), t.client(), t.client()]);
    send(a, "blmove src mid right left 0");
    await blockedCount(t, 1);
    send(b, "brpoplpush mid dst 0");
    await blockedCount(t, 2);
    assert.equal(await p.call("lpush", "src", "x"), ":1\r\n");
    assert.equal(await a.read(), "$1\r\nx\r\n");
    assert.equal(await b.read(), "$1\r\nx\r\n");
    assert.equal(await p.call("lrange", "dst", "0", "-1"), "*1\r\n$1\r\nx\r\n");
    assert.equal(await p.call("exists", "src", "mid"), ":0\r\n");
  });
});

Deno.test("a blocked client that disconnects is forgotten", async () => {
  await withAmber(async (t) => {
    const a = await RawClient.connect(t.port);
    send(a, "blpop k 0");
    await blockedCount(t, 1);
    a.close();
    await blockedCount(t, 0);
    const p = await t.client();
    assert.equal(await p.call("rpush", "k", "v"), ":1\r\n");
    assert.equal(await p.call("llen", "k"), ":1\r\n");
  });
});

Deno.test("300 blocked clients do not slow down others", async () => {
  await withAmber(async (t) => {
    const blocked: RawClient[] = [];
    for (let i = 0; i < 300; i++) {
      const c = await RawClient.connect(t.port);
      blocked.push(c);
      send(c, `blpop key${i % 30} 0`);
    }
    try {
      await blockedCount(t, 300);
      const p = await t.client();
      const t0 = performance.now();
      for (let i = 0; i < 200; i++) assert.equal(await p.call("ping"), "+PONG\r\n");
      assert.ok(performance.now() - t0 < 1000, "PINGs answered quickly");
      const list = await p.call("client", "list");
      assert.ok((list.match(/flags=b /g) ?? []).length === 300, "CLIENT LIST shows flag b");
      // One push per key serves the first client blocked on it.
      for (let k = 0; k < 30; k++) await p.call("rpush", `key${k}`, "v");
      for (let k = 0; k < 30; k++) {
        assert.equal(
          await blocked[k].read(),
          `*2\r\n$${`key${k}`.length}\r\nkey${k}\r\n$1\r\nv\r\n`,
        );
      }
      assert.equal(blockingStats(t.amber.server).clients, 270);
    } finally {
      for (const c of blocked) c.close();
    }
    await blockedCount(t, 0);
  });
});

Deno.test("served pops propagate in their non-blocking form", async () => {
  await withAmber(async (t) => {
    const ops: string[] = [];
    t.amber.server.addFeed((batch: PropagatedOp[]) => {
      for (const op of batch) ops.push(`${op.db} ${op.argv.join(" ")}`);
    });
    const [a, b, c, d, p] = await Promise.all([
      t.client(),
      t.client(),
      t.client(),
      t.client(),
      t.client(),
    ]);
    send(a, "blpop l1 0");
    send(b, "blmpop 0 1 l2 right count 5");
    send(c, "blmove l3 d3 left right 0");
    send(d, "brpoplpush l4 d4 0");
    await blockedCount(t, 4);
    await p.call("rpush", "l1", "x");
    await p.call("rpush", "l2", "1", "2", "3");
    await p.call("rpush", "l3", "y");
    await p.call("rpush", "l4", "z");
    assert.equal(await a.read(), "*2\r\n$2\r\nl1\r\n$1\r\nx\r\n");
    assert.equal(await b.read(), "*2\r\n$2\r\nl2\r\n*3\r\n$1\r\n3\r\n$1\r\n2\r\n$1\r\n1\r\n");
    assert.equal(await c.read(), "$1\r\ny\r\n");
    assert.equal(await d.read(), "$1\r\nz\r\n");
    assert.deepEqual(ops, [
      "0 rpush l1 x",
      "0 LPOP l1",
      "0 rpush l2 1 2 3",
      "0 RPOP l2 3",
      "0 rpush l3 y",
      // Lower case whatever the client sent, as redis-server writes it (aof_test.ts).
      "0 LMOVE l3 d3 left right",
      "0 rpush l4 z",
      "0 RPOPLPUSH l4 d4",
    ]);
    // A blocked client in another db is served there and propagates with that db.
    await a.call("select", "3");
    send(a, "blpop k 0");
    await blockedCount(t, 1);
    await p.call("select", "3");
    await p.call("lpush", "k", "v");
    assert.equal(await a.read(), "*2\r\n$1\r\nk\r\n$1\r\nv\r\n");
    assert.deepEqual(ops.slice(-2), ["3 lpush k v", "3 LPOP k"]);
  });
});

Deno.test("a wrong-type BLMOVE destination answers WRONGTYPE when served", async () => {
  await withAmber(async (t) => {
    const [a, p] = await Promise.all([t.client(), t.client()]);
    send(a, "blmove src dst left left 0");
    await blockedCount(t, 1);
    await p.call("set", "dst", "string");
    await p.call("rpush", "src", "v");
    assert.match(await a.read(), /^-WRONGTYPE/);
    assert.equal(await p.call("llen", "src"), ":1\r\n");
  });
});

Deno.test("a key that becomes another type does not serve list waiters", async () => {
  await withAmber(async (t) => {
    const [a, p] = await Promise.all([t.client(), t.client()]);
    send(a, "blpop k 0");
    await blockedCount(t, 1);
    await p.call("set", "k", "string");
    await sleep(20);
    assert.equal(blockingStats(t.amber.server).clients, 1);
    await p.call("del", "k");
    await p.call("rpush", "k", "v");
    assert.equal(await a.read(), "*2\r\n$1\r\nk\r\n$1\r\nv\r\n");
  });
});

Deno.test("RENAME and SWAPDB onto a waited-on key serve the waiter", async () => {
  await withAmber(async (t) => {
    const [a, b, p] = await Promise.all([t.client(), t.client(), t.client()]);
    send(a, "blpop dst 0");
    await blockedCount(t, 1);
    await p.call("rpush", "src", "r1");
    assert.equal(await p.call("rename", "src", "dst"), "+OK\r\n");
    assert.equal(await a.read(), "*2\r\n$3\r\ndst\r\n$2\r\nr1\r\n");
    await b.call("select", "1");
    send(b, "brpop w 0");
    await blockedCount(t, 1);
    await p.call("rpush", "w", "s1");
    assert.equal(await p.call("swapdb", "0", "1"), "+OK\r\n");
    assert.equal(await b.read(), "*2\r\n$1\r\nw\r\n$2\r\ns1\r\n");
  });
});

Deno.test("CLIENT UNBLOCK's hook answers as on timeout or with the UNBLOCKED error", async () => {
  await withAmber(async (t) => {
    const [a, b] = await Promise.all([t.client(), t.client()]);
    const server = t.amber.server;
    const idOf = async (c: RawClient) => Number((await c.call("client", "id")).slice(1, -2));
    const [ida, idb] = [await idOf(a), await idOf(b)];
    assert.equal(unblockClientByRequest(server.clients.get(ida)!, false), false);
    a.write(cmd("blpop", "k", "0") + cmd("ping"));
    b.write(cmd("blmove", "k", "d", "left", "left", "0"));
    await blockedCount(t, 2);
    assert.equal(unblockClientByRequest(server.clients.get(ida)!, false), true);
    assert.equal(await a.read(), "*-1\r\n");
    assert.equal(await a.read(), "+PONG\r\n");
    assert.equal(unblockClientByRequest(server.clients.get(idb)!, true), true);
    assert.equal(await b.read(), "-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n");
    assert.equal(blockingStats(server).clients, 0);
  });
});

Deno.test("ioredis BLPOP is woken by a second connection", async () => {
  await withAmber(async (t) => {
    const { Redis } = await import("ioredis");
    const c1 = new Redis({ port: t.port, host: "127.0.0.1" });
    const c2 = new Redis({ port: t.port, host: "127.0.0.1" });
    try {
      const pending = c1.blpop("jobs", 0);
      await blockedCount(t, 1);
      await c2.rpush("jobs", "job-1");
      assert.deepEqual(await pending, ["jobs", "job-1"]);
      assert.equal(await c1.brpop("nothing", 0.05), null);
      const moved = c1.blmove("in", "out", "LEFT", "RIGHT", 0);
      await blockedCount(t, 1);
      await c2.lpush("in", "m");
      assert.equal(await moved, "m");
      assert.deepEqual(await c2.lrange("out", 0, -1), ["m"]);
    } finally {
      c1.disconnect();
      c2.disconnect();
    }
  });
});

Deno.test("timeout arithmetic follows Redis's long double ceil(secs * 1000)", () => {
  const cases: [string, bigint | null][] = [
    ["0", 0n],
    ["1", 1000n],
    ["0.1", 100n],
    ["0.0001", 1n],
    ["1e-300", 1n],
    ["-0", 0n],
    ["-0.0001", 0n],
    ["-0.001", 0n],
    ["-0.002", -1n],
    ["-1", -1000n],
    ["0x10", 16000n],
    ["0x1p-2", 250n],
    ["1e3", 1000000n],
    [".5", 500n],
    ["5.", 5000n],
    ["+1", 1000n],
    ["inf", -(2n ** 63n)],
    ["1e30", -(2n ** 63n)],
    ["9223372036854775.807", 2n ** 63n - 1n],
    ["9223372036854776", -(2n ** 63n)],
    ["nan", null],
    ["1e", null],
    ["", null],
    [" 1", null],
    ["1 ", null],
    ["abc", null],
    ["0x", null],
    ["1e99999", null],
    ["1e-99999", null],
  ];
  for (const [s, want] of cases) assert.equal(timeoutMs(s), want, JSON.stringify(s));
});

/** How Redis (or Amber) treats a BLPOP timeout: error text, "short" (<60 ms) or "long". */
async function classify(port: number, timeout: string): Promise<string> {
  const c = await RawClient.connect(port);
  try {
    c.write(cmd("blpop", "__never__", timeout));
    try {
      const r = await c.read(60);
      return r.startsWith("-") ? r : "short";
    } catch {
      return "long";
    }
  } finally {
    c.close();
  }
}

Deno.test({
  name: "timeout arguments are accepted, refused and rounded as by Redis",
  ignore,
  async fn() {
    // hz 100: Redis checks blocked timeouts once per event-loop wake-up (cron included).
    const redis = await spawnRedis(["--hz", "100"]);
    const t = await startAmber();
    try {
      const timeouts = [
        "0.001",
        "0.0001",
        "1e-300",
        "0.01",
        "-0.001",
        "-0.0005",
        "-0.002",
        "-0.1",
        "0x1p-8",
        "-0x1p-12",
        "0x",
        "1e4000",
        "1e5000",
        "1e-5000",
        "1e-4940",
        "infinity",
        "-INF",
        "NaN",
        "+.01",
        "0.01e0",
        "1_0",
        "1,5",
        "\x001",
        "0.02\x00junk",
        "9223372036854775",
        "9223372036854776",
        "0.004999999999999999999",
      ];
      for (const s of timeouts) {
        const [want, got] = await Promise.all([classify(redis.port, s), classify(t.port, s)]);
        assert.equal(got, want, `timeout ${JSON.stringify(s)}`);
      }
    } finally {
      await redis.stop();
      await t.stop();
    }
  },
});

/** A multi-client scenario step: send without reading, read one reply, or pause. */
type Act = { c: number; send: string[] } | { c: number; read: true } | { sleep: number };

/** Runs `acts` on one server; returns the replies read, in order. */
async function play(port: number, nclients: number, acts: Act[]): Promise<string[]> {
  const cs = await Promise.all(Array.from({ length: nclients }, () => RawClient.connect(port)));
  const out: string[] = [];
  try {
    for (const a of acts) {
      if ("sleep" in a) await sleep(a.sleep);
      else if ("send" in a) cs[a.c].write(cmd(...a.send));
      else out.push(`${a.c}: ${await cs[a.c].read(2000)}`);
    }
  } finally {
    for (const c of cs) c.close();
  }
  return out;
}

/** Shorthand: `"0> blpop k 0"` sends, `"0<"` reads, `"~20"` sleeps. */
function script(lines: string[]): Act[] {
  return lines.map((l) => {
    if (l.startsWith("~")) return { sleep: Number(l.slice(1)) };
    const m = /^(\d+)([<>])\s*(.*)$/.exec(l)!;
    const c = Number(m[1]);
    return m[2] === "<" ? { c, read: true as const } : { c, send: m[3].split(" ") };
  });
}

async function compareScenario(nclients: number, lines: string[]): Promise<void> {
  const redis = await spawnRedis(["--hz", "100"]);
  const t = await startAmber(["--hz", "100"]);
  try {
    const acts = script(lines);
    const [want, got] = await Promise.all([
      play(redis.port, nclients, acts),
      play(t.port, nclients, acts),
    ]);
    assert.deepEqual(got, want);
  } finally {
    await redis.stop();
    await t.stop();
  }
}

Deno.test({
  name: "multi-client blocking scenarios match Redis",
  ignore,
  async fn() {
    // FIFO across BLPOP/BRPOP/BLMPOP on shared keys, one push serving several.
    await compareScenario(4, [
      "0> blpop a b 0",
      "~30",
      "1> brpop b 0",
      "~30",
      "2> blmpop 0 2 a b left count 2",
      "~30",
      "3> rpush b 1 2 3 4 5",
      "3<",
      "0<",
      "1<",
      "2<",
      "3> lrange b 0 -1",
      "3<",
    ]);
    // Pushes to two keys in one command line order; timeouts and their reply forms.
    await compareScenario(3, [
      "0> blpop x y 0.2",
      "~30",
      "1> brpoplpush y z 0.2",
      "~30",
      "2> rpush y 1",
      "2<",
      "0<",
      "1<",
      "2> blmpop 0.05 1 nokey right",
      "2<",
      "2> blpop nokey 0.05",
      "2<",
    ]);
    // BLMOVE into a key another client waits on, and LMOVE by a third client.
    await compareScenario(4, [
      "0> blmove a b left right 0",
      "~30",
      "1> blpop b 0",
      "~30",
      "2> blmove c a right left 0",
      "~30",
      "3> rpush c v1 v2",
      "3<",
      "2<",
      "0<",
      "1<",
      "3> lrange c 0 -1",
      "3<",
      "3> exists a b",
      "3<",
    ]);
    // Wrong-type keys: immediate errors, and a destination that turns into a string.
    await compareScenario(3, [
      "2> set s x",
      "2<",
      "0> blpop nokey s 0",
      "0<",
      "0> blmove src s left left 0",
      "~30",
      "2> rpush src e",
      "2<",
      "0<",
      "2> llen src",
      "2<",
      "1> brpoplpush s d 0",
      "1<",
    ]);
    // MULTI/EXEC: blocking commands inside never block; a transaction's pushes serve
    // waiters only after EXEC, and a push popped again in the same EXEC serves nobody.
    await compareScenario(3, [
      "0> multi",
      "0<",
      "0> blpop nokey 0",
      "0<",
      "0> brpoplpush nokey dst 0",
      "0<",
      "0> blmove nokey dst left left 0",
      "0<",
      "0> blmpop 0 1 nokey left",
      "0<",
      "0> exec",
      "0<",
      "1> blpop q 0",
      "~30",
      "2> multi",
      "2<",
      "2> rpush q a",
      "2<",
      "2> lpop q",
      "2<",
      "2> exec",
      "2<",
      "~30",
      "2> multi",
      "2<",
      "2> rpush q b c",
      "2<",
      "2> llen q",
      "2<",
      "2> exec",
      "2<",
      "1<",
      "2> lrange q 0 -1",
      "2<",
    ]);
    // The same client blocking twice in a row, and pipelined commands after a block.
    await compareScenario(2, [
      "0> blpop k 0",
      "0> rpush k after",
      "0> lpop k",
      "~30",
      "1> lpush k first",
      "1<",
      "0<",
      "0<",
      "0<",
    ]);
  },
});
