// Tests for the operator tools (src/tools: `amber check-rdb`, `check-aof`, `dump`) against
// the real thing: every fixture written by redis-server 7.0.15 and damaged copies of them
// made here (truncated, flipped bytes, bad checksum, torn tail, garbage, missing file, bad
// manifest) get the same verdict (exit code) and, where the two report the same thing,
// the same offsets and lines as `redis-check-rdb` / `redis-check-aof`; `dump` prints
// exactly the data expected.json describes, and its RESP output rebuilds it in a fresh
// server. Most cases call the run functions in-process with captured stdio; a few run
// the CLI as a subprocess (AMBER_BIN selects the compiled binary).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  cpSync,
  existsSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { runCheckRdb } from "../src/tools/check_rdb.ts";
import { runCheckAof } from "../src/tools/check_aof.ts";
import { jsonBytes, respCommands, runDump } from "../src/tools/dump.ts";
import { Progress } from "../src/tools/progress.ts";
import { showBytes, type ToolIO } from "../src/tools/io.ts";
import { scanAof } from "../src/persistence/aof/stream.ts";
import { formatScore } from "../src/util/double.ts";
import {
  amberCommand,
  IN_CI,
  skipWithoutRedis,
  spawnRedis,
  startAmber,
  tempDir,
} from "./helpers/servers.ts";
import { type DatasetDump, diffDatasets, dumpDataset } from "./helpers/dataset.ts";
import { prng } from "./helpers/prng.ts";
import { FIXTURES } from "./helpers/fixtures.ts";

// shared/ sits beside the repository (locally /work/shared, in CI next to the clone).
const R7 = join(FIXTURES, "redis-7.0.15");
const ASSETS = join(FIXTURES, "redis-assets");
const haveFixtures = existsSync(join(FIXTURES, "README.md"));

function which(cmd: string): string | null {
  const r = spawnSync("sh", ["-c", `command -v ${cmd}`], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : null;
}
const CHECK_RDB = which("redis-check-rdb");
const CHECK_AOF = which("redis-check-aof");
// Missing tools or fixtures skip locally and fail in CI (the test then runs and says why).
const noReference = (CHECK_RDB === null || CHECK_AOF === null || !haveFixtures) && !IN_CI;
const noFixtures = !haveFixtures && !IN_CI;

const RDB_FIXTURES = [
  "rdb-default",
  "rdb-nocompress",
  "rdb-nochecksum",
  "rdb-compressed-list",
  "rdb-no-listpacks",
];
const AOF_FIXTURES = ["aof-hybrid", "aof-hybrid-ts", "aof-resp-base", "aof-history"];

// ---- helpers ----------------------------------------------------------------------------

interface Captured {
  io: ToolIO;
  /** stdout as Latin-1 (one char per byte). */
  out(): string;
  bytes(): Uint8Array;
  err(): string;
}

/** A ToolIO that records stdout/stderr and answers readLine from `answers`. */
function capture(answers: string[] = []): Captured {
  const outChunks: Uint8Array[] = [];
  let err = "";
  const enc = new TextEncoder();
  const bytes = () => {
    const n = outChunks.reduce((a, c) => a + c.length, 0);
    const all = new Uint8Array(n);
    let at = 0;
    for (const c of outChunks) {
      all.set(c, at);
      at += c.length;
    }
    return all;
  };
  return {
    io: {
      out: (c) => outChunks.push(typeof c === "string" ? enc.encode(c) : c.slice()),
      err: (t) => err += t,
      readLine: () => Promise.resolve(answers.length > 0 ? answers.shift()! : null),
      errIsTTY: false,
    },
    bytes,
    out: () => latin1(bytes()),
    err: () => err,
  };
}

function latin1(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i += 8192) {
    s += String.fromCharCode(...b.subarray(i, Math.min(b.length, i + 8192)));
  }
  return s;
}

function bytesOfLatin1(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
  return b;
}

/** TTLs count down between two runs: what does not depend on "now". */
function stripTtl(s: string): string {
  return s.replace(/"ttl_ms":-?\d+/g, '"ttl_ms":_');
}

function utf8(b: Uint8Array): string {
  return new TextDecoder().decode(b);
}

/**
 * Runs a command with `input` as its stdin, from a file: a pipe would race with a
 * child that exits before reading it (EPIPE, and spawnSync loses the exit status).
 */
function run(cmd: string, args: string[], input = "") {
  const dir = tempDir("amber-stdin-");
  const file = join(dir, "stdin");
  writeFileSync(file, input);
  try {
    // (An fd in `stdio` is not honoured by every runtime's child_process: use the shell.)
    const r = spawnSync("sh", ["-c", 'f="$1"; shift; exec "$@" < "$f"', "sh", file, cmd, ...args], {
      encoding: "latin1",
      timeout: 60000,
      maxBuffer: 64 << 20,
    });
    if (r.error) throw r.error;
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function runCli(args: string[], input = "") {
  const [cmd, pre] = amberCommand();
  return run(cmd, [...pre, ...args], input);
}

function readBytes(path: string): Uint8Array {
  const b = readFileSync(path);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** A writable copy of a fixture's appendonlydir (fixtures are read-only). */
function copyAofDir(fixture: string, into = tempDir("amber-tools-")): string {
  const dir = join(into, "appendonlydir");
  cpSync(join(R7, fixture, "appendonlydir"), dir, { recursive: true });
  chmodSync(dir, 0o755);
  for (const f of readdirSync(dir)) chmodSync(join(dir, f), 0o644);
  return dir;
}

function sizes(dir: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const f of readdirSync(dir).sort()) out[f] = statSync(join(dir, f)).size;
  return out;
}

/** Lines of a report that both tools print the same way (ours adds [info] lines etc.). */
function comparableAofLines(text: string, tmp: string): string[] {
  return text.split("\n")
    .map((l) =>
      l.replaceAll(tmp, "DIR").replace(/^Continue\? \[y\/N\]: /, "")
        .replace(/^\d+:C \d\d \w{3} \d{4} [\d:.]+ # /, "") // redis logs manifest errors
    )
    .map((l) => l.replace("Then re-run redis-check-aof.", "Then re-run amber check-aof."))
    .filter((l) =>
      l !== "" && !l.startsWith("[info]") && !/^0x[ 0-9a-f]+: /.test(l) &&
      !l.startsWith("AOF error: ") && !l.startsWith("Saved a copy") &&
      !l.startsWith("Warning: this is not a torn tail") &&
      !/^AOF .*: the first timestamp annotation after/.test(l) &&
      !l.startsWith("[offset ") // RDB lines: compared by the check-rdb tests
    );
}

/** Our report without the [info] lines redis-check-rdb does not print. */
function withoutOurInfo(text: string): string {
  return text.split("\n").filter((l) =>
    !/^\[info\] (RDB format version|db \d+:|type |\d+ function)/.test(l)
  ).join("\n");
}

// ---- check-rdb --------------------------------------------------------------------------

async function ourCheckRdb(path: string, chunkSize?: number) {
  const c = capture();
  const code = await runCheckRdb([path], c.io, { chunkSize });
  return { code, out: utf8(c.bytes()) };
}

/** Every RDB file of the fixtures. */
function allRdbFiles(): string[] {
  const files = RDB_FIXTURES.map((f) => join(R7, f, "dump.rdb"));
  for (const f of readdirSync(ASSETS).sort()) if (f.endsWith(".rdb")) files.push(join(ASSETS, f));
  for (const f of AOF_FIXTURES) {
    const dir = join(R7, f, "appendonlydir");
    for (const g of readdirSync(dir).sort()) if (g.endsWith(".rdb")) files.push(join(dir, g));
  }
  return files;
}

Deno.test({
  name: "check-rdb: every fixture, same verdict and same lines as redis-check-rdb",
  ignore: noReference,
  async fn() {
    let n = 0;
    for (const path of allRdbFiles()) {
      const ref = run(CHECK_RDB!, [path]);
      const ours = await ourCheckRdb(path);
      assert.equal(ours.code, ref.status, `${path}: exit code\n${ours.out}\n---\n${ref.stdout}`);
      if (ref.status === 0) {
        // Ours is redis-check-rdb's report, then more [info] lines.
        assert.ok(
          ours.out.startsWith(ref.stdout),
          `${path}: report differs\n${ours.out}\n--- redis-check-rdb:\n${ref.stdout}`,
        );
        assert.match(ours.out, /\[info\] RDB format version \d+\n/);
      } else {
        assert.match(ours.out, /--- RDB ERROR DETECTED ---\n\[offset \d+\] /);
      }
      n++;
    }
    assert.ok(n >= 15, `only ${n} files`);
  },
});

Deno.test({
  name: "check-rdb: reports version, per-db and per-type counts",
  ignore: noFixtures,
  async fn() {
    const { code, out } = await ourCheckRdb(join(R7, "rdb-default", "dump.rdb"));
    assert.equal(code, 0);
    assert.match(out, /^\[offset 0\] Checking RDB file .*dump\.rdb\n/);
    assert.match(out, /\[offset 27\] AUX FIELD redis-ver = '7\.0\.15'\n/);
    assert.match(out, /\[offset 82\] Selecting DB ID 0\n/);
    assert.match(out, /\[offset 93486\] Checksum OK\n\[offset 93486\] \\o\/ RDB looks OK! \\o\/\n/);
    assert.match(out, /\[info\] 30 keys read\n\[info\] 4 expires\n\[info\] 0 already expired\n/);
    assert.match(out, /\[info\] RDB format version 10\n/);
    assert.match(out, /\[info\] db 0: 27 keys, 4 with an expire\n/);
    assert.match(out, /\[info\] db 3: 2 keys, 0 with an expire\n/);
    assert.match(out, /\[info\] db 15: 1 keys, 0 with an expire\n/);
    assert.match(out, /\[info\] type string: 16 keys\n/);
    assert.match(
      out,
      /\[info\] type set: 4 keys \((intset 1, hashtable 3|hashtable 3, intset 1)\)\n/,
    );
  },
});

/** A damaged copy of `src` written to `dir`, with redis-check-rdb's and our verdicts. */
async function compareDamagedRdb(dir: string, name: string, bytes: Uint8Array) {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  const ref = run(CHECK_RDB!, [path]);
  const ours = await ourCheckRdb(path);
  return { ref, ours, path };
}

function errorBlock(out: string) {
  const i = out.indexOf("--- RDB ERROR DETECTED ---\n");
  if (i < 0) return null;
  const lines = out.slice(i).split("\n");
  return {
    offset: Number(/^\[offset (\d+)\]/.exec(lines[1])?.[1]),
    key: lines.find((l) => l.startsWith("[additional info] Reading key")),
    type: lines.find((l) => l.startsWith("[additional info] Reading type")),
    keysRead: lines.find((l) => / keys read$/.test(l)),
  };
}

Deno.test({
  name: "check-rdb: truncated copies fail like redis-check-rdb, at the same offset and key",
  ignore: noReference,
  async fn() {
    const dir = tempDir("amber-tools-");
    try {
      const rnd = prng(61);
      let n = 0;
      for (const fx of ["rdb-default", "rdb-nocompress", "rdb-no-listpacks"]) {
        const src = readBytes(join(R7, fx, "dump.rdb"));
        // The edges (empty, mid-header, no checksum) and random cuts.
        const cuts = [0, 4, 9, 20, src.length - 9, src.length - 1];
        for (let i = 0; i < 12; i++) cuts.push(Math.floor(rnd() * src.length));
        for (const cut of cuts) {
          const { ref, ours } = await compareDamagedRdb(dir, `cut${cut}.rdb`, src.slice(0, cut));
          const what = `${fx} cut at ${cut}`;
          assert.equal(ref.status, 1, what);
          assert.equal(ours.code, 1, `${what}\n${ours.out}`);
          const a = errorBlock(ours.out)!;
          const b = errorBlock(ref.stdout)!;
          assert.equal(a.offset, b.offset, `${what}: offset\n${ours.out}\n---\n${ref.stdout}`);
          assert.equal(a.keysRead, b.keysRead, `${what}: keys read`);
          if (a.key !== undefined) assert.equal(a.key, b.key, `${what}: key`);
          if (a.type !== undefined) assert.equal(a.type, b.type, `${what}: type`);
          n++;
        }
      }
      assert.equal(n, 54);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
});

Deno.test({
  name: "check-rdb: flipped bytes, bad checksum, bad header, empty key: same verdicts",
  ignore: noReference,
  async fn() {
    const dir = tempDir("amber-tools-");
    try {
      const rnd = prng(62);
      const cases: [string, Uint8Array][] = [];
      // Without a checksum, a flipped bit must be caught (or not) by the structure checks
      // exactly where redis-check-rdb's are. (Files whose zsets store scores as text are
      // left out: the reader refuses "1x5" where Redis's sscanf reads 1.)
      for (const fx of ["rdb-nochecksum", "rdb-no-listpacks"]) {
        const src = readBytes(join(R7, fx, "dump.rdb"));
        if (fx === "rdb-no-listpacks") src.fill(0, src.length - 8); // checksum off
        for (let i = 0; i < 40; i++) {
          const b = src.slice();
          b[9 + Math.floor(rnd() * (b.length - 9))] ^= 1 << Math.floor(rnd() * 8);
          cases.push([`${fx}-flip${i}`, b]);
        }
      }
      const good = readBytes(join(R7, "rdb-default", "dump.rdb"));
      const flipped = good.slice();
      const at = latin1(good).indexOf("in db 3");
      flipped[at] ^= 0x20; // inside a string value: only the checksum notices
      cases.push(["crc-mismatch", flipped]);
      const badSum = good.slice();
      badSum[badSum.length - 3] ^= 0xff;
      cases.push(["bad-checksum", badSum]);
      const magic = good.slice();
      magic[0] = 0x58;
      cases.push(["bad-magic", magic]);
      const version = good.slice();
      version.set([0x30, 0x30, 0x39, 0x39], 5); // REDIS0099
      cases.push(["bad-version", version]);
      cases.push(["empty-keys", readBytes(join(ASSETS, "corrupt_empty_keys.rdb"))]);
      const extra = new Uint8Array(good.length + 5);
      extra.set(good);
      cases.push(["trailing-bytes", extra]); // redis-check-rdb stops at the checksum
      let damaged = 0;
      for (const [name, bytes] of cases) {
        const { ref, ours } = await compareDamagedRdb(dir, `${name}.rdb`, bytes);
        assert.equal(ours.code, ref.status, `${name}\n${ours.out}\n--- redis:\n${ref.stdout}`);
        if (ref.status !== 0) damaged++;
      }
      assert.ok(damaged >= 20, `only ${damaged} damaged`); // both kinds were exercised
      const { ours } = await compareDamagedRdb(dir, "crc.rdb", flipped);
      assert.match(ours.out, /\[offset 93478\] RDB CRC error: the file says 0x[0-9a-f]{16} but/);
      assert.match(ours.out, /While doing: check-sum/);
      const empty = await ourCheckRdb(join(ASSETS, "corrupt_empty_keys.rdb"));
      assert.match(empty.out, /\[offset \d+\] Empty key: /);
      assert.match(empty.out, /Reading type 2 \(set-hashtable\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
});

Deno.test({
  name: "check-rdb: as a subprocess (amber check-rdb), usage and exit codes",
  ignore: noFixtures,
  fn() {
    const ok = runCli(["check-rdb", join(R7, "rdb-compressed-list", "dump.rdb")]);
    assert.equal(ok.status, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /^\[offset 0\] Checking RDB file /);
    assert.match(ok.stdout, /\\o\/ RDB looks OK! \\o\/\n/);
    assert.equal(ok.stderr, "");
    const dir = tempDir("amber-tools-");
    try {
      const cut = join(dir, "cut.rdb");
      writeFileSync(cut, readBytes(join(R7, "rdb-default", "dump.rdb")).slice(0, 50000));
      const bad = runCli(["check-rdb", cut]);
      assert.equal(bad.status, 1);
      assert.match(bad.stdout, /--- RDB ERROR DETECTED ---\n\[offset 18627\] Unexpected EOF/);
      assert.match(bad.stdout, /\[additional info\] Reading key 'str:big'\n/);
      const missing = runCli(["check-rdb", join(dir, "nope.rdb")]);
      assert.equal(missing.status, 1);
      assert.match(missing.stdout, /Cannot open file .*nope\.rdb: No such file or directory/);
      const usage = runCli(["check-rdb"]);
      assert.equal(usage.status, 1);
      assert.match(usage.stderr, /^Usage: amber check-rdb/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
});

// ---- check-aof --------------------------------------------------------------------------

interface AofCase {
  name: string;
  fixture: string;
  /** Damages the copy in `dir`. */
  damage?: (dir: string) => void;
  /** Arguments; "M" is replaced by the manifest path, "F:<name>" by a file in the dir. */
  args: string[];
  input?: string;
}

const INCR = (fx: string) =>
  fx === "aof-hybrid-ts" ? "appendonly.aof.3.incr.aof" : "appendonly.aof.2.incr.aof";

function appendTo(path: string, text: string) {
  const old = readBytes(path);
  const add = bytesOfLatin1(text);
  const b = new Uint8Array(old.length + add.length);
  b.set(old);
  b.set(add, old.length);
  writeFileSync(path, b);
}

function putByte(path: string, at: number, byte: number) {
  const b = readBytes(path).slice();
  b[at] = byte;
  writeFileSync(path, b);
}

const TS_TAIL = "#TS:100\r\n*2\r\n$4\r\nINCR\r\n$1\r\nx\r\n#TS:200\r\n*2\r\n$4\r\nINCR\r\n$1\r\n" +
  "y\r\n#TS:300\r\n*2\r\n$4\r\nINCR\r\n$1\r\nz\r\n";

const AOF_CASES: AofCase[] = [
  ...AOF_FIXTURES.map((fixture) => ({ name: `${fixture} as written`, fixture, args: ["M"] })),
  {
    name: "torn tail",
    fixture: "aof-hybrid",
    damage: (d) => truncateSync(join(d, INCR("aof-hybrid")), 590),
    args: ["M"],
  },
  {
    name: "torn tail, --fix, answer n",
    fixture: "aof-hybrid",
    damage: (d) => truncateSync(join(d, INCR("aof-hybrid")), 590),
    args: ["--fix", "M"],
    input: "n\n",
  },
  {
    name: "torn tail, --fix, answer y",
    fixture: "aof-hybrid",
    damage: (d) => truncateSync(join(d, INCR("aof-hybrid")), 590),
    args: ["--fix", "M"],
    input: "y\n",
  },
  {
    name: "torn tail, --fix, no answer",
    fixture: "aof-hybrid-ts",
    damage: (d) => truncateSync(join(d, INCR("aof-hybrid-ts")), 500),
    args: ["--fix", "M"],
  },
  {
    name: "garbage in the middle",
    fixture: "aof-hybrid",
    damage: (d) => putByte(join(d, INCR("aof-hybrid")), 200, 0x58),
    args: ["M"],
  },
  {
    name: "garbage in the middle, --fix y",
    fixture: "aof-hybrid",
    damage: (d) => putByte(join(d, INCR("aof-hybrid")), 200, 0x58),
    args: ["--fix", "M"],
    input: "y\n",
  },
  {
    name: "garbage where a command starts",
    fixture: "aof-resp-base",
    damage: (d) => putByte(join(d, INCR("aof-resp-base")), 27, 0x21),
    args: ["M"],
  },
  {
    name: "torn base that is not the last file, --fix",
    fixture: "aof-resp-base",
    damage: (d) => truncateSync(join(d, "appendonly.aof.2.base.aof"), 239500),
    args: ["--fix", "M"],
    input: "y\n",
  },
  {
    name: "damaged RDB base",
    fixture: "aof-hybrid",
    damage: (d) => putByte(join(d, "appendonly.aof.2.base.rdb"), 93000, 0x58),
    args: ["M"],
  },
  {
    name: "truncated RDB base",
    fixture: "aof-history",
    damage: (d) => truncateSync(join(d, "appendonly.aof.4.base.rdb"), 50000),
    args: ["M"],
  },
  {
    name: "missing incr file",
    fixture: "aof-hybrid",
    damage: (d) => rmSync(join(d, INCR("aof-hybrid"))),
    args: ["M"],
  },
  {
    name: "missing base file",
    fixture: "aof-hybrid",
    damage: (d) => rmSync(join(d, "appendonly.aof.2.base.rdb")),
    args: ["M"],
  },
  {
    name: "missing history file (not checked)",
    fixture: "aof-history",
    damage: (d) => rmSync(join(d, "appendonly.aof.1.incr.aof")),
    args: ["M"],
  },
  {
    name: "bad manifest line",
    fixture: "aof-hybrid",
    damage: (d) =>
      writeFileSync(
        join(d, "appendonly.aof.manifest"),
        "file appendonly.aof.2.base.rdb seq 2 type b\nfoo bar\n",
      ),
    args: ["M"],
  },
  {
    name: "unknown file type in the manifest",
    fixture: "aof-hybrid",
    damage: (d) =>
      writeFileSync(
        join(d, "appendonly.aof.manifest"),
        "file appendonly.aof.2.base.rdb seq 2 type b\nfile x seq 1 type z\n",
      ),
    args: ["M"],
  },
  {
    name: "manifest without its last newline",
    fixture: "aof-hybrid",
    damage: (d) =>
      writeFileSync(
        join(d, "appendonly.aof.manifest"),
        "file appendonly.aof.2.base.rdb seq 2 type b",
      ),
    args: ["M"],
  },
  {
    name: "MULTI never closed at the end",
    fixture: "aof-hybrid",
    damage: (d) =>
      appendTo(join(d, INCR("aof-hybrid")), "*1\r\n$5\r\nMULTI\r\n*2\r\n$4\r\nINCR\r\n$1\r\nx\r\n"),
    args: ["M"],
  },
  {
    name: "MULTI never closed, --fix y",
    fixture: "aof-hybrid",
    damage: (d) =>
      appendTo(join(d, INCR("aof-hybrid")), "*1\r\n$5\r\nMULTI\r\n*2\r\n$4\r\nINCR\r\n$1\r\nx\r\n"),
    args: ["--fix", "M"],
    input: "y\n",
  },
  {
    name: "EXEC without MULTI",
    fixture: "aof-hybrid",
    damage: (d) =>
      appendTo(join(d, INCR("aof-hybrid")), "*1\r\n$4\r\nEXEC\r\n*2\r\n$4\r\nINCR\r\n$1\r\nx\r\n"),
    args: ["M"],
  },
  {
    name: "nested MULTI",
    fixture: "aof-hybrid",
    damage: (d) =>
      appendTo(join(d, INCR("aof-hybrid")), "*1\r\n$5\r\nMULTI\r\n*1\r\n$5\r\nMULTI\r\n"),
    args: ["M"],
  },
  {
    name: "empty incr file",
    fixture: "aof-hybrid",
    damage: (d) => writeFileSync(join(d, INCR("aof-hybrid")), ""),
    args: ["M"],
  },
  {
    name: "annotation without newline at the end",
    fixture: "aof-hybrid",
    damage: (d) => appendTo(join(d, INCR("aof-hybrid")), "*2\r\n$4\r\nINCR\r\n$1\r\nx\r\n#TS:5"),
    args: ["M"],
  },
  {
    name: "--truncate-to-timestamp in the middle",
    fixture: "aof-hybrid",
    damage: (d) => appendTo(join(d, INCR("aof-hybrid")), TS_TAIL),
    args: ["--truncate-to-timestamp", "150", "M"],
  },
  {
    name: "--truncate-to-timestamp past the end",
    fixture: "aof-hybrid",
    damage: (d) => appendTo(join(d, INCR("aof-hybrid")), TS_TAIL),
    args: ["--truncate-to-timestamp", "1000", "M"],
  },
  {
    name: "--truncate-to-timestamp before everything",
    fixture: "aof-hybrid",
    damage: (d) => writeFileSync(join(d, INCR("aof-hybrid")), TS_TAIL),
    args: ["--truncate-to-timestamp", "50", "M"],
  },
  {
    name: "--truncate-to-timestamp in a file that is not the last",
    fixture: "aof-resp-base",
    damage: (d) =>
      appendTo(join(d, "appendonly.aof.2.base.aof"), "#TS:100\r\n*1\r\n$4\r\nPING\r\n#TS:200\r\n"),
    args: ["--truncate-to-timestamp", "150", "M"],
  },
  {
    name: "--truncate-to-timestamp on a fixture with annotations",
    fixture: "aof-hybrid-ts",
    args: ["--truncate-to-timestamp", "100", "M"],
  },
  {
    name: "invalid timestamp",
    fixture: "aof-hybrid",
    args: ["--truncate-to-timestamp", "abc", "M"],
  },
  {
    name: "old-style AOF file",
    fixture: "aof-hybrid",
    damage: (d) => writeFileSync(join(d, "plain.aof"), readBytes(join(d, INCR("aof-hybrid")))),
    args: ["F:plain.aof"],
  },
  {
    name: "old-style AOF file, torn, --fix y",
    fixture: "aof-hybrid",
    damage: (d) =>
      writeFileSync(join(d, "plain.aof"), readBytes(join(d, INCR("aof-hybrid"))).slice(0, 500)),
    args: ["--fix", "F:plain.aof"],
    input: "y\n",
  },
  {
    name: "old-style AOF with RDB preamble, torn",
    fixture: "aof-hybrid",
    damage: (d) => {
      const base = readBytes(join(d, "appendonly.aof.2.base.rdb"));
      const incr = readBytes(join(d, INCR("aof-hybrid")));
      const b = new Uint8Array(base.length + incr.length - 3);
      b.set(base);
      b.set(incr.subarray(0, incr.length - 3), base.length);
      writeFileSync(join(d, "p.aof"), b);
    },
    args: ["F:p.aof"],
  },
];

async function compareAofCase(c: AofCase, chunkSize?: number): Promise<void> {
  const root = tempDir("amber-tools-");
  try {
    const dirs = [copyAofDir(c.fixture, join(root, "r")), copyAofDir(c.fixture, join(root, "a"))];
    for (const d of dirs) c.damage?.(d);
    const argsFor = (d: string) =>
      c.args.map((a) =>
        a === "M"
          ? join(d, "appendonly.aof.manifest")
          : a.startsWith("F:")
          ? join(d, a.slice(2))
          : a
      );
    const ref = run(CHECK_AOF!, argsFor(dirs[0]), c.input ?? "");
    const cap = capture(c.input ? c.input.split("\n").filter((l) => l !== "") : []);
    const code = await runCheckAof(argsFor(dirs[1]), cap.io, { progress: false, chunkSize });
    const ours = utf8(cap.bytes());
    const what = `${c.name}\n--- amber:\n${ours}\n--- redis-check-aof:\n${ref.stdout}`;
    assert.equal(code, ref.status, `exit code: ${what}`);
    assert.deepEqual(
      comparableAofLines(ours, dirs[1]),
      comparableAofLines(ref.stdout, dirs[0]),
      `report: ${what}`,
    );
    // Same files, same sizes afterwards (plus our backup copies).
    const theirs = sizes(dirs[0]);
    const mine = sizes(dirs[1]);
    for (const [f, n] of Object.entries(mine)) {
      if (f.includes(".bak")) {
        assert.ok(/Saved a copy of the original as /.test(ours), `backup not announced: ${what}`);
        continue;
      }
      assert.equal(n, theirs[f], `size of ${f}: ${what}`);
    }
    assert.deepEqual(
      Object.keys(mine).filter((f) => !f.includes(".bak")),
      Object.keys(theirs),
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

Deno.test({
  name: "check-aof: fixtures and damaged copies, same verdicts, lines and cuts as redis-check-aof",
  ignore: noReference,
  async fn() {
    for (const c of AOF_CASES) await compareAofCase(c);
    // Reading in 7-byte windows crosses every boundary inside commands and annotations.
    for (const c of AOF_CASES) await compareAofCase(c, 7);
  },
});

Deno.test({
  name: "check-aof: the RDB-preamble asset and a directory argument",
  ignore: noReference,
  async fn() {
    const asset = join(ASSETS, "rdb-preamble.aof");
    const ref = run(CHECK_AOF!, [asset]);
    const cap = capture();
    assert.equal(await runCheckAof([asset], cap.io, { progress: false }), ref.status);
    assert.equal(withoutOurInfo(utf8(cap.bytes())), ref.stdout);
    // A directory means its manifest.
    const dirCap = capture();
    const code = await runCheckAof([join(R7, "aof-hybrid", "appendonlydir")], dirCap.io, {
      progress: false,
    });
    assert.equal(code, 0);
    assert.match(utf8(dirCap.bytes()), /All AOF files and manifest are valid\n$/);
  },
});

Deno.test({
  name: "check-aof: --fix keeps a backup (never overwritten), --yes answers, garbage warns",
  ignore: noFixtures,
  async fn() {
    const root = tempDir("amber-tools-");
    try {
      const dir = copyAofDir("aof-hybrid", root);
      const incr = join(dir, INCR("aof-hybrid"));
      const original = readBytes(incr);
      truncateSync(incr, 590);
      const cap = capture();
      const code = await runCheckAof(["--fix", "--yes", dir], cap.io, { progress: false });
      const out = utf8(cap.bytes());
      assert.equal(code, 0, out);
      assert.match(out, /AOF error: truncated entry at offset 571/);
      assert.match(out, /Continue\? \[y\/N\]: y \(--yes\)\n/);
      assert.match(out, /Saved a copy of the original as .*incr\.aof\.bak\n/);
      assert.equal(statSync(incr).size, 571);
      assert.deepEqual(readBytes(incr + ".bak"), original.slice(0, 590));
      // Now sound: nothing to do.
      const again = capture();
      assert.equal(await runCheckAof(["--fix", dir], again.io, { progress: false }), 0);
      assert.doesNotMatch(utf8(again.bytes()), /Continue/);
      // Garbage: cut too, with a warning, and the first backup stays.
      const b = readBytes(incr).slice();
      b[300] = 0x21;
      writeFileSync(incr, b);
      const g = capture(["yes"]);
      assert.equal(await runCheckAof(["--fix", dir], g.io, { progress: false }), 0);
      const gout = utf8(g.bytes());
      assert.match(gout, /Warning: this is not a torn tail but bad data/);
      assert.match(gout, /Saved a copy of the original as .*incr\.aof\.bak\.2\n/);
      assert.deepEqual(readBytes(incr + ".bak"), original.slice(0, 590));
      assert.equal(readBytes(incr + ".bak.2")[300], 0x21);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  },
});

Deno.test({
  name: "check-aof: as a subprocess, --fix reads its answer from stdin",
  ignore: noFixtures,
  fn() {
    const root = tempDir("amber-tools-");
    try {
      const dir = copyAofDir("aof-hybrid", root);
      const incr = join(dir, INCR("aof-hybrid"));
      truncateSync(incr, 590);
      const manifest = join(dir, "appendonly.aof.manifest");
      const check = runCli(["check-aof", manifest]);
      assert.equal(check.status, 1, check.stdout + check.stderr);
      assert.match(
        check.stdout,
        /AOF analyzed: filename=appendonly\.aof\.2\.incr\.aof, size=590, ok_up_to=571, ok_up_to_line=108, diff=19\n/,
      );
      assert.match(check.stdout, /is not valid\. Use the --fix option to try fixing it\.\n$/);
      const no = runCli(["check-aof", "--fix", manifest], "n\n");
      assert.equal(no.status, 1);
      assert.match(no.stdout, /Continue\? \[y\/N\]: Aborting\.\.\.\n$/);
      assert.equal(statSync(incr).size, 590);
      const yes = runCli(["check-aof", "--fix", manifest], "y\n");
      assert.equal(yes.status, 0, yes.stdout + yes.stderr);
      assert.match(yes.stdout, /Successfully truncated AOF appendonly\.aof\.2\.incr\.aof\n/);
      assert.match(yes.stdout, /All AOF files and manifest are valid\n$/);
      assert.equal(statSync(incr).size, 571);
      const usage = runCli(["check-aof", "--bogus", manifest]);
      assert.equal(usage.status, 1);
      assert.match(usage.stderr, /Usage: amber check-aof/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  },
});

// ---- dump -------------------------------------------------------------------------------

/** A JSON-encoded byte string back to Latin-1. */
function bytesOf(v: unknown): string {
  if (typeof v === "string") return latin1(new TextEncoder().encode(v));
  const b64 = (v as { base64?: string }).base64;
  assert.ok(typeof b64 === "string", `not a byte string: ${JSON.stringify(v)}`);
  return atob(b64);
}

interface ExpectedKey {
  type: string;
  value: unknown;
  pexpireat: number | null;
}

/** JSON lines from dump in expected.json's shape (`dbs[db][key]`). */
function jsonLinesToDataset(text: string): Record<string, Record<string, ExpectedKey>> {
  const out: Record<string, Record<string, ExpectedKey>> = {};
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const j = JSON.parse(line);
    const key = bytesOf(j.key);
    let value: unknown;
    switch (j.type) {
      case "string":
        value = bytesOf(j.value);
        break;
      case "list":
        value = j.value.map(bytesOf);
        break;
      case "set":
        value = j.value.map(bytesOf).sort();
        break;
      case "hash":
        value = Object.fromEntries(j.value.map((p: unknown[]) => [bytesOf(p[0]), bytesOf(p[1])]));
        break;
      case "zset":
        value = j.value.map((p: unknown[]) => [
          bytesOf(p[0]),
          typeof p[1] === "number" ? formatScore(p[1]) : p[1],
        ]);
        break;
    }
    if (j.expire_at_ms !== null) assert.equal(typeof j.ttl_ms, "number");
    (out[String(j.db)] ??= {})[key] = { type: j.type, value, pexpireat: j.expire_at_ms };
  }
  return out;
}

function compareWithExpected(
  got: Record<string, Record<string, ExpectedKey>>,
  expected: Record<string, Record<string, ExpectedKey>>,
  what: string,
): number {
  let n = 0;
  assert.deepEqual(Object.keys(got).sort(), Object.keys(expected).sort(), `${what}: dbs`);
  for (const [db, keys] of Object.entries(expected)) {
    assert.deepEqual(Object.keys(got[db]).sort(), Object.keys(keys).sort(), `${what}: db ${db}`);
    for (const [key, e] of Object.entries(keys)) {
      const g = got[db][key];
      const id = `${what}: db ${db} ${JSON.stringify(key)}`;
      assert.equal(g.type, e.type, id);
      assert.deepEqual(g.value, e.value, id);
      if (e.pexpireat === null) assert.equal(g.pexpireat, null, id);
      else assert.ok(Math.abs(g.pexpireat! - e.pexpireat) < 5000, `${id}: expiry`);
      n++;
    }
  }
  return n;
}

function expectedOf(fixture: string) {
  return JSON.parse(readFileSync(join(R7, fixture, "expected.json"), "utf8")).dbs;
}

async function dumpOut(args: string[], extra = {}) {
  const c = capture();
  const code = await runDump(args, c.io, { progress: false, ...extra });
  return { code, out: c.out(), text: utf8(c.bytes()), err: c.err() };
}

Deno.test({
  name: "dump: JSON lines of every RDB and AOF fixture hold exactly expected.json",
  ignore: noFixtures,
  async fn() {
    for (const fx of RDB_FIXTURES) {
      const r = await dumpOut([join(R7, fx, "dump.rdb")]);
      assert.equal(r.code, 0, r.err);
      const n = compareWithExpected(jsonLinesToDataset(r.text), expectedOf(fx), fx);
      assert.equal(r.err, `Dumped ${n} keys from RDB file ${join(R7, fx, "dump.rdb")}\n`);
    }
    for (const fx of AOF_FIXTURES) {
      const dir = join(R7, fx, "appendonlydir");
      const r = await dumpOut([dir]);
      assert.equal(r.code, 0, r.err);
      compareWithExpected(jsonLinesToDataset(r.text), expectedOf(fx), fx);
      // The manifest itself means the same.
      const m = await dumpOut([join(dir, "appendonly.aof.manifest")]);
      assert.equal(stripTtl(m.text), stripTtl(r.text));
    }
  },
});

Deno.test({
  name: "dump: binary-safe encoding, value shapes, TTLs",
  ignore: noFixtures,
  async fn() {
    assert.equal(jsonBytes("plain"), '"plain"');
    assert.equal(jsonBytes("caf\xc3\xa9"), '"café"'); // UTF-8 bytes print as text
    assert.equal(jsonBytes("\x00\xff\r\n"), '{"base64":"AP8NCg=="}');
    assert.equal(jsonBytes(""), '""');
    assert.equal(showBytes("a\x00\xffb"), "a\\x00\\xffb");
    const now = 1_800_000_000_000;
    const r = await dumpOut([join(R7, "rdb-default", "dump.rdb")], { now });
    const lines = r.text.trim().split("\n").map((l) => JSON.parse(l));
    const by = (k: string) => lines.find((l) => l.key === k);
    assert.deepEqual(by("zset:small").value, [["ninf", "-inf"], ["c", -3], ["a", 1], ["b", 2.5], [
      "pinf",
      "inf",
    ]]);
    assert.deepEqual(by("hash:small").value, [["f1", "v1"], ["f2", "2"], ["f3", ""]]);
    assert.deepEqual(by("set:small").value, ["a", "b", "c"]);
    assert.deepEqual(by("list:small").value, ["a", "b", "1", "-5", "70000", ""]);
    const ttl = by("ttl:near");
    assert.equal(ttl.ttl_ms, ttl.expire_at_ms - now);
    assert.equal(by("str:small").ttl_ms, null);
    assert.equal(by("str:small").expire_at_ms, null);
    const bin = lines.find((l) => typeof l.key === "object");
    assert.deepEqual(bin.key, { base64: "AP8NCg==" });
    // Field order within a line is fixed.
    assert.match(
      r.text.split("\n")[0],
      /^\{"db":0,"key":.*,"type":"\w+","ttl_ms":.*,"expire_at_ms":.*,"value":/,
    );
  },
});

Deno.test({
  name: "dump: --db, --match, expired keys left out unless --expired",
  ignore: noFixtures,
  async fn() {
    const rdb = join(R7, "rdb-default", "dump.rdb");
    const db3 = await dumpOut([rdb, "--db", "3"]);
    assert.deepEqual(
      db3.text.trim().split("\n").map((l) => JSON.parse(l).key).sort(),
      ["db3:key", "db3:set"],
    );
    const lists = await dumpOut([rdb, "--match", "list:*"]);
    assert.deepEqual(
      lists.text.trim().split("\n").map((l) => JSON.parse(l).key).sort(),
      ["list:big", "list:ints", "list:plain", "list:small"],
    );
    const none = await dumpOut([rdb, "--match", "nomatch*"]);
    assert.equal(none.text, "");
    assert.equal(none.code, 0);
    // Far in the future every TTL has passed.
    const later = 3_000_000_000_000;
    const live = await dumpOut([rdb], { now: later });
    assert.equal(live.text.trim().split("\n").length, 26);
    assert.match(live.err, /\(4 already expired keys left out; --expired includes them\)/);
    const all = await dumpOut([rdb, "--expired"], { now: later });
    const lines = all.text.trim().split("\n").map((l) => JSON.parse(l));
    assert.equal(lines.length, 30);
    assert.ok(lines.filter((l) => l.ttl_ms !== null).every((l) => l.ttl_ms < 0));
    const aof = await dumpOut([join(R7, "aof-hybrid", "appendonlydir"), "--db", "5"]);
    assert.equal(
      aof.text,
      '{"db":5,"key":"db5:after0","type":"string","ttl_ms":null,"expire_at_ms":null,"value":"y"}\n',
    );
    const bad = await dumpOut([rdb, "--format", "xml"]);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /Invalid --format: xml\nUsage: amber dump/);
  },
});

/** Pipes RESP bytes into a fresh Amber and returns its dataset. */
async function loadResp(resp: Uint8Array): Promise<DatasetDump> {
  const t = await startAmber();
  try {
    const c = await t.client();
    const scan = scanAof(resp);
    assert.equal(scan.status, "ok");
    c.write(latin1(resp));
    for (let i = 0; i < scan.commands; i++) {
      const reply = await c.read(20000);
      assert.ok(!reply.startsWith("-"), `command ${i} failed: ${reply}`);
    }
    return await dumpDataset(c);
  } finally {
    await t.stop();
  }
}

Deno.test({
  name: "dump --format resp: piped into a fresh server, rebuilds every fixture exactly",
  ignore: noFixtures,
  async fn() {
    for (const fx of [...RDB_FIXTURES, ...AOF_FIXTURES]) {
      const src = fx.startsWith("rdb-") ? join(R7, fx, "dump.rdb") : join(R7, fx, "appendonlydir");
      const c = capture();
      assert.equal(await runDump([src, "--format", "resp"], c.io, { progress: false }), 0);
      const got = await loadResp(c.bytes());
      const problems = diffDatasets(got, expectedOf(fx));
      assert.deepEqual(problems, [], fx);
    }
  },
});

Deno.test({
  name: "dump --format resp: redis-server fed the output has the DEBUG DIGEST of the file",
  ignore: skipWithoutRedis() || noFixtures,
  async fn() {
    for (const fx of ["rdb-default", "rdb-no-listpacks", "aof-hybrid", "aof-resp-base"]) {
      const root = tempDir("amber-tools-");
      const servers = [];
      try {
        // The reference: redis-server loading the fixture itself.
        let refArgs: string[] = [];
        if (fx.startsWith("rdb-")) {
          cpSync(join(R7, fx, "dump.rdb"), join(root, "dump.rdb"));
          chmodSync(join(root, "dump.rdb"), 0o644);
        } else {
          copyAofDir(fx, root);
          refArgs = ["--appendonly", "yes", "--appenddirname", "appendonlydir"];
        }
        const ref = await spawnRedis(refArgs, root);
        servers.push(ref);
        const fed = await spawnRedis([]);
        servers.push(fed);
        const src = fx.startsWith("rdb-")
          ? join(R7, fx, "dump.rdb")
          : join(R7, fx, "appendonlydir");
        const c = capture();
        assert.equal(await runDump([src, "--format", "resp"], c.io, { progress: false }), 0);
        const resp = c.bytes();
        const client = await fed.client();
        client.write(latin1(resp));
        for (let i = scanAof(resp).commands; i > 0; i--) {
          const reply = await client.read(20000);
          assert.ok(!reply.startsWith("-"), reply);
        }
        const refDigest = await (await ref.client()).call("DEBUG", "DIGEST");
        assert.match(refDigest, /^\+[0-9a-f]{40}\r\n$/);
        assert.notEqual(refDigest, "+" + "0".repeat(40) + "\r\n");
        assert.equal(await client.call("DEBUG", "DIGEST"), refDigest, fx);
      } finally {
        for (const s of servers) await s.stop();
        rmSync(root, { recursive: true, force: true });
      }
    }
  },
});

Deno.test("dump --format resp: SELECT per db, batches of 64, PEXPIREAT", () => {
  const items = Array.from({ length: 150 }, (_, i) => `i${i}`);
  const resp = respCommands({
    db: 0,
    key: "l",
    value: { type: "list", items },
    expireAtMs: 1234,
  });
  const cmds = scanAof(bytesOfLatin1(resp)).entries.map((e) => e.kind === "command" ? e.argv : []);
  assert.deepEqual(cmds.map((a) => [a[0], a.length - 2]), [
    ["RPUSH", 64],
    ["RPUSH", 64],
    ["RPUSH", 22],
    ["PEXPIREAT", 1],
  ]);
  assert.deepEqual(cmds[3], ["PEXPIREAT", "l", "1234"]);
  assert.deepEqual(cmds.flatMap((a) => a[0] === "RPUSH" ? a.slice(2) : []), items);
  const z = respCommands({
    db: 0,
    key: "z",
    value: { type: "zset", entries: [["a", Infinity], ["b", 0.1]] },
  });
  assert.equal(
    z,
    "*6\r\n$4\r\nZADD\r\n$1\r\nz\r\n$3\r\ninf\r\n$1\r\na\r\n$19\r\n0.10000000000000001\r\n$1\r\nb\r\n",
  );
});

Deno.test({
  name: "dump: damaged files fail with the offset and change nothing on disk",
  ignore: noFixtures,
  async fn() {
    const root = tempDir("amber-tools-");
    try {
      const cut = join(root, "cut.rdb");
      writeFileSync(cut, readBytes(join(R7, "rdb-default", "dump.rdb")).slice(0, 50000));
      const r = await dumpOut([cut]);
      assert.equal(r.code, 1);
      assert.equal(r.text.trim().split("\n").length, 10); // the keys before the damage
      assert.match(r.err, /RDB error at offset 18627 reading key "str:big": unexpected end/);
      const dir = copyAofDir("aof-hybrid", root);
      const incr = join(dir, INCR("aof-hybrid"));
      truncateSync(incr, 590);
      const before = sizes(dir);
      const a = await dumpOut([dir]);
      assert.equal(a.code, 1);
      assert.equal(a.text, "");
      assert.match(a.err, /Cannot load the AOF: .*incr\.aof.*amber check-aof --fix/);
      assert.deepEqual(sizes(dir), before);
      const missing = await dumpOut([join(root, "nothing-here")]);
      assert.equal(missing.code, 1);
      assert.match(missing.err, /No such file or directory/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  },
});

Deno.test({
  name: "dump: as a subprocess, stdout is only the dump and equals the in-process output",
  ignore: noFixtures,
  async fn() {
    for (
      const args of [[join(R7, "rdb-nocompress", "dump.rdb")], [
        join(R7, "aof-resp-base", "appendonlydir"),
        "--format",
        "resp",
      ]]
    ) {
      const sub = runCli(["dump", ...args]);
      assert.equal(sub.status, 0, sub.stderr);
      assert.match(sub.stderr, /^Dumped \d+ keys from /);
      const ours = await dumpOut(args);
      if (args.includes("resp")) assert.equal(sub.stdout, ours.out);
      else {
        // TTLs count down between the two runs: compare what does not depend on "now".
        assert.equal(stripTtl(sub.stdout), stripTtl(ours.out));
      }
    }
  },
});

Deno.test({
  name:
    "tools: reading in tiny chunks gives the same reports and dumps (multi-GB files are chunked)",
  ignore: noFixtures,
  async fn() {
    const dir = tempDir("amber-tools-");
    try {
      const files = allRdbFiles();
      const src = readBytes(join(R7, "rdb-nocompress", "dump.rdb"));
      for (const cut of [30000, 100000, src.length - 4]) {
        const path = join(dir, `cut${cut}.rdb`);
        writeFileSync(path, src.slice(0, cut));
        files.push(path);
      }
      for (const path of files) {
        const whole = await ourCheckRdb(path);
        const tiny = await ourCheckRdb(path, 7);
        assert.equal(tiny.out, whole.out, path);
        assert.equal(tiny.code, whole.code, path);
        if (/redis-assets/.test(path)) continue;
        const now = 1_800_000_000_000;
        const a = await dumpOut([path], { now });
        const b = await dumpOut([path], { now, chunkSize: 5 });
        assert.equal(b.out, a.out, path);
        assert.equal(b.code, a.code, path);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
});

// ---- progress ---------------------------------------------------------------------------

Deno.test("progress: a redrawn line on a terminal, periodic lines otherwise, nothing when quick", () => {
  let t = 0;
  let out = "";
  const tty = new Progress({
    label: "Checking x.rdb",
    total: 1000,
    write: (s) => out += s,
    tty: true,
    now: () => t,
  });
  tty.update(10);
  assert.equal(out, ""); // not before a second has passed
  t = 1500;
  tty.update(500);
  assert.match(
    out,
    // deno-lint-ignore no-control-regex
    /^\rChecking x\.rdb: 500 bytes of 1000 bytes \(50\.0%\), \d+ bytes\/s, 2s left\x1b\[K$/,
  );
  const drawn = out;
  t = 1600;
  tty.update(600);
  assert.equal(out, drawn); // redraws at most every 200 ms
  t = 1800;
  tty.update(700);
  assert.notEqual(out, drawn);
  tty.finish();
  assert.ok(out.endsWith("\r\x1b[K"));

  t = 0;
  out = "";
  const log = new Progress({
    label: "Dumping",
    total: 0,
    unit: "keys",
    write: (s) => out += s,
    tty: false,
    now: () => t,
  });
  for (t = 0; t <= 12000; t += 500) log.update(t);
  const lines = out.split("\n").filter((l) => l !== "");
  assert.equal(lines.length, 3); // at 1 s, 6 s, 11 s
  assert.match(lines[0], /^Dumping: 1000 keys, 1000 keys\/s$/);
  log.finish();
  assert.ok(!out.includes("\r"));
});
