// The snapshot chunk codec (src/persistence/chunk_codec.ts): what the main thread encodes
// comes back in the Worker as the same values, in order, for every shape a snapshot sends.
import assert from "node:assert/strict";
import { ChunkEncoder, decodeChunk, EntryPart } from "../src/persistence/chunk_codec.ts";
import {
  appendSlice,
  BIG_VALUE_ELEMENTS,
  freezeValue,
  isBigValue,
  streamFor,
  type ValueStream,
} from "../src/persistence/value_stream.ts";
import { toRdbValue } from "../src/persistence/values.ts";
import { HashValue } from "../src/types/hash.ts";
import { SetValue } from "../src/types/set.ts";
import { ZSet } from "../src/types/zset.ts";
import { ListValue } from "../src/types/list.ts";
import type { Value } from "../src/types/value.ts";
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
    decodeChunk(bytes, (k, v, e) => got.push([k, v!, e]));
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

Deno.test("chunk codec: a big value sent as shell, slices and end comes back whole, in the writers' order", () => {
  const n = BIG_VALUE_ELEMENTS * 3 + 17;
  const ids = Array.from({ length: n }, (_, i) => String(i));
  const values: [string, Value][] = [
    ["hash", HashValue.fromPairs(ids.map((i) => [`f${i}`, `v${i}`]), { entries: 128, value: 64 })],
    ["set", SetValue.fromMembers(ids.map((i) => `m${i}`), 512)],
    [
      "zset",
      ZSet.fromSorted(ids.map((i) => `m${i}`), ids.map((i) => Number(i) / 3), {
        entries: 128,
        value: 64,
      }),
    ],
    ["list", ListValue.from(ids.map((i) => `e${i}`))],
  ];
  const enc = new ChunkEncoder();
  for (const [key, v] of values) {
    assert.ok(isBigValue(v), key);
    const stream = streamFor(v)!;
    enc.begin(key, stream.shell, 12345);
    let slices = 0;
    for (let s = stream.next(500); s !== null; s = stream.next(500)) {
      enc.slice(s);
      slices++;
    }
    enc.end();
    assert.ok(slices > 1, `${key} went in one slice`);
  }
  // A small value between them goes whole.
  enc.entry("small", "v", -1);
  const got: [string, RdbValue, number | undefined][] = [];
  let big: [string, RdbValue, number | undefined] | null = null;
  decodeChunk(enc.take(), (k, v, e, part) => {
    if (part === EntryPart.WHOLE) got.push([k, v!, e]);
    else if (part === EntryPart.BEGIN) big = [k, v!, e];
    else if (part === EntryPart.SLICE) appendSlice(big![1], v!);
    else got.push(big!);
  });
  assert.equal(got.length, values.length + 1);
  for (let i = 0; i < values.length; i++) {
    const [key, v] = values[i];
    assert.equal(got[i][0], key);
    assert.equal(got[i][2], 12345);
    assert.deepEqual(got[i][1], toRdbValue(v), key);
  }
  assert.deepEqual(got[values.length], ["small", { type: "string", value: "v" }, undefined]);
  // Compact encodings are never streamed.
  assert.equal(streamFor(HashValue.fromPairs([["f", "v"]], { entries: 128, value: 64 })), null);
  assert.equal(isBigValue("a string"), false);
});

Deno.test("value streams: frozen mid-way or before the start, they give the value as it was, whatever changes after", () => {
  const n = BIG_VALUE_ELEMENTS * 3 + 5;
  const ids = Array.from({ length: n }, (_, i) => String(i));
  const lim = { entries: 128, value: 64 };
  const make = (): [string, Value, (v: Value) => void][] => [
    ["hash", HashValue.fromPairs(ids.map((i) => [`f${i}`, `v${i}`]), lim), (v) => {
      const h = v as HashValue;
      for (let i = 0; i < n; i += 3) h.delete(`f${i}`);
      for (let i = 0; i < 500; i++) h.set(`new${i}`, "x", lim);
      h.set("f1", "changed", lim);
    }],
    ["set", SetValue.fromMembers(ids.map((i) => `m${i}`), 512), (v) => {
      const st = v as SetValue;
      for (let i = 0; i < n; i += 3) st.delete(`m${i}`);
      for (let i = 0; i < 500; i++) st.add(`new${i}`, 512);
    }],
    ["zset", ZSet.fromSorted(ids.map((i) => `m${i}`), ids.map((i) => Number(i)), lim), (v) => {
      const z = v as ZSet;
      for (let i = 0; i < n; i += 3) z.delete(`m${i}`);
      for (let i = 0; i < 500; i++) z.add(i + 0.5, `new${i}`, 0, lim);
      z.add(-5, "m1", 0, lim);
    }],
    ["list", ListValue.from(ids.map((i) => `e${i}`)), (v) => {
      const l = v as ListValue;
      // Every way a list changes a node in place, each on a node no other change
      // touched first (nodes of 1,168 elements here, the last one not full): each must
      // copy it.
      l.popHead();
      l.set(3000, "lset");
      l.removeEqual("e4000", 0, false);
      l.deleteRange(5000, 10);
      l.insertAt(12_000, "inserted", true);
      for (let i = 0; i < 3000; i++) l.pushHead(`h${i}`);
      for (let i = 0; i < 3000; i++) l.popTail();
    }],
    ["list (tail)", ListValue.from(ids.map((i) => `e${i}`)), (v) => {
      (v as ListValue).pushTail("tail");
    }],
  ];
  const readAll = (shell: RdbValue, stream: ValueStream, first: RdbValue[]) => {
    const whole = structuredClone(shell);
    for (const s of first) appendSlice(whole, s);
    for (let s = stream.next(700); s !== null; s = stream.next(700)) appendSlice(whole, s);
    return whole;
  };
  for (const [name, v, change] of make()) {
    // Mid-way: part read from the live value, the rest from the copy.
    const want = structuredClone(toRdbValue(v));
    const st = streamFor(v)!;
    // Copied as the encoder would (slices of a list are its live node arrays).
    const first = [structuredClone(st.next(700)!), structuredClone(st.next(700)!)];
    st.freeze();
    change(v);
    assert.deepEqual(readAll(st.shell, st, first), want, `${name} frozen mid-way`);
  }
  for (const [name, v, change] of make()) {
    // Before the start: the snapshot's copy of a big key written to before the walk.
    const want = structuredClone(toRdbValue(v));
    const frozen = freezeValue(v)!;
    change(v);
    assert.ok(isBigValue(frozen));
    const st = streamFor(frozen)!;
    assert.deepEqual(readAll(st.shell, st, []), want, `${name} frozen before the start`);
  }
});
