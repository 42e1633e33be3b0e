/**
 * Tests for src/config.ts: config file / command line parsing (quoting, include, multi-arg
 * directives, save quirks, aliases, memory units), fatal error texts, CONFIG GET / SET /
 * REWRITE semantics, and differential checks against redis-server 7.0.15 when installed.
 */
import { deepStrictEqual, ok, strictEqual, throws } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import {
  argvToConfig,
  Config,
  ConfigError,
  ConfigFileError,
  configGet,
  configRewrite,
  configRewriteContent,
  configSet,
  keyspaceEventsFlagsToString,
  keyspaceEventsStringToFlags,
  loadConfig,
  type LoadOptions,
  NOTIFY,
  parseConfigText,
  parseMemory,
} from "../src/config.ts";
import { CONFIG_TABLE } from "../src/config_table.ts";

const IN_CI = Deno.env.get("CI") === "true";

function redisServerPath(): string | null {
  const r = spawnSync("sh", ["-c", "command -v redis-server"], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : null;
}
const REDIS = redisServerPath();
/** Skip differential tests only locally when redis-server is missing; in CI they must fail. */
const SKIP_DIFF = REDIS === null && !IN_CI;

const TEMP_DIRS: string[] = [];
function tempDir(): string {
  const d = fs.mkdtempSync(join(tmpdir(), "amber-config-test-"));
  TEMP_DIRS.push(d);
  return d;
}
globalThis.addEventListener("unload", () => {
  for (const d of TEMP_DIRS) fs.rmSync(d, { recursive: true, force: true });
});

/** Loads `text` as a config file in a fresh temp dir, with `args` after it. */
function loadText(
  text: string,
  args: string[] = [],
  opts: LoadOptions = {},
): ReturnType<typeof loadConfig> & { dir: string } {
  const dir = tempDir();
  fs.writeFileSync(join(dir, "redis.conf"), text, "latin1");
  const r = loadConfig(["redis.conf", ...args], { chdir: false, cwd: dir, ...opts });
  return { ...r, dir };
}

function loadError(
  text: string | null,
  args: string[] = [],
  opts: LoadOptions = {},
): ConfigFileError {
  const dir = tempDir();
  let argv = args;
  if (text !== null) {
    fs.writeFileSync(join(dir, "redis.conf"), text, "latin1");
    argv = ["redis.conf", ...args];
  }
  try {
    loadConfig(argv, { chdir: false, cwd: dir, ...opts });
  } catch (e) {
    if (e instanceof ConfigFileError) return e;
    throw e;
  }
  throw new Error("expected a ConfigFileError");
}

function fatalText(line: number, text: string, reason: string): string {
  return `\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file, at line ${line}\n>>> '${text}'\n${reason}`;
}

function setError(config: Config, pairs: [string, string][]): string {
  try {
    configSet(config, pairs);
  } catch (e) {
    if (e instanceof ConfigError) return e.message;
    throw e;
  }
  return "OK";
}

/* ------------------------------------------------------------------------------------------
 * Defaults and the table
 * ---------------------------------------------------------------------------------------- */

Deno.test("defaults: CONFIG GET forms", () => {
  const c = new Config({ chdir: false, cwd: "/tmp" });
  strictEqual(c.get("port"), "6379");
  strictEqual(c.get("save"), "3600 1 300 100 60 10000");
  strictEqual(c.get("bind"), "127.0.0.1 -::1"); // Amber: redis.conf's value, not "* -::*"
  strictEqual(c.get("maxmemory"), "0");
  strictEqual(c.get("proto-max-bulk-len"), "536870912");
  strictEqual(c.get("client-query-buffer-limit"), "1073741824");
  strictEqual(c.get("maxmemory-policy"), "noeviction");
  strictEqual(c.get("appendonly"), "no");
  strictEqual(c.get("dir"), "/tmp");
  strictEqual(
    c.get("client-output-buffer-limit"),
    "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
  );
  strictEqual(c.get("latency-tracking-info-percentiles"), "50 99 99.9");
  strictEqual(c.get("unixsocketperm"), "0");
  strictEqual(c.getInt("databases"), 16);
  strictEqual(c.getBool("protected-mode"), true);
  deepStrictEqual(c.saveParams(), [
    { seconds: 3600, changes: 1 },
    { seconds: 300, changes: 100 },
    { seconds: 60, changes: 10000 },
  ]);
  deepStrictEqual(c.bind(), ["127.0.0.1", "-::1"]);
  strictEqual(c.replicaOf(), null);
  // CONFIG GET * lists 192 names in Redis 7.0.15 (canonical names and aliases, no hidden).
  strictEqual(configGet(c, ["*"]).length, 192);
});

Deno.test("table: every entry's default round-trips and names are unique", () => {
  const names = new Set<string>();
  const c = new Config({ chdir: false });
  for (const def of CONFIG_TABLE) {
    for (const n of [def.name, def.alias].filter((x): x is string => !!x)) {
      ok(!names.has(n), `duplicate ${n}`);
      names.add(n);
    }
    if (def.name === "dir" || def.name === "replicaof") continue;
    strictEqual(c.get(def.name), def.default, def.name);
    ok(c.isDefault(def.name), def.name);
  }
});

/* ------------------------------------------------------------------------------------------
 * Parsing
 * ---------------------------------------------------------------------------------------- */

Deno.test("parse: comments, blank lines, case, CRLF, quoting", () => {
  const { config } = loadText(
    [
      "# comment",
      "   # indented comment",
      "",
      "  PORT 7001  \r",
      "\tMaxMemory-Policy ALLKEYS-LRU",
      'requirepass "a b\\"c\\x41"',
      "masteruser 'it\\'s'",
      "",
    ].join("\n"),
  );
  strictEqual(config.get("port"), "7001");
  strictEqual(config.get("maxmemory-policy"), "allkeys-lru");
  strictEqual(config.get("requirepass"), 'a b"cA');
  strictEqual(config.get("masteruser"), "it's");
});

Deno.test("parse: parseConfigText expands includes and reports lines", () => {
  const files: Record<string, string> = { "/x/inc.conf": "timeout 5\n\nhz 20\n" };
  const ds = parseConfigText(
    "port 1\ninclude /x/inc.conf\nSave 1 2 3 4\n",
    "main.conf",
    (p) => {
      if (!(p in files)) throw Object.assign(new Error("nope"), { code: "ENOENT" });
      return files[p];
    },
  );
  deepStrictEqual(
    ds.map((d) => [d.file, d.line, d.name, d.args]),
    [
      ["main.conf", 1, "port", ["1"]],
      ["/x/inc.conf", 1, "timeout", ["5"]],
      ["/x/inc.conf", 3, "hz", ["20"]],
      ["main.conf", 3, "save", ["1", "2", "3", "4"]],
    ],
  );
  throws(
    () => parseConfigText('port "1\n', "m.conf", () => ""),
    (e: Error) => e.message === fatalText(1, 'port "1', "Unbalanced quotes in configuration line"),
  );
});

Deno.test("parse: include (relative to dir, recursive, glob)", () => {
  const dir = tempDir();
  fs.mkdirSync(join(dir, "conf.d"));
  fs.writeFileSync(join(dir, "conf.d", "a.conf"), "timeout 7\ninclude conf.d/nested.inc\n");
  fs.writeFileSync(join(dir, "conf.d", "b.conf"), "tcp-keepalive 9\n");
  fs.writeFileSync(join(dir, "conf.d", ".hidden.conf"), "bogus directive\n");
  fs.writeFileSync(join(dir, "conf.d", "nested.inc"), "hz 50\n");
  fs.writeFileSync(
    join(dir, "main.conf"),
    "include conf.d/*.conf\ninclude nomatch/*.conf\nport 1\n",
  );
  const { config } = loadConfig(["main.conf"], { chdir: false, cwd: dir });
  strictEqual(config.get("timeout"), "7");
  strictEqual(config.get("tcp-keepalive"), "9");
  strictEqual(config.get("hz"), "50");
  strictEqual(config.get("port"), "1");
});

Deno.test("parse: include follows dir changes, missing include is fatal (log style)", () => {
  const dir = tempDir();
  fs.mkdirSync(join(dir, "sub"));
  fs.writeFileSync(join(dir, "sub", "x.conf"), "timeout 3\n");
  fs.writeFileSync(join(dir, "main.conf"), "dir sub\ninclude x.conf\n");
  const { config } = loadConfig(["main.conf"], { chdir: false, cwd: dir });
  strictEqual(config.get("timeout"), "3");
  strictEqual(config.get("dir"), join(dir, "sub"));
  const e = loadError("include nonexist.conf\n");
  ok(e.viaLog);
  strictEqual(
    e.message,
    "Fatal error, can't open config file 'nonexist.conf': No such file or directory",
  );
  const e2 = loadError(null, ["/nonexistent/dir/redis.conf"]);
  strictEqual(
    e2.message,
    "Fatal error, can't open config file '/nonexistent/dir/redis.conf': No such file or directory",
  );
});

Deno.test("parse: multi-arg directives, bind, replicaof, client-output-buffer-limit", () => {
  const { config } = loadText(
    [
      "bind 127.0.0.1 -::1",
      "slaveof 10.0.0.1 6380",
      "client-output-buffer-limit replica 1mb 2mb 10 pubsub 1 1 1",
      "client-output-buffer-limit NORMAL 1kb 0 5",
      "oom-score-adj-values 1 2 3",
      "shutdown-on-sigint now NOSAVE",
      "latency-tracking-info-percentiles 50.0 99.000 1e1",
      "notify-keyspace-events KEA",
    ].join("\n"),
  );
  deepStrictEqual(config.bind(), ["127.0.0.1", "-::1"]);
  strictEqual(config.get("bind"), "127.0.0.1 -::1");
  deepStrictEqual(config.replicaOf(), { host: "10.0.0.1", port: 6380 });
  strictEqual(config.get("replicaof"), "10.0.0.1 6380");
  strictEqual(config.get("slaveof"), "10.0.0.1 6380");
  strictEqual(
    config.get("client-output-buffer-limit"),
    "normal 1024 0 5 slave 1048576 2097152 10 pubsub 1 1 1",
  );
  deepStrictEqual(config.clientOutputBufferLimits().replica, {
    hard: 1048576,
    soft: 2097152,
    seconds: 10,
  });
  strictEqual(config.get("oom-score-adj-values"), "1 2 3");
  strictEqual(config.get("shutdown-on-sigint"), "nosave now");
  strictEqual(config.get("latency-tracking-info-percentiles"), "50 99 10");
  strictEqual(config.get("notify-keyspace-events"), "AKE");
  const { config: c2 } = loadText('bind ""\nslaveof no one\n');
  deepStrictEqual(c2.bind(), []);
  strictEqual(c2.replicaOf(), null);
});

Deno.test("parse: save semantics (first save replaces defaults, quirks around include)", () => {
  const cases: [string, string][] = [
    ["port 1\n", "3600 1 300 100 60 10000"],
    ["save 100 1\nsave 200 2\n", "100 1 200 2"],
    ["save 100 1 200 2\n", "100 1 200 2"],
    ['save ""\n', ""],
    ['save ""\nsave 100 1\n', "100 1"],
    ['save 100 1 200 2\nsave ""\n', ""],
    ['save 100 1\nsave ""\nsave 200 2\n', "200 2"],
    ["save +10 1  20 +0\n", "10 1 20 0"],
    // After an include returns, Redis no longer considers itself "reading the config file",
    // so every following save line replaces the previous ones.
    ["include inc.conf\nsave 100 1\nsave 200 2\n", "200 2"],
    ["save 100 1\ninclude inc.conf\nsave 200 2\nsave 300 3\n", "300 3"],
  ];
  for (const [text, want] of cases) {
    const dir = tempDir();
    fs.writeFileSync(join(dir, "inc.conf"), "timeout 1\n");
    fs.writeFileSync(join(dir, "redis.conf"), text);
    const { config } = loadConfig(["redis.conf"], { chdir: false, cwd: dir });
    strictEqual(config.get("save"), want, JSON.stringify(text));
  }
  const { config } = loadText("save 100 1\n", ["--save", "200", "2", "--save", "300", "3"]);
  strictEqual(config.get("save"), "100 1 200 2 300 3");
  strictEqual(loadText("port 1\n", ["--save"]).config.get("save"), "");
  strictEqual(loadText("port 1\n", ["--save", "--port", "5"]).config.get("save"), "");
});

Deno.test("parse: aliases and memory units", () => {
  const { config } = loadText(
    [
      "hash-max-ziplist-entries 100",
      "zset-max-ziplist-value 1kb",
      "slave-read-only no",
      "lua-time-limit 100",
      "maxmemory 1mb",
      "proto-max-bulk-len 2MB",
      "auto-aof-rewrite-min-size 1k",
      "client-query-buffer-limit 1G",
      "maxmemory-clients 5%",
      "list-max-ziplist-size -3",
      "unixsocketperm 0700",
    ].join("\n"),
  );
  strictEqual(config.get("hash-max-listpack-entries"), "100");
  strictEqual(config.get("hash-max-ziplist-entries"), "100");
  strictEqual(config.get("zset-max-listpack-value"), "1024");
  strictEqual(config.get("replica-read-only"), "no");
  strictEqual(config.get("busy-reply-threshold"), "100");
  strictEqual(config.get("maxmemory"), "1048576");
  strictEqual(config.getMemory("maxmemory"), 1048576);
  strictEqual(config.get("proto-max-bulk-len"), "2097152");
  strictEqual(config.get("auto-aof-rewrite-min-size"), "1000");
  strictEqual(config.get("client-query-buffer-limit"), "1000000000");
  strictEqual(config.get("maxmemory-clients"), "5%");
  strictEqual(config.get("list-max-listpack-size"), "-3");
  strictEqual(config.get("unixsocketperm"), "700");
  strictEqual(parseMemory("1kb"), 1024n);
  strictEqual(parseMemory("1k"), 1000n);
  strictEqual(parseMemory("3GB"), 3n * 1024n ** 3n);
  strictEqual(parseMemory(""), 0n);
  strictEqual(parseMemory("1.5mb"), null);
  strictEqual(parseMemory("-1"), null);
  strictEqual(parseMemory("18446744073709551616"), 18446744073709551615n);
});

Deno.test("parse: command line options join like redis-server", () => {
  deepStrictEqual(
    argvToConfig(["a.conf", "--port", "6380", "--save", "--bind", "1.1.1.1", "2.2.2.2"]),
    {
      configFile: "a.conf",
      stdin: false,
      options: 'port "6380" \nsave ""\nbind "1.1.1.1" "2.2.2.2" ',
    },
  );
  deepStrictEqual(
    argvToConfig(["--port 1", "--requirepass", 'a b"c', "--x"]).options,
    'port 1 \nrequirepass "a b\\"c" \nx ',
  );
  deepStrictEqual(argvToConfig(["--requirepass", "--foo"]).options, 'requirepass "--foo" ');
  strictEqual(argvToConfig(["a.conf", "-"]).stdin, true);
  const { config, configFile, dir } = loadText("port 1\n", ["--port", "2", "--maxmemory", "1gb"]);
  strictEqual(config.get("port"), "2");
  strictEqual(config.get("maxmemory"), "1073741824");
  strictEqual(configFile, join(dir, "redis.conf"));
  const none = loadConfig([], { chdir: false });
  strictEqual(none.configFile, undefined);
  strictEqual(none.config.get("port"), "6379");
  const stdin = loadConfig(["-", "--timeout", "4"], { chdir: false, readStdin: () => "port 9\n" });
  strictEqual(stdin.config.get("port"), "9");
  strictEqual(stdin.config.get("timeout"), "4");
});

Deno.test("parse: file-only directives, deprecated ones, warnings", () => {
  const r = loadText(
    [
      'rename-command flushall ""',
      "rename-command get myget",
      "user alice on >pw ~* +@all",
      "loadmodule /x/mod.so arg",
      "list-max-ziplist-entries 5",
      "lua-replicate-commands yes",
      "cluster-enabled yes",
      "cluster-enabled yes",
      "daemonize yes",
      "activerehashing no",
      "io-threads 1",
    ].join("\n"),
  );
  deepStrictEqual(r.renames, [["flushall", ""], ["get", "myget"]]);
  deepStrictEqual(r.users, [["alice", "on", ">pw", "~*", "+@all"]]);
  deepStrictEqual(r.modules, [["/x/mod.so", "arg"]]);
  strictEqual(r.warnings.length, 3, r.warnings.join("\n"));
  ok(r.warnings.some((w) => w.includes("loadmodule")));
  ok(r.warnings.some((w) => w.includes("'cluster-enabled'")));
  ok(r.warnings.some((w) => w.includes("daemonize yes")));
  strictEqual(
    loadError("rename-command nosuch x\n").message,
    fatalText(1, "rename-command nosuch x", "No such command in rename-command"),
  );
  strictEqual(
    loadError("rename-command get x\nrename-command set x\n").message,
    fatalText(2, "rename-command set x", "Target command name already exists"),
  );
  strictEqual(
    loadError("user bob on\n", [], {
      validateUser: (argv) => argv[1] === "bob" ? { argIndex: 2, error: "Syntax error" } : null,
    }).message,
    fatalText(1, "user bob on", "Error in user declaration 'on': Syntax error"),
  );
  const m = loadError("foo.bar 1\n");
  ok(m.viaLog);
  strictEqual(
    m.message,
    "Module Configuration detected without loadmodule directive or no ApplyConfig call: aborting",
  );
});

Deno.test("parse: fatal error texts", () => {
  const cases: [string, number, string, string][] = [
    ["port 7001\nfoo bar\n", 2, "foo bar", "Bad directive or wrong number of arguments"],
    ["port abc\n", 1, "port abc", "argument couldn't be parsed into an integer"],
    ["port 70000\n", 1, "port 70000", "argument must be between 0 and 65535 inclusive"],
    ["port 1 2\n", 1, "port 1 2", "wrong number of arguments"],
    ["port 0 # comment\n", 1, "port 0 # comment", "wrong number of arguments"],
    [
      "maxmemory-policy bogus\n",
      1,
      "maxmemory-policy bogus",
      "argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction",
    ],
    ["save 900\n", 1, "save 900", "Invalid save parameters"],
    ["save 0 1\n", 1, "save 0 1", "Invalid save parameters"],
    ['port "7001\n', 1, 'port "7001', "Unbalanced quotes in configuration line"],
    ["maxmemory 1x\n", 1, "maxmemory 1x", "argument must be a memory value"],
    ["appendonly maybe\n", 1, "appendonly maybe", "argument must be 'yes' or 'no'"],
    ['""\n', 1, '""', "Bad directive or wrong number of arguments"],
    ["foo.bar\n", 1, "foo.bar", "Module config specified without value"],
    [
      "sentinel monitor x\n",
      1,
      "sentinel monitor x",
      "sentinel directive while not in sentinel mode",
    ],
    ["dir /nonexistent/x\n", 1, "dir /nonexistent/x", "No such file or directory"],
    ['appendfilename ""\n', 1, 'appendfilename ""', "appendfilename can't be empty"],
    ["dbfilename a/b\n", 1, "dbfilename a/b", "dbfilename can't be a path, just a filename"],
    ["replicaof h abc\n", 1, "replicaof h abc", "Invalid master port"],
    [
      "oom-score-adj-values 0 200 3000\n",
      1,
      "oom-score-adj-values 0 200 3000",
      "Invalid oom-score-adj-values, elements must be between -2000 and 2000.",
    ],
    [
      "maxmemory-clients 101%\n",
      1,
      "maxmemory-clients 101%",
      "percentage argument must be less or equal to 100",
    ],
    [
      "unixsocketperm 800\n",
      1,
      "unixsocketperm 800",
      "argument couldn't be parsed as an octal number",
    ],
  ];
  for (const [text, line, lineText, reason] of cases) {
    const e = loadError(text);
    strictEqual(e.message, fatalText(line, lineText, reason), JSON.stringify(text));
    strictEqual(e.reason, reason);
    strictEqual(e.line, line);
  }
  // Command line options are appended after "\n": they start one line after the file.
  strictEqual(
    loadError(null, ["--port", "abc"]).message,
    fatalText(2, 'port "abc"', "argument couldn't be parsed into an integer"),
  );
  strictEqual(
    loadError("port 0\n", ["--port", "1", "--bogus", "5"]).message,
    fatalText(4, 'bogus "5"', "Bad directive or wrong number of arguments"),
  );
  // Errors inside an include count lines of the included file.
  const dir = tempDir();
  fs.writeFileSync(join(dir, "inc.conf"), "timeout 1\n\ntimeout x\n");
  fs.writeFileSync(join(dir, "main.conf"), "port 1\ninclude inc.conf\n");
  throws(
    () => loadConfig(["main.conf"], { chdir: false, cwd: dir }),
    (e: Error) =>
      e.message === fatalText(3, "timeout x", "argument couldn't be parsed into an integer") &&
      (e as ConfigFileError).file === "inc.conf",
  );
  // End-of-file checks have no line.
  strictEqual(
    loadError("logfile /nonexistent/dir/x.log\n").message,
    "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nCan't open the log file: No such file or directory",
  );
  strictEqual(
    loadError("cluster-enabled yes\nreplicaof 127.0.0.1 1\n").message,
    "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nreplicaof directive not allowed in cluster mode",
  );
});

Deno.test("parse: hz is clamped after loading", () => {
  strictEqual(loadText("hz 1000\n").config.get("hz"), "500");
  strictEqual(loadText("hz 0\n").config.get("hz"), "1");
});

/* ------------------------------------------------------------------------------------------
 * Config.set / typed accessors / listeners
 * ---------------------------------------------------------------------------------------- */

Deno.test("Config.set: validation texts and normalized values", () => {
  const c = new Config({ chdir: false });
  throws(
    () => c.set("port", "abc"),
    new ConfigError("argument couldn't be parsed into an integer"),
  );
  throws(
    () => c.set("timeout", "01"),
    new ConfigError("argument couldn't be parsed into an integer"),
  );
  throws(
    () => c.set("timeout", "-5"),
    new ConfigError("argument must be between 0 and 2147483647 inclusive"),
  );
  throws(() => c.set("maxmemory", "+5"), new ConfigError("argument must be a memory value"));
  throws(() => c.set("activerehashing", "1"), new ConfigError("argument must be 'yes' or 'no'"));
  throws(
    () => c.set("shutdown-on-sigint", "save nosave"),
    new ConfigError("shutdown options SAVE and NOSAVE can't be used simultaneously"),
  );
  throws(
    () => c.set("notify-keyspace-events", "q"),
    new ConfigError("Invalid event class character. Use 'Ag$lshzxeKEtmdn'."),
  );
  c.set("activerehashing", "NO");
  strictEqual(c.get("activerehashing"), "no");
  c.set("appendfsync", "Always");
  strictEqual(c.get("appendfsync"), "always");
  c.set("oom-score-adj", "relative");
  strictEqual(c.get("oom-score-adj"), "yes");
  c.set("maxmemory", "18446744073709551616");
  strictEqual(c.get("maxmemory"), "18446744073709551615");
  c.set("maxmemory", "99999999999999999999gb");
  strictEqual(c.get("maxmemory"), "18446744072635809792");
  c.set("maxmemory-clients", "18446744073709551615");
  strictEqual(c.get("maxmemory-clients"), "1%");
  c.set("notify-keyspace-events", "Ex");
  strictEqual(c.get("notify-keyspace-events"), "xE");
  strictEqual(c.notifyFlags(), NOTIFY.EXPIRED | NOTIFY.KEYEVENT);
  c.set("notify-keyspace-events", "KEnA");
  strictEqual(c.get("notify-keyspace-events"), "AKE");
  ok(c.notifyFlags() & NOTIFY.NEW);
  c.set("latency-tracking-info-percentiles", "99.9999999999 0.000001 1.23456789");
  strictEqual(c.get("latency-tracking-info-percentiles"), "100 0.000001 1.234568");
  c.set("latency-tracking-info-percentiles", "");
  strictEqual(c.get("latency-tracking-info-percentiles"), "");
  c.set("save", "");
  deepStrictEqual(c.saveParams(), []);
  c.set("save", "10 1 20 2");
  strictEqual(c.get("save"), "10 1 20 2");
  c.set("client-output-buffer-limit", "pubsub 1mb 1kb 5");
  strictEqual(
    c.get("client-output-buffer-limit"),
    "normal 0 0 0 slave 268435456 67108864 60 pubsub 1048576 1024 5",
  );
  strictEqual(keyspaceEventsFlagsToString(keyspaceEventsStringToFlags("Kg$lshzxetmdn")), "AKm");
});

Deno.test("Config: dir without chdir resolves and validates", () => {
  const dir = tempDir();
  fs.mkdirSync(join(dir, "d"));
  fs.writeFileSync(join(dir, "f"), "");
  const c = new Config({ chdir: false, cwd: dir });
  c.set("dir", "d");
  strictEqual(c.get("dir"), join(dir, "d"));
  strictEqual(c.resolvePath("dump.rdb"), join(dir, "d", "dump.rdb"));
  throws(() => c.set("dir", "../f"), new ConfigError("Not a directory"));
  throws(() => c.set("dir", "nope"), new ConfigError("No such file or directory"));
  strictEqual(c.get("dir"), join(dir, "d"));
});

Deno.test("Config: change listeners fire on change and can veto", () => {
  const c = new Config({ chdir: false });
  const seen: string[] = [];
  const off = c.onChange("slave-read-only", (v, old) => seen.push(`${old}->${v}`));
  c.set("replica-read-only", "no");
  c.set("replica-read-only", "no"); // no change, no call
  off();
  c.set("replica-read-only", "yes");
  deepStrictEqual(seen, ["yes->no"]);
  c.onChange("port", (v) => {
    if (v === "1") throw new ConfigError("Unable to listen on this port. Check server logs.");
  });
  throws(
    () => c.set("port", "1"),
    new ConfigError("Unable to listen on this port. Check server logs."),
  );
  strictEqual(c.get("port"), "6379");
});

/* ------------------------------------------------------------------------------------------
 * CONFIG GET / SET
 * ---------------------------------------------------------------------------------------- */

Deno.test("CONFIG GET: exact names, aliases, globbing, hidden configs", () => {
  const c = new Config({ chdir: false });
  deepStrictEqual(configGet(c, ["PORT"]), [["PORT", "6379"]]);
  deepStrictEqual(configGet(c, ["port", "PORT"]), [["port", "6379"]]);
  deepStrictEqual(configGet(c, ["hash-max-ziplist-entries"]), [[
    "hash-max-ziplist-entries",
    "512",
  ]]);
  deepStrictEqual(configGet(c, ["nonexistent"]), []);
  deepStrictEqual(configGet(c, ["loading*"]), []);
  deepStrictEqual(configGet(c, ["watchdog-period"]), [["watchdog-period", "0"]]);
  deepStrictEqual(configGet(c, ["maxmemory?policy"]), [["maxmemory-policy", "noeviction"]]);
  deepStrictEqual(configGet(c, ["[pq]ort"]), [["port", "6379"]]);
  const names = (pats: string[]) => configGet(c, pats).map(([k]) => k).sort();
  deepStrictEqual(names(["HASH-MAX-ZIP*"]), ["hash-max-ziplist-entries", "hash-max-ziplist-value"]);
  deepStrictEqual(names(["*ziplist*", "hash-max-listpack-*"]), [
    "hash-max-listpack-entries",
    "hash-max-listpack-value",
    "hash-max-ziplist-entries",
    "hash-max-ziplist-value",
    "list-max-ziplist-size",
    "zset-max-ziplist-entries",
    "zset-max-ziplist-value",
  ]);
  deepStrictEqual(
    names(["*delay*"]),
    ["repl-diskless-sync-delay", "repl-disable-tcp-nodelay"].sort(),
  );
  strictEqual(configGet(c, ["port", "*"]).length, 192);
});

Deno.test("CONFIG SET: errors, atomicity, aliases, protected and loading", () => {
  const c = new Config({ chdir: false });
  strictEqual(
    setError(c, [["port", "7000"], ["port", "7001"]]),
    "ERR CONFIG SET failed (possibly related to argument 'port') - duplicate parameter",
  );
  strictEqual(
    setError(c, [["Port", "1"], ["PORT", "2"]]),
    "ERR CONFIG SET failed (possibly related to argument 'PORT') - duplicate parameter",
  );
  strictEqual(
    setError(c, [["maxmemory", "5"], ["port", "1"], ["bogus", "1"]]),
    "ERR Unknown option or number of arguments for CONFIG SET - 'bogus'",
  );
  strictEqual(
    setError(c, [["DAEMONIZE", "no"], ["foo", "bar"]]),
    "ERR CONFIG SET failed (possibly related to argument 'DAEMONIZE') - can't set immutable config",
  );
  strictEqual(
    setError(c, [["foo", "bar"], ["daemonize", "no"]]),
    "ERR Unknown option or number of arguments for CONFIG SET - 'foo'",
  );
  strictEqual(
    setError(c, [["dir", "/tmp"]]),
    "ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config",
  );
  strictEqual(
    setError(c, [["HASH-MAX-ZIPLIST-ENTRIES", "abc"]]),
    "ERR CONFIG SET failed (possibly related to argument 'hash-max-ziplist-entries') - argument couldn't be parsed into an integer",
  );
  // Atomic: an invalid later value leaves earlier ones untouched.
  strictEqual(
    setError(c, [["maxmemory", "1"], ["timeout", "5"], ["port", "99999"]]),
    "ERR CONFIG SET failed (possibly related to argument 'port') - argument must be between 0 and 65535 inclusive",
  );
  strictEqual(c.get("maxmemory"), "0");
  strictEqual(c.get("timeout"), "0");
  // Alias and canonical name are different parameters for the duplicate check.
  strictEqual(
    setError(c, [["hash-max-ziplist-entries", "100"], ["hash-max-listpack-entries", "200"]]),
    "OK",
  );
  strictEqual(c.get("hash-max-listpack-entries"), "200");
  // Protected config with permission; DENY_LOADING configs while loading.
  const dir = tempDir();
  configSet(c, [["dir", dir], ["dbfilename", "x.rdb"]], { allowProtected: true });
  strictEqual(c.get("dir"), dir);
  strictEqual(
    setError(c, [["appendonly", "yes"]]) === "OK" && (() => {
      try {
        configSet(c, [["appendonly", "no"]], { loading: true });
        return "OK";
      } catch (e) {
        return (e as Error).message;
      }
    })(),
    "LOADING Redis is loading the dataset in memory",
  );
  // Apply-time clamps.
  configSet(c, [["hz", "1000"]]);
  strictEqual(c.get("hz"), "500");
  configSet(c, [["repl-backlog-size", "1000"]]);
  strictEqual(c.get("repl-backlog-size"), "16384");
  // A listener veto rolls back every value of the call.
  c.onChange("timeout", () => {
    throw new ConfigError("nope");
  });
  strictEqual(
    setError(c, [["maxmemory", "7"], ["timeout", "9"]]),
    "ERR CONFIG SET failed (possibly related to argument 'timeout') - nope",
  );
  strictEqual(c.get("maxmemory"), "0");
  strictEqual(c.get("timeout"), "0");
});

/* ------------------------------------------------------------------------------------------
 * CONFIG REWRITE
 * ---------------------------------------------------------------------------------------- */

Deno.test("CONFIG REWRITE: keeps layout, replaces in place, appends, round-trips", () => {
  const dir = tempDir();
  const path = join(dir, "redis.conf");
  const original = [
    "# top comment",
    "port 7001",
    "",
    "  # indented comment",
    "save 100 1",
    "save 200 2",
    "SLAVE-READ-ONLY yes",
    "hash-max-ziplist-entries 100",
    "maxmemory 1mb",
    "timeout 5",
    "timeout 6",
    "list-max-ziplist-entries 5",
    'rename-command flushall ""',
    `dir ${dir}`,
    "bind 127.0.0.1",
    "loglevel   VERBOSE",
    "",
    "",
    "maxmemory-policy allkeys-lru",
    "",
  ].join("\n");
  fs.writeFileSync(path, original);
  const { config } = loadConfig([path], { chdir: false, cwd: dir });
  configSet(config, [
    ["timeout", "0"],
    ["maxmemory", "3000"],
    ["notify-keyspace-events", "KEA"],
    ["loglevel", "notice"],
    ["client-output-buffer-limit", "pubsub 1mb 1kb 5"],
    ["requirepass", 'a b"c'],
    ["maxmemory-clients", "5%"],
    ["hash-max-listpack-value", "1024"],
    ["save", "100 1 200 2 300 3"],
  ]);
  fs.appendFileSync(path, '"unbalanced\nfoo-unknown 1\n');
  configRewrite(config, path);
  const got = fs.readFileSync(path, "latin1");
  const want = [
    "# top comment",
    "port 7001",
    "",
    "# indented comment",
    "save 100 1",
    "save 200 2",
    "replica-read-only yes",
    "hash-max-listpack-entries 100",
    "maxmemory 3000",
    "timeout 0",
    "",
    "# ??? list-max-ziplist-entries 5",
    'rename-command flushall ""',
    `dir "${dir}"`,
    "bind 127.0.0.1",
    "loglevel notice",
    "",
    "maxmemory-policy allkeys-lru",
    '# ??? "unbalanced',
    "# ??? foo-unknown 1",
    "",
    "# Generated by CONFIG REWRITE",
    'requirepass "a b\\"c"',
    "hash-max-listpack-value 1kb",
    "maxmemory-clients 5%",
    "save 300 3",
    "client-output-buffer-limit pubsub 1mb 1kb 5",
    'notify-keyspace-events "AKE"',
    "latency-tracking-info-percentiles 50 99 99.9",
    "",
  ];
  deepStrictEqual(got.split("\n"), want);
  // Round trip: loading the rewritten file gives the same configuration.
  const again = loadConfig([path], { chdir: false, cwd: dir }).config;
  for (const def of CONFIG_TABLE) strictEqual(again.get(def.name), config.get(def.name), def.name);
  // Rewriting again keeps the values. Like Redis, the client-output-buffer-limit line is
  // reused for the `normal` class and `pubsub` moves to the end; it settles after that.
  configRewrite(again, path);
  const second = fs.readFileSync(path, "latin1");
  ok(second.includes("client-output-buffer-limit normal 0 0 0\n"));
  for (let i = 0; i < 3; i++) {
    const c = loadConfig([path], { chdir: false, cwd: dir }).config;
    for (const def of CONFIG_TABLE) strictEqual(c.get(def.name), config.get(def.name), def.name);
    configRewrite(c, path);
  }
  const settled = fs.readFileSync(path, "latin1");
  configRewrite(loadConfig([path], { chdir: false, cwd: dir }).config, path);
  strictEqual(fs.readFileSync(path, "latin1"), settled);
  // No leftover temp files.
  deepStrictEqual(fs.readdirSync(dir).filter((f) => f.startsWith("redis.conf.")), []);
});

Deno.test("CONFIG REWRITE: defaults remove bind/requirepass/replicaof lines; new file; errors", () => {
  const dir = tempDir();
  const path = join(dir, "r.conf");
  fs.writeFileSync(
    path,
    'port 7\n\n\n# x\nbind 127.0.0.1 ::1\nrequirepass foo\nlogfile ""\nslaveof 127.0.0.1 1\n',
  );
  const { config } = loadConfig([path], { chdir: false, cwd: dir });
  configSet(config, [["bind", "127.0.0.1 -::1"], ["requirepass", ""]]);
  const content = configRewriteContent(config, path, {
    users: ["user default on nopass ~* &* +@all"],
  });
  strictEqual(
    content,
    [
      "port 7",
      "",
      "# x",
      "",
      'logfile ""',
      "replicaof 127.0.0.1 1",
      "",
      "# Generated by CONFIG REWRITE",
      `dir "${dir}"`,
      "save 3600 1",
      "save 300 100",
      "save 60 10000",
      "latency-tracking-info-percentiles 50 99 99.9",
      "user default on nopass ~* &* +@all",
      "",
    ].join("\n"),
  );
  const fresh = join(dir, "new.conf");
  configRewrite(new Config({ chdir: false, cwd: dir }), fresh);
  ok(
    fs.readFileSync(fresh, "latin1").startsWith(
      `# Generated by CONFIG REWRITE\ndir "${dir}"\nsave 3600 1\n`,
    ),
  );
  throws(
    () => configRewrite(config, undefined),
    new ConfigError("ERR The server is running without a config file"),
  );
  throws(
    () => configRewrite(config, join(dir, "nodir", "x.conf")),
    new ConfigError("ERR Rewriting config file: No such file or directory"),
  );
});

/* ------------------------------------------------------------------------------------------
 * Differential tests against redis-server
 * ---------------------------------------------------------------------------------------- */

/** Runs redis-server with `args` in `dir`, expecting it to exit; returns stdout/stderr. */
function runRedis(
  args: string[],
  dir: string,
): { stdout: string; stderr: string; status: number | null } {
  const r = spawnSync(REDIS!, args, { cwd: dir, encoding: "latin1", timeout: 5000 });
  return { stdout: r.stdout ?? "", stderr: r.stderr ?? "", status: r.status };
}

const BAD_CONFIGS: { name: string; files?: Record<string, string>; args: string[] }[] = [
  { name: "unknown directive", files: { "r.conf": "port 0\nfoo bar\n" }, args: ["r.conf"] },
  { name: "port abc", files: { "r.conf": "port abc\n" }, args: ["r.conf"] },
  { name: "port range", files: { "r.conf": "port 65536\n" }, args: ["r.conf"] },
  { name: "bad enum", files: { "r.conf": "port 0\nmaxmemory-policy bogus\n" }, args: ["r.conf"] },
  { name: "enum args", files: { "r.conf": "port 0\nloglevel a b\n" }, args: ["r.conf"] },
  { name: "save odd", files: { "r.conf": "port 0\nsave 900\n" }, args: ["r.conf"] },
  { name: "save zero", files: { "r.conf": "port 0\nsave 0 1\n" }, args: ["r.conf"] },
  { name: "save junk", files: { "r.conf": "port 0\nsave 10 1x\n" }, args: ["r.conf"] },
  { name: "unbalanced", files: { "r.conf": 'port 0\nrequirepass "abc\n' }, args: ["r.conf"] },
  { name: "quote glued", files: { "r.conf": "port 0\nrequirepass 'a'b\n" }, args: ["r.conf"] },
  { name: "nargs", files: { "r.conf": "port 0 1\n" }, args: ["r.conf"] },
  { name: "inline comment", files: { "r.conf": "port 0 # c\n" }, args: ["r.conf"] },
  { name: "empty quoted", files: { "r.conf": 'port 0\n""\n' }, args: ["r.conf"] },
  { name: "crlf upper", files: { "r.conf": "PORT 0\r\nTimeOut abc\r\n" }, args: ["r.conf"] },
  { name: "tabs", files: { "r.conf": "port\t0\ntimeout\t-1\n" }, args: ["r.conf"] },
  { name: "memory", files: { "r.conf": "port 0\nmaxmemory 1x\n" }, args: ["r.conf"] },
  { name: "memory neg", files: { "r.conf": "port 0\nmaxmemory -1\n" }, args: ["r.conf"] },
  {
    name: "bulk len min",
    files: { "r.conf": "port 0\nproto-max-bulk-len 1kb\n" },
    args: ["r.conf"],
  },
  { name: "percent", files: { "r.conf": "port 0\nmaxmemory-clients 101%\n" }, args: ["r.conf"] },
  { name: "bool", files: { "r.conf": "port 0\nappendonly maybe\n" }, args: ["r.conf"] },
  { name: "octal", files: { "r.conf": "port 0\nunixsocketperm 800\n" }, args: ["r.conf"] },
  {
    name: "bind many",
    files: { "r.conf": "port 0\nbind 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17\n" },
    args: ["r.conf"],
  },
  { name: "dir", files: { "r.conf": "port 0\ndir /nonexistent/x\n" }, args: ["r.conf"] },
  { name: "appendfilename", files: { "r.conf": 'port 0\nappendfilename ""\n' }, args: ["r.conf"] },
  { name: "appenddirname", files: { "r.conf": "port 0\nappenddirname a/b\n" }, args: ["r.conf"] },
  { name: "dbfilename", files: { "r.conf": "port 0\ndbfilename a/b\n" }, args: ["r.conf"] },
  {
    name: "obuf class",
    files: { "r.conf": "port 0\nclient-output-buffer-limit master 1mb 2mb 10\n" },
    args: ["r.conf"],
  },
  {
    name: "obuf args",
    files: { "r.conf": "port 0\nclient-output-buffer-limit normal 1 1\n" },
    args: ["r.conf"],
  },
  {
    name: "obuf value",
    files: { "r.conf": "port 0\nclient-output-buffer-limit normal 1 1 -1\n" },
    args: ["r.conf"],
  },
  {
    name: "oom",
    files: { "r.conf": "port 0\noom-score-adj-values 0 200 3000\n" },
    args: ["r.conf"],
  },
  {
    name: "oom args",
    files: { "r.conf": "port 0\noom-score-adj-values 0 200\n" },
    args: ["r.conf"],
  },
  { name: "notify", files: { "r.conf": "port 0\nnotify-keyspace-events KEq\n" }, args: ["r.conf"] },
  {
    name: "percentiles",
    files: { "r.conf": "port 0\nlatency-tracking-info-percentiles 50 101\n" },
    args: ["r.conf"],
  },
  {
    name: "percentiles nan",
    files: { "r.conf": "port 0\nlatency-tracking-info-percentiles x\n" },
    args: ["r.conf"],
  },
  {
    name: "shutdown flags",
    files: { "r.conf": "port 0\nshutdown-on-sigterm save nosave\n" },
    args: ["r.conf"],
  },
  {
    name: "hostname",
    files: { "r.conf": "port 0\ncluster-announce-hostname a_b\n" },
    args: ["r.conf"],
  },
  {
    name: "proc title",
    files: { "r.conf": "port 0\nproc-title-template {foo}\n" },
    args: ["r.conf"],
  },
  { name: "replicaof port", files: { "r.conf": "port 0\nreplicaof h abc\n" }, args: ["r.conf"] },
  { name: "replicaof args", files: { "r.conf": "port 0\nslaveof h\n" }, args: ["r.conf"] },
  { name: "activedefrag", files: { "r.conf": "port 0\nactivedefrag yes\n" }, args: ["r.conf"] },
  {
    name: "deprecated args",
    files: { "r.conf": "port 0\nlist-max-ziplist-entries 5 6\n" },
    args: ["r.conf"],
  },
  { name: "module config", files: { "r.conf": "port 0\nfoo.bar\n" }, args: ["r.conf"] },
  { name: "sentinel", files: { "r.conf": "port 0\nsentinel monitor x\n" }, args: ["r.conf"] },
  {
    name: "rename nosuch",
    files: { "r.conf": "port 0\nrename-command nosuch x\n" },
    args: ["r.conf"],
  },
  {
    name: "rename target",
    files: { "r.conf": "port 0\nrename-command get x\nrename-command set x\n" },
    args: ["r.conf"],
  },
  {
    name: "logfile",
    files: { "r.conf": "port 0\nlogfile /nonexistent/dir/x.log\n" },
    args: ["r.conf"],
  },
  {
    name: "cluster replicaof",
    files: { "r.conf": "port 0\ncluster-enabled yes\nreplicaof 127.0.0.1 1\n" },
    args: ["r.conf"],
  },
  {
    name: "error in include",
    files: { "r.conf": "port 0\ninclude inc.conf\n", "inc.conf": "timeout 1\n\ntimeout x\n" },
    args: ["r.conf"],
  },
  {
    name: "glob include concatenates",
    files: { "r.conf": "port 0\ninclude g*.conf\n", "g1.conf": "timeout 1\n", "g2.conf": "foo\n" },
    args: ["r.conf"],
  },
  { name: "cmdline only", args: ["--port", "0", "--timeout", "abc"] },
  {
    name: "cmdline after file",
    files: { "r.conf": "port 0\n" },
    args: ["r.conf", "--timeout", "abc"],
  },
  {
    name: "cmdline no newline",
    files: { "r.conf": "port 0" },
    args: ["r.conf", "--timeout", "abc"],
  },
  { name: "cmdline save", args: ["--port", "0", "--save", "--daemonize", "no", "--bogus"] },
  { name: "cmdline quoting", args: ["--port", "0", "--requirepass", 'a b"c\n', "--foo"] },
  { name: "cmdline joined", args: ["--port 0", "--bogus 5"] },
  { name: "cmdline multi", args: ["--port", "0", "--maxmemory-policy", "bogus", "x"] },
  { name: "cmdline missing value", args: ["--port", "0", "--timeout"] },
];

Deno.test({
  name: "differential: fatal config errors match redis-server's stderr",
  ignore: SKIP_DIFF,
  fn() {
    if (REDIS === null) throw new Error("redis-server is not installed (CI=true)");
    for (const c of BAD_CONFIGS) {
      const dir = tempDir();
      for (const [f, text] of Object.entries(c.files ?? {})) {
        fs.writeFileSync(join(dir, f), text, "latin1");
      }
      const r = runRedis(c.args, dir);
      strictEqual(r.status, 1, `${c.name}: redis-server should fail\n${r.stdout}${r.stderr}`);
      let ours: ConfigFileError | null = null;
      try {
        loadConfig(c.args, { chdir: false, cwd: dir });
      } catch (e) {
        if (!(e instanceof ConfigFileError)) throw e;
        ours = e;
      }
      ok(ours, `${c.name}: Amber should fail`);
      if (ours.viaLog) {
        ok(
          r.stdout.includes(ours.message),
          `${c.name}: ${JSON.stringify(r.stdout)} vs ${ours.message}`,
        );
      } else {
        strictEqual(ours.message, r.stderr.replace(/\n$/, ""), c.name);
      }
    }
  },
});

/** A minimal RESP2 client for CONFIG GET / SET / REWRITE against redis-server. */
class MiniClient {
  private buf = "";
  private constructor(private conn: Deno.Conn) {}
  static async connect(port: number): Promise<MiniClient> {
    return new MiniClient(await Deno.connect({ hostname: "127.0.0.1", port }));
  }
  private async fill(): Promise<void> {
    const b = new Uint8Array(65536);
    const n = await this.conn.read(b);
    if (n === null) throw new Error("connection closed");
    this.buf += new TextDecoder("latin1").decode(b.subarray(0, n));
  }
  private async line(): Promise<string> {
    while (!this.buf.includes("\r\n")) await this.fill();
    const i = this.buf.indexOf("\r\n");
    const l = this.buf.slice(0, i);
    this.buf = this.buf.slice(i + 2);
    return l;
  }
  private async reply(): Promise<unknown> {
    const l = await this.line();
    const rest = l.slice(1);
    switch (l[0]) {
      case "+":
        return rest;
      case "-":
        return { error: rest };
      case ":":
        return Number(rest);
      case "$": {
        const n = Number(rest);
        if (n < 0) return null;
        while (this.buf.length < n + 2) await this.fill();
        const s = this.buf.slice(0, n);
        this.buf = this.buf.slice(n + 2);
        return s;
      }
      case "*": {
        const out = [];
        for (let i = 0, n = Number(rest); i < n; i++) out.push(await this.reply());
        return out;
      }
    }
    throw new Error(`bad reply ${l}`);
  }
  async call(...args: string[]): Promise<unknown> {
    let s = `*${args.length}\r\n`;
    for (const a of args) s += `$${a.length}\r\n${a}\r\n`;
    const bytes = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) bytes[i] = s.charCodeAt(i);
    await this.conn.write(bytes);
    return await this.reply();
  }
  close(): void {
    this.conn.close();
  }
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Starts redis-server with a config file (and `--port`), runs `fn`, stops it. */
async function withRedis(
  dir: string,
  args: string[],
  fn: (c: MiniClient) => Promise<void>,
): Promise<void> {
  const port = freePort();
  const child = new Deno.Command(REDIS!, {
    args: [...args, "--port", String(port), "--bind", "127.0.0.1"],
    cwd: dir,
    stdout: "null",
    stderr: "null",
  }).spawn();
  let client: MiniClient | null = null;
  try {
    for (let i = 0; i < 200 && !client; i++) {
      try {
        client = await MiniClient.connect(port);
      } catch {
        await new Promise((r) => setTimeout(r, 25));
      }
    }
    if (!client) throw new Error("redis-server did not start");
    await fn(client);
  } finally {
    client?.close();
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
    await child.status;
  }
}

const GOOD_CONFIGS: { name: string; files: Record<string, string>; args?: string[] }[] = [
  { name: "save accumulate", files: { "r.conf": "save 100 1\nsave 200 2\n" } },
  { name: "save empty then more", files: { "r.conf": 'save 100 1\nsave ""\nsave 200 2\n' } },
  { name: "save disable", files: { "r.conf": 'save 100 1 200 2\nsave ""\n' } },
  { name: "save no line", files: { "r.conf": "timeout 1\n" } },
  {
    name: "save after include",
    files: { "r.conf": "include i.conf\nsave 100 1\nsave 200 2\n", "i.conf": "timeout 3\n" },
  },
  {
    name: "save cmdline",
    files: { "r.conf": "save 1 1\n" },
    args: ["--save", "2", "2", "--save", "3", "3"],
  },
  { name: "save cmdline empty", files: { "r.conf": "save 1 1\n" }, args: ["--save"] },
  {
    name: "values",
    files: {
      "r.conf": [
        "hash-max-ziplist-entries 100",
        "slave-read-only no",
        "maxmemory 1mb",
        "maxmemory-clients 5%",
        "proto-max-bulk-len 2MB",
        "auto-aof-rewrite-min-size 1k",
        "MaxMemory-Policy ALLKEYS-LRU",
        "notify-keyspace-events KEnA",
        "client-output-buffer-limit replica 1mb 2mb 10 pubsub 1 1 1",
        "oom-score-adj relative",
        "oom-score-adj-values 1 2 3",
        "shutdown-on-sigint now NOSAVE",
        "latency-tracking-info-percentiles 50.0 99.000 1e1 0x10",
        "unixsocketperm 0700",
        "hz 1000",
        "repl-backlog-size 1000",
        "bind 127.0.0.1 -::1",
        "slowlog-log-slower-than -1",
        "list-max-ziplist-size -3",
        'requirepass "a b\\"c\\x41"',
        "masteruser 'it\\'s'",
        "maxmemory-clients 18446744073709551615",
      ].join("\n"),
    },
  },
  {
    name: "glob include",
    files: { "r.conf": "include g*.conf\n", "g1.conf": "timeout 5\n", "g2.conf": "hz 20\n" },
  },
];

Deno.test({
  name: "differential: loaded values match redis-server's CONFIG GET",
  ignore: SKIP_DIFF,
  async fn() {
    if (REDIS === null) throw new Error("redis-server is not installed (CI=true)");
    const ignore = new Set(["port", "bind", "dir", "unixsocket"]);
    for (const c of GOOD_CONFIGS) {
      const dir = tempDir();
      for (const [f, text] of Object.entries(c.files)) {
        fs.writeFileSync(join(dir, f), text, "latin1");
      }
      const args = ["r.conf", ...(c.args ?? [])];
      const ours = loadConfig(args, { chdir: false, cwd: dir }).config;
      await withRedis(dir, args, async (client) => {
        const all = (await client.call("CONFIG", "GET", "*")) as string[];
        for (let i = 0; i < all.length; i += 2) {
          if (ignore.has(all[i])) continue;
          strictEqual(ours.get(all[i]), all[i + 1], `${c.name}: ${all[i]}`);
        }
      });
    }
  },
});

Deno.test({
  name: "differential: CONFIG SET replies and CONFIG REWRITE output match redis-server",
  ignore: SKIP_DIFF,
  async fn() {
    if (REDIS === null) throw new Error("redis-server is not installed (CI=true)");
    const dir = tempDir();
    const conf = [
      "# comment",
      "save 100 1",
      "SLAVE-READ-ONLY yes",
      "timeout 5",
      "timeout 6",
      "maxmemory 1mb",
      "list-max-ziplist-entries 5",
      "loglevel   VERBOSE",
      "",
      "",
      "maxmemory-policy allkeys-lru",
      "",
    ].join("\n");
    fs.writeFileSync(join(dir, "r.conf"), conf);
    fs.writeFileSync(join(dir, "ours.conf"), conf);
    const ours = loadConfig(["r.conf"], { chdir: false, cwd: dir }).config;
    const sets: string[][] = [
      ["timeout", "0"],
      ["maxmemory", "3000"],
      ["maxmemory", "3000", "timeout", "1", "maxmemory", "1"],
      ["port", "1", "maxmemory", "abc"],
      ["foo", "bar", "daemonize", "no"],
      ["daemonize", "no", "foo", "bar"],
      ["dbfilename", "x"],
      ["notify-keyspace-events", "KEA"],
      ["loglevel", "notice"],
      ["client-output-buffer-limit", "pubsub 1mb 1kb 5"],
      ["client-output-buffer-limit", "pubsub 1 1 -1"],
      ["maxmemory-clients", "5%"],
      ["hash-max-listpack-value", "1024"],
      ["list-max-listpack-size", "5"],
      ["save", "10 1 20 2 30 3"],
      ["save", "1 2 3"],
      ["oom-score-adj-values", "1 2 3"],
      ["latency-tracking-info-percentiles", ""],
      ["shutdown-on-sigterm", "nosave now"],
      ["appendfsync", "always"],
      ["cluster-announce-ip", "1.2.3.4"],
      ["auto-aof-rewrite-min-size", "1gb"],
      ["repl-backlog-size", "1000"],
      ["hz", "1000"],
      ["hash-max-ziplist-entries", "100", "hash-max-listpack-entries", "200"],
    ];
    await withRedis(dir, ["r.conf"], async (client) => {
      for (const s of sets) {
        const theirs = await client.call("CONFIG", "SET", ...s);
        const pairs: [string, string][] = [];
        for (let i = 0; i < s.length; i += 2) pairs.push([s[i], s[i + 1]]);
        let mine: unknown = "OK";
        try {
          configSet(ours, pairs);
        } catch (e) {
          if (!(e instanceof ConfigError)) throw e;
          mine = { error: e.message };
        }
        deepStrictEqual(mine, theirs, JSON.stringify(s));
      }
      strictEqual(await client.call("CONFIG", "REWRITE"), "OK");
      const all = (await client.call("CONFIG", "GET", "*")) as string[];
      for (let i = 0; i < all.length; i += 2) {
        if (all[i] === "port" || all[i] === "bind") continue;
        strictEqual(ours.get(all[i]), all[i + 1], all[i]);
      }
    });
    const theirs = fs.readFileSync(join(dir, "r.conf"), "latin1").split("\n");
    // Redis appends new lines in hash-table order; compare the kept part exactly and the
    // appended part as a set. The port/bind of the test run are Redis-only.
    const users = theirs.filter((l) => l.startsWith("user "));
    const mine = configRewriteContent(ours, join(dir, "ours.conf"), { users }).split("\n");
    const sig = theirs.indexOf("# Generated by CONFIG REWRITE");
    deepStrictEqual(mine.slice(0, sig + 1), theirs.slice(0, sig + 1));
    const drop = (l: string) => l.startsWith("port ") || l.startsWith("bind ");
    deepStrictEqual(
      mine.slice(sig + 1).filter((l) => !drop(l)).sort(),
      theirs.slice(sig + 1).filter((l) => !drop(l)).sort(),
    );
  },
});

Deno.test("Config: chdir mode changes the process directory like Redis", () => {
  const orig = Deno.cwd();
  const dir = fs.realpathSync(tempDir());
  fs.mkdirSync(join(dir, "sub"));
  try {
    const c = new Config({ chdir: true, cwd: dir });
    c.set("dir", join(dir, "sub"));
    strictEqual(Deno.cwd(), join(dir, "sub"));
    strictEqual(c.get("dir"), join(dir, "sub"));
    throws(() => c.set("dir", join(dir, "nope")), new ConfigError("No such file or directory"));
    strictEqual(Deno.cwd(), join(dir, "sub"));
  } finally {
    Deno.chdir(orig);
  }
});
