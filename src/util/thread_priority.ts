/**
 * Background threads at a lower CPU priority than the main thread (Linux; a no-op
 * elsewhere).
 *
 * The main thread serves every client. Amber's other busy threads are background work:
 * the snapshot Worker (BGSAVE, the AOF rewrite), and the JavaScript engine's helper
 * threads, which compile hot functions and run garbage-collection tasks. When there are
 * more busy threads than cores, Linux shares the cores evenly among them, so a helper's
 * 2-5 ms compile or GC task, or the Worker's turn, can keep the main thread waiting for a
 * core that long. A `perf sched` trace of a BGSAVE of 1M keys on 2 cores showed exactly
 * that: the main thread's longest waits were preemptions by V8's helper threads
 * (BENCHMARKS.md, session 12). Against a nice-0 thread, a nice-19 one gets about 1.5%
 * of a shared core, and a nice-0 thread that wakes up usually takes the core back at
 * once; what is left is a nice-19 thread keeping a core it was given until the
 * scheduler's next tick (4 ms at HZ=250).
 *
 * Raising a nice value needs no privilege; lowering it back does (RLIMIT_NICE), so this
 * is done once and for good. `AMBER_BACKGROUND_NICE` sets the value (0 leaves every
 * thread as it is; default 19).
 */
import { readdirSync, readFileSync } from "node:fs";
import { getPriority, setPriority } from "node:os";
import process from "node:process";
import { setInterval } from "node:timers";
import { currentThreadId } from "./cpu_affinity.ts";

/** The nice value background threads get by default (the lowest priority there is). */
export const BACKGROUND_NICE = 19;

/**
 * Helper threads of the runtime, by the name Linux shows (15 characters at most):
 * V8's platform workers under Deno (compilers and GC tasks), JavaScriptCore's JIT
 * compiler threads under Bun. V8's workers also run parallel parts of the main heap's
 * collections, which the main thread can wait for; measured, lowering them still
 * shortened its waits. Bun's GC threads are left alone: JavaScriptCore's collector
 * drives stop-the-world phases the main thread waits on, so lowering it could only
 * lengthen those pauses.
 */
const RUNTIME_HELPERS = /^(V8 DefaultWorke|JITWorker)/;

/** How often keepRuntimeHelpersLowered looks for new helper threads. */
const HELPER_RESCAN_MS = 1000;

/** The nice value to use: AMBER_BACKGROUND_NICE (0-19), else BACKGROUND_NICE. */
export function backgroundNice(): number {
  const v = process.env.AMBER_BACKGROUND_NICE;
  if (v === undefined || v === "") return BACKGROUND_NICE;
  const n = Number(v);
  return Number.isInteger(n) && n >= 0 && n <= 19 ? n : BACKGROUND_NICE;
}

/** Raises thread `tid`'s nice value to `nice` (never lowers it); true if it changed. */
function renice(tid: number, nice: number): boolean {
  try {
    if (getPriority(tid) >= nice) return false;
    setPriority(tid, nice);
    return true;
  } catch {
    return false;
  }
}

/**
 * Lowers the calling thread (a Worker calls this for itself). On Linux,
 * `/proc/thread-self` names the thread, and setpriority() given a thread id applies to
 * that thread alone. Returns whether the priority changed.
 */
export function lowerThisThread(nice = backgroundNice()): boolean {
  if (nice <= 0) return false;
  const tid = currentThreadId();
  return tid !== null && renice(tid, nice);
}

/** The runtime's helper threads (RUNTIME_HELPERS) in this process, by thread id. */
function runtimeHelperThreads(): number[] {
  let tids: string[];
  try {
    tids = readdirSync("/proc/self/task");
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const t of tids) {
    try {
      const name = readFileSync(`/proc/self/task/${t}/comm`, "latin1").trim();
      if (RUNTIME_HELPERS.test(name)) out.push(Number(t));
    } catch {
      // The thread ended meanwhile.
    }
  }
  return out;
}

/** Helper threads already seen, and what each new one gets (runtime-wide state). */
const seenHelpers = new Set<number>();
const helperHooks: ((tid: number) => void)[] = [];

/** Runs the hooks for the threads of `tids` not seen before. */
function visitNewHelpers(tids: number[]): void {
  for (const tid of tids) {
    if (seenHelpers.has(tid)) continue;
    seenHelpers.add(tid);
    for (const h of helperHooks) h(tid);
  }
}

/**
 * Runs `fn` for each runtime helper thread now, and for each found later (under Bun,
 * whose JIT starts threads as it needs them, while keepRuntimeHelpersLowered looks).
 * bio_cpulist pins them this way (cpu_affinity.ts).
 */
export function forEachRuntimeHelper(fn: (tid: number) => void): void {
  for (const tid of seenHelpers) fn(tid);
  helperHooks.push(fn);
  visitNewHelpers(runtimeHelperThreads());
}

/**
 * Lowers the runtime's helper threads now and, under Bun, keeps doing so: V8 starts its
 * platform threads with the process, but Bun's JIT starts compiler threads as it needs
 * them, so there a look (a directory listing and a read per thread) runs once a second.
 * Each look also gives new helpers to forEachRuntimeHelper's hooks. The helpers are
 * process-wide, shared by every isolate, so only the `amber` executable calls this, not
 * an embedder's process.
 */
export function keepRuntimeHelpersLowered(nice = backgroundNice()): void {
  const look = () => {
    const tids = runtimeHelperThreads();
    if (nice > 0) { for (const tid of tids) renice(tid, nice); }
    visitNewHelpers(tids);
  };
  look();
  if (!("Bun" in globalThis)) return;
  setInterval(look, HELPER_RESCAN_MS).unref();
}
