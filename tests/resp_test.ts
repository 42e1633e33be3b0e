/**
 * RESP request parser: every split of the input gives the same commands, Redis's
 * limits and protocol error strings, inline commands, and the big-argument path.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { ProtocolError, RequestParser, splitArgs } from "../src/server/resp.ts";
import { latin1String, putHeader, putInt } from "../src/server/wire.ts";
import { ReplyBuffer } from "../src/server/reply.ts";

function parser(authenticated = true) {
  return new RequestParser({ maxBulkLen: 512 * 1024 * 1024, authenticated: () => authenticated });
}

function drain(p: RequestParser): string[][] {
  const out: string[][] = [];
  while (true) {
    const a = p.next();
    if (a === null) return out;
    if (a.length) out.push(a);
  }
}

const INPUT = "*3\r\n$3\r\nSET\r\n$3\r\nk\x00y\r\n$5\r\nv\r\nal\r\n" +
  "PING\r\n" +
  'set "a b" \'c\\\'d\' "\\x41\\n"\n' +
  "*1\r\n$4\r\nPING\r\n" +
  "*2\r\n$3\r\nGET\r\n$0\r\n\r\n";
const EXPECTED = [
  ["SET", "k\x00y", "v\r\nal"],
  ["PING"],
  ["set", "a b", "c'd", "A\n"],
  ["PING"],
  ["GET", ""],
];

Deno.test("resp: whole input parses to the expected commands", () => {
  const p = parser();
  p.feed(Buffer.from(INPUT, "latin1"));
  assert.deepEqual(drain(p), EXPECTED);
});

Deno.test("resp: the same commands for every split into two chunks", () => {
  const bytes = Buffer.from(INPUT, "latin1");
  for (let i = 0; i <= bytes.length; i++) {
    const p = parser();
    const got: string[][] = [];
    p.feed(bytes.subarray(0, i));
    got.push(...drain(p));
    p.feed(bytes.subarray(i));
    got.push(...drain(p));
    assert.deepEqual(got, EXPECTED, `split at ${i}`);
  }
});

Deno.test("resp: byte-at-a-time feeding", () => {
  const bytes = Buffer.from(INPUT, "latin1");
  const p = parser();
  const got: string[][] = [];
  for (let i = 0; i < bytes.length; i++) {
    p.feed(bytes.subarray(i, i + 1));
    got.push(...drain(p));
  }
  assert.deepEqual(got, EXPECTED);
});

Deno.test("resp: a big bulk argument arrives in many chunks intact (linear path)", () => {
  const size = 3 * 1024 * 1024 + 7;
  const payload = Buffer.alloc(size);
  for (let i = 0; i < size; i++) payload[i] = (i * 31) & 0xff;
  const head = Buffer.from(`*2\r\n$3\r\nSET\r\n$${size}\r\n`, "latin1");
  const all = Buffer.concat([head, payload, Buffer.from("\r\n*1\r\n$4\r\nPING\r\n")]);
  const p = parser();
  const got: string[][] = [];
  for (let i = 0; i < all.length; i += 65536) {
    p.feed(all.subarray(i, i + 65536));
    got.push(...drain(p));
  }
  assert.equal(got.length, 2);
  assert.equal(got[0][1].length, size);
  assert.ok(Buffer.from(got[0][1], "latin1").equals(payload));
  assert.deepEqual(got[1], ["PING"]);
});

function errorOf(input: string, authenticated = true): string {
  const p = parser(authenticated);
  p.feed(Buffer.from(input, "latin1"));
  try {
    drain(p);
  } catch (e) {
    assert.ok(e instanceof ProtocolError);
    return e.message;
  }
  return "no error";
}

Deno.test("resp: Redis's protocol error strings", () => {
  assert.equal(errorOf("*x\r\n"), "Protocol error: invalid multibulk length");
  assert.equal(errorOf("*3000000000\r\n"), "Protocol error: invalid multibulk length");
  assert.equal(errorOf("*11\r\n", false), "Protocol error: unauthenticated multibulk length");
  assert.equal(errorOf("*1\r\n+PING\r\n"), "Protocol error: expected '$', got '+'");
  assert.equal(errorOf("*1\r\n$-5\r\n"), "Protocol error: invalid bulk length");
  assert.equal(errorOf("*1\r\n$abc\r\n"), "Protocol error: invalid bulk length");
  assert.equal(errorOf("*1\r\n$20000\r\n", false), "Protocol error: unauthenticated bulk length");
  assert.equal(errorOf('set "a\r\n'), "Protocol error: unbalanced quotes in request");
  assert.equal(errorOf("x".repeat(70 * 1024)), "Protocol error: too big inline request");
  assert.equal(errorOf("*1" + "1".repeat(70 * 1024)), "Protocol error: too big mbulk count string");
  assert.equal(
    errorOf("*1\r\n$1" + "1".repeat(70 * 1024)),
    "Protocol error: too big bulk count string",
  );
});

Deno.test("resp: empty multibulk and empty inline lines are skipped", () => {
  const p = parser();
  p.feed(Buffer.from("*0\r\n*-1\r\n\r\n\n*1\r\n$4\r\nPING\r\n"));
  assert.deepEqual(drain(p), [["PING"]]);
});

Deno.test("resp: splitArgs follows sdssplitargs", () => {
  assert.deepEqual(splitArgs("  a  b\tc "), ["a", "b", "c"]);
  assert.deepEqual(splitArgs('"\\x4g"'), ["x4g"]);
  assert.deepEqual(splitArgs('""'), [""]);
  assert.equal(splitArgs('"a"b'), null);
  assert.equal(splitArgs("'a'b"), null);
  assert.equal(splitArgs("'abc"), null);
  assert.deepEqual(splitArgs("'a\\nb'"), ["a\\nb"]);
});

Deno.test("ReplyBuffer: every byte value, short and long, ASCII-only and not", () => {
  const all = Array.from({ length: 256 }, (_, i) => String.fromCharCode(i)).join("");
  const cases = [
    "",
    "+OK\r\n",
    "x".repeat(255),
    "y".repeat(256),
    "a".repeat(300) + "\xff",
    "\x80" + "b".repeat(300),
    all,
    all.repeat(40),
    "z".repeat(300_000),
    "\xfe".repeat(300_000),
  ];
  // Built by += (a rope), not only flat literals.
  let rope = "";
  for (let i = 0; i < 200; i++) rope += "$3\r\n" + (i % 2 ? "abc" : "\xe9\xe0\xff") + "\r\n";
  cases.push(rope);
  const r = new ReplyBuffer();
  for (const s of cases) {
    // raw, bulk and bulkSlice, one after the other in one buffer that grows.
    r.raw(s);
    r.bulk(s);
    r.bulkSlice("<<" + s + ">>", 2, s.length);
    const want = s + "$" + s.length + "\r\n" + s + "\r\n" + "$" + s.length + "\r\n" + s + "\r\n";
    const got = r.detach();
    assert.equal(got.length, want.length);
    for (let i = 0; i < want.length; i++) {
      if (got[i] !== want.charCodeAt(i)) assert.fail(`byte ${i} of a ${s.length}-char string`);
    }
  }
});

Deno.test("ReplyBuffer: headers, integers and doubles in RESP2 and RESP3", () => {
  const r = new ReplyBuffer();
  const ints = [0, 7, 9, 10, 99, 100, 101, 999, 1000, 123456789, -1, -0, -10, -987654321];
  ints.push(1e15 - 1, 1e15, -1e15, -1e15 - 1, 2 ** 53 - 1, -(2 ** 53) + 1);
  for (const n of ints) r.integer(n);
  assert.equal(r.take(), ints.map((n) => `:${n}\r\n`).join(""));
  r.ok();
  r.simple("PONG");
  r.error("ERR x");
  r.integer(2n ** 63n - 1n);
  r.array(0);
  r.array(1234);
  r.map(2);
  r.set(3);
  r.null();
  r.nullArray();
  r.double(1.5);
  r.bool(true);
  assert.equal(
    r.take(),
    "+OK\r\n+PONG\r\n-ERR x\r\n" +
      ":9223372036854775807\r\n*0\r\n*1234\r\n" +
      "*4\r\n*3\r\n$-1\r\n*-1\r\n$3\r\n1.5\r\n:1\r\n",
  );
  r.resp = 3;
  r.map(2);
  r.set(3);
  r.push(1);
  r.null();
  r.double(1.5);
  r.bool(false);
  assert.equal(r.take(), "%2\r\n~3\r\n>1\r\n_\r\n,1.5\r\n#f\r\n");
  // Muted (CLIENT REPLY OFF): nothing is appended, errors are still counted.
  r.muted = true;
  r.ok();
  r.bulk("x");
  r.error("ERR y");
  assert.equal(r.take(), "");
  assert.equal(r.errorCount, 2);
  r.muted = false;
  r.raw("abc");
  r.truncate(1);
  assert.equal(r.take(), "a");
});

Deno.test("latin1String: short strings from the shared cache keep their exact bytes", () => {
  // 20,000 random strings of 0-8 bytes (collisions in the 4096-slot cache are certain),
  // each asked for twice, interleaved with others, against a char-by-char build.
  let seed = 7;
  const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8;
  const strings: number[][] = [];
  for (let i = 0; i < 20_000; i++) {
    const len = rand() % 9;
    // Mostly few distinct bytes (0, 1, 255 included), so near-equal strings are common.
    strings.push(Array.from({ length: len }, () => [0, 1, 48, 49, 120, 255][rand() % 6]));
  }
  const buf = Buffer.alloc(16);
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < strings.length; i++) {
      const bytes = strings[(i * 7919 + round * 13) % strings.length];
      const at = 3 + (i % 5);
      buf.set(bytes, at);
      const got = latin1String(buf, at, at + bytes.length);
      assert.equal(got, String.fromCharCode(...bytes));
    }
  }
});

Deno.test("putInt and putHeader write every integer as String() does", () => {
  const b = new Uint8Array(32);
  const text = (end: number) => new TextDecoder().decode(b.subarray(0, end));
  const edges = [0, 9, 10, 99, 100, 101, 999, 1000, 9999, 10000, 99999, 100000, 1e6 - 1, 1e6];
  for (let p = 1e7; p <= 1e16; p *= 10) edges.push(p - 1, p, p + 1);
  edges.push(2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 53 - 1, Number.MAX_SAFE_INTEGER);
  let x = 12345;
  for (let i = 0; i < 2000; i++) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    edges.push(x, x * 4099, Math.floor(x / 7));
  }
  for (const v of edges) {
    for (const n of [v, -v]) {
      assert.equal(text(putInt(b, 0, n)), String(n));
      assert.equal(text(putHeader(b, 0, 36, n)), `$${n}\r\n`);
    }
  }
});
