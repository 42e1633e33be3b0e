/**
 * The commands that rebuild a key (Redis 7.0 aof.c `rewriteAppendOnlyFileRio`): what a
 * `.base.aof` holds when `aof-use-rdb-preamble no`, and what `amber dump --format resp`
 * prints. Pure: values in, RESP text out.
 *
 * As Redis: SET for strings, RPUSH / SADD / ZADD / HMSET in batches of at most 64
 * elements (AOF_REWRITE_ITEMS_PER_CMD), scores as `%.17g`, then PEXPIREAT for a TTL.
 */
import type { RdbValue } from "../rdb/types.ts";
import { formatScore } from "../../util/double.ts";
import { encodeAofCommand } from "./stream.ts";

/** aof.c AOF_REWRITE_ITEMS_PER_CMD. */
export const ITEMS_PER_CMD = 64;

/** The command lines (argv arrays) that recreate `key`, TTL last. */
export function rewriteKeyCommands(
  key: string,
  value: RdbValue,
  expireAt?: number,
): string[][] {
  const out: string[][] = [];
  const batched = (name: string, items: string[], width: number) => {
    // `items` is flat: `width` strings per element.
    const per = ITEMS_PER_CMD * width;
    for (let i = 0; i < items.length; i += per) {
      out.push([name, key, ...items.slice(i, i + per)]);
    }
  };
  switch (value.type) {
    case "string":
      out.push(["SET", key, value.value]);
      break;
    case "list":
      batched("RPUSH", value.nodes ? value.nodes.flat() : value.items, 1);
      break;
    case "set":
      batched("SADD", value.members, 1);
      break;
    case "zset": {
      const flat: string[] = [];
      for (const [member, score] of value.entries) flat.push(formatScore(score), member);
      batched("ZADD", flat, 2);
      break;
    }
    case "hash": {
      const flat: string[] = [];
      for (const [field, v] of value.entries) flat.push(field, v);
      batched("HMSET", flat, 2);
      break;
    }
  }
  if (expireAt !== undefined) out.push(["PEXPIREAT", key, String(expireAt)]);
  return out;
}

/** `rewriteKeyCommands` as RESP text. */
export function rewriteKey(key: string, value: RdbValue, expireAt?: number): string {
  let s = "";
  for (const argv of rewriteKeyCommands(key, value, expireAt)) s += encodeAofCommand(argv);
  return s;
}

/** The SELECT that opens a database's section (`*2\r\n$6\r\nSELECT\r\n$<n>\r\n<db>\r\n`). */
export function selectCommand(db: number): string {
  return encodeAofCommand(["SELECT", String(db)]);
}
