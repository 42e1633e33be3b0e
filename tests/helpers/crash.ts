/**
 * Helpers for persistence crash and failure tests: an in-process Amber on a directory
 * that outlives it (so a "restart" loads what the previous one wrote), INFO fields,
 * polling, the AOF directory's files as the manifest names them, and file operations
 * that fail on demand (ENOSPC, EIO, short writes) for the AOF writer.
 */
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { type AofManifest, parseManifest } from "../../src/persistence/aof/manifest.ts";
import { type AofFileOps, nodeFileOps } from "../../src/persistence/aof/writer.ts";
import { parseReply, type RawClient } from "./resp_client.ts";
import { startAmberIn, type TestAmber } from "./servers.ts";

/** An in-process Amber whose directory outlives it (see startAmberIn). */
export type DirAmber = TestAmber;
export { startAmberIn };

/** One field of INFO `section` ("" when absent). */
export async function infoField(c: RawClient, field: string, section = "persistence") {
  const text = parseReply(await c.call("INFO", section)) as string;
  const m = text.match(new RegExp(`^${field}:(.*)\\r$`, "m"));
  return m ? m[1] : "";
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `cond` every 25 ms until it holds; throws `what` after `ms`. */
export async function waitFor(
  cond: () => Promise<boolean> | boolean,
  what: string,
  ms = 10000,
): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return;
    await sleep(25);
  }
  throw new Error(`timed out waiting for: ${what}`);
}

/** Waits until the server has loaded its dataset (commands stop answering -LOADING). */
export async function waitLoaded(c: RawClient, ms = 30000): Promise<void> {
  const end = Date.now() + ms;
  while ((await c.call("DBSIZE")).startsWith("-LOADING")) {
    if (Date.now() > end) throw new Error("still loading");
    await sleep(10);
  }
}

/** The manifest of the AOF directory `aofDir`. */
export function readManifest(aofDir: string, appendFilename = "appendonly.aof"): AofManifest {
  return parseManifest(readFileSync(join(aofDir, `${appendFilename}.manifest`), "latin1"));
}

/** Path and size of the incr file appended to (the manifest's last incr), or null. */
export function lastIncrFile(aofDir: string): { path: string; size: number } | null {
  const m = readManifest(aofDir);
  if (m.incrs.length === 0) return null;
  const path = join(aofDir, m.incrs[m.incrs.length - 1].name);
  return { path, size: statSync(path).size };
}

/** An errno-style error as node:fs throws it. */
export function fsError(code: string, syscall: string): Error {
  return Object.assign(new Error(`${code}: ${syscall} failed (injected)`), { code, syscall });
}

/**
 * The real file operations, with failures switched on and off by the test:
 * - `writeError`: every write throws it (a full disk keeps failing until cleared);
 * - `shortWrite`: the next write stores only that many bytes and reports them, as a
 *   disk filling up mid-write does; the write of the rest then meets `writeError`;
 * - `fsyncError`: fdatasync (both the synchronous one of `always` and the background
 *   one of `everysec`) fails with it;
 * - `fsyncDelayMs`: the background fdatasync takes that long (a busy disk).
 */
export class FaultyFileOps implements AofFileOps {
  writeError: Error | null = null;
  shortWrite = 0;
  fsyncError: Error | null = null;
  fsyncDelayMs = 0;
  writes = 0;
  failedWrites = 0;
  fsyncs = 0;
  failedFsyncs = 0;

  writeSync(fd: number, buf: Uint8Array, offset: number, length: number): number {
    this.writes++;
    if (this.shortWrite > 0 && length > this.shortWrite) {
      const n = nodeFileOps.writeSync(fd, buf, offset, this.shortWrite);
      this.shortWrite = 0;
      return n;
    }
    if (this.writeError) {
      this.failedWrites++;
      throw this.writeError;
    }
    return nodeFileOps.writeSync(fd, buf, offset, length);
  }

  fdatasyncSync(fd: number): void {
    this.fsyncs++;
    if (this.fsyncError) {
      this.failedFsyncs++;
      throw this.fsyncError;
    }
    nodeFileOps.fdatasyncSync(fd);
  }

  fdatasync(fd: number, cb: (err: Error | null) => void): void {
    this.fsyncs++;
    const err = this.fsyncError;
    if (err) {
      this.failedFsyncs++;
      setTimeout(() => cb(err), 0);
      return;
    }
    const delay = this.fsyncDelayMs;
    if (delay > 0) nodeFileOps.fdatasync(fd, (e) => setTimeout(() => cb(e), delay));
    else nodeFileOps.fdatasync(fd, cb);
  }

  ftruncateSync(fd: number, len: number): void {
    nodeFileOps.ftruncateSync(fd, len);
  }

  close(fd: number): void {
    nodeFileOps.close(fd);
  }
}
