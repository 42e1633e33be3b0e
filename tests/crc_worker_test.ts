// The snapshot Worker's CRC-64 of a file prefix (src/persistence/snapshot_worker.ts
// "crc-file"/"crc-end"), which the RDB load at start relies on instead of hashing in the
// parser; and the refusal of a file whose checksum does not match, with that path.
import assert from "node:assert/strict";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { spawnSnapshotWorker } from "../src/persistence/worker_spawn.ts";
import { Crc64 } from "../src/persistence/rdb/crc64.ts";
import type { WorkerReply } from "../src/persistence/snapshot_worker.ts";
import { concat, RdbWriter } from "../src/persistence/rdb/writer.ts";
import { prng } from "./helpers/prng.ts";
import { refusedStart, startAmberIn, tempDir } from "./helpers/servers.ts";

Deno.test("crc worker: the CRC-64 of any prefix of the file, null for another file", async () => {
  const w = spawnSnapshotWorker();
  const replies: (bigint | null)[] = [];
  let wake: (() => void) | null = null;
  w.onmessage = (ev: MessageEvent<WorkerReply>) => {
    if (ev.data.op === "crc") replies.push(ev.data.value);
    wake?.();
  };
  const next = () =>
    new Promise<bigint | null>((r) => {
      if (replies.length > 0) r(replies.shift()!);
      else wake = () => r(replies.shift()!);
    });
  const dir = tempDir();
  try {
    const rnd = prng(7);
    for (let round = 0; round < 12; round++) {
      // Files around the Worker's 1 MiB reads; prefixes in the last read and before it.
      const size = [3_000_000, 1 << 20, (1 << 20) + 3, 2_500_000, 10, 0][round % 6];
      const data = new Uint8Array(size);
      for (let i = 0; i < size; i++) data[i] = Math.floor(rnd() * 256);
      const path = join(dir, `f${round}`);
      writeFileSync(path, data);
      const st = statSync(path);
      const length = round < 6 ? size - Math.min(size, 8) : Math.floor(rnd() * (size + 1));
      w.postMessage({ op: "crc-file", path, size, ino: Number(st.ino) });
      w.postMessage({ op: "crc-end", length });
      assert.equal(await next(), new Crc64().update(data, 0, length).value(), `round ${round}`);
    }
    // A load that ended without crc-end (a file with no checksum, or a failed parse) leaves
    // nothing behind for the next one.
    {
      const a = join(dir, "f4");
      const b = join(dir, "f3");
      const sa = statSync(a);
      const sb = statSync(b);
      w.postMessage({ op: "crc-file", path: a, size: sa.size, ino: Number(sa.ino) });
      w.postMessage({ op: "crc-file", path: b, size: sb.size, ino: Number(sb.ino) });
      w.postMessage({ op: "crc-end", length: sb.size - 8 });
      const bytes = new Uint8Array(readFileSync(b));
      assert.equal(await next(), new Crc64().update(bytes, 0, sb.size - 8).value());
    }
    // Not the file the load opened (another inode, or another size): no answer.
    const path = join(dir, "f0");
    const st = statSync(path);
    w.postMessage({ op: "crc-file", path, size: st.size, ino: Number(st.ino) + 1 });
    w.postMessage({ op: "crc-end", length: 100 });
    assert.equal(await next(), null);
    w.postMessage({ op: "crc-file", path, size: st.size + 1, ino: Number(st.ino) });
    w.postMessage({ op: "crc-end", length: 100 });
    assert.equal(await next(), null);
    w.postMessage({ op: "crc-file", path: join(dir, "missing"), size: 1, ino: 1 });
    w.postMessage({ op: "crc-end", length: 0 });
    assert.equal(await next(), null);
  } finally {
    w.terminate();
  }
});

Deno.test("crc worker: a changed byte in a 3 MB RDB stops the start with a checksum error", async () => {
  const chunks: Uint8Array[] = [];
  const w = new RdbWriter({ compression: false, onChunk: (c) => chunks.push(c.slice()) });
  w.start();
  w.selectDb(0, 100_000, 0);
  for (let i = 0; i < 100_000; i++) {
    w.writeEntry(`key:${i}`, { type: "string", value: `value-${i}-abcdefgh` });
  }
  w.end();
  const file = concat(chunks);
  assert.ok(file.length > 3_000_000);
  const dirWith = (bytes: Uint8Array) => {
    const dir = tempDir();
    writeFileSync(join(dir, "dump.rdb"), bytes);
    return dir;
  };
  // The intact file loads.
  const t = await startAmberIn(dirWith(file));
  try {
    const c = await t.client();
    let size = "";
    for (let i = 0; i < 200 && size !== ":100000\r\n"; i++) {
      size = await c.call("DBSIZE");
      if (size !== ":100000\r\n") await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(size, ":100000\r\n");
  } finally {
    await t.stop();
  }
  // One letter of one value changed: the structure still parses, the checksum does not.
  const bad = file.slice();
  const at = new TextDecoder("latin1").decode(bad).indexOf("value-77777-abcdefgh");
  assert.ok(at > 2_000_000);
  bad[at + 13] ^= 1;
  assert.match(refusedStart(dirWith(bad)), /wrong RDB checksum/);
});
