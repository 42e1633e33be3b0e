/**
 * The large sorted-set form: Redis's `zset` struct, a skiplist ordered by (score, member
 * bytes) whose links carry span widths (so rank lookups are O(log n)), plus a
 * member -> node Map for O(1) score lookups. Also owns the score and lex range specs and
 * their comparisons, which the compact form shares.
 *
 * The algorithms follow Redis's t_zset.c closely on purpose: for lex ranges over members
 * with mixed scores Redis's answer depends on how its descent walks the list, and
 * matching the walk is the only way to match the answer.
 */

export const MAX_LEVEL = 32;
const P = 0.25;

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

export class SkipNode {
  backward: SkipNode | null = null;
  readonly fwd: (SkipNode | null)[];
  readonly span: number[];

  constructor(level: number, public score: number, public member: string) {
    this.fwd = new Array(level).fill(null);
    this.span = new Array(level).fill(0);
  }
}

/** Scratch arrays for the descents (no recursion, single thread: safe to share). */
const update: SkipNode[] = new Array(MAX_LEVEL);
const rankAt: number[] = new Array(MAX_LEVEL).fill(0);

function randomLevel(): number {
  let level = 1;
  while (level < MAX_LEVEL && Math.random() < P) level++;
  return level;
}

/** (score, member) of `x` sorts before (score, member)? */
function before(x: SkipNode, score: number, member: string): boolean {
  return x.score < score || (x.score === score && x.member < member);
}

export class SkipList {
  readonly header = new SkipNode(MAX_LEVEL, 0, "");
  tail: SkipNode | null = null;
  length = 0;
  level = 1;
  /** member -> node: the score lookup, and the dictionary ZSCAN walks. */
  readonly dict = new Map<string, SkipNode>();

  /** Adds a member known to be absent. */
  insert(score: number, member: string): SkipNode {
    const x0 = this.zslInsert(score, member);
    this.dict.set(member, x0);
    return x0;
  }

  private zslInsert(score: number, member: string): SkipNode {
    let x = this.header;
    for (let i = this.level - 1; i >= 0; i--) {
      rankAt[i] = i === this.level - 1 ? 0 : rankAt[i + 1];
      let f = x.fwd[i];
      while (f !== null && before(f, score, member)) {
        rankAt[i] += x.span[i];
        x = f;
        f = x.fwd[i];
      }
      update[i] = x;
    }
    const level = randomLevel();
    if (level > this.level) {
      for (let i = this.level; i < level; i++) {
        rankAt[i] = 0;
        update[i] = this.header;
        this.header.span[i] = this.length;
      }
      this.level = level;
    }
    const n = new SkipNode(level, score, member);
    for (let i = 0; i < level; i++) {
      const u = update[i];
      n.fwd[i] = u.fwd[i];
      u.fwd[i] = n;
      n.span[i] = u.span[i] - (rankAt[0] - rankAt[i]);
      u.span[i] = rankAt[0] - rankAt[i] + 1;
    }
    for (let i = level; i < this.level; i++) update[i].span[i]++;
    n.backward = update[0] === this.header ? null : update[0];
    const next = n.fwd[0];
    if (next !== null) next.backward = n;
    else this.tail = n;
    this.length++;
    return n;
  }

  private deleteNode(x: SkipNode): void {
    for (let i = 0; i < this.level; i++) {
      const u = update[i];
      if (u.fwd[i] === x) {
        u.span[i] += x.span[i] - 1;
        u.fwd[i] = x.fwd[i];
      } else {
        u.span[i] -= 1;
      }
    }
    const next = x.fwd[0];
    if (next !== null) next.backward = x.backward;
    else this.tail = x.backward;
    while (this.level > 1 && this.header.fwd[this.level - 1] === null) this.level--;
    this.length--;
  }

  /** Fills `update` with the last node before (score, member) at each level. */
  private findUpdate(score: number, member: string): SkipNode | null {
    let x = this.header;
    for (let i = this.level - 1; i >= 0; i--) {
      let f = x.fwd[i];
      while (f !== null && before(f, score, member)) {
        x = f;
        f = x.fwd[i];
      }
      update[i] = x;
    }
    return x.fwd[0];
  }

  /** Removes `member`; false if absent. */
  delete(member: string): boolean {
    const node = this.dict.get(member);
    if (node === undefined) return false;
    this.dict.delete(member);
    const x = this.findUpdate(node.score, member);
    if (x !== node) throw new Error("skiplist corrupt: member not found at its score");
    this.deleteNode(x);
    return true;
  }

  /** Moves `member` (present) to `newScore` (Redis's zslUpdateScore). */
  updateScore(member: string, newScore: number): void {
    const node = this.dict.get(member)!;
    const x = this.findUpdate(node.score, member);
    if (x !== node) throw new Error("skiplist corrupt: member not found at its score");
    const b = x.backward;
    const n = x.fwd[0];
    if ((b === null || b.score < newScore) && (n === null || n.score > newScore)) {
      x.score = newScore;
      return;
    }
    this.deleteNode(x);
    this.dict.set(member, this.zslInsert(newScore, member));
  }

  first(): SkipNode | null {
    return this.header.fwd[0];
  }

  /** 1-based rank of (score, member), 0 if absent (Redis's zslGetRank). */
  getRank(score: number, member: string): number {
    let x = this.header;
    let rank = 0;
    for (let i = this.level - 1; i >= 0; i--) {
      let f = x.fwd[i];
      while (f !== null && (f.score < score || (f.score === score && f.member <= member))) {
        rank += x.span[i];
        x = f;
        f = x.fwd[i];
      }
      if (x !== this.header && x.score === score && x.member === member) return rank;
    }
    return 0;
  }

  /** The node at 1-based `rank`, or null. */
  getElementByRank(rank: number): SkipNode | null {
    let x = this.header;
    let traversed = 0;
    for (let i = this.level - 1; i >= 0; i--) {
      let f = x.fwd[i];
      while (f !== null && traversed + x.span[i] <= rank) {
        traversed += x.span[i];
        x = f;
        f = x.fwd[i];
      }
      if (traversed === rank) return x === this.header ? null : x;
    }
    return null;
  }

  private isInRange(r: ScoreRange): boolean {
    if (scoreRangeEmpty(r)) return false;
    const t = this.tail;
    if (t === null || !scoreGteMin(t.score, r)) return false;
    const h = this.header.fwd[0];
    return h !== null && scoreLteMax(h.score, r);
  }

  firstInRange(r: ScoreRange): SkipNode | null {
    if (!this.isInRange(r)) return null;
    let x = this.header;
    for (let i = this.level - 1; i >= 0; i--) {
      let f = x.fwd[i];
      while (f !== null && !scoreGteMin(f.score, r)) {
        x = f;
        f = x.fwd[i];
      }
    }
    const n = x.fwd[0]!;
    return scoreLteMax(n.score, r) ? n : null;
  }

  lastInRange(r: ScoreRange): SkipNode | null {
    if (!this.isInRange(r)) return null;
    let x = this.header;
    for (let i = this.level - 1; i >= 0; i--) {
      let f = x.fwd[i];
      while (f !== null && scoreLteMax(f.score, r)) {
        x = f;
        f = x.fwd[i];
      }
    }
    return scoreGteMin(x.score, r) ? x : null;
  }

  private isInLexRange(r: LexRange): boolean {
    if (lexRangeEmpty(r)) return false;
    const t = this.tail;
    if (t === null || !lexGteMin(t.member, r)) return false;
    const h = this.header.fwd[0];
    return h !== null && lexLteMax(h.member, r);
  }

  firstInLexRange(r: LexRange): SkipNode | null {
    if (!this.isInLexRange(r)) return null;
    let x = this.header;
    for (let i = this.level - 1; i >= 0; i--) {
      let f = x.fwd[i];
      while (f !== null && !lexGteMin(f.member, r)) {
        x = f;
        f = x.fwd[i];
      }
    }
    const n = x.fwd[0]!;
    return lexLteMax(n.member, r) ? n : null;
  }

  lastInLexRange(r: LexRange): SkipNode | null {
    if (!this.isInLexRange(r)) return null;
    let x = this.header;
    for (let i = this.level - 1; i >= 0; i--) {
      let f = x.fwd[i];
      while (f !== null && lexLteMax(f.member, r)) {
        x = f;
        f = x.fwd[i];
      }
    }
    return lexGteMin(x.member, r) ? x : null;
  }

  deleteRangeByScore(r: ScoreRange, before?: () => void): number {
    let x = this.header;
    for (let i = this.level - 1; i >= 0; i--) {
      let f = x.fwd[i];
      while (f !== null && !scoreGteMin(f.score, r)) {
        x = f;
        f = x.fwd[i];
      }
      update[i] = x;
    }
    let n = x.fwd[0];
    let removed = 0;
    if (n !== null && scoreLteMax(n.score, r)) before?.();
    while (n !== null && scoreLteMax(n.score, r)) {
      const next = n.fwd[0];
      this.deleteNode(n);
      this.dict.delete(n.member);
      removed++;
      n = next;
    }
    return removed;
  }

  deleteRangeByLex(r: LexRange, before?: () => void): number {
    let x = this.header;
    for (let i = this.level - 1; i >= 0; i--) {
      let f = x.fwd[i];
      while (f !== null && !lexGteMin(f.member, r)) {
        x = f;
        f = x.fwd[i];
      }
      update[i] = x;
    }
    let n = x.fwd[0];
    let removed = 0;
    if (n !== null && lexLteMax(n.member, r)) before?.();
    while (n !== null && lexLteMax(n.member, r)) {
      const next = n.fwd[0];
      this.deleteNode(n);
      this.dict.delete(n.member);
      removed++;
      n = next;
    }
    return removed;
  }

  /** Deletes 1-based ranks start..end inclusive. */
  deleteRangeByRank(start: number, end: number): number {
    let x = this.header;
    let traversed = 0;
    for (let i = this.level - 1; i >= 0; i--) {
      let f = x.fwd[i];
      while (f !== null && traversed + x.span[i] < start) {
        traversed += x.span[i];
        x = f;
        f = x.fwd[i];
      }
      update[i] = x;
    }
    traversed++;
    let n = x.fwd[0];
    let removed = 0;
    while (n !== null && traversed <= end) {
      const next = n.fwd[0];
      this.deleteNode(n);
      this.dict.delete(n.member);
      removed++;
      traversed++;
      n = next;
    }
    return removed;
  }

  /** Structural self-check for tests: spans, order, back links, dict agreement. */
  check(): void {
    let n = this.header.fwd[0];
    let prev: SkipNode | null = null;
    let count = 0;
    while (n !== null) {
      count++;
      if (n.backward !== prev) throw new Error("bad backward link");
      if (prev !== null && !before(prev, n.score, n.member)) throw new Error("order violated");
      if (this.dict.get(n.member) !== n) throw new Error("dict disagrees");
      prev = n;
      n = n.fwd[0];
    }
    if (prev !== this.tail) throw new Error("bad tail");
    if (count !== this.length || this.dict.size !== count) throw new Error("bad length");
    for (let i = 0; i < this.level; i++) {
      let x: SkipNode = this.header;
      let rank = 0;
      while (true) {
        const f = x.fwd[i];
        if (f === null) break;
        rank += x.span[i];
        if (this.getElementByRank(rank) !== f) throw new Error(`bad span at level ${i}`);
        x = f;
      }
    }
  }
}
