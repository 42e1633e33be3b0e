/**
 * CLIENT subcommands: ID, SETNAME, GETNAME, LIST, INFO, KILL, NO-EVICT, REPLY, HELP.
 * PAUSE/UNPAUSE/TRACKING/CACHING/UNBLOCK are not implemented and stay unknown.
 *
 * CLIENT REPLY needs a per-command reset (Redis's resetClient turns SKIP_NEXT into
 * SKIP before the next command and clears SKIP after it) and the server's command
 * loop has no such hook, so the first CLIENT REPLY on a connection installs a "reply
 * gate" on that client: appends to its reply buffer are dropped while muted, and the
 * parser's `next()` marks command boundaries. Clients that never use CLIENT REPLY pay
 * nothing.
 */
import { unblockClientByRequest } from "../server/blocking.ts";
import type { HandlerMap } from "./registry.ts";
import type { Client } from "../server/client.ts";
import {
  ERR_SYNTAX,
  intArg,
  is,
  parseBigInt64,
  replyHelp,
  subcommandSyntaxError,
} from "./common.ts";

// ---- names --------------------------------------------------------------------------

/**
 * Redis's clientSetNameOrReply: "" removes the name; otherwise only printable ASCII
 * without spaces, so CLIENT LIST stays splittable on spaces. False after an error reply.
 */
export function clientSetNameOrReply(c: Client, name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const ch = name.charCodeAt(i);
    if (ch < 0x21 || ch > 0x7e) {
      c.reply.error("ERR Client names cannot contain spaces, newlines or special characters.");
      return false;
    }
  }
  c.name = name;
  return true;
}

// ---- CLIENT REPLY gate ---------------------------------------------------------------

interface ReplyGate {
  off: boolean;
  /** CLIENT REPLY SKIP ran: mute the next command. */
  skipNext: boolean;
  /** The current command's replies are dropped. */
  skipping: boolean;
}

const gates = new WeakMap<Client, ReplyGate>();

function syncMode(c: Client, g: ReplyGate): void {
  c.replyMode = g.off ? "off" : g.skipNext || g.skipping ? "skip" : "on";
  c.reply.muted = g.off || g.skipping;
}

function replyGate(c: Client): ReplyGate {
  const existing = gates.get(c);
  if (existing) return existing;
  const g: ReplyGate = { off: false, skipNext: false, skipping: false };
  const parser = c.parser;
  const next = parser.next.bind(parser);
  let last: string[] | null = null;
  // next() may recurse through the instance property: act once per returned command.
  parser.next = () => {
    const argv = next();
    if (argv !== null && argv.length > 0 && argv !== last) {
      last = argv;
      g.skipping = g.skipNext;
      g.skipNext = false;
      syncMode(c, g);
    }
    return argv;
  };
  gates.set(c, g);
  return g;
}

/** RESET's part: replies back on (a SKIP already muting RESET itself stays, as in Redis). */
export function resetClientReply(c: Client): void {
  const g = gates.get(c);
  if (g) {
    g.off = false;
    g.skipNext = false;
    syncMode(c, g);
  } else c.replyMode = "on";
}

function clientReply(c: Client, argv: string[]): void {
  const mode = argv[2];
  if (is(mode, "on")) {
    const g = gates.get(c);
    if (g) {
      g.off = false;
      g.skipNext = false;
      g.skipping = false;
      syncMode(c, g);
    }
    c.reply.ok();
  } else if (is(mode, "off")) {
    const g = replyGate(c);
    g.off = true;
    syncMode(c, g);
  } else if (is(mode, "skip")) {
    const g = replyGate(c);
    if (!g.off) g.skipNext = true;
    syncMode(c, g);
  } else {
    c.reply.error(ERR_SYNTAX);
  }
}

// ---- CLIENT LIST / INFO ----------------------------------------------------------------

type ClientType = "normal" | "master" | "slave" | "pubsub";

/** Redis's getClientTypeByName; null for an unknown name. */
function clientTypeByName(name: string): ClientType | null {
  const n = name.toLowerCase();
  if (n === "normal") return "normal";
  if (n === "slave" || n === "replica") return "slave";
  if (n === "pubsub") return "pubsub";
  if (n === "master") return "master";
  return null;
}

/** Redis's getClientType: a MONITOR client counts as normal. */
function clientType(c: Client): ClientType {
  return c.subscribed ? "pubsub" : "normal";
}

function clientFlags(c: Client): string {
  let f = "";
  if (c.monitor) f += "O";
  if (c.subscribed) f += "P";
  if (c.multiQueue !== null) f += "x";
  if (c.blocked) f += "b";
  if (c.closing) f += "c";
  if (c.noEvict) f += "e";
  return f || "N";
}

/** What the runtime exposes of the socket's descriptor (Bun does; Deno hides it). */
function socketFd(c: Client): number {
  if (!c.socket) return -1;
  const fd = (c.socket as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  // Without a real descriptor, a stable per-connection number in Redis's usual range.
  return typeof fd === "number" && fd >= 0 ? fd : 7 + c.id;
}

/** Redis allocates a 16 KiB reply buffer per client. */
const REPLY_BUFFER_BYTES = 16384;
/** Approximate fixed cost of a client (struct, query buffer header) for tot-mem. */
const CLIENT_FIXED_BYTES = 1928;

function argvBytes(argv: readonly string[]): number {
  let n = 0;
  for (const a of argv) n += a.length;
  return n;
}

/**
 * Redis 7.0's catClientInfoString. `current` is the running command of the client
 * asking (its argv and name), which Redis already counts as that client's last command.
 */
export function clientInfoString(
  c: Client,
  current?: { argv: string[]; name: string },
): string {
  const now = Date.now();
  const qbuf = c.queryBufferLength();
  const argvMem = current ? argvBytes(current.argv) : 0;
  let multiMem = 0;
  if (c.multiQueue) { for (const q of c.multiQueue) multiMem += argvBytes(q.argv); }
  const obl = c.reply.len;
  const rbs = Math.max(REPLY_BUFFER_BYTES, obl);
  const totMem = CLIENT_FIXED_BYTES + qbuf + argvMem + multiMem + rbs;
  return `id=${c.id} addr=${c.addr} laddr=${c.laddr} fd=${socketFd(c)} name=${c.name}` +
    ` age=${Math.floor((now - c.createdAt) / 1000)}` +
    ` idle=${Math.floor((now - c.lastInteraction) / 1000)} flags=${clientFlags(c)}` +
    ` db=${c.db.id} sub=${c.channels.size} psub=${c.patterns.size} ssub=${c.shardChannels.size}` +
    ` multi=${c.multiQueue ? c.multiQueue.length : -1} qbuf=${qbuf} qbuf-free=0` +
    ` argv-mem=${argvMem} multi-mem=${multiMem} rbs=${rbs} rbp=${rbs} obl=${obl} oll=0` +
    ` omem=0 tot-mem=${totMem} events=r cmd=${current ? current.name : c.lastCommand}` +
    ` user=default redir=-1 resp=${c.reply.resp}`;
}

function clientList(c: Client, argv: string[]): void {
  const self = { argv, name: "client|list" };
  const line = (x: Client) => clientInfoString(x, x === c ? self : undefined) + "\n";
  let out = "";
  if (argv.length === 4 && is(argv[2], "type")) {
    const type = clientTypeByName(argv[3]);
    if (type === null) {
      c.reply.error(`ERR Unknown client type '${argv[3]}'`);
      return;
    }
    for (const x of c.server.clients.values()) if (clientType(x) === type) out += line(x);
  } else if (argv.length > 3 && is(argv[2], "id")) {
    for (let j = 3; j < argv.length; j++) {
      const id = parseBigInt64(argv[j]);
      if (id === null) {
        c.reply.error("ERR Invalid client ID");
        return;
      }
      const x = c.server.clients.get(Number(id));
      if (x) out += line(x);
    }
  } else if (argv.length !== 2) {
    c.reply.error(ERR_SYNTAX);
    return;
  } else {
    for (const x of c.server.clients.values()) out += line(x);
  }
  c.reply.verbatim(out);
}

// ---- CLIENT KILL ---------------------------------------------------------------------

function clientKill(c: Client, argv: string[]): void {
  let addr: string | null = null;
  let laddr: string | null = null;
  let type: ClientType | null = null;
  let id = 0;
  let skipMe = true;
  if (argv.length === 3) {
    addr = argv[2];
    skipMe = false; // the old form may kill the caller itself
  } else if (argv.length > 3) {
    for (let i = 2; i < argv.length; i += 2) {
      const more = argv.length > i + 1;
      const opt = argv[i];
      const val = argv[i + 1];
      if (is(opt, "id") && more) {
        const n = parseBigInt64(val);
        if (n === null || n < 1n) {
          c.reply.error("ERR client-id should be greater than 0");
          return;
        }
        id = Number(n);
      } else if (is(opt, "type") && more) {
        type = clientTypeByName(val);
        if (type === null) {
          c.reply.error(`ERR Unknown client type '${val}'`);
          return;
        }
      } else if (is(opt, "addr") && more) {
        addr = val;
      } else if (is(opt, "laddr") && more) {
        laddr = val;
      } else if (is(opt, "user") && more) {
        if (val !== "default") {
          c.reply.error(`ERR No such user '${val}'`);
          return;
        }
      } else if (is(opt, "skipme") && more) {
        if (is(val, "yes")) skipMe = true;
        else if (is(val, "no")) skipMe = false;
        else {
          c.reply.error(ERR_SYNTAX);
          return;
        }
      } else {
        c.reply.error(ERR_SYNTAX);
        return;
      }
    }
  } else {
    c.reply.error(ERR_SYNTAX);
    return;
  }
  let killed = 0;
  let closeSelf = false;
  for (const x of [...c.server.clients.values()]) {
    if (addr !== null && x.addr !== addr) continue;
    if (laddr !== null && x.laddr !== laddr) continue;
    if (type !== null && clientType(x) !== type) continue;
    if (id !== 0 && x.id !== id) continue;
    if (x === c && skipMe) continue;
    if (x === c) closeSelf = true;
    else c.server.freeClient(x);
    killed++;
  }
  if (argv.length === 3) {
    if (killed === 0) c.reply.error("ERR No such client");
    else c.reply.ok();
  } else {
    c.reply.integer(killed);
  }
  if (closeSelf) c.server.closeAfterReply(c);
}

const CLIENT_HELP = [
  "CACHING (YES|NO)",
  "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
  "GETREDIR",
  "    Return the client ID we are redirecting to when tracking is enabled.",
  "GETNAME",
  "    Return the name of the current connection.",
  "ID",
  "    Return the ID of the current connection.",
  "INFO",
  "    Return information about the current client connection.",
  "KILL <ip:port>",
  "    Kill connection made from <ip:port>.",
  "KILL <option> <value> [<option> <value> [...]]",
  "    Kill connections. Options are:",
  "    * ADDR (<ip:port>|<unixsocket>:0)",
  "      Kill connections made from the specified address",
  "    * LADDR (<ip:port>|<unixsocket>:0)",
  "      Kill connections made to specified local address",
  "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
  "      Kill connections by type.",
  "    * USER <username>",
  "      Kill connections authenticated by <username>.",
  "    * SKIPME (YES|NO)",
  "      Skip killing current connection (default: yes).",
  "LIST [options ...]",
  "    Return information about client connections. Options:",
  "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
  "      Return clients of specified type.",
  "UNPAUSE",
  "    Stop the current client pause, resuming traffic.",
  "PAUSE <timeout> [WRITE|ALL]",
  "    Suspend all, or just write, clients for <timeout> milliseconds.",
  "REPLY (ON|OFF|SKIP)",
  "    Control the replies sent to the current connection.",
  "SETNAME <name>",
  "    Assign the name <name> to the current connection.",
  "UNBLOCK <clientid> [TIMEOUT|ERROR]",
  "    Unblock the specified blocked client.",
  "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
  "         [OPTIN] [OPTOUT] [NOLOOP]",
  "    Control server assisted client side caching.",
  "TRACKINGINFO",
  "    Report tracking status for the current connection.",
  "NO-EVICT (ON|OFF)",
  "    Protect current client connection from eviction.",
];

export const clientCommands: HandlerMap = {
  "client|id"(c) {
    c.reply.integer(c.id);
  },
  "client|setname"(c, argv) {
    if (clientSetNameOrReply(c, argv[2])) c.reply.ok();
  },
  "client|getname"(c) {
    c.reply.bulkOrNull(c.name === "" ? null : c.name);
  },
  "client|list": clientList,
  "client|info"(c, argv) {
    c.reply.verbatim(clientInfoString(c, { argv, name: "client|info" }) + "\n");
  },
  "client|kill": clientKill,
  "client|no-evict"(c, argv) {
    if (is(argv[2], "on")) c.noEvict = true;
    else if (is(argv[2], "off")) c.noEvict = false;
    else {
      c.reply.error(ERR_SYNTAX);
      return;
    }
    c.reply.ok();
  },
  "client|reply": clientReply,
  "client|unblock"(c, argv) {
    if (argv.length > 4) {
      subcommandSyntaxError(c, argv);
      return;
    }
    const id = intArg(c, argv[2]);
    if (id === null) return;
    let error = false;
    if (argv.length === 4) {
      if (is(argv[3], "error")) error = true;
      else if (!is(argv[3], "timeout")) {
        c.reply.error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
        return;
      }
    }
    const target = c.server.clients.get(id);
    c.reply.integer(target !== undefined && unblockClientByRequest(target, error) ? 1 : 0);
  },
  "client|help"(c, argv) {
    replyHelp(c, argv[0], CLIENT_HELP);
  },
};
