/**
 * The Worker that turns snapshot chunks into a file: an RDB (BGSAVE, or an AOF base
 * with `aof-use-rdb-preamble yes`) or a RESP `.base.aof`. Encoding, LZF compression,
 * CRC64 and file I/O all happen here, off the main thread (what Redis's fork child
 * does). The main thread streams entries in; each `entries` message is acknowledged
 * so the sender can bound how much is in flight.
 *
 * Messages in:  open {path, tmp, writer options, format} | db {db, keys, expires}
 *               | entries {seq, keys, values, expires} | end
 * Messages out: ready | ack {seq} | done {bytes} | error {message}
 * A big collection arrives as a shell and slices spread over several `entries` messages
 * (value_stream.ts); it is put back together here and written when its end comes.
 *
 * While the server loads its RDB at start (when no job can run), the same Worker
 * computes the file's CRC-64 in parallel with the parsing, reading the file itself
 * (handing it the bytes cost the main thread a copy per chunk: 2-3% of the load):
 * Messages in:  crc-file {path, size, ino} (the file the load opened) | crc-end {length}
 * Messages out: crc {value} (of the first `length` bytes; null if it could not tell,
 *               e.g. the file at `path` is not the one the load opened)
 * and builds each database's keyspace index from the keys' hashes as they are read
 * (KeyTable.adoptIndex; the index pass took 7-9% of the main thread's load):
 * Messages in:  index-add {db, slots, hashes} (in position order) | index-end {db}
 * Messages out: index {db, index, candidates} (null: more keys than `slots` holds)
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { crcOfPrefix, RdbFileWriter } from "./rdb_file.ts";
import { Crc64 } from "./rdb/crc64.ts";
import { AofBaseFileWriter } from "./aof/base_file.ts";
import { IndexBuilder } from "../keyspace/keytable.ts";
import { fromTransferValue } from "./values.ts";
import { decodeChunk, EntryPart } from "./chunk_codec.ts";
import { appendSlice } from "./value_stream.ts";
import type { RdbValue } from "./rdb/types.ts";
import type { RdbWriterOptions } from "./rdb/writer.ts";
import { lowerThisThread } from "../util/thread_priority.ts";
import { currentThreadId, setThreadAffinity } from "../util/cpu_affinity.ts";

export type WorkerRequest =
  | {
    op: "open";
    path: string;
    tmp: string;
    options: RdbWriterOptions;
    /** `aof`: a RESP base (`#TS:` first when `timestampSec` is set). Default `rdb`. */
    format?: "rdb" | "aof";
    timestampSec?: number;
    /**
     * The CPUs this job runs on (bgsave_cpulist or aof_rewrite_cpulist, else
     * server_cpulist: cpu_affinity.ts); absent when no list is set.
     */
    cpus?: number[];
  }
  | { op: "db"; db: number; keys: number; expires: number }
  | {
    op: "entries";
    seq: number;
    /** The chunk's keys, TTLs and values (chunk_codec.ts), transferred. */
    bytes: Uint8Array;
  }
  | { op: "end" }
  | { op: "crc-file"; path: string; size: number; ino: number }
  | { op: "crc-end"; length: number }
  | { op: "index-add"; db: number; slots: number; hashes: Int32Array }
  | { op: "index-end"; db: number };

export type WorkerReply =
  | { op: "ready" }
  | { op: "ack"; seq: number }
  | { op: "done"; bytes: number }
  | { op: "error"; message: string }
  | { op: "warning"; message: string }
  | { op: "crc"; value: bigint | null }
  | { op: "index"; db: number; index: Int32Array | null; candidates: Int32Array | null };

// Background work: clients come first (thread_priority.ts).
lowerThisThread();

/** The CPUs this thread was last pinned to (a job's list), as "0,1". */
let pinned = "";

/** Pins this thread to a job's CPUs, unless it already is; a failure is reported once. */
function pinTo(cpus: number[]): void {
  const key = cpus.join(",");
  const tid = currentThreadId();
  if (key === pinned || tid === null) return;
  pinned = key;
  const err = setThreadAffinity(tid, cpus);
  if (err) {
    reply({ op: "warning", message: `Failed to set CPU affinity for a background job: ${err}` });
  }
}

// deno-lint-ignore no-explicit-any
const scope = globalThis as any;
let file: RdbFileWriter | AofBaseFileWriter | null = null;
/** A big value arriving in slices (value_stream.ts), written whole at its end. */
let big: { key: string; value: RdbValue; exp: number | undefined } | null = null;

function reply(msg: WorkerReply): void {
  scope.postMessage(msg);
}

/**
 * The running CRC of the chunks before `held`, which is kept back: where the hashed
 * prefix ends (the trailer) is known only at `crc-end`, and it is in the last chunk.
 */
let crc = new Crc64();
let crcTo = 0;
let held: Uint8Array | null = null;

function crcChunk(chunk: Uint8Array): void {
  if (held !== null) {
    crc.update(held, 0, held.length);
    crcTo += held.length;
  }
  held = chunk;
}

/** The index being built per database; null once it overflowed. */
const builders = new Map<number, IndexBuilder | null>();

/** The file crc-file hashes, kept open until crc-end; -1 if none (or not the same). */
let crcFd = -1;

/** Hashes the file at `path`, if it is the one the load opened (same size and inode). */
function crcFile(path: string, size: number, ino: number): void {
  // A load starts: nothing of an earlier one that ended without crc-end carries over.
  if (crcFd >= 0) closeSync(crcFd);
  crcFd = -1;
  crc = new Crc64();
  crcTo = 0;
  held = null;
  let fd = -1;
  try {
    fd = openSync(path, "r");
    const st = fstatSync(fd);
    if (st.size !== size || Number(st.ino) !== ino) throw new Error("another file");
    for (let at = 0; at < size;) {
      // A fresh array per chunk: the last one is held until crc-end.
      const chunk = new Uint8Array(Math.min(1 << 20, size - at));
      const got = readSync(fd, chunk, 0, chunk.length, at);
      if (got <= 0) throw new Error("shorter than at fstat");
      crcChunk(got === chunk.length ? chunk : chunk.subarray(0, got));
      at += got;
    }
    crcFd = fd;
  } catch {
    // crc-end answers null, and the load hashes the file itself.
    if (fd >= 0) closeSync(fd);
  }
}

function crcEnd(length: number): bigint | null {
  let value: bigint | null = null;
  const inHeld = length - crcTo;
  if (crcFd < 0) {
    // crc-file found another file, or could not read it: no answer.
  } else if (inHeld >= 0 && inHeld <= (held?.length ?? 0)) {
    if (held !== null) crc.update(held, 0, inHeld);
    value = crc.value();
  } else if (length <= crcTo + (held?.length ?? 0)) {
    // The prefix ends before the last chunk: hash it again from the file.
    value = crcOfPrefix(crcFd, length);
  }
  if (crcFd >= 0) closeSync(crcFd);
  crcFd = -1;
  crc = new Crc64();
  crcTo = 0;
  held = null;
  return value;
}

scope.onmessage = (ev: MessageEvent<WorkerRequest>) => {
  const m = ev.data;
  try {
    switch (m.op) {
      case "open":
        big = null;
        if (m.cpus) pinTo(m.cpus);
        file = m.format === "aof"
          ? new AofBaseFileWriter(m.path, m.tmp, { timestampSec: m.timestampSec })
          : new RdbFileWriter(m.path, m.tmp, m.options);
        reply({ op: "ready" });
        break;
      case "db":
        file!.selectDb(m.db, m.keys, m.expires);
        break;
      case "entries":
        decodeChunk(m.bytes, (key, value, exp, part) => {
          if (part === EntryPart.WHOLE) file!.entry(key, fromTransferValue(value!), exp);
          else if (part === EntryPart.BEGIN) big = { key, value: value!, exp };
          else if (big === null) throw new Error("snapshot chunk: a slice with no value begun");
          else if (part === EntryPart.SLICE) appendSlice(big.value, value!);
          else {
            file!.entry(big.key, big.value, big.exp);
            big = null;
          }
        });
        reply({ op: "ack", seq: m.seq });
        break;
      case "end":
        reply({ op: "done", bytes: file!.commit() });
        file = null;
        break;
      case "crc-file":
        // Sent when a load starts, which also builds its indexes afresh.
        builders.clear();
        crcFile(m.path, m.size, m.ino);
        break;
      case "crc-end":
        reply({ op: "crc", value: crcEnd(m.length) });
        break;
      case "index-add": {
        let b = builders.get(m.db);
        if (b === undefined) builders.set(m.db, b = new IndexBuilder(m.slots));
        if (b !== null && !b.add(m.hashes)) builders.set(m.db, null);
        break;
      }
      case "index-end": {
        const b = builders.get(m.db) ?? null;
        builders.delete(m.db);
        if (b === null) {
          reply({ op: "index", db: m.db, index: null, candidates: null });
        } else {
          const candidates = b.candidates();
          scope.postMessage({ op: "index", db: m.db, index: b.index, candidates }, [
            b.index.buffer,
            candidates.buffer,
          ]);
        }
        break;
      }
    }
  } catch (e) {
    file?.abort();
    file = null;
    reply({ op: "error", message: (e as Error).message });
  }
};
