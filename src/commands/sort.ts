/**
 * SORT and SORT_RO (Redis 7.0's sort.c): sorting lists, sets and sorted sets by their
 * elements or by external keys (BY), fetching external keys (GET), LIMIT, ALPHA, DESC
 * and STORE.
 *
 * Exactness notes. Numeric weights go through a model of glibc's `strtod` in the C
 * locale, because that is what decides which strings Redis accepts ("", " 3", "0x10",
 * "inf" are weights; "nan" and overflow are errors). ALPHA compares with `strcoll`,
 * which under the C / C.UTF-8 locales is `strcmp`: bytes up to the first NUL. Ties
 * therefore exist (equal BY values, missing BY keys, elements equal up to a NUL), and
 * their order is whatever Redis's sort leaves: glibc's qsort is a stable merge sort,
 * and SORT with BY and a LIMIT uses Redis's own partial quicksort (pqsort.c), ported
 * here step for step so that ties come out in the same order.
 */
import type { Client } from "../server/client.ts";
import type { HashValue } from "../types/hash.ts";
import { ListValue } from "../types/list.ts";
import type { SetValue } from "../types/set.ts";
import type { RangeOut, ZSet } from "../types/zset.ts";
import type { Value } from "../types/value.ts";
import { dirty, ERR_SYNTAX, ERR_WRONGTYPE, intArg, is, lookupRead } from "./common.ts";
import type { HandlerMap } from "./registry.ts";

/** One element being sorted (Redis's redisSortObject). */
interface SortItem {
  obj: string;
  /** What ALPHA without BY compares: the element, cut at a NUL where strcoll applies. */
  key: string;
  /** Numeric weight (0 when the BY key is missing). */
  score: number;
  /** ALPHA weight from a BY pattern; null when the BY key is missing. */
  by: string | null;
}

const ERR_SCORES = "ERR One or more scores can't be converted into double";

// ---- glibc strtod -------------------------------------------------------------------------

const DBL_MIN = 2.2250738585072014e-308;
const DECIMAL = /^(\d+)?(?:\.(\d*))?(?:[eE]([+-]?\d+))?/;
const HEX = /^0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?(?:[pP]([+-]?\d+))?/;

function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

/**
 * SORT's numeric weight of `s`: glibc `strtod` over the C string (up to the first NUL),
 * or null where Redis reports "One or more scores can't be converted into double":
 * bytes left after the number, no number at all (except the empty string, which
 * Redis's end-pointer test lets through as 0), NaN, and ERANGE (overflow, or an inexact
 * result in the subnormal range).
 */
export function sortWeight(s: string): number | null {
  const nul = s.indexOf("\0");
  const str = nul === -1 ? s : s.slice(0, nul);
  const n = str.length;
  if (n === 0) return 0;
  let i = 0;
  while (i < n && isSpace(str.charCodeAt(i))) i++;
  let neg = false;
  if (i < n && (str[i] === "+" || str[i] === "-")) {
    neg = str[i] === "-";
    i++;
  }
  const rest = str.slice(i);
  const low = rest.slice(0, 8).toLowerCase();
  if (low.startsWith("inf")) {
    const used = low === "infinity" ? 8 : 3;
    return used === rest.length ? (neg ? -Infinity : Infinity) : null;
  }
  if (low.startsWith("nan")) return null;
  const hex = HEX.exec(rest);
  if (hex !== null && (hex[1] !== "" || (hex[2] ?? "") !== "")) {
    if (hex[0].length !== rest.length) return null;
    return hexValue(hex[1] + (hex[2] ?? ""), (hex[2] ?? "").length, hex[3], neg);
  }
  const dec = DECIMAL.exec(rest)!;
  const intPart = dec[1] ?? "";
  const frac = dec[2] ?? "";
  // No digits at all: nothing converted, and the end pointer is the string's start.
  if (intPart === "" && frac === "") return null;
  if (dec[0].length !== rest.length) return null;
  const v = Number(dec[0]);
  if (!Number.isFinite(v)) return null;
  if (Math.abs(v) < DBL_MIN) {
    const digits = (intPart + frac).replace(/^0+/, "");
    if (digits !== "" && !exactTiny(v, digits, Number(dec[3] ?? "0") - frac.length)) return null;
  }
  return neg ? -v : v;
}

/** True if the decimal digits * 10^exp10 equal `v` (a subnormal or zero) exactly. */
function exactTiny(v: number, digits: string, exp10: number): boolean {
  if (v === 0 || exp10 >= 0) return false;
  const k = -exp10;
  // digits * 10^-k below 2^-1022 needs k > digits.length + 300; far beyond, never exact.
  if (k > digits.length + 800) return false;
  const m = BigInt(Math.abs(v) * 2 ** 1022 * 2 ** 52); // v = m * 2^-1074
  return BigInt(digits) * 2n ** 1074n === m * 10n ** BigInt(k);
}

/** strtod of a hex float: mantissa digits, how many are fractional, the `p` exponent. */
function hexValue(digits: string, fracLen: number, pexp: string | undefined, neg: boolean) {
  const m = BigInt("0x" + digits);
  const sign = neg ? -1 : 1;
  if (m === 0n) return sign * 0;
  const pe = Number(pexp ?? "0");
  const e2 = pe - 4 * fracLen;
  const bits = m.toString(2).length;
  const top = bits - 1 + e2;
  if (top > 1023) return null;
  const qe = Math.max(top - 52, -1074);
  if (qe - e2 > bits + 2) return null; // rounds to zero: underflow
  let q: bigint;
  let inexact = false;
  if (e2 >= qe) q = m << BigInt(e2 - qe);
  else {
    const shift = BigInt(qe - e2);
    q = m >> shift;
    const rem = m & ((1n << shift) - 1n);
    const half = 1n << (shift - 1n);
    inexact = rem !== 0n;
    if (rem > half || (rem === half && (q & 1n) === 1n)) q++;
  }
  const v = Number(q) * 2 ** qe;
  if (!Number.isFinite(v)) return null;
  if (inexact && v < DBL_MIN) return null;
  return sign * v;
}

// ---- comparison ---------------------------------------------------------------------------

type Cmp = (a: SortItem, b: SortItem) => number;

/** memcmp-then-length order of binary strings (compareStringObjects). */
function binCmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The C string strcoll sees: in the C and C.UTF-8 locales strcoll is strcmp, which is
 * binary order up to the first NUL. Cutting once up front makes it a binCmp.
 */
function cString(s: string): string {
  const nul = s.indexOf("\0");
  return nul === -1 ? s : s.slice(0, nul);
}

/**
 * sortCompare, specialised once per call for the flags Redis keeps in globals. ALPHA
 * weights are already cut by cString where Redis uses strcoll (no STORE).
 */
function comparator(alpha: boolean, byPattern: boolean, desc: boolean): Cmp {
  let cmp: Cmp;
  if (!alpha) {
    cmp = (a, b) => a.score > b.score ? 1 : a.score < b.score ? -1 : binCmp(a.obj, b.obj);
  } else if (byPattern) {
    cmp = (a, b) => {
      if (a.by === null || b.by === null) {
        return a.by === b.by ? 0 : a.by === null ? -1 : 1;
      }
      return binCmp(a.by, b.by);
    };
  } else {
    cmp = (a, b) => binCmp(a.key, b.key);
  }
  return desc ? (a, b) => -cmp(a, b) : cmp;
}

// ---- pqsort.c -------------------------------------------------------------------------------

/** sizeof(redisSortObject): pqsort's range test works on byte addresses. */
const ES = 16;

function swap(v: SortItem[], i: number, j: number): void {
  const t = v[i];
  v[i] = v[j];
  v[j] = t;
}

function insertionSort(v: SortItem[], a: number, n: number, cmp: Cmp): void {
  for (let pm = a + 1; pm < a + n; pm++) {
    for (let pl = pm; pl > a && cmp(v[pl - 1], v[pl]) > 0; pl--) swap(v, pl, pl - 1);
  }
}

function med3(v: SortItem[], a: number, b: number, c: number, cmp: Cmp): number {
  return cmp(v[a], v[b]) < 0
    ? (cmp(v[b], v[c]) < 0 ? b : (cmp(v[a], v[c]) < 0 ? c : a))
    : (cmp(v[b], v[c]) > 0 ? b : (cmp(v[a], v[c]) < 0 ? a : c));
}

/**
 * Redis's pqsort (NetBSD's Bentley-McIlroy qsort that skips partitions outside
 * [lrange, rrange]). Sub-problems cover disjoint slices, so an explicit stack instead
 * of recursion yields the same permutation without deep JS recursion.
 */
export function pqsort(v: SortItem[], cmp: Cmp, lrange: number, rrange: number): void {
  const lr = lrange * ES;
  const rr = (rrange + 1) * ES - 1;
  const outside = (a: number, n: number) => {
    const l = a * ES;
    const r = (a + n) * ES - 1;
    return (lr < l && rr < l) || (lr > r && rr > r);
  };
  const stack: number[] = [0, v.length];
  while (stack.length !== 0) {
    const n = stack.pop()!;
    const a = stack.pop()!;
    if (n < 7) {
      insertionSort(v, a, n, cmp);
      continue;
    }
    let pm = a + Math.floor(n / 2);
    if (n > 7) {
      let pl = a;
      let pn = a + n - 1;
      if (n > 40) {
        const d = Math.floor(n / 8);
        pl = med3(v, pl, pl + d, pl + 2 * d, cmp);
        pm = med3(v, pm - d, pm, pm + d, cmp);
        pn = med3(v, pn - 2 * d, pn - d, pn, cmp);
      }
      pm = med3(v, pl, pm, pn, cmp);
    }
    swap(v, a, pm);
    let pa = a + 1;
    let pb = pa;
    let pc = a + n - 1;
    let pd = pc;
    let swapped = false;
    for (;;) {
      let r: number;
      while (pb <= pc && (r = cmp(v[pb], v[a])) <= 0) {
        if (r === 0) {
          swapped = true;
          swap(v, pa, pb);
          pa++;
        }
        pb++;
      }
      while (pb <= pc && (r = cmp(v[pc], v[a])) >= 0) {
        if (r === 0) {
          swapped = true;
          swap(v, pc, pd);
          pd--;
        }
        pc--;
      }
      if (pb > pc) break;
      swap(v, pb, pc);
      swapped = true;
      pb++;
      pc--;
    }
    if (!swapped) {
      insertionSort(v, a, n, cmp);
      continue;
    }
    const pn = a + n;
    let r = Math.min(pa - a, pb - pa);
    for (let k = 0; k < r; k++) swap(v, a + k, pb - r + k);
    r = Math.min(pd - pc, pn - pd - 1);
    for (let k = 0; k < r; k++) swap(v, pb + k, pn - r + k);
    // Right part first on the stack so the left one is done first, as Redis recurses.
    const rn = pd - pc;
    if (rn > 1 && !outside(pn - rn, rn)) stack.push(pn - rn, rn);
    const ln = pb - pa;
    if (ln > 1 && !outside(a, ln)) stack.push(a, ln);
  }
}

// ---- BY / GET patterns ----------------------------------------------------------------------

/**
 * lookupKeyByPattern: `#` is the element itself; otherwise the first `*` (in the C-string
 * part of the pattern, as strchr sees it) becomes the element, and `key->field` reads a
 * hash field. Anything else, or a key of the wrong type, is null.
 */
function lookupByPattern(c: Client, pat: string, subst: string): string | null {
  if (pat.charCodeAt(0) === 35 && (pat.length === 1 || pat.charCodeAt(1) === 0)) return subst;
  const nul = pat.indexOf("\0");
  const cEnd = nul === -1 ? pat.length : nul;
  const p = pat.indexOf("*");
  if (p === -1 || p >= cEnd) return null;
  const f = pat.indexOf("->", p + 1);
  let field: string | null = null;
  let fieldLen = 0;
  if (f !== -1 && f + 2 < cEnd) {
    field = pat.slice(f + 2);
    fieldLen = field.length;
  }
  const postLen = pat.length - (p + 1) - (field !== null ? fieldLen + 2 : 0);
  const key = pat.slice(0, p) + subst + pat.slice(p + 1, p + 1 + postLen);
  const v = lookupRead(c, key);
  if (v === undefined) return null;
  if (field !== null) {
    if (typeof v === "string" || v.type !== "hash") return null;
    return (v as HashValue).get(field) ?? null;
  }
  return typeof v === "string" ? v : null;
}

/** strchr(pattern, '*') == NULL: a BY pattern without `*` means "do not sort". */
function isConstantPattern(pat: string): boolean {
  const star = pat.indexOf("*");
  if (star === -1) return true;
  const nul = pat.indexOf("\0");
  return nul !== -1 && nul < star;
}

// ---- the command ----------------------------------------------------------------------------

function sortGeneric(c: Client, argv: string[], readonly: boolean): void {
  let desc = false;
  let alpha = false;
  let limitStart = 0;
  let limitCount = -1;
  let dontsort = false;
  let sortby: string | null = null;
  let storekey: string | null = null;
  const gets: string[] = [];
  for (let j = 2; j < argv.length; j++) {
    const a = argv[j];
    const left = argv.length - j - 1;
    if (is(a, "asc")) desc = false;
    else if (is(a, "desc")) desc = true;
    else if (is(a, "alpha")) alpha = true;
    else if (is(a, "limit") && left >= 2) {
      const s = intArg(c, argv[j + 1]);
      if (s === null) return;
      const n = intArg(c, argv[j + 2]);
      if (n === null) return;
      limitStart = s;
      limitCount = n;
      j += 2;
    } else if (!readonly && is(a, "store") && left >= 1) {
      storekey = argv[++j];
    } else if (is(a, "by") && left >= 1) {
      sortby = argv[++j];
      // Sticky, as in Redis: a later BY with `*` does not undo an earlier constant one.
      if (isConstantPattern(sortby)) dontsort = true;
    } else if (is(a, "get") && left >= 1) {
      gets.push(argv[++j]);
    } else {
      c.reply.error(ERR_SYNTAX);
      return;
    }
  }

  const found = lookupRead(c, argv[1]);
  if (
    found !== undefined &&
    (typeof found === "string" ||
      (found.type !== "list" && found.type !== "set" && found.type !== "zset"))
  ) {
    c.reply.error(ERR_WRONGTYPE);
    return;
  }
  const sortval: Value = found ?? new ListValue();
  const type = (sortval as { type: string }).type;

  // An unsorted set would replicate in hash order: with STORE, Redis sorts it by value.
  if (dontsort && type === "set" && storekey !== null) {
    dontsort = false;
    alpha = true;
    sortby = null;
  }

  // Redis converts a listpack zset for good before sorting (OBJECT ENCODING shows it).
  if (type === "zset") (sortval as ZSet).convertToSkiplist();

  let vectorlen = type === "list"
    ? (sortval as ListValue).length
    : type === "set"
    ? (sortval as SetValue).size
    : (sortval as ZSet).size;
  const len = vectorlen;

  let start = Math.min(Math.max(limitStart, 0), vectorlen);
  limitCount = Math.min(Math.max(limitCount, -1), vectorlen);
  let end = limitCount < 0 ? vectorlen - 1 : start + limitCount - 1;
  if (start >= vectorlen) {
    start = vectorlen - 1;
    end = vectorlen - 2;
  }
  if (end >= vectorlen) end = vectorlen - 1;

  if ((type === "zset" || type === "list") && dontsort && (start !== 0 || end !== vectorlen - 1)) {
    vectorlen = end - start + 1;
  }

  let elements: string[];
  if (type === "list" && dontsort) {
    // Nothing to sort: Redis reads just the LIMIT range, walking backwards for DESC.
    elements = [];
    if (end >= start) {
      const list = sortval as ListValue;
      if (desc) {
        const from = len - start - 1;
        elements = list.range(Math.max(0, from - vectorlen + 1), from).reverse();
      } else {
        elements = list.range(start, Math.min(len - 1, start + vectorlen - 1));
      }
      end -= start;
      start = 0;
    }
  } else if (type === "list") {
    elements = (sortval as ListValue).toArray();
  } else if (type === "set") {
    elements = (sortval as SetValue).toArray();
  } else if (dontsort) {
    // Likewise by rank: LIMIT is a rank range, DESC a reverse-rank one.
    const out: RangeOut = { members: [], scores: [] };
    if (vectorlen > 0) (sortval as ZSet).rangeByRank(start, start + vectorlen - 1, desc, out);
    elements = out.members;
    end -= start;
    start = 0;
  } else {
    elements = [];
    (sortval as ZSet).forEach((m) => {
      elements.push(m);
    });
  }

  const vector: SortItem[] = new Array(elements.length);
  for (let j = 0; j < elements.length; j++) {
    vector[j] = { obj: elements[j], key: elements[j], score: 0, by: null };
  }

  let conversionError = false;
  if (!dontsort) {
    for (const item of vector) {
      let byval: string;
      if (sortby !== null) {
        const v = lookupByPattern(c, sortby, item.obj);
        if (v === null) continue;
        byval = v;
      } else byval = item.obj;
      if (alpha) {
        if (sortby !== null) item.by = byval;
      } else {
        const w = sortWeight(byval);
        if (w === null) conversionError = true;
        else item.score = w;
      }
    }
    if (conversionError) {
      // Redis sorts anyway and then answers the error; the sort itself is unobservable.
      c.reply.error(ERR_SCORES);
      return;
    }
    if (alpha && storekey === null) {
      for (const item of vector) {
        if (sortby === null) item.key = cString(item.obj);
        else if (item.by !== null) item.by = cString(item.by);
      }
    }
    const cmp = comparator(alpha, sortby !== null, desc);
    if (sortby !== null && (start !== 0 || end !== vector.length - 1)) {
      pqsort(vector, cmp, start, end);
    } else {
      // glibc's qsort is a merge sort, stable like Array.prototype.sort.
      vector.sort(cmp);
    }
  }

  const count = end - start + 1;
  const outputlen = gets.length !== 0 ? gets.length * count : count;
  if (storekey === null) {
    c.reply.array(outputlen);
    for (let j = start; j <= end; j++) {
      const obj = vector[j].obj;
      if (gets.length === 0) c.reply.bulk(obj);
      for (const g of gets) c.reply.bulkOrNull(lookupByPattern(c, g, obj));
    }
    return;
  }
  const items: string[] = [];
  for (let j = start; j <= end; j++) {
    const obj = vector[j].obj;
    if (gets.length === 0) items.push(obj);
    for (const g of gets) items.push(lookupByPattern(c, g, obj) ?? "");
  }
  if (outputlen > 0) {
    const fill = c.server.config.getInt("list-max-listpack-size");
    c.db.set(storekey, ListValue.from(items, fill));
    c.server.notify("l", "sortstore", storekey, c.db.id);
    dirty(c, outputlen);
  } else if (c.db.delete(storekey)) {
    c.server.notify("g", "del", storekey, c.db.id);
    dirty(c);
  }
  c.reply.integer(outputlen);
}

export const sortCommands: HandlerMap = {
  sort: (c, argv) => sortGeneric(c, argv, false),
  sort_ro: (c, argv) => sortGeneric(c, argv, true),
};
