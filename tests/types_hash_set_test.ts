// Unit tests for src/types/hash.ts and src/types/set.ts: the packed listpack and intset
// forms (layout, order, widths, int64 edges, binary safety), the conversions at the
// configured thresholds, clone independence, and fixed-seed random operation sequences
// checked against simple reference models.
import assert from "node:assert/strict";
import { copyString, HashValue, packElement } from "../src/types/hash.ts";
import { SetValue } from "../src/types/set.ts";
import { KeyTable } from "../src/keyspace/keytable.ts";
import { prng } from "./helpers/prng.ts";

const BIG = { entries: 100000, value: 1 << 20 };

function pairs(h: HashValue): [string, string][] {
  const out: [string, string][] = [];
  h.forEach((f, v) => out.push([f, v]));
  return out;
}

// ---- hash ------------------------------------------------------------------------------

Deno.test("hash: listpack keeps insertion order, updates in place", () => {
  const h = new HashValue();
  assert.equal(h.type, "hash");
  assert.equal(h.encoding(), "listpack");
  assert.equal(h.size, 0);
  assert.equal(h.set("b", "1", BIG), true);
  assert.equal(h.set("a", "2", BIG), true);
  assert.equal(h.set("c", "3", BIG), true);
  assert.equal(h.set("a", "22", BIG), false);
  assert.deepEqual(pairs(h), [["b", "1"], ["a", "22"], ["c", "3"]]);
  assert.equal(h.size, 3);
  assert.equal(h.get("a"), "22");
  assert.equal(h.get("zz"), undefined);
  assert.equal(h.has("c"), true);
  assert.equal(h.valueLength("a"), 2);
  assert.equal(h.valueLength("nope"), -1);
  assert.equal(h.delete("b"), true);
  assert.equal(h.delete("b"), false);
  assert.deepEqual(pairs(h), [["a", "22"], ["c", "3"]]);
  assert.deepEqual([...h.entries()], [["a", "22"], ["c", "3"]]);
  assert.deepEqual(h.flat(), ["a", "22", "c", "3"]);
});

Deno.test("hash: binary-safe and long elements in the packed form", () => {
  const h = new HashValue();
  const long = "x".repeat(300);
  const huge = "\xff\0".repeat(40000);
  h.set("", "empty field", BIG);
  h.set("\0\xff\r\n", "", BIG);
  h.set(long, huge, BIG);
  h.set("a", long, BIG);
  assert.equal(h.encoding(), "listpack");
  assert.equal(h.get(""), "empty field");
  assert.equal(h.get("\0\xff\r\n"), "");
  assert.equal(h.get(long), huge);
  assert.equal(h.get("a"), long);
  // A field equal to a value elsewhere is not found as a field.
  assert.equal(h.has("empty field"), false);
  assert.equal(h.has(huge), false);
  h.set(long, "short", BIG);
  assert.equal(h.get(long), "short");
  assert.deepEqual(pairs(h).map((p) => p[0]), ["", "\0\xff\r\n", long, "a"]);
  assert.equal(packElement("ab"), "\x02ab");
  assert.equal(packElement(long).slice(0, 5), "\xff\x2c\x01\0\0");
});

Deno.test("hash: converts past hash-max-listpack-entries / -value, never back", () => {
  const lim = { entries: 4, value: 8 };
  const h = new HashValue();
  for (let i = 0; i < 4; i++) h.set("f" + i, "v" + i, lim);
  assert.equal(h.encoding(), "listpack");
  h.set("f4", "v4", lim);
  assert.equal(h.encoding(), "hashtable");
  for (let i = 0; i < 5; i++) h.delete("f" + i);
  assert.equal(h.size, 0);
  assert.equal(h.encoding(), "hashtable");

  const v = new HashValue();
  v.set("a", "12345678", lim);
  assert.equal(v.encoding(), "listpack");
  v.set("a", "123456789", lim);
  assert.equal(v.encoding(), "hashtable");
  assert.equal(v.get("a"), "123456789");

  const f = new HashValue();
  f.set("123456789", "x", lim);
  assert.equal(f.encoding(), "hashtable");

  const t = new HashValue();
  t.tryConversion(["hset", "k", "f", "short"], 2, 3, 8);
  assert.equal(t.encoding(), "listpack");
  t.tryConversion(["hset", "k", "f", "longer than 8"], 2, 3, 8);
  assert.equal(t.encoding(), "hashtable");
});

Deno.test("hash: hashtable form, clone and fromPairs", () => {
  const h = new HashValue();
  for (let i = 0; i < 50; i++) h.set("f" + i, "v" + i, BIG);
  h.convert();
  assert.equal(h.encoding(), "hashtable");
  assert.equal(h.size, 50);
  for (let i = 0; i < 50; i += 2) assert.equal(h.delete("f" + i), true);
  assert.equal(h.size, 25);
  for (let i = 1; i < 50; i += 2) assert.equal(h.get("f" + i), "v" + i);
  assert.equal(h.get("f0"), undefined);
  const seen = new Set<string>();
  for (let i = 0; i < 500; i++) seen.add(h.randomPair()[0]);
  assert.equal(seen.size, 25);
  const src = h.scanSource();
  assert.ok(src instanceof KeyTable && src.size === 25);

  const c = h.clone();
  c.set("new", "1", BIG);
  c.delete("f1");
  assert.equal(h.has("new"), false);
  assert.equal(h.get("f1"), "v1");
  assert.equal(c.encoding(), "hashtable");

  const lp = HashValue.fromPairs([["a", "1"], ["b", "2"]], BIG);
  const lc = lp.clone();
  lc.set("a", "changed", BIG);
  assert.equal(lp.get("a"), "1");
  assert.equal(lc.encoding(), "listpack");
  assert.equal(lp.scanSource(), null);
  assert.deepEqual(
    pairs(HashValue.fromPairs([["a", "1"], ["b", "2"], ["c", "3"]], { entries: 2, value: 64 }))
      .length,
    3,
  );
});

Deno.test("hash: random operations match a reference model", () => {
  const rand = prng(0x4a5b);
  const lim = { entries: 24, value: 20 };
  for (let round = 0; round < 30; round++) {
    const h = new HashValue();
    const model = new Map<string, string>();
    for (let step = 0; step < 300; step++) {
      const f = rand() < 0.05
        ? "long-field-name-" + Math.floor(rand() * 5)
        : "f" + Math.floor(rand() * 30);
      const op = rand();
      if (op < 0.5) {
        const v = rand() < 0.03 ? "v".repeat(21) : String(Math.floor(rand() * 1000));
        assert.equal(h.set(f, v, lim), !model.has(f));
        model.set(f, v);
      } else if (op < 0.8) {
        assert.equal(h.delete(f), model.delete(f));
      } else {
        assert.equal(h.get(f), model.get(f));
        assert.equal(h.has(f), model.has(f));
      }
      assert.equal(h.size, model.size);
      if (h.isListpack) {
        // Listpack order is the model's insertion order (Map keeps it, updates in place).
        assert.deepEqual(pairs(h), [...model.entries()]);
      } else {
        assert.deepEqual(new Map(pairs(h)), model);
      }
    }
  }
});

Deno.test("hash: strings taken out of the buffer are standalone copies", () => {
  const s = "abcdefghijklmnopqrstuvwxyz";
  assert.equal(copyString(s.slice(2, 20)), s.slice(2, 20));
  assert.equal(copyString("short"), "short");
  assert.equal(copyString(""), "");
});

// ---- set -------------------------------------------------------------------------------

function members(s: SetValue): string[] {
  const out: string[] = [];
  s.forEach((m) => out.push(m));
  return out;
}

function le(n: number, w: number): string {
  let out = "";
  let b = BigInt.asUintN(w * 8, BigInt(n));
  for (let i = 0; i < w; i++) {
    out += String.fromCharCode(Number(b & 255n));
    b >>= 8n;
  }
  return out;
}

Deno.test("set: intset blob layout and ascending order", () => {
  const s = SetValue.create("5");
  assert.equal(s.type, "set");
  assert.equal(s.encoding(), "intset");
  for (const m of ["5", "1", "3", "-2", "3"]) s.add(m, 512);
  assert.deepEqual(members(s), ["-2", "1", "3", "5"]);
  assert.equal(s.intsetBlob(), le(2, 4) + le(4, 4) + le(-2, 2) + le(1, 2) + le(3, 2) + le(5, 2));
  s.add("70000", 512);
  assert.equal(s.intsetBlob()!.slice(0, 8), le(4, 4) + le(5, 4));
  assert.deepEqual(members(s), ["-2", "1", "3", "5", "70000"]);
  s.add("-5000000000", 512);
  assert.equal(s.intsetBlob()!.slice(0, 8), le(8, 4) + le(6, 4));
  assert.deepEqual(members(s), ["-5000000000", "-2", "1", "3", "5", "70000"]);
  assert.equal(s.intsetBlob()!.length, 8 + 6 * 8);
  // Removing the wide value does not narrow the encoding (Redis never downgrades).
  assert.equal(s.delete("-5000000000"), true);
  assert.equal(s.intsetBlob()!.slice(0, 8), le(8, 4) + le(5, 4));
  assert.equal(s.delete("-5000000000"), false);
});

Deno.test("set: int64 edges and non-canonical integers", () => {
  const s = SetValue.intset();
  const vals = [
    "-9223372036854775808",
    "9223372036854775807",
    "9007199254740993",
    "-9007199254740993",
    "9007199254740992",
    "4294967296",
    "4294967295",
    "-4294967296",
    "-2147483648",
    "2147483647",
    "-32768",
    "32767",
    "-32769",
    "32768",
    "0",
    "-1",
  ];
  for (const v of vals) assert.equal(s.add(v, 512), true);
  for (const v of vals) assert.equal(s.add(v, 512), false);
  const sorted = [...vals].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
  assert.deepEqual(members(s), sorted);
  for (const v of vals) assert.equal(s.has(v), true);
  for (const v of ["01", "+1", " 1", "-0", "1.0", "", "9223372036854775808", "1e3", "0x10"]) {
    assert.equal(s.has(v), false, v);
    assert.equal(s.delete(v), false, v);
  }
  assert.equal(s.encoding(), "intset");
  assert.equal(s.add("01", 512), true);
  assert.equal(s.encoding(), "hashtable");
  assert.equal(s.has("01"), true);
  assert.equal(s.has("1"), false);
  assert.equal(s.has("9223372036854775807"), true);
  assert.equal(s.size, vals.length + 1);
  assert.equal(SetValue.create("x").encoding(), "hashtable");
  assert.equal(SetValue.create("-0").encoding(), "hashtable");
  assert.equal(SetValue.create("-12").encoding(), "intset");
});

Deno.test("set: converts past set-max-intset-entries", () => {
  const s = SetValue.intset();
  for (let i = 0; i < 8; i++) s.add(String(i * 3), 8);
  assert.equal(s.encoding(), "intset");
  s.add("100", 8);
  assert.equal(s.encoding(), "hashtable");
  assert.equal(s.size, 9);
  assert.equal(s.has("21"), true);
  const z = SetValue.create("1");
  z.add("1", 0);
  assert.equal(z.encoding(), "hashtable");
});

Deno.test("set: packed small hashtable form", () => {
  const s = SetValue.create("x");
  assert.equal(s.encoding(), "hashtable");
  assert.equal(s.isIntset, false);
  assert.equal(s.intsetBlob(), null);
  for (const m of ["x", "", "\0\xff", "H", "\x02"]) s.add(m, 512);
  assert.equal(s.add("x", 512), false);
  assert.equal(s.size, 5);
  assert.deepEqual(members(s), ["x", "", "\0\xff", "H", "\x02"]);
  assert.equal(s.has(""), true);
  assert.equal(s.has("\x02"), true);
  assert.equal(s.has("y"), false);
  assert.equal(s.delete("\0\xff"), true);
  assert.equal(s.delete("\0\xff"), false);
  assert.deepEqual(s.toArray(), ["x", "", "H", "\x02"]);
  assert.equal(s.at(2), "H");
  assert.equal(s.scanSource(), null);
  const c = s.clone();
  c.delete("x");
  assert.equal(s.has("x"), true);
  // A long member, or more than 32 members, moves it to the Map form.
  s.add("m".repeat(65), 512);
  assert.ok(s.scanSource() instanceof KeyTable);
  assert.equal(s.size, 5);
  assert.equal(s.has("H"), true);
  const t = SetValue.hashtable();
  for (let i = 0; i < 32; i++) t.add("m" + i, 512);
  assert.equal(t.scanSource(), null);
  t.add("m32", 512);
  assert.ok(t.scanSource() instanceof KeyTable);
  assert.equal(t.size, 33);
  // An intset converted by a string member: packed when small.
  const i = SetValue.create("1");
  i.add("1", 512);
  i.add("2", 512);
  i.add("two", 512);
  assert.equal(i.encoding(), "hashtable");
  assert.equal(i.scanSource(), null);
  assert.deepEqual(members(i).sort(), ["1", "2", "two"]);
});

Deno.test("set: hashtable form, random, clone, fromIntsetBlob", () => {
  const s = SetValue.hashtable();
  for (let i = 0; i < 40; i++) s.add("m" + i, 512);
  for (let i = 0; i < 40; i += 4) s.delete("m" + i);
  assert.equal(s.size, 30);
  const seen = new Set<string>();
  for (let i = 0; i < 1000; i++) seen.add(s.random());
  assert.equal(seen.size, 30);
  assert.deepEqual(members(s).sort(), [...seen].sort());
  const c = s.clone();
  c.add("zz", 512);
  assert.equal(s.has("zz"), false);
  assert.ok(s.scanSource() instanceof KeyTable);

  const i = SetValue.intset();
  for (const m of ["3", "1", "2"]) i.add(m, 512);
  const seenI = new Set<string>();
  for (let k = 0; k < 200; k++) seenI.add(i.random());
  assert.deepEqual([...seenI].sort(), ["1", "2", "3"]);
  assert.equal(i.at(0), "1");
  assert.deepEqual(i.toArray(), ["1", "2", "3"]);
  assert.deepEqual([...i], ["1", "2", "3"]);
  const ic = i.clone();
  ic.delete("1");
  assert.equal(i.size, 3);
  assert.equal(i.scanSource(), null);

  const fm = SetValue.fromMembers(["3", "1", "2"], 512);
  assert.deepEqual([fm.encoding(), fm.toArray()], ["intset", ["1", "2", "3"]]);
  assert.equal(SetValue.fromMembers(["1", "x"], 512).encoding(), "hashtable");
  const fmBig = SetValue.fromMembers(new Set(["1", "2", "3"]), 2);
  assert.equal(fmBig.encoding(), "hashtable");
  assert.equal(fmBig.size, 3);

  const blob = i.intsetBlob()!;
  const back = SetValue.fromIntsetBlob(blob)!;
  assert.deepEqual(members(back), ["1", "2", "3"]);
  assert.equal(SetValue.fromIntsetBlob("bad"), null);
  assert.equal(SetValue.fromIntsetBlob(le(3, 4) + le(0, 4)), null);
  assert.equal(SetValue.fromIntsetBlob(le(2, 4) + le(2, 4) + le(2, 2) + le(1, 2)), null);
  assert.equal(SetValue.fromIntsetBlob(le(2, 4) + le(2, 4) + le(1, 2)), null);
});

Deno.test("set: random operations match a reference model", () => {
  const rand = prng(0x5e7);
  const pool = [
    ...Array.from({ length: 40 }, (_, i) => String(i - 20)),
    "100000",
    "-100000",
    "5000000000",
    "-5000000000",
    "9223372036854775807",
    "-9223372036854775808",
    "a",
    "b",
    "07",
  ];
  for (let round = 0; round < 40; round++) {
    const s = SetValue.create(pool[Math.floor(rand() * 46)]);
    const model = new Set<string>();
    const max = 8 + Math.floor(rand() * 30);
    for (let step = 0; step < 250; step++) {
      const m = rand() < 0.01 ? pool[46 + Math.floor(rand() * 3)] : pool[Math.floor(rand() * 46)];
      const op = rand();
      if (op < 0.55) {
        assert.equal(s.add(m, max), !model.has(m));
        model.add(m);
      } else if (op < 0.85) {
        assert.equal(s.delete(m), model.delete(m));
      } else {
        assert.equal(s.has(m), model.has(m));
      }
      assert.equal(s.size, model.size);
      const got = members(s);
      if (s.isIntset) {
        const want = [...model].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
        assert.deepEqual(got, want);
        assert.ok(model.size <= max);
      } else {
        assert.deepEqual(new Set(got), model);
      }
    }
  }
});
