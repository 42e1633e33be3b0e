/**
 * Benchmark plumbing shared by the bench scripts: start Amber and redis-server side by
 * side with the same settings, run redis-benchmark against each, parse its CSV.
 * Results are reported as ratios Amber/Redis measured in the same run, because this
 * machine is noisy and absolute numbers do not carry over.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { denoRunFlags } from "../src/launch.ts";

export interface Target {
  name: string;
  port: number;
  proc: ChildProcess;
  dir: string;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      s.close(() => resolve(typeof a === "object" && a ? a.port : 0));
    });
    s.on("error", reject);
  });
}

async function waitPort(port: number, proc: ChildProcess): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (proc.exitCode !== null) throw new Error(`server exited (${proc.exitCode})`);
    const ok = await new Promise<boolean>((r) => {
      const s = connect(port, "127.0.0.1", () => {
        s.destroy();
        r(true);
      });
      s.on("error", () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("server did not start");
}

async function start(
  name: string,
  cmd: string,
  args: string[],
  dir = mkdtempSync(join(tmpdir(), `bench-${name}-`)),
): Promise<Target> {
  const port = await freePort();
  const proc = spawn(cmd, [...args, "--port", String(port), "--dir", dir], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  await waitPort(port, proc);
  return {
    name,
    port,
    proc,
    dir,
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null) return resolve();
        proc.once("exit", () => resolve());
        proc.kill("SIGKILL");
      }),
  };
}

/**
 * Amber: AMBER_BIN (a compiled binary) or `deno run src/cli.ts` with the start task's
 * flags (AMBER_V8_FLAGS replaces the V8 flags, "" for none, to compare); `dir` as given
 * or new.
 */
export function startAmber(args: string[], dir?: string): Promise<Target> {
  const bin = Deno.env.get("AMBER_BIN");
  if (bin) return start("amber", bin, args, dir);
  const cli = new URL("../src/cli.ts", import.meta.url).pathname;
  return start("amber", Deno.execPath(), ["run", ...denoRunFlags(), cli, ...args], dir);
}

export function startRedis(args: string[], dir?: string): Promise<Target> {
  return start("redis", "redis-server", args, dir);
}

/** Removes a target's data directory (after stop). */
export function removeDir(t: Target): void {
  rmSync(t.dir, { recursive: true, force: true });
}

/** Runs redis-benchmark and returns requests/s per test name. */
export function redisBenchmark(port: number, args: string[]): Map<string, number> {
  const r = spawnSync(
    "redis-benchmark",
    ["-p", String(port), "--csv", ...args],
    { encoding: "utf8", maxBuffer: 1 << 24 },
  );
  if (r.status !== 0) throw new Error(`redis-benchmark failed: ${r.stderr}`);
  const out = new Map<string, number>();
  for (const line of r.stdout.split("\n").slice(1)) {
    const m = line.match(/^"([^"]+)","([0-9.]+)"/);
    if (m) out.set(m[1], Number(m[2]));
  }
  return out;
}

/** Runs redis-benchmark with an explicit command (e.g. ZRANGE key 0 99); returns requests/s. */
export function redisBenchmarkCommand(port: number, args: string[], command: string[]): number {
  const r = spawnSync(
    "redis-benchmark",
    ["-p", String(port), "--csv", ...args, ...command],
    { encoding: "utf8", maxBuffer: 1 << 24 },
  );
  if (r.status !== 0) throw new Error(`redis-benchmark failed: ${r.stderr}`);
  const m = r.stdout.split("\n")[1]?.match(/^"[^"]+","([0-9.]+)"/);
  return m ? Number(m[1]) : 0;
}

/** Sends raw RESP to a server and waits for `replies` replies (used to load data). */
export async function sendRaw(port: number, data: Uint8Array, replies: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const s = connect(port, "127.0.0.1", () => s.write(data));
    let seen = 0;
    s.on("data", (d: Uint8Array) => {
      // Every reply these loaders expect is a single line (+OK, :n, -ERR...).
      for (let i = 0; i < d.length; i++) if (d[i] === 10) seen++;
      if (seen >= replies) {
        s.destroy();
        resolve();
      }
    });
    s.on("error", reject);
  });
}

/** Resident set size of a process in bytes, from /proc (the same method for both sides). */
/** CPU time a process used so far, all threads, user + system, in µs (Linux /proc). */
export function cpuMicros(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Fields 14 and 15 (utime, stime) are the 12th and 13th after the name; USER_HZ = 100.
  return (Number(f[11]) + Number(f[12])) * 10_000;
}

export function rssBytes(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const m = status.match(/^VmRSS:\s+(\d+) kB/m);
  return m ? Number(m[1]) * 1024 : 0;
}

export function fmtRate(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}
