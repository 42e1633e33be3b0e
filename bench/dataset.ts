/**
 * The mixed dataset the persistence benchmarks write: 60% strings, 10% each of small
 * lists, hashes, sets and sorted sets, sent as pipelined RESP in batches of 10k.
 */
import { sendRaw, type Target } from "./common.ts";

function bulk(s: string): string {
  return `$${s.length}\r\n${s}\r\n`;
}

/** The command that creates key `i`. */
export function command(i: number): string {
  const k = `key:${String(i).padStart(9, "0")}`;
  switch (i % 10) {
    case 6:
      return "*5\r\n" + bulk("RPUSH") + bulk(k) + bulk("a") + bulk(String(i)) + bulk("c");
    case 7:
      return "*6\r\n" + bulk("HSET") + bulk(k) + bulk("f1") + bulk(`v${i}`) + bulk("f2") +
        bulk("x");
    case 8:
      return "*5\r\n" + bulk("SADD") + bulk(k) + bulk(String(i)) + bulk("1") + bulk("2");
    case 9:
      return "*6\r\n" + bulk("ZADD") + bulk(k) + bulk("1.5") + bulk("m1") + bulk(String(i)) +
        bulk("m2");
    default:
      return "*3\r\n" + bulk("SET") + bulk(k) + bulk(`value:${i}:${"x".repeat(i % 40)}`);
  }
}

/** Writes keys 0..n-1 to `t`; returns the elapsed seconds. */
export async function loadMixed(t: Target, n: number): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < n; i += 10_000) {
    let s = "";
    const m = Math.min(10_000, n - i);
    for (let j = 0; j < m; j++) s += command(i + j);
    await sendRaw(t.port, new TextEncoder().encode(s), m);
  }
  return (performance.now() - t0) / 1000;
}
