/**
 * The sorted set value (TYPE zset): the compact `listpack` form, a flat array
 * member,score,member,score,... in (score, member bytes) order, and the `skiplist` form
 * (src/types/skiplist.ts). Owns Redis's zsetAdd semantics (NX/XX/GT/LT/INCR outcomes),
 * the one-way listpack -> skiplist conversion, and the range walks the commands share.
 *
 * Listpack quirk kept on purpose: Redis stores an integral score as a listpack integer,
 * so -0 reads back as 0 there (but not in a skiplist), and ZSCAN prints listpack scores
 * in that stored form (`lpScoreRepr`).
 */
import type { Collection } from "./value.ts";
import { formatDouble } from "../server/reply.ts";
import {
  lexGteMin,
  lexLteMax,
  type LexRange,
  lexRangeEmpty,
  scoreGteMin,
  scoreLteMax,
  type ScoreRange,
  scoreRangeEmpty,
  SkipList,
  type SkipNode,
} from "./skiplist.ts";

export type { LexRange, ScoreRange } from "./skiplist.ts";

// zsetAdd input flags.
export const ZADD_INCR = 1;
export const ZADD_NX = 2;
export const ZADD_XX = 4;
export const ZADD_GT = 8;
export const ZADD_LT = 16;
// zsetAdd outcomes.
export const ZADD_OUT_NOP = 1;
export const ZADD_OUT_NAN = 2;
export const ZADD_OUT_ADDED = 4;
export const ZADD_OUT_UPDATED = 8;

/**
 * Called once, right before the next in-place change to any zset, then disarmed. Commands
 * arm it with the key's touchWrite so WATCH and snapshots see a change exactly when Redis
 * would signal one (never for a no-op ZADD or an empty ZREMRANGEBYLEX).
 */
let beforeChange: (() => void) | null = null;

export function armBeforeChange(fn: (() => void) | null): void {
  beforeChange = fn;
}

function changing(): void {
  if (beforeChange !== null) {
    const f = beforeChange;
    beforeChange = null;
    f();
  }
}

/** Score of the last successful `add` (Redis's `newscore` out-parameter). */
let lastScore = 0;

export function addedScore(): number {
  return lastScore;
}

/** Thresholds from zset-max-listpack-entries / zset-max-listpack-value. */
export interface ZsetLimits {
  entries: number;
  value: number;
}

/** Where a range walk writes: parallel member and score arrays. */
export interface RangeOut {
  members: string[];
  scores: number[];
}

/** LLONG_MAX/2 as Redis's double2ll compares it. */
const LL_HALF = 4611686018427387904;

/**
 * How a listpack stores `score`, as ZSCAN shows it: an integer entry when the double is
 * integral and within LLONG_MAX/2 (Redis's double2ll), else d2string's %.17g text.
 */
export function lpScoreRepr(score: number): string {
  if (score >= -LL_HALF && score <= LL_HALF && Number.isInteger(score)) {
    return Number.isSafeInteger(score) ? String(score === 0 ? 0 : score) : BigInt(score).toString();
  }
  return formatDouble(score);
}

export class ZSet implements Collection {
  /** listpack form: member,score pairs in order; null once converted. */
  lp: (string | number)[] | null;
  /** skiplist form, when `lp` is null. */
  zs: SkipList | null;

  constructor(skiplist = false) {
    this.lp = skiplist ? null : [];
    this.zs = skiplist ? new SkipList() : null;
  }

  get type(): string {
    return "zset";
  }

  encoding(): string {
    return this.lp !== null ? "listpack" : "skiplist";
  }

  get size(): number {
    return this.lp !== null ? this.lp.length >> 1 : this.zs!.length;
  }

  clone(): ZSet {
    if (this.lp !== null) {
      const z = new ZSet();
      z.lp = this.lp.slice();
      return z;
    }
    const z = new ZSet(true);
    for (let n = this.zs!.tail; n !== null; n = n.backward) z.zs!.insert(n.score, n.member);
    return z;
  }

  /**
   * A zset from entries already in (score, member) order with distinct members, in the
   * form Redis's zsetConvertToListpackIfNeeded would leave a built result.
   */
  static fromSorted(members: string[], scores: number[], lim: ZsetLimits): ZSet {
    let maxLen = 0;
    for (const m of members) if (m.length > maxLen) maxLen = m.length;
    if (members.length <= lim.entries && maxLen <= lim.value) {
      const z = new ZSet();
      const lp = z.lp = new Array(2 * members.length);
      for (let i = 0; i < members.length; i++) {
        const s = scores[i];
        lp[2 * i] = members[i];
        lp[2 * i + 1] = s === 0 ? 0 : s;
      }
      return z;
    }
    const z = new ZSet(true);
    for (let i = 0; i < members.length; i++) z.zs!.insert(scores[i], members[i]);
    return z;
  }

  // ---- listpack primitives -------------------------------------------------------------

  private lpFind(member: string): number {
    const lp = this.lp!;
    for (let i = 0; i < lp.length; i += 2) if (lp[i] === member) return i;
    return -1;
  }

  private lpInsert(member: string, score: number): void {
    changing();
    // An integral score is a listpack integer entry: -0 is stored as 0.
    if (score === 0) score = 0;
    const lp = this.lp!;
    let i = 0;
    for (; i < lp.length; i += 2) {
      const s = lp[i + 1] as number;
      if (s > score || (s === score && (lp[i] as string) > member)) break;
    }
    this.lpSplice(i, 0, member, score);
  }

  /**
   * Replaces the listpack array by a copy with `remove` items dropped at `at` and an
   * optional pair inserted there, allocated at its exact size: arrays grown in place keep
   * up to half their length as spare capacity, a cost a million small zsets would pay.
   */
  private lpSplice(at: number, remove: number, member?: string, score?: number): void {
    const old = this.lp!;
    const add = member === undefined ? 0 : 2;
    const n = old.length - remove + add;
    const lp: (string | number)[] = new Array(n);
    for (let k = 0; k < at; k++) lp[k] = old[k];
    if (add) {
      lp[at] = member!;
      lp[at + 1] = score!;
    }
    for (let k = at + remove, d = at + add; k < old.length; k++, d++) lp[d] = old[k];
    this.lp = lp;
  }

  /** Switches to the skiplist form (never back: only new built values are compact). */
  convertToSkiplist(): void {
    const lp = this.lp;
    if (lp === null) return;
    changing();
    const zs = new SkipList();
    for (let i = 0; i < lp.length; i += 2) zs.insert(lp[i + 1] as number, lp[i] as string);
    this.zs = zs;
    this.lp = null;
  }

  // ---- point operations ------------------------------------------------------------------

  score(member: string): number | undefined {
    if (this.lp !== null) {
      const i = this.lpFind(member);
      return i === -1 ? undefined : this.lp[i + 1] as number;
    }
    return this.zs!.dict.get(member)?.score;
  }

  has(member: string): boolean {
    return this.lp !== null ? this.lpFind(member) !== -1 : this.zs!.dict.has(member);
  }

  /**
   * Redis's zsetAdd: adds or updates `member` under the ZADD_* `flags`; returns ZADD_OUT_*
   * flags, and the resulting score via addedScore(). Converts to the skiplist form when a
   * new member would exceed the listpack limits.
   */
  add(score: number, member: string, flags: number, lim: ZsetLimits): number {
    if (Number.isNaN(score)) return ZADD_OUT_NAN;
    const incr = (flags & ZADD_INCR) !== 0;
    const nx = (flags & ZADD_NX) !== 0;
    const xx = (flags & ZADD_XX) !== 0;
    const gt = (flags & ZADD_GT) !== 0;
    const lt = (flags & ZADD_LT) !== 0;
    if (this.lp !== null) {
      const i = this.lpFind(member);
      if (i !== -1) {
        if (nx) return ZADD_OUT_NOP;
        const cur = this.lp[i + 1] as number;
        if (incr) {
          score += cur;
          if (Number.isNaN(score)) return ZADD_OUT_NAN;
        }
        if ((lt && score >= cur) || (gt && score <= cur)) return ZADD_OUT_NOP;
        lastScore = score;
        if (score !== cur) {
          changing();
          this.lpSplice(i, 2);
          this.lpInsert(member, score);
          return ZADD_OUT_UPDATED;
        }
        return 0;
      }
      if (xx) return ZADD_OUT_NOP;
      if (this.size + 1 > lim.entries || member.length > lim.value) {
        this.convertToSkiplist();
      } else {
        this.lpInsert(member, score);
        lastScore = score;
        return ZADD_OUT_ADDED;
      }
    }
    const zs = this.zs!;
    const node = zs.dict.get(member);
    if (node !== undefined) {
      if (nx) return ZADD_OUT_NOP;
      const cur = node.score;
      if (incr) {
        score += cur;
        if (Number.isNaN(score)) return ZADD_OUT_NAN;
      }
      if ((lt && score >= cur) || (gt && score <= cur)) return ZADD_OUT_NOP;
      lastScore = score;
      if (score !== cur) {
        changing();
        zs.updateScore(member, score);
        return ZADD_OUT_UPDATED;
      }
      return 0;
    }
    if (xx) return ZADD_OUT_NOP;
    changing();
    zs.insert(score, member);
    lastScore = score;
    return ZADD_OUT_ADDED;
  }

  delete(member: string): boolean {
    if (this.lp !== null) {
      const i = this.lpFind(member);
      if (i === -1) return false;
      changing();
      this.lpSplice(i, 2);
      return true;
    }
    if (!this.zs!.dict.has(member)) return false;
    changing();
    return this.zs!.delete(member);
  }

  /** 0-based rank of `member` (from the top when `reverse`), -1 if absent. */
  rank(member: string, reverse: boolean): number {
    const n = this.size;
    if (this.lp !== null) {
      const i = this.lpFind(member);
      if (i === -1) return -1;
      return reverse ? n - 1 - (i >> 1) : i >> 1;
    }
    const node = this.zs!.dict.get(member);
    if (node === undefined) return -1;
    const r = this.zs!.getRank(node.score, member);
    return reverse ? n - r : r - 1;
  }

  /** The lowest (or highest) entry, or undefined when empty. */
  edge(max: boolean): [string, number] | undefined {
    if (this.lp !== null) {
      const lp = this.lp;
      if (lp.length === 0) return undefined;
      const i = max ? lp.length - 2 : 0;
      return [lp[i] as string, lp[i + 1] as number];
    }
    const n = max ? this.zs!.tail : this.zs!.first();
    return n === null ? undefined : [n.member, n.score];
  }

  /** A uniformly random entry (O(1) listpack, O(log n) skiplist by rank). */
  randomEntry(): [string, number] {
    const n = this.size;
    const r = Math.floor(Math.random() * n);
    if (this.lp !== null) return [this.lp[2 * r] as string, this.lp[2 * r + 1] as number];
    const node = this.zs!.getElementByRank(r + 1)!;
    return [node.member, node.score];
  }

  /**
   * Visits entries in order (or from the highest, as Redis's zuiNext walks); `fn`
   * returning true stops the walk.
   */
  forEach(fn: (member: string, score: number) => boolean | void, reverse = false): void {
    if (this.lp !== null) {
      const lp = this.lp;
      if (reverse) {
        for (let i = lp.length - 2; i >= 0; i -= 2) {
          if (fn(lp[i] as string, lp[i + 1] as number) === true) return;
        }
      } else {
        for (let i = 0; i < lp.length; i += 2) {
          if (fn(lp[i] as string, lp[i + 1] as number) === true) return;
        }
      }
      return;
    }
    if (reverse) {
      for (let n = this.zs!.tail; n !== null; n = n.backward) {
        if (fn(n.member, n.score) === true) return;
      }
    } else {
      for (let n = this.zs!.first(); n !== null; n = n.fwd[0]) {
        if (fn(n.member, n.score) === true) return;
      }
    }
  }

  // ---- ranges ------------------------------------------------------------------------------

  /** Entries at 0-based ranks start..end (already clamped, start <= end < size). */
  rangeByRank(start: number, end: number, reverse: boolean, out: RangeOut): void {
    let len = end - start + 1;
    if (this.lp !== null) {
      const lp = this.lp;
      const n = lp.length >> 1;
      let i = reverse ? n - 1 - start : start;
      const step = reverse ? -1 : 1;
      while (len-- > 0) {
        out.members.push(lp[2 * i] as string);
        out.scores.push(lp[2 * i + 1] as number);
        i += step;
      }
      return;
    }
    const zs = this.zs!;
    let ln: SkipNode | null;
    if (reverse) ln = start > 0 ? zs.getElementByRank(zs.length - start) : zs.tail;
    else ln = start > 0 ? zs.getElementByRank(start + 1) : zs.first();
    while (len-- > 0 && ln !== null) {
      out.members.push(ln.member);
      out.scores.push(ln.score);
      ln = reverse ? ln.backward : ln.fwd[0];
    }
  }

  // Listpack range helpers return element indexes (pair index), -1 for none.

  private lpFirstInRange(r: ScoreRange): number {
    const lp = this.lp!;
    const n = lp.length >> 1;
    if (n === 0 || scoreRangeEmpty(r)) return -1;
    if (!scoreGteMin(lp[2 * n - 1] as number, r) || !scoreLteMax(lp[1] as number, r)) return -1;
    for (let i = 0; i < n; i++) {
      const s = lp[2 * i + 1] as number;
      if (scoreGteMin(s, r)) return scoreLteMax(s, r) ? i : -1;
    }
    return -1;
  }

  private lpLastInRange(r: ScoreRange): number {
    const lp = this.lp!;
    const n = lp.length >> 1;
    if (n === 0 || scoreRangeEmpty(r)) return -1;
    if (!scoreGteMin(lp[2 * n - 1] as number, r) || !scoreLteMax(lp[1] as number, r)) return -1;
    for (let i = n - 1; i >= 0; i--) {
      const s = lp[2 * i + 1] as number;
      if (scoreLteMax(s, r)) return scoreGteMin(s, r) ? i : -1;
    }
    return -1;
  }

  private lpFirstInLex(r: LexRange): number {
    const lp = this.lp!;
    const n = lp.length >> 1;
    if (n === 0 || lexRangeEmpty(r)) return -1;
    if (!lexGteMin(lp[2 * n - 2] as string, r) || !lexLteMax(lp[0] as string, r)) return -1;
    for (let i = 0; i < n; i++) {
      const m = lp[2 * i] as string;
      if (lexGteMin(m, r)) return lexLteMax(m, r) ? i : -1;
    }
    return -1;
  }

  private lpLastInLex(r: LexRange): number {
    const lp = this.lp!;
    const n = lp.length >> 1;
    if (n === 0 || lexRangeEmpty(r)) return -1;
    if (!lexGteMin(lp[2 * n - 2] as string, r) || !lexLteMax(lp[0] as string, r)) return -1;
    for (let i = n - 1; i >= 0; i--) {
      const m = lp[2 * i] as string;
      if (lexLteMax(m, r)) return lexGteMin(m, r) ? i : -1;
    }
    return -1;
  }

  /**
   * Redis's genericZrangebyscore walk: from the first (or last) entry in range, skip
   * `offset` (a negative offset skips everything), then take up to `limit` entries
   * (negative: no limit) while still in range. Returns how many were taken.
   */
  rangeByScore(
    r: ScoreRange,
    reverse: boolean,
    offset: number,
    limit: number,
    out: RangeOut,
  ): number {
    let taken = 0;
    if (this.lp !== null) {
      const lp = this.lp;
      const n = lp.length >> 1;
      let i = reverse ? this.lpLastInRange(r) : this.lpFirstInRange(r);
      if (i === -1) return 0;
      if (offset < 0) return 0;
      i = reverse ? i - offset : i + offset;
      while (i >= 0 && i < n && limit !== 0) {
        limit--;
        const s = lp[2 * i + 1] as number;
        if (reverse ? !scoreGteMin(s, r) : !scoreLteMax(s, r)) break;
        out.members.push(lp[2 * i] as string);
        out.scores.push(s);
        taken++;
        i = reverse ? i - 1 : i + 1;
      }
      return taken;
    }
    const zs = this.zs!;
    let ln = reverse ? zs.lastInRange(r) : zs.firstInRange(r);
    if (offset < 0) return 0;
    while (ln !== null && offset-- > 0) ln = reverse ? ln.backward : ln.fwd[0];
    while (ln !== null && limit !== 0) {
      limit--;
      if (reverse ? !scoreGteMin(ln.score, r) : !scoreLteMax(ln.score, r)) break;
      out.members.push(ln.member);
      out.scores.push(ln.score);
      taken++;
      ln = reverse ? ln.backward : ln.fwd[0];
    }
    return taken;
  }

  /** Redis's genericZrangebylex walk; same offset/limit rules as rangeByScore. */
  rangeByLex(r: LexRange, reverse: boolean, offset: number, limit: number, out: RangeOut): number {
    let taken = 0;
    if (this.lp !== null) {
      const lp = this.lp;
      const n = lp.length >> 1;
      let i = reverse ? this.lpLastInLex(r) : this.lpFirstInLex(r);
      if (i === -1) return 0;
      if (offset < 0) return 0;
      i = reverse ? i - offset : i + offset;
      while (i >= 0 && i < n && limit !== 0) {
        limit--;
        const m = lp[2 * i] as string;
        if (reverse ? !lexGteMin(m, r) : !lexLteMax(m, r)) break;
        out.members.push(m);
        out.scores.push(lp[2 * i + 1] as number);
        taken++;
        i = reverse ? i - 1 : i + 1;
      }
      return taken;
    }
    const zs = this.zs!;
    let ln = reverse ? zs.lastInLexRange(r) : zs.firstInLexRange(r);
    if (offset < 0) return 0;
    while (ln !== null && offset-- > 0) ln = reverse ? ln.backward : ln.fwd[0];
    while (ln !== null && limit !== 0) {
      limit--;
      if (reverse ? !lexGteMin(ln.member, r) : !lexLteMax(ln.member, r)) break;
      out.members.push(ln.member);
      out.scores.push(ln.score);
      taken++;
      ln = reverse ? ln.backward : ln.fwd[0];
    }
    return taken;
  }

  countByScore(r: ScoreRange): number {
    if (this.lp !== null) {
      const lp = this.lp;
      const n = lp.length >> 1;
      let i = this.lpFirstInRange(r);
      if (i === -1) return 0;
      let count = 0;
      for (; i < n && scoreLteMax(lp[2 * i + 1] as number, r); i++) count++;
      return count;
    }
    const zs = this.zs!;
    const first = zs.firstInRange(r);
    if (first === null) return 0;
    let count = zs.length - (zs.getRank(first.score, first.member) - 1);
    const last = zs.lastInRange(r);
    if (last !== null) count -= zs.length - zs.getRank(last.score, last.member);
    return count;
  }

  countByLex(r: LexRange): number {
    if (this.lp !== null) {
      const lp = this.lp;
      const n = lp.length >> 1;
      let i = this.lpFirstInLex(r);
      if (i === -1) return 0;
      let count = 0;
      for (; i < n && lexLteMax(lp[2 * i] as string, r); i++) count++;
      return count;
    }
    const zs = this.zs!;
    const first = zs.firstInLexRange(r);
    if (first === null) return 0;
    let count = zs.length - (zs.getRank(first.score, first.member) - 1);
    const last = zs.lastInLexRange(r);
    if (last !== null) count -= zs.length - zs.getRank(last.score, last.member);
    return count;
  }

  /** Deletes 0-based ranks start..end (clamped); returns the number removed. */
  deleteRangeByRank(start: number, end: number): number {
    changing();
    if (this.lp !== null) {
      this.lpSplice(2 * start, 2 * (end - start + 1));
      return end - start + 1;
    }
    return this.zs!.deleteRangeByRank(start + 1, end + 1);
  }

  deleteRangeByScore(r: ScoreRange): number {
    if (this.lp !== null) {
      const lp = this.lp;
      const n = lp.length >> 1;
      const i = this.lpFirstInRange(r);
      if (i === -1) return 0;
      let j = i;
      while (j < n && scoreLteMax(lp[2 * j + 1] as number, r)) j++;
      if (j > i) changing();
      this.lpSplice(2 * i, 2 * (j - i));
      return j - i;
    }
    return this.zs!.deleteRangeByScore(r, changing);
  }

  deleteRangeByLex(r: LexRange): number {
    if (this.lp !== null) {
      const lp = this.lp;
      const n = lp.length >> 1;
      const i = this.lpFirstInLex(r);
      if (i === -1) return 0;
      let j = i;
      while (j < n && lexLteMax(lp[2 * j] as string, r)) j++;
      if (j > i) changing();
      this.lpSplice(2 * i, 2 * (j - i));
      return j - i;
    }
    return this.zs!.deleteRangeByLex(r, changing);
  }
}
