/**
 * A background snapshot job: the fork-less equivalent of Redis's child process, shared
 * by BGSAVE and BGREWRITEAOF. It walks a point-in-time `Snapshot` in chunks of ~1 ms of
 * the main thread each (a big collection in slices over several: value_stream.ts),
 * encodes them into bytes (chunk_codec.ts) and
 * transfers them to the snapshot Worker, with at most a few chunks unacknowledged, so
 * neither the event loop nor memory is swamped. Also owns the spare Worker: creating
 * one costs 30-200 ms of main-thread time, which a job must not pay while clients wait.
 */
import { unlinkSync } from "node:fs";
import { setTimeout as later } from "node:timers";
import type { Server } from "../server/server.ts";
import { Snapshot } from "./snapshot.ts";
import { toTransferValue } from "./values.ts";
import { ChunkEncoder } from "./chunk_codec.ts";
import { isBigValue, streamFor, type ValueStream } from "./value_stream.ts";
import type { WorkerReply, WorkerRequest } from "./snapshot_worker.ts";
import { spawnSnapshotWorker } from "./worker_spawn.ts";
import { jobCpus } from "../util/cpu_affinity.ts";

/** Unacknowledged chunks allowed in flight to the Worker. */
const MAX_IN_FLIGHT = 4;
/** A Worker that has not opened the file by then failed to start: fail the job. */
const WORKER_START_TIMEOUT_MS = 10_000;
/** Main-thread time per chunk the driver aims for. */
const CHUNK_BUDGET_MS = 1;
/**
 * Keys a chunk takes between looks at the clock: about 40 µs of work with the code
 * optimized, a few hundred µs running cold, which bounds how far a chunk overruns.
 */
const STEP_KEYS = 128;
/** Elements of a streamed big value per slice (value_stream.ts): about a step's worth. */
const SLICE_ELEMENTS = 512;

export type OpenRequest = Extract<WorkerRequest, { op: "open" }>;

/** What kind of child this is (Redis's CHILD_TYPE_RDB / CHILD_TYPE_AOF). */
export type JobKind = "rdb" | "aof";

const spares = new WeakMap<Server, Worker>();
const running = new WeakMap<Server, SnapshotJob>();

let workersStarted = 0;

/** Big values streamed (value_stream.ts) by this process's jobs, for tests. */
const streams = { begun: 0, carried: 0, frozen: 0 };

/**
 * Big values this process has streamed: begun, carried over an event-loop turn, and
 * frozen (the rest copied) because a client wrote to one in flight (tests check both).
 */
export function valueStreamStats(): { begun: number; carried: number; frozen: number } {
  return { ...streams };
}

/** Snapshot Workers this process has started (tests check that finished jobs reuse them). */
export function snapshotWorkersStarted(): number {
  return workersStarted;
}

function newWorker(): Worker {
  workersStarted++;
  return spawnSnapshotWorker();
}

/** Starts the spare Worker (at start-up, and after a job that did not return its own). */
export function prepareWorker(server: Server): void {
  if (!spares.has(server) && !server.shuttingDown) spares.set(server, newWorker());
}

/**
 * Keeps the Worker of a job that ended well as the next job's: it is idle (its file
 * committed, its state reset by `end`), and starting a Worker costs the main thread
 * ~20 ms in Deno (measured), a stall right after every BGSAVE or rewrite.
 */
function returnWorker(server: Server, w: Worker): void {
  w.onmessage = null;
  w.onerror = null;
  if (spares.has(server) || server.shuttingDown) w.terminate();
  else spares.set(server, w);
}

/** Stops the spare Worker (shutdown). */
export function dropWorker(server: Server): void {
  spares.get(server)?.terminate();
  spares.delete(server);
}

/**
 * The spare Worker for a task outside a job (the CRC-64 of the RDB loaded at start), or
 * null when there is none; give it back with `returnLentWorker`.
 */
export function lendWorker(server: Server): Worker | null {
  const w = spares.get(server) ?? null;
  spares.delete(server);
  return w;
}

/** Takes back a lent Worker (`ok`: it is idle and fit for the next job). */
export function returnLentWorker(server: Server, w: Worker, ok: boolean): void {
  if (ok) returnWorker(server, w);
  else {
    w.terminate();
    prepareWorker(server);
  }
}

function takeWorker(server: Server): Worker {
  const w = spares.get(server) ?? newWorker();
  spares.delete(server);
  return w;
}

let jobSeq = 0;

/** `dir/temp-123.rdb` -> `dir/temp-123-<n>.rdb`, n counting jobs in this process. */
function uniqueTemp(tmp: string): string {
  const slash = tmp.lastIndexOf("/");
  const dot = tmp.lastIndexOf(".");
  const n = ++jobSeq;
  return dot > slash ? `${tmp.slice(0, dot)}-${n}${tmp.slice(dot)}` : `${tmp}-${n}`;
}

/** The job in progress, if any (Redis's hasActiveChildProcess / child_type). */
export function activeJob(server: Server): SnapshotJob | undefined {
  return running.get(server);
}

/**
 * One background job. `onFinish(ok, message)` runs exactly once: after the Worker
 * committed the file (ok), failed, or `abort()` was called (not ok, `aborted` set).
 */
export class SnapshotJob {
  readonly startedAt = Date.now();
  readonly snapshot: Snapshot;
  aborted = false;
  private finished = false;
  private worker: Worker;
  private watchdog: ReturnType<typeof setTimeout>;
  private acked = 0;
  private readonly encoder = new ChunkEncoder();
  private sent = 0;
  private wake: (() => void) | null = null;
  private resolveDone!: (ok: boolean) => void;
  readonly done: Promise<boolean> = new Promise((r) => this.resolveDone = r);

  constructor(
    private server: Server,
    readonly kind: JobKind,
    private open: OpenRequest,
    private onFinish: (ok: boolean, message?: string) => void,
  ) {
    if (running.has(server)) throw new Error("another background job is in progress");
    // Each job writes its own temp file (Redis's has the child's pid in its name): a
    // Worker being terminated may still create its file after the job is gone.
    this.open = {
      ...open,
      tmp: uniqueTemp(open.tmp),
      cpus: jobCpus(
        server.config.get(kind === "rdb" ? "bgsave_cpulist" : "aof_rewrite_cpulist"),
        server.config.get("server_cpulist"),
      ),
    };
    this.worker = takeWorker(server);
    const sizes = server.dbs.map((db) => [db.dict.size, db.expires.size]);
    this.snapshot = Snapshot.start(server);
    running.set(server, this);
    this.worker.onmessage = (ev: MessageEvent<WorkerReply>) => {
      const m = ev.data;
      if (m.op === "ready") clearTimeout(this.watchdog);
      else if (m.op === "ack") {
        this.acked = m.seq;
        this.wake?.();
      } else if (m.op === "done") this.finish(true);
      else if (m.op === "error") this.finish(false, m.message);
      else if (m.op === "warning") server.logger.warning(m.message);
    };
    this.worker.onerror = (ev) => {
      ev.preventDefault?.();
      this.finish(false, ev.message ?? "worker failed");
    };
    // Some runtimes report a Worker that cannot load by never answering: do not let
    // such a job stay "in progress" forever.
    this.watchdog = setTimeout(
      () => this.finish(false, "the snapshot Worker did not start"),
      WORKER_START_TIMEOUT_MS,
    );
    this.post(this.open);
    this.pump(sizes).catch((e) => this.finish(false, (e as Error).message));
  }

  get running(): boolean {
    return !this.finished;
  }

  private post(m: WorkerRequest): void {
    this.worker.postMessage(m);
  }

  private async pump(sizes: number[][]): Promise<void> {
    let currentDb = -1;
    const enc = this.encoder;
    const flush = () => {
      if (enc.count === 0) return;
      const bytes = enc.take();
      // Transferred, not cloned (chunk_codec.ts says why).
      this.worker.postMessage(
        { op: "entries", seq: ++this.sent, bytes } satisfies WorkerRequest,
        [bytes.buffer as ArrayBuffer],
      );
    };
    let stream: ValueStream | null = null;
    const endStream = () => {
      enc.end();
      stream = null;
      this.snapshot.release();
    };
    // A client is about to change the value in flight: the stream copies what is left.
    const freeze = () => {
      if (stream === null || this.finished) return;
      streams.frozen++;
      stream.freeze();
      this.snapshot.release();
    };
    let complete = false;
    while (!this.finished && !complete) {
      // Let clients in (the first chunk waits for the BGSAVE's own turn to end), and
      // keep the Worker's queue short.
      await new Promise((r) => setTimeout(r, 0));
      while (this.sent - this.acked > MAX_IN_FLIGHT && !this.finished) {
        await new Promise<void>((r) => this.wake = r);
        this.wake = null;
      }
      if (this.finished) break;
      // A chunk is time-boxed, not sized in advance: it takes steps of STEP_KEYS keys
      // until the budget is spent. A size predicted from the last chunk's speed was
      // wrong exactly when it mattered: code deoptimized mid-chunk, the first chunks of
      // a BGSAVE running cold, a garbage collection: each made a chunk sized for 1 ms
      // take 3-6 ms (BENCHMARKS.md, session 12).
      const deadline = performance.now() + CHUNK_BUDGET_MS;
      do {
        // A big value in flight goes on before any other key (value_stream.ts).
        if (stream !== null) {
          const slice = stream.next(SLICE_ELEMENTS);
          if (slice !== null) enc.slice(slice);
          else endStream();
          continue;
        }
        // A value to stream ends its step, so that its slices come next.
        const step = this.snapshot.next(STEP_KEYS, isBigValue);
        if (step === null) {
          complete = true;
          break;
        }
        for (const e of step) {
          if (e.db !== currentDb) {
            flush();
            currentDb = e.db;
            this.post({ op: "db", db: e.db, keys: sizes[e.db][0], expires: sizes[e.db][1] });
          }
          const big = typeof e.value === "string" ? null : streamFor(e.value);
          if (big === null) {
            enc.entry(
              e.key,
              typeof e.value === "string" ? e.value : toTransferValue(e.value),
              e.expireAt ?? -1,
            );
          } else {
            // Always the step's last entry (isBig): its slices follow, across chunks.
            enc.begin(e.key, big.shell, e.expireAt ?? -1);
            streams.begun++;
            stream = big;
            this.snapshot.hold(e, freeze);
          }
        }
      } while (performance.now() < deadline);
      flush();
      if (stream !== null) streams.carried++;
    }
    if (!this.finished) {
      this.snapshot.finish();
      this.post({ op: "end" });
    }
  }

  private finish(ok: boolean, message?: string): void {
    clearTimeout(this.watchdog);
    if (this.finished) return;
    this.finished = true;
    running.delete(this.server);
    this.snapshot.finish();
    // A Worker that failed, or is being abandoned mid-job, may be busy or broken.
    if (ok) returnWorker(this.server, this.worker);
    else this.worker.terminate();
    this.wake?.();
    if (!ok) {
      const tmp = this.open.tmp;
      const drop = () => {
        try {
          unlinkSync(tmp);
        } catch { /* not created, or renamed already */ }
      };
      drop();
      // Again once a terminated Worker has surely stopped, in case it created it late.
      if (this.aborted) later(drop, 2000).unref();
    }
    this.onFinish(ok, message);
    this.resolveDone(ok);
    // After a failure, the next job's Worker starts now, off the critical path.
    if (!ok) setTimeout(() => prepareWorker(this.server), 0);
  }

  /** Stops the job (Redis kills the child with SIGUSR1); its temp file is removed. */
  abort(): void {
    if (this.finished) return;
    this.aborted = true;
    this.finish(false, "aborted");
  }
}
