/**
 * Server start-up and shutdown as `redis-server` does them: load the configuration,
 * log the start-up lines, build the databases and command table, listen, and on
 * SIGTERM/SIGINT shut down gracefully (where saving hooks in).
 */
import process from "node:process";
import { loadConfig } from "./config.ts";
import { Logger, type LogLevel } from "./log.ts";
import { Server } from "./server/server.ts";
import { commandTable, installFamilies } from "./commands/index.ts";
import { aofOf } from "./persistence/aof/aof_persistence.ts";
import { LoadAborted } from "./persistence/loading.ts";
import { dropWorker } from "./persistence/snapshot_job.ts";
import { AMBER_VERSION, REDIS_VERSION, runtimeVersion } from "./version.ts";
import { applyServerCpuLists } from "./server/cpu_lists.ts";

export interface StartOptions {
  /** Arguments as for the `amber` command line: `[config-file] [--directive value ...]`. */
  args?: string[];
  /** Install SIGTERM/SIGINT handlers (the CLI does; embedders usually do not). */
  handleSignals?: boolean;
  /**
   * Change the process directory to `dir`, as redis-server does (the CLI does). Off for
   * embedders, whose process directory is their own; paths are resolved against `dir`.
   */
  chdir?: boolean;
}

export interface AmberServer {
  readonly server: Server;
  /** The TCP port actually bound (useful with `--port 0`). */
  readonly port: number;
  /** Graceful shutdown, as SHUTDOWN (saving if save points are configured). */
  close(opts?: { save?: boolean }): Promise<void>;
  /** Resolves when the server has shut down (SHUTDOWN command, signal or close()). */
  readonly closed: Promise<void>;
}

/** Loads the configuration, starts listening, and returns once ready. */
export async function startServer(opts: StartOptions = {}): Promise<AmberServer> {
  const { config, warnings, configFile } = loadConfig(opts.args ?? [], {
    chdir: opts.chdir ?? false,
  });
  const logger = new Logger({
    level: config.get("loglevel") as LogLevel,
    file: config.get("logfile"),
    role: "C",
  });
  logger.warning("oO0OoO0OoO0Oo Amber is starting oO0OoO0OoO0Oo");
  logger.warning(
    `Amber version=${AMBER_VERSION}, redis_version=${REDIS_VERSION}, bits=64, runtime=${runtimeVersion()}, pid=${process.pid}, just started`,
  );
  if (configFile) logger.warning("Configuration loaded");
  else {
    logger.warning(
      "Warning: no config file specified, using the default config. In order to specify a config file use amber /path/to/redis.conf",
    );
  }
  for (const w of warnings) logger.warning(w);
  logger.setRole("M");
  const server = new Server({ config, logger, commands: commandTable(), configFile });
  applyServerCpuLists(config, logger);
  installFamilies(server);
  config.onChange("loglevel", (v: string) => logger.setLevel(v as LogLevel));
  config.onChange("logfile", (v: string) => logger.setFile(v));
  try {
    await server.listen();
  } catch (e) {
    logger.warning((e as Error).message);
    throw e;
  }
  logger.notice(`Running mode=standalone, port=${server.port}.`);
  logger.warning("Server initialized");
  if (opts.handleSignals) {
    const onSignal = (sig: string) => {
      logger.warning(
        server.loading !== null
          ? `Received ${sig} during loading, scheduling shutdown.`
          : `Received ${sig} scheduling shutdown...`,
      );
      server.shutdown().then(() => process.exit(0));
    };
    process.on("SIGTERM", () => onSignal("SIGTERM"));
    process.on("SIGINT", () => onSignal("SIGINT"));
  }
  // With `appendonly yes` the AOF is the dataset, else dump.rdb (loadDataFromDisk). The
  // event loop turns while it loads: clients connect and get -LOADING until it is done.
  try {
    await aofOf(server).loadAtStart();
  } catch (e) {
    // Never serve a partial dataset: stop, as Redis exits on a bad RDB or AOF.
    if (!(e instanceof LoadAborted)) {
      logger.warning((e as Error).message);
      dropWorker(server);
      server.abortStart();
    }
    throw e;
  }
  logger.notice("Ready to accept connections");
  return {
    server,
    port: server.port,
    close: (o) => server.shutdown(o),
    closed: server.closed,
  };
}
