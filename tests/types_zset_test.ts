/**
 * Unit and randomized model tests for the sorted set structures (src/types/skiplist.ts,
 * src/types/zset.ts): every operation is checked against a plain sorted array, in both
 * encodings, with structural self-checks of the skiplist spans, at up to 100k elements.
 */
import assert from "node:assert/strict";
import { type LexRange, type ScoreRange, SortedIndex } from "../src/types/skiplist.ts";
import {
  addedScore,
  formatScore,
  lpScoreRepr,
  type RangeOut,
  ZADD_GT,
  ZADD_INCR,
  ZADD_LT,
  ZADD_NX,
  ZADD_OUT_ADDED,
  ZADD_OUT_NAN,
  ZADD_OUT_NOP,
  ZADD_OUT_UPDATED,
  ZADD_XX,
  ZSet,
} from "../src/types/zset.ts";
import { prng } from "./helpers/prng.ts";

type Entry = [string, number];

function cmp(a: Entry, b: Entry): number {
  if (a[1] !== b[1]) return a[1] < b[1] ? -1 : 1;
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
}

/** The reference: a Map plus a sort on every read. */
class Model {
  m = new Map<string, number>();
  sorted(): Entry[] {
    return [...this.m.entries()].sort(cmp);
  }
}

function all(z: ZSet): Entry[] {
  const out: Entry[] = [];
  z.forEach((m, s) => {
    out.push([m, s]);
  });
  return out;
}

function pairs(o: RangeOut): Entry[] {
  return o.members.map((m, i) => [m, o.scores[i]]);
}

function out(): RangeOut {
  return { members: [], scores: [] };
}

const BIG = { entries: 1 << 30, value: 1 << 30 };
const SMALL = { entries: 128, value: 64 };

function inScore(s: number, r: ScoreRange): boolean {
  return (r.minex ? s > r.min : s >= r.min) && (r.maxex ? s < r.max : s <= r.max);
}

function inLex(m: string, r: LexRange): boolean {
  const geMin = r.minInf === -1 ? true : r.minInf === 1 ? false : r.minex ? m > r.min : m >= r.min;
  const leMax = r.maxInf === 1 ? true : r.maxInf === -1 ? false : r.maxex ? m < r.max : m <= r.max;
  return geMin && leMax;
}

function randomMember(rnd: () => number, n: number): string {
  // Includes bytes above 0x7f and empty strings: members order by bytes.
  const i = Math.floor(rnd() * n);
  return i === 0 ? "" : "m" + String.fromCharCode(Math.floor(rnd() * 256)) + i;
}

function randomScore(rnd: () => number): number {
  const r = rnd();
  if (r < 0.02) return Infinity;
  if (r < 0.04) return -Infinity;
  if (r < 0.5) return Math.floor(rnd() * 20) - 10;
  return (rnd() - 0.5) * 1000;
}

function randomScoreRange(rnd: () => number): ScoreRange {
  let a = randomScore(rnd);
  let b = randomScore(rnd);
  if (rnd() < 0.8 && a > b) [a, b] = [b, a];
  return { min: a, max: b, minex: rnd() < 0.3, maxex: rnd() < 0.3 };
}

function randomLexRange(rnd: () => number, n: number): LexRange {
  const pick = () => {
    const r = rnd();
    if (r < 0.1) return { v: "", inf: -1, ex: true };
    if (r < 0.2) return { v: "", inf: 1, ex: true };
    return { v: randomMember(rnd, n), inf: 0, ex: rnd() < 0.4 };
  };
  const a = pick();
  const b = pick();
  return { min: a.v, minInf: a.inf, minex: a.ex, max: b.v, maxInf: b.inf, maxex: b.ex };
}

Deno.test("sorted index: insert, delete, update, ranks against a model", () => {
  const rnd = prng(1);
  const t = new SortedIndex();
  const model = new Model();
  for (let step = 0; step < 40000; step++) {
    // Grow, then shrink, then grow again: splits, merges and root collapses all happen.
    const phase = Math.floor(step / 10000) % 2;
    const m = randomMember(rnd, 3000);
    const r = rnd();
    if (r < (phase === 0 ? 0.7 : 0.25)) {
      const s = randomScore(rnd);
      if (model.m.has(m)) t.updateScore(m, model.m.get(m)!, s);
      else t.insert(s, m);
      model.m.set(m, s);
    } else {
      assert.equal(t.delete(m), model.m.delete(m));
    }
    if (step % 1000 === 0) t.check();
  }
  t.check();
  const sorted = model.sorted();
  assert.equal(t.length, sorted.length);
  for (let i = 0; i < sorted.length; i++) {
    const [m, s] = sorted[i];
    assert.equal(t.getRank(s, m), i + 1);
    const c = t.select(i + 1)!;
    assert.equal(c.member, m);
    assert.equal(c.score, s);
  }
  assert.equal(t.select(sorted.length + 1), null);
  assert.equal(t.select(0), null);
  assert.equal(t.getRank(12345.5, "nope"), 0);
  // Drain completely, in random order, checking the shape as it shrinks.
  const members = [...model.m.keys()];
  for (let i = members.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [members[i], members[j]] = [members[j], members[i]];
  }
  members.forEach((m, i) => {
    assert.equal(t.delete(m), true);
    if (i % 97 === 0) t.check();
  });
  t.check();
  assert.equal(t.length, 0);
  assert.equal(t.first(), null);
  t.insert(1, "again");
  t.check();
  assert.equal(t.first()!.member, "again");
});

Deno.test("sorted index: bulk build, cursors and leaf chain", () => {
  for (const n of [0, 1, 47, 48, 49, 2303, 2304, 2305, 120000]) {
    const members: string[] = [];
    const scores: number[] = [];
    for (let i = 0; i < n; i++) {
      members.push("m" + String(i).padStart(7, "0"));
      scores.push(Math.floor(i / 3));
    }
    const t = SortedIndex.fromSorted(members, scores);
    t.check();
    assert.equal(t.length, n);
    if (n === 0) continue;
    let c = t.first()!;
    let k = 0;
    do assert.equal(c.member, members[k++]); while (c.next());
    assert.equal(k, n);
    c = t.last()!;
    do assert.equal(c.member, members[--k]); while (c.prev());
    assert.equal(k, 0);
    // Deleting every other entry exercises merges across a bulk-built tree.
    for (let i = 0; i < n; i += 2) t.delete(members[i]);
    t.check();
    assert.equal(t.length, n >> 1);
  }
});

for (const [name, lim] of [["listpack", SMALL], ["skiplist", BIG]] as const) {
  Deno.test(`zset (${name}): randomized operations against a model`, () => {
    const rnd = prng(name === "listpack" ? 7 : 8);
    const z = new ZSet(name === "skiplist");
    const model = new Model();
    // Listpack runs stay within the listpack limits; members are short.
    const universe = name === "listpack" ? 100 : 600;
    for (let step = 0; step < 6000; step++) {
      const op = rnd();
      const m = randomMember(rnd, universe);
      if (op < 0.4) {
        const s = randomScore(rnd);
        const flagsPick = Math.floor(rnd() * 6);
        const flags = [0, ZADD_NX, ZADD_XX, ZADD_GT, ZADD_LT, ZADD_INCR][flagsPick];
        const cur = model.m.get(m);
        const res = z.add(s, m, flags, lim);
        // Expected outcome per Redis's zsetAdd.
        if (cur === undefined) {
          if (flags === ZADD_XX) assert.equal(res, ZADD_OUT_NOP);
          else {
            assert.equal(res, ZADD_OUT_ADDED);
            assert.equal(addedScore(), s);
            model.m.set(m, name === "listpack" && s === 0 ? 0 : s);
          }
        } else {
          let ns = s;
          if (flags === ZADD_INCR) ns = cur + s;
          if (Number.isNaN(ns)) assert.equal(res, ZADD_OUT_NAN);
          else if (
            flags === ZADD_NX || (flags === ZADD_GT && ns <= cur) ||
            (flags === ZADD_LT && ns >= cur)
          ) {
            assert.equal(res, ZADD_OUT_NOP);
          } else if (ns !== cur) {
            assert.equal(res, ZADD_OUT_UPDATED);
            model.m.set(m, name === "listpack" && ns === 0 ? 0 : ns);
          } else assert.equal(res, 0);
        }
      } else if (op < 0.55) {
        assert.equal(z.delete(m), model.m.delete(m));
      } else if (op < 0.65) {
        const sorted = model.sorted();
        const idx = sorted.findIndex((e) => e[0] === m);
        assert.equal(z.rank(m, false), idx);
        assert.equal(z.rank(m, true), idx === -1 ? -1 : sorted.length - 1 - idx);
        assert.equal(z.score(m), model.m.get(m));
      } else if (op < 0.75) {
        const sorted = model.sorted();
        if (sorted.length === 0) continue;
        let a = Math.floor(rnd() * sorted.length);
        let b = Math.floor(rnd() * sorted.length);
        if (a > b) [a, b] = [b, a];
        const o = out();
        z.rangeByRank(a, b, false, o);
        assert.deepEqual(pairs(o), sorted.slice(a, b + 1));
        const rev = out();
        z.rangeByRank(a, b, true, rev);
        assert.deepEqual(pairs(rev), sorted.slice().reverse().slice(a, b + 1));
      } else if (op < 0.85) {
        const r = randomScoreRange(rnd);
        const sorted = model.sorted();
        const inside = sorted.filter((e) => inScore(e[1], r));
        assert.equal(z.countByScore(r), inside.length);
        const offset = rnd() < 0.3 ? Math.floor(rnd() * 4) : 0;
        const limit = rnd() < 0.3 ? Math.floor(rnd() * 5) : -1;
        const o = out();
        z.rangeByScore(r, false, offset, limit, o);
        const exp = inside.slice(offset, limit < 0 ? undefined : offset + limit);
        assert.deepEqual(pairs(o), exp);
        const rev = out();
        z.rangeByScore(r, true, offset, limit, rev);
        const inv = inside.slice().reverse();
        assert.deepEqual(pairs(rev), inv.slice(offset, limit < 0 ? undefined : offset + limit));
        const neg = out();
        z.rangeByScore(r, false, -1, 10, neg);
        assert.equal(neg.members.length, 0);
      } else if (op < 0.9) {
        const r = randomScoreRange(rnd);
        const before = model.sorted();
        const n = z.deleteRangeByScore(r);
        const gone = before.filter((e) => inScore(e[1], r));
        assert.equal(n, gone.length);
        for (const [gm] of gone) model.m.delete(gm);
      } else if (op < 0.95) {
        const sorted = model.sorted();
        if (sorted.length === 0) continue;
        let a = Math.floor(rnd() * sorted.length);
        let b = Math.floor(rnd() * sorted.length);
        if (a > b) [a, b] = [b, a];
        if (rnd() < 0.8) b = Math.min(b, a + 3);
        assert.equal(z.deleteRangeByRank(a, b), b - a + 1);
        for (const [gm] of sorted.slice(a, b + 1)) model.m.delete(gm);
      } else {
        const e = z.edge(rnd() < 0.5);
        const sorted = model.sorted();
        if (sorted.length === 0) assert.equal(e, undefined);
        else assert.ok(cmp(e!, sorted[0]) === 0 || cmp(e!, sorted[sorted.length - 1]) === 0);
      }
      assert.equal(z.size, model.m.size);
      if (step % 500 === 0) {
        assert.deepEqual(all(z), model.sorted());
        z.zs?.check();
      }
    }
    assert.equal(z.encoding(), name);
    assert.deepEqual(all(z), model.sorted());
  });
}

Deno.test("zset: lex ranges with equal scores, both encodings", () => {
  const rnd = prng(3);
  for (const skip of [false, true]) {
    const z = new ZSet(skip);
    const model = new Model();
    for (let i = 0; i < 120; i++) {
      const m = randomMember(rnd, 400);
      z.add(0, m, 0, SMALL);
      model.m.set(m, 0);
    }
    for (let k = 0; k < 2000; k++) {
      const r = randomLexRange(rnd, 400);
      const sorted = model.sorted();
      const inside = sorted.filter((e) => inLex(e[0], r));
      assert.equal(z.countByLex(r), inside.length, JSON.stringify(r));
      const o = out();
      z.rangeByLex(r, false, 0, -1, o);
      assert.deepEqual(pairs(o), inside);
      const rev = out();
      z.rangeByLex(r, true, 1, 3, rev);
      assert.deepEqual(pairs(rev), inside.slice().reverse().slice(1, 4));
    }
    const r = randomLexRange(rnd, 400);
    const n = z.deleteRangeByLex(r);
    const gone = model.sorted().filter((e) => inLex(e[0], r));
    assert.equal(n, gone.length);
    for (const [gm] of gone) model.m.delete(gm);
    assert.deepEqual(all(z), model.sorted());
  }
});

Deno.test("zset: listpack converts to skiplist at the thresholds and never back", () => {
  const lim = { entries: 4, value: 8 };
  const z = new ZSet();
  for (let i = 0; i < 4; i++) z.add(i, "m" + i, 0, lim);
  assert.equal(z.encoding(), "listpack");
  z.add(9, "m9", 0, lim);
  assert.equal(z.encoding(), "skiplist");
  z.delete("m9");
  z.delete("m0");
  assert.equal(z.encoding(), "skiplist");
  const y = new ZSet();
  y.add(1, "12345678", 0, lim);
  assert.equal(y.encoding(), "listpack");
  y.add(1, "123456789", 0, lim);
  assert.equal(y.encoding(), "skiplist");
  // Updating an existing member never converts.
  const w = new ZSet();
  for (let i = 0; i < 4; i++) w.add(i, "m" + i, 0, lim);
  w.add(100, "m0", 0, lim);
  assert.equal(w.encoding(), "listpack");
  assert.deepEqual(all(w).map((e) => e[0]), ["m1", "m2", "m3", "m0"]);
});

Deno.test("zset: fromSorted picks the encoding Redis's convert-if-needed would", () => {
  const lim = { entries: 3, value: 5 };
  assert.equal(ZSet.fromSorted(["a", "b", "c"], [1, 2, 3], lim).encoding(), "listpack");
  assert.equal(ZSet.fromSorted(["a", "b", "c", "d"], [1, 2, 3, 4], lim).encoding(), "skiplist");
  assert.equal(ZSet.fromSorted(["abcdef"], [1], lim).encoding(), "skiplist");
  const z = ZSet.fromSorted(["a", "b"], [-0, 1], lim);
  assert.ok(Object.is(z.score("a"), 0));
});

Deno.test("zset: listpack stores -0 as 0, skiplist keeps it; ZSCAN score text", () => {
  const lp = new ZSet();
  lp.add(-0, "a", 0, SMALL);
  assert.ok(Object.is(lp.score("a"), 0));
  const sl = new ZSet(true);
  sl.add(-0, "a", 0, SMALL);
  assert.ok(Object.is(sl.score("a"), -0));
  assert.equal(lpScoreRepr(1e17), "100000000000000000");
  assert.equal(lpScoreRepr(4611686018427387904), "4611686018427387904");
  assert.equal(lpScoreRepr(9223372036854775808), "9.2233720368547758e+18");
  assert.equal(lpScoreRepr(0.1), "0.10000000000000001");
  assert.equal(lpScoreRepr(-Infinity), "-inf");
  assert.equal(lpScoreRepr(-3), "-3");
});

Deno.test("zset: clone is deep in both encodings", () => {
  for (const skip of [false, true]) {
    const z = new ZSet(skip);
    for (let i = 0; i < 10; i++) z.add(i, "m" + i, 0, SMALL);
    const c = z.clone();
    z.delete("m1");
    z.add(50, "m2", 0, SMALL);
    assert.equal(c.size, 10);
    assert.equal(c.score("m2"), 2);
    assert.equal(c.encoding(), z.encoding());
    c.zs?.check();
  }
});

Deno.test("zset: random entries cover the set", () => {
  for (const skip of [false, true]) {
    const z = new ZSet(skip);
    for (let i = 0; i < 20; i++) z.add(i, "m" + i, 0, SMALL);
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const [m, s] = z.randomEntry();
      assert.equal(z.score(m), s);
      seen.add(m);
    }
    assert.equal(seen.size, 20);
  }
});

/** First index whose score is >= s. */
function lowerBound(sorted: Entry[], s: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid][1] < s) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

Deno.test("skiplist at scale: 100k elements, ranks, ranges and deletes", () => {
  const rnd = prng(42);
  const z = new ZSet(true);
  const N = 100_000;
  const model = new Map<string, number>();
  for (let i = 0; i < N; i++) {
    const m = "k" + i;
    const s = Math.floor(rnd() * 50_000);
    z.add(s, m, 0, BIG);
    model.set(m, s);
  }
  // Re-score a tenth of them.
  for (let i = 0; i < N / 10; i++) {
    const m = "k" + Math.floor(rnd() * N);
    const s = Math.floor(rnd() * 50_000);
    z.add(s, m, 0, BIG);
    model.set(m, s);
  }
  const sorted = [...model.entries()].sort(cmp);
  assert.equal(z.size, N);
  for (let k = 0; k < 2000; k++) {
    const i = Math.floor(rnd() * N);
    const [m, s] = sorted[i];
    assert.equal(z.rank(m, false), i);
    assert.equal(z.rank(m, true), N - 1 - i);
    const o = out();
    z.rangeByRank(i, Math.min(N - 1, i + 5), false, o);
    assert.deepEqual(pairs(o), sorted.slice(i, i + 6));
    const r = { min: s, max: s + 3, minex: false, maxex: true };
    assert.equal(z.countByScore(r), lowerBound(sorted, s + 3) - lowerBound(sorted, s));
  }
  // Delete a score band and a rank band, then verify everything.
  const band = { min: 10_000, max: 20_000, minex: false, maxex: false };
  const gone = sorted.filter((e) => inScore(e[1], band));
  assert.equal(z.deleteRangeByScore(band), gone.length);
  const rest = sorted.filter((e) => !inScore(e[1], band));
  assert.equal(z.deleteRangeByRank(100, 999), 900);
  rest.splice(100, 900);
  for (let i = 0; i < 20_000; i++) {
    const k = Math.floor(rnd() * rest.length);
    const [m] = rest[k];
    assert.equal(z.delete(m), true);
    rest.splice(k, 1);
  }
  assert.equal(z.size, rest.length);
  z.zs!.check();
  assert.deepEqual(all(z), rest);
});

Deno.test("zset: listpack entries with long members (multi-byte length prefixes)", () => {
  const lim = { entries: 128, value: 1 << 20 };
  const z = new ZSet();
  const lens = [0, 1, 127, 128, 129, 16383, 16384, 300000];
  const model = new Model();
  lens.forEach((n, i) => {
    const m = String.fromCharCode(97 + i).repeat(n) + "\xff";
    z.add(i % 3, m, 0, lim);
    model.m.set(m, i % 3);
  });
  assert.equal(z.encoding(), "listpack");
  assert.deepEqual(all(z), model.sorted());
  for (const [m, s] of model.m) {
    assert.equal(z.score(m), s);
    assert.equal(z.rank(m, false), model.sorted().findIndex((e) => e[0] === m));
  }
  const long = model.sorted()[3][0];
  assert.equal(z.delete(long), true);
  model.m.delete(long);
  assert.deepEqual(all(z), model.sorted());
  const o = out();
  z.rangeByScore({ min: 1, max: 2, minex: false, maxex: false }, true, 0, -1, o);
  assert.deepEqual(pairs(o), model.sorted().filter((e) => e[1] >= 1).reverse());
  z.convertToSkiplist();
  assert.deepEqual(all(z), model.sorted());
});

Deno.test("zset: listpack scores in every stored width read back exactly, in order", () => {
  const lim = { entries: 128, value: 1 << 20 };
  // Each side of the int8 / int16 / half / float32 / double boundaries, and member lengths
  // around the one-byte header (length * 8 + format < 128).
  const scores = [
    0,
    -0,
    1,
    -1,
    127,
    128,
    -128,
    -129,
    32767,
    32768,
    -32768,
    -32769,
    1.5,
    -2.25,
    -0.75,
    65504, // the largest half
    65504.5,
    2049.5, // 12 significant bits: not a half, a float32
    6.103515625e-5, // the smallest normal half
    5.960464477539063e-8, // the smallest subnormal half
    2.98e-8,
    0.1,
    16777216,
    16777217,
    3.4028234663852886e38,
    1e300,
    -1e-300,
    5e-324,
    Infinity,
    -Infinity,
    2 ** 53,
    -(2 ** 53) - 2,
    1 / 3,
  ];
  const lens = [0, 1, 14, 15, 16, 31, 32, 33, 63, 64, 200];
  const r = prng(7);
  for (let round = 0; round < 20; round++) {
    const z = new ZSet();
    const model = new Model();
    scores.forEach((sc, i) => {
      const m = "m".repeat(lens[Math.floor(r() * lens.length)]) + String(i);
      z.add(sc, m, 0, lim);
      model.m.set(m, sc === 0 ? 0 : sc);
    });
    assert.equal(z.encoding(), "listpack");
    assert.deepEqual(all(z), model.sorted());
    for (const [m, sc] of model.m) {
      assert.ok(Object.is(z.score(m), sc), `${m}: ${z.score(m)} !== ${sc}`);
      // An update moves the entry to another width and back.
      z.add(0.5, m, ZADD_INCR, lim);
      assert.equal(z.score(m), sc + 0.5);
      z.add(sc, m, 0, lim);
    }
    assert.deepEqual(all(z), model.sorted());
    const o = out();
    z.rangeByScore({ min: -200, max: 40000, minex: false, maxex: true }, false, 0, -1, o);
    assert.deepEqual(pairs(o), model.sorted().filter((e) => e[1] >= -200 && e[1] < 40000));
    z.convertToSkiplist();
    assert.deepEqual(all(z), model.sorted());
  }
});

Deno.test("zset: fromSortedAs keeps the requested encoding", () => {
  const z = ZSet.fromSortedAs(["a", "b".repeat(100)], [1, 2], true);
  assert.equal(z.encoding(), "listpack");
  assert.equal(z.score("b".repeat(100)), 2);
  const y = ZSet.fromSortedAs(["a"], [1], false);
  assert.equal(y.encoding(), "skiplist");
  y.zs!.check();
});

Deno.test("formatScore is C's %.17g, ties rounded half to even", () => {
  const cases: [number, string][] = [
    [0, "0"],
    [-0, "-0"],
    [1, "1"],
    [-123, "-123"],
    [1.5, "1.5"],
    [0.1, "0.10000000000000001"],
    [0.30000000000000004, "0.30000000000000004"],
    [1e17, "1e+17"],
    [1e16, "10000000000000000"],
    [2 ** 53 + 2, "9007199254740994"],
    [2 ** 56, "72057594037927936"],
    [123456789012345678, "1.2345678901234568e+17"],
    [1e-4, "0.0001"],
    [1e-5, "1.0000000000000001e-05"],
    [5e-324, "4.9406564584124654e-324"],
    [1.7976931348623157e308, "1.7976931348623157e+308"],
    [Infinity, "inf"],
    [-Infinity, "-inf"],
    // Exact ties at the 18th digit: glibc rounds half to even.
    [1 + 2 ** -17, "1.0000076293945312"],
    [1 + 3 * 2 ** -17, "1.0000228881835938"],
    [-(1 + 2 ** -17), "-1.0000076293945312"],
    [(1 + 2 ** -17) * 2 ** 40, "1099520016384"],
  ];
  for (const [d, want] of cases) assert.equal(formatScore(d), want, String(d));
});
