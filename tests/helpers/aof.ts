/**
 * Helpers for the AOF tests: building and reading an `appendonlydir` (manifest, incr
 * command sequences, timestamps normalised so Amber's and Redis's files compare),
 * waiting for INFO conditions, and running Amber as a subprocess that is expected to
 * refuse to start.
 */
import { spawn } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { parseManifest } from "../../src/persistence/aof/manifest.ts";
import { type AofEntry, encodeAofCommand, scanAof } from "../../src/persistence/aof/stream.ts";
import { encodeCommand, parseReply, type RawClient } from "./resp_client.ts";
import { amberCommand, freePort } from "./servers.ts";

export { FIXTURES } from "./fixtures.ts";

export function bytesOf(path: string): Uint8Array {
  const b = readFileSync(path);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

export function latin1Bytes(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
  return b;
}

/** Copies a directory tree, leaving every copy writable (fixtures are read-only). */
export function copyTree(src: string, dst: string): void {
  mkdirSync(dst, { recursive: true });
  for (const name of readdirSync(src)) {
    const s = join(src, name);
    const d = join(dst, name);
    if (statSync(s).isDirectory()) copyTree(s, d);
    else {
      copyFileSync(s, d);
      chmodSync(d, 0o644);
    }
  }
}

export function manifestText(aofDir: string, appendfilename = "appendonly.aof"): string {
  return readFileSync(join(aofDir, `${appendfilename}.manifest`), "latin1");
}

/** The incr file names the manifest lists, in order. */
export function incrNames(aofDir: string, appendfilename = "appendonly.aof"): string[] {
  return parseManifest(manifestText(aofDir, appendfilename)).incrs.map((i) => i.name);
}

/** The commands of one AOF file (annotations skipped); fails on a damaged file. */
export function fileCommands(path: string): string[][] {
  const r = scanAof(bytesOf(path));
  if (r.status !== "ok") throw new Error(`${path}: ${r.message}`);
  return r.entries.filter((e): e is Extract<AofEntry, { kind: "command" }> => e.kind === "command")
    .map((e) => e.argv);
}

/** The commands of the last incr file of `aofDir`. */
export function lastIncrCommands(aofDir: string): string[][] {
  const names = incrNames(aofDir);
  return fileCommands(join(aofDir, names[names.length - 1]));
}

/**
 * A command with its absolute times blanked: the PXAT / EXAT / PEXPIREAT / ABSTTL
 * values two servers compute for the same relative TTL differ by a few ms.
 */
export function normaliseTimes(argv: string[]): string[] {
  const out = [...argv];
  const name = out[0].toUpperCase();
  if (name === "PEXPIREAT" || name === "EXPIREAT") out[2] = "<t>";
  if (name === "RESTORE" && out.some((a) => a.toUpperCase() === "ABSTTL")) out[2] = "<t>";
  for (let i = 1; i < out.length - 1; i++) {
    const o = out[i].toUpperCase();
    if (name === "SET" && (o === "PXAT" || o === "EXAT")) out[i + 1] = "<t>";
  }
  return out;
}

/** Writes an appendonlydir: each file as given, plus the manifest text. */
export function writeAofDir(
  aofDir: string,
  files: Record<string, string | Uint8Array>,
  manifest: string,
): void {
  mkdirSync(aofDir, { recursive: true });
  for (const [name, content] of Object.entries(files)) {
    writeFileSync(join(aofDir, name), typeof content === "string" ? latin1Bytes(content) : content);
  }
  writeFileSync(join(aofDir, "appendonly.aof.manifest"), manifest);
}

/** RESP text of a list of commands, as in an AOF file. */
export function aofText(cmds: string[][]): string {
  return cmds.map((a) => encodeAofCommand(a)).join("");
}

/** One INFO field (any section). */
export async function infoField(c: RawClient, field: string, section = "all"): Promise<string> {
  const text = parseReply(await c.call("INFO", section)) as string;
  const m = text.match(new RegExp(`^${field}:(.*)\\r$`, "m"));
  if (!m) throw new Error(`INFO has no ${field}`);
  return m[1];
}

export async function waitFor(
  what: string,
  cond: () => Promise<boolean> | boolean,
  ms = 15000,
): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Waits until no AOF rewrite is running or scheduled. */
export async function waitRewriteDone(c: RawClient): Promise<void> {
  await waitFor("the AOF rewrite to finish", async () => {
    const text = parseReply(await c.call("INFO", "persistence")) as string;
    return text.includes("aof_rewrite_in_progress:0") && text.includes("aof_rewrite_scheduled:0");
  });
}

/** Sends every command in one write and returns the raw replies. */
export async function pipeline(c: RawClient, cmds: string[][]): Promise<string[]> {
  const chunk = 5000;
  const out: string[] = [];
  for (let b = 0; b < cmds.length; b += chunk) {
    const part = cmds.slice(b, b + chunk);
    c.write(part.map(encodeCommand).join(""));
    for (let i = 0; i < part.length; i++) out.push(await c.read());
  }
  return out;
}

export interface ExitedRun {
  code: number | null;
  out: string;
  /** True when the server got as far as serving (it was then killed). */
  served: boolean;
}

/**
 * Runs `cmd` in `dir` and waits for it to exit on its own. A server that reaches
 * "Ready to accept connections" is killed and reported as `served`.
 */
export async function runUntilExit(cmd: string, args: string[], dir: string): Promise<ExitedRun> {
  const proc = spawn(cmd, args, {
    cwd: dir,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...Deno.env.toObject(), LC_ALL: "C" },
  });
  let out = "";
  let served = false;
  const onData = (d: { toString(): string }) => {
    out += d.toString();
    if (!served && out.includes("Ready to accept connections")) {
      served = true;
      proc.kill("SIGKILL");
    }
  };
  proc.stdout?.on("data", onData);
  proc.stderr?.on("data", onData);
  // Deno does not count a child's exit as pending work; keep the loop alive.
  const keepAlive = setInterval(() => {}, 50);
  const timer = setTimeout(() => proc.kill("SIGKILL"), 30000);
  try {
    const code = await new Promise<number | null>((resolve) => {
      proc.once("close", (c) => resolve(c));
    });
    return { code, out, served };
  } finally {
    clearInterval(keepAlive);
    clearTimeout(timer);
  }
}

/** Runs Amber as a subprocess in `dir` (no save points), expecting it to exit. */
export async function runAmberUntilExit(args: string[], dir: string): Promise<ExitedRun> {
  const [cmd, pre] = amberCommand();
  const port = await freePort();
  return await runUntilExit(
    cmd,
    [...pre, "--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", ...args],
    dir,
  );
}

/** Whether `path` exists (a file the loader must have deleted, or must have kept). */
export function exists(path: string): boolean {
  return existsSync(path);
}
