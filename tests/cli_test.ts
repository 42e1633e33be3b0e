/**
 * The `amber` command line as a subprocess, like redis-server: --version, --help,
 * start-up log lines, config files with command-line overrides, Redis's fatal config
 * error text and exit code, and graceful shutdown on SIGTERM/SIGINT.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { amberCommand, spawnAmber, tempDir } from "./helpers/servers.ts";

function runCli(args: string[], cwd = tempDir()) {
  const [cmd, pre] = amberCommand();
  return spawnSync(cmd, [...pre, ...args], { cwd, encoding: "latin1", timeout: 30000 });
}

Deno.test("cli: --version names Amber, the Redis version and the runtime", () => {
  const r = runCli(["--version"]);
  assert.equal(r.status, 0);
  assert.match(
    r.stdout,
    /^Amber server v=\d+\.\d+\.\d+ redis_version=7\.0\.15 runtime=(deno|bun) \S+/,
  );
});

Deno.test("cli: --help prints usage", () => {
  const r = runCli(["--help"]);
  assert.equal(r.status, 0);
  assert.match(r.stdout, /^Usage: \.\/amber \[\/path\/to\/redis\.conf\] \[options\]/);
});

Deno.test("cli: an unknown directive is fatal, in Redis's words, exit 1", () => {
  const dir = tempDir();
  const conf = join(dir, "bad.conf");
  writeFileSync(conf, "port 7000\nfoo bar\n");
  const r = runCli([conf], dir);
  assert.equal(r.status, 1);
  assert.equal(
    r.stderr,
    "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file, at line 2\n>>> 'foo bar'\nBad directive or wrong number of arguments\n",
  );
});

Deno.test("cli: a bad value on the command line is fatal", () => {
  const r = runCli(["--port", "abc"]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /Reading the configuration file, at line 2\n>>> 'port "abc"'\n/);
});

Deno.test("cli: config file + overrides, start-up lines, SIGTERM shutdown", async () => {
  const dir = tempDir();
  const conf = join(dir, "amber.conf");
  writeFileSync(
    conf,
    '# test config\ndatabases 4\nrequirepass "s3 cret"\nlist-max-ziplist-size 64\ninclude ' +
      join(dir, "extra.conf") + "\n",
  );
  writeFileSync(join(dir, "extra.conf"), "maxclients 77\n");
  const t = await spawnAmber([conf, "--databases", "8", "--save", ""], dir);
  try {
    const c = await t.client();
    assert.equal(await c.call("AUTH", "s3 cret"), "+OK\r\n");
    assert.equal(
      await c.call("CONFIG", "GET", "databases"),
      "*2\r\n$9\r\ndatabases\r\n$1\r\n8\r\n",
    );
    assert.equal(
      await c.call("CONFIG", "GET", "maxclients"),
      "*2\r\n$10\r\nmaxclients\r\n$2\r\n77\r\n",
    );
    assert.equal(await c.call("SELECT", "7"), "+OK\r\n");
    assert.equal(await c.call("SELECT", "8"), "-ERR DB index is out of range\r\n");
    // Deno's child_process reports a signalled child as code null even when it handled
    // the signal and exited by itself; the log lines below show the graceful path.
    await t.stop("SIGTERM");
    const out = t.output();
    for (
      const line of [
        /^\d+:C \d\d \w{3} \d{4} \d\d:\d\d:\d\d\.\d{3} # oO0OoO0OoO0Oo Amber is starting/m,
        /^\d+:C .* # Configuration loaded$/m,
        /^\d+:M .* # Server initialized$/m,
        /^\d+:M .* \* Ready to accept connections$/m,
        /^\d+:M .* # Received SIGTERM scheduling shutdown\.\.\.$/m,
        /^\d+:M .* # Redis is now ready to exit, bye bye\.\.\.$/m,
      ]
    ) assert.match(out, line);
  } finally {
    await t.stop("SIGKILL");
  }
});

Deno.test("cli: SHUTDOWN ends the process with exit code 0", async () => {
  const t = await spawnAmber(["--save", ""]);
  try {
    const c = await t.client();
    c.write("*1\r\n$8\r\nSHUTDOWN\r\n");
    await c.waitClosed();
    const keepAlive = setInterval(() => {}, 50);
    const code = await t.exited.finally(() => clearInterval(keepAlive));
    assert.equal(code, 0);
  } finally {
    await t.stop("SIGKILL");
  }
});
