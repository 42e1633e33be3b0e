/**
 * Version numbers: Amber's own, and the Redis version it reports to clients
 * (`redis_version` in INFO, HELLO) so that client libraries enable 7.0 features.
 */
export const AMBER_VERSION = "0.1.0";
export const REDIS_VERSION = "7.0.15";

/** "deno 2.9.6" or "bun 1.4.4": the runtime this process runs on. */
export function runtimeVersion(): string {
  const g = globalThis as { Deno?: { version: { deno: string } }; Bun?: { version: string } };
  if (g.Bun) return `bun ${g.Bun.version}`;
  if (g.Deno) return `deno ${g.Deno.version.deno}`;
  return "unknown";
}
