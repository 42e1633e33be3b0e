/**
 * The wire protocol end to end: pipelining, inline commands, malformed input (Redis's
 * error, then the connection closes while everyone else is still served), limits
 * (maxclients, client-query-buffer-limit, timeout), AUTH gating, big arguments,
 * compared byte for byte with redis-server where the behaviour is deterministic.
 */
import assert from "node:assert/strict";
import { encodeCommand, RawClient } from "./helpers/resp_client.ts";
import { skipWithoutRedis, startAmber } from "./helpers/servers.ts";
import { compareRaw, startPair } from "./helpers/differential.ts";

Deno.test("protocol: pipelined commands answer in order in one go", async () => {
  const t = await startAmber();
  try {
    const c = await t.client();
    let raw = "";
    for (let i = 0; i < 500; i++) raw += encodeCommand(["ECHO", `m${i}`]);
    c.write(raw);
    for (let i = 0; i < 500; i++) assert.equal(await c.read(), `$${`m${i}`.length}\r\nm${i}\r\n`);
  } finally {
    await t.stop();
  }
});

Deno.test("protocol: malformed input closes only that connection", async () => {
  const t = await startAmber();
  try {
    const good = await t.client();
    const bad = await t.client();
    bad.write("*1\r\n$4\r\nPING\r\n*1\r\n+PING\r\n");
    assert.equal(await bad.read(), "+PONG\r\n");
    assert.equal(await bad.read(), "-ERR Protocol error: expected '$', got '+'\r\n");
    await bad.waitClosed();
    assert.equal(await good.call("PING"), "+PONG\r\n");
  } finally {
    await t.stop();
  }
});

const MALFORMED: [string, number][] = [
  ["*x\r\n", 1],
  ["*3000000000\r\n", 1],
  ["*1\r\n$-3\r\n", 1],
  ["*1\r\n$abc\r\n", 1],
  ["*2\r\n$3\r\nGET\r\n:1\r\n", 1],
  ['PING\r\nECHO "unbalanced\r\n', 2],
  ['ECHO "a"b\r\n', 1],
  ["*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPINGxx", 2],
];

Deno.test({
  name: "protocol: malformed requests get the same bytes as redis-server, then close",
  ignore: skipWithoutRedis(),
  async fn() {
    const pair = await startPair();
    try {
      for (const [raw, n] of MALFORMED) {
        const [r, a] = await pair.clients();
        await compareRaw(r, a, raw, n);
        if (!raw.endsWith("PINGxx")) {
          const [rr, ar] = await Promise.all([r.waitClosed(), a.waitClosed()]);
          assert.equal(ar, rr);
        }
        r.close();
        a.close();
      }
    } finally {
      await pair.stop();
    }
  },
});

Deno.test({
  name: "protocol: inline commands and errors match redis-server",
  ignore: skipWithoutRedis(),
  async fn() {
    const pair = await startPair();
    try {
      const [r, a] = await pair.clients();
      await compareRaw(
        r,
        a,
        "PING\r\nECHO 'a b'\r\nECHO \"\\x41\\x00\"\n\r\nNOPE a b\r\nGET\r\n",
        4,
      );
    } finally {
      await pair.stop();
    }
  },
});

Deno.test("protocol: a 20 MB argument round-trips", async () => {
  const t = await startAmber();
  try {
    const c = await t.client();
    let v = "";
    const chunk = Array.from({ length: 256 }, (_, i) => String.fromCharCode(i)).join("");
    while (v.length < 20 * 1024 * 1024) v += chunk;
    assert.equal(await c.call("SET", "big", v), "+OK\r\n");
    const reply = await c.call("GET", "big");
    assert.equal(reply, `$${v.length}\r\n${v}\r\n`);
  } finally {
    await t.stop();
  }
});

Deno.test("protocol: requirepass gates commands with NOAUTH", async () => {
  const t = await startAmber(["--requirepass", "s3cret"]);
  try {
    const c = await t.client();
    assert.equal(await c.call("GET", "x"), "-NOAUTH Authentication required.\r\n");
    assert.equal(
      await c.call("AUTH", "bad"),
      "-WRONGPASS invalid username-password pair or user is disabled.\r\n",
    );
    assert.equal(await c.call("AUTH", "s3cret"), "+OK\r\n");
    assert.equal(await c.call("GET", "x"), "$-1\r\n");
    // Unauthenticated clients may not send huge multibulk headers.
    const d = await t.client();
    d.write("*20\r\n");
    assert.equal(await d.read(), "-ERR Protocol error: unauthenticated multibulk length\r\n");
  } finally {
    await t.stop();
  }
});

Deno.test("protocol: maxclients refuses the extra connection", async () => {
  const t = await startAmber(["--maxclients", "2"]);
  try {
    const a = await t.client();
    const b = await t.client();
    assert.equal(await a.call("PING"), "+PONG\r\n");
    assert.equal(await b.call("PING"), "+PONG\r\n");
    const c = await RawClient.connect(t.port);
    assert.equal(await c.read(), "-ERR max number of clients reached\r\n");
    await c.waitClosed();
  } finally {
    await t.stop();
  }
});

Deno.test("protocol: client-query-buffer-limit closes a client that exceeds it", async () => {
  const t = await startAmber(["--client-query-buffer-limit", "1mb"]);
  try {
    const c = await t.client();
    c.write("*2\r\n$3\r\nSET\r\n$3000000\r\n" + "x".repeat(1_100_000));
    await c.waitClosed();
    const d = await t.client();
    assert.equal(await d.call("PING"), "+PONG\r\n");
  } finally {
    await t.stop();
  }
});

Deno.test("protocol: idle clients are closed after `timeout` seconds", async () => {
  const t = await startAmber(["--timeout", "1"]);
  try {
    const c = await t.client();
    assert.equal(await c.call("PING"), "+PONG\r\n");
    await c.waitClosed(4000);
  } finally {
    await t.stop();
  }
});
