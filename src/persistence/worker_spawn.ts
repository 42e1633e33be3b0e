/**
 * Where background-job Workers come from, under every way Amber runs: `deno run`,
 * `bun run`, a `deno compile` binary and a `bun build --compile` binary. BGSAVE (and
 * the AOF rewrite) call this instead of `new Worker(...)` so the lookup lives in one place.
 *
 * Both compilers embed a Worker only when told to, so its entry is listed in the
 * compile tasks of deno.json: `--include src/persistence/snapshot_worker.ts` for
 * `deno compile`, a second entrypoint for `bun build --compile`.
 */

/** The snapshot Worker's entry, relative to src/. */
const SNAPSHOT_WORKER = "persistence/snapshot_worker.ts";

/**
 * The URL of a Worker entry given relative to src/.
 *
 * Unbundled (`deno run`, `bun run`, and `deno compile`, which keeps module URLs), this
 * module's URL is its own file, so the entry is found next to it. `bun build --compile`
 * instead bundles this module into the binary's main chunk, whose URL is the binary's
 * name at the root of Bun's embedded file system (`file:///$bunfs/root/amber`); each
 * extra entrypoint is stored there by its path relative to the entrypoints' common
 * directory, src/, and Bun maps the `.ts` name to the built `.js`. A new URL relative
 * to the chunk is the form that reaches it: the sibling path resolves to
 * `$bunfs/root/snapshot_worker.ts`, which does not exist, and the Worker fails to load
 * (silently, if that happens to the spare Worker before BGSAVE attaches its handlers).
 */
export function workerUrl(fromSrc: string): string {
  const here = import.meta.url;
  const bundled = !/\/persistence\/worker_spawn\.[cm]?[jt]s$/.test(new URL(here).pathname);
  return new URL(bundled ? `./${fromSrc}` : `../${fromSrc}`, here).href;
}

/** A new snapshot Worker (see snapshot_worker.ts for its messages). */
export function spawnSnapshotWorker(): Worker {
  return new Worker(workerUrl(SNAPSHOT_WORKER), { type: "module" });
}
