/**
 * How Amber is launched under Deno: the flags `deno task start`, `deno task compile`,
 * the benchmarks and the subprocess tests share, so what is measured and tested is
 * what an operator runs (tests/launch_test.ts keeps deno.json in step).
 *
 * `--max-semi-space-size=8` (MiB): V8 grows its young generation to 32 MiB semi-spaces
 * (64 MiB of resident memory) under a write-heavy load and keeps it. A server holds its
 * data in the old generation, so a small nursery only adds cheap scavenges; measured
 * here it took 40-90 MiB off the resident memory of a 1M-key dataset, with throughput
 * within noise (BENCHMARKS.md, Memory).
 */
export const V8_FLAGS = ["--max-semi-space-size=8"];

/** `deno run` arguments before the script: permissions and the V8 flags above. */
export function denoRunFlags(): string[] {
  const extra = typeof Deno !== "undefined" ? Deno.env.get("AMBER_V8_FLAGS") : undefined;
  const v8 = extra === undefined ? V8_FLAGS : extra === "" ? [] : extra.split(",");
  return ["--allow-all", ...(v8.length ? [`--v8-flags=${v8.join(",")}`] : [])];
}
