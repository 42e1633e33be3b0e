/**
 * Loading the dataset at start the way Redis does: the load runs in steps with the event
 * loop turning in between (Redis's processEventsWhileBlocked), `server.loading` makes
 * commands without the `loading` flag answer -LOADING, INFO shows the loading_* fields,
 * and a shutdown meanwhile stops the load instead of saving a partial dataset.
 */
import type { Server } from "../server/server.ts";
import { runStepsAsync, type Step } from "../util/steps.ts";

/** The load stopped because the server is shutting down. */
export class LoadAborted extends Error {}

/**
 * Runs `gen` (a load in steps) with `server.loading` set to a state whose `loadedBytes`
 * the caller's progress callbacks update (see `setLoadedBytes`).
 */
export async function loadWhileServing<T>(
  server: Server,
  totalBytes: number,
  gen: Generator<Step, T, void>,
): Promise<T> {
  server.loading = {
    startTime: Math.floor(Date.now() / 1000),
    totalBytes,
    loadedBytes: 0,
    rdbUsedMem: 0,
  };
  server.expiryPaused = true;
  try {
    // 50 ms slices: Redis serves events every 2 MB loaded (loading-process-events-
    // interval-bytes), every 45-50 ms at its speed on a mixed 1M-key file. Each pause
    // costs 2-5 ms here (a timer turn: Deno rounds a 0 ms timer up to 2 ms, more on a
    // busy machine), so 20 ms slices spent a fifth of a 1M-key load waiting.
    return await runStepsAsync(gen, 50, () => {
      if (server.shuttingDown) throw new LoadAborted("shutdown requested while loading");
    });
  } finally {
    server.loading = null;
    server.expiryPaused = false;
  }
}

/** Progress callback for the load in progress (a no-op when not loading at start). */
export function setLoadedBytes(server: Server, bytes: number): void {
  if (server.loading !== null) server.loading.loadedBytes = bytes;
}

/** INFO persistence while loading: `loading:1` and the loading_* fields, as Redis 7.0. */
export function loadingInfo(server: Server, fields: Map<string, string | number>): void {
  const l = server.loading;
  if (l === null) return;
  fields.set("loading", 1);
  let perc = 0;
  let remaining = 1;
  if (l.totalBytes > 0) {
    perc = l.loadedBytes / l.totalBytes * 100;
    remaining = l.totalBytes - l.loadedBytes;
  }
  const elapsed = Math.floor(Date.now() / 1000) - l.startTime;
  const eta = elapsed === 0 ? 1 : Math.floor(elapsed * remaining / (l.loadedBytes + 1));
  fields.set("loading_start_time", l.startTime);
  fields.set("loading_total_bytes", l.totalBytes);
  fields.set("loading_rdb_used_mem", l.rdbUsedMem);
  fields.set("loading_loaded_bytes", l.loadedBytes);
  fields.set("loading_loaded_perc", perc.toFixed(2));
  fields.set("loading_eta_seconds", eta);
}
