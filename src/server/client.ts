/**
 * One connected client: its socket, request parser, pending replies and per-connection
 * state (selected db, protocol version, name, auth, MULTI queue, flags).
 *
 * The client owns framing only; running commands is the server's job (`Server.call`).
 * Replies accumulate in `reply` during an event-loop turn and leave in one write.
 */
import type { Socket } from "node:net";
import type { Buffer } from "node:buffer";
import { RequestParser } from "./resp.ts";
import type { StreamIo } from "./stream_io.ts";
import { ReplyBuffer } from "./reply.ts";
import type { Database } from "../keyspace/db.ts";
import type { Server } from "./server.ts";
import type { Command } from "../commands/registry.ts";

/** CLIENT REPLY modes. */
export type ReplyMode = "on" | "off" | "skip";

export class Client {
  readonly id: number;
  readonly parser: RequestParser;
  readonly reply = new ReplyBuffer();
  db: Database;
  name = "";
  authenticated: boolean;
  /** Unix ms when the connection was accepted. */
  readonly createdAt = Date.now();
  /** Unix ms of the last command (for `timeout` and CLIENT LIST idle). */
  lastInteraction = Date.now();
  lastCommand = "NULL";
  replyMode: ReplyMode = "on";
  /** Set once the connection is being closed (after QUIT, a protocol error, KILL). */
  closing = false;
  /** Blocked in BLPOP & co: input is not processed until unblocked. */
  blocked = false;
  /** CLIENT NO-EVICT */
  noEvict = false;
  /** MONITOR client: receives every command, serves no other. */
  monitor = false;
  /** Library name/version from CLIENT SETINFO (7.2) are not in 7.0; kept out. */
  readonly addr: string;
  readonly laddr: string;
  /** Commands executed (for CLIENT INFO `tot-cmds`-like stats; not in 7.0 output). */
  commandsProcessed = 0;
  /** MULTI state: queued commands, or null when not in a transaction. */
  multiQueue: { cmd: Command; argv: string[] }[] | null = null;
  /** A queued command was rejected: EXEC must answer EXECABORT. */
  multiDirty = false;
  /** Pub/Sub subscriptions (channel and pattern names). */
  readonly channels = new Set<string>();
  readonly patterns = new Set<string>();
  /** SSUBSCRIBE shard channels (Redis 7.0 keeps them apart from `channels`). */
  readonly shardChannels = new Set<string>();

  constructor(
    readonly server: Server,
    readonly socket: Socket | null,
    id: number,
  ) {
    this.id = id;
    this.db = server.dbs[0];
    this.authenticated = !server.requiresAuth();
    this.parser = new RequestParser({
      maxBulkLen: server.config.getMemory("proto-max-bulk-len"),
      authenticated: () => this.authenticated,
    });
    this.addr = socket
      ? `${socket.remoteAddress}:${socket.remotePort}`.replace(/^::ffff:/, "")
      : "";
    this.laddr = socket ? `${socket.localAddress}:${socket.localPort}`.replace(/^::ffff:/, "") : "";
  }

  get dbIndex(): number {
    return this.db.id;
  }

  /**
   * True while subscribed to any channel, pattern or shard channel (RESP2 restricts
   * commands then): Redis 7.0.15 keeps CLIENT_PUBSUB until all three are empty.
   */
  get subscribed(): boolean {
    return this.channels.size + this.patterns.size + this.shardChannels.size > 0;
  }

  /** The connection's reads and writes on its handle (stream_io.ts), or null for node:net's. */
  io: StreamIo | null = null;
  /** The connection is being closed once its output is written: nothing more is sent. */
  private ending = false;

  /** Sends what is pending. Called once per event-loop turn per client. */
  flush(): void {
    if (this.reply.len === 0 || !this.socket || this.ending) return;
    if (this.io !== null) {
      // Written from the reply buffer itself; a write left pending keeps it (disown).
      if (this.io.write(this.reply.lend())) this.reply.disown();
      return;
    }
    const bytes = this.reply.detach();
    if (!this.socket.destroyed) this.socket.write(bytes);
  }

  /**
   * Closes the connection once everything sent so far is written (Redis's
   * CLIENT_CLOSE_AFTER_REPLY), then calls `done`. Closing at once would drop the tail of
   * a large reply still waiting in the socket's buffer.
   */
  endConnection(done: () => void): void {
    if (this.ending) return;
    this.ending = true;
    const s = this.socket;
    if (s === null || s.destroyed) done();
    else if (this.io !== null) this.io.end(done);
    else s.end(done);
  }

  /** Bytes received but not yet parsed. */
  queryBufferLength(): number {
    return this.parser.pending();
  }

  feed(chunk: Buffer): void {
    this.parser.feed(chunk);
  }
}
