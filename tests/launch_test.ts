/**
 * The Deno launch flags (src/launch.ts): deno.json's start and compile tasks use them,
 * and they do what they are there for (a small V8 young generation under a load whose
 * objects survive, as a server's dataset does).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { V8_FLAGS } from "../src/launch.ts";

const root = new URL("../", import.meta.url);
const tasks = JSON.parse(readFileSync(new URL("deno.json", root), "utf8")).tasks;
const v8Flag = `--v8-flags=${V8_FLAGS.join(",")}`;

Deno.test("deno task start and compile pass the launch flags", () => {
  assert.equal(tasks.start, `deno run --allow-all ${v8Flag} src/cli.ts`);
  assert.match(tasks.compile, new RegExp(`^deno compile --allow-all ${v8Flag} `));
});

/** New-space resident MiB after keeping ~150 MiB of fresh objects alive, under `flags`. */
function newSpaceAfterLoad(flags: string[]): number {
  const code = `
    import v8 from "node:v8";
    const keep = [];
    for (let i = 0; i < 1_500_000; i++) keep.push({ k: "key:" + i, v: [i, i + 1] });
    const s = v8.getHeapSpaceStatistics().find((x) => x.space_name === "new_space");
    console.log(keep.length > 0 ? s.physical_space_size : 0);`;
  const r = spawnSync(Deno.execPath(), ["eval", ...flags, code], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return Number(r.stdout.trim()) / 2 ** 20;
}

Deno.test("the launch flags keep V8's young generation small under a surviving load", () => {
  const withFlags = newSpaceAfterLoad([v8Flag]);
  const without = newSpaceAfterLoad([]);
  assert.ok(withFlags <= 17, `new space ${withFlags} MiB with ${v8Flag}`);
  assert.ok(
    without > withFlags,
    `new space ${without} MiB without the flags: the test shows nothing`,
  );
});
