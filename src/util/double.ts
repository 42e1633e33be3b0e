/**
 * Doubles printed the way Redis 7.0 prints them: `%.17g` through glibc, which rounds an
 * exact tie half to even where JavaScript's toExponential rounds it up. Used for every
 * double reply (scores, RESP2 doubles) and wherever Redis formats a double with %.17g.
 */
const TWO53 = 9007199254740992;

/**
 * C's `%.17g`, as Redis 7.0 prints scores (addReplyDouble, d2string). Integers below
 * 2^53 take a fast path (String is exact there, and ~20x faster than the general case).
 * Otherwise JS gives 17 correctly rounded digits with ties rounded up, where glibc
 * rounds the exact binary value half to even. A tie means the exact expansion stops at
 * an 18th digit 5: when toExponential(17) ends in 5 and is exactly the double (checked
 * with bigints, rarely needed), the 17 digits are redone half to even.
 */
export function formatScore(d: number): string {
  if (Number.isInteger(d) && d < TWO53 && d > -TWO53) {
    return d === 0 ? (Object.is(d, -0) ? "-0" : "0") : String(d);
  }
  // A multiple of 2^-10 below 1e5 has an exact expansion of at most 15 digits, which is
  // then also its shortest round-trip form: what %.17g prints.
  if (d < 1e5 && d > -1e5 && Number.isInteger(d * 1024)) return String(d);
  if (d !== d) return "nan";
  if (d === Infinity) return "inf";
  if (d === -Infinity) return "-inf";
  let e = d.toExponential(16);
  const t = d.toExponential(17);
  const at18 = t.indexOf("e");
  if (t.charCodeAt(at18 - 1) === 53 && isExact(d, t, at18)) e = roundHalfEven(t, at18);
  const at = e.indexOf("e");
  const neg = e.charCodeAt(0) === 45;
  const digits = e.slice(neg ? 1 : 0, at).replace(".", "");
  const exp = Number(e.slice(at + 1));
  const sign = neg ? "-" : "";
  if (exp < -4 || exp >= 17) {
    const frac = digits.slice(1).replace(/0+$/, "");
    const ee = Math.abs(exp);
    return sign + digits[0] + (frac ? "." + frac : "") + "e" + (exp < 0 ? "-" : "+") +
      (ee < 10 ? "0" + ee : String(ee));
  }
  let int: string;
  let frac: string;
  if (exp >= 0) {
    int = digits.slice(0, exp + 1);
    frac = digits.slice(exp + 1);
  } else {
    int = "0";
    frac = "0".repeat(-exp - 1) + digits;
  }
  frac = frac.replace(/0+$/, "");
  return sign + int + (frac ? "." + frac : "");
}

const f64b = new Float64Array(1);
const u32b = new Uint32Array(f64b.buffer);
const LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Is the decimal `t` (toExponential output, "e" at `at`) exactly the double `d`? */
function isExact(d: number, t: string, at: number): boolean {
  f64b[0] = Math.abs(d);
  const hi = u32b[LITTLE ? 1 : 0];
  const lo = u32b[LITTLE ? 0 : 1];
  const bexp = (hi >>> 20) & 0x7ff;
  let m = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let e2: number;
  if (bexp === 0) e2 = -1074;
  else {
    m |= 1n << 52n;
    e2 = bexp - 1075;
  }
  const neg = t.charCodeAt(0) === 45;
  const D = BigInt(t.slice(neg ? 1 : 0, at).replace(".", ""));
  const p = Number(t.slice(at + 1)) - (at - (neg ? 3 : 2));
  // D * 10^p == m * 2^e2, with every exponent moved to the side where it is positive.
  let lhs = D;
  let rhs = m;
  if (p >= 0) lhs *= 10n ** BigInt(p);
  else rhs *= 10n ** BigInt(-p);
  if (e2 >= 0) rhs <<= BigInt(e2);
  else lhs <<= BigInt(-e2);
  return lhs === rhs;
}

/** Rounds the exact 18-digit `t` (toExponential(17), ending in 5) to 17 digits, half even. */
function roundHalfEven(t: string, at: number): string {
  const neg = t.charCodeAt(0) === 45;
  let digits = t.slice(neg ? 1 : 0, at - 1).replace(".", "");
  let exp = Number(t.slice(at + 1));
  if ((digits.charCodeAt(16) - 48) % 2 === 1) {
    const up = (BigInt(digits) + 1n).toString();
    if (up.length > digits.length) exp++;
    digits = up.slice(0, 17);
  }
  return (neg ? "-" : "") + digits[0] + "." + digits.slice(1) + "e" + (exp < 0 ? "" : "+") + exp;
}
