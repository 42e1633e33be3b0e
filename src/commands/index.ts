/**
 * The full command table: every family's handlers, merged with Redis's metadata.
 */
import { buildCommandTable, type Command } from "./registry.ts";
import { connectionCommands } from "./connection.ts";
import { stringCommands } from "./strings.ts";
import { keyCommands } from "./keys.ts";
import { expiryCommands } from "./expiry.ts";
import { serverCommands } from "./server.ts";
import { infoCommands } from "./info.ts";
import { clientCommands } from "./client.ts";
import { commandCommands } from "./command.ts";
import { configCommands } from "./config.ts";
import { hashCommands } from "./hashes.ts";
import { setCommands } from "./sets.ts";
import { zsetCommands } from "./zsets.ts";
import { listCommands } from "./lists.ts";
import { installTransactions, transactionCommands } from "./transactions.ts";
import { installPubSub, pubsubCommands } from "./pubsub.ts";
import type { Server } from "../server/server.ts";
import { installBlocking } from "../server/blocking.ts";
import { sortCommands } from "./sort.ts";
import { dumpCommands } from "./dump.ts";
import { persistenceCommands } from "./persistence.ts";
import { installRdb } from "../persistence/rdb_persistence.ts";
import { installAof } from "../persistence/aof/aof_persistence.ts";

/** Builds a fresh command table (each server has its own, for per-command stats). */
export function commandTable(): Map<string, Command> {
  return buildCommandTable(
    connectionCommands,
    stringCommands,
    keyCommands,
    expiryCommands,
    serverCommands,
    infoCommands,
    clientCommands,
    commandCommands,
    configCommands,
    hashCommands,
    setCommands,
    zsetCommands,
    listCommands,
    transactionCommands,
    pubsubCommands,
    sortCommands,
    dumpCommands,
    persistenceCommands,
  );
}

/**
 * Registers the families' server hooks (WATCH invalidation, keyspace notifications,
 * blocked-client service) at start-up, so they work before their first command.
 */
export function installFamilies(server: Server): void {
  installTransactions(server);
  installPubSub(server);
  installBlocking(server);
  installRdb(server);
  installAof(server);
}
