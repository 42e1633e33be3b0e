/**
 * The large sorted-set form, the one OBJECT ENCODING calls `skiplist`: Redis's `zset`
 * struct, an ordered index over (score, member bytes) with O(log n) insert, delete, rank
 * and select, plus a member -> score Map for O(1) score lookups. Also owns the score and
 * lex range specs and their comparisons, which the compact form shares.
 *
 * The ordered index is a counted B+tree rather than a skiplist: in JS a skiplist node is
 * three heap objects and every step of a descent chases several pointers, which made
 * large-set ZADD memory-latency bound (~4x slower than Redis). Leaves here hold up to 64
 * entries in parallel arrays (scores unboxed in a double array), inner nodes keep the
 * entry count of each child (for ranks) and separator keys (for descents). The answers
 * are the same as Redis's skiplist for every well-defined query; lex ranges over members
 * with mixed scores, where Redis's answer depends on its random node levels, get an
 * equally arbitrary (but deterministic) answer.
 */

import { KeyTable } from "../keyspace/keytable.ts";

/** A score interval as parsed from `(1.5`, `2`, `-inf`: Redis's zrangespec. */
export interface ScoreRange {
  min: number;
  max: number;
  minex: boolean;
  maxex: boolean;
}

/**
 * A lex interval (`[a`, `(b`, `-`, `+`). `minInf`/`maxInf` mark the `-` (-1) and `+` (+1)
 * sentinels, which Redis represents by shared pointers compared by identity.
 */
export interface LexRange {
  min: string;
  max: string;
  minInf: number;
  maxInf: number;
  minex: boolean;
  maxex: boolean;
}

export function scoreGteMin(v: number, r: ScoreRange): boolean {
  return r.minex ? v > r.min : v >= r.min;
}

export function scoreLteMax(v: number, r: ScoreRange): boolean {
  return r.maxex ? v < r.max : v <= r.max;
}

/** True when no score can be inside `r` (min above max, or an empty open point). */
export function scoreRangeEmpty(r: ScoreRange): boolean {
  return r.min > r.max || (r.min === r.max && (r.minex || r.maxex));
}

/** Redis's sdscmplex: byte order, with the -/+ sentinels below/above every string. */
export function cmpLex(a: string, aInf: number, b: string, bInf: number): number {
  if (aInf !== 0 && aInf === bInf) return 0;
  if (aInf === -1 || bInf === 1) return -1;
  if (aInf === 1 || bInf === -1) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

export function lexGteMin(v: string, r: LexRange): boolean {
  const c = cmpLex(v, 0, r.min, r.minInf);
  return r.minex ? c > 0 : c >= 0;
}

export function lexLteMax(v: string, r: LexRange): boolean {
  const c = cmpLex(v, 0, r.max, r.maxInf);
  return r.maxex ? c < 0 : c <= 0;
}

export function lexRangeEmpty(r: LexRange): boolean {
  const c = cmpLex(r.min, r.minInf, r.max, r.maxInf);
  return c > 0 || (c === 0 && (r.minex || r.maxex));
}

const LEAF_MAX = 64;
const LEAF_MIN = 16;
const INNER_MAX = 64;
const INNER_MIN = 16;
/** Fill factor for bulk builds: room to grow before the first splits. */
const BUILD_FILL = 48;

/**
 * Leaf inserts and removals shift by hand: `splice` is a builtin call that allocates the
 * array of removed elements, ~80 ns more per ZADD move at 64-entry leaves (measured).
 * One function per element type keeps each monomorphic.
 */
function insertScore(a: number[], i: number, v: number): void {
  let j = a.length;
  a.push(v);
  for (; j > i; j--) a[j] = a[j - 1];
  a[i] = v;
}

function insertMember(a: string[], i: number, v: string): void {
  let j = a.length;
  a.push(v);
  for (; j > i; j--) a[j] = a[j - 1];
  a[i] = v;
}

function removeScore(a: number[], i: number): void {
  const n = a.length - 1;
  for (let j = i; j < n; j++) a[j] = a[j + 1];
  a.pop();
}

function removeMember(a: string[], i: number): void {
  const n = a.length - 1;
  for (let j = i; j < n; j++) a[j] = a[j + 1];
  a.pop();
}

/** (s, m) sorts strictly before (S, M)? */
function keyLT(s: number, m: string, S: number, M: string): boolean {
  return s < S || (s === S && m < M);
}

/** (s, m) sorts before or at (S, M)? */
function keyLE(s: number, m: string, S: number, M: string): boolean {
  return s < S || (s === S && m <= M);
}

export class Leaf {
  s: number[] = [];
  m: string[] = [];
  prev: Leaf | null = null;
  next: Leaf | null = null;
  /** A frozen view (shareLeaves) reads `s` and `m`: copy them before changing them. */
  shared = false;
}

/** Gives `leaf` arrays of its own if a frozen view shares them (copy on write). */
function own(leaf: Leaf): void {
  if (!leaf.shared) return;
  leaf.shared = false;
  leaf.s = leaf.s.slice();
  leaf.m = leaf.m.slice();
}

/** A leaf's entries as a frozen view holds them, from index `from`. */
export interface FrozenLeaf {
  m: string[];
  s: number[];
  from: number;
}

/**
 * A frozen view of the entries from cursor `c` to the end, in order: a snapshot's copy
 * of a big sorted set (persistence/value_stream.ts). The view shares the leaves' arrays,
 * and a leaf copies its own before its first change (64 entries at most), as a forked
 * process's pages are copied on write: taking the view costs a flag per leaf.
 */
export function shareLeaves(c: Cursor): FrozenLeaf[] {
  const out: FrozenLeaf[] = [];
  let from = c.i;
  for (let l: Leaf | null = c.leaf; l !== null; l = l.next) {
    l.shared = true;
    out.push({ m: l.m, s: l.s, from });
    from = 0;
  }
  return out;
}

class Inner {
  /** Children: Inner nodes, or Leaf nodes at height 1. */
  c: (Inner | Leaf)[] = [];
  /** Entries under each child. */
  n: number[] = [];
  /**
   * Separator keys: every key under child i+1 is >= (ks[i], km[i]) and every key under
   * child i is below it. Deletes may leave a separator that is no longer a key; it stays
   * a valid bound.
   */
  ks: number[] = [];
  km: string[] = [];
}

/** A position in the index; `next`/`prev` step along the leaf chain. */
export class Cursor {
  constructor(public leaf: Leaf, public i: number) {}

  get member(): string {
    return this.leaf.m[this.i];
  }

  get score(): number {
    return this.leaf.s[this.i];
  }

  next(): boolean {
    if (++this.i < this.leaf.m.length) return true;
    const n = this.leaf.next;
    if (n === null) return false;
    this.leaf = n;
    this.i = 0;
    return true;
  }

  prev(): boolean {
    if (--this.i >= 0) return true;
    const p = this.leaf.prev;
    if (p === null) return false;
    this.leaf = p;
    this.i = p.m.length - 1;
    return true;
  }
}

/** The descent path of the last seek: inner node and child index per height. */
const pathN: Inner[] = [];
const pathI: number[] = [];

function sum(a: number[]): number {
  let t = 0;
  for (let i = 0; i < a.length; i++) t += a[i];
  return t;
}

/** Index of the first key in `leaf` at or after (S, M). */
function lowerBound(leaf: Leaf, S: number, M: string): number {
  const s = leaf.s;
  const m = leaf.m;
  let lo = 0;
  let hi = m.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (keyLT(s[mid], m[mid], S, M)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Which child of `nd` holds (S, M): the number of separator keys at or before it. */
function childIndex(nd: Inner, S: number, M: string): number {
  const ks = nd.ks;
  const km = nd.km;
  let lo = 0;
  let hi = ks.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (keyLE(ks[mid], km[mid], S, M)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A key predicate, false then true along key order (where the query is well defined). */
type Pred = (s: number, m: string) => boolean;

export class SortedIndex {
  private root: Inner | Leaf = new Leaf();
  private height = 0;
  private headLeaf: Leaf;
  private tailLeaf: Leaf;
  length = 0;
  /**
   * member -> score: the score lookup, and the dictionary ZSCAN walks. The keyspace's
   * table rather than a `Map`: V8 internalizes every string it looks up in a `Map` (a
   * probe of the isolate's string table first); ZADD -P 16 takes 18% less CPU without it.
   */
  readonly dict = new KeyTable<number>(0, false);

  constructor() {
    this.headLeaf = this.tailLeaf = this.root as Leaf;
  }

  /** An index over entries already in (score, member) order, members distinct. */
  static fromSorted(members: readonly string[], scores: readonly number[]): SortedIndex {
    const t = new SortedIndex();
    const n = members.length;
    if (n === 0) return t;
    t.dict.reserve(n);
    for (let i = 0; i < n; i++) t.dict.set(members[i], scores[i]);
    t.length = n;
    let level: (Inner | Leaf)[] = [];
    let counts: number[] = [];
    let firstS: number[] = [];
    let firstM: string[] = [];
    let prev: Leaf | null = null;
    for (let i = 0; i < n; i += BUILD_FILL) {
      const leaf = new Leaf();
      leaf.s = scores.slice(i, i + BUILD_FILL);
      leaf.m = members.slice(i, i + BUILD_FILL);
      leaf.prev = prev;
      if (prev !== null) prev.next = leaf;
      prev = leaf;
      level.push(leaf);
      counts.push(leaf.m.length);
      firstS.push(leaf.s[0]);
      firstM.push(leaf.m[0]);
    }
    t.headLeaf = level[0] as Leaf;
    t.tailLeaf = prev!;
    while (level.length > 1) {
      const up: Inner[] = [];
      const upCounts: number[] = [];
      const upS: number[] = [];
      const upM: string[] = [];
      for (let i = 0; i < level.length; i += BUILD_FILL) {
        const node = new Inner();
        const end = Math.min(level.length, i + BUILD_FILL);
        node.c = level.slice(i, end);
        node.n = counts.slice(i, end);
        node.ks = firstS.slice(i + 1, end);
        node.km = firstM.slice(i + 1, end);
        up.push(node);
        upCounts.push(sum(node.n));
        upS.push(firstS[i]);
        upM.push(firstM[i]);
      }
      level = up;
      counts = upCounts;
      firstS = upS;
      firstM = upM;
      t.height++;
    }
    t.root = level[0];
    return t;
  }

  /** Descends to the leaf where (S, M) is or would be, recording the path. */
  private seek(S: number, M: string): Leaf {
    let node = this.root;
    for (let h = this.height; h > 0; h--) {
      const nd = node as Inner;
      const lo = childIndex(nd, S, M);
      pathN[h] = nd;
      pathI[h] = lo;
      node = nd.c[lo];
    }
    return node as Leaf;
  }

  /** Adds a member known to be absent. */
  insert(score: number, member: string): void {
    this.dict.set(member, score);
    this.place(score, member);
  }

  private place(score: number, member: string): void {
    const leaf = this.seek(score, member);
    const pos = lowerBound(leaf, score, member);
    own(leaf);
    insertScore(leaf.s, pos, score);
    insertMember(leaf.m, pos, member);
    for (let h = 1; h <= this.height; h++) pathN[h].n[pathI[h]]++;
    this.length++;
    if (leaf.m.length > LEAF_MAX) this.splitLeaf(leaf);
  }

  private splitLeaf(leaf: Leaf): void {
    own(leaf);
    const half = leaf.m.length >> 1;
    const right = new Leaf();
    right.s = leaf.s.slice(half);
    right.m = leaf.m.slice(half);
    leaf.s.length = half;
    leaf.m.length = half;
    right.next = leaf.next;
    if (right.next !== null) right.next.prev = right;
    else this.tailLeaf = right;
    right.prev = leaf;
    leaf.next = right;
    this.addChild(1, leaf, right, right.s[0], right.m[0], half, right.m.length);
  }

  /** Puts `right` (just split off `left`, a node at height h-1) after it in its parent. */
  private addChild(
    h: number,
    left: Inner | Leaf,
    right: Inner | Leaf,
    sepS: number,
    sepM: string,
    leftCount: number,
    rightCount: number,
  ): void {
    if (h > this.height) {
      const root = new Inner();
      root.c = [left, right];
      root.n = [leftCount, rightCount];
      root.ks = [sepS];
      root.km = [sepM];
      this.root = root;
      this.height++;
      return;
    }
    const p = pathN[h];
    const j = pathI[h];
    p.c.splice(j + 1, 0, right);
    p.n[j] = leftCount;
    p.n.splice(j + 1, 0, rightCount);
    p.ks.splice(j, 0, sepS);
    p.km.splice(j, 0, sepM);
    if (p.c.length <= INNER_MAX) return;
    const mid = p.c.length >> 1;
    const r = new Inner();
    r.c = p.c.slice(mid);
    r.n = p.n.slice(mid);
    r.ks = p.ks.slice(mid);
    r.km = p.km.slice(mid);
    const upS = p.ks[mid - 1];
    const upM = p.km[mid - 1];
    p.c.length = mid;
    p.n.length = mid;
    p.ks.length = mid - 1;
    p.km.length = mid - 1;
    this.addChild(h + 1, p, r, upS, upM, sum(p.n), sum(r.n));
  }

  /** Removes `member`; false if absent. */
  delete(member: string): boolean {
    const score = this.dict.get(member);
    if (score === undefined) return false;
    this.dict.delete(member);
    this.unplace(score, member);
    return true;
  }

  private unplace(score: number, member: string): void {
    const leaf = this.seek(score, member);
    this.unplaceAt(leaf, lowerBound(leaf, score, member), member);
  }

  /** Removes entry `i` of `leaf`, which the last seek() reached (its path is current). */
  private unplaceAt(leaf: Leaf, i: number, member: string): void {
    if (leaf.m[i] !== member) throw new Error("sorted index corrupt: member not at its score");
    own(leaf);
    removeScore(leaf.s, i);
    removeMember(leaf.m, i);
    for (let h = 1; h <= this.height; h++) pathN[h].n[pathI[h]]--;
    this.length--;
    if (this.length === 0) {
      this.root = this.headLeaf = this.tailLeaf = new Leaf();
      this.height = 0;
      return;
    }
    if (this.height > 0 && leaf.m.length < LEAF_MIN) this.fixLeaf(leaf);
  }

  /**
   * Merges an underfull leaf into a sibling when they fit in one; an empty leaf with no
   * sibling under its parent is unlinked, so the leaf chain never holds an empty leaf.
   */
  private fixLeaf(leaf: Leaf): void {
    const p = pathN[1];
    const j = pathI[1];
    if (j + 1 < p.c.length) {
      const r = p.c[j + 1] as Leaf;
      if (leaf.m.length + r.m.length <= LEAF_MAX) {
        this.mergeLeaves(leaf, r);
        p.n[j] += p.n[j + 1];
        this.removeChild(p, j + 1);
        this.fixInner(1);
        return;
      }
    }
    if (j > 0) {
      const l = p.c[j - 1] as Leaf;
      if (l.m.length + leaf.m.length <= LEAF_MAX) {
        this.mergeLeaves(l, leaf);
        p.n[j - 1] += p.n[j];
        this.removeChild(p, j);
        this.fixInner(1);
        return;
      }
    }
    if (leaf.m.length === 0) {
      if (leaf.prev !== null) leaf.prev.next = leaf.next;
      else this.headLeaf = leaf.next!;
      if (leaf.next !== null) leaf.next.prev = leaf.prev;
      else this.tailLeaf = leaf.prev!;
      this.dropChild(1, j);
    }
  }

  /** Removes empty child k of the inner node at height h (and h itself if emptied). */
  private dropChild(h: number, k: number): void {
    const p = pathN[h];
    p.c.splice(k, 1);
    p.n.splice(k, 1);
    if (p.ks.length > 0) {
      p.ks.splice(k === 0 ? 0 : k - 1, 1);
      p.km.splice(k === 0 ? 0 : k - 1, 1);
    }
    if (p.c.length === 0) this.dropChild(h + 1, pathI[h + 1]);
    else this.fixInner(h);
  }

  private mergeLeaves(l: Leaf, r: Leaf): void {
    own(l);
    for (let k = 0; k < r.m.length; k++) {
      l.s.push(r.s[k]);
      l.m.push(r.m[k]);
    }
    l.next = r.next;
    if (r.next !== null) r.next.prev = l;
    else this.tailLeaf = l;
  }

  /** Drops child k (merged into child k-1) and the separator between them. */
  private removeChild(p: Inner, k: number): void {
    p.c.splice(k, 1);
    p.n.splice(k, 1);
    p.ks.splice(k - 1, 1);
    p.km.splice(k - 1, 1);
  }

  /** Rebalances the inner node at height h after it lost a child. */
  private fixInner(h: number): void {
    if (h >= this.height) {
      while (this.height > 0 && (this.root as Inner).c.length === 1) {
        this.root = (this.root as Inner).c[0];
        this.height--;
      }
      return;
    }
    const p = pathN[h];
    if (p.c.length >= INNER_MIN) return;
    const g = pathN[h + 1];
    const j = pathI[h + 1];
    if (j + 1 < g.c.length) {
      const r = g.c[j + 1] as Inner;
      if (p.c.length + r.c.length <= INNER_MAX) {
        this.mergeInner(p, r, g.ks[j], g.km[j]);
        g.n[j] += g.n[j + 1];
        this.removeChild(g, j + 1);
        this.fixInner(h + 1);
        return;
      }
    }
    if (j > 0) {
      const l = g.c[j - 1] as Inner;
      if (l.c.length + p.c.length <= INNER_MAX) {
        this.mergeInner(l, p, g.ks[j - 1], g.km[j - 1]);
        g.n[j - 1] += g.n[j];
        this.removeChild(g, j);
        this.fixInner(h + 1);
        return;
      }
    }
  }

  private mergeInner(l: Inner, r: Inner, sepS: number, sepM: string): void {
    l.ks.push(sepS);
    l.km.push(sepM);
    for (let k = 0; k < r.c.length; k++) {
      l.c.push(r.c[k]);
      l.n.push(r.n[k]);
      if (k < r.ks.length) {
        l.ks.push(r.ks[k]);
        l.km.push(r.km[k]);
      }
    }
  }

  /**
   * Moves `member` (present, at score `old`) to `newScore`. Stays in place when its
   * neighbours in the same leaf still bracket it, as Redis's zslUpdateScore does.
   */
  updateScore(member: string, old: number, newScore: number): void {
    this.dict.set(member, newScore);
    const leaf = this.seek(old, member);
    const i = lowerBound(leaf, old, member);
    const s = leaf.s;
    const m = leaf.m;
    if (
      i > 0 && i < m.length - 1 && keyLT(s[i - 1], m[i - 1], newScore, member) &&
      keyLT(newScore, member, s[i + 1], m[i + 1])
    ) {
      s[i] = newScore;
      return;
    }
    // Re-placed as the string already stored (the dictionary's key too): the argument
    // then dies young instead of being promoted while the stored copy turns to garbage.
    const stored = m[i];
    this.unplaceAt(leaf, i, member);
    this.place(newScore, stored);
  }

  first(): Cursor | null {
    return this.length === 0 ? null : new Cursor(this.headLeaf, 0);
  }

  last(): Cursor | null {
    return this.length === 0 ? null : new Cursor(this.tailLeaf, this.tailLeaf.m.length - 1);
  }

  /** 1-based rank of (score, member), 0 if absent. */
  getRank(score: number, member: string): number {
    let node = this.root;
    let rank = 0;
    for (let h = this.height; h > 0; h--) {
      const nd = node as Inner;
      const lo = childIndex(nd, score, member);
      for (let k = 0; k < lo; k++) rank += nd.n[k];
      node = nd.c[lo];
    }
    const leaf = node as Leaf;
    const i = lowerBound(leaf, score, member);
    return leaf.m[i] === member && leaf.s[i] === score ? rank + i + 1 : 0;
  }

  /** The entry at 1-based `rank`, or null. */
  select(rank: number): Cursor | null {
    if (rank < 1 || rank > this.length) return null;
    let r = rank - 1;
    let node = this.root;
    for (let h = this.height; h > 0; h--) {
      const nd = node as Inner;
      let j = 0;
      while (r >= nd.n[j]) r -= nd.n[j++];
      node = nd.c[j];
    }
    return new Cursor(node as Leaf, r);
  }

  /** The first entry for which `pred` holds (pred false then true along the order). */
  private firstWhere(pred: Pred): Cursor | null {
    let node = this.root;
    for (let h = this.height; h > 0; h--) {
      const nd = node as Inner;
      const ks = nd.ks;
      const km = nd.km;
      let lo = 0;
      let hi = ks.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (!pred(ks[mid], km[mid])) lo = mid + 1;
        else hi = mid;
      }
      node = nd.c[lo];
    }
    const leaf = node as Leaf;
    let lo = 0;
    let hi = leaf.m.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (!pred(leaf.s[mid], leaf.m[mid])) lo = mid + 1;
      else hi = mid;
    }
    if (lo < leaf.m.length) return new Cursor(leaf, lo);
    return leaf.next === null ? null : new Cursor(leaf.next, 0);
  }

  /** The last entry for which `pred` holds (pred true then false along the order). */
  private lastWhere(pred: Pred): Cursor | null {
    const c = this.firstWhere((s, m) => !pred(s, m));
    if (c === null) return this.last();
    return c.prev() ? c : null;
  }

  private isInRange(r: ScoreRange): boolean {
    if (this.length === 0 || scoreRangeEmpty(r)) return false;
    const t = this.tailLeaf;
    if (!scoreGteMin(t.s[t.s.length - 1], r)) return false;
    return scoreLteMax(this.headLeaf.s[0], r);
  }

  firstInRange(r: ScoreRange): Cursor | null {
    if (!this.isInRange(r)) return null;
    const c = this.firstWhere((s) => scoreGteMin(s, r));
    return c !== null && scoreLteMax(c.score, r) ? c : null;
  }

  lastInRange(r: ScoreRange): Cursor | null {
    if (!this.isInRange(r)) return null;
    const c = this.lastWhere((s) => scoreLteMax(s, r));
    return c !== null && scoreGteMin(c.score, r) ? c : null;
  }

  private isInLexRange(r: LexRange): boolean {
    if (this.length === 0 || lexRangeEmpty(r)) return false;
    const t = this.tailLeaf;
    if (!lexGteMin(t.m[t.m.length - 1], r)) return false;
    return lexLteMax(this.headLeaf.m[0], r);
  }

  firstInLexRange(r: LexRange): Cursor | null {
    if (!this.isInLexRange(r)) return null;
    const c = this.firstWhere((_, m) => lexGteMin(m, r));
    return c !== null && lexLteMax(c.member, r) ? c : null;
  }

  lastInLexRange(r: LexRange): Cursor | null {
    if (!this.isInLexRange(r)) return null;
    const c = this.lastWhere((_, m) => lexLteMax(m, r));
    return c !== null && lexGteMin(c.member, r) ? c : null;
  }

  /** Deletes the entries from `c` on while `keep` holds; returns how many. */
  private deleteRun(c: Cursor | null, inRange: (s: number, m: string) => boolean): number {
    const doomed: string[] = [];
    if (c !== null) {
      do {
        if (!inRange(c.score, c.member)) break;
        doomed.push(c.member);
      } while (c.next());
    }
    for (const m of doomed) this.delete(m);
    return doomed.length;
  }

  /** Redis's zslDeleteRangeByScore: from the first score >= min, while <= max. */
  deleteRangeByScore(r: ScoreRange, before?: () => void): number {
    const c = this.firstWhere((s) => scoreGteMin(s, r));
    if (c === null || !scoreLteMax(c.score, r)) return 0;
    before?.();
    return this.deleteRun(c, (s) => scoreLteMax(s, r));
  }

  /** Redis's zslDeleteRangeByLex: from the first member >= min, while <= max. */
  deleteRangeByLex(r: LexRange, before?: () => void): number {
    const c = this.firstWhere((_, m) => lexGteMin(m, r));
    if (c === null || !lexLteMax(c.member, r)) return 0;
    before?.();
    return this.deleteRun(c, (_, m) => lexLteMax(m, r));
  }

  /** Deletes 1-based ranks start..end inclusive. */
  deleteRangeByRank(start: number, end: number): number {
    const c = this.select(start);
    let left = end - start + 1;
    return this.deleteRun(c, () => left-- > 0);
  }

  /** Structural self-check for tests: order, counts, separators, links, dict. */
  check(): void {
    const walk = (
      node: Inner | Leaf,
      h: number,
      lo: [number, string] | null,
      hi: [number, string] | null,
    ): number => {
      if (h === 0) {
        const l = node as Leaf;
        if (l.s.length !== l.m.length) throw new Error("leaf arrays disagree");
        for (let i = 0; i < l.m.length; i++) {
          if (i > 0 && !keyLT(l.s[i - 1], l.m[i - 1], l.s[i], l.m[i])) throw new Error("order");
          if (lo !== null && keyLT(l.s[i], l.m[i], lo[0], lo[1])) {
            throw new Error("below separator");
          }
          if (hi !== null && !keyLT(l.s[i], l.m[i], hi[0], hi[1])) {
            throw new Error("above separator");
          }
          if (this.dict.get(l.m[i]) !== l.s[i]) throw new Error("dict disagrees");
        }
        if (this.height > 0 && l.m.length === 0) throw new Error("empty leaf");
        return l.m.length;
      }
      const nd = node as Inner;
      if (nd.ks.length !== nd.c.length - 1 || nd.n.length !== nd.c.length) {
        throw new Error("inner arrays disagree");
      }
      let total = 0;
      for (let k = 0; k < nd.c.length; k++) {
        const a: [number, string] | null = k === 0 ? lo : [nd.ks[k - 1], nd.km[k - 1]];
        const b: [number, string] | null = k === nd.c.length - 1 ? hi : [nd.ks[k], nd.km[k]];
        const cnt = walk(nd.c[k], h - 1, a, b);
        if (cnt !== nd.n[k]) throw new Error(`bad count at height ${h}`);
        total += cnt;
      }
      return total;
    };
    if (walk(this.root, this.height, null, null) !== this.length) throw new Error("bad length");
    if (this.dict.size !== this.length) throw new Error("dict size");
    let count = 0;
    let prev: Leaf | null = null;
    for (let l: Leaf | null = this.headLeaf; l !== null; l = l.next) {
      if (l.prev !== prev) throw new Error("bad prev link");
      count += l.m.length;
      prev = l;
    }
    if (prev !== this.tailLeaf || count !== this.length) throw new Error("bad leaf chain");
  }
}
