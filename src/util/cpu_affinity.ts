/**
 * CPU affinity: Redis's `server_cpulist`, `bio_cpulist`, `bgsave_cpulist` and
 * `aof_rewrite_cpulist` directives (Linux; elsewhere they are accepted and do nothing,
 * as in a Redis built without USE_SETCPUAFFINITY).
 *
 * Redis pins its main thread to `server_cpulist`, its background I/O threads to
 * `bio_cpulist`, and each BGSAVE or AOF-rewrite child to `bgsave_cpulist` or
 * `aof_rewrite_cpulist`; whatever is not set inherits the main thread's. Amber maps them
 * to its own threads: the main thread; the runtime's helper threads (V8's compiler and
 * GC workers, Bun's JIT threads: thread_priority.ts), its background threads; and the
 * snapshot Worker, pinned at the start of each job to the list of that job's kind.
 *
 * Pinning the main thread and the background threads to different cores is how an
 * operator keeps a BGSAVE off the cores that serve clients (BENCHMARKS.md measures what
 * it buys on 2 cores). A list has the `taskset` syntax Redis documents ("0,2,3", "1-3",
 * "0-7:2"); like Redis, a list that does not parse changes nothing (Amber also logs it).
 *
 * Neither runtime has a call to set a thread's affinity, so the `taskset` tool
 * (util-linux, present on Debian and in the container image) does it, given the
 * thread's id; that costs a process start, paid at server start or in the Worker.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, readlinkSync } from "node:fs";
import process from "node:process";

/** The CPUs a `taskset`-style list names, ascending, or null if it does not parse. */
export function parseCpuList(list: string): number[] | null {
  const cpus = new Set<number>();
  for (const part of list.split(",")) {
    // "a", "a-b" or "a-b:s", decimal digits only (Redis's next_num takes no sign).
    const m = /^(\d+)(?:-(\d+)(?::(\d+))?)?$/.exec(part);
    if (!m) return null;
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    const s = m[3] === undefined ? 1 : Number(m[3]);
    if (s === 0 || a > b || b > 4095) return null;
    for (let c = a; c <= b; c += s) cpus.add(c);
  }
  return [...cpus].sort((x, y) => x - y);
}

/** The calling thread's id (Linux: `/proc/thread-self`), or null. */
export function currentThreadId(): number | null {
  try {
    const tid = Number(readlinkSync("/proc/thread-self").split("/").pop());
    return Number.isInteger(tid) && tid > 0 ? tid : null;
  } catch {
    return null;
  }
}

let startCpus: number[] | null | undefined;

/**
 * The CPUs the process was allowed when this was first called (at server start, before
 * any pinning): where a job goes when no list applies to it.
 */
export function processCpus(): number[] | null {
  if (startCpus !== undefined) return startCpus;
  startCpus = null;
  try {
    const m = /^Cpus_allowed_list:\s*(\S+)$/m.exec(readFileSync("/proc/self/status", "latin1"));
    if (m) startCpus = parseCpuList(m[1]);
  } catch {
    // Not Linux: nothing is ever pinned.
  }
  return startCpus;
}

/** Pins thread `tid` to `cpus`. Returns null, or why it could not. */
export function setThreadAffinity(tid: number, cpus: number[]): string | null {
  if (process.platform !== "linux") return "CPU affinity is only supported on Linux";
  const r = spawnSync("taskset", ["-p", "-c", cpus.join(","), String(tid)], {
    encoding: "utf8",
    stdio: ["ignore", "ignore", "pipe"],
  });
  if (r.error) return `taskset: ${r.error.message}`;
  if (r.status !== 0) return (r.stderr || `taskset exited with ${r.status}`).trim();
  return null;
}

/** What a directive's value means: no list, CPUs to pin to, or a list that is ignored. */
export type CpuListSetting =
  | { kind: "unset" }
  | { kind: "cpus"; cpus: number[] }
  | { kind: "invalid"; list: string };

export function cpuListSetting(value: string): CpuListSetting {
  if (value === "") return { kind: "unset" };
  const cpus = parseCpuList(value);
  return cpus ? { kind: "cpus", cpus } : { kind: "invalid", list: value };
}

/**
 * The CPUs a background job of one kind runs on: its own list (`bgsave_cpulist` or
 * `aof_rewrite_cpulist`), else `server_cpulist`, else all the process started with.
 * Undefined when no list is set at all, so nothing is pinned, as in Redis.
 */
export function jobCpus(jobList: string, serverList: string): number[] | undefined {
  const job = cpuListSetting(jobList);
  const server = cpuListSetting(serverList);
  if (job.kind === "unset" && server.kind === "unset") return undefined;
  if (job.kind === "cpus") return job.cpus;
  if (server.kind === "cpus") return server.cpus;
  return processCpus() ?? undefined;
}
