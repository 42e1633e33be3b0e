/**
 * COMMAND and its subcommands (COUNT, INFO, DOCS, LIST, GETKEYS, GETKEYSANDFLAGS,
 * HELP): the command table described to clients, from Redis 7.0.15's own metadata
 * (meta.ts) restricted to the commands Amber implements, so a client library sees
 * exactly what it can use. Replies are built as Redis's addReplyCommand* functions
 * build them, so COMMAND INFO is byte-identical for every implemented command.
 */
import type { Command, HandlerMap } from "./registry.ts";
import type { Client } from "../server/client.ts";
import type { ReplyBuffer } from "../server/reply.ts";
import type { MetaTree } from "./meta.ts";
import { ERR_SYNTAX, is, parseBigInt64, replyHelp } from "./common.ts";
import { isMatchAll, stringMatch } from "../util/glob.ts";

/** Writes a tagged metadata tree ({"+"} status, {"%"} map, {"~"} set) as RESP. */
export function replyMeta(r: ReplyBuffer, t: MetaTree): void {
  if (t === null) r.null();
  else if (typeof t === "string") r.bulk(t);
  else if (typeof t === "number") r.integer(t);
  else if (Array.isArray(t)) {
    r.array(t.length);
    for (const x of t) replyMeta(r, x);
  } else if ("+" in t) r.simple(t["+"]);
  else if ("%" in t) {
    r.map(t["%"].length);
    for (const [k, v] of t["%"]) {
      replyMeta(r, k);
      replyMeta(r, v);
    }
  } else {
    r.set(t["~"].length);
    for (const x of t["~"]) replyMeta(r, x);
  }
}

function statusSet(r: ReplyBuffer, items: readonly string[]): void {
  r.set(items.length);
  for (const s of items) r.simple(s);
}

/** Redis's lookupCommandBySds: `name` or `container|sub`, case-insensitive. */
function lookupByName(table: Map<string, Command>, name: string): Command | undefined {
  const parts = name.toLowerCase().split("|");
  const base = table.get(parts[0]);
  if (parts.length === 1) return base;
  if (parts.length > 2 || !base?.subcommands) return undefined;
  return base.subcommands.get(parts[1]);
}

/** Redis's addReplyCommandInfo. */
function replyCommandInfo(r: ReplyBuffer, cmd: Command | undefined): void {
  if (!cmd) {
    r.null();
    return;
  }
  const m = cmd.meta;
  r.array(10);
  r.bulk(cmd.name);
  r.integer(m.arity);
  statusSet(r, m.flags);
  r.integer(m.first);
  r.integer(m.last);
  r.integer(m.step);
  statusSet(r, m.acl);
  replyMeta(r, m.tips);
  replyMeta(r, m.keySpecs);
  if (cmd.subcommands) {
    r.array(cmd.subcommands.size);
    for (const sub of cmd.subcommands.values()) replyCommandInfo(r, sub);
  } else r.set(0);
}

/** Redis's addReplyCommandDocs, limited to the doc fields meta.ts carries. */
function replyCommandDocs(r: ReplyBuffer, cmd: Command): void {
  const d = cmd.meta.docs;
  let n = 1;
  if (d.summary) n++;
  if (d.since) n++;
  if (d.complexity) n++;
  if (cmd.subcommands) n++;
  r.map(n);
  if (d.summary) {
    r.bulk("summary");
    r.bulk(d.summary);
  }
  if (d.since) {
    r.bulk("since");
    r.bulk(d.since);
  }
  r.bulk("group");
  r.bulk(d.group ?? "generic");
  if (d.complexity) {
    r.bulk("complexity");
    r.bulk(d.complexity);
  }
  if (cmd.subcommands) {
    r.bulk("subcommands");
    r.map(cmd.subcommands.size);
    for (const sub of cmd.subcommands.values()) {
      r.bulk(sub.name);
      replyCommandDocs(r, sub);
    }
  }
}

function allCommandsInfo(c: Client): void {
  const table = c.server.commands;
  c.reply.array(table.size);
  for (const cmd of table.values()) replyCommandInfo(c.reply, cmd);
}

function commandInfo(c: Client, argv: string[]): void {
  if (argv.length === 2) {
    allCommandsInfo(c);
    return;
  }
  c.reply.array(argv.length - 2);
  for (let i = 2; i < argv.length; i++) {
    replyCommandInfo(c.reply, lookupByName(c.server.commands, argv[i]));
  }
}

function commandDocs(c: Client, argv: string[]): void {
  const table = c.server.commands;
  if (argv.length === 2) {
    c.reply.map(table.size);
    for (const cmd of table.values()) {
      c.reply.bulk(cmd.name);
      replyCommandDocs(c.reply, cmd);
    }
    return;
  }
  const found: Command[] = [];
  for (let i = 2; i < argv.length; i++) {
    const cmd = lookupByName(table, argv[i]);
    if (cmd) found.push(cmd);
  }
  c.reply.map(found.length);
  for (const cmd of found) {
    c.reply.bulk(cmd.name);
    replyCommandDocs(c.reply, cmd);
  }
}

function commandList(c: Client, argv: string[]): void {
  let filter: ((cmd: Command) => boolean) | null = null;
  for (let i = 2; i < argv.length; i++) {
    const more = argv.length - 1 - i;
    if (!is(argv[i], "filterby") || more !== 2) {
      c.reply.error(ERR_SYNTAX);
      return;
    }
    const type = argv[i + 1];
    const arg = argv[i + 2];
    if (is(type, "module")) {
      filter = () => false; // no module commands exist
    } else if (is(type, "aclcat")) {
      const cat = "@" + arg.toLowerCase();
      filter = (cmd) => cmd.meta.acl.includes(cat);
    } else if (is(type, "pattern")) {
      filter = isMatchAll(arg) ? () => true : (cmd) => stringMatch(arg, cmd.name, true);
    } else {
      c.reply.error(ERR_SYNTAX);
      return;
    }
    i += 2;
  }
  const names: string[] = [];
  const walk = (cmds: Iterable<Command>) => {
    for (const cmd of cmds) {
      if (!filter || filter(cmd)) names.push(cmd.name);
      if (cmd.subcommands) walk(cmd.subcommands.values());
    }
  };
  walk(c.server.commands.values());
  c.reply.bulkArray(names);
}

// ---- GETKEYS -------------------------------------------------------------------------------

type MetaMap = Record<string, MetaTree>;

function metaMap(t: MetaTree): MetaMap {
  const out: MetaMap = {};
  if (t && typeof t === "object" && "%" in t) {
    for (const [k, v] of t["%"]) out[String(k)] = v;
  }
  return out;
}

function metaList(t: MetaTree): MetaTree[] {
  if (Array.isArray(t)) return t;
  if (t && typeof t === "object" && "~" in t) return t["~"];
  return [];
}

function specFlags(spec: MetaMap): string[] {
  return metaList(spec.flags).map((f) => typeof f === "object" && f && "+" in f ? f["+"] : "");
}

/** Redis's getKeysUsingKeySpecs: key positions with their spec flags, or null if invalid. */
function keysFromSpecs(cmd: Command, argv: string[]): [number, string[]][] | null {
  const out: [number, string[]][] = [];
  const argc = argv.length;
  for (const raw of metaList(cmd.meta.keySpecs)) {
    const spec = metaMap(raw);
    const flags = specFlags(spec);
    if (flags.includes("not_key")) continue;
    const bs = metaMap(spec.begin_search);
    const bsSpec = metaMap(bs.spec);
    let first = 0;
    if (bs.type === "index") first = Number(bsSpec.index);
    else if (bs.type === "keyword") {
      const startfrom = Number(bsSpec.startfrom);
      const keyword = String(bsSpec.keyword).toLowerCase();
      const start = startfrom > 0 ? startfrom : argc + startfrom;
      const end = startfrom > 0 ? argc - 1 : 1;
      for (let i = start; i !== end; i = start <= end ? i + 1 : i - 1) {
        if (i >= argc || i < 1) break;
        if (argv[i].toLowerCase() === keyword) {
          first = i + 1;
          break;
        }
      }
      if (!first) continue;
    } else return null;
    const fk = metaMap(spec.find_keys);
    const fkSpec = metaMap(fk.spec);
    let last: number;
    let step: number;
    if (fk.type === "range") {
      step = Number(fkSpec.keystep);
      const lastkey = Number(fkSpec.lastkey);
      const limit = Number(fkSpec.limit);
      if (lastkey >= 0) last = first + lastkey;
      else if (!limit) last = argc + lastkey;
      else last = first + (Math.trunc((argc - first) / limit) + lastkey);
    } else if (fk.type === "keynum") {
      step = Number(fkSpec.keystep);
      const idx = Number(fkSpec.keynumidx);
      if (idx >= argc || first + idx >= argc) return null;
      const numkeys = parseBigInt64(argv[first + idx]);
      if (numkeys === null || numkeys < 0n) return null;
      first += Number(fkSpec.firstkey);
      last = first + Number(numkeys) - 1;
    } else return null;
    if (last >= argc || last < first || first >= argc) return null;
    for (let i = first; i <= last; i += step) {
      if (i >= argc || i < first) continue;
      out.push([i, flags]);
    }
  }
  return out;
}

/**
 * Commands whose key flags depend on the arguments (key spec flag `variable_flags`):
 * Redis answers GETKEYS/GETKEYSANDFLAGS for them with their own getkeys_proc.
 */
const VARIABLE_FLAGS_KEYS: Record<string, (argv: string[]) => [number, string[]][]> = {
  // setGetKeys: SET ... GET reads the old value.
  set(argv) {
    const get = argv.slice(3).some((a) => is(a, "get"));
    return [[1, get ? ["RW", "access", "update"] : ["OW", "update"]]];
  },
  // bitfieldGetKeys: read-only unless a SET or INCRBY operation is present.
  bitfield(argv) {
    const write = argv.slice(2).some((a) => is(a, "set") || is(a, "incrby"));
    return [[1, write ? ["RW", "access", "update"] : ["RO", "access"]]];
  },
};

function hasKeys(cmd: Command): boolean {
  return metaList(cmd.meta.keySpecs).some((s) => !specFlags(metaMap(s)).includes("not_key"));
}

function getKeys(c: Client, argv: string[], withFlags: boolean): void {
  const args = argv.slice(2);
  const table = c.server.commands;
  const base = table.get(args[0].toLowerCase());
  const cmd = base?.subcommands && args.length >= 2
    ? base.subcommands.get(args[1].toLowerCase())
    : base;
  if (!cmd) {
    c.reply.error("ERR Invalid command specified");
    return;
  }
  if (!hasKeys(cmd)) {
    c.reply.error("ERR The command has no key arguments");
    return;
  }
  if ((cmd.arity > 0 && cmd.arity !== args.length) || args.length < -cmd.arity) {
    c.reply.error("ERR Invalid number of arguments specified for command");
    return;
  }
  const keys = VARIABLE_FLAGS_KEYS[cmd.name]?.(args) ?? keysFromSpecs(cmd, args);
  if (keys === null || keys.length === 0) {
    if (cmd.flags.has("no_mandatory_keys")) c.reply.array(0);
    else c.reply.error("ERR Invalid arguments specified for command");
    return;
  }
  c.reply.array(keys.length);
  for (const [pos, flags] of keys) {
    if (!withFlags) c.reply.bulk(args[pos]);
    else {
      c.reply.array(2);
      c.reply.bulk(args[pos]);
      statusSet(c.reply, flags);
    }
  }
}

const COMMAND_HELP = [
  "(no subcommand)",
  "    Return details about all Redis commands.",
  "COUNT",
  "    Return the total number of commands in this Redis server.",
  "LIST",
  "    Return a list of all commands in this Redis server.",
  "INFO [<command-name> ...]",
  "    Return details about multiple Redis commands.",
  "    If no command names are given, documentation details for all",
  "    commands are returned.",
  "DOCS [<command-name> ...]",
  "    Return documentation details about multiple Redis commands.",
  "    If no command names are given, documentation details for all",
  "    commands are returned.",
  "GETKEYS <full-command>",
  "    Return the keys from a full Redis command.",
  "GETKEYSANDFLAGS <full-command>",
  "    Return the keys and the access flags from a full Redis command.",
];

export const commandCommands: HandlerMap = {
  command: allCommandsInfo,
  "command|count"(c) {
    c.reply.integer(c.server.commands.size);
  },
  "command|info": commandInfo,
  "command|docs": commandDocs,
  "command|list": commandList,
  "command|getkeys"(c, argv) {
    getKeys(c, argv, false);
  },
  "command|getkeysandflags"(c, argv) {
    getKeys(c, argv, true);
  },
  "command|help"(c, argv) {
    replyHelp(c, argv[0], COMMAND_HELP);
  },
};
