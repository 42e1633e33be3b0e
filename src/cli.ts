/**
 * The `amber` command line: `amber [config-file] [--directive value ...]`, with the
 * meaning `redis-server` gives it, plus `--version` and `--help`.
 */
import process from "node:process";
import { startServer } from "./main.ts";
import { ConfigFileError } from "./config.ts";
import { LoadAborted } from "./persistence/loading.ts";
import { AMBER_VERSION, REDIS_VERSION, runtimeVersion } from "./version.ts";
import { runCheckRdb } from "./tools/check_rdb.ts";
import { runCheckAof } from "./tools/check_aof.ts";
import { runDump } from "./tools/dump.ts";
import { keepRuntimeHelpersLowered } from "./util/thread_priority.ts";

const USAGE = `Usage: ./amber [/path/to/redis.conf] [options] [-]
       ./amber - (read config from stdin)
       ./amber -v or --version
       ./amber -h or --help
       ./amber check-rdb <file.rdb>
       ./amber check-aof [--fix] [--yes] [--truncate-to-timestamp $timestamp] <file.manifest|file.aof|dir>
       ./amber dump <file.rdb|file.aof|file.manifest|dir> [--db N] [--match PATTERN] [--format json|resp]

Examples:
       ./amber (run the server with default conf)
       ./amber /etc/redis/6379.conf
       ./amber --port 7777
       ./amber /etc/myredis.conf --loglevel verbose -
       ./amber /etc/myredis.conf --loglevel verbose
`;

export async function main(args: string[]): Promise<number> {
  // Operator tools are modes of the same binary, as redis-check-rdb is of redis-server.
  if (args[0] === "check-rdb") return await runCheckRdb(args.slice(1));
  if (args[0] === "check-aof") return await runCheckAof(args.slice(1));
  if (args[0] === "dump") return await runDump(args.slice(1));
  if (args[0] === "-v" || args[0] === "--version") {
    console.log(
      `Amber server v=${AMBER_VERSION} redis_version=${REDIS_VERSION} runtime=${runtimeVersion()} bits=64`,
    );
    return 0;
  }
  if (args[0] === "-h" || args[0] === "--help") {
    process.stdout.write(USAGE);
    return 0;
  }
  try {
    const amber = await startServer({ args, handleSignals: true, chdir: true });
    // The process is the server's alone: the runtime's compiler and GC threads yield to
    // the main thread (thread_priority.ts says why). Only once the dataset is loaded:
    // while it loads no command is served, and the load's young-generation collections,
    // which the helpers run in parallel with the main thread, finish sooner at full
    // priority (a 1M-key load took 8% less time, BENCHMARKS.md session 13).
    keepRuntimeHelpersLowered();
    await amber.closed;
    return 0;
  } catch (e) {
    // SIGTERM while loading: the shutdown already happened, nothing went wrong.
    if (e instanceof LoadAborted) return 0;
    if (e instanceof ConfigFileError) {
      process.stderr.write(e.message + "\n");
      return 1;
    }
    process.stderr.write(String((e as Error).message ?? e) + "\n");
    return 1;
  }
}

if (import.meta.main) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
