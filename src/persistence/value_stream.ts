/**
 * A big collection handed to the snapshot Worker in slices, across event-loop turns.
 *
 * A snapshot chunk cannot split a key, so a hash of 1M fields used to be encoded in one
 * piece on the main thread: 115 ms at the start of a BGSAVE, where Redis's fork takes
 * 4 ms (BENCHMARKS.md, session 12). A collection over BIG_VALUE_ELEMENTS elements is
 * now sent as a shell (its type and encoding, no elements) and then slices of its
 * elements, in the order the writers would have read them, which the Worker puts back
 * together before writing (snapshot_worker.ts). The slices are read from the live
 * collection until a client writes to it: then (Snapshot.beforeWrite, before the write)
 * the stream freezes what it has not read yet and goes on from that frozen view.
 * A big value written to before the walk reached it is kept the same way (FrozenValue)
 * rather than cloned. A hash or set shares its table's entry chunks with the view, copied
 * on write a chunk at a time (KeyTable.shareEntries), a sorted set its leaves', a leaf at
 * a time (shareLeaves), a list its nodes', a node at a time (ListValue.shareNodes). A
 * clone, or encoding the rest at once, took 200-370 ms at 1M elements (BENCHMARKS.md).
 *
 * Compact encodings are bounded by the listpack limits and go whole (values.ts).
 */
import type { RdbValue } from "./rdb/types.ts";
import type { Collection, Value } from "../types/value.ts";
import { ListValue } from "../types/list.ts";
import { SetValue } from "../types/set.ts";
import { HashValue } from "../types/hash.ts";
import { ZSet } from "../types/zset.ts";
import {
  type FrozenEntries,
  frozenKey,
  frozenValue,
  type KeyTable,
  type TableIterator,
} from "../keyspace/keytable.ts";
import { type Cursor, type FrozenLeaf, shareLeaves } from "../types/skiplist.ts";

/** Elements above which a collection is streamed rather than sent whole. */
export const BIG_VALUE_ELEMENTS = 4096;

/** A collection being read out in slices; `next(max)` is null once it is all out. */
export interface ValueStream {
  /** The value's type and encoding, with no elements: what the Worker fills. */
  readonly shell: RdbValue;
  /** About `max` more elements (a list gives whole nodes), or null at the end. */
  next(max: number): RdbValue | null;
  /**
   * Freezes what is left to read of the live value: a view sharing its storage, which
   * the value copies a piece at a time as it changes, so it may change from now on
   * without the stream noticing. Costs a flag per chunk, leaf or node.
   */
  freeze(): void;
}

/**
 * A big value as it was when a client first wrote to it, before the snapshot walk had
 * reached it: Snapshot.beforeWrite keeps this instead of a clone (a clone of 1M fields
 * rebuilt the table in 200-250 ms; this is a frozen stream). Only streamFor reads it.
 */
export class FrozenValue implements Collection {
  readonly type: string;
  private readonly enc: string;
  readonly stream: ValueStream;
  constructor(v: Collection, stream: ValueStream) {
    this.type = v.type;
    this.enc = v.encoding();
    this.stream = stream;
    stream.freeze();
  }
  encoding(): string {
    return this.enc;
  }
}

/** Whether `v` is a collection to stream: over BIG_VALUE_ELEMENTS, not compact. */
export function isBigValue(v: Value): boolean {
  if (typeof v === "string") return false;
  if (v instanceof FrozenValue) return true;
  if (v instanceof ListValue) return v.length > BIG_VALUE_ELEMENTS;
  if (v instanceof HashValue) return v.size > BIG_VALUE_ELEMENTS && !v.isListpack;
  if (v instanceof SetValue) return v.size > BIG_VALUE_ELEMENTS && v.scanSource() !== null;
  if (v instanceof ZSet) return v.size > BIG_VALUE_ELEMENTS && !v.isListpack;
  return false;
}

/** A stream for `v` if it is big enough to need one, else null (send it whole). */
export function streamFor(v: Value): ValueStream | null {
  if (!isBigValue(v)) return null;
  if (v instanceof FrozenValue) return v.stream;
  if (v instanceof HashValue) return new TableStream(v.scanSource()!, "hash");
  if (v instanceof SetValue) return new TableStream(v.scanSource()!, "set");
  if (v instanceof ZSet) return new ZSetStream(v.zs!.first());
  if (v instanceof ListValue) return new ListStream(v);
  return null;
}

/** A frozen view of big `v` (a FrozenValue), or null if `v` is not big. */
export function freezeValue(v: Value): FrozenValue | null {
  const stream = typeof v === "string" ? null : streamFor(v);
  return stream === null ? null : new FrozenValue(v as Collection, stream);
}

/** A hashtable hash or set: its KeyTable's entries in position order. */
class TableStream<V> implements ValueStream {
  readonly shell: RdbValue;
  private iter: TableIterator<[string, V], V> | null;
  private frozen: FrozenEntries<V> | null = null;
  private at = 0;
  private done = false;
  constructor(private table: KeyTable<V>, private kind: "hash" | "set") {
    this.iter = table.entries();
    this.shell = kind === "hash"
      ? { type: "hash", entries: [], encoding: "hashtable" }
      : { type: "set", members: [], intset: false, encoding: "hashtable" };
  }
  freeze(): void {
    if (this.iter === null || this.done) return;
    this.frozen = this.table.shareEntries(this.iter.position);
    this.at = this.frozen.from;
    this.iter = null;
  }
  next(max: number): RdbValue | null {
    if (this.done) return null;
    const keys: string[] = [];
    const values: V[] = [];
    const it = this.iter;
    if (it !== null) {
      for (let i = it.step(); i >= 0; i = it.step()) {
        keys.push(this.table.keyAt(i));
        values.push(this.table.valueAt(i));
        if (keys.length >= max) break;
      }
    } else {
      const f = this.frozen!;
      for (; this.at < f.end && keys.length < max; this.at++) {
        const k = frozenKey(f, this.at);
        if (k === undefined) continue;
        keys.push(k);
        values.push(frozenValue(f, this.at));
      }
    }
    if (keys.length === 0) {
      // Read out: the table's chunks are its own again.
      if (this.frozen !== null) this.table.releaseEntries();
      this.frozen = null;
      this.iter = null;
      this.done = true;
      return null;
    }
    if (this.kind === "set") {
      return { type: "set", members: keys, intset: false, encoding: "hashtable" };
    }
    const entries = keys.map((k, i): [string, string] => [k, values[i] as string]);
    return { type: "hash", entries, encoding: "hashtable" };
  }
}

class ZSetStream implements ValueStream {
  readonly shell: RdbValue = { type: "zset", entries: [], encoding: "skiplist" };
  /** Frozen: the leaves' arrays from where the stream stood, read at `leaf`, `i`. */
  private frozen: FrozenLeaf[] | null = null;
  private leaf = 0;
  private i = 0;
  constructor(private c: Cursor | null) {}
  freeze(): void {
    if (this.frozen !== null) return;
    this.frozen = this.c === null ? [] : shareLeaves(this.c);
    this.i = this.frozen.length > 0 ? this.frozen[0].from : 0;
    this.c = null;
  }
  next(max: number): RdbValue | null {
    const entries: [string, number][] = [];
    const f = this.frozen;
    if (f !== null) {
      while (entries.length < max && this.leaf < f.length) {
        const l = f[this.leaf];
        for (; this.i < l.m.length && entries.length < max; this.i++) {
          entries.push([l.m[this.i], l.s[this.i]]);
        }
        if (this.i >= l.m.length) {
          this.leaf++;
          this.i = 0;
        }
      }
    } else {
      const c = this.c;
      if (c === null) return null;
      let more = true;
      while (more && entries.length < max) {
        entries.push([c.member, c.score]);
        more = c.next();
      }
      if (!more) this.c = null;
    }
    return entries.length === 0 ? null : { type: "zset", entries, encoding: "skiplist" };
  }
}

class ListStream implements ValueStream {
  readonly shell: RdbValue = { type: "list", items: [], encoding: "quicklist", nodes: [] };
  private at = 0;
  /** Frozen: the item arrays of the nodes not sent yet, shared (ListValue.shareNodes). */
  private frozen: string[][] | null = null;
  constructor(private v: ListValue) {}
  freeze(): void {
    if (this.frozen !== null) return;
    this.frozen = this.v.shareNodes(this.at);
    this.at = 0;
  }
  next(max: number): RdbValue | null {
    // The live node array is read afresh each time (it is only read until the stream
    // is frozen, before any change to the list).
    const frozen = this.frozen;
    const live = frozen === null ? this.v.nodes : null;
    const count = frozen !== null ? frozen.length : live!.length;
    const items = (i: number) => frozen !== null ? frozen[i] : live![i].items;
    if (this.at >= count) return null;
    const nodes: string[][] = [];
    let n = 0;
    while (this.at < count && (nodes.length === 0 || n + items(this.at).length <= max)) {
      const node = items(this.at++);
      nodes.push(node);
      n += node.length;
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
