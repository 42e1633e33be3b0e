/**
 * Progress of long tool runs (checking or dumping a multi-GB file), on stderr so that
 * stdout stays clean for `dump`: on a terminal a single line redrawn with `\r`, otherwise
 * (a log file, CI) a plain line every few seconds. Short runs print nothing.
 */
import { formatBytes } from "./io.ts";

export interface ProgressOptions {
  /** What is being done, e.g. "Checking dump.rdb". */
  label: string;
  /** Total units (bytes by default); 0 when unknown. */
  total: number;
  /** "bytes" (shown as KB/MB/GB) or a noun for counted things, e.g. "keys". */
  unit?: string;
  write: (text: string) => void;
  /** Redraw one line (a terminal) or log lines. */
  tty: boolean;
  /** Nothing is shown before this much time has passed (default 1 s). */
  delayMs?: number;
  /** Between redraws on a terminal (default 200 ms). */
  ttyIntervalMs?: number;
  /** Between log lines (default 5 s). */
  logIntervalMs?: number;
  now?: () => number;
}

export class Progress {
  private readonly start: number;
  private nextAt: number;
  private drawn = false;
  private readonly now: () => number;
  private readonly unit: string;

  constructor(private readonly opts: ProgressOptions) {
    this.now = opts.now ?? Date.now;
    this.unit = opts.unit ?? "bytes";
    this.start = this.now();
    this.nextAt = this.start + (opts.delayMs ?? 1000);
  }

  /** Reports `done` units; cheap enough to call per chunk or per few hundred keys. */
  update(done: number): void {
    const t = this.now();
    if (t < this.nextAt) return;
    const line = this.describe(done, t);
    if (this.opts.tty) {
      this.opts.write(`\r${line}\x1b[K`);
      this.drawn = true;
      this.nextAt = t + (this.opts.ttyIntervalMs ?? 200);
    } else {
      this.opts.write(`${line}\n`);
      this.nextAt = t + (this.opts.logIntervalMs ?? 5000);
    }
  }

  /** Ends the display: clears a terminal line so the report that follows starts clean. */
  finish(): void {
    if (this.drawn) this.opts.write("\r\x1b[K");
    this.drawn = false;
  }

  /** The text shown for `done` units at time `t`. */
  describe(done: number, t = this.now()): string {
    const { label, total } = this.opts;
    const secs = Math.max(0.001, (t - this.start) / 1000);
    const rate = done / secs;
    const amount = (n: number) => this.unit === "bytes" ? formatBytes(n) : `${n} ${this.unit}`;
    let s = `${label}: ${amount(done)}`;
    if (total > 0) {
      const pct = Math.min(100, (done / total) * 100);
      s += ` of ${amount(total)} (${pct.toFixed(1)}%)`;
    }
    s += `, ${
      this.unit === "bytes" ? formatBytes(Math.round(rate)) : Math.round(rate) + " " + this.unit
    }/s`;
    if (total > 0 && rate > 0 && done < total) {
      s += `, ${formatDuration((total - done) / rate)} left`;
    }
    return s;
  }
}

function formatDuration(secs: number): string {
  if (secs < 60) return `${Math.ceil(secs)}s`;
  const m = Math.floor(secs / 60);
  if (m < 60) return `${m}m${String(Math.floor(secs % 60)).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}
