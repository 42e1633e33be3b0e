/**
 * Keyspace notifications (Redis 7.0.15 notify.c): turns the server's keyspace events
 * (`server.notify(cls, event, key, db)`) into Pub/Sub messages on
 * `__keyspace@<db>__:<key>` (message: the event) and `__keyevent@<db>__:<event>`
 * (message: the key), as selected by `notify-keyspace-events`.
 *
 * Delivery is Pub/Sub's (commands/pubsub.ts passes its publish function in), so this
 * module stays free of subscriber bookkeeping.
 */
import type { Server } from "../server/server.ts";
import { NOTIFY } from "../config.ts";

/** The class letter the server passes -> its notify-keyspace-events bit. */
const CLASS_BITS: Record<string, number> = {
  g: NOTIFY.GENERIC,
  $: NOTIFY.STRING,
  l: NOTIFY.LIST,
  s: NOTIFY.SET,
  h: NOTIFY.HASH,
  z: NOTIFY.ZSET,
  x: NOTIFY.EXPIRED,
  e: NOTIFY.EVICTED,
  t: NOTIFY.STREAM,
  m: NOTIFY.KEY_MISS,
  d: NOTIFY.MODULE,
  n: NOTIFY.NEW,
};

/** Publishes `message` on the (non-shard) `channel`; returns the receiver count. */
export type Publisher = (channel: string, message: string) => number;

const installed = new WeakSet<Server>();

/**
 * Registers the notification listener on `server`. `hasSubscribers` lets events cost
 * nothing while nobody listens (the usual case): the channel names are not even built.
 */
export function installNotify(
  server: Server,
  publish: Publisher,
  hasSubscribers: () => boolean,
): void {
  if (installed.has(server)) return;
  installed.add(server);
  const config = server.config;
  server.onNotify((cls, event, key, db) => {
    const flags = config.notifyFlags();
    if ((flags & (CLASS_BITS[cls] ?? 0)) === 0 || !hasSubscribers()) return;
    if (flags & NOTIFY.KEYSPACE) publish(`__keyspace@${db}__:${key}`, event);
    if (flags & NOTIFY.KEYEVENT) publish(`__keyevent@${db}__:${event}`, key);
  });
}
