/**
 * The server: listening sockets, connected clients, the databases, and the loop that
 * turns requests into command calls (Redis's networking.c + the `processCommand` /
 * `call` part of server.c).
 *
 * One event-loop turn: each readable socket is parsed and its commands run to
 * completion, one at a time; clients with replies are remembered, and a single
 * `beforeSleep` (scheduled with setImmediate, i.e. after the I/O phase) lets
 * persistence flush what the turn wrote and then writes every client's replies in one
 * socket write each. That ordering is what lets `appendfsync always` sync before any
 * reply of the turn is sent.
 *
 * Writes reach persistence through one seam, the propagation feed: after a command
 * that changed the dataset, the ops it produced (its own argv or a canonical rewrite,
 * plus DELs for keys that expired meanwhile) are handed to every feed listener.
 */
import { createServer, type Server as NetServer, type Socket } from "node:net";
import { setImmediate } from "node:timers";
import type { Buffer } from "node:buffer";
import { Client } from "./client.ts";
import { attachStreamIo } from "./stream_io.ts";
import { ProtocolError } from "./resp.ts";
import { Database, type DatabaseMaps, type KeyspaceHooks, updateLruClock } from "../keyspace/db.ts";
import { type Config, NOTIFY, reprString } from "../config.ts";
import type { Logger } from "../log.ts";
import { type Command, lookupCommand } from "../commands/registry.ts";
import { activeExpireCycle } from "../keyspace/expire.ts";
import { CursorTable } from "../keyspace/scan.ts";

/** A load in progress, for INFO's loading_* fields. */
export interface LoadingState {
  /** Unix seconds. */
  startTime: number;
  totalBytes: number;
  loadedBytes: number;
  /** The `used-mem` AUX field of the RDB being loaded, when known. */
  rdbUsedMem: number;
}

/** One write to hand to persistence: run `argv` in database `db`. */
export interface PropagatedOp {
  db: number;
  argv: string[];
}

/** A listener on the propagation feed (the AOF today, replicas tomorrow). */
export type FeedListener = (ops: PropagatedOp[]) => void;

/** Reply bytes a turn may hold before they are written without waiting for its end. */
const EARLY_FLUSH_BYTES = 16 * 1024;

/** Period of the event-loop stall probe (INFO amber_eventloop_max_stall_ms). */
const STALL_PROBE_MS = 10;

/** Commands gated by enable-debug-command / enable-module-command. */
function isProtected(name: string): boolean {
  return name === "debug" || name === "module";
}

export interface ServerStats {
  totalConnections: number;
  totalCommands: number;
  rejectedConnections: number;
  expiredKeys: number;
  expiredStalePerc: number;
  expiredTimeCapReachedCount: number;
  keyspaceHits: number;
  keyspaceMisses: number;
  netInputBytes: number;
  netOutputBytes: number;
  totalErrorReplies: number;
  /** errorstats: error code (ERR, WRONGTYPE, ...) -> count */
  errorCodes: Map<string, number>;
  unexpectedErrorReplies: number;
  /**
   * Longest event-loop stall seen (ms): how late a 10 ms timer fired, minus 10. Amber's
   * own INFO field (`amber_eventloop_max_stall_ms`): what a fork-less BGSAVE costs.
   */
  eventloopMaxStallMs: number;
}

function newStats(): ServerStats {
  return {
    totalConnections: 0,
    totalCommands: 0,
    rejectedConnections: 0,
    expiredKeys: 0,
    expiredStalePerc: 0,
    expiredTimeCapReachedCount: 0,
    keyspaceHits: 0,
    keyspaceMisses: 0,
    netInputBytes: 0,
    netOutputBytes: 0,
    totalErrorReplies: 0,
    errorCodes: new Map(),
    unexpectedErrorReplies: 0,
    eventloopMaxStallMs: 0,
  };
}

export interface ServerInit {
  config: Config;
  logger: Logger;
  commands: Map<string, Command>;
  /** Path of the config file, for CONFIG REWRITE and INFO `config_file`. */
  configFile?: string;
}

export class Server implements KeyspaceHooks {
  readonly config: Config;
  readonly logger: Logger;
  readonly commands: Map<string, Command>;
  readonly configFile: string;
  readonly dbs: Database[] = [];
  readonly clients = new Map<number, Client>();
  readonly stats: ServerStats = newStats();
  /** SCAN cursors (live iterators), shared by SCAN and the collection scans. */
  readonly cursors = new CursorTable();
  /** Changes since the last successful save (Redis's `server.dirty`). */
  dirty = 0;
  /** Unix ms of the last successful save (LASTSAVE). */
  lastSave = Math.floor(Date.now() / 1000);
  readonly startTime = Date.now();
  readonly runId: string;
  /** The ports actually bound (port 0 in config picks an ephemeral one). */
  port = 0;
  /** Lazy expiry off (while loading a file). */
  expiryPaused = false;
  /**
   * The dataset is being loaded at start (Redis's server.loading): the event loop turns
   * between load steps, and commands without the `loading` flag get -LOADING.
   */
  loading: LoadingState | null = null;
  /** DEBUG SET-ACTIVE-EXPIRE */
  activeExpireEnabled = true;
  /** Current command's time, cached as Redis caches `mstime` per command. */
  private cmdTime = 0;
  private nextClientId = 1;
  private listeners: NetServer[] = [];
  private cronTimer: ReturnType<typeof setInterval> | undefined;
  private stallTimer: ReturnType<typeof setInterval> | undefined;
  private pendingFlush = new Set<Client>();
  /** Reply bytes the current turn holds for pendingFlush (see EARLY_FLUSH_BYTES). */
  private pendingBytes = 0;
  private flushScheduled = false;
  private feeds: FeedListener[] = [];
  /** Per feed: whether it takes ops now (an AOF that is off does not). */
  private feedActive: (() => boolean)[] = [];
  /** Per-call propagation state. */
  private propOverride: string[] | null | undefined = undefined;
  /**
   * The ops queued by the running top-level command: the first in `propFirst`, any more
   * in `propMore`. Most writes queue one, which then costs no array growth (a push onto
   * `[]` allocates 17 slots: 4% of a SET's CPU at -P 16).
   */
  private propFirst: PropagatedOp | null = null;
  private propMore: PropagatedOp[] | null = null;
  /** Hooks run before replies leave, once per event-loop turn (AOF flush/fsync). */
  private beforeReplyHooks: (() => void)[] = [];
  /** Hooks run once per cron tick (save points, AOF rewrite checks). */
  private cronHooks: (() => void)[] = [];
  /** Hooks run on keyModified (WATCH, snapshots). */
  private modifiedHooks: ((db: Database, key: string) => void)[] = [];
  private replacedHooks: ((
    db: Database,
    old: DatabaseMaps,
  ) => void)[] = [];
  /** Hooks that may deny writes (MISCONF); first non-null message wins. */
  private writeGuards: ((c: Client) => string | null)[] = [];
  private shutdownHooks: ((opts: { save?: boolean; force?: boolean }) => Promise<void> | void)[] =
    [];
  cronLoops = 0;
  shuttingDown = false;
  /** Resolves when the server has shut down. */
  readonly closed: Promise<void>;
  private resolveClosed!: () => void;

  /** client-query-buffer-limit, cached: it is checked after every input batch. */
  private queryBufferLimit: number;

  constructor(init: ServerInit) {
    this.config = init.config;
    this.queryBufferLimit = this.config.getMemory("client-query-buffer-limit");
    this.config.onChange("client-query-buffer-limit", () => {
      this.queryBufferLimit = this.config.getMemory("client-query-buffer-limit");
    });
    this.logger = init.logger;
    this.commands = init.commands;
    this.configFile = init.configFile ?? "";
    this.runId = randomHex(40);
    const n = this.config.getInt("databases");
    for (let i = 0; i < n; i++) this.dbs.push(new Database(i, this));
    this.closed = new Promise((r) => this.resolveClosed = r);
  }

  // ---- KeyspaceHooks -------------------------------------------------------------

  now(): number {
    return this.cmdTime || Date.now();
  }

  keyModified(db: Database, key: string): void {
    for (const h of this.modifiedHooks) h(db, key);
  }

  dbReplaced(db: Database, old: DatabaseMaps): void {
    for (const h of this.replacedHooks) h(db, old);
  }

  keyExpired(db: Database, key: string): void {
    this.stats.expiredKeys++;
    this.notify("x", "expired", key, db.id);
    this.alsoPropagate(db.id, ["DEL", key]);
    if (this.callDepth === 0) this.flushPropagation();
  }

  /**
   * Redis's dbAdd `new` event, only raised when class `n` is on (it is not part of `A`,
   * and key creation is hot); loading (expiry paused) adds keys silently, as dbAddRDBLoad.
   */
  keyCreated(db: Database, key: string): void {
    if ((this.config.notifyFlags() & NOTIFY.NEW) !== 0 && !this.expiryPaused) {
      this.notify("n", "new", key, db.id);
    }
  }

  // ---- extension points -----------------------------------------------------------

  /**
   * `f` receives each top-level command's ops while `active()` says so; when no feed is
   * active, writes build no ops at all.
   */
  addFeed(f: FeedListener, active: () => boolean = () => true): void {
    this.feeds.push(f);
    this.feedActive.push(active);
  }

  /** True if some feed takes ops now. */
  private propagating(): boolean {
    const a = this.feedActive;
    for (let i = 0; i < a.length; i++) if (a[i]()) return true;
    return false;
  }
  /**
   * `f` runs at the end of each turn, before replies are sent; the returned function
   * removes it.
   */
  onBeforeReply(f: () => void): () => void {
    this.beforeReplyHooks.push(f);
    return () => {
      const i = this.beforeReplyHooks.indexOf(f);
      if (i >= 0) this.beforeReplyHooks.splice(i, 1);
    };
  }
  onCron(f: () => void): void {
    this.cronHooks.push(f);
  }
  onKeyModified(f: (db: Database, key: string) => void): void {
    this.modifiedHooks.push(f);
  }
  onDbReplaced(
    f: (db: Database, old: DatabaseMaps) => void,
  ): void {
    this.replacedHooks.push(f);
  }
  /** `f` runs before each write command of `c`; a returned text is the error reply. */
  addWriteGuard(f: (c: Client) => string | null): void {
    this.writeGuards.push(f);
  }
  private listeningHooks: (() => void)[] = [];
  /** Runs once the server listens (start background helpers here, not in tests' setup). */
  onListening(f: () => void): void {
    this.listeningHooks.push(f);
  }
  onShutdown(f: (opts: { save?: boolean; force?: boolean }) => Promise<void> | void): void {
    this.shutdownHooks.push(f);
  }

  requiresAuth(): boolean {
    return this.config.get("requirepass") !== "";
  }

  // ---- propagation ----------------------------------------------------------------

  /** Replace what the running command propagates (Redis's rewriteClientCommandVector). */
  rewritePropagation(argv: string[]): void {
    this.propOverride = argv;
  }

  /** The running command propagates nothing itself (it used alsoPropagate instead). */
  preventPropagation(): void {
    this.propOverride = null;
  }

  /** Queue an extra op, emitted after the current command (Redis's alsoPropagate). */
  alsoPropagate(db: number, argv: string[]): void {
    if (this.propagating()) this.queueOp({ db, argv });
  }

  private queueOp(op: PropagatedOp): void {
    if (this.propFirst === null) this.propFirst = op;
    else if (this.propMore === null) this.propMore = [op];
    else this.propMore.push(op);
  }

  /**
   * (blocking.ts) Emits the queued ops now: a client served from a ready key
   * propagates on its own, as Redis's afterCommand(receiver) does per served client.
   */
  propagatePending(): void {
    this.flushPropagation();
  }

  private flushPropagation(): void {
    const first = this.propFirst;
    if (first === null) return;
    const more = this.propMore;
    this.propFirst = null;
    this.propMore = null;
    // Redis 7.0's propagatePendingCommands: what one top-level command produced (an EXEC's
    // writes, a DEL of a lazily expired key plus the write) stays atomic for the AOF and
    // replicas by a MULTI/EXEC wrapper; a single op is atomic already and goes bare.
    const ops = more === null ? [first] : [
      { db: first.db, argv: ["MULTI"] },
      first,
      ...more,
      { db: more[more.length - 1].db, argv: ["EXEC"] },
    ];
    const feeds = this.feeds;
    for (let i = 0; i < feeds.length; i++) if (this.feedActive[i]()) feeds[i](ops);
  }

  // ---- listening ------------------------------------------------------------------

  /** Binds every `bind` address on `port`. Addresses prefixed with `-` are optional. */
  async listen(): Promise<void> {
    const port = this.config.getInt("port");
    const binds = this.config.bind();
    let bound = port;
    for (const raw of binds) {
      const optional = raw.startsWith("-");
      const spec = optional ? raw.slice(1) : raw;
      const host = spec === "*" ? "0.0.0.0" : spec === "::*" ? "::" : spec;
      const srv = createServer({ noDelay: true, allowHalfOpen: true }, (s) => this.accept(s));
      try {
        await new Promise<void>((resolve, reject) => {
          srv.once("error", reject);
          srv.listen({ port: bound, host }, () => {
            srv.off("error", reject);
            resolve();
          });
        });
      } catch (e) {
        if (optional) continue;
        const msg = `Warning: Could not create server TCP listening socket ${host}:${bound}: ${
          (e as Error).message
        }`;
        this.logger.warning(msg);
        for (const l of this.listeners) l.close();
        throw new Error(msg);
      }
      const addr = srv.address();
      if (addr && typeof addr === "object") bound = addr.port;
      srv.on("error", (e) => this.logger.warning(`Accept error: ${e.message}`));
      this.listeners.push(srv);
    }
    this.port = bound;
    if (this.listeners.length === 0) throw new Error("Failed listening on port " + port);
    for (const h of this.listeningHooks) h();
    const hz = Math.max(1, Math.min(500, this.config.getInt("hz")));
    this.cronTimer = setInterval(() => this.cron(), Math.floor(1000 / hz));
    let last = performance.now();
    this.stallTimer = setInterval(() => {
      const now = performance.now();
      const stall = now - last - STALL_PROBE_MS;
      if (stall > this.stats.eventloopMaxStallMs) this.stats.eventloopMaxStallMs = stall;
      last = now;
    }, STALL_PROBE_MS);
  }

  private accept(socket: Socket): void {
    const max = this.config.getInt("maxclients");
    if (this.clients.size >= max) {
      this.stats.rejectedConnections++;
      socket.end("-ERR max number of clients reached\r\n");
      return;
    }
    if (this.protectedModeRefuses(socket)) {
      this.stats.rejectedConnections++;
      socket.end(PROTECTED_MODE_ERR);
      return;
    }
    socket.setNoDelay(true);
    const keepalive = this.config.getInt("tcp-keepalive");
    if (keepalive > 0) socket.setKeepAlive(true, keepalive * 1000);
    const c = new Client(this, socket, this.nextClientId++);
    c.reply.onError = (msg) => this.countError(msg);
    this.clients.set(c.id, c);
    this.stats.totalConnections++;
    // The peer's end of stream (a client that sent its commands and shut down its
    // side, as `printf 'PING\r\n' | nc -N` does): the commands already read still get
    // their replies, then the connection closes, as in Redis.
    const onEnd = () => this.closeAfterReply(c);
    c.io = attachStreamIo(socket, (chunk) => this.onTransientData(c, chunk), onEnd);
    if (c.io === null) {
      socket.on("data", (chunk: Buffer) => this.onData(c, chunk));
      socket.on("end", onEnd);
    }
    socket.on("error", () => this.freeClient(c));
    socket.on("close", () => this.freeClient(c));
  }

  private protectedModeRefuses(socket: Socket): boolean {
    // As in Redis 7.0: with no password, only loopback peers, whatever `bind` says.
    if (!this.config.getBool("protected-mode") || this.requiresAuth()) return false;
    const addr = (socket.remoteAddress ?? "").replace(/^::ffff:/, "");
    return !(addr === "127.0.0.1" || addr === "::1" || addr.startsWith("127."));
  }

  /** Creates a client with no socket (for in-process use and loading). */
  fakeClient(): Client {
    const c = new Client(this, null, this.nextClientId++);
    c.authenticated = true;
    return c;
  }

  freeClient(c: Client): void {
    if (!this.clients.has(c.id)) return;
    this.clients.delete(c.id);
    this.pendingFlush.delete(c);
    for (const f of this.clientFreedHooks) f(c);
    if (c.socket && !c.socket.destroyed) c.socket.destroy();
  }

  private clientFreedHooks: ((c: Client) => void)[] = [];
  onClientFreed(f: (c: Client) => void): void {
    this.clientFreedHooks.push(f);
  }

  /** Closes `c` once its pending replies are written (QUIT, protocol errors, KILL). */
  closeAfterReply(c: Client): void {
    c.closing = true;
    this.scheduleFlush(c);
  }

  private onData(c: Client, chunk: Buffer): void {
    if (c.closing) return;
    this.stats.netInputBytes += chunk.length;
    c.feed(chunk);
    this.processInput(c);
  }

  /** onData for a chunk in a read buffer that is reused (stream_io.ts). */
  private onTransientData(c: Client, chunk: Buffer): void {
    this.onData(c, chunk);
    c.parser.retain();
  }

  /** Runs every complete command in `c`'s buffer (Redis's processInputBuffer). */
  processInput(c: Client): void {
    // Command time is measured per input batch and shared among the batch's commands,
    // with the millisecond clock the batch reads anyway: `performance.now()` cost about
    // 1 µs per request here at -P 1 under Deno (BENCHMARKS.md). A batch's start falls at
    // a random point of the millisecond, so the whole milliseconds it crosses are, on
    // average, its length: the sums INFO commandstats shows converge on the true time
    // over many calls, and a long command is measured to the millisecond.
    const outBefore = c.reply.len;
    const t0 = Date.now();
    this.cmdTime = t0;
    c.lastInteraction = t0;
    // Commands see the time cached at the start of the batch, as Redis's call() caches
    // it per command (Date.now() is a ~50 ns runtime call here); a long batch refreshes
    // it every 32 commands.
    let n = 0;
    try {
      while (!c.closing && !c.blocked) {
        const argv = c.parser.next();
        if (argv === null) break;
        if (argv.length === 0) continue;
        if ((++n & 31) === 0) this.cmdTime = Date.now();
        this.processCommand(c, argv);
      }
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
      this.logger.verbose(
        `Protocol error (${e.message.replace("Protocol error: ", "")}) from client: ${c.addr}`,
      );
      c.reply.error("ERR " + e.message);
      this.closeAfterReply(c);
    }
    this.chargeBatch(Date.now() - t0);
    this.cmdTime = 0;
    if (!c.closing && c.queryBufferLength() > this.queryBufferLimit) {
      this.logger.warning(
        `Closing client that reached max query buffer length: id=${c.id} addr=${c.addr} (qbuf initial bytes: ...)`,
      );
      this.freeClient(c);
      return;
    }
    // Replies leave at the end of the event-loop turn, after every readable client was
    // served, as Redis's beforeSleep writes them: a burst of writes wakes a sleeping
    // client once. Writing each reply as soon as its batch ran cost 25% more server CPU
    // per request at -P 16 (BENCHMARKS.md). But big replies go out once the turn holds
    // EARLY_FLUSH_BYTES: held to the end, the clients sat idle while the server built
    // them (ZRANGE of 100 elements at -P 16 fell to a third).
    this.scheduleFlush(c);
    this.pendingBytes += c.reply.len - outBefore;
    if (this.pendingBytes >= EARLY_FLUSH_BYTES && this.beforeReplyHooks.length === 0) {
      this.beforeSleep();
    }
  }

  scheduleFlush(c: Client): void {
    this.pendingFlush.add(c);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.beforeSleepCallback);
    }
  }

  private readonly beforeSleepCallback = () => this.beforeSleep();

  /** End of the event-loop turn: persistence hooks first, then every client's replies. */
  private beforeSleep(): void {
    this.flushScheduled = false;
    this.pendingBytes = 0;
    for (const h of this.beforeReplyHooks) h();
    for (const c of this.pendingFlush) {
      const n = c.reply.len;
      if (n === 0 && !c.closing) continue;
      // CLIENT REPLY OFF/SKIP drop replies as they are produced (commands/client.ts),
      // so that a pipeline mixing modes keeps exactly the replies Redis would send.
      this.stats.netOutputBytes += n;
      c.flush();
      if (c.closing) c.endConnection(() => this.freeClient(c));
    }
    this.pendingFlush.clear();
  }

  // ---- command execution ------------------------------------------------------------

  private callDepth = 0;

  /** Commands called in the current input batch, for chargeBatch. */
  private batch: Command[] = [];

  /** Spreads a batch's elapsed time over its commands (INFO commandstats usec). */
  private chargeBatch(ms: number): void {
    const n = this.batch.length;
    if (n === 0) return;
    const each = (ms * 1000) / n;
    for (let i = 0; i < n; i++) this.batch[i].usec += each;
    this.batch.length = 0;
  }

  /**
   * The command named `name` in any letter case. Names as clients send them ("GET",
   * "get") are remembered, so the common case costs one Map lookup, no lowercasing;
   * and a pipeline repeats one name, so the last one found is tried first (a compare of
   * a few chars, where the Map lookup of a freshly parsed name costs ~100 ns).
   */
  private lookupName(name: string): Command | undefined {
    if (name === this.lastName) return this.lastNameCmd;
    let cmd = this.nameCache.get(name);
    if (cmd === undefined) {
      cmd = this.commands.get(name.toLowerCase());
      if (cmd !== undefined && this.nameCache.size < 4096) this.nameCache.set(name, cmd);
    }
    if (cmd !== undefined) {
      this.lastName = name;
      this.lastNameCmd = cmd;
    }
    return cmd;
  }

  private nameCache = new Map<string, Command>();
  private lastName = "";
  private lastNameCmd: Command | undefined = undefined;

  /** Redis's processCommand: the checks in Redis's order, then call(). */
  processCommand(c: Client, argv: string[]): void {
    const base = this.lookupName(argv[0]);
    let cmd = base;
    if (base?.subcommands && argv.length >= 2) {
      cmd = base.subcommands.get(argv[1].toLowerCase());
      if (!cmd) {
        this.rejectCommand(
          c,
          `ERR unknown subcommand '${
            truncate(argv[1], 128)
          }'. Try ${base.name.toUpperCase()} HELP.`,
        );
        return;
      }
    }
    if (!cmd) {
      let args = "";
      for (let i = 1; i < argv.length && args.length < 128; i++) {
        args += `'${truncate(argv[i], 128 - args.length)}' `;
      }
      this.rejectCommand(
        c,
        `ERR unknown command '${truncate(argv[0], 128)}', with args beginning with: ${args}`,
      );
      return;
    }
    if ((cmd.arity > 0 && argv.length !== cmd.arity) || argv.length < -cmd.arity) {
      cmd.rejectedCalls++;
      this.rejectCommand(c, `ERR wrong number of arguments for '${cmd.name}' command`, cmd);
      return;
    }
    // Redis marks DEBUG and MODULE "protected" internally, a flag COMMAND does not show.
    if (isProtected(base!.name) && !this.protectedAllowed(c, base!.name)) {
      cmd.rejectedCalls++;
      this.rejectCommand(
        c,
        `ERR ${base!.name.toUpperCase()} command not allowed. If the enable-${
          base!.name
        }-command option is set to "local", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.`,
      );
      return;
    }
    if (!c.authenticated && !cmd.noAuth) {
      cmd.rejectedCalls++;
      this.rejectCommand(c, "NOAUTH Authentication required.", cmd);
      return;
    }
    // As Redis 7.0: a write is refused when queued in MULTI too (the EXEC then aborts),
    // and EXEC itself counts as a write when it would run queued writes.
    if (
      this.writeGuards.length !== 0 &&
      (cmd.isWrite || cmd.name === "ping" ||
        (cmd.name === "exec" && c.multiQueue !== null && c.multiQueue.some((q) => q.cmd.isWrite)))
    ) {
      for (const g of this.writeGuards) {
        const msg = g(c);
        if (msg) {
          cmd.rejectedCalls++;
          this.rejectCommand(c, msg, cmd);
          return;
        }
      }
    }
    if (!cmd.pubsubAllowed && c.reply.resp === 2 && c.subscribed) {
      cmd.rejectedCalls++;
      this.rejectCommand(
        c,
        `ERR Can't execute '${cmd.name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context`,
        cmd,
      );
      return;
    }
    if (this.loading !== null && !cmd.okLoading) {
      cmd.rejectedCalls++;
      this.rejectCommand(c, "LOADING Redis is loading the dataset in memory", cmd);
      return;
    }
    if (c.multiQueue !== null && !cmd.multiImmediate) {
      c.multiQueue.push({ cmd, argv });
      c.reply.simple("QUEUED");
      return;
    }
    this.call(c, cmd, argv);
  }

  private protectedAllowed(c: Client, name: string): boolean {
    const mode = this.config.get(`enable-${name}-command`);
    if (mode === "yes") return true;
    if (mode === "local") return c.socket === null || /^(127\.|::1)/.test(c.addr) || c.addr === "";
    return c.socket === null;
  }

  /** Replies with an error for a command that never ran; flags the MULTI as aborted. */
  rejectCommand(c: Client, msg: string, cmd?: Command): void {
    if (c.multiQueue !== null) c.multiDirty = true;
    if (cmd !== undefined && cmd.name === "exec") {
      // Redis's execCommandAbort: a rejected EXEC discards the transaction (and the
      // watches, even outside MULTI) and says why, minus the ERR code.
      if (this.execAbortHook !== null) this.execAbortHook(c);
      else c.multiQueue = null;
      msg = "EXECABORT Transaction discarded because of: " +
        (msg.startsWith("ERR ") ? msg.slice(4) : msg);
    }
    c.reply.error(msg);
  }

  /** Discards `c`'s transaction and watches (installed by commands/transactions.ts). */
  execAbortHook: ((c: Client) => void) | null = null;

  /** Runs `cmd` for `c`, then emits what it propagates (Redis's call()). */
  call(c: Client, cmd: Command, argv: string[]): void {
    const dirtyBefore = this.dirty;
    const errorsBefore = c.reply.errorCount;
    const savedOverride = this.propOverride;
    this.propOverride = undefined;
    this.callDepth++;
    try {
      cmd.handler(c, argv);
    } finally {
      this.callDepth--;
    }
    cmd.calls++;
    if (this.callDepth === 0) this.batch.push(cmd);
    if (c.reply.errorCount !== errorsBefore) cmd.failedCalls++;
    c.lastCommand = cmd.name;
    c.commandsProcessed++;
    this.stats.totalCommands++;
    // Redis propagates when dirty grew; SAVE or DEBUG RELOAD resetting it is no write.
    if (this.dirty > dirtyBefore && this.propOverride !== null && this.propagating()) {
      this.queueOp({ db: c.db.id, argv: this.propOverride ?? argv });
    }
    this.propOverride = savedOverride;
    if (this.callDepth === 0) {
      this.flushPropagation();
      for (let i = 0; i < this.afterCommandHooks.length; i++) this.afterCommandHooks[i](c);
    }
    if (this.monitors.size > 0) this.feedMonitors(c, argv);
  }

  private afterCommandHooks: ((c: Client) => void)[] = [];
  /**
   * Runs after every top-level command (not inside EXEC): where blocked clients whose
   * keys became ready are served, as Redis's handleClientsBlockedOnKeys after call().
   */
  onAfterCommand(f: (c: Client) => void): void {
    this.afterCommandHooks.push(f);
  }

  /**
   * Runs one command read from an AOF, as Redis's loadSingleAppendOnlyFile does: no
   * permission or write-guard checks, queued while `c` is in MULTI (until EXEC), the
   * reply discarded. Returns an error text for a command that cannot run (unknown name
   * or wrong arity), else null.
   */
  replayCommand(c: Client, argv: string[]): string | null {
    this.cmdTime = Date.now();
    let cmd = this.lookupName(argv[0]);
    if (cmd?.subcommands && argv.length >= 2) cmd = cmd.subcommands.get(argv[1].toLowerCase());
    if (!cmd) return `Unknown command '${truncate(argv[0], 128)}'`;
    if ((cmd.arity > 0 && argv.length !== cmd.arity) || argv.length < -cmd.arity) {
      return `Wrong number of arguments for '${cmd.name}'`;
    }
    if (c.multiQueue !== null && cmd.name !== "exec") c.multiQueue.push({ cmd, argv });
    else this.call(c, cmd, argv);
    c.reply.clear();
    this.batch.length = 0;
    this.cmdTime = 0;
    return null;
  }

  /** Runs a command line as `c` without a socket (in-process use, tests, AOF loading). */
  execute(c: Client, argv: string[]): string {
    const t0 = performance.now();
    this.cmdTime = Date.now();
    this.processCommand(c, argv);
    this.chargeBatch(performance.now() - t0);
    this.cmdTime = 0;
    return c.reply.take();
  }

  // ---- keyspace notifications ---------------------------------------------------------

  private notifyHooks: ((cls: string, event: string, key: string, db: number) => void)[] = [];
  onNotify(f: (cls: string, event: string, key: string, db: number) => void): void {
    this.notifyHooks.push(f);
  }

  /**
   * Redis's notifyKeyspaceEvent: `cls` is the class letter from notify-keyspace-events
   * (g generic, $ string, l list, s set, h hash, z zset, x expired, e evicted, n new),
   * `event` the event name Redis uses (e.g. "set", "expire", "del").
   */
  notify(cls: string, event: string, key: string, db: number): void {
    for (const h of this.notifyHooks) h(cls, event, key, db);
  }

  // ---- errors ------------------------------------------------------------------------

  private countError(msg: string): void {
    this.stats.totalErrorReplies++;
    const sp = msg.indexOf(" ");
    const code = sp === -1 ? msg : msg.slice(0, sp);
    // Redis caps errorstats at 128 distinct codes.
    if (this.stats.errorCodes.size < 128 || this.stats.errorCodes.has(code)) {
      this.stats.errorCodes.set(code, (this.stats.errorCodes.get(code) ?? 0) + 1);
    }
  }

  // ---- MONITOR ---------------------------------------------------------------------------

  readonly monitors = new Set<Client>();

  /** Redis 7.0's replicationFeedMonitors, called from call() after the command ran. */
  private feedMonitors(c: Client, argv: string[]): void {
    const cmd = lookupCommand(this.commands, argv);
    // As call() in 7.0: admin commands (CONFIG, DEBUG, ...) never reach monitors.
    if (cmd && (cmd.flags.has("admin") || cmd.flags.has("skip_monitor"))) return;
    const us = Math.floor((performance.timeOrigin + performance.now()) * 1000);
    const who = c.socket ? c.addr : "lua";
    let line = `${Math.floor(us / 1e6)}.${String(us % 1e6).padStart(6, "0")} [${c.db.id} ${who}]`;
    // Passwords never reach monitors (Redis's redactClientCommandArgument in AUTH/HELLO).
    const shown = argv.slice();
    const name = argv[0].toLowerCase();
    if (name === "auth") shown.fill("(redacted)", 1);
    else if (name === "hello") {
      for (let j = 2; j < shown.length; j++) {
        const more = shown.length - 1 - j;
        const opt = shown[j].toLowerCase();
        if (opt === "auth" && more >= 2) {
          shown[j + 1] = shown[j + 2] = "(redacted)";
          j += 2;
        } else if (opt === "setname" && more >= 1) j++;
        else break;
      }
    }
    for (const a of shown) line += " " + reprString(a);
    for (const m of this.monitors) {
      m.reply.simple(line);
      this.scheduleFlush(m);
    }
  }

  // ---- cron ------------------------------------------------------------------------------

  private cron(): void {
    this.cronLoops++;
    updateLruClock();
    this.cmdTime = 0;
    if (this.activeExpireEnabled) {
      const hz = Math.max(1, this.config.getInt("hz"));
      activeExpireCycle(this, this.config.getInt("active-expire-effort"), 1000 / hz);
    }
    if (this.config.getBool("activerehashing")) {
      // Redis's databasesCron: a millisecond of index migration, for the first database
      // that has one under way.
      for (const db of this.dbs) if (db.dict.rehashMilliseconds(1)) break;
    }
    const timeout = this.config.getInt("timeout");
    if (timeout > 0) {
      const now = Date.now();
      for (const c of this.clients.values()) {
        if (c.subscribed || c.blocked || c.monitor) continue;
        if (now - c.lastInteraction > timeout * 1000) {
          this.logger.verbose("Closing idle client");
          this.freeClient(c);
        }
      }
    }
    this.cursors.expire();
    for (const h of this.cronHooks) h();
  }

  // ---- shutdown ----------------------------------------------------------------------------

  /**
   * Stops without the shutdown hooks or their log lines: the start failed (a damaged
   * file), and Redis simply exits then.
   */
  abortStart(): void {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    if (this.cronTimer) clearInterval(this.cronTimer);
    if (this.stallTimer) clearInterval(this.stallTimer);
    for (const l of this.listeners) l.close();
    for (const c of [...this.clients.values()]) this.freeClient(c);
    this.resolveClosed();
  }

  /**
   * Graceful shutdown: run the shutdown hooks (where saving happens), then stop
   * accepting and close clients. A failing hook aborts the shutdown unless `force`,
   * as Redis does (`Errors trying to SHUTDOWN`), and the error propagates.
   */
  async shutdown(opts: { save?: boolean; force?: boolean } = {}): Promise<void> {
    if (this.shuttingDown) return this.closed;
    this.shuttingDown = true;
    this.logger.warning("User requested shutdown...");
    for (const h of this.shutdownHooks) {
      try {
        await h(opts);
      } catch (e) {
        if (opts.force) {
          this.logger.warning(
            `Error during shutdown, continuing due to FORCE: ${(e as Error).message}`,
          );
          continue;
        }
        this.logger.warning(
          `Errors trying to shut down the server. Check the logs for more information.`,
        );
        this.shuttingDown = false;
        throw e;
      }
    }
    if (this.cronTimer) clearInterval(this.cronTimer);
    if (this.stallTimer) clearInterval(this.stallTimer);
    for (const l of this.listeners) l.close();
    for (const c of [...this.clients.values()]) {
      c.flush();
      this.freeClient(c);
    }
    this.logger.warning("Redis is now ready to exit, bye bye...");
    this.resolveClosed();
  }
}

const PROTECTED_MODE_ERR =
  "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a bind address or an authentication password. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";

function truncate(s: string, n: number): string {
  return s.length > n ? s.slice(0, n) : s;
}

function randomHex(n: number): string {
  const b = new Uint8Array(n / 2);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}
