/**
 * The wire protocol end to end: pipelining, inline commands, malformed input (Redis's
 * error, then the connection closes while everyone else is still served), limits
 * (maxclients, client-query-buffer-limit, timeout), AUTH gating, big arguments,
 * compared byte for byte with redis-server where the behaviour is deterministic; and how
 * a connection ends (the peer's shutdown, QUIT after a reply larger than the socket
 * buffers).
 */
import assert from "node:assert/strict";
import { encodeCommand, exchangeUntilClose, RawClient } from "./helpers/resp_client.ts";
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

Deno.test({
  name: "protocol: a client that shuts down its side after sending gets every reply, as Redis",
  ignore: skipWithoutRedis(),
  async fn() {
    const pair = await startPair();
    try {
      // `printf 'PING\r\n...' | nc -N host port`: the commands, then the peer's FIN, in
      // one segment or after a longer request.
      const small = "PING\r\nSET hc 1\r\nGET hc\r\n";
      for (const input of [small, small + encodeCommand(["ECHO", "x".repeat(70000)])]) {
        const [r, a] = await Promise.all([
          exchangeUntilClose(pair.redis.port, input, { halfClose: true }),
          exchangeUntilClose(pair.amber.port, input, { halfClose: true }),
        ]);
        assert.ok(r.startsWith("+PONG\r\n+OK\r\n$1\r\n1\r\n"), r.slice(0, 40));
        assert.equal(a.length, r.length);
        assert.ok(a === r);
      }
      const c = await pair.amber.client();
      const deadline = Date.now() + 5000;
      while ((await c.call("CLIENT", "LIST")).split("id=").length !== 2) {
        assert.ok(Date.now() < deadline, "the half-closed client was never freed");
        await new Promise((res) => setTimeout(res, 20));
      }
    } finally {
      await pair.stop();
    }
  },
});

Deno.test("protocol: QUIT after replies larger than the socket buffers delivers every byte", async () => {
  const t = await startAmber();
  try {
    const c = await t.client();
    // 8 MiB of varied bytes, read back three times (24 MiB) by a client that reads
    // nothing for 300 ms: the server's writes back up and finish later, then QUIT's +OK,
    // then the close. Before, the close dropped the tail still in the socket's buffer.
    let value = "";
    const block = Array.from({ length: 4096 }, (_, i) => String.fromCharCode((i * 7 + 3) % 251))
      .join("");
    while (value.length < 8 << 20) value += block;
    assert.equal(await c.call("SET", "big", value), "+OK\r\n");
    const got = await exchangeUntilClose(t.port, "GET big\r\nGET big\r\nGET big\r\nQUIT\r\n", {
      pauseMs: 300,
      timeoutMs: 30000,
    });
    const one = `$${value.length}\r\n${value}\r\n`;
    assert.equal(got.length, one.length * 3 + 5);
    assert.ok(got === one + one + one + "+OK\r\n");
  } finally {
    await t.stop();
  }
});

Deno.test("protocol: replies queued behind a slow reader are not overwritten by later ones", async () => {
  // Under Deno a reply is written from the client's reply buffer itself; a write the
  // kernel does not take at once keeps that buffer, and later replies must go to a new
  // one. A client that reads nothing while it sends 400 batches of 20 GETs, one batch
  // per read (20 distinct 1.5-3 KiB values, about 45 KiB of replies each, 18 MiB in
  // all): once the socket buffers are full, each batch's write is left pending.
  const t = await startAmber();
  try {
    const c = await t.client();
    const values: string[] = [];
    for (let i = 0; i < 400; i++) {
      const unit = `<${i}:` + String.fromCharCode(33 + (i % 90)).repeat(13 + (i % 37)) + ">";
      values.push(unit.repeat(Math.ceil((1536 + ((i * 7919) % 1536)) / unit.length)));
      c.write(encodeCommand(["SET", `k${i}`, values[i]]));
    }
    for (let i = 0; i < 400; i++) assert.equal(await c.read(), "+OK\r\n");
    const slow = await RawClient.connect(t.port);
    slow.socket.pause();
    let expected = "";
    for (let b = 0; b < 400; b++) {
      let batch = "";
      for (let j = 0; j < 20; j++) {
        const i = (b * 20 + j) * 263 % 400;
        batch += encodeCommand(["GET", `k${i}`]);
        expected += `$${values[i].length}\r\n${values[i]}\r\n`;
      }
      slow.write(batch);
      await new Promise((r) => setTimeout(r, 1));
    }
    slow.write("QUIT\r\n");
    slow.socket.resume();
    const got = await slow.waitClosed(30000);
    assert.equal(got.length, expected.length + 5);
    assert.ok(got === expected + "+OK\r\n", "replies differ from the values set");
  } finally {
    await t.stop();
  }
});

Deno.test("protocol: many clients pipelining at once each get their own replies", async () => {
  // Reads from every connection share one buffer under Deno (stream_io.ts): a command
  // split across reads, or left behind by a blocked client, must survive other
  // clients' reads in between.
  const t = await startAmber();
  try {
    const clients = await Promise.all(Array.from({ length: 60 }, () => t.client()));
    const expected: string[] = [];
    clients.forEach((c, i) => {
      let raw = "";
      let exp = "";
      for (let j = 0; j < 150; j++) {
        const arg = `c${i}-${j}-` +
          String.fromCharCode(97 + (i % 26)).repeat((i * 131 + j * 17) % 1500);
        raw += encodeCommand(["ECHO", arg]);
        exp += `$${arg.length}\r\n${arg}\r\n`;
      }
      // Sent in uneven pieces, so commands straddle reads.
      for (let o = 0; o < raw.length; o += 977 + i) c.write(raw.slice(o, o + 977 + i));
      expected.push(exp);
    });
    await Promise.all(clients.map(async (c, i) => {
      let got = "";
      while (got.length < expected[i].length) got += await c.read();
      assert.ok(got === expected[i], `client ${i}`);
    }));
    // A client blocked with a command queued behind it keeps that command intact.
    const blocked = await t.client();
    blocked.write(
      encodeCommand(["BLPOP", "q", "0"]) + encodeCommand(["ECHO", "after-" + "z".repeat(3000)]),
    );
    await new Promise((r) => setTimeout(r, 50));
    for (const c of clients) c.write(encodeCommand(["ECHO", "noise-" + "n".repeat(5000)]));
    for (const c of clients) await c.read();
    assert.equal(await clients[0].call("RPUSH", "q", "v"), ":1\r\n");
    assert.equal(await blocked.read(), "*2\r\n$1\r\nq\r\n$1\r\nv\r\n");
    assert.equal(await blocked.read(), `$3006\r\nafter-${"z".repeat(3000)}\r\n`);
  } finally {
    await t.stop();
  }
});
