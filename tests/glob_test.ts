// Tests for src/util/glob.ts: table cases, plus a differential test against a real
// redis-server (KEYS for case-sensitive matching, COMMAND LIST FILTERBY PATTERN for nocase).
import * as assert from "node:assert/strict";
import { isMatchAll, stringMatch } from "../src/util/glob.ts";
import { prng } from "./helpers/prng.ts";

type Case = [pattern: string, str: string, expected: boolean, nocase?: boolean];

const CASES: Case[] = [
  // Empty inputs and '*'.
  ["", "", true],
  ["", "a", false],
  ["*", "", false], // Redis quirk: '*' does not match the empty string.
  ["**", "", false],
  ["a", "", false],
  ["*", "abc", true],
  ["**", "abc", true],
  ["a*", "a", true],
  ["a**", "a", true],
  ["a*b", "ab", true],
  ["a*b", "axxb", true],
  ["a*b", "axxbc", false],
  ["*b", "abab", true],
  ["*a*b*c", "xaybzc", true],
  ["*a*b*c", "xaybz", false],
  ["foo*", "foobar", true],
  ["*foo", "barfoo", true],
  ["*foo", "foobar", false],
  // '?'.
  ["?", "", false],
  ["?", "a", true],
  ["??", "a", false],
  ["h?llo", "hello", true],
  ["h?llo", "hllo", false],
  ["a?*", "a", false],
  ["a?*", "ab", true],
  // Classes.
  ["h[ae]llo", "hallo", true],
  ["h[ae]llo", "hillo", false],
  ["h[^e]llo", "hallo", true],
  ["h[^e]llo", "hello", false],
  ["h[a-b]llo", "hbllo", true],
  ["h[a-b]llo", "hcllo", false],
  ["[z-a]", "m", true], // reversed range
  ["[z-a]", "A", false],
  ["[a-c-e]", "-", true], // after a range, '-' is a literal
  ["[a-c-e]", "e", true],
  ["[\\]]", "]", true],
  ["[\\-]", "-", true],
  ["[\\-]", "\\", false],
  ["[a\\]", "\\", false], // '\]' escapes, class is unterminated: "a" and "]"
  ["[a\\]", "]", true],
  ["[]", "]", false], // empty class matches nothing
  ["[]a]", "a", false],
  ["[^]", "x", true], // empty negated class matches anything
  ["[^]", "", false],
  ["[a-]", "^", true], // range 'a'..']' (swapped: ']'..'a')
  ["[a-]", "-", false],
  ["[a-]", "a", true],
  ["[-a]", "-", true],
  // Unterminated '[': the rest of the pattern is the class.
  ["[", "", false],
  ["[", "[", false],
  ["[abc", "a", true],
  ["[abc", "c", true],
  ["[abc", "[", false],
  ["[^abc", "d", true],
  ["[^", "a", true],
  ["x[", "x", false],
  ["x[", "xa", false],
  // Escapes outside classes.
  ["\\*", "*", true],
  ["\\*", "a", false],
  ["\\?", "?", true],
  ["\\[a]", "[a]", true],
  ["\\", "\\", true], // a trailing backslash is literal
  ["a\\", "a\\", true],
  ["\\a", "a", true],
  // Bytes >= 0x80 compare as signed chars in ranges.
  ["[a-\xff]", "\xff", true],
  ["[a-\xff]", "\x00", true],
  ["[a-\xff]", "a", true],
  ["[a-\xff]", "b", false],
  ["[a-\xff]", "\x80", false],
  ["[\x80-\xff]", "\xc0", true],
  ["[\x00-\x7f]", "\x80", false],
  ["\xe9*", "\xe9t\xe9", true],
  // nocase.
  ["HELLO", "hello", true, true],
  ["HELLO", "hello", false],
  ["h*O", "HellO", true, true],
  ["[A-Z]", "q", true, true],
  ["[a-z]", "Q", true, true],
  ["[a-z]", "Q", false],
  ["[Z-a]", "_", true], // '_' is between 'Z' and 'a'
  ["[Z-a]", "_", false, true], // with nocase the range becomes 'z'..'a': empty
  ["[Z-a]", "z", false, true],
  ["[\\A]", "a", false, true], // escaped class members compare case-sensitively
  ["[\\A]", "A", true, true],
  ["[AB]", "b", true, true],
  ["\\A", "a", true, true],
  ["\xc9", "\xe9", false, true], // only ASCII folds
  // Nesting limit: 1000 levels of '*' recursion is the most Redis allows.
  ["*a".repeat(1000), "a".repeat(1100), true],
  ["*a".repeat(1001), "a".repeat(1100), false],
  ["*".repeat(5000) + "a", "bba", true], // consecutive stars collapse: one level
  ["*?".repeat(50000), "x".repeat(100), false],
];

Deno.test("stringMatch: table cases", () => {
  for (const [pattern, str, expected, nocase] of CASES) {
    const show = (
      s: string,
    ) => (s.length > 40 ? JSON.stringify(s.slice(0, 40)) + "..." : JSON.stringify(s));
    assert.strictEqual(
      stringMatch(pattern, str, nocase ?? false),
      expected,
      `stringMatch(${show(pattern)}, ${show(str)}, ${nocase ?? false})`,
    );
  }
});

Deno.test("stringMatch: pathological patterns finish quickly", () => {
  const t0 = performance.now();
  // Exponential without skipLongerMatches.
  assert.strictEqual(stringMatch("a*".repeat(40) + "b", "a".repeat(80)), false);
  assert.strictEqual(stringMatch("*a".repeat(200) + "*b", "a".repeat(1000)), false);
  assert.strictEqual(stringMatch("*a".repeat(200) + "*", "a".repeat(1000)), true);
  assert.ok(performance.now() - t0 < 2000);
});

Deno.test("isMatchAll", () => {
  assert.strictEqual(isMatchAll("*"), true);
  assert.strictEqual(isMatchAll("**"), false);
  assert.strictEqual(isMatchAll(""), false);
  assert.strictEqual(isMatchAll("\\*"), false);
  assert.strictEqual(isMatchAll("a"), false);
});

// ---------------------------------------------------------------------------
// Differential test against a real redis-server.

function latin1Bytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

function latin1String(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i += 8192) {
    s += String.fromCharCode(...b.subarray(i, i + 8192));
  }
  return s;
}

type Reply = string | number | null | Error | Reply[];

/** Minimal RESP2 client over Latin-1 strings, one command in flight at a time. */
class MiniClient {
  #buf = new Uint8Array(0);
  constructor(readonly conn: Deno.TcpConn) {}

  async #fill(): Promise<void> {
    const chunk = new Uint8Array(65536);
    const n = await this.conn.read(chunk);
    if (n === null) throw new Error("connection closed");
    const next = new Uint8Array(this.#buf.length + n);
    next.set(this.#buf);
    next.set(chunk.subarray(0, n), this.#buf.length);
    this.#buf = next;
  }

  async #line(): Promise<string> {
    for (;;) {
      const i = this.#buf.indexOf(0x0a);
      if (i >= 1 && this.#buf[i - 1] === 0x0d) {
        const line = latin1String(this.#buf.subarray(0, i - 1));
        this.#buf = this.#buf.subarray(i + 1);
        return line;
      }
      await this.#fill();
    }
  }

  async #bytes(n: number): Promise<string> {
    while (this.#buf.length < n + 2) await this.#fill();
    const s = latin1String(this.#buf.subarray(0, n));
    this.#buf = this.#buf.subarray(n + 2);
    return s;
  }

  async #reply(): Promise<Reply> {
    const line = await this.#line();
    const rest = line.slice(1);
    switch (line[0]) {
      case "+":
        return rest;
      case "-":
        return new Error(rest);
      case ":":
        return Number(rest);
      case "$":
        return rest === "-1" ? null : await this.#bytes(Number(rest));
      case "*": {
        if (rest === "-1") return null;
        const out: Reply[] = [];
        for (let i = Number(rest); i > 0; i--) out.push(await this.#reply());
        return out;
      }
      default:
        throw new Error(`bad reply line ${JSON.stringify(line)}`);
    }
  }

  async call(...args: string[]): Promise<Reply> {
    let req = `*${args.length}\r\n`;
    for (const a of args) req += `$${a.length}\r\n${a}\r\n`;
    const bytes = latin1Bytes(req);
    for (let off = 0; off < bytes.length;) off += await this.conn.write(bytes.subarray(off));
    const r = await this.#reply();
    if (r instanceof Error) throw r;
    return r;
  }
}

function hasRedisServer(): boolean {
  try {
    return new Deno.Command("redis-server", { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

const HAVE_REDIS = hasRedisServer();
const IS_CI = Deno.env.get("CI") === "true";

/** Start an isolated, non-persisting redis-server on a random port. */
async function withRedis(fn: (c: MiniClient) => Promise<void>): Promise<void> {
  const rnd = prng(Date.now());
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = 20000 + Math.floor(rnd() * 30000);
    const dir = Deno.makeTempDirSync({ prefix: "amber-glob-" });
    const child = new Deno.Command("redis-server", {
      args: [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        dir,
      ],
      stdout: "null",
      stderr: "null",
    }).spawn();
    let exited = false;
    const status = child.status.then((s) => {
      exited = true;
      return s;
    });
    let conn: Deno.TcpConn | null = null;
    for (let i = 0; i < 100 && !exited && conn === null; i++) {
      try {
        conn = await Deno.connect({ hostname: "127.0.0.1", port });
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    if (conn === null) {
      if (!exited) child.kill("SIGKILL");
      await status;
      Deno.removeSync(dir, { recursive: true });
      continue; // port probably taken; try another
    }
    try {
      await fn(new MiniClient(conn));
    } finally {
      conn.close();
      child.kill("SIGKILL");
      await status;
      Deno.removeSync(dir, { recursive: true });
    }
    return;
  }
  throw new Error("could not start redis-server");
}

function randomString(rnd: () => number, alphabet: string, maxLen: number): string {
  const n = Math.floor(rnd() * (maxLen + 1));
  let s = "";
  for (let i = 0; i < n; i++) s += alphabet[Math.floor(rnd() * alphabet.length)];
  return s;
}

/** Derive a pattern from a subject so that matches are common. */
function mutate(rnd: () => number, subject: string, specials: string[]): string {
  let out = "";
  for (const ch of subject) {
    const r = rnd();
    if (r < 0.55) out += ch;
    else if (r < 0.65) out += "?";
    else if (r < 0.75) out += "*";
    else if (r < 0.82) out += `[${ch}${specials[Math.floor(rnd() * specials.length)]}]`;
    else if (r < 0.88) out += `[^${ch}]`;
    else if (r < 0.93) out += "\\" + ch;
    else out += specials[Math.floor(rnd() * specials.length)];
  }
  return out;
}

Deno.test({
  name: "stringMatch: differential against redis-server KEYS",
  ignore: !HAVE_REDIS && !IS_CI,
  async fn() {
    if (!HAVE_REDIS) throw new Error("redis-server not on PATH (required when CI=true)");
    const rnd = prng(0x5eed);
    const letters = "abcAB";
    const specials = ["*", "?", "[", "]", "^", "-", "\\", "\xe9", "\x80", "\xff", "\x00"];
    const alphabet = letters + specials.join("");
    const keys = new Set<string>([""]);
    while (keys.size < 200) keys.add(randomString(rnd, alphabet + letters + letters, 6));
    const patterns = new Set<string>(["*", "", "[", "\\", "[^", "[]", "[^]", "[a-]"]);
    const keyList = [...keys];
    while (patterns.size < 400) {
      if (rnd() < 0.5) patterns.add(randomString(rnd, alphabet, 8));
      else patterns.add(mutate(rnd, keyList[Math.floor(rnd() * keyList.length)], specials));
    }
    patterns.add("*a".repeat(1000));
    patterns.add("*a".repeat(1001));
    keyList.push("a".repeat(1100));

    await withRedis(async (c) => {
      for (const k of keyList) await c.call("SET", k, "1");
      let pairs = 0;
      let matches = 0;
      const mismatches: string[] = [];
      for (const p of patterns) {
        const got = new Set((await c.call("KEYS", p)) as string[]);
        for (const k of keyList) {
          const mine = isMatchAll(p) || stringMatch(p, k);
          pairs++;
          if (mine) matches++;
          if (mine !== got.has(k)) {
            mismatches.push(`pattern=${JSON.stringify(p)} key=${JSON.stringify(k)} redis=${!mine}`);
          }
        }
      }
      assert.deepStrictEqual(mismatches.slice(0, 20), []);
      assert.ok(pairs >= 2000);
      assert.ok(matches > pairs / 50, `too few matches (${matches}/${pairs}) to be meaningful`);
    });
  },
});

Deno.test({
  name: "stringMatch: nocase differential against redis-server COMMAND LIST FILTERBY PATTERN",
  ignore: !HAVE_REDIS && !IS_CI,
  async fn() {
    if (!HAVE_REDIS) throw new Error("redis-server not on PATH (required when CI=true)");
    const rnd = prng(0xc0de);
    await withRedis(async (c) => {
      const names = (await c.call("COMMAND", "LIST")) as string[];
      const specials = ["*", "?", "[", "]", "^", "-", "\\", "|", "Z", "_", "`"];
      const patterns = new Set<string>(["[Z-a]*", "[A-Z]*", "[\\C]*", "*|*", "[^A-M]*"]);
      while (patterns.size < 300) {
        let p = mutate(rnd, names[Math.floor(rnd() * names.length)], specials);
        if (rnd() < 0.5) p = p.toUpperCase();
        patterns.add(p);
      }
      const mismatches: string[] = [];
      for (const p of patterns) {
        const got = new Set(
          (await c.call("COMMAND", "LIST", "FILTERBY", "PATTERN", p)) as string[],
        );
        for (const n of names) {
          const mine = stringMatch(p, n, true);
          if (mine !== got.has(n)) {
            mismatches.push(`pattern=${JSON.stringify(p)} name=${n} redis=${!mine}`);
          }
        }
      }
      assert.deepStrictEqual(mismatches.slice(0, 20), []);
    });
  },
});
