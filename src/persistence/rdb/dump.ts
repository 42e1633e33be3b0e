/**
 * DUMP / RESTORE payloads (cluster.c `createDumpPayload` / `verifyDumpPayload`): the
 * value in RDB form (type byte + body, as `rdbSaveObjectType` + `rdbSaveObject` write it),
 * then the RDB version as 2 bytes little-endian, then the CRC-64 of everything before it
 * as 8 bytes little-endian.
 *
 * RESTORE in Redis 7.0 refuses a payload whose version is above 10 or whose CRC does not
 * match ("DUMP payload version or checksum are wrong"; unlike RDB files a CRC of 0 is not
 * special), and one whose body does not load ("Bad data format").
 */
import { Crc64, readU64LE } from "./crc64.ts";
import { RdbParser } from "./reader.ts";
import { RDB_VERSION_7_0, RdbError, RdbValue } from "./types.ts";
import { encodeObject, EncodingThresholds } from "./writer.ts";

/** RESTORE's reply (without the leading "-") for a bad footer. */
export const DUMP_ERR_VERSION_OR_CHECKSUM = "ERR DUMP payload version or checksum are wrong";
/** RESTORE's reply (without the leading "-") for a body that does not load. */
export const DUMP_ERR_BAD_FORMAT = "ERR Bad data format";

/** A payload RESTORE refuses; `message` is the error reply Redis sends. */
export class DumpPayloadError extends Error {
  constructor(message: string, readonly detail?: string) {
    super(message);
    this.name = "DumpPayloadError";
  }
}

export interface DumpOptions {
  /** rdbcompression: LZF for strings over 20 bytes (default true). */
  compression?: boolean;
  thresholds?: Partial<EncodingThresholds>;
}

/** The DUMP payload of `value` (throws for an empty collection: no such key to dump). */
export function encodeDump(value: RdbValue, opts: DumpOptions = {}): Uint8Array {
  const body = encodeObject(value, opts);
  if (body === null) throw new RangeError("cannot DUMP an empty collection");
  const out = new Uint8Array(body.length + 10);
  out.set(body, 0);
  out[body.length] = RDB_VERSION_7_0 & 0xff;
  out[body.length + 1] = RDB_VERSION_7_0 >> 8;
  new Crc64().update(out, 0, body.length + 2).writeLE(out, body.length + 2);
  return out;
}

/** encodeDump as a Latin-1 string (the bulk reply Amber sends). */
export function encodeDumpLatin1(value: RdbValue, opts: DumpOptions = {}): string {
  const b = encodeDump(value, opts);
  let s = "";
  for (let i = 0; i < b.length; i += 8192) {
    s += String.fromCharCode.apply(null, b.subarray(i, i + 8192) as unknown as number[]);
  }
  return s;
}

export interface VerifyOptions {
  /** The newest RDB version accepted (default 10, Redis 7.0's). */
  maxVersion?: number;
  /** Redis's `skip_checksum_validation` (a DEBUG knob): accept any CRC. */
  skipChecksum?: boolean;
  /**
   * decodeDump: fill `nodes` on lists, as RESTORE keeps a quicklist payload's node
   * boundaries (quicklistAppendListpack) rather than re-splitting the elements.
   */
  listNodes?: boolean;
  /**
   * decodeDump: let the body run on into the footer, as RESTORE does (its rio buffer is
   * the whole payload), so a value cut short borrows footer bytes instead of failing.
   */
  readIntoFooter?: boolean;
}

/** verifyDumpPayload: footer present, version not too new, CRC matches. */
export function verifyDumpPayload(payload: Uint8Array, opts: VerifyOptions = {}): boolean {
  const len = payload.length;
  if (len < 10) return false;
  const version = payload[len - 10] | (payload[len - 9] << 8);
  if (version > (opts.maxVersion ?? RDB_VERSION_7_0)) return false;
  if (opts.skipChecksum) return true;
  const crc = new Crc64().update(payload, 0, len - 8).value();
  return crc === readU64LE(payload, len - 8);
}

/**
 * Decodes a DUMP payload as RESTORE does. Throws DumpPayloadError carrying Redis's reply
 * text; `detail` says what exactly was wrong with a badly formatted body.
 */
export function decodeDump(payload: Uint8Array | string, opts: VerifyOptions = {}): RdbValue {
  const bytes = typeof payload === "string" ? latin1ToBytes(payload) : payload;
  if (!verifyDumpPayload(bytes, opts)) throw new DumpPayloadError(DUMP_ERR_VERSION_OR_CHECKSUM);
  const len = bytes.length;
  const version = bytes[len - 10] | (bytes[len - 9] << 8);
  try {
    const end = opts.readIntoFooter ? len : len - 10;
    const parser = RdbParser.forPayload(bytes, 0, end, version, {
      listNodes: opts.listNodes,
    });
    const { type, value } = parser.readObject();
    if (type > 19 && (opts.maxVersion ?? RDB_VERSION_7_0) <= RDB_VERSION_7_0) {
      // rdbIsObjectType in 7.0 stops at 19: a set-listpack payload is not a 7.0 one.
      throw new DumpPayloadError(DUMP_ERR_BAD_FORMAT, `value type ${type} is newer than 7.0`);
    }
    if (value === null) {
      throw new DumpPayloadError(DUMP_ERR_BAD_FORMAT, "the payload holds an empty collection");
    }
    return value;
  } catch (e) {
    if (e instanceof DumpPayloadError) throw e;
    if (e instanceof RdbError) throw new DumpPayloadError(DUMP_ERR_BAD_FORMAT, e.message);
    throw e;
  }
}

function latin1ToBytes(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
  return b;
}
