// Unit tests for the pure RDB codecs in src/persistence/rdb: CRC-64, LZF, listpack,
// ziplist, intset, zipmap, the reader (every opcode and encoding, streaming, errors with
// offsets), the writer (encodings, chunks, random round trips), the DEBUG DIGEST
// algorithm and DUMP payloads. Values that only Redis can vouch for (digests, DUMP bytes,
// listpack/intset/LZF blobs from Redis-written files) are pinned here as constants or
// read from shared/fixtures; rdb_fixtures_test.ts checks the rest against a live Redis.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Crc64, crc64, crc64Update } from "../src/persistence/rdb/crc64.ts";
import { lzfCompress, lzfDecompress } from "../src/persistence/rdb/lzf.ts";
import { listpackDecode, listpackEncode, listpackSize } from "../src/persistence/rdb/listpack.ts";
import { ziplistDecode } from "../src/persistence/rdb/ziplist.ts";
import { intsetDecode, intsetEncode } from "../src/persistence/rdb/intset.ts";
import { zipmapDecode } from "../src/persistence/rdb/zipmap.ts";
import { parseRdb, RdbParser, readRdbStream } from "../src/persistence/rdb/reader.ts";
import { concat, encodeObject, RdbWriter, writeRdb } from "../src/persistence/rdb/writer.ts";
import { DatasetDigest, datasetDigest, sha1, valueDigest } from "../src/persistence/rdb/digest.ts";
import {
  decodeDump,
  DUMP_ERR_BAD_FORMAT,
  DUMP_ERR_VERSION_OR_CHECKSUM,
  DumpPayloadError,
  encodeDump,
  encodeDumpLatin1,
  verifyDumpPayload,
} from "../src/persistence/rdb/dump.ts";
import {
  BlobError,
  d2string,
  formatG17,
  latin1,
  latin1Bytes,
  parseDouble,
  RdbError,
  RdbType,
  stringToInt64,
} from "../src/persistence/rdb/types.ts";
import type { RdbEntry, RdbValue } from "../src/persistence/rdb/types.ts";
import { createHash } from "node:crypto";
import { prng } from "./helpers/prng.ts";
import { fromRdbValue } from "../src/persistence/values.ts";
import type { HashValue } from "../src/types/hash.ts";
import type { SetValue } from "../src/types/set.ts";
import type { ZSet } from "../src/types/zset.ts";
import { FIXTURES } from "./helpers/fixtures.ts";

const haveFixtures = existsSync(join(FIXTURES, "README.md"));
const noFixtures = !haveFixtures && Deno.env.get("CI") !== "true";

function fixture(...parts: string[]): Uint8Array {
  const b = readFileSync(join(FIXTURES, ...parts));
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

const bytes = (...xs: number[]) => Uint8Array.from(xs);
const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join(" ");

/** The error `fn` throws (fails if it returns). */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new assert.AssertionError({ message: "expected an error" });
}

function indexOf(hay: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

// ---- CRC-64 ------------------------------------------------------------------------------

Deno.test("crc64: Redis's check value and incremental updates", () => {
  assert.equal(crc64("123456789"), 0xe9c6d914c4b8d9can);
  assert.equal(crc64(""), 0n);
  const data = latin1Bytes("The quick brown fox jumps over the lazy dog".repeat(13));
  const whole = crc64(data);
  for (const step of [1, 3, 7, 8, 9, 64]) {
    const c = new Crc64();
    for (let i = 0; i < data.length; i += step) c.update(data, i, Math.min(data.length, i + step));
    assert.equal(c.value(), whole, `step ${step}`);
  }
  assert.equal(crc64Update(crc64Update(0n, data, 0, 100), data, 100), whole);
  const le = new Uint8Array(8);
  new Crc64().update(latin1Bytes("123456789")).writeLE(le, 0);
  assert.equal(hex(le), "ca d9 b8 c4 14 d9 c6 e9");
});

// ---- LZF ---------------------------------------------------------------------------------

Deno.test("lzf: round trips, gives up without gain, refuses corrupt streams", () => {
  const rnd = prng(1);
  for (const len of [5, 21, 100, 1000, 8191, 8192, 70000]) {
    for (const kind of ["text", "runs", "random"]) {
      const d = new Uint8Array(len);
      for (let i = 0; i < len; i++) {
        d[i] = kind === "text"
          ? "abcdefgh "[Math.floor(rnd() * 9)].charCodeAt(0)
          : kind === "runs"
          ? (i >> 5) & 3
          : Math.floor(rnd() * 256);
      }
      const c = lzfCompress(d, 0, len, len + (len >> 4) + 64); // room to always succeed
      assert.ok(c, `${kind} ${len}`);
      assert.deepEqual(lzfDecompress(c, 0, c.length, len), d, `${kind} ${len}`);
      const gain = lzfCompress(d);
      if (gain) assert.ok(gain.length <= len - 4);
    }
  }
  assert.equal(lzfCompress(latin1Bytes("abcd")), null); // 4 bytes or less: never
  assert.equal(lzfCompress(latin1Bytes("abcdefghijklmnopqrstuvwxyz")), null); // no gain
  assert.ok(lzfCompress(latin1Bytes("a".repeat(21))));
  // Sub-range input.
  const big = latin1Bytes("xx" + "hello ".repeat(20) + "yy");
  const c = lzfCompress(big, 2, big.length - 2)!;
  assert.equal(latin1(lzfDecompress(c, 0, c.length, 120), 0, 120), "hello ".repeat(20));
  // Corrupt streams.
  assert.throws(() => lzfDecompress(bytes(0x05, 1, 2), 0, 3, 6), BlobError); // literal past end
  assert.throws(() => lzfDecompress(bytes(0x00, 0x61, 0x20, 0x05), 0, 4, 5), BlobError); // before start
  assert.throws(() => lzfDecompress(bytes(0x01, 0x61, 0x62), 0, 3, 5), /decompresses to 2 bytes/);
  assert.throws(() => lzfDecompress(bytes(0x00, 0x61, 0xe0), 0, 3, 20), /cut short/);
});

Deno.test({
  name: "lzf: Redis-made LZF strings decompress, and we compress them to the same bytes",
  ignore: noFixtures,
  fn() {
    const file = fixture("redis-7.0.15", "rdb-default", "dump.rdb");
    const expected = JSON.parse(
      new TextDecoder().decode(fixture("redis-7.0.15", "rdb-default", "expected.json")),
    );
    for (const key of ["str:lzf", "str:big", "hash:longval"]) {
      const at = indexOf(file, latin1Bytes(String.fromCharCode(key.length) + key));
      assert.ok(at > 0, key);
      let p = at + 1 + key.length;
      if (key === "hash:longval") p += 1 + 1 + 1; // count, field "f"
      assert.equal(file[p], 0xc3, `${key} is LZF in the file`);
      const lens: number[] = [];
      p++;
      for (let i = 0; i < 2; i++) {
        const b = file[p];
        if (b >> 6 === 0) lens.push(b), p += 1;
        else if (b >> 6 === 1) lens.push(((b & 0x3f) << 8) | file[p + 1]), p += 2;
        else {lens.push(
            (file[p + 1] << 24) | (file[p + 2] << 16) | (file[p + 3] << 8) | file[p + 4],
          ),
            p += 5;}
      }
      const [clen, len] = lens;
      const redisBytes = file.subarray(p, p + clen);
      const value = latin1(lzfDecompress(redisBytes, 0, clen, len), 0, len);
      const exp = key === "hash:longval"
        ? expected.dbs["0"][key].value.f
        : expected.dbs["0"][key].value;
      assert.equal(value, exp, key);
      assert.equal(hex(lzfCompress(latin1Bytes(value))!), hex(redisBytes), key);
    }
  },
});

// ---- listpack ----------------------------------------------------------------------------

Deno.test("listpack: Redis's integer encodings, string lengths and backlens", () => {
  assert.equal(hex(listpackEncode(["a", "1"])), "0c 00 00 00 02 00 81 61 02 01 01 ff");
  assert.equal(hex(listpackEncode([])), "07 00 00 00 00 00 ff");
  const cases: [string, string][] = [
    ["0", "00 01"],
    ["127", "7f 01"],
    ["128", "c0 80 02"],
    ["-1", "df ff 02"],
    ["4095", "cf ff 02"],
    ["-4096", "d0 00 02"],
    ["4096", "f1 00 10 03"],
    ["-32768", "f1 00 80 03"],
    ["32768", "f2 00 80 00 04"],
    ["-8388608", "f2 00 00 80 04"],
    ["8388608", "f3 00 00 80 00 05"],
    ["-2147483648", "f3 00 00 00 80 05"],
    ["2147483648", "f4 00 00 00 80 00 00 00 00 09"],
    ["9223372036854775807", "f4 ff ff ff ff ff ff ff 7f 09"],
    ["-9223372036854775808", "f4 00 00 00 00 00 00 00 80 09"],
    ["9007199254740993", "f4 01 00 00 00 00 00 20 00 09"],
    // Not canonical: stored as strings.
    ["9223372036854775808", "93 39 32 32 33 33 37 32 30 33 36 38 35 34 37 37 35 38 30 38 14"],
    ["007", "83 30 30 37 04"],
    ["-0", "82 2d 30 03"],
    ["+1", "82 2b 31 03"],
    [" 1", "82 20 31 03"],
    ["", "80 01"],
  ];
  for (const [s, enc] of cases) {
    const lp = listpackEncode([s]);
    assert.equal(hex(lp.subarray(6, lp.length - 1)), enc, JSON.stringify(s));
    assert.deepEqual(listpackDecode(lp), [s]);
    assert.equal(listpackSize([s]), lp.length);
  }
  for (const n of [63, 64, 127, 128, 4095, 4096, 16382, 16383, 70000]) {
    const s = "x".repeat(n);
    const lp = listpackEncode([s, "y"]);
    assert.deepEqual(listpackDecode(lp), [s, "y"], `length ${n}`);
    const head = n < 64 ? 1 : n < 4096 ? 2 : 5;
    const entry = head + n;
    const back = entry <= 127 ? 1 : entry < 16383 ? 2 : 3;
    assert.equal(lp.length, 6 + entry + back + 3 + 1, `length ${n}`);
  }
  // The header count saturates at 65535 ("unknown", entries get counted).
  const many = Array.from({ length: 70000 }, (_, i) => String(i % 100));
  const lp = listpackEncode(many);
  assert.equal(lp[4] | (lp[5] << 8), 65535);
  assert.deepEqual(listpackDecode(lp), many);
  const bin = Array.from({ length: 256 }, (_, i) => String.fromCharCode(i)).join("");
  assert.deepEqual(listpackDecode(listpackEncode([bin, "\xff"])), [bin, "\xff"]);
});

Deno.test("listpack: validation names what does not add up", () => {
  const good = listpackEncode(["hello", "12345", "x".repeat(200)]);
  const mutate = (f: (b: Uint8Array) => void) => {
    const b = good.slice();
    f(b);
    return thrown(() => listpackDecode(b));
  };
  let e = thrown(() => listpackDecode(good.subarray(0, good.length - 2)));
  assert.match(e.message, /listpack header says \d+ bytes but blob has \d+/);
  e = mutate((b) => b[b.length - 1] = 0);
  assert.match(e.message, /does not end with the 0xff terminator/);
  e = mutate((b) => b[4] = 2);
  assert.match(e.message, /header says 2 elements but it holds 3/);
  e = mutate((b) => b[6] = 0xf5);
  assert.match(e.message, /invalid encoding byte 0xf5/);
  e = mutate((b) => b[6 + 6] = 9); // backlen of "hello"
  assert.match(e.message, /entry 0 has a bad backlen/);
  e = mutate((b) => {
    b[17] = 0xef; // the 200-byte string now claims 4095 bytes
    b[18] = 0xff;
  });
  assert.match(e.message, /entry at byte 17 \(4097 bytes\) runs past the terminator/);
  assert.ok(e instanceof BlobError && e.at === 17);
  e = thrown(() => listpackDecode(bytes(1, 2, 3)));
  assert.match(e.message, /shorter than its header/);
});

Deno.test({
  name: "listpack + intset: our blobs are byte-identical to the ones Redis wrote",
  ignore: noFixtures,
  fn() {
    for (const scenario of ["rdb-nocompress"]) {
      const raw = fixture("redis-7.0.15", scenario, "dump.rdb");
      const file = parseRdb(raw, { listNodes: true });
      let checked = 0;
      for (const e of file.entries) {
        const v = e.value;
        const blobs: Uint8Array[] = [];
        if (v.type === "hash" && v.encoding === "listpack") {
          blobs.push(listpackEncode(v.entries.flat()));
        }
        if (v.type === "zset" && v.encoding === "listpack") {
          blobs.push(listpackEncode(v.entries.flatMap(([m, s]) => [m, d2string(s)])));
        }
        if (v.type === "set" && v.encoding === "intset") blobs.push(intsetEncode(v.members)!);
        if (v.type === "list" && scenario === "rdb-nocompress") {
          for (const n of v.nodes!) if (n.length > 1) blobs.push(listpackEncode(n));
        }
        for (const b of blobs) {
          assert.ok(indexOf(raw, b) > 0, `${scenario} ${e.key}: ${hex(b.subarray(0, 24))}...`);
          checked++;
        }
      }
      assert.ok(checked >= 5, `${scenario}: ${checked} blobs`);
    }
  },
});

// ---- ziplist -----------------------------------------------------------------------------

/** Builds a ziplist from entries' encoding+data bytes (prevlen and header computed). */
function ziplist(encs: number[][], opts: { count?: number; tail?: number } = {}): Uint8Array {
  const body: number[] = [];
  let prev = 0;
  let tail = 10;
  for (const e of encs) {
    tail = 10 + body.length;
    const pl = prev < 254
      ? [prev]
      : [0xfe, prev & 0xff, (prev >> 8) & 0xff, (prev >> 16) & 0xff, prev >>> 24];
    body.push(...pl, ...e);
    prev = pl.length + e.length;
  }
  const total = 10 + body.length + 1;
  const count = opts.count ?? encs.length;
  const t = opts.tail ?? tail;
  return Uint8Array.from([
    total & 0xff,
    total >> 8,
    total >> 16,
    total >>> 24,
    t & 0xff,
    t >> 8,
    0,
    0,
    count & 0xff,
    count >> 8,
    ...body,
    0xff,
  ]);
}

const zlStr = (s: string) =>
  s.length < 64
    ? [s.length, ...latin1Bytes(s)]
    : s.length < 16384
    ? [0x40 | (s.length >> 8), s.length & 0xff, ...latin1Bytes(s)]
    : [
      0x80,
      s.length >>> 24,
      (s.length >> 16) & 0xff,
      (s.length >> 8) & 0xff,
      s.length & 0xff,
      ...latin1Bytes(s),
    ];

Deno.test("ziplist: every entry encoding, long prevlens, and validation", () => {
  const long = "L".repeat(300);
  const huge = "H".repeat(17000);
  const zl = ziplist([
    zlStr("a"),
    zlStr(long),
    [0xfe, 0x80], // int8 -128
    [0xc0, 0x00, 0x80], // int16 -32768
    [0xf0, 0xff, 0xff, 0x7f], // int24 8388607
    [0xd0, 0x00, 0x00, 0x00, 0x80], // int32 -2147483648
    [0xe0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f], // int64 max
    [0xf1], // 0
    [0xfd], // 12
    zlStr(huge),
    zlStr(""),
  ]);
  assert.deepEqual(ziplistDecode(zl), [
    "a",
    long,
    "-128",
    "-32768",
    "8388607",
    "-2147483648",
    "9223372036854775807",
    "0",
    "12",
    huge,
    "",
  ]);
  assert.deepEqual(ziplistDecode(ziplist([])), []);
  // A count of 65535 means "count them".
  assert.deepEqual(ziplistDecode(ziplist([zlStr("x")], { count: 65535 })), ["x"]);
  assert.match(
    thrown(() => ziplistDecode(ziplist([zlStr("x")], { count: 2 }))).message,
    /header says 2 entries but it holds 1/,
  );
  assert.match(
    thrown(() => ziplistDecode(ziplist([zlStr("x"), zlStr("y")], { tail: 10 }))).message,
    /tail offset says 10 but the last entry starts at 13/,
  );
  const bad = ziplist([zlStr("x"), zlStr("y")]);
  bad[13] = 5; // prevlen of the second entry
  assert.match(
    thrown(() => ziplistDecode(bad)).message,
    /entry 1 says the previous entry is 5 bytes but it is 3/,
  );
  const badEnc = ziplist([[0xc5]]);
  assert.match(thrown(() => ziplistDecode(badEnc)).message, /invalid encoding byte 0xc5/);
  const over = ziplist([zlStr("abc")]);
  over[11] = 9;
  assert.match(thrown(() => ziplistDecode(over)).message, /runs past the terminator/);
  assert.match(thrown(() => ziplistDecode(zl.subarray(0, 5))).message, /shorter than its header/);
});

// ---- intset ------------------------------------------------------------------------------

Deno.test("intset: widths, order, validation", () => {
  assert.equal(hex(intsetEncode(["3", "-1", "2"])!), "02 00 00 00 03 00 00 00 ff ff 02 00 03 00");
  assert.equal(intsetEncode(["1", "a"]), null);
  assert.equal(intsetEncode(["01"]), null);
  const w4 = intsetEncode(["70000", "1"])!;
  assert.equal(w4[0], 4);
  assert.deepEqual(intsetDecode(w4), ["1", "70000"]);
  const w8 = intsetEncode(["-9223372036854775808", "9223372036854775807", "0", "4294967296"])!;
  assert.equal(w8[0], 8);
  assert.deepEqual(intsetDecode(w8), [
    "-9223372036854775808",
    "0",
    "4294967296",
    "9223372036854775807",
  ]);
  assert.throws(() => intsetEncode(["1", "1"]), /duplicate/);
  assert.match(thrown(() => intsetDecode(bytes(2, 0, 0, 0, 0, 0, 0, 0))).message, /empty/);
  assert.match(
    thrown(() => intsetDecode(bytes(3, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0))).message,
    /invalid encoding 3/,
  );
  assert.match(
    thrown(() => intsetDecode(bytes(2, 0, 0, 0, 2, 0, 0, 0, 1, 0))).message,
    /header says 2 members/,
  );
  assert.match(
    thrown(() => intsetDecode(bytes(2, 0, 0, 0, 2, 0, 0, 0, 5, 0, 5, 0))).message,
    /member 1 is not greater/,
  );
  const w8bad = w8.slice();
  w8bad.set(w8.subarray(16, 24), 8); // two equal members
  assert.match(thrown(() => intsetDecode(w8bad)).message, /member 1 is not greater/);
});

// ---- zipmap ------------------------------------------------------------------------------

Deno.test("zipmap: pairs, free bytes, long lengths, validation", () => {
  const long = "v".repeat(300);
  const zm = bytes(
    2,
    2,
    ...latin1Bytes("f1"),
    2,
    3,
    ...latin1Bytes("v1"),
    0,
    0,
    0, // 3 free bytes
    254,
    2,
    0,
    0,
    0,
    ...latin1Bytes("f2"),
    254,
    44,
    1,
    0,
    0,
    0,
    ...latin1Bytes(long),
    0xff,
  );
  assert.deepEqual(zipmapDecode(zm), [["f1", "v1"], ["f2", long]]);
  const unknownCount = zm.slice();
  unknownCount[0] = 254;
  assert.equal(zipmapDecode(unknownCount).length, 2);
  const wrongCount = zm.slice();
  wrongCount[0] = 3;
  assert.match(
    thrown(() => zipmapDecode(wrongCount)).message,
    /header says 3 pairs but it holds 2/,
  );
  assert.match(thrown(() => zipmapDecode(bytes(0, 0xff))).message, /empty/);
  assert.match(
    thrown(() => zipmapDecode(bytes(1, 9, 0x61, 0xff))).message,
    /runs past the terminator/,
  );
  assert.match(thrown(() => zipmapDecode(bytes(1, 1, 0x61))).message, /terminator/);
});

// ---- reader ------------------------------------------------------------------------------

/** A handmade RDB: magic, body, EOF and (version >= 5) the CRC. */
function rdbFile(version: number, body: number[], checksum = true): Uint8Array {
  const head = [...latin1Bytes("REDIS" + String(version).padStart(4, "0"))];
  const out = Uint8Array.from([
    ...head,
    ...body,
    0xff,
    ...(version >= 5 ? [0, 0, 0, 0, 0, 0, 0, 0] : []),
  ]);
  if (version >= 5 && checksum) {
    new Crc64().update(out, 0, out.length - 8).writeLE(out, out.length - 8);
  }
  return out;
}
const s = (x: string) => {
  assert.ok(x.length < 64, "s() writes 6-bit lengths only");
  return [x.length, ...latin1Bytes(x)];
};

Deno.test("reader: RDB v1-era types (plain list/set/zset/hash, EXPIRETIME, ASCII doubles)", () => {
  const body = [
    0xfe,
    0, // SELECTDB 0
    0xfd,
    0x00,
    0xb2,
    0xd0,
    0x5e, // EXPIRETIME: seconds, int32 little-endian
    0,
    ...s("k"),
    ...s("v"),
    1,
    ...s("list"),
    2,
    ...s("a"),
    0xc0,
    0xf6, // list: "a", int8 -10
    2,
    ...s("set"),
    2,
    0xc1,
    0x39,
    0x30,
    ...s("b"), // set: int16 12345, "b"
    3,
    ...s("zset"),
    4,
    ...s("w"),
    3,
    ...latin1Bytes("2.5"),
    ...s("x"),
    255,
    ...s("y"),
    254,
    ...s("z"),
    4,
    ...latin1Bytes("-0.5"),
    4,
    ...s("hash"),
    1,
    ...s("f"),
    0xc2,
    0x00,
    0x94,
    0x35,
    0x77, // int32 2000000000
    0xfe,
    5,
    0,
    0xc0,
    7,
    ...s("in db 5"),
  ];
  const f = parseRdb(rdbFile(1, body));
  assert.equal(f.version, 1);
  assert.equal(f.checksum, undefined);
  const expire = 0x5ed0b200 * 1000;
  assert.deepEqual(f.entries, [
    { db: 0, key: "k", value: { type: "string", value: "v" }, expireAtMs: expire },
    { db: 0, key: "list", value: { type: "list", items: ["a", "-10"], encoding: "quicklist" } },
    { db: 0, key: "set", value: { type: "set", members: ["12345", "b"], encoding: "hashtable" } },
    {
      db: 0,
      key: "zset",
      value: {
        type: "zset",
        entries: [["x", -Infinity], ["z", -0.5], ["w", 2.5], ["y", Infinity]],
        encoding: "skiplist",
      },
    },
    {
      db: 0,
      key: "hash",
      value: { type: "hash", entries: [["f", "2000000000"]], encoding: "hashtable" },
    },
    { db: 5, key: "7", value: { type: "string", value: "in db 5" } },
  ]);
  // A NaN score (length byte 253) is refused, naming the key.
  const nan = rdbFile(1, [3, ...s("zn"), 1, ...s("m"), 253]);
  assert.match(
    thrown(() => parseRdb(nan)).message,
    /reading key "zn": sorted set member "m" has NaN score/,
  );
});

Deno.test("reader: lengths, LZF strings, opcodes, AUX, functions, module AUX", () => {
  const long = "q".repeat(70000);
  const lzfSrc = "abc".repeat(20);
  const lz = lzfCompress(latin1Bytes(lzfSrc))!;
  const zset2 = new Uint8Array(new Float64Array([1.25]).buffer);
  const moduleId = [0x81, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0];
  const body = [
    0xfa,
    ...s("redis-ver"),
    ...s("7.0.15"),
    0xfa,
    ...s("redis-bits"),
    0xc0,
    64,
    0xf5,
    ...s("#!lua name=x\nredis.register_function('f', f)"),
    0xf6,
    ...s("lib"),
    ...s("LUA"),
    1,
    ...s("description"),
    ...s("code()"),
    0xf7,
    ...moduleId,
    2,
    2,
    2,
    5,
    5,
    ...s("blob"),
    4,
    0,
    0,
    0,
    0,
    0,
    0,
    0xf0,
    0x3f,
    3,
    0,
    0,
    0x80,
    0x3f,
    1,
    0x81,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    1,
    0,
    0xfe,
    3,
    0xfb,
    0x40,
    100,
    7,
    0xf8,
    0x81,
    0,
    0,
    0,
    1,
    0,
    0,
    0,
    0, // IDLE, a 64-bit length: 2^32
    0xf9,
    200, // FREQ
    0xfc,
    0x10,
    0x32,
    0x54,
    0x76,
    0x98,
    0x01,
    0,
    0, // EXPIRETIME_MS
    0,
    ...s("long"),
    0x80,
    0,
    1,
    0x11,
    0x70,
    ...latin1Bytes(long),
    0,
    ...s("lzf"),
    0xc3,
    lz.length,
    lzfSrc.length,
    ...lz,
    0,
    0xc1,
    0xff,
    0x7f,
    0x41,
    0x41,
    ...latin1Bytes("x".repeat(0x141)),
    5,
    ...s("z2"),
    1,
    ...s("m"),
    ...zset2,
  ];
  const warnings: string[] = [];
  const functions: string[] = [];
  const resize: number[][] = [];
  const f = parseRdb(rdbFile(10, body), {
    onWarning: (m) => warnings.push(m),
    onFunction: (c) => functions.push(c),
    onResizeDb: (db, k, e) => resize.push([db, k, e]),
  });
  assert.deepEqual([...f.aux], [["redis-ver", "7.0.15"], ["redis-bits", "64"]]);
  assert.equal(functions[0].slice(0, 13), "#!lua name=x\n");
  assert.equal(functions[1], "#!LUA name=lib\ncode()");
  assert.deepEqual(resize, [[3, 100, 7]]);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /skipping AUX data of module '[A-Za-z0-9_-]{9}'/);
  assert.equal(f.entries.length, 4);
  const [e1, e2, e3, e4] = f.entries;
  assert.deepEqual(e1, {
    db: 3,
    key: "long",
    value: { type: "string", value: long },
    expireAtMs: 0x0198_7654_3210,
    lruIdle: 2 ** 32,
    lfuFreq: 200,
  });
  assert.deepEqual(e2.value, { type: "string", value: lzfSrc });
  assert.equal(e2.expireAtMs, undefined); // per-key state resets
  assert.deepEqual(e3, {
    db: 3,
    key: "32767",
    value: { type: "string", value: "x".repeat(0x141) },
  });
  assert.deepEqual(e4.value, { type: "zset", entries: [["m", 1.25]], encoding: "skiplist" });
  // Without onFunction, functions are skipped with a warning.
  const w2: string[] = [];
  parseRdb(rdbFile(10, body), { onWarning: (m) => w2.push(m) });
  assert.equal(w2.filter((m) => m.includes("function library")).length, 2);
});

Deno.test("reader: errors name the offset and the key", () => {
  const expectError = (body: number[], re: RegExp, version = 10) => {
    const e = thrown(() => parseRdb(rdbFile(version, body)));
    assert.ok(e instanceof RdbError, String(e));
    assert.match(e.message, re);
    return e;
  };
  expectError(
    [15, ...s("stream"), 0],
    /^RDB error at offset 17 reading key "stream": value type stream-listpacks \(15\) is not supported$/,
  );
  expectError([19, ...s("s2")], /reading key "s2": value type stream-listpacks-2 \(19\)/);
  expectError(
    [7, ...s("mod"), 0x81, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0],
    /reading key "mod": value type module-2 \(7\) of module '.{9}' is not supported/,
  );
  expectError([8, ...s("k")], /^RDB error at offset 9: unknown value type 8$/);
  expectError([0xf0], /^RDB error at offset 9: unknown value type 240$/);
  // SLOT_INFO (7.4) is three lengths, skipped.
  assert.equal(parseRdb(rdbFile(12, [0xf4, 1, 2, 3, 0, ...s("k"), ...s("v")])).entries.length, 1);
  expectError([0, ...s("k"), 0xc5], /reading key "k": unknown string encoding 5/);
  expectError([0xfe, 16], /selects db 16 but only 16 databases/);
  expectError(
    [2, ...s("dup"), 2, ...s("a"), ...s("a")],
    /reading key "dup": duplicate set member "a"/,
  );
  expectError(
    [4, ...s("h"), 2, ...s("f"), ...s("1"), ...s("f"), ...s("2")],
    /duplicate hash field "f"/,
  );
  // Past 8 members the check takes another path (a Set instead of pairwise compares).
  const ten = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "c"].flatMap((m) => s(m));
  expectError([2, ...s("big"), 10, ...ten], /reading key "big": duplicate set member "c"/);
  expectError(
    [16, ...s("h"), ...s("\x08\x00\x00\x00\x00\x00\xff")],
    /^RDB error at offset 13 reading key "h": hash-listpack integrity check failed: listpack header says 8 bytes but blob has 7$/,
  );
  const lp = listpackEncode(["a", "1", "b"]);
  expectError([16, ...s("odd"), lp.length, ...lp], /hash blob has an odd number of elements/);
  const zlp = listpackEncode(["m", "x"]);
  expectError([17, ...s("zs"), zlp.length, ...zlp], /score "x", not a number/);
  expectError([18, ...s("ql"), 1, 3, ...s("x")], /quicklist node 0 has unknown container 3/);
  expectError([18, ...s("ql"), 1, 2, 0], /quicklist node 0 is empty/);
  expectError(
    [0, ...s("k"), 0xc3, 3, 10, 0x01, 0x61, 0x62],
    /reading key "k": invalid LZF compressed string/,
  );
  // Header problems.
  assert.match(
    thrown(() => parseRdb(latin1Bytes("RUDIS0010\xff"))).message,
    /^RDB error at offset 0: not an RDB file/,
  );
  assert.match(
    thrown(() => parseRdb(latin1Bytes("REDIS0013\xff"))).message,
    /^RDB error at offset 5: can't handle RDB format version "0013"/,
  );
  // Checksum.
  const good = rdbFile(10, [0, ...s("k"), ...s("v")]);
  const bad = good.slice();
  bad[bad.length - 1] ^= 1;
  assert.match(
    thrown(() => parseRdb(bad)).message,
    /^RDB error at offset 15: wrong RDB checksum: the file says 0x[0-9a-f]{16} but the data hashes to 0x[0-9a-f]{16}$/,
  );
  assert.equal(parseRdb(bad, { verifyChecksum: false }).entries.length, 1);
  const zero = rdbFile(10, [0, ...s("k"), ...s("v")], false);
  const warnings: string[] = [];
  assert.equal(parseRdb(zero, { onWarning: (m) => warnings.push(m) }).checksum!.stored, 0n);
  assert.match(warnings[0], /checksum disabled/);
});

Deno.test("reader: truncation anywhere is an error with an offset, never a partial success", () => {
  const file = writeRdb(randomDataset(3, 60), { ctime: 1, usedMem: 1 });
  for (let cut = 0; cut < file.length; cut += Math.max(1, Math.floor(cut / 9))) {
    const e = thrown(() => parseRdb(file.subarray(0, cut)));
    assert.ok(e instanceof RdbError, `cut at ${cut}: ${e}`);
    assert.match(e.message, /unexpected end of file/, `cut at ${cut}`);
    assert.ok(e.offset <= cut, `cut at ${cut}: offset ${e.offset}`);
  }
  const e = thrown(() => parseRdb(file.subarray(0, file.length - 20))) as RdbError;
  assert.ok(e.key !== undefined, "a cut inside a key names it");
  assert.match(e.message, / reading key /);
});

Deno.test("reader: feeding chunks of any size gives the same entries, offset and rest", async () => {
  const data = randomDataset(5, 200);
  const file = writeRdb(data);
  const tail = latin1Bytes("*1\r\n$4\r\nPING\r\n");
  const withTail = concat([file, tail]);
  const whole = parseRdb(withTail);
  assert.equal(whole.end, file.length);
  for (const size of [1, 2, 7, 100, 4096, 1 << 20]) {
    const p = new RdbParser();
    const got: RdbEntry[] = [];
    for (let i = 0; i < withTail.length; i += size) {
      p.push(withTail.subarray(i, i + size));
      for (let e = p.next(); e; e = p.next()) got.push(e);
      if (p.done) break;
    }
    p.finish();
    for (let e = p.next(); e; e = p.next()) got.push(e);
    assert.ok(p.done, `chunk ${size}`);
    assert.deepEqual(got, whole.entries, `chunk ${size}`);
    assert.equal(p.offset, file.length, `chunk ${size}`);
    assert.ok(p.rest().length <= tail.length);
  }
  // The async stream form.
  async function* chunks() {
    for (let i = 0; i < file.length; i += 999) yield file.subarray(i, i + 999);
  }
  const streamed: RdbEntry[] = [];
  for await (const e of readRdbStream(chunks())) streamed.push(e);
  assert.deepEqual(streamed, whole.entries);
});

Deno.test("reader: a pushed chunk is never modified", () => {
  const file = writeRdb(randomDataset(9, 50));
  const copy = file.slice();
  const p = new RdbParser();
  for (let i = 0; i < file.length; i += 333) {
    p.push(file.subarray(i, i + 333));
    while (p.next());
  }
  assert.deepEqual(file, copy);
});

// ---- writer ------------------------------------------------------------------------------

/** A random dataset with every type, encoding hint, binary data and TTLs in 16 dbs. */
function randomDataset(seed: number, keys: number): RdbEntry[] {
  const rnd = prng(seed);
  const int = (n: number) => Math.floor(rnd() * n);
  const str = () => {
    switch (int(6)) {
      case 0:
        return String(int(2 ** 31) - 2 ** 30);
      case 1:
        return String(BigInt.asIntN(64, BigInt(int(2 ** 32)) * BigInt(int(2 ** 32))));
      case 2:
        return "abc".repeat(int(40));
      case 3: {
        let s = "";
        for (let i = int(30); i > 0; i--) s += String.fromCharCode(int(256));
        return s;
      }
      case 4:
        return "";
      default:
        return "k" + int(1000);
    }
  };
  const uniq = (n: number, f: () => string) => {
    const set = new Set<string>();
    for (let i = 0; i < n * 3 && set.size < n; i++) set.add(f());
    return [...set];
  };
  const out: RdbEntry[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < keys; i++) {
    const db = int(16);
    const key = str() + ":" + i;
    if (seen.has(`${db}/${key}`)) continue;
    seen.add(`${db}/${key}`);
    let value: RdbValue;
    const n = 1 + int(int(4) === 0 ? 600 : 12);
    switch (int(5)) {
      case 0:
        value = { type: "string", value: int(20) === 0 ? "z".repeat(5000 + int(90000)) : str() };
        break;
      case 1:
        value = { type: "list", items: Array.from({ length: n }, str), encoding: "quicklist" };
        break;
      case 2: {
        const ints = int(2) === 0;
        const members = uniq(n, ints ? () => String(int(2 ** 40) - 2 ** 39) : str);
        value = ints && members.length <= 512
          ? {
            type: "set",
            members: members.sort((a, b) => Number(a) - Number(b)),
            intset: true,
            encoding: "intset",
          }
          : { type: "set", members, encoding: "hashtable" };
        break;
      }
      case 3: {
        const entries = uniq(n, str).map((m) => {
          const r = int(5);
          const score = r === 0
            ? int(100)
            : r === 1
            ? (rnd() - 0.5) * 1e6
            : r === 2
            ? [Infinity, -Infinity, 0.1][int(3)]
            : int(3) - 1;
          return [m, score] as [string, number];
        });
        entries.sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
        value = {
          type: "zset",
          entries,
          encoding: entries.length <= 128 ? "listpack" : "skiplist",
        };
        break;
      }
      default: {
        const entries = uniq(n, str).map((f) => [f, str()] as [string, string]);
        value = {
          type: "hash",
          entries,
          encoding: entries.length <= 128 ? "listpack" : "hashtable",
        };
      }
    }
    const e: RdbEntry = { db, key, value };
    if (int(4) === 0) e.expireAtMs = 1_700_000_000_000 + int(1e11);
    out.push(e);
  }
  return out;
}

/**
 * `v` minus the intset bytes the reader adds (checked here against a fresh encoding of
 * the members: random datasets never shrink an intset).
 */
function withoutBlob(v: RdbValue): RdbValue {
  if (v.type !== "set" || v.blob === undefined) return v;
  const { blob, ...rest } = v;
  assert.deepEqual(latin1Bytes(blob), intsetEncode(v.members));
  return rest;
}

Deno.test("writer: random datasets round-trip through the reader, in any chunking", () => {
  for (const seed of [1, 2, 3, 4]) {
    const data = randomDataset(seed, 400);
    for (const opts of [{}, { compression: false }, { checksum: false, chunkSize: 64 }]) {
      const file = writeRdb(data, opts);
      const got = parseRdb(file);
      // The hints in randomDataset are the ones the reader reports, so it all comes back.
      const byDb = [...data].sort((a, b) => a.db - b.db);
      assert.deepEqual(
        got.entries.map((e) => ({ ...e, value: withoutBlob(e.value) })),
        byDb,
        `seed ${seed} ${JSON.stringify(opts)}`,
      );
      assert.equal(got.version, 10);
      assert.deepEqual([...got.aux.keys()], [
        "redis-ver",
        "redis-bits",
        "ctime",
        "used-mem",
        "aof-base",
      ]);
      if ((opts as { checksum?: boolean }).checksum === false) {
        assert.equal(got.checksum!.stored, 0n);
      } else assert.equal(got.checksum!.stored, got.checksum!.computed);
    }
  }
});

Deno.test("writer: chunks, onChunk, aux fields, functions, LRU/LFU, empty collections", () => {
  const seen: Uint8Array[] = [];
  const w = new RdbWriter({
    chunkSize: 32,
    onChunk: (c) => seen.push(c),
    ctime: 1700000000,
    usedMem: 1048576,
    aofBase: true,
    replication: { streamDb: 0, replId: "a".repeat(40), offset: 12345 },
  });
  w.functionLibrary("#!lua name=lib\nreturn 1");
  w.selectDb(2, 3, 1);
  assert.ok(
    w.writeEntry("a", { type: "string", value: "x".repeat(100) }, 1_800_000_000_000, 42, 7),
  );
  assert.equal(w.writeEntry("empty", { type: "set", members: [] }), false);
  assert.equal(w.writeEntry("empty2", { type: "list", items: [], nodes: [[], []] }), false);
  assert.equal(w.skippedEmpty, 2);
  w.end();
  assert.equal(w.takeChunks().length, 0);
  assert.ok(seen.length > 3 && seen.every((c) => c.length <= 32));
  const file = concat(seen);
  assert.equal(w.bytesWritten, file.length);
  const functions: string[] = [];
  const f = parseRdb(file, { onFunction: (c) => functions.push(c) });
  assert.deepEqual([...f.aux], [
    ["redis-ver", "7.0.15"],
    ["redis-bits", "64"],
    ["ctime", "1700000000"],
    ["used-mem", "1048576"],
    ["repl-stream-db", "0"],
    ["repl-id", "a".repeat(40)],
    ["repl-offset", "12345"],
    ["aof-base", "1"],
  ]);
  assert.deepEqual(functions, ["#!lua name=lib\nreturn 1"]);
  assert.deepEqual(f.entries, [{
    db: 2,
    key: "a",
    value: { type: "string", value: "x".repeat(100) },
    expireAtMs: 1_800_000_000_000,
    lruIdle: 42,
    lfuFreq: 7,
  }]);
  // Small integers in AUX values are int-encoded, as rdbSaveAuxFieldStrInt + rdbSaveRawString do.
  assert.ok(indexOf(file, latin1Bytes("\x0aredis-bits\xc0\x40")) > 0);
});

Deno.test("writer: strings follow rdbSaveRawString (int encodings, LZF over 20 bytes)", () => {
  const body = (v: string, compression = true) =>
    hex(encodeObject({ type: "string", value: v }, { compression })!.subarray(1));
  assert.equal(body("12"), "c0 0c");
  assert.equal(body("-128"), "c0 80");
  assert.equal(body("-129"), "c1 7f ff");
  assert.equal(body("2147483647"), "c2 ff ff ff 7f");
  assert.equal(body("2147483648"), "0a 32 31 34 37 34 38 33 36 34 38");
  assert.equal(body("007"), "03 30 30 37");
  assert.equal(body("-0"), "02 2d 30");
  assert.equal(body(""), "00");
  assert.equal(body("a".repeat(20)).slice(0, 2), "14"); // 20 bytes: never compressed
  assert.equal(body("a".repeat(21)).slice(0, 2), "c3");
  assert.equal(body("a".repeat(21), false).slice(0, 2), "15");
  assert.equal(body("abcdefghijklmnopqrstuvwxyz").slice(0, 2), "1a"); // LZF without gain
  assert.equal(body("x".repeat(64)).slice(0, 2), "c3");
  assert.equal(body("y".repeat(100), false).slice(0, 5), "40 64");
  assert.equal(body("y".repeat(20000), false).slice(0, 14), "80 00 00 4e 20");
});

Deno.test("writer: encodings follow the hints, else Redis 7.0's default thresholds", () => {
  const type = (v: RdbValue) => encodeObject(v)![0];
  const pairs = (n: number, len = 1) =>
    Array.from({ length: n }, (_, i) => ["f" + i, "v".repeat(len)] as [string, string]);
  assert.equal(type({ type: "hash", entries: pairs(128) }), RdbType.HASH_LISTPACK);
  assert.equal(type({ type: "hash", entries: pairs(129) }), RdbType.HASH);
  assert.equal(type({ type: "hash", entries: pairs(2, 65) }), RdbType.HASH);
  assert.equal(
    type({ type: "hash", entries: pairs(2, 65), encoding: "listpack" }),
    RdbType.HASH_LISTPACK,
  );
  assert.equal(type({ type: "hash", entries: pairs(2), encoding: "hashtable" }), RdbType.HASH);
  const z = (n: number, len = 1) =>
    Array.from({ length: n }, (_, i) => ["m".repeat(len) + i, i] as [string, number]);
  assert.equal(type({ type: "zset", entries: z(128) }), RdbType.ZSET_LISTPACK);
  assert.equal(type({ type: "zset", entries: z(129) }), RdbType.ZSET_2);
  assert.equal(type({ type: "zset", entries: z(1, 65) }), RdbType.ZSET_2);
  assert.equal(type({ type: "zset", entries: z(1), encoding: "skiplist" }), RdbType.ZSET_2);
  const ints = (n: number) => Array.from({ length: n }, (_, i) => String(i));
  assert.equal(type({ type: "set", members: ints(512) }), RdbType.SET_INTSET);
  assert.equal(type({ type: "set", members: ints(513) }), RdbType.SET);
  assert.equal(type({ type: "set", members: ints(513), intset: true }), RdbType.SET_INTSET);
  assert.equal(type({ type: "set", members: ["1", "x"], intset: true }), RdbType.SET);
  assert.equal(type({ type: "set", members: ["1"], encoding: "hashtable" }), RdbType.SET);
  assert.equal(type({ type: "list", items: ["a"] }), RdbType.LIST_QUICKLIST_2);
  assert.equal(type({ type: "string", value: "a" }), RdbType.STRING);
  assert.equal(encodeObject({ type: "hash", entries: [] }), null);
  const w = new RdbWriter({ thresholds: { hashMaxListpackEntries: 1 } });
  assert.equal(w.chooseType({ type: "hash", entries: pairs(2) }), RdbType.HASH);
});

Deno.test({
  name: "writer: list nodes split like RPUSH builds them (fill -2 and positive fills)",
  ignore: noFixtures,
  fn() {
    for (
      const [scenario, fill] of [["rdb-default", -2], ["rdb-compressed-list", 16], [
        "rdb-no-listpacks",
        1,
      ]] as const
    ) {
      const file = parseRdb(fixture("redis-7.0.15", scenario, "dump.rdb"), { listNodes: true });
      for (const e of file.entries) {
        if (e.value.type !== "list") continue;
        const redisNodes = e.value.nodes!.map((n) => n.length);
        const ours = parseRdb(
          writeRdb([{ db: 0, key: "l", value: { type: "list", items: e.value.items } }], {
            thresholds: { listMaxListpackSize: fill },
          }),
          { listNodes: true },
        ).entries[0].value as { nodes: string[][] };
        assert.deepEqual(ours.nodes.map((n) => n.length), redisNodes, `${scenario} ${e.key}`);
      }
    }
    // PLAIN nodes for elements at or over the packed threshold.
    const big = "p".repeat(100);
    const f = writeRdb([{ db: 0, key: "l", value: { type: "list", items: ["a", big, "b"] } }], {
      thresholds: { listPackedThreshold: 100 },
      compression: false,
    });
    const back = parseRdb(f, { listNodes: true }).entries[0].value as { nodes: string[][] };
    assert.deepEqual(back.nodes, [["a"], [big], ["b"]]);
    assert.ok(indexOf(f, latin1Bytes("\x01\x40\x64" + "p".repeat(10))) > 0, "a PLAIN container");
  },
});

// ---- digest ------------------------------------------------------------------------------

Deno.test("digest: SHA-1 and values pinned from redis-server 7.0.15", () => {
  for (const n of [0, 1, 55, 56, 64, 119, 1000]) {
    const d = new Uint8Array(n).map((_, i) => (i * 31 + 7) & 255);
    const out = new Uint8Array(20);
    sha1(d, 0, n, out);
    assert.equal(hex(out).replaceAll(" ", ""), createHash("sha1").update(d).digest("hex"));
  }
  // SET k hello; RPUSH l a b 1; ZADD z 1.5 m 2 n; EXPIRE z 1000 (DEBUG DIGEST[-VALUE]).
  const k: RdbValue = { type: "string", value: "hello" };
  const l: RdbValue = { type: "list", items: ["a", "b", "1"] };
  const z: RdbValue = { type: "zset", entries: [["m", 1.5], ["n", 2]] };
  assert.equal(valueDigest(k), "36b23a1456b2dce2c3ed252c456761301dba8060");
  assert.equal(valueDigest(l), "981fd62c1655c074205cff40b800bd5a5bfdcd41");
  assert.equal(valueDigest(z, true), "760f110192abcf16754020a4ca31d6fabdcd965e");
  assert.equal(valueDigest(null), "0".repeat(40));
  assert.equal(
    datasetDigest([{ db: 0, key: "k", value: k }]),
    "d101db227d1e3b31616b18b0b8700f84c3ffa5e9",
  );
  assert.equal(
    datasetDigest([
      { db: 0, key: "z", value: z, expireAtMs: 1 },
      { db: 0, key: "l", value: l },
      { db: 0, key: "k", value: k },
    ]),
    "c853706a1449408496b553df43a1adff9ebf6973",
  );
  assert.equal(datasetDigest([]), "0".repeat(40));
});

Deno.test("digest: order-free where Redis's is, order-sensitive for lists and dbs", () => {
  const set1: RdbValue = { type: "set", members: ["a", "b", "c"] };
  const set2: RdbValue = { type: "set", members: ["c", "a", "b"] };
  assert.equal(valueDigest(set1), valueDigest(set2));
  assert.equal(valueDigest(set1), valueDigest({ ...set1, encoding: "intset" }));
  const h1: RdbValue = { type: "hash", entries: [["f", "1"], ["g", "2"]] };
  const h2: RdbValue = { type: "hash", entries: [["g", "2"], ["f", "1"]] };
  assert.equal(valueDigest(h1), valueDigest(h2));
  assert.notEqual(
    valueDigest({ type: "hash", entries: [["f", "2"], ["g", "1"]] }),
    valueDigest(h1),
  );
  assert.notEqual(
    valueDigest({ type: "list", items: ["a", "b"] }),
    valueDigest({ type: "list", items: ["b", "a"] }),
  );
  assert.equal(
    valueDigest({ type: "list", items: [], nodes: [["a"], ["b"]] }),
    valueDigest({ type: "list", items: ["a", "b"] }),
  );
  assert.notEqual(valueDigest(set1, true), valueDigest(set1));
  const v: RdbValue = { type: "string", value: "v" };
  assert.notEqual(
    datasetDigest([{ db: 0, key: "k", value: v }]),
    datasetDigest([{ db: 1, key: "k", value: v }]),
  );
  const d1 = new DatasetDigest();
  const d2 = new DatasetDigest();
  const entries = randomDataset(8, 100);
  for (const e of entries) d1.addEntry(e);
  for (const e of [...entries].reverse()) d2.addEntry(e);
  assert.equal(d1.hex(), d2.hex());
});

// ---- DUMP --------------------------------------------------------------------------------

Deno.test("dump: payloads pinned from redis-server 7.0.15 decode and re-encode identically", () => {
  const k = "\x00\x05hello\n\x00cr\xdfve4 \n";
  const z = "\x11\x14\x14\x00\x00\x00\x04\x00\x81m\x02\x831.5\x04\x81n\x02\x02\x01\xff\n\x00" +
    "\xf1\xb0:mX_i8";
  assert.deepEqual(decodeDump(k), { type: "string", value: "hello" });
  const zv = decodeDump(z);
  assert.deepEqual(zv, { type: "zset", entries: [["m", 1.5], ["n", 2]], encoding: "listpack" });
  assert.equal(encodeDumpLatin1({ type: "string", value: "hello" }), k);
  assert.equal(encodeDumpLatin1(zv), z);
});

Deno.test("dump: round trips every type; refuses bad footers and bad bodies like RESTORE", () => {
  for (const e of randomDataset(12, 150)) {
    const payload = encodeDump(e.value);
    assert.ok(verifyDumpPayload(payload));
    assert.deepEqual(withoutBlob(decodeDump(payload)), e.value, e.key);
  }
  const p = encodeDump({ type: "string", value: "hello" });
  const refuse = (b: Uint8Array | string, message: string, opts = {}) => {
    const e = thrown(() => decodeDump(b, opts));
    assert.ok(e instanceof DumpPayloadError, String(e));
    assert.equal(e.message, message);
    return e;
  };
  const flip = (i: number) => {
    const b = p.slice();
    b[i] ^= 1;
    return b;
  };
  refuse(flip(2), DUMP_ERR_VERSION_OR_CHECKSUM);
  refuse(flip(p.length - 1), DUMP_ERR_VERSION_OR_CHECKSUM);
  refuse(p.subarray(0, 9), DUMP_ERR_VERSION_OR_CHECKSUM);
  // Version 11 (Redis 7.2) is too new for 7.0, unless allowed.
  const v11 = p.slice();
  v11[p.length - 10] = 11;
  new Crc64().update(v11, 0, v11.length - 8).writeLE(v11, v11.length - 8);
  refuse(v11, DUMP_ERR_VERSION_OR_CHECKSUM);
  assert.deepEqual(decodeDump(v11, { maxVersion: 11 }), { type: "string", value: "hello" });
  assert.ok(verifyDumpPayload(flip(p.length - 1), { skipChecksum: true }));
  // Bodies that do not load.
  const withBody = (body: number[]) => {
    const b = new Uint8Array(body.length + 10);
    b.set(body, 0);
    b[body.length] = 10;
    new Crc64().update(b, 0, body.length + 2).writeLE(b, body.length + 2);
    return b;
  };
  const e1 = refuse(withBody([0, 10, 0x61]), DUMP_ERR_BAD_FORMAT);
  assert.match((e1 as DumpPayloadError).detail!, /unexpected end/);
  refuse(withBody([2, 0]), DUMP_ERR_BAD_FORMAT); // empty set
  refuse(withBody([15, 0]), DUMP_ERR_BAD_FORMAT); // a stream
  const lp = listpackEncode(["a"]);
  refuse(withBody([20, lp.length, ...lp]), DUMP_ERR_BAD_FORMAT); // 7.2's set listpack
  assert.throws(() => encodeDump({ type: "list", items: [] }), RangeError);
});

// ---- shared helpers ----------------------------------------------------------------------

Deno.test("types: string2ll rules, %.17g, d2string, strtod-like parsing", () => {
  assert.equal(stringToInt64("0"), 0);
  assert.equal(stringToInt64("-1"), -1);
  assert.equal(stringToInt64("9223372036854775807"), 9223372036854775807n);
  assert.equal(stringToInt64("-9223372036854775808"), -9223372036854775808n);
  assert.equal(stringToInt64("9007199254740991"), 9007199254740991);
  for (
    const bad of [
      "",
      "-",
      "01",
      "-0",
      "+1",
      " 1",
      "1 ",
      "1a",
      "9223372036854775808",
      "1".repeat(21),
    ]
  ) {
    assert.equal(stringToInt64(bad), null, JSON.stringify(bad));
  }
  assert.equal(formatG17(0.1), "0.10000000000000001");
  assert.equal(formatG17(1e21), "1e+21");
  assert.equal(formatG17(1e-5), "1.0000000000000001e-05");
  assert.equal(formatG17(-0), "-0");
  assert.equal(formatG17(123456789012345680000), "1.2345678901234568e+20");
  assert.equal(d2string(3), "3");
  assert.equal(d2string(-0), "-0");
  assert.equal(d2string(2.5), "2.5");
  assert.equal(d2string(2 ** 53), "9007199254740992");
  assert.equal(d2string(Infinity), "inf");
  assert.equal(parseDouble("inf"), Infinity);
  assert.equal(parseDouble("-INF"), -Infinity);
  assert.equal(parseDouble("1.5e3"), 1500);
  assert.ok(Number.isNaN(parseDouble("abc")));
  assert.ok(Number.isNaN(parseDouble("")));
  assert.ok(Number.isNaN(parseDouble("0b1")));
});

Deno.test("latin1: every length 0-40 at any offset, every byte value", () => {
  // Lengths 5-16 take the fromCharCode path under Deno, longer ones the native slice.
  const bytes = new Uint8Array(256 + 64);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 97 + 13) & 255;
  for (let n = 0; n <= 40; n++) {
    for (let start = 0; start + n <= bytes.length; start += 7) {
      let want = "";
      for (let i = 0; i < n; i++) want += String.fromCharCode(bytes[start + i]);
      assert.equal(latin1(bytes, start, start + n), want, `${n} bytes at ${start}`);
    }
  }
});

Deno.test("reader: packedHashes, packedZsets and intsetBlobs load what the plain reader does", () => {
  const lim = {
    listFill: -2,
    setMaxIntset: 4,
    hash: { entries: 3, value: 64 },
    zset: { entries: 128, value: 64 },
  };
  const fast = { packedHashes: true, packedZsets: true, intsetBlobs: true };
  const rnd = prng(7);
  const r = { int: (n: number) => Math.floor(rnd() * n) };
  const field = (i: number) => {
    switch (r.int(6)) {
      case 0:
        return String(r.int(100000) - 50000); // integer encodings
      case 1:
        return i === 0 ? "" : `e${i}`;
      case 2:
        return "x".repeat(250 + r.int(20)) + i; // lengths around the 255 boundary
      case 3:
        return String.fromCharCode(...Array.from({ length: 1 + r.int(8) }, () => r.int(256)));
      default:
        return `f${i}`;
    }
  };
  let hashesPacked = 0;
  let zsetsPacked = 0;
  const lpBody = (elements: string[]) => {
    const lp = listpackEncode(elements);
    const len = lp.length < 64 ? [lp.length] : [0x40 | (lp.length >> 8), lp.length & 255];
    return [...len, ...lp];
  };
  for (let round = 0; round < 300; round++) {
    // Up to 40 pairs: across hash-max-listpack-entries (3) and the packed path's 32.
    const pairs = 1 + r.int(40);
    const elements: string[] = [];
    for (let i = 0; i < pairs; i++) elements.push(field(i), field(1000 + i));
    const unique = new Set(elements.filter((_, i) => i % 2 === 0)).size === pairs;
    const file = rdbFile(10, [16, ...s("h"), ...lpBody(elements)]);
    const plainError = (() => {
      try {
        return parseRdb(file).entries[0].value;
      } catch (e) {
        return e as Error;
      }
    })();
    if (!unique) {
      assert.ok(plainError instanceof RdbError);
      assert.throws(() => parseRdb(file, fast), { message: plainError.message });
      continue;
    }
    const plain = fromRdbValue(plainError as RdbValue, lim) as HashValue;
    const fastValue = parseRdb(file, fast).entries[0].value;
    if (fastValue.type === "hash" && fastValue.packed !== undefined) hashesPacked++;
    const got = fromRdbValue(fastValue, lim) as HashValue;
    assert.equal(got.encoding(), plain.encoding(), `round ${round}`);
    assert.deepEqual(got.flat(), plain.flat(), `round ${round}`);
    assert.equal(got.get(elements[0]), elements[1]);
  }
  // What the plain path refuses, the packed one refuses in the same words.
  for (
    const elements of [["a", "1", "b"], ["f", "1", "f", "2"], ["", "1", "", "2"], [
      "x".repeat(300),
      "1",
      "x".repeat(300),
      "2",
    ]]
  ) {
    const file = rdbFile(10, [16, ...s("h"), ...lpBody(elements)]);
    const e = thrown(() => parseRdb(file));
    assert.ok(e instanceof RdbError);
    assert.throws(() => parseRdb(file, fast), { message: e.message });
  }
  // A damaged listpack is refused with the same offset and words.
  const bad = rdbFile(10, [16, ...s("h"), ...s("\x08\x00\x00\x00\x00\x00\xff")]);
  assert.throws(() => parseRdb(bad, fast), { message: thrown(() => parseRdb(bad)).message });
  // Sorted sets: in rank order, out of it (the plain path sorts), scores of every format.
  const zlim = { ...lim, zset: { entries: 3, value: 64 } };
  const scoreText = () => {
    switch (r.int(7)) {
      case 0:
        return String(r.int(200) - 100); // int8 / int16 / listpack integers
      case 1:
        return String(r.int(70000) - 35000);
      case 2:
        return String((r.int(40) - 20) / 4); // halves and quarters (float16)
      case 3:
        return String(Math.fround(rnd() * 1000)); // float32
      case 4:
        return ["inf", "-inf", "-0", "0"][r.int(4)];
      default:
        return String(rnd() * 1e6 - 5e5); // a double
    }
  };
  const dump = (z: ZSet) => {
    const out: [string, number][] = [];
    z.forEach((m, sc) => {
      out.push([m, Object.is(sc, -0) ? 0 : sc]);
    });
    return out;
  };
  for (let round = 0; round < 300; round++) {
    const n = 1 + r.int(40);
    const entries: [string, string][] = [];
    for (let i = 0; i < n; i++) entries.push([field(i), scoreText()]);
    const sorted = entries.map(([m, t]) => [m, Number(t.replace("inf", "Infinity"))] as const)
      .map(([m, v], i) => ({ m, v, i }));
    if (round % 3 !== 0) {
      // Most files hold rank order; every third round is left as it came.
      sorted.sort((a, b) => a.v - b.v || (a.m < b.m ? -1 : a.m > b.m ? 1 : 0));
    }
    const elements = sorted.flatMap(({ i }) => entries[i]);
    const file = rdbFile(10, [17, ...s("z"), ...lpBody(elements)]);
    let plainValue: RdbValue;
    try {
      plainValue = parseRdb(file).entries[0].value;
    } catch (e) {
      assert.ok(e instanceof RdbError);
      assert.throws(() => parseRdb(file, fast), { message: (e as Error).message });
      continue;
    }
    const plain = fromRdbValue(plainValue, zlim) as ZSet;
    const fastValue = parseRdb(file, fast).entries[0].value;
    if (fastValue.type === "zset" && fastValue.packed !== undefined) zsetsPacked++;
    const got = fromRdbValue(fastValue, zlim) as ZSet;
    assert.equal(got.encoding(), plain.encoding(), `round ${round}`);
    assert.deepEqual(dump(got), dump(plain), `round ${round}`);
  }
  // Both paths ran: the packed one for most, the general one for the rest.
  assert.ok(zsetsPacked > 100 && zsetsPacked < 300, `${zsetsPacked} sorted sets packed`);
  assert.ok(hashesPacked > 100 && hashesPacked < 300, `${hashesPacked} hashes packed`);
  for (const elements of [["m", "1", "m", "2"], ["a", "x"], ["a", "1", "b"]]) {
    const file = rdbFile(10, [17, ...s("z"), ...lpBody(elements)]);
    const e = thrown(() => parseRdb(file));
    assert.ok(e instanceof RdbError);
    assert.throws(() => parseRdb(file, fast), { message: e.message });
  }
  // Intsets: kept as they are up to set-max-intset-entries, a hashtable past it.
  for (const members of [["1", "5", "-7"], ["1", "2", "3", "4", "5", "100000", "-100000"]]) {
    const blob = intsetEncode(members)!;
    const file = rdbFile(10, [11, ...s("s"), blob.length, ...blob]);
    const compact = parseRdb(file, fast).entries[0].value;
    assert.ok(compact.type === "set" && compact.members.length === 0);
    assert.equal(compact.count, members.length);
    const plain = fromRdbValue(parseRdb(file).entries[0].value, lim) as SetValue;
    const got = fromRdbValue(compact, lim) as SetValue;
    assert.equal(got.encoding(), plain.encoding());
    assert.equal(got.encoding(), members.length > lim.setMaxIntset ? "hashtable" : "intset");
    assert.deepEqual(got.toArray().sort(), [...members].sort());
  }
});
