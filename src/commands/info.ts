/**
 * INFO: the report Redis 7.0 prints, section by section, with Redis's field names in
 * Redis's order. Values Amber has no equivalent for (allocator internals, forks,
 * replication) are shown with the value an idle Redis shows, so that tools parsing
 * INFO find every field they expect.
 *
 * Features that land later (RDB, AOF, eviction, Pub/Sub, replication) adjust their
 * fields with `registerInfoSection`: a provider gets the section's ordered fields and
 * may overwrite values in place or append new fields.
 */
import { pubsubCounts } from "./pubsub.ts";
import process from "node:process";
import os from "node:os";
import type { HandlerMap } from "./registry.ts";
import type { Command } from "./registry.ts";
import type { Server } from "../server/server.ts";
import { AMBER_VERSION, REDIS_VERSION } from "../version.ts";

/** A section's fields, in output order. */
export type InfoFields = Map<string, string | number>;
/** Adjusts a section's fields for `server` (overwrite in place, or append). */
export type InfoProvider = (server: Server, fields: InfoFields) => void;

const providers = new Map<string, InfoProvider[]>();

/**
 * Registers a provider for section `name` (lowercase, e.g. "persistence"). A name
 * that is not one of Redis's sections becomes a new section printed after Keyspace
 * (with `all`/`everything` or when asked for by name) whenever it has fields.
 */
export function registerInfoSection(name: string, fn: InfoProvider): void {
  const key = name.toLowerCase();
  let list = providers.get(key);
  if (!list) providers.set(key, list = []);
  list.push(fn);
}

// ---- number formatting like Redis's printf calls ------------------------------------

/**
 * printf("%.2f"): like toFixed(2) except on exact ties, where C rounds half to even.
 * A double is an exact tie at the 3rd decimal only when 8x is an odd integer.
 */
export function fixed2(x: number): string {
  const e = x * 8;
  if (Number.isInteger(e) && e % 2 !== 0 && Math.abs(x) < 2 ** 40) {
    const sign = x < 0 ? -1 : 1;
    const k = Math.floor(Math.abs(x) * 100);
    const r = k % 2 === 0 ? k : k + 1;
    return (sign * r / 100).toFixed(2);
  }
  return x.toFixed(2);
}

/** Redis's bytesToHuman. */
export function bytesToHuman(n: number): string {
  const units = ["K", "M", "G", "T", "P"];
  if (n < 1024) return `${n}B`;
  let d = 1024;
  for (const u of units) {
    if (n < d * 1024) return fixed2(n / d) + u;
    d *= 1024;
  }
  return `${n}B`;
}

/** `%ld.%06ld` of a microsecond count (used_cpu_*). */
function secondsUsec(us: number): string {
  const s = Math.floor(us / 1e6);
  return `${s}.${String(Math.floor(us - s * 1e6)).padStart(6, "0")}`;
}

// ---- per-server bookkeeping INFO needs ------------------------------------------------

/** Redis keeps 16 samples, one per 100 ms, for the instantaneous_* metrics. */
const SAMPLES = 16;
const SAMPLE_MS = 100;

interface Metric {
  lastTime: number;
  lastValue: number;
  samples: number[];
  idx: number;
}

interface InfoState {
  replId: string;
  peakMemory: number;
  ops: Metric;
  netIn: Metric;
  netOut: Metric;
}

const states = new WeakMap<Server, InfoState>();
const STARTUP_MEMORY = usedMemory();

function usedMemory(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

function newMetric(v: number): Metric {
  return { lastTime: Date.now(), lastValue: v, samples: new Array(SAMPLES).fill(0), idx: 0 };
}

/** Redis's trackInstantaneousMetric: a per-second rate from the last 100 ms step. */
function track(m: Metric, value: number, now: number): void {
  const dt = now - m.lastTime;
  if (dt <= 0) return;
  m.samples[m.idx] = ((value - m.lastValue) * 1000) / dt;
  m.idx = (m.idx + 1) % SAMPLES;
  m.lastTime = now;
  m.lastValue = value;
}

function average(m: Metric): number {
  let s = 0;
  for (const v of m.samples) s += v;
  return s / SAMPLES;
}

/** The bookkeeping starts with the first INFO: until then nothing is sampled. */
function state(server: Server): InfoState {
  let st = states.get(server);
  if (st) return st;
  const s = server.stats;
  st = {
    replId: randomHex(40),
    peakMemory: usedMemory(),
    ops: newMetric(s.totalCommands),
    netIn: newMetric(s.netInputBytes),
    netOut: newMetric(s.netOutputBytes),
  };
  const info = st;
  let last = 0;
  server.onCron(() => {
    const now = Date.now();
    if (now - last < SAMPLE_MS) return;
    last = now;
    track(info.ops, server.stats.totalCommands, now);
    track(info.netIn, server.stats.netInputBytes, now);
    track(info.netOut, server.stats.netOutputBytes, now);
    info.peakMemory = Math.max(info.peakMemory, usedMemory());
  });
  states.set(server, st);
  return st;
}

function randomHex(n: number): string {
  const b = new Uint8Array(n / 2);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** A config value, or `fallback` for a directive the config table does not know. */
function cfg(server: Server, name: string, fallback: string): string {
  try {
    return server.config.get(name);
  } catch {
    return fallback;
  }
}

function cfgNum(server: Server, name: string, fallback: number): number {
  try {
    return server.config.getMemory(name);
  } catch {
    return fallback;
  }
}

// ---- sections ---------------------------------------------------------------------------

type Pairs = [string, string | number][];

function multiplexingApi(): string {
  const p = process.platform;
  if (p === "linux") return "epoll";
  if (p === "darwin" || p.endsWith("bsd")) return "kqueue";
  return "select";
}

function serverSection(server: Server): Pairs {
  const now = Date.now();
  const uptime = Math.floor((now - server.startTime) / 1000);
  const hz = Number(cfg(server, "hz", "10"));
  return [
    ["redis_version", REDIS_VERSION],
    ["redis_git_sha1", "00000000"],
    ["redis_git_dirty", 0],
    ["redis_build_id", "0"],
    ["redis_mode", "standalone"],
    ["os", `${os.type()} ${os.release()} ${os.machine?.() ?? os.arch()}`],
    ["arch_bits", 64],
    ["monotonic_clock", "POSIX clock_gettime"],
    ["multiplexing_api", multiplexingApi()],
    ["atomicvar_api", "c11-builtin"],
    ["gcc_version", "0.0.0"],
    ["process_id", process.pid],
    ["process_supervised", "no"],
    ["run_id", server.runId],
    ["tcp_port", server.port],
    ["server_time_usec", Math.floor((performance.timeOrigin + performance.now()) * 1000)],
    ["uptime_in_seconds", uptime],
    ["uptime_in_days", Math.floor(uptime / 86400)],
    ["hz", hz],
    ["configured_hz", hz],
    ["lru_clock", Math.floor(now / 1000) & 0xffffff],
    ["executable", process.execPath],
    ["config_file", server.configFile],
    ["io_threads_active", 0],
    ["amber_version", AMBER_VERSION],
  ];
}

function clientsSection(server: Server): Pairs {
  let blocked = 0;
  let maxIn = 0;
  let maxOut = 0;
  for (const c of server.clients.values()) {
    if (c.blocked) blocked++;
    maxIn = Math.max(maxIn, c.queryBufferLength());
    maxOut = Math.max(maxOut, c.reply.len);
  }
  return [
    ["connected_clients", server.clients.size],
    ["cluster_connections", 0],
    ["maxclients", cfg(server, "maxclients", "10000")],
    ["client_recent_max_input_buffer", maxIn],
    ["client_recent_max_output_buffer", maxOut],
    ["blocked_clients", blocked],
    ["tracking_clients", 0],
    ["clients_in_timeout_table", 0],
  ];
}

function memorySection(server: Server): Pairs {
  const st = state(server);
  const m = process.memoryUsage();
  const used = m.heapUsed + m.external;
  const active = m.heapTotal + m.external;
  const rss = m.rss;
  st.peakMemory = Math.max(st.peakMemory, used);
  let clientsMem = 0;
  for (const c of server.clients.values()) {
    clientsMem += c.queryBufferLength() + c.reply.len;
  }
  const startup = Math.min(STARTUP_MEMORY, used);
  const overhead = Math.min(used, startup + clientsMem);
  const dataset = used - overhead;
  const maxmemory = cfgNum(server, "maxmemory", 0);
  const total = os.totalmem();
  const ratio = (a: number, b: number) => fixed2(b ? a / b : 0);
  return [
    ["used_memory", used],
    ["used_memory_human", bytesToHuman(used)],
    ["used_memory_rss", rss],
    ["used_memory_rss_human", bytesToHuman(rss)],
    ["used_memory_peak", st.peakMemory],
    ["used_memory_peak_human", bytesToHuman(st.peakMemory)],
    ["used_memory_peak_perc", fixed2((used * 100) / st.peakMemory) + "%"],
    ["used_memory_overhead", overhead],
    ["used_memory_startup", startup],
    ["used_memory_dataset", dataset],
    [
      "used_memory_dataset_perc",
      fixed2(used > startup ? (dataset * 100) / (used - startup) : 0) + "%",
    ],
    ["allocator_allocated", used],
    ["allocator_active", active],
    ["allocator_resident", rss],
    ["total_system_memory", total],
    ["total_system_memory_human", bytesToHuman(total)],
    ["used_memory_lua", 0],
    ["used_memory_vm_eval", 0],
    ["used_memory_lua_human", "0B"],
    ["used_memory_scripts_eval", 0],
    ["number_of_cached_scripts", 0],
    ["number_of_functions", 0],
    ["number_of_libraries", 0],
    ["used_memory_vm_functions", 0],
    ["used_memory_vm_total", 0],
    ["used_memory_vm_total_human", "0B"],
    ["used_memory_functions", 0],
    ["used_memory_scripts", 0],
    ["used_memory_scripts_human", "0B"],
    ["maxmemory", maxmemory],
    ["maxmemory_human", bytesToHuman(maxmemory)],
    ["maxmemory_policy", cfg(server, "maxmemory-policy", "noeviction")],
    ["allocator_frag_ratio", ratio(active, used)],
    ["allocator_frag_bytes", active - used],
    ["allocator_rss_ratio", ratio(rss, active)],
    ["allocator_rss_bytes", rss - active],
    ["rss_overhead_ratio", "1.00"],
    ["rss_overhead_bytes", 0],
    ["mem_fragmentation_ratio", ratio(rss, used)],
    ["mem_fragmentation_bytes", rss - used],
    ["mem_not_counted_for_evict", 0],
    ["mem_replication_backlog", 0],
    ["mem_total_replication_buffers", 0],
    ["mem_clients_slaves", 0],
    ["mem_clients_normal", clientsMem],
    ["mem_cluster_links", 0],
    ["mem_aof_buffer", 0],
    ["mem_allocator", "v8"],
    ["active_defrag_running", 0],
    ["lazyfree_pending_objects", 0],
    ["lazyfreed_objects", 0],
  ];
}

/** What a Redis that never saved or loaded shows; RDB/AOF providers refine it. */
function persistenceSection(server: Server): Pairs {
  return [
    ["loading", 0],
    ["async_loading", 0],
    ["current_cow_peak", 0],
    ["current_cow_size", 0],
    ["current_cow_size_age", 0],
    ["current_fork_perc", "0.00"],
    ["current_save_keys_processed", 0],
    ["current_save_keys_total", 0],
    ["rdb_changes_since_last_save", server.dirty],
    ["rdb_bgsave_in_progress", 0],
    ["rdb_last_save_time", server.lastSave],
    ["rdb_last_bgsave_status", "ok"],
    ["rdb_last_bgsave_time_sec", -1],
    ["rdb_current_bgsave_time_sec", -1],
    ["rdb_saves", 0],
    ["rdb_last_cow_size", 0],
    ["rdb_last_load_keys_expired", 0],
    ["rdb_last_load_keys_loaded", 0],
    // No AOF is written yet, whatever `appendonly` says: report what is true.
    ["aof_enabled", 0],
    ["aof_rewrite_in_progress", 0],
    ["aof_rewrite_scheduled", 0],
    ["aof_last_rewrite_time_sec", -1],
    ["aof_current_rewrite_time_sec", -1],
    ["aof_last_bgrewrite_status", "ok"],
    ["aof_rewrites", 0],
    ["aof_rewrites_consecutive_failures", 0],
    ["aof_last_write_status", "ok"],
    ["aof_last_cow_size", 0],
    ["module_fork_in_progress", 0],
    ["module_fork_last_cow_size", 0],
  ];
}

function statsSection(server: Server): Pairs {
  const s = server.stats;
  const st = state(server);
  const pubsub = pubsubCounts(server);
  return [
    ["total_connections_received", s.totalConnections],
    ["total_commands_processed", s.totalCommands],
    ["instantaneous_ops_per_sec", Math.round(average(st.ops))],
    ["total_net_input_bytes", s.netInputBytes],
    ["total_net_output_bytes", s.netOutputBytes],
    ["total_net_repl_input_bytes", 0],
    ["total_net_repl_output_bytes", 0],
    ["instantaneous_input_kbps", fixed2(average(st.netIn) / 1024)],
    ["instantaneous_output_kbps", fixed2(average(st.netOut) / 1024)],
    ["instantaneous_input_repl_kbps", "0.00"],
    ["instantaneous_output_repl_kbps", "0.00"],
    ["rejected_connections", s.rejectedConnections],
    ["sync_full", 0],
    ["sync_partial_ok", 0],
    ["sync_partial_err", 0],
    ["expired_keys", s.expiredKeys],
    ["expired_stale_perc", fixed2(s.expiredStalePerc * 100)],
    ["expired_time_cap_reached_count", s.expiredTimeCapReachedCount],
    ["expire_cycle_cpu_milliseconds", 0],
    ["evicted_keys", 0],
    ["evicted_clients", 0],
    ["total_eviction_exceeded_time", 0],
    ["current_eviction_exceeded_time", 0],
    ["keyspace_hits", s.keyspaceHits],
    ["keyspace_misses", s.keyspaceMisses],
    ["pubsub_channels", pubsub.channels],
    ["pubsub_patterns", pubsub.patterns],
    ["pubsubshard_channels", pubsub.shardChannels],
    ["latest_fork_usec", 0],
    ["total_forks", 0],
    ["migrate_cached_sockets", 0],
    ["slave_expires_tracked_keys", 0],
    ["active_defrag_hits", 0],
    ["active_defrag_misses", 0],
    ["active_defrag_key_hits", 0],
    ["active_defrag_key_misses", 0],
    ["total_active_defrag_time", 0],
    ["current_active_defrag_time", 0],
    ["tracking_total_keys", 0],
    ["tracking_total_items", 0],
    ["tracking_total_prefixes", 0],
    ["unexpected_error_replies", s.unexpectedErrorReplies],
    ["total_error_replies", s.totalErrorReplies],
    ["dump_payload_sanitizations", 0],
    ["total_reads_processed", 0],
    ["total_writes_processed", 0],
    ["io_threaded_reads_processed", 0],
    ["io_threaded_writes_processed", 0],
    ["reply_buffer_shrinks", 0],
    ["reply_buffer_expands", 0],
    // Amber's own: the longest event-loop stall since start or CONFIG RESETSTAT.
    ["amber_eventloop_max_stall_ms", fixed2(Math.max(0, s.eventloopMaxStallMs))],
  ];
}

function replicationSection(server: Server): Pairs {
  return [
    ["role", "master"],
    ["connected_slaves", 0],
    ["master_failover_state", "no-failover"],
    ["master_replid", state(server).replId],
    ["master_replid2", "0".repeat(40)],
    ["master_repl_offset", 0],
    ["second_repl_offset", -1],
    ["repl_backlog_active", 0],
    ["repl_backlog_size", cfgNum(server, "repl-backlog-size", 1048576)],
    ["repl_backlog_first_byte_offset", 0],
    ["repl_backlog_histlen", 0],
  ];
}

function cpuSection(): Pairs {
  const u = process.cpuUsage();
  return [
    ["used_cpu_sys", secondsUsec(u.system)],
    ["used_cpu_user", secondsUsec(u.user)],
    ["used_cpu_sys_children", "0.000000"],
    ["used_cpu_user_children", "0.000000"],
    // One JS thread runs every command: the process figures are the main thread's.
    ["used_cpu_sys_main_thread", secondsUsec(u.system)],
    ["used_cpu_user_main_thread", secondsUsec(u.user)],
  ];
}

function commandstatsSection(server: Server): Pairs {
  const out: Pairs = [];
  const add = (cmd: Command) => {
    if (cmd.calls || cmd.failedCalls || cmd.rejectedCalls) {
      // Time may be charged in fractions of a microsecond; Redis prints whole ones.
      const usec = Math.floor(cmd.usec);
      // Redis divides in single precision: (float)usec / calls.
      const per = cmd.calls ? Math.fround(Math.fround(usec) / Math.fround(cmd.calls)) : 0;
      out.push([
        "cmdstat_" + cmd.name,
        `calls=${cmd.calls},usec=${usec},usec_per_call=${
          fixed2(per)
        },rejected_calls=${cmd.rejectedCalls},failed_calls=${cmd.failedCalls}`,
      ]);
    }
    if (cmd.subcommands) { for (const sub of cmd.subcommands.values()) add(sub); }
  };
  for (const cmd of server.commands.values()) add(cmd);
  return out;
}

function errorstatsSection(server: Server): Pairs {
  // Redis keeps error codes in a radix tree: they come out in byte order.
  const codes = [...server.stats.errorCodes.keys()].sort((a, b) => a < b ? -1 : a > b ? 1 : 0);
  return codes.map((k) => [`errorstat_${k}`, `count=${server.stats.errorCodes.get(k)}`]);
}

function keyspaceSection(server: Server): Pairs {
  const out: Pairs = [];
  for (const db of server.dbs) {
    if (db.size === 0) continue;
    out.push([`db${db.id}`, `keys=${db.size},expires=${db.expiresCount},avg_ttl=${db.avgTtl}`]);
  }
  return out;
}

interface Section {
  /** The name INFO takes (lowercase). */
  name: string;
  /** Other names selecting it (Redis accepts `module_list` for Modules). */
  aliases?: string[];
  header: string;
  inDefault: boolean;
  fields: (server: Server) => Pairs;
}

/** Redis 7.0's genRedisInfoString order. */
const SECTIONS: Section[] = [
  { name: "server", header: "Server", inDefault: true, fields: serverSection },
  { name: "clients", header: "Clients", inDefault: true, fields: clientsSection },
  { name: "memory", header: "Memory", inDefault: true, fields: memorySection },
  { name: "persistence", header: "Persistence", inDefault: true, fields: persistenceSection },
  { name: "stats", header: "Stats", inDefault: true, fields: statsSection },
  { name: "replication", header: "Replication", inDefault: true, fields: replicationSection },
  { name: "cpu", header: "CPU", inDefault: true, fields: cpuSection },
  {
    name: "modules",
    aliases: ["module_list"],
    header: "Modules",
    inDefault: true,
    fields: () => [],
  },
  { name: "commandstats", header: "Commandstats", inDefault: false, fields: commandstatsSection },
  { name: "errorstats", header: "Errorstats", inDefault: true, fields: errorstatsSection },
  // Amber keeps no latency histograms yet: the section is present and empty.
  { name: "latencystats", header: "Latencystats", inDefault: false, fields: () => [] },
  { name: "cluster", header: "Cluster", inDefault: true, fields: () => [["cluster_enabled", 0]] },
  { name: "keyspace", header: "Keyspace", inDefault: true, fields: keyspaceSection },
];

function renderSection(
  server: Server,
  name: string,
  header: string,
  pairs: Pairs,
  skipEmpty = false,
): string | null {
  const fields: InfoFields = new Map(pairs);
  for (const p of providers.get(name) ?? []) p(server, fields);
  if (skipEmpty && fields.size === 0) return null;
  let s = `# ${header}\r\n`;
  for (const [k, v] of fields) s += `${k}:${v}\r\n`;
  return s;
}

/**
 * The INFO text for `sections` (as the client gave them; none means the default set;
 * `all`, `everything` and `default` as in Redis). Unknown names select nothing.
 */
export function infoText(server: Server, sections: string[]): string {
  const wanted = new Set<string>();
  let all = false;
  if (sections.length === 0) {
    for (const s of SECTIONS) if (s.inDefault) wanted.add(s.name);
  }
  for (const raw of sections) {
    const n = raw.toLowerCase();
    if (n === "all" || n === "everything") all = true;
    else if (n === "default") {
      for (const s of SECTIONS) if (s.inDefault) wanted.add(s.name);
    } else wanted.add(n);
  }
  const parts: string[] = [];
  for (const s of SECTIONS) {
    if (all || wanted.has(s.name) || s.aliases?.some((a) => wanted.has(a))) {
      parts.push(renderSection(server, s.name, s.header, s.fields(server))!);
    }
  }
  const builtin = new Set(SECTIONS.map((s) => s.name));
  for (const name of providers.keys()) {
    if (builtin.has(name) || !(all || wanted.has(name))) continue;
    const header = name.charAt(0).toUpperCase() + name.slice(1);
    // A registered section with nothing to say for this server is left out.
    const text = renderSection(server, name, header, [], true);
    if (text !== null) parts.push(text);
  }
  return parts.join("\r\n");
}

export const infoCommands: HandlerMap = {
  info(c, argv) {
    c.reply.verbatim(infoText(c.server, argv.slice(1)));
  },
};
