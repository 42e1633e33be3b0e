/**
 * What a command did besides its reply, seen from inside an in-process server: the ops it
 * handed to the propagation feed (what the AOF logs), the keyspace events it raised and
 * how much it moved the dirty counter. Used by the per-family propagation tests.
 */
import type { Server } from "../../src/server/server.ts";
import type { RawClient } from "./resp_client.ts";

export interface Effects {
  reply: string;
  /** Propagated argv lists, in order. */
  ops: string[][];
  /** `class:event:key` per keyspace notification. */
  events: string[];
  dirty: number;
}

/**
 * Returns `run(...argv)`, which sends one command on `c` and reports its effects.
 * `unwrapMulti` drops the MULTI/EXEC the server wraps around several ops of one command.
 */
export function effectsRecorder(
  server: Server,
  c: RawClient,
  opts: { unwrapMulti?: boolean } = {},
): (...argv: string[]) => Promise<Effects> {
  const ops: string[][] = [];
  const events: string[] = [];
  server.addFeed((batch) => {
    for (const o of batch) ops.push(o.argv);
  });
  server.onNotify((cls, event, key) => events.push(`${cls}:${event}:${key}`));
  return async (...argv: string[]) => {
    ops.length = 0;
    events.length = 0;
    const d0 = server.dirty;
    const reply = await c.call(...argv);
    const argvs = opts.unwrapMulti
      ? ops.filter((v) => v[0] !== "MULTI" && v[0] !== "EXEC")
      : ops.slice();
    return { reply, ops: argvs, events: [...events], dirty: server.dirty - d0 };
  };
}
