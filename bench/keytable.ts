/**
 * Main-thread pauses of the keyspace table (src/keyspace/keytable.ts) against a JS `Map`,
 * in-process: the time of every single insert while N keys go in one by one (growth),
 * then while the oldest key is deleted and a new one inserted, C times over (churn:
 * holes, tombstones, compaction). Keys are built before the clock starts, so the only
 * garbage collections are the ones the structures cause; run with `--trace-gc` in
 * the V8 flags to tell a GC pause from the structure's own.
 *
 * Usage: deno task bench:keytable [--keys 2000000] [--churn 3000000]
 */
import { parseArgs } from "node:util";
import { KeyTable } from "../src/keyspace/keytable.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    keys: { type: "string", default: "2000000" },
    churn: { type: "string", default: "3000000" },
  },
});
const N = Number(values.keys);
const C = Number(values.churn);

interface Dict {
  set(k: string, v: number): unknown;
  delete(k: string): boolean;
}

interface Pauses {
  totalMs: number;
  worstMs: number;
  worstAt: number;
  over1ms: number;
}

function timed(n: number, op: (i: number) => void): Pauses {
  const p: Pauses = { totalMs: 0, worstMs: 0, worstAt: -1, over1ms: 0 };
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const a = performance.now();
    op(i);
    const d = performance.now() - a;
    if (d > 1) p.over1ms++;
    if (d > p.worstMs) {
      p.worstMs = d;
      p.worstAt = i;
    }
  }
  p.totalMs = performance.now() - t0;
  return p;
}

function row(name: string, phase: string, p: Pauses): string {
  return `| ${name} | ${phase} | ${p.totalMs.toFixed(0)} ms | ${
    p.worstMs.toFixed(1)
  } ms (op ${p.worstAt}) | ${p.over1ms} |`;
}

const keys: string[] = [];
for (let i = 0; i < N + C; i++) keys.push(`key:${String(i).padStart(10, "0")}`);

console.log("| structure | phase | total | slowest single operation | operations over 1 ms |");
console.log("|---|---|---|---|---|");
for (
  const [name, make] of [["KeyTable", () => new KeyTable<number>()], ["Map", () => new Map()]] as [
    string,
    () => Dict,
  ][]
) {
  const d = make();
  console.log(row(name, `insert ${N}`, timed(N, (i) => d.set(keys[i], i))));
  console.log(row(
    name,
    `delete oldest + insert, ${C} times`,
    timed(C, (i) => {
      d.delete(keys[i]);
      d.set(keys[N + i], i);
    }),
  ));
}
