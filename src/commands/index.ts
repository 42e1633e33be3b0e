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
  );
}
