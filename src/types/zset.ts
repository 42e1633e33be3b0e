/**
 * The sorted set value (TYPE zset): the compact `listpack` form and the `skiplist` form
 * (src/types/skiplist.ts). Owns Redis's zsetAdd semantics (NX/XX/GT/LT/INCR outcomes),
 * the one-way listpack -> skiplist conversion, and the range walks the commands share.
 *
 * The listpack is one packed Latin-1 string, entries in (score, member bytes) order, each
 * a LEB128 header `member length * 8 + score format`, the member bytes and the score in
 * the fewest bytes that hold it exactly, as Redis's listpack stores small integers in
 * fewer bytes: an int8 (1 byte), an int16 (2), an IEEE-754 half (2: 1.5, 4.25, -0.75),
 * a float32 (4) or the double (8).
 * A small zset is then two heap objects (this and the string) instead of an array plus a
 * string per member and a boxed number per fractional score: about a third of the
 * memory, which is what a million small zsets cost. Operations decode as they walk; a
 * listpack holds at most zset-max-listpack-entries entries, so walks are short, as they
 * are in Redis.
 *
 * Listpack quirk kept on purpose: Redis stores an integral score as a listpack integer,
 * so -0 reads back as 0 there (but not in a skiplist), and ZSCAN prints listpack scores
 * in that stored form (`lpScoreRepr`).
 */
import type { Collection } from "./value.ts";
import {
  lexGteMin,
  lexLteMax,
  type LexRange,
  lexRangeEmpty,
  scoreGteMin,
  scoreLteMax,
  type ScoreRange,
  scoreRangeEmpty,
  SortedIndex,
} from "./skiplist.ts";
import { formatScore } from "../util/double.ts";
import { copyString } from "./hash.ts";

export { formatScore };

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
  return formatScore(score);
}

// ---- the packed listpack -------------------------------------------------------------------

/** packEntries' output: the packed form in `bytes[0, len)`. */
export const packedEntries = { bytes: new Uint8Array(1024), len: 0 };

/**
 * Writes the packed form of `n` entries, given in rank order, into `packedEntries`: entry
 * `i` is the member `src[mStart[i], mStart[i] + mLen[i])` with `scores[i]`. RDB loading
 * builds a small zset this way, with no string per member.
 */
export function packEntries(
  src: Uint8Array,
  mStart: Int32Array,
  mLen: Int32Array,
  scores: Float64Array,
  n: number,
): void {
  let need = 0;
  for (let i = 0; i < n; i++) need += mLen[i] + 14; // header <= 5 bytes, score <= 8
  if (packedEntries.bytes.length < need) packedEntries.bytes = new Uint8Array(2 * need);
  const out = packedEntries.bytes;
  let o = 0;
  for (let i = 0; i < n; i++) {
    let score = scores[i];
    if (score === 0) score = 0;
    const fmt = scoreFormat(score);
    const len = mLen[i];
    let h = len * (SC_MASK + 1) + fmt;
    while (h >= 128) {
      out[o++] = (h % 128) | 128;
      h = Math.floor(h / 128);
    }
    out[o++] = h;
    const from = mStart[i];
    for (let k = 0; k < len; k++) out[o++] = src[from + k];
    switch (fmt) {
      case SC_I8:
        out[o++] = score & 255;
        break;
      case SC_I16:
        out[o++] = score & 255;
        out[o++] = (score >> 8) & 255;
        break;
      case SC_F16:
        f16[0] = score;
        out[o++] = u8h[0];
        out[o++] = u8h[1];
        break;
      case SC_F32:
        f32[0] = score;
        for (let k = 0; k < 4; k++) out[o++] = u8f[k];
        break;
      default:
        f64[0] = score;
        for (let k = 0; k < 8; k++) out[o++] = u8[k];
    }
  }
  packedEntries.len = o;
}

const f64 = new Float64Array(1);
const u8 = new Uint8Array(f64.buffer);
const f32 = new Float32Array(1);
const u8f = new Uint8Array(f32.buffer);
const f16 = new Float16Array(1);
const u8h = new Uint8Array(f16.buffer);

// Score formats (the low three bits of an entry header) and their sizes in bytes.
const SC_F64 = 0;
const SC_F32 = 1;
const SC_I8 = 2;
const SC_I16 = 3;
const SC_F16 = 4;
const SC_BITS = 3;
const SC_MASK = 7;
const SCORE_BYTES = [8, 4, 1, 2, 2];

/** The smallest format that gives `x` back exactly (-0 is stored as 0 beforehand). */
function scoreFormat(x: number): number {
  if (Number.isInteger(x) && x >= -32768 && x <= 32767) {
    return x >= -128 && x <= 127 ? SC_I8 : SC_I16;
  }
  // Halves, quarters and the like (1.5, 4.25, -0.75) fit IEEE half precision.
  if (Math.f16round(x) === x) return SC_F16;
  return Math.fround(x) === x ? SC_F32 : SC_F64;
}

function encScore(x: number, fmt: number): string {
  switch (fmt) {
    case SC_I8:
      return String.fromCharCode(x & 255);
    case SC_I16:
      return String.fromCharCode(x & 255, (x >> 8) & 255);
    case SC_F16:
      f16[0] = x;
      return String.fromCharCode(u8h[0], u8h[1]);
    case SC_F32:
      f32[0] = x;
      return String.fromCharCode(u8f[0], u8f[1], u8f[2], u8f[3]);
    default:
      f64[0] = x;
      return String.fromCharCode(u8[0], u8[1], u8[2], u8[3], u8[4], u8[5], u8[6], u8[7]);
  }
}

/** The score at `p` of the entry head() decoded last (its format is `sf`). */
function decScore(s: string, p: number): number {
  switch (sf) {
    case SC_I8:
      return (s.charCodeAt(p) << 24) >> 24;
    case SC_I16:
      return ((s.charCodeAt(p) | (s.charCodeAt(p + 1) << 8)) << 16) >> 16;
    case SC_F16:
      u8h[0] = s.charCodeAt(p);
      u8h[1] = s.charCodeAt(p + 1);
      return f16[0];
    case SC_F32:
      for (let k = 0; k < 4; k++) u8f[k] = s.charCodeAt(p + k);
      return f32[0];
    default:
      for (let k = 0; k < 8; k++) u8[k] = s.charCodeAt(p + k);
      return f64[0];
  }
}

function encHead(len: number, fmt: number): string {
  let n = len * (SC_MASK + 1) + fmt;
  if (n < 128) return String.fromCharCode(n);
  let out = "";
  while (n >= 128) {
    out += String.fromCharCode((n % 128) | 128);
    n = Math.floor(n / 128);
  }
  return out + String.fromCharCode(n);
}

/**
 * Set by head(): where the member of the decoded entry starts, its length, and its
 * score's format and size (the score is at ms + ml, the entry ends at ms + ml + sl).
 */
let ms = 0;
let ml = 0;
let sf = 0;
let sl = 8;

/** Decodes the header of the entry at `p` into `ms`/`ml`/`sf`/`sl`. */
function head(s: string, p: number): void {
  let c = s.charCodeAt(p++);
  if (c < 128) {
    ml = c >> SC_BITS;
    sf = c & SC_MASK;
    sl = SCORE_BYTES[sf];
    ms = p;
    return;
  }
  let v = c & 127;
  let mul = 128;
  for (;;) {
    c = s.charCodeAt(p++);
    if (c < 128) {
      v += c * mul;
      break;
    }
    v += (c & 127) * mul;
    mul *= 128;
  }
  sf = v % (SC_MASK + 1);
  sl = SCORE_BYTES[sf];
  ml = (v - sf) / (SC_MASK + 1);
  ms = p;
}

/** An encoded entry. An integral score is a listpack integer in Redis: -0 becomes 0. */
function entry(member: string, score: number): string {
  if (score === 0) score = 0;
  const fmt = scoreFormat(score);
  return encHead(member.length, fmt) + member + encScore(score, fmt);
}

/** Byte comparison of the member at s[start, start+len) with `m`. */
function cmpAt(s: string, start: number, len: number, m: string): number {
  const k = len < m.length ? len : m.length;
  for (let i = 0; i < k; i++) {
    const d = s.charCodeAt(start + i) - m.charCodeAt(i);
    if (d !== 0) return d;
  }
  return len - m.length;
}

/** Random access into a packed listpack: entry positions decoded once per operation. */
class LpView {
  readonly pos: number[] = [];

  constructor(readonly s: string) {
    for (let p = 0; p < s.length; p = ms + ml + sl) {
      this.pos.push(p);
      head(s, p);
    }
  }

  get n(): number {
    return this.pos.length;
  }

  member(i: number): string {
    head(this.s, this.pos[i]);
    return this.s.slice(ms, ms + ml);
  }

  score(i: number): number {
    head(this.s, this.pos[i]);
    return decScore(this.s, ms + ml);
  }

  /** Where entry `i` ends (the next one starts). */
  end(i: number): number {
    return i + 1 < this.n ? this.pos[i + 1] : this.s.length;
  }
}

/**
 * Concatenation that yields a flat string. `a + b` makes a rope (a cons string, and
 * sliced strings pointing into the old value), which V8 keeps at more than twice the
 * size of the flat bytes even after flattening; Array.join copies into one flat string.
 */
const parts: string[] = [];

function flat3(a: string, b: string, c: string): string {
  parts[0] = a;
  parts[1] = b;
  parts[2] = c;
  const s = parts.join("");
  parts[0] = parts[1] = parts[2] = "";
  return s;
}

/** Set by lpFind(): the pair index of the entry found and where it ends. */
let foundIndex = 0;
let foundEnd = 0;
let foundScore = 0;

export class ZSet implements Collection {
  /** The packed listpack, or the sorted index (the "skiplist" encoding) once converted. */
  private d: string | SortedIndex;

  constructor(skiplist = false) {
    this.d = skiplist ? new SortedIndex() : "";
  }

  get type(): string {
    return "zset";
  }

  encoding(): string {
    return typeof this.d === "string" ? "listpack" : "skiplist";
  }

  get isListpack(): boolean {
    return typeof this.d === "string";
  }

  /** The packed listpack buffer (see fromPacked), or null for the skiplist form. */
  packedForm(): string | null {
    return typeof this.d === "string" ? this.d : null;
  }

  /** The skiplist-encoded form, or null while compact. */
  get zs(): SortedIndex | null {
    return typeof this.d === "string" ? null : this.d;
  }

  get size(): number {
    return typeof this.d === "string" ? this.n : this.d.length;
  }

  /**
   * Entries in the listpack, counted by walking their headers: at most
   * zset-max-listpack-entries of them, and a field for the count would cost every small
   * zset 8 bytes (Redis's listpack keeps its count in the header; here the object's
   * fields are the dearer place).
   */
  private get n(): number {
    const s = this.d as string;
    let n = 0;
    for (let p = 0; p < s.length; p = ms + ml + sl) {
      head(s, p);
      n++;
    }
    return n;
  }

  clone(): ZSet {
    const d = this.d;
    if (typeof d === "string") {
      // Strings are immutable: the copy can share the packed bytes.
      const z = new ZSet();
      z.d = d;
      return z;
    }
    const members: string[] = [];
    const scores: number[] = [];
    this.forEach((m, s) => {
      members.push(m);
      scores.push(s);
    });
    const z = new ZSet();
    z.d = SortedIndex.fromSorted(members, scores);
    return z;
  }

  /**
   * A zset from entries already in (score, member) order with distinct members, in the
   * form Redis's zsetConvertToListpackIfNeeded would leave a built result.
   */
  static fromSorted(members: string[], scores: number[], lim: ZsetLimits): ZSet {
    let maxLen = 0;
    for (const m of members) if (m.length > maxLen) maxLen = m.length;
    return ZSet.fromSortedAs(members, scores, members.length <= lim.entries && maxLen <= lim.value);
  }

  /**
   * A zset from sorted entries in the given encoding, whatever the limits (an RDB loader
   * keeps a stored listpack as it is unless it has too many entries, as Redis does).
   */
  static fromSortedAs(members: string[], scores: number[], listpack: boolean): ZSet {
    const z = new ZSet();
    if (listpack) {
      // The pieces of every entry in one join: no intermediate string per entry.
      const n = members.length;
      const parts = new Array<string>(3 * n);
      for (let i = 0; i < n; i++) {
        let score = scores[i];
        if (score === 0) score = 0;
        const fmt = scoreFormat(score);
        parts[3 * i] = encHead(members[i].length, fmt);
        parts[3 * i + 1] = members[i];
        parts[3 * i + 2] = encScore(score, fmt);
      }
      z.d = parts.join("");
      return z;
    }
    z.d = SortedIndex.fromSorted(members, scores);
    return z;
  }

  // ---- listpack primitives -------------------------------------------------------------

  /** Position of `member`'s entry (with foundIndex/foundEnd/foundScore set), or -1. */
  private lpFind(member: string): number {
    const s = this.d as string;
    const len = member.length;
    let p = 0;
    for (let i = 0; p < s.length; i++) {
      head(s, p);
      const next = ms + ml + sl;
      if (ml === len && s.startsWith(member, ms)) {
        foundIndex = i;
        foundEnd = next;
        foundScore = decScore(s, ms + ml);
        return p;
      }
      p = next;
    }
    return -1;
  }

  private lpInsert(member: string, score: number): void {
    changing();
    if (score === 0) score = 0;
    const s = this.d as string;
    let p = 0;
    while (p < s.length) {
      head(s, p);
      const sc = decScore(s, ms + ml);
      if (sc > score || (sc === score && cmpAt(s, ms, ml, member) > 0)) break;
      p = ms + ml + sl;
    }
    this.d = flat3(s.slice(0, p), entry(member, score), s.slice(p));
  }

  /** Removes the bytes [from, to) (whole entries). */
  private lpCut(from: number, to: number): void {
    const s = this.d as string;
    this.d = flat3(s.slice(0, from), s.slice(to), "");
  }

  /**
   * A listpack zset over `packed`, a buffer of this module's packed form (from
   * packEntries) whose entries are in rank order with no member twice.
   */
  static fromPacked(packed: string): ZSet {
    const z = new ZSet();
    z.d = packed;
    return z;
  }

  /** Switches to the skiplist form (never back: only new built values are compact). */
  convertToSkiplist(): void {
    const s = this.d;
    if (typeof s !== "string") return;
    changing();
    const members: string[] = [];
    const scores: number[] = [];
    for (let p = 0; p < s.length; p = ms + ml + sl) {
      head(s, p);
      // A copy: a slice of 13+ chars would keep the whole old listpack alive.
      members.push(copyString(s.slice(ms, ms + ml)));
      scores.push(decScore(s, ms + ml));
    }
    this.d = SortedIndex.fromSorted(members, scores);
  }

  // ---- point operations ------------------------------------------------------------------

  score(member: string): number | undefined {
    const d = this.d;
    if (typeof d === "string") {
      return this.lpFind(member) === -1 ? undefined : foundScore;
    }
    return d.dict.get(member);
  }

  has(member: string): boolean {
    const d = this.d;
    return typeof d === "string" ? this.lpFind(member) !== -1 : d.dict.has(member);
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
    if (typeof this.d === "string") {
      const p = this.lpFind(member);
      if (p !== -1) {
        if (nx) return ZADD_OUT_NOP;
        const end = foundEnd;
        const cur = foundScore;
        if (incr) {
          score += cur;
          if (Number.isNaN(score)) return ZADD_OUT_NAN;
        }
        if ((lt && score >= cur) || (gt && score <= cur)) return ZADD_OUT_NOP;
        lastScore = score;
        if (score !== cur) {
          changing();
          this.lpCut(p, end);
          this.lpInsert(member, score);
          return ZADD_OUT_UPDATED;
        }
        return 0;
      }
      if (xx) return ZADD_OUT_NOP;
      if (this.n + 1 > lim.entries || member.length > lim.value) {
        this.convertToSkiplist();
      } else {
        this.lpInsert(member, score);
        lastScore = score;
        return ZADD_OUT_ADDED;
      }
    }
    const zs = this.d as SortedIndex;
    const cur = zs.dict.get(member);
    if (cur !== undefined) {
      if (nx) return ZADD_OUT_NOP;
      if (incr) {
        score += cur;
        if (Number.isNaN(score)) return ZADD_OUT_NAN;
      }
      if ((lt && score >= cur) || (gt && score <= cur)) return ZADD_OUT_NOP;
      lastScore = score;
      if (score !== cur) {
        changing();
        zs.updateScore(member, cur, score);
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
    const d = this.d;
    if (typeof d === "string") {
      const p = this.lpFind(member);
      if (p === -1) return false;
      changing();
      this.lpCut(p, foundEnd);
      return true;
    }
    if (!d.dict.has(member)) return false;
    changing();
    return d.delete(member);
  }

  /** 0-based rank of `member` (from the top when `reverse`), -1 if absent. */
  rank(member: string, reverse: boolean): number {
    const d = this.d;
    const n = this.size;
    if (typeof d === "string") {
      if (this.lpFind(member) === -1) return -1;
      return reverse ? n - 1 - foundIndex : foundIndex;
    }
    const sc = d.dict.get(member);
    if (sc === undefined) return -1;
    const r = d.getRank(sc, member);
    return reverse ? n - r : r - 1;
  }

  /** The lowest (or highest) entry, or undefined when empty. */
  edge(max: boolean): [string, number] | undefined {
    const d = this.d;
    if (typeof d === "string") {
      if (d.length === 0) return undefined;
      if (!max) {
        head(d, 0);
        return [d.slice(ms, ms + ml), decScore(d, ms + ml)];
      }
      const v = new LpView(d);
      return [v.member(v.n - 1), v.score(v.n - 1)];
    }
    const c = max ? d.last() : d.first();
    return c === null ? undefined : [c.member, c.score];
  }

  /** A uniformly random entry (listpack: a walk of at most 128 entries; skiplist: by rank). */
  randomEntry(): [string, number] {
    const d = this.d;
    const r = Math.floor(Math.random() * this.size);
    if (typeof d === "string") {
      let p = 0;
      for (let i = 0; i < r; i++) {
        head(d, p);
        p = ms + ml + sl;
      }
      head(d, p);
      return [d.slice(ms, ms + ml), decScore(d, ms + ml)];
    }
    const c = d.select(r + 1)!;
    return [c.member, c.score];
  }

  /**
   * Visits entries in order (or from the highest, as Redis's zuiNext walks); `fn`
   * returning true stops the walk. The order is the listpack's own, as an RDB writer needs.
   */
  forEach(fn: (member: string, score: number) => boolean | void, reverse = false): void {
    const d = this.d;
    if (typeof d === "string") {
      if (reverse) {
        const v = new LpView(d);
        for (let i = v.n - 1; i >= 0; i--) if (fn(v.member(i), v.score(i)) === true) return;
      } else {
        let p = 0;
        while (p < d.length) {
          head(d, p);
          const end = ms + ml;
          // Read before the callback, which may decode other listpacks.
          const next = end + sl;
          if (fn(d.slice(ms, end), decScore(d, end)) === true) return;
          p = next;
        }
      }
      return;
    }
    const c = reverse ? d.last() : d.first();
    if (c === null) return;
    do {
      if (fn(c.member, c.score) === true) return;
    } while (reverse ? c.prev() : c.next());
  }

  // ---- ranges ------------------------------------------------------------------------------

  /**
   * A listpack's entries at ranks start..end (clamped as for rangeByRank), each handed
   * as the packed string with where its member starts and how long it is, and its
   * score (decoded only `withScores`, else 0): ZRANGE replies from them without making
   * a string per member. Only for a listpack (`isListpack`).
   */
  eachPackedByRank(
    start: number,
    end: number,
    reverse: boolean,
    withScores: boolean,
    fn: (packed: string, at: number, len: number, score: number) => void,
  ): void {
    const d = this.d as string;
    if (reverse) {
      const v = new LpView(d);
      for (let i = v.n - 1 - start; i >= v.n - 1 - end; i--) {
        head(d, v.pos[i]);
        fn(d, ms, ml, withScores ? decScore(d, ms + ml) : 0);
      }
      return;
    }
    let p = 0;
    for (let i = 0; i < start; i++) {
      head(d, p);
      p = ms + ml + sl;
    }
    for (let i = start; i <= end; i++) {
      head(d, p);
      const at = ms;
      const len = ml;
      const next = ms + ml + sl;
      fn(d, at, len, withScores ? decScore(d, at + len) : 0);
      p = next;
    }
  }

  /** Entries at 0-based ranks start..end (already clamped, start <= end < size). */
  rangeByRank(start: number, end: number, reverse: boolean, out: RangeOut): void {
    let len = end - start + 1;
    const d = this.d;
    if (typeof d === "string") {
      const v = new LpView(d);
      let i = reverse ? v.n - 1 - start : start;
      const step = reverse ? -1 : 1;
      while (len-- > 0) {
        out.members.push(v.member(i));
        out.scores.push(v.score(i));
        i += step;
      }
      return;
    }
    const c = d.select(reverse ? d.length - start : start + 1);
    if (c === null) return;
    do {
      out.members.push(c.member);
      out.scores.push(c.score);
    } while (--len > 0 && (reverse ? c.prev() : c.next()));
  }

  // Listpack range helpers (Redis's zzlFirstInRange & co) return pair indexes, -1 for none.

  private static firstInRange(v: LpView, r: ScoreRange): number {
    const n = v.n;
    if (n === 0 || scoreRangeEmpty(r)) return -1;
    if (!scoreGteMin(v.score(n - 1), r) || !scoreLteMax(v.score(0), r)) return -1;
    for (let i = 0; i < n; i++) {
      const s = v.score(i);
      if (scoreGteMin(s, r)) return scoreLteMax(s, r) ? i : -1;
    }
    return -1;
  }

  private static lastInRange(v: LpView, r: ScoreRange): number {
    const n = v.n;
    if (n === 0 || scoreRangeEmpty(r)) return -1;
    if (!scoreGteMin(v.score(n - 1), r) || !scoreLteMax(v.score(0), r)) return -1;
    for (let i = n - 1; i >= 0; i--) {
      const s = v.score(i);
      if (scoreLteMax(s, r)) return scoreGteMin(s, r) ? i : -1;
    }
    return -1;
  }

  private static firstInLex(v: LpView, r: LexRange): number {
    const n = v.n;
    if (n === 0 || lexRangeEmpty(r)) return -1;
    if (!lexGteMin(v.member(n - 1), r) || !lexLteMax(v.member(0), r)) return -1;
    for (let i = 0; i < n; i++) {
      const m = v.member(i);
      if (lexGteMin(m, r)) return lexLteMax(m, r) ? i : -1;
    }
    return -1;
  }

  private static lastInLex(v: LpView, r: LexRange): number {
    const n = v.n;
    if (n === 0 || lexRangeEmpty(r)) return -1;
    if (!lexGteMin(v.member(n - 1), r) || !lexLteMax(v.member(0), r)) return -1;
    for (let i = n - 1; i >= 0; i--) {
      const m = v.member(i);
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
    const d = this.d;
    if (typeof d === "string") {
      const v = new LpView(d);
      let i = reverse ? ZSet.lastInRange(v, r) : ZSet.firstInRange(v, r);
      if (i === -1 || offset < 0) return 0;
      i = reverse ? i - offset : i + offset;
      while (i >= 0 && i < v.n && limit !== 0) {
        limit--;
        const s = v.score(i);
        if (reverse ? !scoreGteMin(s, r) : !scoreLteMax(s, r)) break;
        out.members.push(v.member(i));
        out.scores.push(s);
        taken++;
        i = reverse ? i - 1 : i + 1;
      }
      return taken;
    }
    const c = reverse ? d.lastInRange(r) : d.firstInRange(r);
    if (c === null || offset < 0) return 0;
    let more = true;
    while (more && offset-- > 0) more = reverse ? c.prev() : c.next();
    while (more && limit !== 0) {
      limit--;
      if (reverse ? !scoreGteMin(c.score, r) : !scoreLteMax(c.score, r)) break;
      out.members.push(c.member);
      out.scores.push(c.score);
      taken++;
      more = reverse ? c.prev() : c.next();
    }
    return taken;
  }

  /** Redis's genericZrangebylex walk; same offset/limit rules as rangeByScore. */
  rangeByLex(r: LexRange, reverse: boolean, offset: number, limit: number, out: RangeOut): number {
    let taken = 0;
    const d = this.d;
    if (typeof d === "string") {
      const v = new LpView(d);
      let i = reverse ? ZSet.lastInLex(v, r) : ZSet.firstInLex(v, r);
      if (i === -1 || offset < 0) return 0;
      i = reverse ? i - offset : i + offset;
      while (i >= 0 && i < v.n && limit !== 0) {
        limit--;
        const m = v.member(i);
        if (reverse ? !lexGteMin(m, r) : !lexLteMax(m, r)) break;
        out.members.push(m);
        out.scores.push(v.score(i));
        taken++;
        i = reverse ? i - 1 : i + 1;
      }
      return taken;
    }
    const c = reverse ? d.lastInLexRange(r) : d.firstInLexRange(r);
    if (c === null || offset < 0) return 0;
    let more = true;
    while (more && offset-- > 0) more = reverse ? c.prev() : c.next();
    while (more && limit !== 0) {
      limit--;
      if (reverse ? !lexGteMin(c.member, r) : !lexLteMax(c.member, r)) break;
      out.members.push(c.member);
      out.scores.push(c.score);
      taken++;
      more = reverse ? c.prev() : c.next();
    }
    return taken;
  }

  countByScore(r: ScoreRange): number {
    const d = this.d;
    if (typeof d === "string") {
      const v = new LpView(d);
      let i = ZSet.firstInRange(v, r);
      if (i === -1) return 0;
      let count = 0;
      for (; i < v.n && scoreLteMax(v.score(i), r); i++) count++;
      return count;
    }
    const first = d.firstInRange(r);
    if (first === null) return 0;
    let count = d.length - (d.getRank(first.score, first.member) - 1);
    const last = d.lastInRange(r);
    if (last !== null) count -= d.length - d.getRank(last.score, last.member);
    return count;
  }

  countByLex(r: LexRange): number {
    const d = this.d;
    if (typeof d === "string") {
      const v = new LpView(d);
      let i = ZSet.firstInLex(v, r);
      if (i === -1) return 0;
      let count = 0;
      for (; i < v.n && lexLteMax(v.member(i), r); i++) count++;
      return count;
    }
    const first = d.firstInLexRange(r);
    if (first === null) return 0;
    let count = d.length - (d.getRank(first.score, first.member) - 1);
    const last = d.lastInLexRange(r);
    if (last !== null) count -= d.length - d.getRank(last.score, last.member);
    return count;
  }

  /** Deletes 0-based ranks start..end (clamped); returns the number removed. */
  deleteRangeByRank(start: number, end: number): number {
    changing();
    const d = this.d;
    if (typeof d === "string") {
      const v = new LpView(d);
      this.lpCut(v.pos[start], v.end(end));
      return end - start + 1;
    }
    return d.deleteRangeByRank(start + 1, end + 1);
  }

  deleteRangeByScore(r: ScoreRange): number {
    const d = this.d;
    if (typeof d === "string") {
      const v = new LpView(d);
      const i = ZSet.firstInRange(v, r);
      if (i === -1) return 0;
      let j = i;
      while (j < v.n && scoreLteMax(v.score(j), r)) j++;
      if (j === i) return 0;
      changing();
      this.lpCut(v.pos[i], v.end(j - 1));
      return j - i;
    }
    return d.deleteRangeByScore(r, changing);
  }

  deleteRangeByLex(r: LexRange): number {
    const d = this.d;
    if (typeof d === "string") {
      const v = new LpView(d);
      const i = ZSet.firstInLex(v, r);
      if (i === -1) return 0;
      let j = i;
      while (j < v.n && lexLteMax(v.member(j), r)) j++;
      if (j === i) return 0;
      changing();
      this.lpCut(v.pos[i], v.end(j - 1));
      return j - i;
    }
    return d.deleteRangeByLex(r, changing);
  }
}
