/**
 * Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH (Redis 7.0.15 multi.c).
 *
 * Queueing itself happens in the server (`processCommand` queues while `c.multiQueue`
 * is set and flags `c.multiDirty` when it rejects a queued command); WATCH state lives
 * in src/keyspace/watch.ts. EXEC runs the queue through `server.call`, so stats,
 * MONITOR and propagation see each command; the server wraps the writes of one EXEC in
 * MULTI/EXEC for the feed (its propagatePendingCommands), EXEC itself is never
 * propagated.
 *
 * While EXEC runs, `c.multiQueue` stays set, as Redis keeps CLIENT_MULTI until the end:
 * CLIENT LIST shows `flags=x multi=N`, and handlers read `c.multiQueue !== null` as
 * Redis's CLIENT_DENY_BLOCKING (blocking commands do not block, SSUBSCRIBE is refused).
 */
import type { HandlerMap } from "./registry.ts";
import type { Client } from "../server/client.ts";
import type { Server } from "../server/server.ts";
import { onClientReset } from "./connection.ts";
import {
  clearDirtyCas,
  installWatch,
  isDirtyCas,
  unwatchAll,
  watchedKeyExpired,
  watchKeys,
} from "../keyspace/watch.ts";

/** Redis's discardTransaction: the queue, both dirty flags and the watches go. */
export function discardTransaction(c: Client): void {
  c.multiQueue = null;
  c.multiDirty = false;
  clearDirtyCas(c);
  unwatchAll(c);
}

// RESET (clearClientConnectionState) discards the transaction, watches included.
onClientReset(discardTransaction);

/**
 * Registers the hooks transactions need (WATCH invalidation, client cleanup, the
 * EXECABORT of a rejected EXEC). Idempotent; MULTI and WATCH also call it lazily.
 */
export function installTransactions(server: Server): void {
  if (server.execAbortHook === discardTransaction) return;
  server.execAbortHook = discardTransaction;
  installWatch(server);
}

function multi(c: Client): void {
  installTransactions(c.server);
  if (c.multiQueue !== null) {
    c.reply.error("ERR MULTI calls can not be nested");
    return;
  }
  c.multiQueue = [];
  c.reply.ok();
}

function discard(c: Client): void {
  if (c.multiQueue === null) {
    c.reply.error("ERR DISCARD without MULTI");
    return;
  }
  discardTransaction(c);
  c.reply.ok();
}

function exec(c: Client): void {
  const queue = c.multiQueue;
  if (queue === null) {
    c.reply.error("ERR EXEC without MULTI");
    return;
  }
  const server = c.server;
  // EXEC with a watched key that expired meanwhile is refused, as a touched one
  // (watchedKeyExpired runs first: it may also settle changes that flag the client).
  const cas = watchedKeyExpired(c) || isDirtyCas(c);
  if (c.multiDirty || cas) {
    if (c.multiDirty) c.reply.error("EXECABORT Transaction discarded because of previous errors.");
    else c.reply.nullArray();
    discardTransaction(c);
    return;
  }
  unwatchAll(c);
  // The queued commands propagate themselves; EXEC never does (Redis's call() skips it).
  server.preventPropagation();
  const errorsBefore = c.reply.errorCount;
  c.reply.array(queue.length);
  for (let i = 0; i < queue.length; i++) server.call(c, queue[i].cmd, queue[i].argv);
  // Redis counts a failed call for EXEC only when EXEC itself replied an error, not for
  // errors of the commands it ran; call() would count those, so compensate before it does.
  if (c.reply.errorCount !== errorsBefore) {
    const self = server.commands.get("exec");
    if (self) self.failedCalls--;
  }
  discardTransaction(c);
}

function watch(c: Client, argv: string[]): void {
  installTransactions(c.server);
  if (c.multiQueue !== null) {
    c.reply.error("ERR WATCH inside MULTI is not allowed");
    return;
  }
  // No point in watching once a watched key has changed: EXEC will fail anyway.
  if (!isDirtyCas(c)) watchKeys(c, argv.slice(1));
  c.reply.ok();
}

function unwatch(c: Client): void {
  unwatchAll(c);
  clearDirtyCas(c);
  c.reply.ok();
}

export const transactionCommands: HandlerMap = {
  multi,
  exec,
  discard,
  watch,
  unwatch,
};
