/**
 * Where the fixtures written by real Redis are: `AMBER_FIXTURES`, else `shared/fixtures`
 * beside the repository (`.ci/run` sets AMBER_FIXTURES when it finds them elsewhere).
 * Tests that need them skip locally when they are missing and fail in CI.
 */
import { join } from "node:path";

export const FIXTURES = Deno.env.get("AMBER_FIXTURES") ??
  new URL("../../../shared/fixtures/", import.meta.url).pathname;

/** `shared/tools/make-redis-fixtures.py`, beside the fixtures. */
export const MAKE_FIXTURES_TOOL = join(FIXTURES, "..", "tools", "make-redis-fixtures.py");
