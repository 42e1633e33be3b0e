// The snapshot chunk codec (src/persistence/chunk_codec.ts): what the main thread encodes
// comes back in the Worker as the same values, in order, for every shape a snapshot sends.
import assert from "node:assert/strict";
import { ChunkEncoder, decodeChunk } from "../src/persistence/chunk_codec.ts";
import type { RdbValue } from "../src/persistence/rdb/types.ts";
import { prng } from "./helpers/prng.ts";

Deno.test("chunk codec: every value shape round trips, in order, across buffer growth", () => {
  const rnd = prng(5);
  const str = () => {
    const n = [0, 1, 5, 20, 300, 70_000][Math.floor(rnd() * 6)];
    let s = "";
    for (let i = 0; i < n; i++) s += String.fromCharCode(Math.floor(rnd() * 256));
    return s;
  };
  const strs = (n: number) => Array.from({ length: n }, str);
  const shapes: (() => string | RdbValue)[] = [
    () => str(),
    () => ({ type: "string", value: str() }),
    () => ({ type: "list", items: [], encoding: "quicklist", nodes: [strs(3), strs(1)] }),
    () => ({ type: "set", members: strs(4), intset: false, encoding: "hashtable" }),
    () => ({ type: "set", members: ["1", "2"], intset: true, encoding: "intset", blob: str() }),
    () => ({ type: "set", members: [], count: 7, intset: true, encoding: "intset", blob: str() }),
    () => ({ type: "hash", entries: [[str(), str()], [str(), str()]], encoding: "hashtable" }),
    () => ({ type: "hash", entries: [[str(), str()]], encoding: "listpack" }),
    () => ({ type: "hash", entries: [], packed: str(), encoding: "listpack" }),
    () => ({
      type: "zset",
      entries: [[str(), 1.5], [str(), -Infinity], [str(), 2 ** 60 + 0.5]],
      encoding: "skiplist",
    }),
    () => ({ type: "zset", entries: [], packed: str(), count: 3, encoding: "listpack" }),
  ];
  const enc = new ChunkEncoder();
  for (let round = 0; round < 5; round++) {
    const sent: [string, string | RdbValue, number][] = [];
    for (let i = 0; i < 200; i++) {
      const v = shapes[i % shapes.length]();
      const exp = rnd() < 0.3 ? Math.floor(rnd() * 2 ** 45) : -1;
      sent.push([`key:${round}:${i}:${str()}`, v, exp]);
      enc.entry(sent[i][0], v, exp);
    }
    assert.equal(enc.count, sent.length);
    const bytes = enc.take();
    assert.equal(enc.count, 0);
    const got: [string, RdbValue, number | undefined][] = [];
    decodeChunk(bytes, (k, v, e) => got.push([k, v, e]));
    assert.equal(got.length, sent.length);
    for (let i = 0; i < sent.length; i++) {
      const [k, v, e] = sent[i];
      assert.equal(got[i][0], k);
      assert.equal(got[i][2], e < 0 ? undefined : e);
      const want: RdbValue = typeof v === "string" ? { type: "string", value: v } : v;
      assert.deepEqual(got[i][1], want, `round ${round} entry ${i} (${want.type})`);
    }
  }
  // A damaged tag is an error, never a silent skip.
  enc.entry("k", "v", -1);
  const bytes = enc.take();
  bytes[4 + 1 + 8] = 99;
  assert.throws(() => decodeChunk(bytes, () => {}), /unknown value tag 99/);
});
