// Tests for src/persistence/aof/manifest.ts and stream.ts against the multi-part AOF files
// redis-server 7.0.15 wrote (shared/fixtures): manifests parse and re-format byte for byte,
// malformed manifests fail with Redis's messages, every .aof stream reads completely, torn
// and garbage tails are located exactly, and (when installed) redis-check-aof agrees.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  type AofManifest,
  baseFileName,
  ERR_DUP_BASE,
  ERR_EMPTY,
  ERR_INVALID_FORMAT,
  ERR_NON_MONOTONIC,
  ERR_PATH,
  ERR_TOO_LONG,
  ERR_UNKNOWN_TYPE,
  formatManifest,
  incrFileName,
  ManifestError,
  manifestFileName,
  parseManifest,
  reprString,
  tempManifestFileName,
} from "../src/persistence/aof/manifest.ts";
import {
  type AofCommand,
  encodeAofCommand,
  encodeTimestamp,
  latin1,
  readAofCommands,
  scanAof,
} from "../src/persistence/aof/stream.ts";
import { IN_CI, tempDir } from "./helpers/servers.ts";
import { FIXTURES } from "./helpers/fixtures.ts";

const haveFixtures = existsSync(join(FIXTURES, "README.md"));
// Missing fixtures skip locally and fail in CI (the test then runs and says why).
const noFixtures = !haveFixtures && !IN_CI;

const checkAofPath = (() => {
  const r = spawnSync("sh", ["-c", "command -v redis-check-aof"], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : null;
})();
const noCheckAof = (checkAofPath === null && !IN_CI) || noFixtures;

/** Every appendonlydir/ under redis-7.0.15/aof-*. */
function aofDirs(): string[] {
  assert.ok(haveFixtures, `fixtures not found at ${FIXTURES} (set AMBER_FIXTURES)`);
  const root = join(FIXTURES, "redis-7.0.15");
  return readdirSync(root)
    .filter((d) => d.startsWith("aof-"))
    .sort()
    .map((d) => join(root, d, "appendonlydir"));
}

function aofFiles(): string[] {
  return aofDirs().flatMap((dir) =>
    readdirSync(dir).filter((f) => f.endsWith(".aof")).sort().map((f) => join(dir, f))
  );
}

function readLatin1(path: string): string {
  const b = readFileSync(path);
  return latin1(b, 0, b.length);
}

function bytesOf(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
  return b;
}

function manifestError(text: string): ManifestError {
  try {
    parseManifest(text);
  } catch (e) {
    assert.ok(e instanceof ManifestError, `not a ManifestError: ${e}`);
    return e;
  }
  assert.fail(`manifest parsed: ${JSON.stringify(text)}`);
}

Deno.test({
  name: "aof manifest: every fixture manifest parses and re-formats byte for byte",
  ignore: noFixtures,
  fn() {
    const dirs = aofDirs();
    assert.equal(dirs.length, 4);
    for (const dir of dirs) {
      const text = readLatin1(join(dir, "appendonly.aof.manifest"));
      const m = parseManifest(text);
      assert.equal(formatManifest(m), text, dir);
      // Every file the manifest names exists, and every file in the dir is in the manifest.
      const named = [m.base!, ...m.history, ...m.incrs].map((ai) => ai.name).sort();
      const present = readdirSync(dir).filter((f) => !f.endsWith(".manifest")).sort();
      assert.deepEqual(named, present, dir);
      assert.ok(m.base !== null);
      assert.equal(m.currBaseSeq, m.base.seq);
      assert.equal(m.currIncrSeq, m.incrs[m.incrs.length - 1].seq);
      const rdb = m.base.name.endsWith(".rdb");
      assert.equal(m.base.name, baseFileName("appendonly.aof", m.base.seq, rdb));
      for (const ai of m.incrs) assert.equal(ai.name, incrFileName("appendonly.aof", ai.seq));
    }
  },
});

Deno.test({
  name: "aof manifest: history fixture keeps Redis's order (base, history, incrs)",
  ignore: noFixtures,
  fn() {
    const dir = aofDirs().find((d) => d.includes("aof-history"))!;
    const m = parseManifest(readLatin1(join(dir, "appendonly.aof.manifest")));
    assert.deepEqual(m.base, { name: "appendonly.aof.4.base.rdb", seq: 4, type: "b" });
    assert.deepEqual(m.history.map((h) => h.name), [
      "appendonly.aof.3.incr.aof",
      "appendonly.aof.3.base.rdb",
      "appendonly.aof.2.incr.aof",
      "appendonly.aof.2.base.rdb",
      "appendonly.aof.1.incr.aof",
      "appendonly.aof.1.base.rdb",
    ]);
    assert.deepEqual(m.incrs, [{ name: "appendonly.aof.4.incr.aof", seq: 4, type: "i" }]);
    assert.equal(m.currBaseSeq, 4);
    assert.equal(m.currIncrSeq, 4);
  },
});

Deno.test("aof manifest: parsing details (key order, case, comments, CRLF, extra keys)", () => {
  const m = parseManifest(
    "# a comment\n" +
      "type b seq 1 file appendonly.aof.1.base.rdb\n" +
      "FILE appendonly.aof.1.incr.aof SEQ 1 TYPE i\r\n" +
      "file appendonly.aof.2.incr.aof seq 2 type i future-key x\n",
  );
  assert.deepEqual(
    m,
    {
      base: { name: "appendonly.aof.1.base.rdb", seq: 1, type: "b" },
      history: [],
      incrs: [
        { name: "appendonly.aof.1.incr.aof", seq: 1, type: "i" },
        { name: "appendonly.aof.2.incr.aof", seq: 2, type: "i" },
      ],
      currBaseSeq: 1,
      currIncrSeq: 2,
    } satisfies AofManifest,
  );
  assert.equal(
    formatManifest(m),
    "file appendonly.aof.1.base.rdb seq 1 type b\n" +
      "file appendonly.aof.1.incr.aof seq 1 type i\n" +
      "file appendonly.aof.2.incr.aof seq 2 type i\n",
  );
  // Only incrs: no base line at all.
  const onlyIncr = "file a.1.incr.aof seq 1 type i\n";
  assert.equal(formatManifest(parseManifest(onlyIncr)), onlyIncr);
  assert.equal(parseManifest(onlyIncr).base, null);
  // A 1023-char line (plus '\n') fits Redis's 1024-byte buffer.
  const name = "n".repeat(1023 - "file  seq 1 type i".length);
  const long = `file ${name} seq 1 type i\n`;
  assert.equal(long.length, 1024);
  assert.equal(parseManifest(long).incrs[0].name, name);
});

Deno.test("aof manifest: malformed manifests fail with Redis's message and the line", () => {
  const b1 = "file a.1.base.rdb seq 1 type b\n";
  const cases: [string, string, number][] = [
    ["", ERR_EMPTY, 0],
    [b1 + "file a.2.base.rdb seq 2 type b\n", ERR_DUP_BASE, 2],
    [b1 + "file a.1.incr.aof seq 1 type x\n", ERR_UNKNOWN_TYPE, 2],
    [b1 + "file a.1.incr.aof seq 1\n", ERR_INVALID_FORMAT, 2],
    [b1 + "file a.1.incr.aof seq 1 type\n", ERR_INVALID_FORMAT, 2],
    [b1 + "file a.1.incr.aof seq 1 kind i\n", ERR_INVALID_FORMAT, 2],
    [b1 + "file a.1.incr.aof seq zero type i\n", ERR_INVALID_FORMAT, 2],
    [b1 + "file a.1.incr.aof seq 0 type i\n", ERR_INVALID_FORMAT, 2],
    [b1 + "\n", ERR_INVALID_FORMAT, 2],
    [b1 + '"file a.1.incr.aof seq 1 type i\n', ERR_INVALID_FORMAT, 2],
    [b1 + "file dir/a.1.incr.aof seq 1 type i\n", ERR_PATH, 2],
    [
      b1 + "file a.2.incr.aof seq 2 type i\nfile a.1.incr.aof seq 1 type i\n",
      ERR_NON_MONOTONIC,
      3,
    ],
    [b1 + "file a.2.incr.aof seq 2 type i\nfile a.3.incr.aof seq 2 type i\n", ERR_NON_MONOTONIC, 3],
    [`file ${"x".repeat(1100)} seq 1 type i\n`, ERR_TOO_LONG, 1],
    // Like Redis (fgets + strchr '\n'), a last line without its newline is refused.
    ["file a.1.base.rdb seq 1 type b", ERR_TOO_LONG, 1],
  ];
  for (const [text, reason, line] of cases) {
    const e = manifestError(text);
    assert.equal(e.reason, reason, JSON.stringify(text));
    assert.equal(e.line, line, JSON.stringify(text));
    assert.match(e.message, new RegExp(reason.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")));
    if (line > 0) assert.match(e.message, new RegExp(`line ${line}\\b`));
  }
});

Deno.test("aof manifest: names needing quotes use sdscatrepr and round trip", () => {
  const names = [
    "my append only.aof.1.incr.aof",
    'quo"te.aof',
    "tab\there",
    "new\nline\r",
    "bin\x00\x01\x7f\x80\xff\x07\x08",
  ];
  let seq = 1;
  const m: AofManifest = {
    base: { name: "base file.rdb", seq: 1, type: "b" },
    history: [{ name: "old base.rdb", seq: 1, type: "h" }],
    incrs: names.map((name) => ({ name, seq: seq++, type: "i" as const })),
    currBaseSeq: 1,
    currIncrSeq: names.length,
  };
  const text = formatManifest(m);
  assert.ok(
    text.startsWith('file "base file.rdb" seq 1 type b\nfile "old base.rdb" seq 1 type h\n'),
  );
  assert.ok(text.includes('file "quo\\"te.aof" seq 2 type i\n'));
  assert.ok(text.includes('file "tab\\there" seq 3 type i\n'));
  assert.ok(text.includes('file "new\\nline\\r" seq 4 type i\n'));
  assert.ok(text.includes('file "bin\\x00\\x01\\x7f\\x80\\xff\\a\\b" seq 5 type i\n'));
  // A backslash is quoted as \\ when written, but Redis refuses it on load (pathIsBaseName).
  assert.equal(reprString("back\\slash"), '"back\\\\slash"');
  assert.equal(
    manifestError('file "back\\\\slash" seq 1 type i\n').reason,
    ERR_PATH,
  );
  assert.deepEqual(parseManifest(text), m);
  assert.equal(formatManifest(parseManifest(text)), text);
  // Plain names are written bare; a single quote alone does not trigger quoting (sdsneedsrepr).
  assert.equal(
    formatManifest({ ...m, base: null, history: [], incrs: [{ name: "it's", seq: 1, type: "i" }] }),
    "file it's seq 1 type i\n",
  );
  assert.equal(manifestFileName("appendonly.aof"), "appendonly.aof.manifest");
  assert.equal(tempManifestFileName("appendonly.aof"), "temp-appendonly.aof.manifest");
  assert.equal(baseFileName("x.aof", 3, true), "x.aof.3.base.rdb");
  assert.equal(baseFileName("x.aof", 3, false), "x.aof.3.base.aof");
  assert.equal(incrFileName("x.aof", 7), "x.aof.7.incr.aof");
});

Deno.test({
  name: "aof stream: every fixture .aof file reads completely",
  ignore: noFixtures,
  fn() {
    const files = aofFiles();
    assert.ok(files.length >= 7);
    let sawTs = false;
    for (const f of files) {
      const bytes = readFileSync(f);
      const r = scanAof(bytes);
      assert.equal(r.status, "ok", `${f}: ${r.message}`);
      assert.equal(r.validEnd, bytes.length);
      assert.equal(r.openMultiAt, null, f);
      assert.ok(r.commands > 0, f);
      assert.equal(r.entries.filter((e) => e.kind === "command").length, r.commands);
      // Entries tile the file exactly, and re-encoding reproduces the bytes Redis wrote.
      let pos = 0;
      for (const e of r.entries) {
        assert.equal(e.offset, pos, f);
        const raw = latin1(bytes, e.offset, e.end);
        if (e.kind === "command") assert.equal(encodeAofCommand(e.argv), raw);
        if (e.kind === "timestamp") {
          sawTs = true;
          assert.ok(f.includes("aof-hybrid-ts"), f);
          assert.equal(encodeTimestamp(e.timestamp), raw);
          assert.ok(e.timestamp > 1_600_000_000);
        }
        pos = e.end;
      }
      assert.equal(pos, bytes.length);
      // Every incr file starts by selecting a db (after an optional #TS).
      if (f.endsWith(".incr.aof")) {
        const first = r.entries.find((e) => e.kind === "command") as AofCommand;
        assert.equal(first.argv[0], "SELECT", f);
      }
    }
    assert.ok(sawTs, "the aof-hybrid-ts fixture has #TS annotations");
  },
});

Deno.test({
  name: "aof stream: encodeAofCommand matches bytes in the fixtures",
  ignore: noFixtures,
  fn() {
    const dir = aofDirs().find((d) => d.includes("aof-hybrid-ts"))!;
    const text = readLatin1(join(dir, "appendonly.aof.3.incr.aof"));
    assert.ok(text.startsWith("#TS:"));
    const ts = Number(/^#TS:(\d+)\r\n/.exec(text)![1]);
    assert.ok(text.startsWith(encodeTimestamp(ts) + encodeAofCommand(["SELECT", "0"])));
    for (
      const argv of [
        ["SET", "after1:ex", "v", "PXAT", "1984688008290"],
        ["SET", "after1:float", "1.5", "KEEPTTL"],
        ["MULTI"],
        ["EXEC"],
      ]
    ) {
      assert.ok(text.includes(encodeAofCommand(argv)), argv.join(" "));
    }
    assert.equal(encodeAofCommand(["PING"]), "*1\r\n$4\r\nPING\r\n");
    assert.equal(encodeAofCommand(["SET", "k", ""]), "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n");
    assert.equal(
      encodeAofCommand(["SET", "\r\n", "\xff"]),
      "*3\r\n$3\r\nSET\r\n$2\r\n\r\n\r\n$1\r\n\xff\r\n",
    );
    assert.equal(encodeTimestamp(1700000000), "#TS:1700000000\r\n");
    // Binary arguments (CRLF and high bytes inside bulk strings) survive a round trip.
    const r = scanAof(bytesOf(encodeAofCommand(["SET", "\r\n", "\xff"])));
    assert.equal(r.status, "ok");
    assert.deepEqual((r.entries[0] as AofCommand).argv, ["SET", "\r\n", "\xff"]);
  },
});

/** End offsets of every complete entry, plus 0. */
function boundaries(bytes: Uint8Array): number[] {
  return [0, ...scanAof(bytes).entries.map((e) => e.end)];
}

Deno.test({
  name: "aof stream: truncation at every byte offset is torn, with validEnd before it",
  ignore: noFixtures,
  fn() {
    for (const f of aofFiles().filter((f) => f.endsWith(".incr.aof"))) {
      const bytes = readFileSync(f);
      const ends = boundaries(bytes);
      // Small files: every offset; the 230 KB one: a stride plus every offset near boundaries.
      const step = bytes.length <= 4096 ? 1 : Math.ceil(bytes.length / 300);
      const cuts = new Set<number>();
      for (let cut = 0; cut <= bytes.length; cut += step) cuts.add(cut);
      if (step > 1) {
        for (const e of ends.slice(0, 200)) for (let d = -2; d <= 2; d++) cuts.add(e + d);
      }
      let k = 0;
      for (
        const cut of [...cuts].filter((c) => c >= 0 && c <= bytes.length).sort((a, b) => a - b)
      ) {
        while (k + 1 < ends.length && ends[k + 1] <= cut) k++;
        const r = scanAof(bytes.subarray(0, cut));
        const atBoundary = ends[k] === cut;
        assert.equal(r.validEnd, ends[k], `${f} cut at ${cut}`);
        assert.equal(r.torn, !atBoundary, `${f} cut at ${cut}`);
        assert.equal(r.garbage, false, `${f} cut at ${cut}`);
        assert.equal(r.status, atBoundary ? "ok" : "torn");
        if (!atBoundary) {
          assert.equal(r.errorOffset, ends[k]);
          assert.match(r.message!, new RegExp(`offset ${ends[k]}\\b`));
        }
      }
    }
  },
});

Deno.test({
  name: "aof stream: garbage is reported at the right offset",
  ignore: noFixtures,
  fn() {
    const dir = aofDirs().find((d) => d.includes("aof-hybrid-ts"))!;
    const bytes = readFileSync(join(dir, "appendonly.aof.3.incr.aof"));
    const entries = scanAof(bytes).entries;
    const cat = (...parts: Uint8Array[]) => {
      const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
      let o = 0;
      for (const p of parts) {
        out.set(p, o);
        o += p.length;
      }
      return out;
    };
    for (const e of entries) {
      // A stray byte at an entry boundary: it cannot start a command.
      for (const junk of ["X", "\r\n", " ", "$3\r\nSET\r\n", "\x00"]) {
        const bad = cat(bytes.subarray(0, e.offset), bytesOf(junk), bytes.subarray(e.offset));
        const r = scanAof(bad);
        assert.equal(r.status, "garbage", `${junk} at ${e.offset}`);
        assert.equal(r.validEnd, e.offset);
        assert.equal(r.errorOffset, e.offset);
        assert.match(r.message!, new RegExp(`offset ${e.offset}\\b`));
      }
      if (e.kind !== "command") continue;
      // Inside a command: each corrupted header/terminator byte is named exactly.
      const raw = latin1(bytes, e.offset, e.end);
      const at = [raw.indexOf("$"), raw.indexOf("\r"), raw.indexOf("\n"), raw.lastIndexOf("\r")];
      for (const i of at) {
        const bad = new Uint8Array(bytes);
        bad[e.offset + i] = 0x58; // 'X'
        const r = scanAof(bad);
        assert.equal(r.status, "garbage", `${raw} byte ${i}`);
        assert.equal(r.validEnd, e.offset);
        assert.equal(r.errorOffset, e.offset + i);
      }
    }
    // Non-digit lengths and empty commands are not commands.
    for (const [text, at] of [["*x\r\n", 1], ["*0\r\n", 1], ["*1\r\n$-1\r\n", 5], ["*\r\n", 1]]) {
      const r = scanAof(bytesOf(text as string));
      assert.equal(r.status, "garbage", text as string);
      assert.equal(r.errorOffset, at, text as string);
      assert.equal(r.validEnd, 0);
    }
  },
});

Deno.test("aof stream: generator, start offset, annotations and open MULTI", () => {
  const text = encodeTimestamp(1700000001) + "#other note\n" + encodeAofCommand(["SELECT", "0"]) +
    encodeAofCommand(["MULTI"]) + encodeAofCommand(["INCR", "x"]);
  const bytes = bytesOf("REDIS-PREAMBLE" + text);
  const it = readAofCommands(bytes, 14);
  const first = it.next();
  assert.deepEqual(first.value, { kind: "timestamp", timestamp: 1700000001, offset: 14, end: 30 });
  const rest = [];
  let r = it.next();
  while (!r.done) {
    rest.push(r.value);
    r = it.next();
  }
  assert.deepEqual(rest.map((e) => e.kind), ["annotation", "command", "command", "command"]);
  assert.equal(r.value.status, "ok");
  assert.equal(r.value.validEnd, bytes.length);
  assert.equal(r.value.commands, 3);
  const multiAt = 14 + text.indexOf("*1\r\n$5\r\nMULTI");
  assert.equal(r.value.openMultiAt, multiAt);
  assert.equal(r.value.safeEnd, multiAt);
  // A torn annotation line (no '\n') is torn, like a torn command.
  const torn = scanAof(bytesOf(encodeAofCommand(["PING"]) + "#TS:17"));
  assert.equal(torn.status, "torn");
  assert.equal(torn.validEnd, 14);
  assert.equal(scanAof(new Uint8Array(0)).status, "ok");
});

/** Runs redis-check-aof on one .aof file: null when valid, else its ok_up_to. */
function checkAof(path: string): { valid: boolean; okUpTo: number } {
  const r = spawnSync(checkAofPath!, [path], { encoding: "utf8" });
  const out = r.stdout + r.stderr;
  const m = /ok_up_to=(\d+)/.exec(out);
  assert.ok(m, out);
  const valid = /is valid/.test(out);
  assert.equal(r.status, valid ? 0 : 1, out);
  return { valid, okUpTo: Number(m[1]) };
}

Deno.test({
  name: "aof stream: redis-check-aof agrees on intact, torn and garbage files",
  ignore: noCheckAof,
  fn() {
    assert.ok(checkAofPath, "redis-check-aof not found");
    const dir = tempDir("amber-aof-");
    try {
      const fx = aofDirs();
      const ts = readFileSync(
        join(fx.find((d) => d.includes("aof-hybrid-ts"))!, "appendonly.aof.3.incr.aof"),
      );
      const big = readFileSync(
        join(fx.find((d) => d.includes("aof-history"))!, "appendonly.aof.1.incr.aof"),
      );
      const mid = Math.floor(ts.length / 2);
      const cases: [string, Uint8Array][] = [
        ["intact", ts],
        ["torn-tail", ts.subarray(0, ts.length - 7)],
        ["torn-mid-multi", ts.subarray(0, mid)],
        ["torn-big", big.subarray(0, 100_003)],
        // Cut between MULTI and EXEC: Redis keeps only what precedes the MULTI.
        ["torn-inside-multi", ts.subarray(0, latin1(ts, 0, ts.length).indexOf("EXEC") - 2)],
        [
          "garbage-middle",
          (() => {
            const b = new Uint8Array(ts.length + 1);
            b.set(ts.subarray(0, 100));
            b[100] = 0x58;
            b.set(ts.subarray(100), 101);
            return b;
          })(),
        ],
        [
          "garbage-boundary",
          (() => {
            const at = scanAof(big).entries[20].offset;
            const b = new Uint8Array(big);
            b[at] = 0x21; // '!'
            return b;
          })(),
        ],
      ];
      for (const [name, bytes] of cases) {
        const path = join(dir, `${name}.aof`);
        writeFileSync(path, bytes);
        const ours = scanAof(bytes);
        const theirs = checkAof(path);
        assert.equal(ours.status === "ok", theirs.valid, name);
        assert.equal(ours.safeEnd, theirs.okUpTo, `${name}: ${ours.message}`);
        if (name.startsWith("torn")) assert.equal(ours.status, "torn", name);
        if (name.startsWith("garbage")) assert.equal(ours.status, "garbage", name);
        if (name === "torn-inside-multi") {
          assert.ok(ours.openMultiAt !== null && ours.safeEnd < ours.validEnd, ours.message!);
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
});
