/**
 * Test servers: an in-process Amber on an ephemeral port, Amber as a subprocess, and
 * Debian's redis-server for differential tests. `redisAvailable()` decides whether a
 * test that needs redis-server runs: a missing redis-server is a skip locally and a
 * failure in CI (CI=true).
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { denoRunFlags } from "../../src/launch.ts";
import { type AmberServer, startServer } from "../../mod.ts";
import { RawClient } from "./resp_client.ts";

export const IN_CI = Deno.env.get("CI") === "true";

let redisPath: string | null | undefined;

/** Path of redis-server, or null. */
export function redisServerPath(): string | null {
  if (redisPath === undefined) {
    const r = spawnSync("sh", ["-c", "command -v redis-server"], { encoding: "utf8" });
    redisPath = r.status === 0 ? r.stdout.trim() : null;
  }
  return redisPath;
}

/**
 * For `Deno.test({ ignore: ... })`: true (skip) when redis-server is missing locally.
 * In CI a missing redis-server is not ignored, so the test runs and fails loudly.
 */
export function skipWithoutRedis(): boolean {
  return redisServerPath() === null && !IN_CI;
}

const TEMP_DIRS: string[] = [];

/**
 * A new directory under the system temp dir, removed when the test process ends
 * (`keep`: left for a person to inspect, e.g. the files of a failed comparison).
 */
export function tempDir(prefix = "amber-test-", keep = false): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  if (!keep) {
    if (TEMP_DIRS.length === 0) {
      globalThis.addEventListener("unload", () => {
        for (const d of TEMP_DIRS) rmSync(d, { recursive: true, force: true });
      });
    }
    TEMP_DIRS.push(dir);
  }
  return dir;
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      const port = typeof a === "object" && a ? a.port : 0;
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

export interface TestAmber {
  amber: AmberServer;
  port: number;
  dir: string;
  client(): Promise<RawClient>;
  stop(): Promise<void>;
}

/** Starts Amber in this process on an ephemeral port, logging to a temp dir. */
export async function startAmber(extra: string[] = []): Promise<TestAmber> {
  const dir = tempDir();
  const t = await startAmberIn(dir, extra);
  return {
    ...t,
    async stop() {
      await t.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Starts Amber in this process on `dir`, which outlives it (so a "restart" loads what
 * the previous one wrote); `stop()` closes without saving and leaves the directory.
 */
export async function startAmberIn(dir: string, extra: string[] = []): Promise<TestAmber> {
  const amber = await startServer({
    args: [
      "--port",
      "0",
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--dir",
      dir,
      "--logfile",
      join(dir, "amber.log"),
      "--enable-debug-command",
      "yes",
      ...extra,
    ],
  });
  const clients: RawClient[] = [];
  return {
    amber,
    port: amber.port,
    dir,
    async client() {
      const c = await RawClient.connect(amber.port);
      clients.push(c);
      return c;
    },
    async stop() {
      for (const c of clients) c.close();
      await amber.close({ save: false });
    },
  };
}

export interface TestProcess {
  port: number;
  dir: string;
  proc: ChildProcess;
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
  client(): Promise<RawClient>;
  /** Sends SIGTERM and waits for exit; returns the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  output(): string;
}

/** Waits until the server listens and has loaded its dataset. */
async function waitForPort(port: number, proc: ChildProcess, out: () => string): Promise<void> {
  const deadline = Date.now() + 15000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`server exited early:\n${out()}`);
    try {
      const c = await RawClient.connect(port);
      // Both servers listen while loading the dataset and answer -LOADING meanwhile.
      const pong = await c.call("PING");
      c.close();
      if (!pong.startsWith("-LOADING")) return;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`server did not listen on ${port}:\n${out()}`);
}

function spawnServer(cmd: string, args: string[], port: number, dir: string): Promise<TestProcess> {
  // LC_ALL=C: Redis's SORT ALPHA uses strcoll, which must be byte order to compare.
  const env = { ...Deno.env.toObject(), LC_ALL: "C" };
  const proc = spawn(cmd, args, { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"] });
  // Remember the exit ourselves: a second `once("exit")` after it fired would wait forever.
  let exitCode: number | null | undefined = undefined;
  const exited = new Promise<number | null>((resolve) =>
    proc.once("exit", (code) => {
      exitCode = code;
      resolve(code);
    })
  );
  let out = "";
  proc.stdout?.on("data", (d) => out += d.toString());
  proc.stderr?.on("data", (d) => out += d.toString());
  const clients: RawClient[] = [];
  const tp: TestProcess = {
    port,
    dir,
    proc,
    exited,
    output: () => out,
    async client() {
      const c = await RawClient.connect(port);
      clients.push(c);
      return c;
    },
    stop(signal: NodeJS.Signals = "SIGTERM") {
      for (const c of clients) c.close();
      if (exitCode !== undefined) return Promise.resolve(exitCode);
      // Deno does not count a child's exit as pending work; keep the loop alive.
      const keepAlive = setInterval(() => {}, 50);
      proc.kill(signal);
      return exited.finally(() => clearInterval(keepAlive));
    },
  };
  return waitForPort(port, proc, () => out).then(() => tp);
}

/** The command that runs Amber as a subprocess: AMBER_BIN if set (the compiled binary). */
export function amberCommand(): [string, string[]] {
  const bin = Deno.env.get("AMBER_BIN");
  if (bin) return [bin, []];
  const cli = new URL("../../src/cli.ts", import.meta.url).pathname;
  return [Deno.execPath(), ["run", ...denoRunFlags(), cli]];
}

/**
 * Runs Amber on `dir` as a subprocess that must refuse to start (a damaged dump.rdb, say)
 * and returns its output; throws if it exited 0 or got as far as accepting connections.
 */
export function refusedStart(dir: string): string {
  const [cmd, pre] = amberCommand();
  const r = spawnSync(cmd, [...pre, "--port", "0", "--dir", dir, "--save", ""], {
    encoding: "latin1",
    timeout: 30000,
  });
  const out = r.stdout + r.stderr;
  if (r.status === 0 || /Ready to accept connections/.test(out)) {
    throw new Error(`expected the start to be refused, got status ${r.status}:\n${out}`);
  }
  return out;
}

/** Starts Amber as a subprocess (`deno run src/cli.ts`, or AMBER_BIN). */
export async function spawnAmber(args: string[] = [], dir = tempDir()): Promise<TestProcess> {
  const port = await freePort();
  const [cmd, pre] = amberCommand();
  // A config file, if given, must stay the first argument.
  const file = args.length > 0 && !args[0].startsWith("--") ? [args[0]] : [];
  const rest = args.slice(file.length);
  return await spawnServer(
    cmd,
    [...pre, ...file, "--port", String(port), "--bind", "127.0.0.1", "--dir", dir, ...rest],
    port,
    dir,
  );
}

/** Starts Debian's redis-server on a free port, no persistence unless `args` says so. */
export async function spawnRedis(
  args: string[] = [],
  dir = tempDir("redis-test-"),
): Promise<TestProcess> {
  const path = redisServerPath();
  if (!path) throw new Error("redis-server is not installed (apt-get install redis-server)");
  const port = await freePort();
  return await spawnServer(
    path,
    [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--dir",
      dir,
      "--save",
      "",
      "--appendonly",
      "no",
      "--enable-debug-command",
      "yes",
      ...args,
    ],
    port,
    dir,
  );
}
