/**
 * A big collection handed to the snapshot Worker in slices, across event-loop turns.
 *
 * A snapshot chunk cannot split a key, so a hash of 1M fields used to be encoded in one
 * piece on the main thread: 115 ms at the start of a BGSAVE, where Redis's fork takes
 * 4 ms (BENCHMARKS.md, session 12). A collection over BIG_VALUE_ELEMENTS elements is
 * now sent as a shell (its type and encoding, no elements) and then slices of its
 * elements, in the order the writers would have read them, which the Worker puts back
 * together before writing (snapshot_worker.ts). The slices are read from the live
 * collection, so the snapshot drains a stream at once, before any write to its key
 * (Snapshot.beforeWrite): a value is never read across a change to it.
 *
 * Compact encodings are bounded by the listpack limits and go whole (values.ts).
 */
import type { RdbValue } from "./rdb/types.ts";
import type { Value } from "../types/value.ts";
import { ListValue } from "../types/list.ts";
import { SetValue } from "../types/set.ts";
import { HashValue } from "../types/hash.ts";
import { ZSet } from "../types/zset.ts";
import type { TableIterator } from "../keyspace/keytable.ts";
import type { KeyTable } from "../keyspace/keytable.ts";
import type { Cursor } from "../types/skiplist.ts";

/** Elements above which a collection is streamed rather than sent whole. */
export const BIG_VALUE_ELEMENTS = 4096;

/** A collection being read out in slices; `next(max)` is null once it is all out. */
export interface ValueStream {
  /** The value's type and encoding, with no elements: what the Worker fills. */
  readonly shell: RdbValue;
  /** About `max` more elements (a list gives whole nodes), or null at the end. */
  next(max: number): RdbValue | null;
}

/** Whether `v` is a collection to stream: over BIG_VALUE_ELEMENTS, not compact. */
export function isBigValue(v: Value): boolean {
  if (typeof v === "string") return false;
  if (v instanceof ListValue) return v.length > BIG_VALUE_ELEMENTS;
  if (v instanceof HashValue) return v.size > BIG_VALUE_ELEMENTS && !v.isListpack;
  if (v instanceof SetValue) return v.size > BIG_VALUE_ELEMENTS && v.scanSource() !== null;
  if (v instanceof ZSet) return v.size > BIG_VALUE_ELEMENTS && !v.isListpack;
  return false;
}

/** A stream for `v` if it is big enough to need one, else null (send it whole). */
export function streamFor(v: Value): ValueStream | null {
  if (!isBigValue(v)) return null;
  if (v instanceof HashValue) {
    const t = v.scanSource();
    return t === null ? null : new HashStream(t);
  }
  if (v instanceof SetValue) {
    const t = v.scanSource();
    return t === null ? null : new SetStream(t);
  }
  if (v instanceof ZSet) {
    const zs = v.zs;
    return zs === null ? null : new ZSetStream(zs.first());
  }
  if (v instanceof ListValue) return new ListStream(v);
  return null;
}

class HashStream implements ValueStream {
  readonly shell: RdbValue = { type: "hash", entries: [], encoding: "hashtable" };
  private iter: TableIterator<[string, string], string>;
  constructor(private table: KeyTable<string>) {
    this.iter = table.entries();
  }
  next(max: number): RdbValue | null {
    const entries: [string, string][] = [];
    for (let i = this.iter.step(); i >= 0; i = this.iter.step()) {
      entries.push([this.table.keyAt(i), this.table.valueAt(i)]);
      if (entries.length >= max) break;
    }
    return entries.length === 0 ? null : { type: "hash", entries, encoding: "hashtable" };
  }
}

class SetStream implements ValueStream {
  readonly shell: RdbValue = { type: "set", members: [], intset: false, encoding: "hashtable" };
  private iter: TableIterator<[string, true], true>;
  constructor(private table: KeyTable<true>) {
    this.iter = table.entries();
  }
  next(max: number): RdbValue | null {
    const members: string[] = [];
    for (let i = this.iter.step(); i >= 0; i = this.iter.step()) {
      members.push(this.table.keyAt(i));
      if (members.length >= max) break;
    }
    return members.length === 0
      ? null
      : { type: "set", members, intset: false, encoding: "hashtable" };
  }
}

class ZSetStream implements ValueStream {
  readonly shell: RdbValue = { type: "zset", entries: [], encoding: "skiplist" };
  constructor(private c: Cursor | null) {}
  next(max: number): RdbValue | null {
    const c = this.c;
    if (c === null) return null;
    const entries: [string, number][] = [];
    let more = true;
    while (more && entries.length < max) {
      entries.push([c.member, c.score]);
      more = c.next();
    }
    if (!more) this.c = null;
    return { type: "zset", entries, encoding: "skiplist" };
  }
}

class ListStream implements ValueStream {
  readonly shell: RdbValue = { type: "list", items: [], encoding: "quicklist", nodes: [] };
  private at = 0;
  constructor(private v: ListValue) {}
  next(max: number): RdbValue | null {
    // Read the node array each time: the stream is drained before any change to the
    // list, so it is the same array, but holding it would be one more thing to trust.
    const all = this.v.nodes;
    if (this.at >= all.length) return null;
    const nodes: string[][] = [];
    let n = 0;
    while (this.at < all.length && (nodes.length === 0 || n + all[this.at].items.length <= max)) {
      const items = all[this.at++].items;
      nodes.push(items);
      n += items.length;
    }
    return { type: "list", items: [], encoding: "quicklist", nodes };
  }
}

/** Appends a slice `next` gave to the value being rebuilt from its shell (the Worker). */
export function appendSlice(into: RdbValue, slice: RdbValue): void {
  if (into.type === "list" && slice.type === "list") {
    for (const node of slice.nodes ?? []) into.nodes!.push(node);
  } else if (into.type === "set" && slice.type === "set") {
    for (const m of slice.members) into.members.push(m);
  } else if (into.type === "hash" && slice.type === "hash") {
    for (const e of slice.entries) into.entries.push(e);
  } else if (into.type === "zset" && slice.type === "zset") {
    for (const e of slice.entries) into.entries.push(e);
  } else {
    throw new Error(`snapshot chunk: a ${slice.type} slice for a ${into.type} value`);
  }
}
