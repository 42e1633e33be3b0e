/**
 * AUTH, HELLO and RESET: differential scripts against redis-server (with and without
 * `requirepass`), plus in-process checks of the connection state RESET clears.
 */
import assert from "node:assert/strict";
import { startPair, type Step } from "./helpers/differential.ts";
import type { RawClient } from "./helpers/resp_client.ts";
import { skipWithoutRedis, startAmber } from "./helpers/servers.ts";
import { onClientReset } from "../src/commands/connection.ts";

/** HELLO replies carry the connection id, which differs between the two servers. */
function maskId(reply: string): string {
  return reply.replace(/\$2\r\nid\r\n:\d+\r\n/, "$2\r\nid\r\n:ID\r\n");
}

async function compareMasked(r: RawClient, a: RawClient, steps: Step[]): Promise<void> {
  for (const argv of steps) {
    const [rr, ar] = await Promise.all([r.call(...argv), a.call(...argv)]);
    assert.equal(maskId(ar), maskId(rr), `reply to ${JSON.stringify(argv)} differs`);
  }
}

Deno.test({
  name: "differential: AUTH and HELLO without a password",
  ignore: skipWithoutRedis(),
  async fn() {
    const pair = await startPair();
    try {
      const [r, a] = await pair.clients();
      await compareMasked(r, a, [
        ["AUTH"],
        ["AUTH", "x"],
        ["AUTH", "a", "b"],
        ["AUTH", "default", "x"],
        ["AUTH", "DEFAULT", "x"],
        ["AUTH", "a", "b", "c"],
        ["AUTH", "a", "b", "c", "d"],
        ["HELLO", "4"],
        ["HELLO", "1"],
        ["HELLO", "0"],
        ["HELLO", "-1"],
        ["HELLO", "abc"],
        ["HELLO", "3.0"],
        ["HELLO", "03"],
        ["HELLO", "99999999999999999999"],
        ["HELLO", "9223372036854775807"],
        ["HELLO", "3", "auth"],
        ["HELLO", "3", "AUTH", "default"],
        ["HELLO", "3", "foo"],
        ["HELLO", "3", "setname"],
        ["HELLO", "2", "SETNAME", "a b"],
        ["HELLO", "2", "SETNAME", "a\nb"],
        ["HELLO", "2", "AUTH", "nouser", "x"],
        ["HELLO"],
        ["HELLO", "2"],
        ["HELLO", "2", "SETNAME", "conn1"],
        ["CLIENT", "GETNAME"],
        ["HELLO", "3"],
        ["HELLO"],
        ["HELLO", "3", "AUTH", "default", "anything", "SETNAME", "x"],
        ["HELLO", "3", "SETNAME", "y", "AUTH", "default", "z"],
        ["CLIENT", "GETNAME"],
        ["HELLO", "2", "SETNAME", ""],
        ["CLIENT", "GETNAME"],
        ["HELLO", "3", "SETNAME", "n1", "SETNAME", "n2"],
        ["CLIENT", "GETNAME"],
        ["PING"],
        ["HELLO", "2"],
        ["PING"],
      ]);
    } finally {
      await pair.stop();
    }
  },
});

Deno.test({
  name: "differential: RESET restores db 0, RESP2, no name, replies on",
  ignore: skipWithoutRedis(),
  async fn() {
    const pair = await startPair();
    try {
      const [r, a] = await pair.clients();
      await compareMasked(r, a, [
        ["SELECT", "5"],
        ["SET", "in5", "x"],
        ["CLIENT", "SETNAME", "before"],
        ["HELLO", "3"],
        ["RESET"],
        ["CLIENT", "GETNAME"],
        ["GET", "in5"],
        ["DBSIZE"],
        ["HELLO"],
        ["RESET", "x"],
        ["CLIENT", "NO-EVICT", "on"],
        ["RESET"],
        ["PING"],
      ]);
    } finally {
      await pair.stop();
    }
  },
});

Deno.test({
  name: "differential: AUTH/HELLO/RESET flows with requirepass",
  ignore: skipWithoutRedis(),
  async fn() {
    const pair = await startPair(["--requirepass", "pw"]);
    try {
      const [r, a] = await pair.clients();
      await compareMasked(r, a, [
        ["PING"],
        ["HELLO", "3"],
        ["HELLO"],
        ["HELLO", "3", "AUTH", "default", "wrong"],
        ["HELLO", "3", "AUTH", "nouser", "pw"],
        ["HELLO", "3", "SETNAME", "x"],
        ["CLIENT", "GETNAME"],
        ["AUTH", "wrong"],
        ["AUTH", "default"],
        ["AUTH", "default", "wrong"],
        ["AUTH", "nouser", "pw"],
        ["PING"],
        ["AUTH", "pw"],
        ["PING"],
        ["AUTH", "wrong"],
        ["PING"],
        ["CLIENT", "SETNAME", "x"],
        ["RESET"],
        ["PING"],
        ["CLIENT", "GETNAME"],
        ["HELLO", "3", "AUTH", "default", "pw", "SETNAME", "a"],
        ["CLIENT", "GETNAME"],
        ["RESET"],
        ["CLIENT", "GETNAME"],
        ["HELLO", "2", "AUTH", "default", "pw", "SETNAME", "a b"],
        ["PING"],
        ["HELLO", "3", "SETNAME", "a b", "AUTH", "default", "pw"],
        ["AUTH", "DEFAULT", "pw"],
        ["AUTH", "default", "PW"],
        ["AUTH", "default", "pw"],
        ["HELLO", "2"],
      ]);
    } finally {
      await pair.stop();
    }
  },
});

Deno.test("RESET clears MULTI, subscriptions, monitor and runs the registered reset hooks", async () => {
  const t = await startAmber();
  try {
    const c = await t.client();
    await c.call("PING");
    const srv = t.amber.server;
    const client = [...srv.clients.values()][0];
    const seen: number[] = [];
    onClientReset((x) => seen.push(x.id));
    client.multiQueue = [];
    client.channels.add("ch");
    client.patterns.add("p*");
    srv.monitors.add(client);
    client.monitor = true;
    assert.equal(await c.call("RESET"), "+RESET\r\n");
    assert.equal(client.multiQueue, null);
    assert.equal(client.subscribed, false);
    assert.equal(client.monitor, false);
    assert.equal(srv.monitors.size, 0);
    assert.deepEqual(seen, [client.id]);
  } finally {
    await t.stop();
  }
});

Deno.test("HELLO 3 switches the connection to RESP3 replies", async () => {
  const t = await startAmber();
  try {
    const c = await t.client();
    assert.equal(await c.call("CLIENT", "GETNAME"), "$-1\r\n");
    const h = await c.call("HELLO", "3");
    assert.match(
      h,
      /^%7\r\n\$6\r\nserver\r\n\$5\r\nredis\r\n\$7\r\nversion\r\n\$6\r\n7\.0\.15\r\n/,
    );
    assert.equal(await c.call("CLIENT", "GETNAME"), "_\r\n");
    assert.equal(await c.call("RESET"), "+RESET\r\n");
    assert.equal(await c.call("CLIENT", "GETNAME"), "$-1\r\n");
  } finally {
    await t.stop();
  }
});
