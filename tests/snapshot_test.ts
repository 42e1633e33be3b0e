/**
 * The snapshot seam: whatever clients do between chunks (overwrite, delete, expire,
 * push into a list, create keys, FLUSHALL, SWAPDB), the snapshot hands out exactly the
 * dataset as it was when it started, each key once.
 */
import assert from "node:assert/strict";
import { Snapshot, type SnapshotEntry } from "../src/persistence/snapshot.ts";
import { startAmber } from "./helpers/servers.ts";
import type { Server } from "../src/server/server.ts";
import { ListValue } from "../src/types/list.ts";

function run(server: Server, argv: string[]): string {
  return server.execute(server.fakeClient(), argv);
}

function describe(e: SnapshotEntry): string {
  const v = typeof e.value === "string" ? e.value : (e.value as ListValue).toArray().join(",");
  return `${e.db}/${e.key}=${v}${e.expireAt ? "@" + e.expireAt : ""}`;
}

function dataset(server: Server): string[] {
  const out: string[] = [];
  for (const db of server.dbs) {
    for (const [key, value] of db.dict) {
      out.push(describe({ db: db.id, key, value, expireAt: db.expires.get(key) }));
    }
  }
  return out.sort();
}

Deno.test("snapshot: point in time under overwrites, deletes, list pushes, flush and swap", async () => {
  const t = await startAmber();
  const server = t.amber.server;
  try {
    for (let i = 0; i < 500; i++) run(server, ["SET", `k${i}`, `v${i}`]);
    for (let i = 0; i < 50; i++) run(server, ["RPUSH", `list${i}`, "a", "b"]);
    run(server, ["SET", "ttl", "x", "PXAT", String(Date.now() + 100_000)]);
    run(server, ["SELECT", "3"]);
    for (const db of [3, 5]) {
      const c = server.fakeClient();
      run(server, ["PING"]);
      server.execute(c, ["SELECT", String(db)]);
      for (let i = 0; i < 20; i++) server.execute(c, ["SET", `d${db}:${i}`, "x"]);
    }
    const before = dataset(server);
    const snap = Snapshot.start(server);
    const got: string[] = [];
    let round = 0;
    for (let chunk = snap.next(37); chunk; chunk = snap.next(37)) {
      for (const e of chunk) got.push(describe(e));
      // Between chunks, clients change everything they can.
      const r = round++;
      run(server, ["SET", `k${(r * 7) % 500}`, "changed"]);
      run(server, ["DEL", `k${(r * 13 + 1) % 500}`]);
      run(server, ["RPUSH", `list${r % 50}`, "pushed"]);
      run(server, ["SET", `new${r}`, "created after start"]);
      run(server, ["PERSIST", "ttl"]);
      if (r === 3) {
        const c = server.fakeClient();
        server.execute(c, ["SWAPDB", "3", "5"]);
        server.execute(c, ["SELECT", "3"]);
        server.execute(c, ["SET", "d5:0", "written after swap"]);
      }
      if (r === 5) run(server, ["FLUSHALL"]);
    }
    snap.finish();
    assert.deepEqual(got.sort(), before);
  } finally {
    await t.stop();
  }
});

Deno.test("snapshot: a second snapshot sees the keys the first one marked", async () => {
  const t = await startAmber();
  const server = t.amber.server;
  try {
    for (let i = 0; i < 100; i++) run(server, ["SET", `k${i}`, "x"]);
    for (let n = 0; n < 3; n++) {
      const snap = Snapshot.start(server);
      let count = 0;
      for (let chunk = snap.next(10); chunk; chunk = snap.next(10)) count += chunk.length;
      snap.finish();
      assert.equal(count, 100);
      run(server, ["GET", "k1"]); // a read between snapshots must not hide the key
    }
    assert.throws(() => {
      Snapshot.start(server);
      Snapshot.start(server);
    }, /already in progress/);
  } finally {
    Snapshot.current(server)?.finish();
    await t.stop();
  }
});

Deno.test("snapshot: keys loaded from an RDB are sent once with their old values, across abandoned passes", async () => {
  const t = await startAmber();
  const server = t.amber.server;
  try {
    for (let i = 0; i < 200; i++) run(server, ["SET", `k${i}`, `v${i}`]);
    for (let i = 0; i < 20; i++) run(server, ["RPUSH", `list${i}`, "a", "b"]);
    assert.equal(run(server, ["DEBUG", "RELOAD"]), "+OK\r\n");
    assert.match(run(server, ["OBJECT", "IDLETIME", "k1"]), /^:\d+\r\n$/);
    for (let n = 0; n < 3; n++) {
      // Two passes (one per snapshot parity) are abandoned halfway: the keys they did
      // not reach must stay unsent, whatever the parity when they are read.
      const before = dataset(server);
      const snap = Snapshot.start(server);
      const got: string[] = [];
      let round = 0;
      for (let chunk = snap.next(15); chunk; chunk = snap.next(15)) {
        for (const e of chunk) got.push(describe(e));
        const r = round++;
        run(server, ["GET", `k${(r * 13 + 100 + n * 3) % 200}`]); // a read keeps "not sent"
        run(server, ["SET", `k${(r * 17 + 60) % 200}`, `changed in pass ${n}`]);
        if (n < 2 && r === 5) break;
      }
      snap.finish();
      if (n === 2) assert.deepEqual(got.sort(), before);
    }
  } finally {
    Snapshot.current(server)?.finish();
    await t.stop();
  }
});
