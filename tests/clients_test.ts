/**
 * Real client libraries against Amber: ioredis and node-redis (npm, pinned in
 * deno.lock) must work unchanged, including pipelining, binary values and the
 * handshake commands they send on connect (INFO, CLIENT SETNAME, HELLO, SELECT).
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { startAmber } from "./helpers/servers.ts";

Deno.test("ioredis: commands, pipelining, binary values, TTLs", async () => {
  const t = await startAmber();
  const r = new Redis({ port: t.port, host: "127.0.0.1", lazyConnect: true, connectionName: "io" });
  try {
    await r.connect();
    assert.equal(await r.ping(), "PONG");
    assert.equal(await r.set("k", "v"), "OK");
    assert.equal(await r.get("k"), "v");
    const bin = Buffer.from([0, 1, 2, 0xff, 0xfe, 13, 10]);
    await r.set(Buffer.from([0xff, 0]), bin);
    assert.ok(bin.equals((await r.getBuffer(Buffer.from([0xff, 0])))!));
    const p = r.pipeline();
    for (let i = 0; i < 1000; i++) p.incr("counter");
    const res = await p.exec();
    assert.equal(res!.length, 1000);
    assert.deepEqual(res![999], [null, 1000]);
    await r.set("ttl", "x", "PX", 100000);
    const pttl = await r.pttl("ttl");
    assert.ok(pttl > 99000 && pttl <= 100000);
    assert.deepEqual(await r.mget("k", "missing", "counter"), ["v", null, "1000"]);
    assert.equal(await r.client("GETNAME"), "io");
    await assert.rejects(r.incr("k"), /ERR value is not an integer or out of range/);
    const big = "x".repeat(5 * 1024 * 1024);
    await r.set("big", big);
    assert.equal((await r.get("big"))!.length, big.length);
    await r.select(3);
    assert.equal(await r.get("k"), null);
  } finally {
    r.disconnect();
    await t.stop();
  }
});

Deno.test("node-redis: RESP2 client works unchanged", async () => {
  const t = await startAmber();
  const c = createClient({ url: `redis://127.0.0.1:${t.port}` });
  c.on("error", () => {});
  try {
    await c.connect();
    assert.equal(await c.ping(), "PONG");
    await c.set("a", "1", { EX: 100 });
    assert.equal(await c.get("a"), "1");
    assert.equal(await c.incrBy("a", 41), 42);
    const ttl = await c.ttl("a");
    assert.ok(ttl > 95 && ttl <= 100);
    const [x, y] = await Promise.all([c.get("a"), c.exists("a")]);
    assert.equal(x, "42");
    assert.equal(y, 1);
    assert.equal(await c.del(["a", "nope"]), 1);
    assert.equal(await c.dbSize(), 0);
  } finally {
    await c.quit().catch(() => {});
    await t.stop();
  }
});
