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
 *
 * While the server loads its RDB at start (when no job can run), the same Worker
 * computes the file's CRC-64 in parallel with the parsing:
 * Messages in:  crc {chunk} (the file's bytes in order) | crc-end {length}
 * Messages out: crc {value} (of the first `length` bytes; null if it could not tell)
 */
import { RdbFileWriter } from "./rdb_file.ts";
import { Crc64 } from "./rdb/crc64.ts";
import { AofBaseFileWriter } from "./aof/base_file.ts";
import type { RdbValue } from "./rdb/types.ts";
import type { RdbWriterOptions } from "./rdb/writer.ts";

export type WorkerRequest =
  | {
    op: "open";
    path: string;
    tmp: string;
    options: RdbWriterOptions;
    /** `aof`: a RESP base (`#TS:` first when `timestampSec` is set). Default `rdb`. */
    format?: "rdb" | "aof";
    timestampSec?: number;
  }
  | { op: "db"; db: number; keys: number; expires: number }
  | {
    op: "entries";
    seq: number;
    /**
     * Parallel arrays, so a chunk is three objects to clone rather than three per key:
     * a string value travels as the string itself, `expires[i]` is -1 for no TTL.
     */
    keys: string[];
    values: (string | RdbValue)[];
    expires: Float64Array;
  }
  | { op: "end" }
  | { op: "crc"; chunk: Uint8Array }
  | { op: "crc-end"; length: number };

export type WorkerReply =
  | { op: "ready" }
  | { op: "ack"; seq: number }
  | { op: "done"; bytes: number }
  | { op: "error"; message: string }
  | { op: "crc"; value: bigint | null };

// deno-lint-ignore no-explicit-any
const scope = globalThis as any;
let file: RdbFileWriter | AofBaseFileWriter | null = null;

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

function crcEnd(length: number): bigint | null {
  let value: bigint | null = null;
  const inHeld = length - crcTo;
  if (inHeld >= 0 && inHeld <= (held?.length ?? 0)) {
    if (held !== null) crc.update(held, 0, inHeld);
    value = crc.value();
  }
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
        file = m.format === "aof"
          ? new AofBaseFileWriter(m.path, m.tmp, { timestampSec: m.timestampSec })
          : new RdbFileWriter(m.path, m.tmp, m.options);
        reply({ op: "ready" });
        break;
      case "db":
        file!.selectDb(m.db, m.keys, m.expires);
        break;
      case "entries":
        for (let i = 0; i < m.keys.length; i++) {
          const v = m.values[i];
          const exp = m.expires[i];
          file!.entry(
            m.keys[i],
            typeof v === "string" ? { type: "string", value: v } : v,
            exp < 0 ? undefined : exp,
          );
        }
        reply({ op: "ack", seq: m.seq });
        break;
      case "end":
        reply({ op: "done", bytes: file!.commit() });
        file = null;
        break;
      case "crc":
        crcChunk(m.chunk);
        break;
      case "crc-end":
        reply({ op: "crc", value: crcEnd(m.length) });
        break;
    }
  } catch (e) {
    file?.abort();
    file = null;
    reply({ op: "error", message: (e as Error).message });
  }
};
