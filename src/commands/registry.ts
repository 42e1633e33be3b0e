/**
 * The command table: what a command is (name, arity, flags, key positions, ACL
 * categories) and which function runs it.
 *
 * The descriptive part comes from `meta.ts` (Redis 7.0.15's own COMMAND output), the
 * behaviour from the family modules, which register handlers by name. Only commands
 * with a handler are in the table: anything else is an unknown command, never a fake
 * reply. The table drives the arity check, unknown-(sub)command errors, MULTI queueing
 * decisions and the COMMAND command itself.
 */
import type { Client } from "../server/client.ts";
import { COMMAND_META, type CommandMeta } from "./meta.ts";

/** Runs one command. `argv[0]` is the command name as the client sent it. */
export type Handler = (c: Client, argv: string[]) => void;

export interface Command {
  /** Lowercase full name: `get`, or `config|get` for a subcommand. */
  readonly name: string;
  readonly arity: number;
  readonly meta: CommandMeta;
  /** Flags as Redis names them: write, readonly, denyoom, fast, noscript, ... */
  readonly flags: ReadonlySet<string>;
  readonly handler: Handler;
  /** Container commands (CONFIG, CLIENT, OBJECT, ...) route to these by argv[1]. */
  readonly subcommands?: Map<string, Command>;
  readonly parent?: Command;
  /** Flags precomputed for the per-command checks in processCommand. */
  readonly isWrite: boolean;
  readonly noAuth: boolean;
  /** Allowed for a RESP2 client in subscribed mode. */
  readonly pubsubAllowed: boolean;
  /** Runs at once inside MULTI instead of being queued. */
  readonly multiImmediate: boolean;
  /** Allowed while the dataset is loading (Redis's CMD_LOADING). */
  readonly okLoading: boolean;
  /** Statistics (INFO commandstats). */
  calls: number;
  usec: number;
  rejectedCalls: number;
  failedCalls: number;
}

export type HandlerMap = Record<string, Handler>;

/** Commands allowed while a RESP2 client is subscribed. */
const PUBSUB_ALLOWED = new Set([
  "ping",
  "subscribe",
  "ssubscribe",
  "unsubscribe",
  "sunsubscribe",
  "psubscribe",
  "punsubscribe",
  "quit",
  "reset",
]);

/** Commands that run immediately inside MULTI instead of being queued. */
const MULTI_IMMEDIATE = new Set(["exec", "discard", "multi", "watch", "quit", "reset"]);

function makeCommand(name: string, meta: CommandMeta, handler: Handler, parent?: Command): Command {
  const flags = new Set(meta.flags);
  const top = name.split("|")[0];
  return {
    name,
    arity: meta.arity,
    meta,
    flags,
    handler,
    parent,
    isWrite: flags.has("write"),
    noAuth: flags.has("no_auth"),
    pubsubAllowed: PUBSUB_ALLOWED.has(top),
    multiImmediate: MULTI_IMMEDIATE.has(name),
    okLoading: flags.has("loading"),
    calls: 0,
    usec: 0,
    rejectedCalls: 0,
    failedCalls: 0,
  };
}

/**
 * Builds the command table from handler maps. A key `x` registers a top-level command;
 * `x|y` registers subcommand `y` of container `x` (the container itself needs no handler).
 */
export function buildCommandTable(...families: HandlerMap[]): Map<string, Command> {
  const table = new Map<string, Command>();
  const subs = new Map<string, Map<string, Command>>();
  for (const family of families) {
    for (const [name, handler] of Object.entries(family)) {
      const bar = name.indexOf("|");
      if (bar === -1) {
        const meta = COMMAND_META[name];
        if (!meta) throw new Error(`no Redis metadata for command '${name}'`);
        table.set(name, makeCommand(name, meta, handler));
      } else {
        const parent = name.slice(0, bar);
        const pmeta = COMMAND_META[parent];
        const meta = pmeta?.subcommands[name];
        if (!meta) throw new Error(`no Redis metadata for subcommand '${name}'`);
        let m = subs.get(parent);
        if (!m) subs.set(parent, m = new Map());
        m.set(name.slice(bar + 1), makeCommand(name, meta, handler));
      }
    }
  }
  for (const [parent, m] of subs) {
    const meta = COMMAND_META[parent];
    // A container may also have its own handler (bare COMMAND lists every command).
    const container: Command = {
      ...(table.get(parent) ?? makeCommand(parent, meta, () => {})),
      subcommands: m,
    };
    for (const [k, sub] of m) m.set(k, { ...sub, parent: container });
    table.set(parent, container);
  }
  return table;
}

/** Redis's `isContainerCommandBySds`-style lookup: the command or subcommand for argv. */
export function lookupCommand(
  table: Map<string, Command>,
  argv: string[],
): Command | undefined {
  const base = table.get(argv[0].toLowerCase());
  if (!base || !base.subcommands || argv.length < 2) return base;
  return base.subcommands.get(argv[1].toLowerCase());
}
