/**
 * The list value: a quicklist as in Redis 7.0 (where every list, however small, is
 * OBJECT ENCODING "quicklist"): a sequence of nodes, each a small array standing for
 * one listpack. Nodes fill and split by Redis's rules (`list-max-listpack-size`: a
 * negative fill limits a node's listpack bytes to 4/8/16/32/64 KiB, a positive one
 * its entry count, with an 8 KiB safety cap), so the node boundaries a later RDB
 * writer sees approximate Redis's own. Pushes and pops at both ends touch one node;
 * indexing walks nodes from the nearer end, O(nodes).
 *
 * A push at the head does not shift the head node's array: `unshift` moves every
 * element (up to ~1600 of 8 KiB), 7% of an LPUSH's CPU at `-P 16`. Once the head node
 * holds a few dozen, head pushes wait in `front` (newest last), already counted in the
 * node's size, and join the node when anything else reads or changes the list
 * (`settled`), or a new head node starts.
 */
import type { Collection } from "./value.ts";
import { isCanonicalInt } from "./value.ts";

/** One quicklist node: its entries and the byte size of the listpack holding them. */
export interface ListNode {
  items: string[];
  /** lpBytes of the node's listpack (header and end byte included). */
  sz: number;
  /** A frozen view (shareNodes) reads `items`: copy it before changing it. */
  shared: boolean;
}

/** Gives `node` an items array of its own if a frozen view shares it (copy on write). */
function own(node: ListNode): string[] {
  if (node.shared) {
    node.shared = false;
    node.items = node.items.slice();
  }
  return node.items;
}

/** LP_HDR_SIZE + LP_EOF: the bytes of an empty listpack. */
const LP_EMPTY = 7;
/** SIZE_SAFETY_LIMIT: the byte cap of a multi-entry node under a count fill. */
const SIZE_SAFETY_LIMIT = 8192;
/** SIZE_ESTIMATE_OVERHEAD: the per-insert overestimate of an entry's header bytes. */
const SIZE_ESTIMATE_OVERHEAD = 8;
const OPTIMIZATION_LEVEL = [4096, 8192, 16384, 32768, 65536];
/** packed_threshold: elements this large live alone in a plain node. */
const PACKED_THRESHOLD = 1 << 30;
/**
 * Head pushes wait in `front` only once the head node has this many entries: shifting a
 * shorter array costs little, and a small list keeps no second array.
 */
const FRONT_AFTER = 32;
/** FILL_MAX: quicklist->fill is a 16-bit field. */
const FILL_MAX = (1 << 15) - 1;

/** The bytes one element takes in a listpack (encoding, data and back-length). */
export function listpackEntrySize(s: string): number {
  let enc: number;
  const n = s.length;
  if (n <= 20 && isCanonicalInt(s)) {
    const v = Number(s);
    if (v >= 0 && v <= 127) enc = 1;
    else if (v >= -4096 && v <= 4095) enc = 2;
    else if (v >= -32768 && v <= 32767) enc = 3;
    else if (v >= -8388608 && v <= 8388607) enc = 4;
    else if (v >= -2147483648 && v <= 2147483647) enc = 5;
    else enc = 9;
  } else if (n < 64) enc = 1 + n;
  else if (n < 4096) enc = 2 + n;
  else enc = 5 + n;
  const back = enc <= 127 ? 1 : enc < 16383 ? 2 : enc < 2097151 ? 3 : enc < 268435455 ? 4 : 5;
  return enc + back;
}

function sizeMeetsOptimization(sz: number, fill: number): boolean {
  if (fill >= 0) return false;
  const offset = -fill - 1;
  return offset < OPTIMIZATION_LEVEL.length && sz <= OPTIMIZATION_LEVEL[offset];
}

/**
 * _quicklistNodeAllowInsert, `len` being the raw element length; `waiting` head pushes
 * not yet in the node's array count as its entries.
 */
function allowInsert(
  node: ListNode | undefined,
  fill: number,
  len: number,
  waiting = 0,
): boolean {
  if (node === undefined) return false;
  if (len >= PACKED_THRESHOLD || isPlain(node)) return false;
  const newSz = node.sz + len + SIZE_ESTIMATE_OVERHEAD;
  if (sizeMeetsOptimization(newSz, fill)) return true;
  if (newSz > SIZE_SAFETY_LIMIT) return false;
  return node.items.length + waiting < fill;
}

/** _quicklistNodeAllowMerge */
function allowMerge(a: ListNode | undefined, b: ListNode | undefined, fill: number): boolean {
  if (a === undefined || b === undefined || isPlain(a) || isPlain(b)) return false;
  // 7.0 still subtracts ziplist's 11 header/end bytes here (observed: two halves whose
  // listpack would be 4100 bytes merge under fill -1's 4096 limit).
  const mergeSz = a.sz + b.sz - 11;
  if (sizeMeetsOptimization(mergeSz, fill)) return true;
  if (mergeSz > SIZE_SAFETY_LIMIT) return false;
  return a.items.length + b.items.length <= fill;
}

function isPlain(node: ListNode): boolean {
  return node.items.length === 1 && node.items[0].length >= PACKED_THRESHOLD;
}

function newNode(items: string[]): ListNode {
  let sz = LP_EMPTY;
  for (let i = 0; i < items.length; i++) sz += listpackEntrySize(items[i]);
  return { items, sz, shared: false };
}

/** quicklistSetFill: the config value clamped to what a quicklist accepts. */
export function clampFill(fill: number): number {
  return fill > FILL_MAX ? FILL_MAX : fill < -5 ? -5 : fill;
}

export class ListValue implements Collection {
  private ns: ListNode[] = [];
  /** Head pushes not yet in `ns[0].items`, newest last (see the top of the file). */
  private front: string[] | null = null;
  /** Number of elements. */
  length = 0;
  fill: number;

  /** `fill` is list-max-listpack-size when the list is created (Redis fixes it then). */
  constructor(fill = -2) {
    this.fill = clampFill(fill);
  }

  /** On the prototype rather than per object: many small lists are common. */
  get type(): string {
    return "list";
  }

  encoding(): string {
    return "quicklist";
  }

  /** The nodes, with every element in place (RDB writers, tests). */
  get nodes(): ListNode[] {
    return this.settled();
  }

  /**
   * A frozen view of the elements from node `from` on, as the nodes' item arrays: a
   * snapshot's copy of a big list (persistence/value_stream.ts). The view shares the
   * arrays, and a node copies its own before its first change, as a forked process's
   * pages are copied on write: taking the view costs a flag per node.
   */
  shareNodes(from: number): string[][] {
    const nodes = this.settled();
    const out: string[][] = [];
    for (let i = from; i < nodes.length; i++) {
      nodes[i].shared = true;
      out.push(nodes[i].items);
    }
    return out;
  }

  /** Moves the waiting head pushes into the head node; returns the nodes. */
  private settled(): ListNode[] {
    const f = this.front;
    if (f === null || f.length === 0) return this.ns;
    const head = this.ns[0];
    const old = head.items;
    if (f.length <= 4) {
      // A read after each push or two (LPUSH then LINDEX): shift in place, as before,
      // rather than allocate a node-sized array per read.
      const items = own(head);
      for (let i = 0; i < f.length; i++) items.unshift(f[i]);
      this.front = null;
      return this.ns;
    }
    const items = new Array<string>(f.length + old.length);
    let k = 0;
    for (let i = f.length - 1; i >= 0; i--) items[k++] = f[i];
    for (let i = 0; i < old.length; i++) items[k++] = old[i];
    head.items = items;
    this.front = null;
    return this.ns;
  }

  clone(): ListValue {
    const l = new ListValue(this.fill);
    l.ns = this.settled().map((n) => ({ items: n.items.slice(), sz: n.sz, shared: false }));
    l.length = this.length;
    return l;
  }

  /** A list holding `items`, pushed at the tail one by one (RDB loading, SORT STORE). */
  static from(items: Iterable<string>, fill = -2): ListValue {
    const l = new ListValue(fill);
    for (const s of items) l.pushTail(s);
    return l;
  }

  /**
   * A list with exactly these node boundaries: RDB loading keeps a file's nodes
   * (quicklistAppendListpack, no re-splitting or merging). Empty nodes are skipped. The
   * list takes the arrays as they are (the reader's are its own).
   */
  static fromNodes(nodes: string[][], fill = -2): ListValue {
    const l = new ListValue(fill);
    let n = 0;
    for (let i = 0; i < nodes.length; i++) if (nodes[i].length !== 0) n++;
    // Sized exactly: a push onto [] would give each small list 17 slots.
    const own = new Array<ListNode>(n);
    let j = 0;
    for (let i = 0; i < nodes.length; i++) {
      const items = nodes[i];
      if (items.length === 0) continue;
      own[j++] = newNode(items);
      l.length += items.length;
    }
    l.ns = own;
    return l;
  }

  pushHead(s: string): void {
    const head = this.ns[0];
    const f = this.front;
    if (allowInsert(head, this.fill, s.length, f === null ? 0 : f.length)) {
      if (f !== null) f.push(s);
      else if (head.items.length < FRONT_AFTER) own(head).unshift(s);
      else this.front = [s];
      head.sz += listpackEntrySize(s);
    } else this.settled().unshift(newNode([s]));
    this.length++;
  }

  pushTail(s: string): void {
    const ns = this.ns;
    const tail = ns[ns.length - 1];
    const f = this.front;
    const waiting = f === null || ns.length !== 1 ? 0 : f.length;
    if (allowInsert(tail, this.fill, s.length, waiting)) {
      own(tail).push(s);
      tail.sz += listpackEntrySize(s);
    } else ns.push(newNode([s]));
    this.length++;
  }

  popHead(): string | undefined {
    const f = this.front;
    if (f !== null && f.length !== 0) {
      const s = f.pop()!;
      this.ns[0].sz -= listpackEntrySize(s);
      this.length--;
      return s;
    }
    const ns = this.ns;
    const head = ns[0];
    if (head === undefined) return undefined;
    const s = own(head).shift()!;
    this.length--;
    if (head.items.length === 0) ns.shift();
    else head.sz -= listpackEntrySize(s);
    return s;
  }

  popTail(): string | undefined {
    // The last element of a one-node list may be all that holds its waiting pushes.
    const ns = this.ns.length === 1 ? this.settled() : this.ns;
    const tail = ns[ns.length - 1];
    if (tail === undefined) return undefined;
    const s = own(tail).pop()!;
    this.length--;
    if (tail.items.length === 0) ns.pop();
    else tail.sz -= listpackEntrySize(s);
    return s;
  }

  /** [node index, offset in node] of element `i` (0 <= i < length), walking from the nearer end. */
  private locate(i: number): [number, number] {
    const nodes = this.settled();
    if (i < this.length / 2) {
      let n = 0;
      while (i >= nodes[n].items.length) i -= nodes[n++].items.length;
      return [n, i];
    }
    let back = this.length - 1 - i;
    let n = nodes.length - 1;
    while (back >= nodes[n].items.length) back -= nodes[n--].items.length;
    return [n, nodes[n].items.length - 1 - back];
  }

  /** Element at `i`; negative counts from the tail. */
  get(i: number): string | undefined {
    if (i < 0) i += this.length;
    if (i < 0 || i >= this.length) return undefined;
    const [n, o] = this.locate(i);
    return this.ns[n].items[o];
  }

  /** LSET: replaces in place (Redis 7.0 lpReplace, no re-split). False if out of range. */
  set(i: number, s: string): boolean {
    if (i < 0) i += this.length;
    if (i < 0 || i >= this.length) return false;
    const [n, o] = this.locate(i);
    const node = this.ns[n];
    node.sz += listpackEntrySize(s) - listpackEntrySize(node.items[o]);
    own(node)[o] = s;
    return true;
  }

  /** Elements `start..end` (inclusive, already clamped to 0 <= start <= end < length). */
  range(start: number, end: number): string[] {
    const out: string[] = [];
    if (start > end) return out;
    let [n, o] = this.locate(start);
    let left = end - start + 1;
    const nodes = this.ns;
    while (left > 0) {
      const items = nodes[n].items;
      const take = Math.min(left, items.length - o);
      for (let k = 0; k < take; k++) out.push(items[o + k]);
      left -= take;
      n++;
      o = 0;
    }
    return out;
  }

  /** Calls `f(element, index)` from the head; stops when it returns false. */
  forEach(f: (s: string, i: number) => boolean | void): void {
    let i = 0;
    for (const node of this.settled()) {
      for (const s of node.items) if (f(s, i++) === false) return;
    }
  }

  /** Calls `f(element, index)` from the tail; stops when it returns false. */
  forEachReverse(f: (s: string, i: number) => boolean | void): void {
    let i = this.length - 1;
    const nodes = this.settled();
    for (let n = nodes.length - 1; n >= 0; n--) {
      const items = nodes[n].items;
      for (let k = items.length - 1; k >= 0; k--) if (f(items[k], i--) === false) return;
    }
  }

  /** Every element, head to tail. */
  *values(): IterableIterator<string> {
    for (const node of this.settled()) yield* node.items;
  }

  toArray(): string[] {
    const out: string[] = [];
    for (const node of this.settled()) for (const s of node.items) out.push(s);
    return out;
  }

  /**
   * quicklistDelRange(start, count) for 0 <= start, start + count <= length: removes
   * entries in place; emptied nodes go away, neighbours are not merged (as Redis).
   */
  deleteRange(start: number, count: number): void {
    if (count <= 0) return;
    if (start === 0 && count === this.length) {
      this.ns = [];
      this.front = null;
      this.length = 0;
      return;
    }
    const [first, o] = this.locate(start);
    this.length -= count;
    const nodes = this.ns;
    let n = first;
    let left = count;
    const trim = (node: ListNode, at: number, k: number): void => {
      for (const s of own(node).splice(at, k)) node.sz -= listpackEntrySize(s);
    };
    // A partial first node, then whole nodes in one splice (LTRIM of a long list must
    // not splice node by node), then a partial last node.
    if (o > 0 || left < nodes[n].items.length) {
      const take = Math.min(left, nodes[n].items.length - o);
      trim(nodes[n], o, take);
      left -= take;
      n++;
    }
    let m = n;
    while (left > 0 && nodes[m].items.length <= left) left -= nodes[m++].items.length;
    if (m > n) nodes.splice(n, m - n);
    if (left > 0) trim(nodes[n], 0, left);
  }

  /**
   * LREM: removes up to `limit` (0 = all) elements equal to `s`, scanning from the head
   * or (`fromTail`) from the tail. Returns how many were removed.
   */
  removeEqual(s: string, limit: number, fromTail: boolean): number {
    let removed = 0;
    const nodes = this.settled();
    const visit = (n: number): boolean => {
      const node = nodes[n];
      if (!node.items.includes(s)) return true;
      const items = own(node);
      if (fromTail) {
        for (let k = items.length - 1; k >= 0; k--) {
          if (items[k] !== s) continue;
          items.splice(k, 1);
          node.sz -= listpackEntrySize(s);
          if (++removed === limit) return false;
        }
      } else {
        let w = 0;
        let k = 0;
        for (; k < items.length; k++) {
          if (items[k] === s && removed !== limit) {
            removed++;
            node.sz -= listpackEntrySize(s);
          } else items[w++] = items[k];
        }
        items.length = w;
        if (removed === limit) return false;
      }
      return true;
    };
    if (limit === 0) limit = -1;
    if (fromTail) {
      for (let n = nodes.length - 1; n >= 0; n--) if (!visit(n)) break;
    } else {
      for (let n = 0; n < nodes.length; n++) if (!visit(n)) break;
    }
    if (removed !== 0) {
      this.ns = nodes.filter((node) => node.items.length !== 0);
      this.length -= removed;
    }
    return removed;
  }

  /** Index of the first element equal to `s` from the head, or -1 (LINSERT's pivot). */
  indexOf(s: string): number {
    let base = 0;
    for (const node of this.settled()) {
      const k = node.items.indexOf(s);
      if (k !== -1) return base + k;
      base += node.items.length;
    }
    return -1;
  }

  /** Inserts `s` before or after element `i` (0 <= i < length), as _quicklistInsert. */
  insertAt(i: number, s: string, after: boolean): void {
    const [n, o] = this.locate(i);
    const nodes = this.ns;
    const node = nodes[n];
    const fill = this.fill;
    const len = s.length;
    const full = !allowInsert(node, fill, len);
    const atTail = after && o === node.items.length - 1;
    const atHead = !after && o === 0;
    const availNext = atTail && allowInsert(nodes[n + 1], fill, len);
    const availPrev = atHead && allowInsert(nodes[n - 1], fill, len);
    const esz = listpackEntrySize(s);
    this.length++;
    if (len >= PACKED_THRESHOLD) {
      // Plain node: alone, next to the pivot's node (or splitting it).
      if (atTail || atHead || isPlain(node)) {
        nodes.splice(after ? n + 1 : n, 0, newNode([s]));
      } else {
        const [left, right] = this.split(node, o, after);
        nodes.splice(n, 1, left, newNode([s]), right);
      }
      return;
    }
    if (!full) {
      own(node).splice(after ? o + 1 : o, 0, s);
      node.sz += esz;
    } else if (atTail && availNext) {
      const next = nodes[n + 1];
      own(next).unshift(s);
      next.sz += esz;
    } else if (atHead && availPrev) {
      const prev = nodes[n - 1];
      own(prev).push(s);
      prev.sz += esz;
    } else if (atTail || atHead) {
      nodes.splice(after ? n + 1 : n, 0, newNode([s]));
    } else {
      // Split the full node at the pivot; the new half takes the element.
      const [left, right] = this.split(node, o, after);
      let center: number;
      if (after) {
        own(right).unshift(s);
        right.sz += esz;
        nodes.splice(n, 1, left, right);
        center = n;
      } else {
        own(left).push(s);
        left.sz += esz;
        nodes.splice(n, 1, left, right);
        center = n + 1;
      }
      this.mergeAround(center);
    }
  }

  /** _quicklistSplitNode: `after` keeps 0..o in the first half, else 0..o-1. */
  private split(node: ListNode, o: number, after: boolean): [ListNode, ListNode] {
    const cut = after ? o + 1 : o;
    return [newNode(node.items.slice(0, cut)), newNode(node.items.slice(cut))];
  }

  /** _quicklistMergeNodes around the node at `c`. */
  private mergeAround(c: number): void {
    const nodes = this.ns;
    const fill = this.fill;
    const merge = (a: number): void => {
      // Merges nodes a and a+1 into a.
      const x = nodes[a], y = nodes[a + 1];
      const into = own(x);
      for (const s of y.items) into.push(s);
      x.sz += y.sz - LP_EMPTY;
      nodes.splice(a + 1, 1);
    };
    let center = c;
    if (center >= 2 && allowMerge(nodes[center - 1], nodes[center - 2], fill)) {
      merge(center - 2);
      center--;
    }
    if (allowMerge(nodes[center + 1], nodes[center + 2], fill)) merge(center + 1);
    let target = center;
    if (center >= 1 && allowMerge(nodes[center], nodes[center - 1], fill)) {
      merge(center - 1);
      target = center - 1;
    }
    if (allowMerge(nodes[target], nodes[target + 1], fill)) merge(target);
  }

  /** Approximate heap bytes, for MEMORY USAGE-like estimates. */
  bytes(): number {
    let b = 48;
    for (const node of this.ns) b += 32 + node.sz;
    return b;
  }
}
