/**
 * Connection commands: PING, ECHO, QUIT, SELECT, AUTH, HELLO, RESET.
 *
 * Amber has Redis's "default" user only (no ACL): it is `nopass` unless `requirepass`
 * is set, so AUTH/HELLO AUTH accept any password for "default" when none is configured
 * and exactly `requirepass` otherwise, like Redis 7.0 with an untouched ACL.
 */
import type { HandlerMap } from "./registry.ts";
import type { Client } from "../server/client.ts";
import { ERR_DB_INDEX, ERR_SYNTAX, intArg, parseBigInt64 } from "./common.ts";
import { clientSetNameOrReply, resetClientReply } from "./client.ts";
import { REDIS_VERSION } from "../version.ts";

const ERR_WRONGPASS = "WRONGPASS invalid username-password pair or user is disabled.";

/**
 * Per-connection state owned by other families (WATCH, Pub/Sub, tracking) that RESET
 * must clear: they register a hook here, since RESET cannot know their internals.
 */
const resetHooks: ((c: Client) => void)[] = [];

/** Registers `f` to run when a client sends RESET (Redis's clearClientConnectionState). */
export function onClientReset(f: (c: Client) => void): void {
  resetHooks.push(f);
}

/** Compares without an early exit, so the time taken says nothing about the password. */
function sameSecret(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i % (b.length || 1));
  return diff === 0;
}

/** Redis's ACLAuthenticateUser for the default user; sets `c.authenticated` on success. */
export function authenticate(c: Client, username: string, password: string): boolean {
  if (username !== "default") return false;
  const pass = c.server.config.get("requirepass");
  if (pass !== "" && !sameSecret(password, pass)) return false;
  c.authenticated = true;
  return true;
}

function ping(c: Client, argv: string[]): void {
  if (argv.length > 2) {
    c.reply.error("ERR wrong number of arguments for 'ping' command");
    return;
  }
  if (c.subscribed && c.reply.resp === 2) {
    c.reply.array(2);
    c.reply.bulk("pong");
    c.reply.bulk(argv.length === 2 ? argv[1] : "");
    return;
  }
  if (argv.length === 2) c.reply.bulk(argv[1]);
  else c.reply.simple("PONG");
}

function auth(c: Client, argv: string[]): void {
  if (argv.length > 3) {
    c.reply.error(ERR_SYNTAX);
    return;
  }
  let username = "default";
  let password = argv[1];
  if (argv.length === 2) {
    // The two-argument form errs when the default user has no password, as Redis does.
    if (!c.server.requiresAuth()) {
      c.reply.error(
        "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
      );
      return;
    }
  } else {
    username = argv[1];
    password = argv[2];
  }
  if (authenticate(c, username, password)) c.reply.ok();
  else c.reply.error(ERR_WRONGPASS);
}

function hello(c: Client, argv: string[]): void {
  let ver = 0;
  let next = 1;
  if (argv.length >= 2) {
    const v = parseBigInt64(argv[next++]);
    if (v === null) {
      c.reply.error("ERR Protocol version is not an integer or out of range");
      return;
    }
    if (v < 2n || v > 3n) {
      c.reply.error("NOPROTO unsupported protocol version");
      return;
    }
    ver = Number(v);
  }
  let username: string | null = null;
  let password = "";
  let clientName: string | null = null;
  for (let j = next; j < argv.length; j++) {
    const more = argv.length - 1 - j;
    const opt = argv[j];
    if (opt.toLowerCase() === "auth" && more >= 2) {
      username = argv[j + 1];
      password = argv[j + 2];
      j += 2;
    } else if (opt.toLowerCase() === "setname" && more >= 1) {
      clientName = argv[j + 1];
      j++;
    } else {
      c.reply.error(`ERR Syntax error in HELLO option '${opt}'`);
      return;
    }
  }
  if (username !== null && !authenticate(c, username, password)) {
    c.reply.error(ERR_WRONGPASS);
    return;
  }
  if (!c.authenticated) {
    c.reply.error(
      "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time",
    );
    return;
  }
  if (clientName !== null && !clientSetNameOrReply(c, clientName)) return;
  if (ver) c.reply.resp = ver;
  c.reply.map(7);
  c.reply.bulk("server");
  c.reply.bulk("redis");
  c.reply.bulk("version");
  c.reply.bulk(REDIS_VERSION);
  c.reply.bulk("proto");
  c.reply.integer(c.reply.resp);
  c.reply.bulk("id");
  c.reply.integer(c.id);
  c.reply.bulk("mode");
  c.reply.bulk("standalone");
  c.reply.bulk("role");
  c.reply.bulk("master");
  c.reply.bulk("modules");
  c.reply.array(0);
}

/** Redis 7.0's clearClientConnectionState. */
function reset(c: Client): void {
  if (c.monitor) {
    c.server.monitors.delete(c);
    c.monitor = false;
  }
  c.db = c.server.dbs[0];
  c.reply.resp = 2;
  c.authenticated = !c.server.requiresAuth();
  c.multiQueue = null;
  c.multiDirty = false;
  for (const h of resetHooks) h(c);
  // Families without a hook (or none registered yet) still leave no subscription behind.
  c.channels.clear();
  c.patterns.clear();
  c.name = "";
  c.noEvict = false;
  resetClientReply(c);
  c.reply.simple("RESET");
}

export const connectionCommands: HandlerMap = {
  ping,
  echo(c, argv) {
    c.reply.bulk(argv[1]);
  },
  quit(c) {
    c.reply.ok();
    c.server.closeAfterReply(c);
  },
  select(c, argv) {
    const id = intArg(c, argv[1], "ERR value is not an integer or out of range");
    if (id === null) return;
    if (id < 0 || id >= c.server.dbs.length) {
      c.reply.error(ERR_DB_INDEX);
      return;
    }
    c.db = c.server.dbs[id];
    c.reply.ok();
  },
  auth,
  hello,
  reset,
};
