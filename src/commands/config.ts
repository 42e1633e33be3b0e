/**
 * CONFIG GET / SET / RESETSTAT / REWRITE / HELP: thin wrappers over the pure functions
 * of src/config.ts, which own the parameter table, validation and the rewrite itself.
 */
import type { Command, HandlerMap } from "./registry.ts";
import type { Client } from "../server/client.ts";
import type { Server } from "../server/server.ts";
import {
  allowProtectedAction,
  ConfigError,
  configGet,
  configRewrite,
  configSet,
} from "../config.ts";
import { ERR_SYNTAX, replyHelp } from "./common.ts";

/** Redis's islocalClient: loopback peers (and in-process clients). */
function isLocalClient(c: Client): boolean {
  if (!c.socket) return true;
  const host = c.addr.slice(0, c.addr.lastIndexOf(":"));
  return host.startsWith("127.") || host === "::1";
}

/** CONFIG RESETSTAT: Redis's resetServerStats + resetCommandTableStats + errors. */
export function resetStats(server: Server): void {
  const stats = server.stats as unknown as Record<string, unknown>;
  for (const [k, v] of Object.entries(stats)) {
    if (typeof v === "number") stats[k] = 0;
    else if (v instanceof Map) v.clear();
  }
  const reset = (cmd: Command) => {
    cmd.calls = 0;
    cmd.usec = 0;
    cmd.rejectedCalls = 0;
    cmd.failedCalls = 0;
    if (cmd.subcommands) { for (const sub of cmd.subcommands.values()) reset(sub); }
  };
  for (const cmd of server.commands.values()) reset(cmd);
}

const CONFIG_HELP = [
  "GET <pattern>",
  "    Return parameters matching the glob-like <pattern> and their values.",
  "SET <directive> <value>",
  "    Set the configuration <directive> to <value>.",
  "RESETSTAT",
  "    Reset statistics reported by the INFO command.",
  "REWRITE",
  "    Rewrite the configuration file.",
];

export const configCommands: HandlerMap = {
  "config|get"(c, argv) {
    const pairs = configGet(c.server.config, argv.slice(2));
    c.reply.map(pairs.length);
    for (const [k, v] of pairs) {
      c.reply.bulk(k);
      c.reply.bulk(v);
    }
  },
  "config|set"(c, argv) {
    if (argv.length % 2 !== 0) {
      c.reply.error(ERR_SYNTAX);
      return;
    }
    const pairs: [string, string][] = [];
    for (let i = 2; i < argv.length; i += 2) pairs.push([argv[i], argv[i + 1]]);
    const allowProtected = allowProtectedAction(
      c.server.config.get("enable-protected-configs"),
      isLocalClient(c),
    );
    try {
      configSet(c.server.config, pairs, { allowProtected, loading: c.server.loading !== null });
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      c.reply.error(e.message);
      return;
    }
    c.reply.ok();
  },
  "config|resetstat"(c) {
    resetStats(c.server);
    c.reply.ok();
  },
  "config|rewrite"(c) {
    try {
      configRewrite(c.server.config, c.server.configFile);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      if (c.server.configFile) c.server.logger.warning(`CONFIG-REWRITE failed: ${e.message}`);
      c.reply.error(e.message);
      return;
    }
    c.server.logger.notice("CONFIG REWRITE executed with success.");
    c.reply.ok();
  },
  "config|help"(c, argv) {
    replyHelp(c, argv[0], CONFIG_HELP);
  },
};
