// Tests for src/log.ts: Redis line format, level filtering, file and stdout output.
import * as assert from "node:assert/strict";
import { isLogLevel, LOG_MAX_LEN, Logger } from "../src/log.ts";
import { tempDir } from "./helpers/servers.ts";

const LINE_RE = /^(\d+):([A-Z]) (\d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d\.\d{3}) ([.\-*#]) (.*)$/;

function tempLog(): string {
  return tempDir("amber-log-") + "/redis.log";
}

function readLatin1(path: string): string {
  const b = Deno.readFileSync(path);
  let s = "";
  for (const x of b) s += String.fromCharCode(x);
  return s;
}

Deno.test("formatLine: exact Redis format with padding", () => {
  const d = new Date(2024, 0, 5, 3, 4, 5, 7); // local time
  assert.strictEqual(
    Logger.formatLine(1234, "M", d, "notice", "Ready to accept connections tcp"),
    "1234:M 05 Jan 2024 03:04:05.007 * Ready to accept connections tcp\n",
  );
  const d2 = new Date(1999, 11, 31, 23, 59, 58, 999);
  assert.strictEqual(
    Logger.formatLine(7, "S", d2, "warning", "x"),
    "7:S 31 Dec 1999 23:59:58.999 # x\n",
  );
  const d3 = new Date(2023, 8, 10, 12, 0, 0, 50);
  assert.strictEqual(
    Logger.formatLine(1, "C", d3, "debug", ""),
    "1:C 10 Sep 2023 12:00:00.050 . \n",
  );
  assert.strictEqual(
    Logger.formatLine(1, "X", d3, "verbose", "v"),
    "1:X 10 Sep 2023 12:00:00.050 - v\n",
  );
});

Deno.test("formatLine: all month names", () => {
  const months = [
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
  ];
  months.forEach((m, i) => {
    const line = Logger.formatLine(1, "M", new Date(2020, i, 15, 10, 0, 0, 0), "notice", "m");
    assert.strictEqual(line, `1:M 15 ${m} 2020 10:00:00.000 * m\n`);
  });
});

Deno.test("Logger: level filtering to a file", () => {
  const file = tempLog();
  const log = new Logger({ level: "notice", file });
  assert.strictEqual(log.role, "M");
  log.debug("d1");
  log.verbose("v1");
  log.notice("n1");
  log.warning("w1");
  let lines = readLatin1(file).split("\n");
  assert.strictEqual(lines.pop(), "");
  assert.deepStrictEqual(lines.map((l) => LINE_RE.exec(l)?.slice(4)), [["*", "n1"], ["#", "w1"]]);
  const m = LINE_RE.exec(lines[0])!;
  assert.strictEqual(Number(m[1]), Deno.pid);
  assert.strictEqual(m[2], "M");

  log.setLevel("debug");
  log.setRole("S");
  log.debug("d2");
  log.verbose("v2");
  lines = readLatin1(file).split("\n").slice(2, 4);
  assert.deepStrictEqual(
    lines.map((l) => LINE_RE.exec(l)?.slice(2)).map((x) => x && [x[0], x[2], x[3]]),
    [
      ["S", ".", "d2"],
      ["S", "-", "v2"],
    ],
  );

  log.setLevel("warning");
  assert.strictEqual(log.isEnabled("notice"), false);
  assert.strictEqual(log.isEnabled("warning"), true);
  log.notice("n3");
  log.setLevel("nothing");
  assert.strictEqual(log.isEnabled("warning"), false);
  log.warning("w3");
  log.raw("raw3", "warning");
  assert.strictEqual(readLatin1(file).split("\n").length, 5); // 4 lines + trailing ""
});

Deno.test("Logger: raw output, truncation, Latin-1 bytes, setFile", () => {
  const file = tempLog();
  const log = new Logger({ level: "verbose", file, role: "X" });
  log.raw("logo\nline2");
  log.raw("skipped", "debug");
  log.raw("|v");
  assert.strictEqual(readLatin1(file), "logo\nline2|v");

  const file2 = tempLog();
  log.setFile(file2);
  assert.strictEqual(log.file, file2);
  log.notice("caf\xe9 \x00\xff");
  log.warning("y".repeat(5000));
  const lines = readLatin1(file2).split("\n");
  assert.strictEqual(LINE_RE.exec(lines[0])?.[5], "caf\xe9 \x00\xff");
  assert.strictEqual(LINE_RE.exec(lines[1])?.[2], "X");
  assert.strictEqual(LINE_RE.exec(lines[1])?.[5], "y".repeat(LOG_MAX_LEN - 1));
  assert.strictEqual(readLatin1(file), "logo\nline2|v"); // old file untouched
});

Deno.test("Logger: appends to an existing file; unwritable file is ignored", () => {
  const file = tempLog();
  Deno.writeTextFileSync(file, "previous\n");
  new Logger({ level: "notice", file }).notice("after");
  const lines = readLatin1(file).split("\n");
  assert.strictEqual(lines[0], "previous");
  assert.strictEqual(LINE_RE.exec(lines[1])?.[5], "after");
  // Writing into a missing directory must not throw.
  new Logger({ level: "notice", file: file + ".d/missing/x.log" }).warning("dropped");
});

Deno.test("isLogLevel", () => {
  for (const l of ["debug", "verbose", "notice", "warning", "nothing"]) {
    assert.strictEqual(isLogLevel(l), true);
  }
  assert.strictEqual(isLogLevel("NOTICE"), false);
  assert.strictEqual(isLogLevel("toString"), false);
});

const STDOUT_SCRIPT = `
import { Logger } from ${JSON.stringify(new URL("../src/log.ts", import.meta.url).href)};
const log = new Logger({ level: "verbose" });
log.debug("hidden");
log.verbose("to stdout");
log.raw("RAW");
log.warning("big " + "z".repeat(100000).slice(0, 900));
`;

async function runScript(cmd: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout);
}

function checkStdout(text: string): void {
  const parts = text.split("\n");
  assert.strictEqual(parts.length, 3);
  assert.deepStrictEqual(LINE_RE.exec(parts[0])?.slice(2).filter((_, i) => i !== 1), [
    "M",
    "-",
    "to stdout",
  ]);
  assert.ok(parts[1].startsWith("RAW"));
  assert.deepStrictEqual(LINE_RE.exec(parts[1].slice(3))?.[5], "big " + "z".repeat(900));
  assert.strictEqual(parts[2], "");
}

Deno.test("Logger: stdout output (deno)", async () => {
  const dir = tempDir("amber-log-");
  Deno.writeTextFileSync(dir + "/s.ts", STDOUT_SCRIPT);
  checkStdout(await runScript(Deno.execPath(), ["run", "-A", dir + "/s.ts"]));
});

function hasBun(): boolean {
  try {
    return new Deno.Command("bun", { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

Deno.test({
  name: "Logger: stdout and file output (bun)",
  ignore: !hasBun(),
  async fn() {
    const dir = tempDir("amber-log-");
    Deno.writeTextFileSync(
      dir + "/s.ts",
      STDOUT_SCRIPT.replace(/^import .*$/m, (l) => l.replace("file://", "")),
    );
    checkStdout(await runScript("bun", ["run", dir + "/s.ts"]));
    const file = dir + "/bun.log";
    Deno.writeTextFileSync(
      dir + "/f.ts",
      STDOUT_SCRIPT.replace(/^import .*$/m, (l) => l.replace("file://", ""))
        .replace(`{ level: "verbose" }`, `{ level: "verbose", file: ${JSON.stringify(file)} }`),
    );
    assert.strictEqual(await runScript("bun", ["run", dir + "/f.ts"]), "");
    checkStdout(readLatin1(file));
  },
});
