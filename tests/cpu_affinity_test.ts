/**
 * Redis's CPU-list directives (src/util/cpu_affinity.ts, src/server/cpu_lists.ts):
 * the list syntax as Redis parses it, which list a background job runs on, and, on a
 * real server process, each thread's allowed CPUs read back from /proc.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert";
import { availableParallelism } from "node:os";
import { jobCpus, parseCpuList, processCpus } from "../src/util/cpu_affinity.ts";
import { spawnAmber, spawnRedis, type TestProcess } from "./helpers/servers.ts";
import { HELPER_THREAD, threadsBy, WORKER_THREAD } from "./helpers/threads.ts";

const LINUX = Deno.build.os === "linux";
/** The live tests pin threads to CPU 0 and CPU 1 apart. */
const TWO_CPUS = LINUX && availableParallelism() >= 2 && (processCpus()?.length ?? 0) >= 2;

Deno.test("parseCpuList reads taskset lists as Redis's setcpuaffinity does", () => {
  const cases: [string, number[] | null][] = [
    ["0", [0]],
    ["0,2,3", [0, 2, 3]],
    ["0,2-3", [0, 2, 3]],
    ["0-20:2", [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20]],
    ["1,10-11", [1, 10, 11]],
    ["3,1,1", [1, 3]],
    ["2-2", [2]],
    // Anything else changes nothing in Redis, and is null here.
    ["", null],
    ["3-1", null],
    ["0-4:0", null],
    ["0-", null],
    ["-1", null],
    ["0,", null],
    [",0", null],
    ["0,,1", null],
    ["0, 1", null],
    ["1x", null],
    ["0:2", null],
    ["a", null],
  ];
  for (const [list, want] of cases) deepStrictEqual(parseCpuList(list), want, list);
});

Deno.test("a job runs on its own list, else server_cpulist, else where the process started", () => {
  deepStrictEqual(jobCpus("", ""), undefined);
  deepStrictEqual(jobCpus("1", ""), [1]);
  deepStrictEqual(jobCpus("1", "0"), [1]);
  deepStrictEqual(jobCpus("", "0"), [0]);
  deepStrictEqual(jobCpus("bad", "0"), [0]);
  // A list is set but none applies: the job goes back to every CPU the process had.
  deepStrictEqual(jobCpus("bad", ""), processCpus() ?? undefined);
  deepStrictEqual(jobCpus("", "bad"), processCpus() ?? undefined);
});

/** Thread name -> allowed-CPU lists of a process's threads; the main thread is "<main>". */
function threadCpus(pid: number): Map<string, string[]> {
  return threadsBy(pid, (status) => /^Cpus_allowed_list:\s*(\S+)$/m.exec(status)![1]);
}

/** The Worker threads' CPU lists. */
function workerCpus(t: TestProcess): string[] {
  return [...threadCpus(t.proc.pid!)].filter(([n]) => WORKER_THREAD.test(n)).flatMap(([, v]) => v);
}

/** Waits up to 5 s for `check` to hold of the server's threads; returns the last look. */
async function until(
  t: TestProcess,
  check: (threads: Map<string, string[]>) => boolean,
): Promise<Map<string, string[]>> {
  let threads = new Map<string, string[]>();
  for (let i = 0; i < 100; i++) {
    threads = threadCpus(t.proc.pid!);
    if (check(threads)) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return threads;
}

async function waitForJob(t: TestProcess, field: string): Promise<void> {
  const c = await t.client();
  try {
    for (let i = 0; i < 200; i++) {
      if (new RegExp(`${field}:0\r\n`).test(await c.call("INFO", "persistence"))) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`${field} stayed on`);
  } finally {
    c.close();
  }
}

/** `SET k v`, then a BGSAVE that must end well. */
async function bgsaveOk(t: TestProcess): Promise<void> {
  const c = await t.client();
  try {
    strictEqual(await c.call("SET", "k", "v"), "+OK\r\n");
    strictEqual(await c.call("BGSAVE"), "+Background saving started\r\n");
    await waitForJob(t, "rdb_bgsave_in_progress");
    ok(/rdb_last_bgsave_status:ok/.test(await c.call("INFO", "persistence")));
  } finally {
    c.close();
  }
}

Deno.test({
  name:
    "server_cpulist pins the main thread, bio_cpulist the runtime's helpers, and each job's list its Worker",
  ignore: !TWO_CPUS,
  async fn() {
    const all = threadCpus(Deno.pid).get("<main>")![0];
    const t = await spawnAmber([
      "--save",
      "",
      "--server_cpulist",
      "0",
      "--bio_cpulist",
      "1",
      "--bgsave_cpulist",
      "1",
    ]);
    try {
      const helpersOn1 = (th: Map<string, string[]>) => {
        const helpers = [...th].filter(([n]) => HELPER_THREAD.test(n));
        return helpers.length > 0 && helpers.every(([, v]) => v.every((c) => c === "1"));
      };
      const threads = await until(t, helpersOn1);
      deepStrictEqual(threads.get("<main>"), ["0"]);
      // Implemented: no "accepted and has no effect" warning for the lists.
      ok(!/does not implement config '\w+_cpulist'/.test(t.output()), t.output());
      ok(helpersOn1(threads), `helper threads not on CPU 1: ${JSON.stringify([...threads])}`);
      const c = await t.client();
      strictEqual(await c.call("SET", "k", "v"), "+OK\r\n");
      strictEqual(
        await c.call("CONFIG", "GET", "bgsave_cpulist"),
        "*2\r\n$14\r\nbgsave_cpulist\r\n$1\r\n1\r\n",
      );
      // BGSAVE: the Worker moves to bgsave_cpulist for the job.
      strictEqual(await c.call("BGSAVE"), "+Background saving started\r\n");
      await waitForJob(t, "rdb_bgsave_in_progress");
      deepStrictEqual(workerCpus(t), ["1"]);
      ok(/rdb_last_bgsave_status:ok/.test(await c.call("INFO", "persistence")));
      // A rewrite, with no aof_rewrite_cpulist: the Worker goes back to server_cpulist.
      strictEqual(
        await c.call("BGREWRITEAOF"),
        "+Background append only file rewriting started\r\n",
      );
      await waitForJob(t, "aof_rewrite_in_progress");
      deepStrictEqual(workerCpus(t), ["0"]);
      ok(/aof_last_bgrewrite_status:ok/.test(await c.call("INFO", "persistence")));
      c.close();
    } finally {
      await t.stop();
    }
    // With none of the lists set, nothing is pinned.
    const plain = await spawnAmber(["--save", ""]);
    try {
      await bgsaveOk(plain);
      for (const [name, v] of threadCpus(plain.proc.pid!)) {
        deepStrictEqual(v, v.map(() => all), name);
      }
    } finally {
      await plain.stop();
    }
  },
});

Deno.test({
  name: "a CPU list that does not parse changes nothing, like Redis, and Amber says so",
  ignore: !TWO_CPUS,
  async fn() {
    const all = threadCpus(Deno.pid).get("<main>")![0];
    const args = ["--server_cpulist", "0-", "--bgsave_cpulist", "1,x"];
    const redis = await spawnRedis(args);
    const t = await spawnAmber(["--save", "", ...args]);
    try {
      deepStrictEqual(threadCpus(redis.proc.pid!).get("<main>"), [all]);
      deepStrictEqual(threadCpus(t.proc.pid!).get("<main>"), [all]);
      ok(t.output().includes("Invalid CPU list '0-' for server_cpulist, ignored"), t.output());
      await bgsaveOk(t);
      deepStrictEqual(workerCpus(t), [all]);
    } finally {
      await t.stop();
      await redis.stop();
    }
  },
});

Deno.test({
  name: "without the taskset tool, the server starts unpinned and logs why",
  ignore: !TWO_CPUS,
  async fn() {
    const all = threadCpus(Deno.pid).get("<main>")![0];
    const path = Deno.env.get("PATH");
    Deno.env.set("PATH", Deno.makeTempDirSync());
    let t: TestProcess;
    try {
      t = await spawnAmber(["--save", "", "--server_cpulist", "0", "--bgsave_cpulist", "1"]);
    } finally {
      if (path === undefined) Deno.env.delete("PATH");
      else Deno.env.set("PATH", path);
    }
    try {
      deepStrictEqual(threadCpus(t.proc.pid!).get("<main>"), [all]);
      ok(t.output().includes("Failed to set CPU affinity for server_cpulist: taskset"), t.output());
      await bgsaveOk(t);
      for (let i = 0; i < 40 && !/for a background job/.test(t.output()); i++) {
        await new Promise((r) => setTimeout(r, 25));
      }
      ok(
        t.output().includes("Failed to set CPU affinity for a background job: taskset"),
        t.output(),
      );
    } finally {
      await t.stop();
    }
  },
});
