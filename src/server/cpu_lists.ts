/**
 * Applies `server_cpulist` and `bio_cpulist` at start (Redis does it as it initializes,
 * before loading the dataset): the main thread, then the runtime's helper threads, the
 * ones there now and any found later. The job lists are applied per job, in the snapshot
 * Worker (snapshot_job.ts, snapshot_worker.ts). What each list pins: cpu_affinity.ts.
 */
import type { Config } from "../config.ts";
import type { Logger } from "../log.ts";
import {
  cpuListSetting,
  currentThreadId,
  processCpus,
  setThreadAffinity,
} from "../util/cpu_affinity.ts";
import { forEachRuntimeHelper } from "../util/thread_priority.ts";

/** The CPUs a directive names, or null (unset; or invalid, which is logged). */
function listOf(config: Config, name: string, logger: Logger): number[] | null {
  const s = cpuListSetting(config.get(name));
  if (s.kind === "invalid") logger.warning(`Invalid CPU list '${s.list}' for ${name}, ignored`);
  return s.kind === "cpus" ? s.cpus : null;
}

export function applyServerCpuLists(config: Config, logger: Logger): void {
  // Remember what the process may use before anything is pinned: jobs go back to it.
  processCpus();
  const server = listOf(config, "server_cpulist", logger);
  const tid = currentThreadId();
  if (server && tid !== null) {
    const err = setThreadAffinity(tid, server);
    if (err) logger.warning(`Failed to set CPU affinity for server_cpulist: ${err}`);
  }
  const bio = listOf(config, "bio_cpulist", logger);
  // The job lists are applied per job; a bad one is said here, once.
  listOf(config, "bgsave_cpulist", logger);
  listOf(config, "aof_rewrite_cpulist", logger);
  if (bio) {
    let failed = false;
    forEachRuntimeHelper((helper) => {
      const err = setThreadAffinity(helper, bio);
      if (err && !failed) logger.warning(`Failed to set CPU affinity for bio_cpulist: ${err}`);
      failed ||= err !== null;
    });
  }
}
