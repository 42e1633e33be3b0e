/**
 * Background threads run at a lower CPU priority than the main thread
 * (src/util/thread_priority.ts): the snapshot Worker lowers itself, and the `amber`
 * executable lowers the runtime's helper threads. Checked on a real server process by
 * reading each thread's nice value from /proc (Linux only, where the feature exists).
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert";
import { readFileSync } from "node:fs";
import { getPriority } from "node:os";
import { BACKGROUND_NICE, backgroundNice } from "../src/util/thread_priority.ts";
import { spawnAmber, type TestProcess } from "./helpers/servers.ts";
import { HELPER_THREAD, threadsBy, WORKER_THREAD } from "./helpers/threads.ts";

const LINUX = Deno.build.os === "linux";

/** Thread name -> nice values of a process's threads; the main thread is "<main>". */
function threadNices(pid: number): Map<string, number[]> {
  // getpriority() given a thread id reads that thread's nice value (Linux).
  return threadsBy(pid, (_status, tid) => getPriority(tid));
}

/**
 * Waits (up to 5 s) until the server's spare snapshot Worker exists and it and the
 * runtime's helpers are at `want`: the Worker lowers itself as it starts, and Bun starts
 * JIT threads as it needs them, which the server lowers within a second.
 */
async function settled(t: TestProcess, want: number): Promise<Map<string, number[]>> {
  let nices = new Map<string, number[]>();
  for (let i = 0; i < 100; i++) {
    nices = threadNices(t.proc.pid!);
    const background = [...nices].filter(([n]) => WORKER_THREAD.test(n) || HELPER_THREAD.test(n));
    const hasWorker = background.some(([n]) => WORKER_THREAD.test(n));
    if (hasWorker && background.every(([, v]) => v.every((x) => x === want))) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return nices;
}

Deno.test({
  name:
    "the snapshot Worker and the runtime's helper threads run at nice 19, the main thread as started",
  ignore: !LINUX,
  async fn() {
    const own = getPriority(0);
    const t = await spawnAmber(["--save", ""]);
    try {
      const nices = await settled(t, BACKGROUND_NICE);
      deepStrictEqual(nices.get("<main>"), [own]);
      const workers = [...nices].filter(([n]) => WORKER_THREAD.test(n));
      ok(workers.length > 0, `no snapshot Worker thread among ${[...nices.keys()]}`);
      for (const [name, v] of workers) deepStrictEqual(v, v.map(() => BACKGROUND_NICE), name);
      const helpers = [...nices].filter(([n]) => HELPER_THREAD.test(n));
      ok(helpers.length > 0, `no runtime helper thread among ${[...nices.keys()]}`);
      for (const [name, v] of helpers) deepStrictEqual(v, v.map(() => BACKGROUND_NICE), name);
      // A BGSAVE still completes on the lowered Worker.
      const c = await t.client();
      strictEqual(await c.call("SET", "k", "v"), "+OK\r\n");
      strictEqual(await c.call("BGSAVE"), "+Background saving started\r\n");
      for (let i = 0; i < 200; i++) {
        const info = await c.call("INFO", "persistence");
        if (/rdb_bgsave_in_progress:0/.test(info) && /rdb_last_bgsave_status:ok/.test(info)) break;
        await new Promise((r) => setTimeout(r, 25));
      }
      ok(/rdb_bgsave_in_progress:0\r\n/.test(await c.call("INFO", "persistence")));
      ok(readFileSync(`${t.dir}/dump.rdb`).length > 0);
    } finally {
      await t.stop();
    }
  },
});

Deno.test({
  name: "AMBER_BACKGROUND_NICE=0 leaves every thread at the priority it started with",
  ignore: !LINUX,
  async fn() {
    const own = getPriority(0);
    Deno.env.set("AMBER_BACKGROUND_NICE", "0");
    let t: TestProcess;
    try {
      t = await spawnAmber(["--save", ""]);
    } finally {
      Deno.env.delete("AMBER_BACKGROUND_NICE");
    }
    try {
      const nices = await settled(t, own);
      ok([...nices.keys()].some((n) => WORKER_THREAD.test(n)), "no snapshot Worker thread");
      for (const [name, v] of nices) deepStrictEqual(v, v.map(() => own), name);
    } finally {
      await t.stop();
    }
  },
});

Deno.test("backgroundNice reads AMBER_BACKGROUND_NICE, falling back to 19 on a bad value", () => {
  const cases: [string | undefined, number][] = [
    [undefined, 19],
    ["", 19],
    ["0", 0],
    ["5", 5],
    ["19", 19],
    ["20", 19],
    ["-1", 19],
    ["2.5", 19],
    ["low", 19],
  ];
  try {
    for (const [v, want] of cases) {
      if (v === undefined) Deno.env.delete("AMBER_BACKGROUND_NICE");
      else Deno.env.set("AMBER_BACKGROUND_NICE", v);
      strictEqual(backgroundNice(), want, String(v));
    }
  } finally {
    Deno.env.delete("AMBER_BACKGROUND_NICE");
  }
});
