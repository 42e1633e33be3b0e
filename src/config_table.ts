/**
 * The table of every Redis 7.0.15 configuration directive (data only): canonical name, alias,
 * type and bounds, default as `CONFIG GET` prints it, flags (immutable, protected, hidden,
 * ...), and whether Amber implements it. Types, bounds and flags follow `static_configs[]` in
 * Redis 7.0's config.c and were checked against a running redis-server 7.0.15 (error texts,
 * bounds, immutability). The behaviour lives in config.ts.
 */

/** Numeric limits of the C types Redis uses, as bigints. */
export const INT_MIN = -2147483648n;
export const INT_MAX = 2147483647n;
export const UINT_MAX = 4294967295n;
export const LONG_MAX = 9223372036854775807n;
export const LLONG_MAX = 9223372036854775807n;
export const ULLONG_MAX = 18446744073709551615n;
export const SSIZE_MAX = 9223372036854775807n;

interface BaseDef {
  /** Canonical name, as CONFIG GET / CONFIG REWRITE print it. */
  name: string;
  /** The other accepted name (Redis 7.0 has at most one), e.g. `slaveof` for `replicaof`. */
  alias?: string;
  /** Default value in the textual form CONFIG GET prints (`""` for dir means the start cwd). */
  default: string;
  /** Not settable by CONFIG SET ("can't set immutable config"). */
  immutable?: boolean;
  /** CONFIG SET needs `enable-protected-configs` ("can't set protected config"). */
  protected?: boolean;
  /** Not matched by CONFIG GET patterns, only by its exact name. */
  hidden?: boolean;
  /** Value redacted from SLOWLOG / MONITOR when set by CONFIG SET. */
  sensitive?: boolean;
  /** CONFIG SET refused with -LOADING while a dataset is being loaded. */
  denyLoading?: boolean;
  /** Amber acts on this directive; others are accepted, stored and warned about. */
  implemented: boolean;
  /** When set, only these values are implemented; other values warn (e.g. daemonize). */
  implementedValues?: string[];
}

export interface BoolDef extends BaseDef {
  kind: "bool";
}

/** Extra validation of string configs (Redis's is_valid_fn). */
export type StringValidator =
  | "dbfilename"
  | "appendfilename"
  | "appenddirname"
  | "hostname"
  | "proctitle";

export interface StringDef extends BaseDef {
  kind: "string";
  /** Redis's EMPTY_STRING_IS_NULL: "" is stored as unset (and dropped by CONFIG REWRITE). */
  emptyIsNull: boolean;
  validate?: StringValidator;
}

export interface EnumDef extends BaseDef {
  kind: "enum";
  /** Names and values in Redis's order (error messages list them in this order). */
  values: readonly (readonly [string, number])[];
  /** Several names may be given and are OR-ed (Redis's MULTI_ARG enums). */
  bitflags?: boolean;
  validate?: "shutdown";
}

export interface NumericDef extends BaseDef {
  kind: "numeric";
  min: bigint;
  max: bigint;
  /** Bounds are checked on the value as an unsigned 64-bit number (uint, ull, size_t). */
  unsigned?: boolean;
  /** Accepts memory units (1k = 1000, 1kb = 1024, m/mb, g/gb, b). */
  memory?: boolean;
  /** Also accepts `N%` (stored negative, shown as `N%`). */
  percent?: boolean;
  /** Parsed and printed in octal. */
  octal?: boolean;
}

export type SpecialName =
  | "save"
  | "dir"
  | "bind"
  | "replicaof"
  | "client-output-buffer-limit"
  | "oom-score-adj-values"
  | "notify-keyspace-events"
  | "latency-tracking-info-percentiles";

export interface SpecialDef extends BaseDef {
  kind: "special";
  special: SpecialName;
  /** Takes several arguments in a config file; CONFIG SET splits its value on spaces. */
  multiArg: boolean;
}

export type ConfigDef = BoolDef | StringDef | EnumDef | NumericDef | SpecialDef;

const YESNO_LOCAL: readonly (readonly [string, number])[] = [["no", 0], ["yes", 1], ["local", 2]];

function bool(name: string, def: "yes" | "no", extra: Partial<BoolDef> = {}): BoolDef {
  return { kind: "bool", name, default: def, implemented: false, ...extra };
}

function str(
  name: string,
  def: string,
  emptyIsNull: boolean,
  extra: Partial<StringDef> = {},
): StringDef {
  return { kind: "string", name, default: def, emptyIsNull, implemented: false, ...extra };
}

function enm(
  name: string,
  values: readonly (readonly [string, number])[],
  def: string,
  extra: Partial<EnumDef> = {},
): EnumDef {
  return { kind: "enum", name, values, default: def, implemented: false, ...extra };
}

function num(
  name: string,
  min: bigint,
  max: bigint,
  def: string,
  extra: Partial<NumericDef> = {},
): NumericDef {
  return { kind: "numeric", name, min, max, default: def, implemented: false, ...extra };
}

function special(
  name: SpecialName,
  def: string,
  multiArg: boolean,
  extra: Partial<SpecialDef> = {},
): SpecialDef {
  return {
    kind: "special",
    name,
    special: name,
    default: def,
    multiArg,
    implemented: false,
    ...extra,
  };
}

const I = { implemented: true } as const;
/** The AOF directives (src/persistence/aof/). */
const AOF = I;

/** Every Redis 7.0.15 config, in Redis's table order. */
export const CONFIG_TABLE: readonly ConfigDef[] = [
  // Bool configs
  bool("rdbchecksum", "yes", { immutable: true, ...I }),
  bool("daemonize", "no", { immutable: true, implemented: true, implementedValues: ["no"] }),
  bool("io-threads-do-reads", "no", { immutable: true }),
  bool("always-show-logo", "no", { immutable: true }),
  bool("protected-mode", "yes", I),
  bool("rdbcompression", "yes", I),
  bool("rdb-del-sync-files", "no", I),
  bool("activerehashing", "yes", I),
  bool("stop-writes-on-bgsave-error", "yes", I),
  bool("set-proc-title", "yes", { immutable: true }),
  bool("dynamic-hz", "yes"),
  bool("lazyfree-lazy-eviction", "no", I),
  bool("lazyfree-lazy-expire", "no", I),
  bool("lazyfree-lazy-server-del", "no", I),
  bool("lazyfree-lazy-user-del", "no", I),
  bool("lazyfree-lazy-user-flush", "no", I),
  bool("repl-disable-tcp-nodelay", "no"),
  bool("repl-diskless-sync", "yes"),
  // The base is synced once when complete, not every 4 MB: "no" is not implemented.
  bool("aof-rewrite-incremental-fsync", "yes"),
  bool("no-appendfsync-on-rewrite", "no", AOF),
  bool("cluster-require-full-coverage", "yes"),
  bool("rdb-save-incremental-fsync", "yes", I),
  bool("aof-load-truncated", "yes", AOF),
  bool("aof-use-rdb-preamble", "yes", AOF),
  bool("aof-timestamp-enabled", "no", AOF),
  bool("cluster-replica-no-failover", "no", { alias: "cluster-slave-no-failover" }),
  bool("replica-lazy-flush", "no", { alias: "slave-lazy-flush" }),
  bool("replica-serve-stale-data", "yes", { alias: "slave-serve-stale-data" }),
  bool("replica-read-only", "yes", { alias: "slave-read-only" }),
  bool("replica-ignore-maxmemory", "yes", { alias: "slave-ignore-maxmemory" }),
  bool("jemalloc-bg-thread", "yes"),
  bool("activedefrag", "no"),
  bool("syslog-enabled", "no", { immutable: true }),
  bool("cluster-enabled", "no", { immutable: true }),
  bool("appendonly", "no", { denyLoading: true, ...AOF }),
  bool("cluster-allow-reads-when-down", "no"),
  bool("cluster-allow-pubsubshard-when-down", "yes"),
  bool("crash-log-enabled", "yes"),
  bool("crash-memcheck-enabled", "yes"),
  bool("use-exit-on-panic", "no", { hidden: true }),
  bool("disable-thp", "yes", { immutable: true }),
  bool("cluster-allow-replica-migration", "yes"),
  bool("replica-announced", "yes"),
  bool("latency-tracking", "yes"),
  bool("aof-disable-auto-gc", "no"),
  bool("replica-ignore-disk-write-errors", "no"),

  // String configs
  str("aclfile", "", false, { immutable: true }),
  str("unixsocket", "", true, { immutable: true }),
  str("pidfile", "", true, { immutable: true, ...I }),
  str("replica-announce-ip", "", true, { alias: "slave-announce-ip" }),
  str("masteruser", "", true, { sensitive: true }),
  str("cluster-announce-ip", "", true),
  str("cluster-config-file", "nodes.conf", false, { immutable: true }),
  str("cluster-announce-hostname", "", true, { validate: "hostname" }),
  str("syslog-ident", "redis", false, { immutable: true }),
  str("dbfilename", "dump.rdb", false, { protected: true, validate: "dbfilename", ...I }),
  str("appendfilename", "appendonly.aof", false, {
    immutable: true,
    validate: "appendfilename",
    ...AOF,
  }),
  str("appenddirname", "appendonlydir", false, {
    immutable: true,
    validate: "appenddirname",
    ...AOF,
  }),
  // Applied by server/cpu_lists.ts (start) and the snapshot Worker (per job).
  str("server_cpulist", "", true, { immutable: true, ...I }),
  str("bio_cpulist", "", true, { immutable: true, ...I }),
  str("aof_rewrite_cpulist", "", true, { immutable: true, ...I }),
  str("bgsave_cpulist", "", true, { immutable: true, ...I }),
  str("ignore-warnings", "", false),
  str("proc-title-template", "{title} {listen-addr} {server-mode}", false, {
    validate: "proctitle",
  }),
  str("bind-source-addr", "", true),
  str("logfile", "", false, { immutable: true, ...I }),
  // SDS configs (same behaviour as string configs here)
  str("masterauth", "", true, { sensitive: true }),
  str("requirepass", "", true, { sensitive: true, ...I }),

  // Enum configs
  enm("supervised", [["upstart", 1], ["systemd", 2], ["auto", 3], ["no", 0]], "no", {
    immutable: true,
  }),
  enm(
    "syslog-facility",
    [
      ["user", 8],
      ["local0", 128],
      ["local1", 136],
      ["local2", 144],
      ["local3", 152],
      ["local4", 160],
      ["local5", 168],
      ["local6", 176],
      ["local7", 184],
    ],
    "local0",
    { immutable: true },
  ),
  enm("repl-diskless-load", [["disabled", 0], ["on-empty-db", 1], ["swapdb", 2]], "disabled", {
    denyLoading: true,
  }),
  enm("loglevel", [["debug", 0], ["verbose", 1], ["notice", 2], ["warning", 3]], "notice", I),
  enm(
    "maxmemory-policy",
    [
      ["volatile-lru", 0],
      ["volatile-lfu", 1],
      ["volatile-random", 2],
      ["volatile-ttl", 3],
      ["allkeys-lru", 4],
      ["allkeys-lfu", 5],
      ["allkeys-random", 6],
      ["noeviction", 7],
    ],
    "noeviction",
  ),
  enm("appendfsync", [["everysec", 1], ["always", 2], ["no", 0]], "everysec", AOF),
  enm("oom-score-adj", [["no", 0], ["yes", 1], ["relative", 1], ["absolute", 2]], "no"),
  enm("acl-pubsub-default", [["allchannels", 1], ["resetchannels", 0]], "resetchannels"),
  enm("sanitize-dump-payload", [["no", 0], ["yes", 1], ["clients", 2]], "no", I),
  enm("enable-protected-configs", YESNO_LOCAL, "no", { immutable: true }),
  enm("enable-debug-command", YESNO_LOCAL, "no", { immutable: true, ...I }),
  enm("enable-module-command", YESNO_LOCAL, "no", { immutable: true }),
  enm(
    "cluster-preferred-endpoint-type",
    [["ip", 0], ["hostname", 1], ["unknown-endpoint", 2]],
    "ip",
  ),
  enm(
    "propagation-error-behavior",
    [["ignore", 0], ["panic", 1], ["panic-on-replicas", 2]],
    "ignore",
  ),
  enm(
    "shutdown-on-sigint",
    [["default", 0], ["save", 1], ["nosave", 2], ["now", 4], ["force", 8]],
    "default",
    { bitflags: true, validate: "shutdown" },
  ),
  enm(
    "shutdown-on-sigterm",
    [["default", 0], ["save", 1], ["nosave", 2], ["now", 4], ["force", 8]],
    "default",
    { bitflags: true, validate: "shutdown" },
  ),

  // Integer configs
  num("databases", 1n, INT_MAX, "16", { immutable: true, ...I }),
  num("port", 0n, 65535n, "6379", I),
  num("io-threads", 1n, 128n, "1", { immutable: true }),
  num("auto-aof-rewrite-percentage", 0n, INT_MAX, "100", AOF),
  num("cluster-replica-validity-factor", 0n, INT_MAX, "10", {
    alias: "cluster-slave-validity-factor",
  }),
  num("list-max-listpack-size", INT_MIN, INT_MAX, "-2", { alias: "list-max-ziplist-size", ...I }),
  num("tcp-keepalive", 0n, INT_MAX, "300", I),
  num("cluster-migration-barrier", 0n, INT_MAX, "1"),
  num("active-defrag-cycle-min", 1n, 99n, "1"),
  num("active-defrag-cycle-max", 1n, 99n, "25"),
  num("active-defrag-threshold-lower", 0n, 1000n, "10"),
  num("active-defrag-threshold-upper", 0n, 1000n, "100"),
  num("lfu-log-factor", 0n, INT_MAX, "10"),
  num("lfu-decay-time", 0n, INT_MAX, "1"),
  num("replica-priority", 0n, INT_MAX, "100", { alias: "slave-priority" }),
  num("repl-diskless-sync-delay", 0n, INT_MAX, "5"),
  num("maxmemory-samples", 1n, INT_MAX, "5"),
  num("maxmemory-eviction-tenacity", 0n, 100n, "10"),
  num("timeout", 0n, INT_MAX, "0", I),
  num("replica-announce-port", 0n, 65535n, "0", { alias: "slave-announce-port" }),
  num("tcp-backlog", 0n, INT_MAX, "511", { immutable: true }),
  num("cluster-port", 0n, 65535n, "0", { immutable: true }),
  num("cluster-announce-bus-port", 0n, 65535n, "0"),
  num("cluster-announce-port", 0n, 65535n, "0"),
  num("cluster-announce-tls-port", 0n, 65535n, "0"),
  num("repl-timeout", 1n, INT_MAX, "60"),
  num("repl-ping-replica-period", 1n, INT_MAX, "10", { alias: "repl-ping-slave-period" }),
  num("list-compress-depth", 0n, INT_MAX, "0", I),
  num("rdb-key-save-delay", INT_MIN, INT_MAX, "0", { hidden: true }),
  num("key-load-delay", INT_MIN, INT_MAX, "0", { hidden: true, ...I }),
  num("active-expire-effort", 1n, 10n, "1", I),
  num("hz", 0n, INT_MAX, "10", I),
  num("min-replicas-to-write", 0n, INT_MAX, "0", { alias: "min-slaves-to-write" }),
  num("min-replicas-max-lag", 0n, INT_MAX, "10", { alias: "min-slaves-max-lag" }),
  num("watchdog-period", 0n, INT_MAX, "0", { hidden: true }),
  num("shutdown-timeout", 0n, INT_MAX, "10"),
  num("repl-diskless-sync-max-replicas", 0n, INT_MAX, "0"),

  // Unsigned int configs
  num("maxclients", 1n, UINT_MAX, "10000", { unsigned: true, ...I }),
  num("unixsocketperm", 0n, 0o777n, "0", { unsigned: true, octal: true, immutable: true }),
  num("socket-mark-id", 0n, UINT_MAX, "0", { unsigned: true, immutable: true }),

  // Unsigned long configs (bounds checked as signed, like Redis)
  num("active-defrag-max-scan-fields", 1n, LONG_MAX, "1000"),
  num("slowlog-max-len", 0n, LONG_MAX, "128"),
  num("acllog-max-len", 0n, LONG_MAX, "128"),

  // Long long configs
  num("busy-reply-threshold", 0n, LONG_MAX, "5000", { alias: "lua-time-limit", ...I }),
  num("cluster-node-timeout", 0n, LLONG_MAX, "15000"),
  num("slowlog-log-slower-than", -1n, LLONG_MAX, "10000"),
  num("latency-monitor-threshold", 0n, LLONG_MAX, "0"),
  num("proto-max-bulk-len", 1024n * 1024n, LONG_MAX, "536870912", { memory: true, ...I }),
  num("stream-node-max-entries", 0n, LLONG_MAX, "100"),
  num("repl-backlog-size", 1n, LLONG_MAX, "1048576", { memory: true }),

  // Unsigned long long configs
  // Accepted and reported, but nothing is evicted yet: a non-default value warns.
  num("maxmemory", 0n, ULLONG_MAX, "0", { unsigned: true, memory: true }),
  num("cluster-link-sendbuf-limit", 0n, ULLONG_MAX, "0", { unsigned: true, memory: true }),

  // size_t configs
  num("hash-max-listpack-entries", 0n, LONG_MAX, "512", {
    alias: "hash-max-ziplist-entries",
    unsigned: true,
    ...I,
  }),
  num("set-max-intset-entries", 0n, LONG_MAX, "512", { unsigned: true, ...I }),
  num("zset-max-listpack-entries", 0n, LONG_MAX, "128", {
    alias: "zset-max-ziplist-entries",
    unsigned: true,
    ...I,
  }),
  num("active-defrag-ignore-bytes", 1n, LLONG_MAX, "104857600", { unsigned: true, memory: true }),
  num("hash-max-listpack-value", 0n, LONG_MAX, "64", {
    alias: "hash-max-ziplist-value",
    unsigned: true,
    memory: true,
    ...I,
  }),
  num("stream-node-max-bytes", 0n, LONG_MAX, "4096", { unsigned: true, memory: true }),
  num("zset-max-listpack-value", 0n, LONG_MAX, "64", {
    alias: "zset-max-ziplist-value",
    unsigned: true,
    memory: true,
    ...I,
  }),
  num("hll-sparse-max-bytes", 0n, LONG_MAX, "3000", { unsigned: true, memory: true }),
  num("tracking-table-max-keys", 0n, LONG_MAX, "1000000", { unsigned: true }),
  num("client-query-buffer-limit", 1024n * 1024n, LONG_MAX, "1073741824", {
    unsigned: true,
    memory: true,
    ...I,
  }),
  num("maxmemory-clients", -100n, SSIZE_MAX, "0", { memory: true, percent: true }),

  // Other numeric configs
  num("repl-backlog-ttl", 0n, LONG_MAX, "3600"),
  num("auto-aof-rewrite-min-size", 0n, LLONG_MAX, "67108864", { memory: true, ...AOF }),
  num("loading-process-events-interval-bytes", 1024n, INT_MAX, "2097152", { hidden: true }),

  // TLS configs (this Redis build has TLS; Amber does not)
  num("tls-port", 0n, 65535n, "0"),
  num("tls-session-cache-size", 0n, INT_MAX, "20480"),
  num("tls-session-cache-timeout", 0n, INT_MAX, "300"),
  bool("tls-cluster", "no"),
  bool("tls-replication", "no"),
  enm("tls-auth-clients", [["no", 0], ["yes", 1], ["optional", 2]], "yes"),
  bool("tls-prefer-server-ciphers", "no"),
  bool("tls-session-caching", "yes"),
  str("tls-cert-file", "", true),
  str("tls-key-file", "", true),
  str("tls-key-file-pass", "", true),
  str("tls-client-cert-file", "", true),
  str("tls-client-key-file", "", true),
  str("tls-client-key-file-pass", "", true),
  str("tls-dh-params-file", "", true),
  str("tls-ca-cert-file", "", true),
  str("tls-ca-cert-dir", "", true),
  str("tls-protocols", "", true),
  str("tls-ciphers", "", true),
  str("tls-ciphersuites", "", true),

  // Special configs
  special("dir", "", false, { protected: true, denyLoading: true, ...I }),
  special("save", "3600 1 300 100 60 10000", true, I),
  special(
    "client-output-buffer-limit",
    "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
    true,
  ),
  special("oom-score-adj-values", "0 200 800", true),
  special("notify-keyspace-events", "", false, I),
  // Redis's compiled-in default is "* -::*"; Amber defaults to the loopback-only value of
  // the redis.conf Redis ships, so a server started without a config is not exposed.
  special("bind", "127.0.0.1 -::1", true, I),
  special("replicaof", "", true, { alias: "slaveof", immutable: true }),
  special("latency-tracking-info-percentiles", "50 99 99.9", true),
];

/** Directives accepted only in config files / on the command line (not configs). */
export const FILE_ONLY_DIRECTIVES: readonly string[] = [
  "include",
  "rename-command",
  "user",
  "loadmodule",
  "sentinel",
];

/** Removed directives Redis 7.0 still accepts (and ignores) with this many words. */
export const DEPRECATED_DIRECTIVES: readonly { name: string; argcMin: number; argcMax: number }[] =
  [
    { name: "list-max-ziplist-entries", argcMin: 2, argcMax: 2 },
    { name: "list-max-ziplist-value", argcMin: 2, argcMax: 2 },
    { name: "lua-replicate-commands", argcMin: 2, argcMax: 2 },
  ];
