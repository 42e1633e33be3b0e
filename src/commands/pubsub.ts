/**
 * Pub/Sub: SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, PUBLISH, SSUBSCRIBE,
 * SUNSUBSCRIBE, SPUBLISH and PUBSUB CHANNELS/NUMSUB/NUMPAT/SHARDCHANNELS/SHARDNUMSUB/HELP
 * (Redis 7.0.15 pubsub.c, non-cluster), plus the delivery keyspace notifications use.
 *
 * Each client keeps its own subscriptions (`c.channels`, `c.patterns`,
 * `c.shardChannels`); the server-wide maps (name -> subscribers, in subscription order)
 * live here, one set per server. Messages go into the receivers' reply buffers: as
 * arrays in RESP2, as push messages in RESP3, in the middle of whatever else the
 * receiver gets, exactly where Redis 7.0 puts them.
 *
 * Order notes: UNSUBSCRIBE with no argument walks the client's channels in hash order
 * in Redis (random per process); Amber uses subscription order. PUNSUBSCRIBE walks
 * patterns in subscription order in both. A message matching several patterns is
 * delivered per pattern in Redis's hash order there, subscription order here.
 */
import type { HandlerMap } from "./registry.ts";
import type { Client } from "../server/client.ts";
import type { Server } from "../server/server.ts";
import { replyHelp, subcommandSyntaxError } from "./common.ts";
import { onClientReset } from "./connection.ts";
import { stringMatch } from "../util/glob.ts";
import { installNotify } from "../keyspace/notify.ts";

class PubSubState {
  readonly channels = new Map<string, Set<Client>>();
  readonly shardChannels = new Map<string, Set<Client>>();
  readonly patterns = new Map<string, Set<Client>>();
}

const states = new WeakMap<Server, PubSubState>();

/**
 * Registers what Pub/Sub needs on `server`: client cleanup on disconnect and the
 * keyspace-notification listener. Idempotent; the commands also call it lazily.
 */
export function installPubSub(server: Server): void {
  if (states.has(server)) return;
  const st = new PubSubState();
  states.set(server, st);
  server.onClientFreed((c) => unsubscribeEverything(st, c));
  installNotify(
    server,
    (channel, message) => publish(st, channel, message, false),
    () => st.channels.size !== 0 || st.patterns.size !== 0,
  );
}

function stateOf(server: Server): PubSubState {
  let st = states.get(server);
  if (!st) {
    installPubSub(server);
    st = states.get(server)!;
  }
  return st;
}

// RESET (clearClientConnectionState) drops every subscription without replies.
onClientReset((c) => {
  const st = states.get(c.server);
  if (st) unsubscribeEverything(st, c);
});

function unsubscribeEverything(st: PubSubState, c: Client): void {
  for (const ch of c.channels) removeSubscriber(st.channels, ch, c);
  for (const ch of c.shardChannels) removeSubscriber(st.shardChannels, ch, c);
  for (const p of c.patterns) removeSubscriber(st.patterns, p, c);
  c.channels.clear();
  c.shardChannels.clear();
  c.patterns.clear();
}

function addSubscriber(map: Map<string, Set<Client>>, name: string, c: Client): void {
  const subs = map.get(name);
  if (subs) subs.add(c);
  else map.set(name, new Set([c]));
}

function removeSubscriber(map: Map<string, Set<Client>>, name: string, c: Client): void {
  const subs = map.get(name);
  if (!subs) return;
  subs.delete(c);
  // Channels nobody listens to are dropped, so PUBSUB CHANNELS never lists them.
  if (subs.size === 0) map.delete(name);
}

// ---- delivery -------------------------------------------------------------------------

function bulk(s: string): string {
  return "$" + s.length + "\r\n" + s + "\r\n";
}

const MESSAGE = bulk("message");
const SMESSAGE = bulk("smessage");
const PMESSAGE = bulk("pmessage");

/** Appends a push of `n` elements (already encoded in `body`) to `t`'s replies. */
function deliver(t: Client, n: number, body: string): void {
  // Pushes reach the client even under CLIENT REPLY OFF/SKIP (Redis's CLIENT_PUSHING).
  const r = t.reply;
  const muted = r.muted;
  r.muted = false;
  r.raw((r.resp === 3 ? ">" : "*") + n + "\r\n" + body);
  r.muted = muted;
  t.server.scheduleFlush(t);
}

/** Redis's pubsubPublishMessage: channel subscribers, then matching patterns. */
function publish(st: PubSubState, channel: string, message: string, shard: boolean): number {
  let receivers = 0;
  const subs = (shard ? st.shardChannels : st.channels).get(channel);
  if (subs !== undefined) {
    const body = (shard ? SMESSAGE : MESSAGE) + bulk(channel) + bulk(message);
    for (const t of subs) {
      deliver(t, 3, body);
      receivers++;
    }
  }
  // Shard channels ignore patterns.
  if (shard || st.patterns.size === 0) return receivers;
  let tail: string | null = null;
  for (const [pattern, clients] of st.patterns) {
    // No `*` fast path: like Redis, `*` does not match the empty channel name.
    if (!stringMatch(pattern, channel)) continue;
    tail ??= bulk(channel) + bulk(message);
    const body = PMESSAGE + bulk(pattern) + tail;
    for (const t of clients) {
      deliver(t, 4, body);
      receivers++;
    }
  }
  return receivers;
}

// ---- subscription replies ---------------------------------------------------------------

/** Channels + patterns: the count SUBSCRIBE/PSUBSCRIBE & co report. */
function globalCount(c: Client): number {
  return c.channels.size + c.patterns.size;
}

function confirm(c: Client, kind: string, name: string | null, count: number): void {
  const r = c.reply;
  const muted = r.muted;
  r.muted = false;
  r.push(3);
  r.bulk(kind);
  if (name === null) r.null();
  else r.bulk(name);
  r.integer(count);
  r.muted = muted;
}

// ---- commands -----------------------------------------------------------------------------

function subscribe(c: Client, argv: string[]): void {
  const st = stateOf(c.server);
  for (let j = 1; j < argv.length; j++) {
    const ch = argv[j];
    if (!c.channels.has(ch)) {
      c.channels.add(ch);
      addSubscriber(st.channels, ch, c);
    }
    confirm(c, "subscribe", ch, globalCount(c));
  }
}

function unsubscribe(c: Client, argv: string[]): void {
  const st = stateOf(c.server);
  const names = argv.length > 1 ? argv.slice(1) : [...c.channels];
  for (const ch of names) {
    if (c.channels.delete(ch)) removeSubscriber(st.channels, ch, c);
    confirm(c, "unsubscribe", ch, globalCount(c));
  }
  // Nothing to unsubscribe from still gets one reply.
  if (names.length === 0) confirm(c, "unsubscribe", null, globalCount(c));
}

function psubscribe(c: Client, argv: string[]): void {
  const st = stateOf(c.server);
  for (let j = 1; j < argv.length; j++) {
    const p = argv[j];
    if (!c.patterns.has(p)) {
      c.patterns.add(p);
      addSubscriber(st.patterns, p, c);
    }
    confirm(c, "psubscribe", p, globalCount(c));
  }
}

function punsubscribe(c: Client, argv: string[]): void {
  const st = stateOf(c.server);
  const names = argv.length > 1 ? argv.slice(1) : [...c.patterns];
  for (const p of names) {
    if (c.patterns.delete(p)) removeSubscriber(st.patterns, p, c);
    confirm(c, "punsubscribe", p, globalCount(c));
  }
  if (names.length === 0) confirm(c, "punsubscribe", null, globalCount(c));
}

function ssubscribe(c: Client, argv: string[]): void {
  // Inside EXEC (CLIENT_DENY_BLOCKING); unlike SUBSCRIBE it has no MULTI exception.
  if (c.multiQueue !== null) {
    c.reply.error("ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client");
    return;
  }
  const st = stateOf(c.server);
  for (let j = 1; j < argv.length; j++) {
    const ch = argv[j];
    if (!c.shardChannels.has(ch)) {
      c.shardChannels.add(ch);
      addSubscriber(st.shardChannels, ch, c);
    }
    confirm(c, "ssubscribe", ch, c.shardChannels.size);
  }
}

function sunsubscribe(c: Client, argv: string[]): void {
  const st = stateOf(c.server);
  const names = argv.length > 1 ? argv.slice(1) : [...c.shardChannels];
  for (const ch of names) {
    if (c.shardChannels.delete(ch)) removeSubscriber(st.shardChannels, ch, c);
    confirm(c, "sunsubscribe", ch, c.shardChannels.size);
  }
  if (names.length === 0) confirm(c, "sunsubscribe", null, c.shardChannels.size);
}

function publishCommand(c: Client, argv: string[]): void {
  c.reply.integer(publish(stateOf(c.server), argv[1], argv[2], false));
}

function spublish(c: Client, argv: string[]): void {
  c.reply.integer(publish(stateOf(c.server), argv[1], argv[2], true));
}

/** Redis's channelList: every channel, or those matching `pattern`. */
function channelList(c: Client, map: Map<string, Set<Client>>, pattern: string | null): void {
  const out: string[] = [];
  for (const ch of map.keys()) {
    if (pattern === null || stringMatch(pattern, ch)) out.push(ch);
  }
  c.reply.bulkArray(out);
}

function numsub(c: Client, argv: string[], map: Map<string, Set<Client>>): void {
  c.reply.array((argv.length - 2) * 2);
  for (let j = 2; j < argv.length; j++) {
    c.reply.bulk(argv[j]);
    c.reply.integer(map.get(argv[j])?.size ?? 0);
  }
}

const PUBSUB_HELP = [
  "CHANNELS [<pattern>]",
  "    Return the currently active channels matching a <pattern> (default: '*').",
  "NUMPAT",
  "    Return number of subscriptions to patterns.",
  "NUMSUB [<channel> ...]",
  "    Return the number of subscribers for the specified channels, excluding",
  "    pattern subscriptions(default: no channels).",
  "SHARDCHANNELS [<pattern>]",
  "    Return the currently active shard level channels matching a <pattern> (default: '*').",
  "SHARDNUMSUB [<shardchannel> ...]",
  "    Return the number of subscribers for the specified shard level channel(s)",
];

export const pubsubCommands: HandlerMap = {
  subscribe,
  unsubscribe,
  psubscribe,
  punsubscribe,
  ssubscribe,
  sunsubscribe,
  publish: publishCommand,
  spublish,
  "pubsub|channels"(c, argv) {
    if (argv.length > 3) return subcommandSyntaxError(c, argv);
    channelList(c, stateOf(c.server).channels, argv.length === 3 ? argv[2] : null);
  },
  "pubsub|shardchannels"(c, argv) {
    if (argv.length > 3) return subcommandSyntaxError(c, argv);
    channelList(c, stateOf(c.server).shardChannels, argv.length === 3 ? argv[2] : null);
  },
  "pubsub|numsub"(c, argv) {
    numsub(c, argv, stateOf(c.server).channels);
  },
  "pubsub|shardnumsub"(c, argv) {
    numsub(c, argv, stateOf(c.server).shardChannels);
  },
  "pubsub|numpat"(c) {
    c.reply.integer(stateOf(c.server).patterns.size);
  },
  "pubsub|help"(c, argv) {
    replyHelp(c, argv[0], PUBSUB_HELP);
  },
};

/** Server-wide counts for INFO (`pubsub_channels`, `pubsub_patterns`, `pubsubshard_channels`). */
export function pubsubCounts(
  server: Server,
): { channels: number; patterns: number; shardChannels: number } {
  const st = states.get(server);
  return {
    channels: st?.channels.size ?? 0,
    patterns: st?.patterns.size ?? 0,
    shardChannels: st?.shardChannels.size ?? 0,
  };
}
