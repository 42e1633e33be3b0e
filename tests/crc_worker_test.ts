// The snapshot Worker's CRC-64 of a file prefix (src/persistence/snapshot_worker.ts
// "crc"/"crc-end"), which the RDB load at start relies on instead of hashing in the
// parser; and the refusal of a file whose checksum does not match, with that path.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { spawnSnapshotWorker } from "../src/persistence/worker_spawn.ts";
import { Crc64 } from "../src/persistence/rdb/crc64.ts";
import type { WorkerReply } from "../src/persistence/snapshot_worker.ts";
import { concat, RdbWriter } from "../src/persistence/rdb/writer.ts";
import { prng } from "./helpers/prng.ts";
import { refusedStart, startAmberIn, tempDir } from "./helpers/servers.ts";

Deno.test("crc worker: the CRC-64 of any prefix ending in the last chunk, null before it", async () => {
  const w = spawnSnapshotWorker();
  const replies: (bigint | null)[] = [];
  let wake: (() => void) | null = null;
  w.onmessage = (ev: MessageEvent<WorkerReply>) => {
    if (ev.data.op === "crc") replies.push(ev.data.value);
    wake?.();
  };
  const next = () =>
    new Promise<bigint | null>((r) => {
      wake = () => r(replies.shift()!);
    });
  try {
    const rnd = prng(7);
    const data = new Uint8Array(300_000);
    for (let i = 0; i < data.length; i++) data[i] = Math.floor(rnd() * 256);
    for (let round = 0; round < 12; round++) {
      // Random chunk sizes (one byte up to 100k), then a prefix length to ask for.
      const cuts: number[] = [0];
      while (cuts[cuts.length - 1] < data.length) {
        cuts.push(Math.min(data.length, cuts[cuts.length - 1] + 1 + Math.floor(rnd() * 100_000)));
      }
      for (let i = 1; i < cuts.length; i++) {
        w.postMessage({ op: "crc", chunk: data.slice(cuts[i - 1], cuts[i]) });
      }
      const lastStart = cuts[cuts.length - 2];
      const length = round % 4 === 3
        ? Math.max(0, lastStart - 1 - Math.floor(rnd() * 10)) // before the last chunk
        : lastStart + Math.floor(rnd() * (data.length - lastStart + 1));
      w.postMessage({ op: "crc-end", length });
      const got = await next();
      if (length < lastStart) assert.equal(got, null, `round ${round}`);
      else assert.equal(got, new Crc64().update(data, 0, length).value(), `round ${round}`);
    }
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
