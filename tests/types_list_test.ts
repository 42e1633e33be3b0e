/**
 * The quicklist-like list structure (src/types/list.ts): unit tests, a randomized
 * comparison against a plain-array model, and a check that node boundaries follow
 * Redis's fill rules (node count and listpack bytes as DEBUG OBJECT reports them).
 */
import assert from "node:assert/strict";
import { clampFill, listpackEntrySize, ListValue } from "../src/types/list.ts";
import { skipWithoutRedis, spawnRedis } from "./helpers/servers.ts";
import { prng as rng } from "./helpers/prng.ts";

function checkInvariants(l: ListValue): void {
  let n = 0;
  for (const node of l.nodes) {
    assert.ok(node.items.length > 0, "no empty nodes");
    let sz = 7;
    for (const s of node.items) sz += listpackEntrySize(s);
    assert.equal(node.sz, sz, "node byte size is kept exactly");
    n += node.items.length;
  }
  assert.equal(l.length, n);
}

Deno.test("listpack entry sizes", () => {
  assert.equal(listpackEntrySize("0"), 2);
  assert.equal(listpackEntrySize("127"), 2);
  assert.equal(listpackEntrySize("128"), 3);
  assert.equal(listpackEntrySize("-4096"), 3);
  assert.equal(listpackEntrySize("-4097"), 4);
  assert.equal(listpackEntrySize("32767"), 4);
  assert.equal(listpackEntrySize("8388607"), 5);
  assert.equal(listpackEntrySize("2147483647"), 6);
  assert.equal(listpackEntrySize("2147483648"), 10);
  assert.equal(listpackEntrySize("9223372036854775807"), 10);
  assert.equal(listpackEntrySize("9223372036854775808"), 21); // not an int64: a string
  assert.equal(listpackEntrySize("01"), 4); // not canonical: a string
  assert.equal(listpackEntrySize("-0"), 4);
  assert.equal(listpackEntrySize("a"), 3);
  assert.equal(listpackEntrySize("x".repeat(63)), 65);
  assert.equal(listpackEntrySize("x".repeat(64)), 67);
  assert.equal(listpackEntrySize("x".repeat(125)), 128);
  assert.equal(listpackEntrySize("x".repeat(126)), 130); // a 128-byte entry: 2-byte backlen
  assert.equal(listpackEntrySize("x".repeat(4096)), 4096 + 5 + 2);
});

Deno.test("fill is clamped as quicklistSetFill does", () => {
  assert.equal(clampFill(-100), -5);
  assert.equal(clampFill(100000), 32767);
  assert.equal(clampFill(0), 0);
});

Deno.test("basic operations", () => {
  const l = new ListValue();
  assert.equal(l.type, "list");
  assert.equal(l.encoding(), "quicklist");
  assert.equal(l.popHead(), undefined);
  assert.equal(l.popTail(), undefined);
  l.pushTail("b");
  l.pushHead("a");
  l.pushTail("c");
  assert.deepEqual(l.toArray(), ["a", "b", "c"]);
  assert.equal(l.get(-1), "c");
  assert.equal(l.get(3), undefined);
  assert.equal(l.get(-4), undefined);
  assert.ok(l.set(1, "B"));
  assert.ok(!l.set(3, "x"));
  assert.deepEqual(l.range(1, 2), ["B", "c"]);
  l.insertAt(0, "z", false);
  l.insertAt(3, "y", true);
  assert.deepEqual(l.toArray(), ["z", "a", "B", "c", "y"]);
  assert.equal(l.indexOf("c"), 3);
  assert.equal(l.indexOf("nope"), -1);
  const fromNodes = ListValue.fromNodes([["a", "b"], [], ["c"]], 5);
  assert.deepEqual(fromNodes.nodes.map((n) => n.items), [["a", "b"], ["c"]]);
  assert.equal(fromNodes.length, 3);
  assert.equal(fromNodes.fill, 5);
  checkInvariants(fromNodes);
  assert.deepEqual(ListValue.from(["x", "y"]).toArray(), ["x", "y"]);
  const copy = l.clone();
  l.popHead();
  assert.deepEqual(copy.toArray(), ["z", "a", "B", "c", "y"]);
  assert.deepEqual([...copy.values()], copy.toArray());
  checkInvariants(l);
  checkInvariants(copy);
});

Deno.test("nodes split by entry count with a positive fill", () => {
  const l = new ListValue(4);
  for (let i = 0; i < 10; i++) l.pushTail("v" + i);
  assert.deepEqual(l.nodes.map((n) => n.items.length), [4, 4, 2]);
  for (let i = 0; i < 3; i++) l.pushHead("h" + i);
  assert.deepEqual(l.nodes.map((n) => n.items.length), [3, 4, 4, 2]);
  checkInvariants(l);
});

Deno.test("nodes split by bytes with the default fill (8 KiB)", () => {
  const l = new ListValue(-2);
  const v = "x".repeat(1000);
  for (let i = 0; i < 20; i++) l.pushTail(v);
  for (const node of l.nodes) assert.ok(node.sz <= 8192);
  assert.equal(l.nodes.length, 3); // 8 entries of 1005 bytes fit in 8192
  checkInvariants(l);
});

Deno.test("randomized operations match an array model", () => {
  for (const fill of [-2, -1, 1, 3, 8]) {
    const rand = rng(1234 + fill);
    const l = new ListValue(fill);
    let model: string[] = [];
    const val = () => {
      const r = rand();
      if (r < 0.3) return String(Math.floor(rand() * 300) - 100);
      if (r < 0.6) return "e" + Math.floor(rand() * 20);
      return "x".repeat(Math.floor(rand() * 300));
    };
    for (let step = 0; step < 5000; step++) {
      const op = Math.floor(rand() * 11);
      switch (op) {
        case 0: {
          const v = val();
          l.pushHead(v);
          model.unshift(v);
          break;
        }
        case 1: {
          const v = val();
          l.pushTail(v);
          model.push(v);
          break;
        }
        case 2:
          assert.equal(l.popHead(), model.shift());
          break;
        case 3:
          assert.equal(l.popTail(), model.pop());
          break;
        case 4: {
          const i = Math.floor(rand() * (model.length + 2)) - 1;
          assert.equal(l.get(i), i < 0 ? model[model.length + i] : model[i]);
          break;
        }
        case 5: {
          if (model.length === 0) break;
          const i = Math.floor(rand() * model.length);
          const v = val();
          l.set(i, v);
          model[i] = v;
          break;
        }
        case 6: {
          if (model.length === 0) break;
          const i = Math.floor(rand() * model.length);
          const after = rand() < 0.5;
          const v = val();
          l.insertAt(i, v, after);
          model.splice(after ? i + 1 : i, 0, v);
          break;
        }
        case 7: {
          if (model.length === 0) break;
          const start = Math.floor(rand() * model.length);
          const count = Math.floor(rand() * (model.length - start + 1));
          l.deleteRange(start, count);
          model.splice(start, count);
          break;
        }
        case 8: {
          const v = "e" + Math.floor(rand() * 20);
          const limit = Math.floor(rand() * 3);
          const fromTail = rand() < 0.5;
          let removed = 0;
          if (fromTail) {
            for (let k = model.length - 1; k >= 0; k--) {
              if (model[k] === v && (limit === 0 || removed < limit)) {
                model.splice(k, 1);
                removed++;
              }
            }
          } else {
            const out: string[] = [];
            for (const s of model) {
              if (s === v && (limit === 0 || removed < limit)) removed++;
              else out.push(s);
            }
            model = out;
          }
          assert.equal(l.removeEqual(v, limit, fromTail), removed);
          break;
        }
        case 9: {
          if (model.length === 0) break;
          const a = Math.floor(rand() * model.length);
          const b = a + Math.floor(rand() * (model.length - a));
          assert.deepEqual(l.range(a, b), model.slice(a, b + 1));
          break;
        }
        case 10: {
          const v = "e" + Math.floor(rand() * 20);
          assert.equal(l.indexOf(v), model.indexOf(v));
          const seen: string[] = [];
          l.forEachReverse((s, i) => {
            assert.equal(model[i], s);
            seen.push(s);
            return seen.length < 5;
          });
          break;
        }
      }
      assert.equal(l.length, model.length);
      if (step % 100 === 0) {
        checkInvariants(l);
        assert.deepEqual(l.toArray(), model);
      }
    }
    checkInvariants(l);
    assert.deepEqual(l.toArray(), model);
  }
});

Deno.test("head pushes waiting for a large head node keep order through every operation", () => {
  // Runs of head pushes fill the head node past the point where they stop shifting its
  // array; each run is followed by one other operation, which must see them in place.
  const ops: ((l: ListValue, m: string[]) => void)[] = [
    (l, m) => assert.equal(l.popHead(), m.shift()),
    (l, m) => assert.equal(l.popTail(), m.pop()),
    (l, m) => {
      l.pushTail("t");
      m.push("t");
    },
    (l, m) => assert.equal(l.get(3), m[3]),
    (l, m) => assert.deepEqual(l.range(0, 40), m.slice(0, 41)),
    (l, m) => {
      l.set(1, "s");
      m[1] = "s";
    },
    (l, m) => {
      l.insertAt(2, "i", true);
      m.splice(3, 0, "i");
    },
    (l, m) => {
      l.deleteRange(1, 5);
      m.splice(1, 5);
    },
    (l, m) => {
      let removed = 0;
      for (let k = 0; k < m.length && removed < 2;) {
        if (m[k] === "7") {
          m.splice(k, 1);
          removed++;
        } else k++;
      }
      assert.equal(l.removeEqual("7", 2, false), removed);
    },
    (l, m) => assert.equal(l.indexOf("12"), m.indexOf("12")),
    (l, m) => assert.deepEqual(l.clone().toArray(), m),
  ];
  for (const fill of [-2, 100]) {
    const l = new ListValue(fill);
    const m: string[] = [];
    for (let round = 0; round < 60; round++) {
      const run = 20 + (round * 37) % 150;
      for (let k = 0; k < run; k++) {
        const v = String((round * 7 + k) % 50);
        l.pushHead(v);
        m.unshift(v);
      }
      ops[round % ops.length](l, m);
      assert.equal(l.length, m.length);
      // With a count fill, waiting pushes count toward the head node's entries.
      if (fill > 0) {
        for (const n of l.nodes) assert.ok(n.items.length <= fill, `${n.items.length}`);
      }
      // Pops at the head take the waiting pushes first, and a one-node list drains
      // through its tail without losing them.
      if (round % 10 === 9) {
        while (l.length > 3) assert.equal(l.popTail(), m.pop());
        assert.equal(l.popHead(), m.shift());
      }
    }
    assert.deepEqual(l.toArray(), m);
    checkInvariants(l);
  }
  // A one-node list: a tail push counts the head pushes still waiting in front.
  const one = new ListValue(40);
  for (let k = 0; k < 40; k++) one.pushHead(String(k));
  one.pushTail("t");
  assert.deepEqual(one.nodes.map((n) => n.items.length), [40, 1]);
  assert.deepEqual(one.toArray(), [...Array.from({ length: 40 }, (_, k) => String(39 - k)), "t"]);
  // ...and drains through its tail without losing them.
  const drain = new ListValue();
  for (let k = 0; k < 50; k++) drain.pushHead(String(k));
  for (let k = 0; k < 50; k++) assert.equal(drain.popTail(), String(k));
  assert.equal(drain.popTail(), undefined);
  assert.equal(drain.length, 0);
});

Deno.test("a million pushes and pops at both ends touch only the end nodes", () => {
  // O(1) at the ends, checked by structure rather than by a clock: pushes fill bounded
  // nodes at the ends (never one growing array), and pops take them back in order.
  const l = new ListValue();
  for (let i = 0; i < 500_000; i++) {
    l.pushHead(String(i));
    l.pushTail(String(i));
  }
  assert.equal(l.length, 1_000_000);
  for (const n of l.nodes) assert.ok(n.sz <= 8192, `node of ${n.sz} bytes`);
  assert.ok(l.nodes.length >= 1_000_000 / 2048, `${l.nodes.length} nodes`);
  for (let i = 499_999; i >= 0; i--) {
    assert.equal(l.popHead(), String(i));
    assert.equal(l.popTail(), String(i));
  }
  assert.equal(l.length, 0);
  assert.equal(l.nodes.length, 0);
});

/** ql_nodes and ql_uncompressed_size from DEBUG OBJECT. */
function qlInfo(reply: string): { nodes: number; size: number } {
  const nodes = Number(/ql_nodes:(\d+)/.exec(reply)![1]);
  const size = Number(/ql_uncompressed_size:(\d+)/.exec(reply)![1]);
  return { nodes, size };
}

Deno.test({
  name: "node boundaries match Redis's quicklist (pushes, inserts, pops, trims)",
  ignore: skipWithoutRedis(),
  async fn() {
    const redis = await spawnRedis();
    try {
      const r = await redis.client();
      for (const fill of [-2, -1, 5, 128]) {
        await r.call("config", "set", "list-max-listpack-size", String(fill));
        const rand = rng(99 + fill);
        const l = new ListValue(fill);
        const key = "ql" + fill;
        for (let step = 0; step < 1500; step++) {
          const op = rand();
          const v = rand() < 0.4
            ? String(Math.floor(rand() * 100000) - 50000)
            : "v".repeat(Math.floor(rand() * 200));
          if (op < 0.35) {
            l.pushTail(v);
            await r.call("rpush", key, v);
          } else if (op < 0.6) {
            l.pushHead(v);
            await r.call("lpush", key, v);
          } else if (op < 0.75 && l.length > 0) {
            // LINSERT at a unique pivot so both sides insert at the same place.
            const i = Math.floor(rand() * l.length);
            const pivot = "pivot" + step;
            l.set(i, pivot);
            await r.call("lset", key, String(i), pivot);
            const after = rand() < 0.5;
            l.insertAt(i, v, after);
            await r.call("linsert", key, after ? "after" : "before", pivot, v);
          } else if (op < 0.85 && l.length > 0) {
            l.popHead();
            await r.call("lpop", key);
          } else if (op < 0.9 && l.length > 0) {
            l.popTail();
            await r.call("rpop", key);
          } else if (op < 0.91 && l.length > 0) {
            const target = l.get(Math.floor(rand() * l.length))!;
            const n = rand() < 0.5 ? 1 : -1;
            l.removeEqual(target, 1, n < 0);
            await r.call("lrem", key, String(n), target);
          } else if (op < 0.92 && l.length > 3) {
            l.deleteRange(0, 3);
            await r.call("lpop", key, "3");
          } else if (op < 0.93 && l.length > 4) {
            l.deleteRange(0, 2);
            l.deleteRange(l.length - 1, 1);
            await r.call("ltrim", key, "2", "-2");
          }
          if (l.length === 0) continue;
          if (step % 50 === 0 || step > 1450) {
            const info = qlInfo(await r.call("debug", "object", key));
            const size = l.nodes.reduce((a, n) => a + n.sz, 0);
            assert.deepEqual(
              { nodes: l.nodes.length, size },
              info,
              `fill ${fill} step ${step}`,
            );
          }
        }
        const raw = await r.call("lrange", key, "0", "-1");
        assert.equal(raw.split("\r\n").length, 2 * l.length + 2);
      }
    } finally {
      await redis.stop();
    }
  },
});
