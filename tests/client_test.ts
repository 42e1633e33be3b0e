/**
 * CLIENT subcommands: differential scripts against redis-server for every error form,
 * SETNAME/GETNAME and REPLY ON/OFF/SKIP (including pipelines that switch modes), the
 * CLIENT LIST/INFO line format (field names and order), and KILL in its two forms.
 */
import assert from "node:assert/strict";
import { compareRaw, compareScript, startPair } from "./helpers/differential.ts";
import { encodeCommand } from "./helpers/resp_client.ts";
import { skipWithoutRedis, startAmber } from "./helpers/servers.ts";

Deno.test({
  name: "differential: CLIENT errors, SETNAME/GETNAME, NO-EVICT, HELP",
  ignore: skipWithoutRedis(),
  async fn() {
    const pair = await startPair();
    try {
      const [r, a] = await pair.clients();
      await compareScript(r, a, [
        ["CLIENT"],
        ["CLIENT", "foo"],
        ["CLIENT", "HELP"],
        ["client", "help"],
        ["CLIENT", "HELP", "x"],
        ["CLIENT", "GETNAME"],
        ["CLIENT", "GETNAME", "x"],
        ["CLIENT", "SETNAME"],
        ["CLIENT", "SETNAME", "a", "b"],
        ["CLIENT", "SETNAME", "a b"],
        ["CLIENT", "SETNAME", "a\nb"],
        ["CLIENT", "SETNAME", "a\x01"],
        ["CLIENT", "SETNAME", "\x7f"],
        ["CLIENT", "SETNAME", "caf\xe9"],
        ["CLIENT", "SETNAME", "\xff"],
        ["CLIENT", "GETNAME"],
        ["CLIENT", "SETNAME", "!~name-with:punct{}[]"],
        ["CLIENT", "GETNAME"],
        ["CLIENT", "SETNAME", ""],
        ["CLIENT", "GETNAME"],
        ["CLIENT", "SETNAME", "x".repeat(300)],
        ["CLIENT", "GETNAME"],
        ["CLIENT", "NO-EVICT"],
        ["CLIENT", "NO-EVICT", "foo"],
        ["CLIENT", "NO-EVICT", "ON"],
        ["CLIENT", "no-evict", "off"],
        ["CLIENT", "REPLY"],
        ["CLIENT", "REPLY", "foo"],
        ["CLIENT", "REPLY", "on", "x"],
        ["CLIENT", "REPLY", "ON"],
        ["CLIENT", "ID", "x"],
        ["CLIENT", "INFO", "x"],
        ["CLIENT", "LIST", "foo"],
        ["CLIENT", "LIST", "TYPE"],
        ["CLIENT", "LIST", "TYPE", "foo"],
        ["CLIENT", "LIST", "TYPE", "master"],
        ["CLIENT", "LIST", "type", "REPLICA"],
        ["CLIENT", "LIST", "TYPE", "slave"],
        ["CLIENT", "LIST", "TYPE", "pubsub"],
        ["CLIENT", "LIST", "TYPE", "normal", "x"],
        ["CLIENT", "LIST", "ID"],
        ["CLIENT", "LIST", "ID", "abc"],
        ["CLIENT", "LIST", "ID", "99999", "abc"],
        ["CLIENT", "LIST", "ID", "99999"],
        ["CLIENT", "LIST", "ID", "-1", "0"],
        ["CLIENT", "KILL"],
        ["CLIENT", "KILL", "1.2.3.4:5"],
        ["CLIENT", "KILL", "id"],
        ["CLIENT", "KILL", "ID", "0"],
        ["CLIENT", "KILL", "ID", "-5"],
        ["CLIENT", "KILL", "ID", "abc"],
        ["CLIENT", "KILL", "ID", "99999"],
        ["CLIENT", "KILL", "ID", "99999", "TYPE"],
        ["CLIENT", "KILL", "TYPE", "foo"],
        ["CLIENT", "KILL", "TYPE", "master"],
        ["CLIENT", "KILL", "USER", "nouser"],
        ["CLIENT", "KILL", "USER", "default"],
        ["CLIENT", "KILL", "SKIPME", "maybe"],
        ["CLIENT", "KILL", "SKIPME", "yes"],
        ["CLIENT", "KILL", "foo", "bar"],
        ["CLIENT", "KILL", "ADDR", "1.2.3.4:5"],
        ["CLIENT", "KILL", "LADDR", "1.2.3.4:5"],
        ["CLIENT", "KILL", "ADDR", "1.2.3.4:5", "ID", "0"],
        ["CLIENT", "KILL", "ID", "99999", "ID", "x"],
        ["CLIENT", "KILL", "TYPE", "pubsub", "USER", "nouser"],
        ["CLIENT", "PING"],
      ]);
    } finally {
      await pair.stop();
    }
  },
});

Deno.test({
  name: "differential: CLIENT REPLY OFF/ON/SKIP in pipelines and across packets",
  ignore: skipWithoutRedis(),
  async fn() {
    const pair = await startPair();
    try {
      const [r, a] = await pair.clients();
      const cmds = (...lines: string[][]) => lines.map(encodeCommand).join("");
      // After each case, turn replies back on and sync: nothing else may be pending.
      const check = async (raw: string, n: number) => {
        await compareRaw(r, a, raw, n);
        const sync = cmds(["CLIENT", "REPLY", "ON"], ["ECHO", "sync"]);
        await compareRaw(r, a, sync, 2);
      };
      await check(
        cmds(["CLIENT", "REPLY", "OFF"], ["PING"], ["CLIENT", "REPLY", "ON"], ["PING"]),
        2,
      );
      await check(cmds(["PING"], ["CLIENT", "REPLY", "OFF"], ["ECHO", "x"]), 1);
      await check(cmds(["CLIENT", "REPLY", "SKIP"], ["ECHO", "a"], ["ECHO", "b"]), 1);
      await check(cmds(["CLIENT", "REPLY", "SKIP"], ["NOSUCH"], ["ECHO", "b"]), 1);
      await check(cmds(["CLIENT", "REPLY", "SKIP"], ["GET"], ["ECHO", "b"]), 1);
      await check(cmds(["CLIENT", "REPLY", "SKIP"], ["CLIENT", "REPLY", "SKIP"], ["ECHO", "c"]), 0);
      await check(cmds(["CLIENT", "REPLY", "SKIP"], ["CLIENT", "REPLY", "ON"], ["ECHO", "d"]), 1);
      await check(cmds(["CLIENT", "REPLY", "OFF"], ["CLIENT", "REPLY", "SKIP"], ["ECHO", "e"]), 0);
      await check(cmds(["CLIENT", "REPLY", "OFF"], ["CLIENT", "REPLY", "foo"], ["PING"]), 0);
      await check(cmds(["CLIENT", "REPLY", "SKIP"]), 0);
      // SKIP as the last command of one packet, the skipped command in the next one.
      r.write(cmds(["CLIENT", "REPLY", "SKIP"]));
      a.write(cmds(["CLIENT", "REPLY", "SKIP"]));
      await new Promise((res) => setTimeout(res, 50));
      await check(cmds(["ECHO", "skipped"], ["ECHO", "seen"]), 1);
      // Inline commands count as commands too.
      await check("CLIENT REPLY SKIP\r\nPING\r\nECHO inline\r\n", 1);
      await check("CLIENT REPLY OFF\r\nSET k v\r\nCLIENT REPLY ON\r\nGET k\r\n", 2);
      // RESET turns replies back on; a SKIP already muting RESET itself still applies.
      await check(cmds(["CLIENT", "REPLY", "OFF"], ["RESET"], ["PING"]), 2);
      await check(cmds(["CLIENT", "REPLY", "SKIP"], ["RESET"], ["PING"]), 1);
    } finally {
      await pair.stop();
    }
  },
});

const LIST_FIELDS = [
  "id",
  "addr",
  "laddr",
  "fd",
  "name",
  "age",
  "idle",
  "flags",
  "db",
  "sub",
  "psub",
  "ssub",
  "multi",
  "qbuf",
  "qbuf-free",
  "argv-mem",
  "multi-mem",
  "rbs",
  "rbp",
  "obl",
  "oll",
  "omem",
  "tot-mem",
  "events",
  "cmd",
  "user",
  "redir",
  "resp",
];

function bulkText(reply: string): string {
  const m = /^[$=](\d+)\r\n/.exec(reply);
  assert.ok(m, reply);
  const body = reply.slice(m[0].length, m[0].length + Number(m[1]));
  return reply[0] === "=" ? body.slice(4) : body;
}

function fieldsOf(line: string): [string, string][] {
  return line.split(" ").map((kv) => {
    const eq = kv.indexOf("=");
    return [kv.slice(0, eq), kv.slice(eq + 1)];
  });
}

Deno.test({
  name: "differential: CLIENT LIST / CLIENT INFO have Redis 7.0's fields in Redis's order",
  ignore: skipWithoutRedis(),
  async fn() {
    const pair = await startPair();
    try {
      const [r, a] = await pair.clients();
      for (const c of [r, a]) {
        await c.call("CLIENT", "SETNAME", "me");
        await c.call("SELECT", "3");
      }
      const [rl, al] = await Promise.all([r.call("CLIENT", "LIST"), a.call("CLIENT", "LIST")]);
      const [ri, ai] = await Promise.all([r.call("CLIENT", "INFO"), a.call("CLIENT", "INFO")]);
      for (const text of [bulkText(rl), bulkText(al), bulkText(ri), bulkText(ai)]) {
        assert.ok(text.endsWith("\n"));
        const fields = fieldsOf(text.slice(0, -1).split("\n")[0]);
        assert.deepEqual(fields.map(([k]) => k), LIST_FIELDS);
      }
      // Deterministic fields agree with Redis.
      const pick = (t: string) => {
        const f = new Map(fieldsOf(bulkText(t).trimEnd()));
        return [
          "name",
          "flags",
          "db",
          "sub",
          "psub",
          "ssub",
          "multi",
          "events",
          "user",
          "redir",
          "resp",
        ]
          .map((k) => `${k}=${f.get(k)}`).join(" ");
      };
      assert.equal(pick(al), pick(rl));
      assert.equal(pick(ai), pick(ri));
      assert.match(bulkText(ai), / cmd=client\|info /);
      assert.match(bulkText(al), / cmd=client\|list /);
      // RESP3: verbatim text.
      await a.call("HELLO", "3");
      assert.match(await a.call("CLIENT", "INFO"), /^=\d+\r\ntxt:id=\d+ /);
    } finally {
      await pair.stop();
    }
  },
});

Deno.test("CLIENT ID/LIST/KILL on several connections", async () => {
  const t = await startAmber();
  try {
    const a = await t.client();
    const b = await t.client();
    const c = await t.client();
    const idA = Number((await a.call("CLIENT", "ID")).slice(1, -2));
    const idB = Number((await b.call("CLIENT", "ID")).slice(1, -2));
    const idC = Number((await c.call("CLIENT", "ID")).slice(1, -2));
    assert.ok(idA < idB && idB < idC);
    await b.call("CLIENT", "SETNAME", "bee");
    const list = bulkText(await a.call("CLIENT", "LIST"));
    assert.equal(list.split("\n").length, 4);
    assert.match(list, new RegExp(`^id=${idB} .* name=bee .* cmd=client\\|setname `, "m"));
    assert.match(list, new RegExp(`^id=${idA} .* cmd=client\\|list `, "m"));
    const byId = bulkText(await a.call("CLIENT", "LIST", "ID", String(idC), "12345", String(idB)));
    assert.deepEqual(byId.trimEnd().split("\n").map((l) => l.split(" ")[0]), [
      `id=${idC}`,
      `id=${idB}`,
    ]);
    assert.equal(bulkText(await a.call("CLIENT", "LIST", "TYPE", "pubsub")), "");
    assert.equal(bulkText(await a.call("CLIENT", "LIST", "TYPE", "NORMAL")).split("\n").length, 4);
    // New form: a count; the caller is skipped by default.
    assert.equal(await a.call("CLIENT", "KILL", "ID", String(idB)), ":1\r\n");
    assert.equal(await b.waitClosed(), "");
    assert.equal(await a.call("CLIENT", "KILL", "ID", String(idA)), ":0\r\n");
    // Old form with the address of another client.
    const addrC = /addr=(\S+)/.exec(bulkText(await c.call("CLIENT", "INFO")))![1];
    assert.equal(await a.call("CLIENT", "KILL", addrC), "+OK\r\n");
    await c.waitClosed();
    // SKIPME no kills the caller after its reply.
    const d = await t.client();
    a.write(encodeCommand(["CLIENT", "KILL", "USER", "default", "SKIPME", "no"]));
    assert.equal(await a.read(), ":2\r\n");
    await a.waitClosed();
    await d.waitClosed();
  } finally {
    await t.stop();
  }
});

Deno.test("CLIENT flags: MONITOR is O, NO-EVICT is e, LADDR filter", async () => {
  const t = await startAmber();
  try {
    const a = await t.client();
    const m = await t.client();
    await m.call("MONITOR");
    await a.call("CLIENT", "NO-EVICT", "on");
    const list = bulkText(await a.call("CLIENT", "LIST"));
    assert.match(list, / flags=O /);
    assert.match(list, / flags=e /);
    const laddr = /laddr=(\S+)/.exec(list)![1];
    assert.equal(await a.call("CLIENT", "KILL", "LADDR", laddr, "SKIPME", "yes"), ":1\r\n");
    await m.waitClosed();
  } finally {
    await t.stop();
  }
});
