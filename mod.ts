/**
 * Amber's library entry: start a Redis-compatible server inside your own process.
 *
 * @example
 * ```ts
 * import { startServer } from "./mod.ts";
 * const amber = await startServer({ args: ["--port", "0", "--save", ""] });
 * console.log(`listening on ${amber.port}`);
 * await amber.close();
 * ```
 */
export { type AmberServer, type StartOptions, startServer } from "./src/main.ts";
export { AMBER_VERSION, REDIS_VERSION } from "./src/version.ts";
