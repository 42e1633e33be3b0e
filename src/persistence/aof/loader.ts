/**
 * Loading the AOF into a server (Redis 7.0 aof.c `loadAppendOnlyFiles` and
 * `loadSingleAppendOnlyFile`): the base (an RDB when it starts with `REDIS`, possibly
 * followed by commands as in old preamble files, else RESP), then each incr file in
 * manifest order, each command replayed through the command table by a fake client.
 *
 * A last file that ends mid-command (or inside a MULTI never closed) is truncated to
 * its last complete command when `aof-load-truncated yes`, logging how many bytes went.
 * Anything else — a torn file that is not the last, bytes that cannot be RESP, an
 * unknown command, a listed file that is missing — fails the load with the file, the
 * offset and how to repair it: never a silently partial dataset. Unlike Redis, a torn
 * file that is not the last is left untouched on disk.
 */
import { closeSync, openSync, readFileSync, readSync, statSync, truncateSync } from "node:fs";
import { join } from "node:path";
import type { Server } from "../../server/server.ts";
import type { Client } from "../../server/client.ts";
import type { AofInfo, AofManifest } from "./manifest.ts";
import { readAofCommands } from "./stream.ts";
import { loadRdbFileSteps } from "../rdb_file.ts";
import { debugDelay, runSteps, type Step } from "../../util/steps.ts";
import { valueLimits } from "../values.ts";

/** Redis's AOF_OK / AOF_NOT_EXIST / AOF_EMPTY / AOF_OPEN_ERR / AOF_FAILED / AOF_TRUNCATED. */
export type AofLoadStatus = "ok" | "not_exist" | "empty" | "open_err" | "failed" | "truncated";

export interface AofLoadOptions {
  /** Absolute path of the AOF directory (`dir`/`appenddirname`). */
  dirPath: string;
  /** Called now and then with the bytes of the current file done (INFO loading_loaded_bytes). */
  onProgress?: (fileBytes: number) => void;
  /** `aof-load-truncated`. */
  loadTruncated: boolean;
  /** `key-load-delay`: a pause after each key or command (see debugDelay). */
  keyLoadDelay?: number;
  /** `appendfilename`: a base with this exact name is an old-style (preamble) AOF. */
  appendFilename: string;
}

export interface AofLoadResult {
  status: AofLoadStatus;
  /** Bytes of every base and incr file (aof_current_size), after any truncation. */
  totalSize: number;
  /** Bytes of the base (aof_rewrite_base_size). */
  baseSize: number;
  /** The reason, for a failed load. */
  error?: string;
}

/** A replay longer than this logs a progress line this often. */
const PROGRESS_EVERY_MS = 2000;

const REPAIR_HINT =
  "make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>";

function fileSize(path: string): number | null {
  try {
    return statSync(path).size;
  } catch {
    return null;
  }
}

/** Reads bytes [from, size) of `path`. */
function readFrom(path: string, from: number, size: number): Uint8Array {
  if (from === 0) return readFileSync(path);
  const out = new Uint8Array(size - from);
  const fd = openSync(path, "r");
  try {
    let off = 0;
    while (off < out.length) {
      const n = readSync(fd, out, off, out.length - off, from + off);
      if (n === 0) break;
      off += n;
    }
    return out.subarray(0, off);
  } finally {
    closeSync(fd);
  }
}

function startsWithRedis(path: string): boolean {
  const fd = openSync(path, "r");
  try {
    const sig = new Uint8Array(5);
    const n = readSync(fd, sig, 0, 5, 0);
    return n === 5 && String.fromCharCode(...sig) === "REDIS";
  } finally {
    closeSync(fd);
  }
}

/**
 * loadSingleAppendOnlyFile: replays one file. `isLast` decides whether a torn tail may
 * be truncated (only the last file can legitimately end mid-write).
 */
export function loadSingleAppendOnlyFile(
  server: Server,
  name: string,
  isLast: boolean,
  opts: AofLoadOptions,
): { status: AofLoadStatus; error?: string } {
  return runSteps(loadSingleAppendOnlyFileSteps(server, name, isLast, opts));
}

/** Commands replayed between two yields of the step functions. */
const COMMANDS_PER_STEP = 128;

/** loadSingleAppendOnlyFile as steps (yields every few keys or commands). */
export function* loadSingleAppendOnlyFileSteps(
  server: Server,
  name: string,
  isLast: boolean,
  opts: AofLoadOptions,
): Generator<Step, { status: AofLoadStatus; error?: string }, void> {
  const log = server.logger;
  const path = join(opts.dirPath, name);
  const size = fileSize(path);
  if (size === null) {
    log.warning(`The append log file ${name} doesn't exist: No such file or directory`);
    return { status: "not_exist", error: `${name} does not exist` };
  }
  if (size === 0) return { status: "empty" };
  let from = 0;
  try {
    if (startsWithRedis(path)) {
      const oldStyle = name === opts.appendFilename;
      log.notice(
        oldStyle
          ? "Reading RDB preamble from AOF file..."
          : "Reading RDB base file on AOF loading...",
      );
      try {
        const r = yield* loadRdbFileSteps(path, server.dbs, valueLimits(server.config), {
          keepExpired: true,
          onWarning: (m) => log.warning(m),
          onRead: opts.onProgress,
          keyLoadDelay: opts.keyLoadDelay,
        });
        from = r.end;
      } catch (e) {
        log.warning(
          oldStyle
            ? `Error reading the RDB preamble of the AOF file ${name}, AOF loading aborted`
            : `Error reading the RDB base file ${name}, AOF loading aborted`,
        );
        return { status: "failed", error: `${name}: ${(e as Error).message}` };
      }
      if (oldStyle && from < size) log.notice("Reading the remaining AOF tail...");
    }
  } catch (e) {
    log.warning(
      `Fatal error: can't open the append log file ${name} for reading: ${(e as Error).message}`,
    );
    return { status: "open_err", error: (e as Error).message };
  }
  if (from >= size) return { status: "ok" };

  const bytes = readFrom(path, from, size);
  const fake: Client = server.fakeClient();
  let validUpTo = 0;
  let validBeforeMulti = 0;
  const it = readAofCommands(bytes);
  let commands = 0;
  let nextProgress = performance.now() + PROGRESS_EVERY_MS;
  let end;
  while (true) {
    const r = it.next();
    if (r.done) {
      end = r.value;
      break;
    }
    const e = r.value;
    if (e.kind !== "command") continue;
    if (++commands % COMMANDS_PER_STEP === 0 || opts.keyLoadDelay) {
      opts.onProgress?.(from + e.offset);
      yield;
    }
    if ((commands & 0x3fff) === 0 && performance.now() >= nextProgress) {
      // A long replay says how far it is, as the RDB load does.
      log.notice(
        `Loading AOF ${name}: ${((from + e.offset) / 2 ** 20).toFixed(0)} MB of ${
          (size / 2 ** 20).toFixed(0)
        } MB`,
      );
      nextProgress = performance.now() + PROGRESS_EVERY_MS;
    }
    const isMulti = e.argv[0].toLowerCase() === "multi";
    if (isMulti) validBeforeMulti = validUpTo;
    const err = server.replayCommand(fake, e.argv);
    if (err !== null) {
      log.warning(
        `${err} reading the append only file ${name} (command at offset ${from + e.offset})`,
      );
      return { status: "failed", error: `${err} at offset ${from + e.offset} of ${name}` };
    }
    validUpTo = e.end;
    if (opts.keyLoadDelay) debugDelay(opts.keyLoadDelay);
  }
  const inMulti = fake.multiQueue !== null;
  fake.multiQueue = null;
  if (end.status === "garbage") {
    log.warning(`Bad file format reading the append only file ${name}: ${REPAIR_HINT}`);
    log.warning(`AOF ${name}: ${end.message}`);
    return { status: "failed", error: `bad format in ${name}: ${end.message}` };
  }
  if (end.status === "ok" && !inMulti) return { status: "ok" };
  if (inMulti) {
    log.warning(`Revert incomplete MULTI/EXEC transaction in AOF file ${name}`);
    validUpTo = validBeforeMulti;
  }
  // Unexpected end of file.
  if (opts.loadTruncated && isLast) {
    const at = from + validUpTo;
    log.warning(`!!! Warning: short read while loading the AOF file ${name}!!!`);
    log.warning(`!!! Truncating the AOF ${name} at offset ${at} !!!`);
    try {
      truncateSync(path, at);
    } catch (e) {
      log.warning(`Error truncating the AOF file ${name}: ${(e as Error).message}`);
      return { status: "failed", error: `cannot truncate ${name}: ${(e as Error).message}` };
    }
    log.warning(
      `AOF ${name} loaded anyway because aof-load-truncated is enabled (${
        size - at
      } bytes of an incomplete command dropped)`,
    );
    return { status: "truncated" };
  }
  if (!isLast) {
    log.warning(`Fatal error: the truncated file is not the last file`);
    log.warning(`AOF ${name}: ${end.message ?? "incomplete MULTI/EXEC transaction"}`);
    return {
      status: "failed",
      error: `${name} is truncated at offset ${from + validUpTo} but is not the last file`,
    };
  }
  log.warning(
    `Unexpected end of file reading the append only file ${name}. You can: 1) Make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>. 2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server.`,
  );
  return { status: "failed", error: `${name} ends mid-command at offset ${from + validUpTo}` };
}

/**
 * loadAppendOnlyFiles: the base, then every incr. `not_exist` when the manifest lists
 * nothing; `empty` when every listed file is empty.
 */
export function loadAppendOnlyFiles(
  server: Server,
  am: AofManifest,
  opts: AofLoadOptions,
): AofLoadResult {
  return runSteps(loadAppendOnlyFilesSteps(server, am, opts));
}

/** The bytes of every file the manifest lists (base and incrs), or null if one is missing. */
export function aofTotalSize(am: AofManifest, dirPath: string): number | null {
  let total = 0;
  for (const f of [...(am.base ? [am.base] : []), ...am.incrs]) {
    const n = fileSize(join(dirPath, f.name));
    if (n === null) return null;
    total += n;
  }
  return total;
}

/** loadAppendOnlyFiles as steps; `onProgress` gets the bytes done over all files. */
export function* loadAppendOnlyFilesSteps(
  server: Server,
  am: AofManifest,
  opts: AofLoadOptions,
): Generator<Step, AofLoadResult, void> {
  const log = server.logger;
  const files: AofInfo[] = [...(am.base ? [am.base] : []), ...am.incrs];
  if (files.length === 0) return { status: "not_exist", totalSize: 0, baseSize: 0 };
  let totalSize = 0;
  for (const f of files) {
    const n = fileSize(join(opts.dirPath, f.name));
    if (n === null) {
      log.warning(
        `Unable to obtain the AOF file ${f.name} length. stat: No such file or directory`,
      );
      return {
        status: "failed",
        totalSize: 0,
        baseSize: 0,
        error: `the manifest lists ${f.name}, which does not exist in ${opts.dirPath}`,
      };
    }
    totalSize += n;
  }
  if (totalSize === 0) return { status: "empty", totalSize: 0, baseSize: 0 };
  let baseSize = 0;
  let filesDone = 0;
  let status: AofLoadStatus = "ok";
  server.expiryPaused = true;
  try {
    for (let i = 0; i < files.length; i++) {
      const f = files[i];
      const isBase = f.type === "b";
      if (isBase) baseSize = fileSize(join(opts.dirPath, f.name)) ?? 0;
      const last = i === files.length - 1;
      const t0 = performance.now();
      const done = filesDone;
      const r = yield* loadSingleAppendOnlyFileSteps(server, f.name, last, {
        ...opts,
        onProgress: (n) => opts.onProgress?.(done + n),
      });
      filesDone += fileSize(join(opts.dirPath, f.name)) ?? 0;
      status = r.status === "empty" ? "ok" : r.status;
      // As Redis: an empty file loads without a log line.
      if (r.status === "empty") continue;
      if (status === "ok" || status === "truncated") {
        log.notice(
          `DB loaded from ${isBase ? "base" : "incr"} file ${f.name}: ${
            ((performance.now() - t0) / 1000).toFixed(3)
          } seconds`,
        );
      } else {
        return { status: "failed", totalSize, baseSize, error: r.error };
      }
    }
  } finally {
    server.expiryPaused = false;
  }
  // A truncation shrank the last file.
  totalSize = 0;
  for (const f of files) totalSize += fileSize(join(opts.dirPath, f.name)) ?? 0;
  return { status, totalSize, baseSize };
}
