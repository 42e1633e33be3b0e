/**
 * Amber's in-memory values <-> the RDB codecs' neutral form (`RdbValue`).
 *
 * Saving keeps what Redis would write: the encoding a value has now (listpack,
 * intset, quicklist node boundaries). Loading rebuilds values the way Redis's
 * rdbLoadObject does: compact forms stay compact unless they exceed this server's
 * limits, and big forms are built big.
 */
import type { Config } from "../config.ts";
import type { RdbValue } from "./rdb/types.ts";
import type { Value } from "../types/value.ts";
import { ListValue } from "../types/list.ts";
import { SetValue } from "../types/set.ts";
import { HashValue } from "../types/hash.ts";
import { ZSet } from "../types/zset.ts";
import { intsetDecode } from "./rdb/intset.ts";
import { latin1Bytes } from "./rdb/types.ts";

/**
 * The neutral form of `v`, to be read at once: a list's node arrays are `v`'s own, so it
 * must not be kept across a change to `v` (a snapshot keeps clones for that).
 */
export function toRdbValue(v: Value): RdbValue {
  if (typeof v === "string") return { type: "string", value: v };
  if (v instanceof ListValue) {
    return {
      type: "list",
      items: [],
      encoding: "quicklist",
      // The nodes' own arrays (a snapshot encodes its chunk at once): a copy here only
      // made garbage.
      nodes: v.nodes.map((n) => n.items),
    };
  }
  if (v instanceof SetValue) {
    const blob = v.intsetBlob();
    return blob !== null
      ? { type: "set", members: v.toArray(), intset: true, encoding: "intset", blob }
      : { type: "set", members: v.toArray(), intset: false, encoding: "hashtable" };
  }
  if (v instanceof HashValue) {
    const entries: [string, string][] = [];
    v.forEach((f, val) => {
      entries.push([f, val]);
    });
    return { type: "hash", entries, encoding: v.isListpack ? "listpack" : "hashtable" };
  }
  if (v instanceof ZSet) {
    const entries: [string, number][] = [];
    v.forEach((m, s) => {
      entries.push([m, s]);
    });
    return { type: "zset", entries, encoding: v.isListpack ? "listpack" : "skiplist" };
  }
  throw new Error(`cannot save a value of type ${v.type}`);
}

/**
 * toRdbValue for a snapshot's Worker: a listpack hash or sorted set goes as its packed
 * buffer (one string to encode instead of a pair array and two strings per entry) and an
 * intset as its blob; fromTransferValue, in the Worker, expands them for the writers.
 */
export function toTransferValue(v: Value): RdbValue {
  if (v instanceof HashValue) {
    const packed = v.packedForm();
    if (packed !== null) {
      return { type: "hash", entries: [], packed, count: v.size, encoding: "listpack" };
    }
  } else if (v instanceof ZSet) {
    const packed = v.packedForm();
    if (packed !== null) {
      return { type: "zset", entries: [], packed, count: v.size, encoding: "listpack" };
    }
  } else if (v instanceof SetValue) {
    const blob = v.intsetBlob();
    if (blob !== null) {
      return { type: "set", members: [], count: v.size, intset: true, encoding: "intset", blob };
    }
  }
  return toRdbValue(v);
}

/** The writers' form of what toTransferValue sent. */
export function fromTransferValue(r: RdbValue): RdbValue {
  if (r.type === "hash" && r.packed !== undefined) {
    return toRdbValue(HashValue.fromPacked(r.packed));
  }
  if (r.type === "zset" && r.packed !== undefined) return toRdbValue(ZSet.fromPacked(r.packed));
  if (r.type === "set" && r.count !== undefined) {
    return toRdbValue(SetValue.fromIntsetBlob(r.blob!)!);
  }
  return r;
}

/** Encoding limits from the configuration, read once per load. */
export interface ValueLimits {
  listFill: number;
  setMaxIntset: number;
  hash: { entries: number; value: number };
  zset: { entries: number; value: number };
}

export function valueLimits(config: Config): ValueLimits {
  return {
    listFill: config.getInt("list-max-listpack-size"),
    setMaxIntset: config.getInt("set-max-intset-entries"),
    hash: {
      entries: config.getInt("hash-max-listpack-entries"),
      value: config.getInt("hash-max-listpack-value"),
    },
    zset: {
      entries: config.getInt("zset-max-listpack-entries"),
      value: config.getInt("zset-max-listpack-value"),
    },
  };
}

/** Builds the in-memory value for a loaded `RdbValue`; null for an empty collection. */
export function fromRdbValue(r: RdbValue, lim: ValueLimits): Value | null {
  switch (r.type) {
    case "string":
      return r.value;
    case "list": {
      if (r.nodes && r.nodes.length > 0) return ListValue.fromNodes(r.nodes, lim.listFill);
      if (r.items.length === 0) return null;
      return ListValue.from(r.items, lim.listFill);
    }
    case "set": {
      const n = r.count ?? r.members.length;
      if (n === 0) return null;
      // rdbLoadObject keeps a loaded intset as it is (its width too) unless it is too big.
      if (r.blob !== undefined && n <= lim.setMaxIntset) {
        const s = SetValue.fromIntsetBlob(r.blob);
        if (s !== null) return s;
      }
      // Otherwise its rules: intset when small enough and all integers.
      const members = r.count === undefined ? r.members : intsetMembers(r.blob!);
      return SetValue.fromMembers(members, lim.setMaxIntset);
    }
    case "hash":
      if (r.packed !== undefined) {
        // The reader built the packed form itself (its packedHashes option).
        const h = HashValue.fromPacked(r.packed);
        if (r.count! > lim.hash.entries) h.convert();
        return h;
      }
      if (r.entries.length === 0) return null;
      // Redis 7.0 keeps a loaded listpack unless it has too many entries (long values
      // do not convert it).
      return HashValue.fromPairs(
        r.entries,
        r.encoding === "listpack" && r.entries.length <= lim.hash.entries
          ? { entries: lim.hash.entries, value: Infinity }
          : lim.hash,
      );
    case "zset": {
      if (r.packed !== undefined) {
        // The reader built the packed form itself (its packedZsets option).
        const z = ZSet.fromPacked(r.packed);
        if (r.count! > lim.zset.entries) z.convertToSkiplist();
        return z;
      }
      const n = r.entries.length;
      if (n === 0) return null;
      // Rank order is what ZSet.fromSorted takes; the reader already gives it for a
      // skiplist (files store those tail first), and a listpack is in it unless damaged.
      let entries = r.entries;
      for (let i = 1; i < n; i++) {
        if (compareRank(entries[i - 1], entries[i]) > 0) {
          entries = entries.slice().sort(compareRank);
          break;
        }
      }
      const members = new Array<string>(n);
      const scores = new Array<number>(n);
      for (let i = 0; i < n; i++) {
        members[i] = entries[i][0];
        scores[i] = entries[i][1];
      }
      if (r.encoding === "listpack" && n <= lim.zset.entries) {
        return ZSet.fromSortedAs(members, scores, true);
      }
      return ZSet.fromSorted(members, scores, lim.zset);
    }
  }
}

/** The members of an intset blob (Latin-1) the reader validated and left undecoded. */
function intsetMembers(blob: string): string[] {
  return intsetDecode(latin1Bytes(blob));
}

function compareRank(a: [string, number], b: [string, number]): number {
  return a[1] - b[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
}
