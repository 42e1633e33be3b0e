/**
 * Redis-format logging (server.c `serverLog` / `serverLogRaw`).
 *
 * Owns the log line format `<pid>:<role> <dd Mon yyyy hh:mm:ss.mmm> <levelchar> <msg>`,
 * verbosity filtering (`loglevel`), and the destination (`logfile`: "" = stdout).
 *
 * Every line is written synchronously, so nothing is lost if the process dies right
 * after logging. Like Redis, a log file is opened in append mode for each line (so an
 * external logrotate works) and write errors are silently ignored. Messages are Latin-1
 * JS strings written one byte per char.
 */
import { appendFileSync, writeSync } from "node:fs";
import process from "node:process";

export type LogLevel = "debug" | "verbose" | "notice" | "warning" | "nothing";

/** A level a message can be logged at ("nothing" is only a verbosity setting). */
export type MessageLevel = Exclude<LogLevel, "nothing">;

/** Redis's LL_* numbering; a message is logged when its level >= the verbosity. */
const LEVEL_VALUE: Record<LogLevel, number> = {
  debug: 0,
  verbose: 1,
  notice: 2,
  warning: 3,
  nothing: 4,
};

/** Per-level marker char, Redis's `".-*#"`. */
const LEVEL_CHAR: Record<MessageLevel, string> = {
  debug: ".",
  verbose: "-",
  notice: "*",
  warning: "#",
};

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** Redis's LOG_MAX_LEN: `serverLog` messages are truncated to LOG_MAX_LEN - 1 bytes. */
export const LOG_MAX_LEN = 1024;

/** True if `s` is a valid `loglevel` value. */
export function isLogLevel(s: string): s is LogLevel {
  return Object.hasOwn(LEVEL_VALUE, s);
}

export interface LoggerOptions {
  level: LogLevel;
  /** Log file path; "" or absent logs to stdout. */
  file?: string;
  /** Role char: "M" master (default), "S" replica, "C" child, "X" sentinel. */
  role?: string;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, "0");
}

/** Latin-1 string to bytes; falls back to UTF-8 if a char is outside 0..255. */
function toBytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) return new TextEncoder().encode(s);
    out[i] = c;
  }
  return out;
}

/** Write all of `bytes` to stdout synchronously (retrying short writes and EAGAIN). */
function writeStdout(bytes: Uint8Array): void {
  let off = 0;
  let spins = 0;
  while (off < bytes.length) {
    try {
      off += writeSync(1, bytes, off, bytes.length - off);
    } catch (e) {
      // A non-blocking stdout pipe may be full: retry for a while, then give up.
      if ((e as { code?: string }).code === "EAGAIN" && ++spins < 100000) continue;
      return;
    }
  }
}

export class Logger {
  #level: LogLevel;
  #file: string;
  #role: string;

  constructor(opts: LoggerOptions) {
    this.#level = opts.level;
    this.#file = opts.file ?? "";
    this.#role = opts.role ?? "M";
  }

  get level(): LogLevel {
    return this.#level;
  }

  get file(): string {
    return this.#file;
  }

  get role(): string {
    return this.#role;
  }

  setLevel(level: LogLevel): void {
    this.#level = level;
  }

  /** Set the log file; "" logs to stdout. */
  setFile(file: string): void {
    this.#file = file;
  }

  /** Set the role char shown after the pid (e.g. "S" once this server is a replica). */
  setRole(role: string): void {
    this.#role = role;
  }

  /** Whether a message at `level` would be written (check before building costly ones). */
  isEnabled(level: MessageLevel): boolean {
    return LEVEL_VALUE[level] >= LEVEL_VALUE[this.#level];
  }

  debug(msg: string): void {
    this.log("debug", msg);
  }

  verbose(msg: string): void {
    this.log("verbose", msg);
  }

  notice(msg: string): void {
    this.log("notice", msg);
  }

  warning(msg: string): void {
    this.log("warning", msg);
  }

  /** `serverLog(level, ...)`: one prefixed line, message truncated to LOG_MAX_LEN - 1. */
  log(level: MessageLevel, msg: string): void {
    if (!this.isEnabled(level)) return;
    if (msg.length >= LOG_MAX_LEN) msg = msg.slice(0, LOG_MAX_LEN - 1);
    this.#write(Logger.formatLine(process.pid, this.#role, new Date(), level, msg));
  }

  /** `serverLogRaw(level|LL_RAW, msg)`: `msg` as is, no prefix, no newline added. */
  raw(msg: string, level: MessageLevel = "notice"): void {
    if (!this.isEnabled(level)) return;
    this.#write(msg);
  }

  /**
   * One log line exactly as Redis prints it, including the trailing "\n":
   * `"%d:%c %s %c %s\n"` with the date as `"%d %b %Y %H:%M:%S."` + 3-digit milliseconds,
   * in local time.
   */
  static formatLine(
    pid: number,
    role: string,
    date: Date,
    level: MessageLevel,
    msg: string,
  ): string {
    const stamp = `${pad(date.getDate(), 2)} ${MONTHS[date.getMonth()]} ${date.getFullYear()} ` +
      `${pad(date.getHours(), 2)}:${pad(date.getMinutes(), 2)}:${pad(date.getSeconds(), 2)}.` +
      pad(date.getMilliseconds(), 3);
    return `${pid}:${role} ${stamp} ${LEVEL_CHAR[level]} ${msg}\n`;
  }

  #write(text: string): void {
    const bytes = toBytes(text);
    if (this.#file === "") {
      writeStdout(bytes);
      return;
    }
    try {
      appendFileSync(this.#file, bytes);
    } catch {
      // Redis: if the log file cannot be opened, the line is dropped.
    }
  }
}
