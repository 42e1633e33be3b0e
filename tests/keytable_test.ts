// Tests for src/keyspace/keytable.ts: the keyspace dictionary must hold what a JS Map
// holds, and its live iterators must keep their promise (every entry present for the
// whole walk exactly once, never a deleted one) across inserts, deletes, hole reuse,
// index migrations and compaction, checked against a Map with random scripts.
import * as assert from "node:assert/strict";
import {
  type FrozenEntries,
  frozenKey,
  frozenValue,
  hashKey,
  IndexBuilder,
  KeyTable,
  reservedSlots,
} from "../src/keyspace/keytable.ts";
import { prng } from "./helpers/prng.ts";

Deno.test("keytable: get/set/delete/has/size and LRU words", () => {
  const t = new KeyTable<string>();
  assert.equal(t.size, 0);
  assert.equal(t.get("a"), undefined);
  assert.equal(t.delete("a"), false);
  const i = t.set("a", "1");
  assert.equal(t.valueAt(i), "1");
  assert.equal(t.wordAt(i), 0);
  t.setWordAt(i, 42);
  assert.equal(t.wordAt(t.find("a")), 42);
  // Overwriting keeps the entry, its place and its word.
  assert.equal(t.set("a", "2"), i);
  assert.equal(t.get("a"), "2");
  assert.equal(t.wordAt(t.find("a")), 42);
  assert.equal(t.has("a"), true);
  assert.equal(t.size, 1);
  // Keys are byte strings: the empty key, NULs and high Latin-1 bytes are distinct keys.
  for (const k of ["", "\0", "\0\0", "\xff", "a\0b"]) t.set(k, "v" + k);
  assert.equal(t.size, 6);
  for (const k of ["", "\0", "\0\0", "\xff", "a\0b"]) assert.equal(t.get(k), "v" + k);
  assert.equal(t.delete("a"), true);
  assert.equal(t.get("a"), undefined);
  assert.equal(t.find("a"), -1);
  assert.equal(t.size, 5);
  // A key stored after a delete fills the hole the delete left.
  const hole = t.find("\0");
  t.delete("\0");
  assert.equal(t.set("new", "again"), hole);
  assert.deepEqual([...t.keys()].sort(), ["", "\0\0", "a\0b", "new", "\xff"]);
});

Deno.test("keytable: colliding hashes and a table grown to 100k keys then emptied", () => {
  assert.notEqual(hashKey("key:1"), hashKey("key:2"));
  const t = new KeyTable<number>();
  for (let i = 0; i < 100_000; i++) t.set("key:" + i, i);
  assert.equal(t.size, 100_000);
  for (let i = 0; i < 100_000; i += 7) assert.equal(t.get("key:" + i), i);
  assert.equal(t.get("key:100000"), undefined);
  for (let i = 0; i < 100_000; i++) assert.equal(t.delete("key:" + i), true);
  assert.equal(t.size, 0);
  assert.deepEqual([...t.keys()], []);
  t.set("x", 1);
  assert.deepEqual([...t], [["x", 1]]);
});

/**
 * What an iterator promises, checked against a model: every entry it yields is present
 * with its current value and yielded once per incarnation of its key, and at its end
 * every key present since the iterator was made (never deleted since) was yielded.
 */
class IteratorCheck {
  private seen = new Set<string>();
  private mustSee: Set<string>;

  constructor(
    readonly it: Iterator<[string, number]>,
    private model: Map<string, number>,
    private incarnation: Map<string, number>,
  ) {
    this.mustSee = new Set(model.keys());
  }

  deleted(key: string): void {
    this.mustSee.delete(key);
  }

  /** Advances once; false at the end. */
  step(label: string): boolean {
    const r = this.it.next();
    if (r.done) {
      for (const k of this.mustSee) {
        assert.ok(this.seen.has(`${k}#${this.incarnation.get(k)}`), `${label}: never yielded ${k}`);
      }
      return false;
    }
    const [k, v] = r.value;
    assert.equal(this.model.get(k), v, `${label}: yielded ${k} that is not there with that value`);
    const id = `${k}#${this.incarnation.get(k)}`;
    assert.ok(!this.seen.has(id), `${label}: yielded ${k} twice`);
    this.seen.add(id);
    return true;
  }
}

/**
 * One random script applied to a Map and a KeyTable, with up to 4 live iterators of the
 * table checked as it runs: every read and the final contents must agree.
 */
function differential(seed: number, steps: number, keySpace: number, words = true): void {
  const rnd = prng(seed);
  const m = new Map<string, number>();
  const incarnation = new Map<string, number>();
  const t = new KeyTable<number>(0, words);
  let iters: IteratorCheck[] = [];
  for (let s = 0; s < steps; s++) {
    const op = rnd();
    const key = "k" + Math.floor(rnd() * keySpace);
    const label = `seed ${seed} step ${s}`;
    if (op < 0.45) {
      if (!m.has(key)) incarnation.set(key, s);
      m.set(key, s);
      const i = t.set(key, s);
      // A new key's word starts at 0; an overwrite keeps it. Every tenth set stamps it.
      if (words && s % 10 === 0) t.setWordAt(i, s);
    } else if (op < 0.8) {
      assert.equal(t.delete(key), m.delete(key), `${label} delete ${key}`);
      for (const c of iters) c.deleted(key);
    } else if (op < 0.9) {
      assert.equal(t.get(key), m.get(key), `${label} get ${key}`);
      assert.equal(t.has(key), m.has(key));
    } else if (op < 0.93 && iters.length < 4) {
      iters.push(new IteratorCheck(t.entries(), m, incarnation));
    } else if (iters.length > 0) {
      const j = Math.floor(rnd() * iters.length);
      const n = 1 + Math.floor(rnd() * 20);
      for (let k = 0; k < n; k++) {
        if (!iters[j].step(`${label} iterator ${j}`)) {
          iters.splice(j, 1);
          break;
        }
      }
    }
    assert.equal(t.size, m.size);
    if (s % 997 === 0) t.check();
  }
  t.check();
  const sorted = (x: Iterable<[string, number]>) =>
    [...x].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  assert.deepEqual(sorted(t), sorted(m), `seed ${seed}: final contents`);
  assert.equal([...t.values()].length, m.size);
  if (words) {
    // Words travel with their entries through migrations and rebuilds: each is 0 or the
    // step of a set of that key, at or after the key's latest creation.
    for (const [k] of m) {
      const w = t.wordAt(t.find(k));
      assert.ok(w === 0 || (w % 10 === 0 && w <= m.get(k)!), `seed ${seed}: word of ${k}`);
    }
  }
  for (const c of iters) while (c.step(`seed ${seed}: draining`));
  iters = [];
}

Deno.test("keytable: random scripts agree with a Map, live iterators keep their promise", () => {
  // Small key spaces churn (holes, compaction, shrink); large ones grow.
  for (let seed = 1; seed <= 40; seed++) differential(seed, 4000, seed % 2 ? 50 : 3000);
  // Key spaces large enough that index migrations run across many operations, and
  // churn enough that holes outnumber live entries (a rebuild whose index migrates
  // through its map of moved positions).
  for (let seed = 41; seed <= 44; seed++) differential(seed, 60_000, 20_000);
  // Tables without LRU words (a large hash's or set's index) move entries the same way.
  for (let seed = 45; seed <= 54; seed++) differential(seed, 20_000, seed % 2 ? 60 : 8000, false);
});

Deno.test("keytable: keys still in the old index are found, updated and deleted during a migration", () => {
  const t = new KeyTable<number>();
  const m = new Map<string, number>();
  let i = 0;
  // Grow until a migration starts at a size where it spans many writes.
  while (!(t.rehashing && t.size > 10_000)) {
    t.set("k" + i, i);
    m.set("k" + i, i);
    i++;
  }
  assert.ok(t.rehashing);
  for (const [k, v] of m) assert.equal(t.get(k), v, k);
  for (let j = 0; j < i; j += 30) {
    t.set("k" + j, -j);
    m.set("k" + j, -j);
  }
  for (let j = 1; j < i; j += 30) assert.equal(t.delete("k" + j), m.delete("k" + j));
  assert.ok(t.rehashing, "still migrating");
  // Cron's share finishes it.
  while (t.rehashMilliseconds(1));
  assert.equal(t.rehashing, false);
  t.check();
  assert.equal(t.size, m.size);
  for (let j = 0; j < i; j++) assert.equal(t.get("k" + j), m.get("k" + j), "k" + j);
  assert.deepEqual([...t], [...m]);
});

Deno.test("keytable: an iterator survives a shrink and a compaction mid-walk", () => {
  const m = new Map<string, number>();
  const incarnation = new Map<string, number>();
  const t = new KeyTable<number>();
  for (let i = 0; i < 1000; i++) {
    m.set("k" + i, i);
    incarnation.set("k" + i, 0);
    t.set("k" + i, i);
  }
  const c = new IteratorCheck(t.entries(), m, incarnation);
  for (let i = 0; i < 300; i++) assert.ok(c.step("first 300"));
  // Delete most keys on both sides of the iterator (forces a shrinking rebuild).
  for (let i = 0; i < 1000; i++) {
    if (i % 50 !== 0) {
      m.delete("k" + i);
      t.delete("k" + i);
      c.deleted("k" + i);
    }
  }
  for (let i = 0; i < 10; i++) {
    m.set("new" + i, i);
    incarnation.set("new" + i, 1);
    t.set("new" + i, i);
  }
  let n = 300;
  while (c.step("after the rebuild")) n++;
  // The 20 survivors, 6 of them before the iterator's place, and the new keys after it.
  assert.equal(n, 300 + 14 + 10);
  // A finished iterator stays finished, as a Map's does.
  t.set("late", 1);
  assert.equal(c.it.next().done, true);
});

Deno.test("keytable: randomKey draws every live key and never a deleted one", () => {
  const t = new KeyTable<number>();
  assert.equal(t.randomKey(), undefined);
  for (let i = 0; i < 100; i++) t.set("k" + i, i);
  // Leave holes: only the keys divisible by 4 stay (a rebuild is not due yet).
  for (let i = 0; i < 100; i++) if (i % 4 !== 0) t.delete("k" + i);
  const seen = new Set<string>();
  for (let n = 0; n < 2000; n++) {
    const k = t.randomKey()!;
    assert.ok(t.has(k), `drew deleted key ${k}`);
    seen.add(k);
  }
  assert.equal(seen.size, 25);
});

Deno.test("keytable: bulk append, indexed in one pass, finds keys appended twice", () => {
  for (const n of [10, 50_000]) {
    // Into an empty table (sized by reserve or not) and into one that holds keys already.
    for (const mode of ["reserved", "unreserved", "non-empty"]) {
      const t = new KeyTable<number>();
      const m = new Map<string, number>();
      if (mode === "reserved") t.reserve(n);
      if (mode === "non-empty") {
        for (let i = 0; i < 100; i++) {
          t.set("pre" + i, i);
          m.set("pre" + i, i);
        }
      }
      for (let i = 0; i < n; i++) {
        const p = t.append("k" + i, i);
        assert.equal(t.valueAt(p), i);
        m.set("k" + i, i);
      }
      assert.equal(t.size, m.size);
      assert.equal(t.indexAppended(), null);
      t.check();
      for (const [k, v] of m) assert.equal(t.get(k), v, `${mode} ${n} ${k}`);
      assert.deepEqual([...t], [...m]);
      // A key appended twice (an old one and one of this batch): the first is reported,
      // the later copies are dropped, the table stays whole.
      t.append("x", 1);
      t.append("k3", 99);
      t.append("x", 2);
      assert.equal(t.indexAppended(), "k3");
      t.check();
      assert.equal(t.get("k3"), 3);
      assert.equal(t.get("x"), 1);
      assert.equal(t.size, m.size + 1);
    }
  }
  // Any other use indexes pending appends first.
  const t = new KeyTable<number>();
  t.append("a", 1);
  assert.equal(t.get("a"), 1);
  t.append("b", 2);
  assert.equal(t.delete("b"), true);
  t.append("c", 3);
  t.set("c", 4);
  assert.deepEqual([...t], [["a", 1], ["c", 4]]);
  t.check();
});

Deno.test("keytable: an index built elsewhere from streamed hashes is adopted whole", () => {
  const rnd = prng(11);
  for (const n of [1, 1000, 70_000]) {
    const t = new KeyTable<number>();
    const keys: string[] = [];
    for (let i = 0; i < n; i++) keys.push(`key:${Math.floor(rnd() * 1e9)}:${i}`);
    const b = new IndexBuilder(reservedSlots(n));
    let sent = 0;
    for (let i = 0; i < n; i++) {
      t.append(keys[i], i);
      // Batches of random sizes, as the loader sends them.
      if (rnd() < 0.01) {
        const hs = t.appendedHashesSince(sent);
        sent += hs.length;
        assert.ok(b.add(hs));
      }
    }
    assert.ok(b.add(t.appendedHashesSince(sent)));
    assert.equal(t.appendedCount, n);
    assert.ok(t.adoptIndex(b.index, b.candidates()));
    assert.equal(t.appendedCount, 0);
    t.check();
    for (let i = 0; i < n; i++) assert.equal(t.get(keys[i]), i);
    assert.equal(t.get("absent"), undefined);
    // The adopted table goes on like any other.
    t.set("new", -1);
    assert.equal(t.delete(keys[0]), true);
    t.check();
    assert.equal(t.get("new"), -1);
    assert.equal(t.size, n);
  }
  // A key appended twice has equal hashes: a candidate, so the index is not adopted and
  // indexAppended names the key as it always did.
  const t = new KeyTable<number>();
  for (const k of ["a", "b", "a"]) t.append(k, 0);
  const b = new IndexBuilder(reservedSlots(3));
  assert.ok(b.add(t.appendedHashesSince(0)));
  assert.deepEqual([...b.candidates()], [0, 2]);
  assert.equal(t.adoptIndex(b.index, b.candidates()), false);
  assert.equal(t.indexAppended(), "a");
  // Equal hashes of different keys are only candidates: adopted.
  const u = new KeyTable<number>();
  u.append("x", 1);
  u.append("y", 2);
  const c = new IndexBuilder(16);
  const h = hashKey("x");
  assert.ok(c.add(Int32Array.of(h, h)));
  assert.deepEqual([...c.candidates()], [0, 1]);
  assert.equal(u.adoptIndex(c.index, c.candidates()), true);
  assert.equal(u.get("x"), 1);
  // More keys than the slots hold at most half full: the builder refuses.
  const d = new IndexBuilder(reservedSlots(2));
  assert.equal(d.add(new Int32Array(reservedSlots(2) / 2 + 1)), false);
  // An index too small for what was appended is not adopted.
  const v = new KeyTable<number>();
  for (let i = 0; i < 20; i++) v.append("k" + i, i);
  assert.equal(v.adoptIndex(new Int32Array(32), new Int32Array(0)), false);
  assert.equal(v.indexAppended(), null);
  assert.equal(v.get("k7"), 7);
});

Deno.test("KeyTable: distinctRandomPositions gives distinct live entries, with holes, both ways", () => {
  const t = new KeyTable<number>(0, false);
  for (let i = 0; i < 700; i++) t.set("k" + i, i);
  for (let i = 0; i < 600; i++) t.delete("k" + i);
  for (const count of [0, 1, 10, 33, 34, 60, 99, 100]) {
    const ps = t.distinctRandomPositions(count);
    assert.equal(ps.length, count);
    assert.equal(new Set(ps).size, count, "distinct");
    for (const p of ps) {
      const k = t.keyAt(p);
      assert.ok(k !== undefined && Number(k.slice(1)) >= 600, `position ${p} is a hole`);
      assert.equal(t.valueAt(p), Number(k.slice(1)));
    }
  }
  // Every live entry can come out (the small-count path draws at random).
  const seen = new Set<number>();
  for (let r = 0; r < 600; r++) for (const p of t.distinctRandomPositions(5)) seen.add(p);
  assert.equal(seen.size, 100);
  assert.equal(t.randomPosition() >= 0, true);
  assert.equal(new KeyTable<number>(0, false).randomPosition(), -1);
});

Deno.test("keytable: a frozen view (shareEntries) keeps the entries as they were through every kind of write", () => {
  const rnd = prng(11);
  for (const words of [false, true]) {
    const t = new KeyTable<string>(0, words);
    const n = 3 * 4096 + 100;
    for (let i = 0; i < n; i++) t.set(`k${i}`, `v${i}`);
    for (let i = 0; i < n; i += 7) t.delete(`k${i}`);
    const read = (f: FrozenEntries<string>) => {
      const out: [string, string][] = [];
      for (let p = f.from; p < f.end; p++) {
        const k = frozenKey(f, p);
        if (k !== undefined) out.push([k, frozenValue(f, p)]);
      }
      return out;
    };
    // From the start, and from the middle of the second chunk (a stream frozen mid-way).
    const whole = [...t.entries()];
    const view = t.shareEntries(0);
    const from = 4096 + 1000;
    const tail: [string, string][] = [];
    for (let p = from; p < n; p++) {
      const k = t.keyAt(p);
      if (k !== undefined) tail.push([k, t.valueAt(p)]);
    }
    const midView = t.shareEntries(from);
    assert.deepEqual(read(view), whole);
    assert.deepEqual(read(midView), tail);
    const model = new Map(whole);
    // Updates, deletes, hole refills and appends, then so many deletes that the table
    // compacts itself (entries move in place).
    for (let j = 0; j < 20_000; j++) {
      const i = Math.floor(rnd() * (n + 2000));
      const r = rnd();
      if (r < 0.4) {
        t.set(`k${i}`, `changed${j}`);
        model.set(`k${i}`, `changed${j}`);
      } else {
        t.delete(`k${i}`);
        model.delete(`k${i}`);
      }
    }
    for (const k of [...model.keys()].slice(200)) {
      t.delete(k);
      model.delete(k);
    }
    t.check();
    assert.deepEqual(new Map(t.entries()), model);
    assert.deepEqual(read(view), whole, `whole view, words ${words}`);
    assert.deepEqual(read(midView), tail, `mid view, words ${words}`);
    t.releaseEntries();
    t.releaseEntries();
    t.set("after", "release");
    assert.equal(t.get("after"), "release");
  }
});
