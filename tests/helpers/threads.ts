/**
 * A process's threads as Linux shows them under /proc/PID/task (Linux only), grouped by
 * thread name, for tests that check what Amber did to its threads (priority, affinity).
 */
import { readdirSync, readFileSync } from "node:fs";

/** The snapshot Worker's thread: `worker-N` under Deno, `Worker` under Bun. */
export const WORKER_THREAD = /^(worker-\d+|Worker)$/;
/** The runtime's helper threads (src/util/thread_priority.ts). */
export const HELPER_THREAD = /^(V8 DefaultWorke|JITWorker)/;

/**
 * Thread name -> `read(status, tid)` of each thread of that name, where `status` is the
 * thread's /proc `status` file; the main thread is named "<main>".
 */
export function threadsBy<T>(
  pid: number,
  read: (status: string, tid: number) => T,
): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let status: string;
    let value: T;
    try {
      status = readFileSync(`/proc/${pid}/task/${tid}/status`, "latin1");
      value = read(status, Number(tid));
    } catch {
      continue; // the thread ended meanwhile
    }
    const name = Number(tid) === pid ? "<main>" : /^Name:\s*(.*)$/m.exec(status)![1];
    out.set(name, [...(out.get(name) ?? []), value]);
  }
  return out;
}
