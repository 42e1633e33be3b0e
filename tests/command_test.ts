/**
 * COMMAND and subcommands: COMMAND INFO is byte-identical to redis-server's for
 * implemented commands in RESP2 and RESP3; containers list only implemented
 * subcommands; COUNT/LIST/DOCS/GETKEYS agree with Redis restricted to what Amber serves.
 */
import assert from "node:assert/strict";
import { compareScript, startPair } from "./helpers/differential.ts";
import type { RawClient } from "./helpers/resp_client.ts";
import { skipWithoutRedis, startAmber } from "./helpers/servers.ts";

/** Parses one RESP reply into nested JS values (tags kept for maps and sets). */
function parse(s: string): unknown {
  let p = 0;
  const line = () => {
    const e = s.indexOf("\r\n", p);
    const l = s.slice(p, e);
    p = e + 2;
    return l;
  };
  const one = (): unknown => {
    const l = line();
    const t = l[0];
    const rest = l.slice(1);
    switch (t) {
      case "+":
      case "-":
        return t + rest;
      case ":":
        return Number(rest);
      case "_":
        return null;
      case "$": {
        const n = Number(rest);
        if (n < 0) return null;
        const v = s.slice(p, p + n);
        p += n + 2;
        return v;
      }
      case "*":
      case "~": {
        const n = Number(rest);
        if (n < 0) return null;
        const out = [];
        for (let i = 0; i < n; i++) out.push(one());
        return out;
      }
      case "%": {
        const n = Number(rest);
        const out: [unknown, unknown][] = [];
        for (let i = 0; i < n; i++) out.push([one(), one()]);
        return { map: out };
      }
      default:
        throw new Error("unexpected " + l);
    }
  };
  return one();
}

async function implemented(a: RawClient): Promise<string[]> {
  return (parse(await a.call("COMMAND", "LIST")) as string[]).sort();
}

Deno.test({
  name: "differential: COMMAND INFO of simple commands is byte-identical (RESP2 and RESP3)",
  ignore: skipWithoutRedis(),
  async fn() {
    const pair = await startPair();
    try {
      const [r, a] = await pair.clients();
      const names = [
        "get",
        "set",
        "ping",
        "GET",
        "config|get",
        "CONFIG|SET",
        "client|list",
        "command|info",
        "info",
        "flushall",
        "hello",
        "auth",
        "swapdb",
      ];
      const steps = [
        ...names.map((n) => ["COMMAND", "INFO", n]),
        ["COMMAND", "INFO", "get", "set", "nosuchcommand", "ping"],
        ["COMMAND", "INFO", "nosuch"],
        ["COMMAND", "INFO", "config|nosuch"],
        ["COMMAND", "INFO", "get|x"],
        ["COMMAND", "INFO", "config|get|x"],
        ["COMMAND", "INFO", ""],
        ["COMMAND", "DOCS", "nosuch"],
        ["COMMAND", "HELP"],
        ["command", "help"],
        ["COMMAND", "HELP", "x"],
        ["COMMAND", "FOO"],
        ["COMMAND", "COUNT", "x"],
        ["COMMAND", "LIST", "x"],
        ["COMMAND", "LIST", "FILTERBY"],
        ["COMMAND", "LIST", "FILTERBY", "foo", "x"],
        ["COMMAND", "LIST", "FILTERBY", "pattern"],
        ["COMMAND", "LIST", "FILTERBY", "pattern", "a", "b"],
        ["COMMAND", "LIST", "FILTERBY", "MODULE", "x"],
        ["COMMAND", "LIST", "FILTERBY", "ACLCAT", "nosuchcategory"],
        ["COMMAND", "LIST", "FILTERBY", "PATTERN", "nosuch*"],
        ["COMMAND", "LIST", "FILTERBY", "PATTERN", "GET"],
        ["COMMAND", "GETKEYS"],
        ["COMMAND", "GETKEYS", "nosuch", "a"],
        ["COMMAND", "GETKEYS", "get"],
        ["COMMAND", "GETKEYS", "get", "a"],
        ["COMMAND", "GETKEYS", "GET", "a", "b"],
        ["COMMAND", "GETKEYS", "set", "a", "b"],
        ["COMMAND", "GETKEYS", "set", "a"],
        ["COMMAND", "GETKEYS", "ping", "x"],
        ["COMMAND", "GETKEYS", "mset", "a", "1", "b", "2"],
        ["COMMAND", "GETKEYS", "mset", "a", "1", "b"],
        ["COMMAND", "GETKEYS", "mget", "a", "b", "c"],
        ["COMMAND", "GETKEYS", "del", "a", "b"],
        ["COMMAND", "GETKEYS", "config", "get", "x"],
        ["COMMAND", "GETKEYSANDFLAGS", "set", "a", "b"],
        ["COMMAND", "GETKEYSANDFLAGS", "mget", "a", "b"],
        ["COMMAND", "GETKEYSANDFLAGS", "getex", "k", "PERSIST"],
        ["COMMAND", "GETKEYSANDFLAGS", "set", "a", "b", "GET"],
        ["COMMAND", "GETKEYSANDFLAGS", "set", "a", "b", "NX", "get"],
        ["COMMAND", "GETKEYSANDFLAGS", "set", "a", "b", "getx"],
        ["COMMAND", "GETKEYSANDFLAGS", "set", "a", "GET"],
      ];
      await compareScript(r, a, steps);
      await Promise.all([r.call("HELLO", "3"), a.call("HELLO", "3")]);
      await compareScript(r, a, steps);
    } finally {
      await pair.stop();
    }
  },
});

Deno.test({
  name: "differential: containers list only implemented subcommands; LIST/COUNT/DOCS agree",
  ignore: skipWithoutRedis(),
  async fn() {
    const pair = await startPair();
    try {
      const [r, a] = await pair.clients();
      const ours = await implemented(a);
      const theirs = new Set(parse(await r.call("COMMAND", "LIST")) as string[]);
      for (const n of ours) assert.ok(theirs.has(n), `${n} is not a Redis 7.0 command`);
      const top = ours.filter((n) => !n.includes("|"));
      assert.equal(await a.call("COMMAND", "COUNT"), `:${top.length}\r\n`);
      // Filters: Redis's answer restricted to the commands Amber implements.
      const mine = new Set(ours);
      for (
        const f of [["PATTERN", "c*"], ["ACLCAT", "string"], ["aclcat", "KEYSPACE"], [
          "pattern",
          "*|*",
        ]]
      ) {
        const rr = (parse(await r.call("COMMAND", "LIST", "FILTERBY", ...f)) as string[])
          .filter((n) => mine.has(n)).sort();
        const ar = (parse(await a.call("COMMAND", "LIST", "FILTERBY", ...f)) as string[]).sort();
        assert.deepEqual(ar, rr, `FILTERBY ${f.join(" ")}`);
      }
      // CONFIG: Redis's entry for each implemented subcommand, byte for byte.
      const cfg = parse(await a.call("COMMAND", "INFO", "config")) as unknown[][];
      const rcfg = parse(await r.call("COMMAND", "INFO", "config")) as unknown[][];
      assert.deepEqual(cfg[0].slice(0, 9), rcfg[0].slice(0, 9));
      const subs = cfg[0][9] as unknown[][];
      const rsubs = new Map((rcfg[0][9] as unknown[][]).map((s) => [s[0], s]));
      assert.deepEqual(
        subs.map((s) => s[0]).sort(),
        ours.filter((n) => n.startsWith("config|")).sort(),
      );
      for (const s of subs) assert.deepEqual(s, rsubs.get(s[0]));
      // Bare COMMAND lists every implemented top-level command.
      const all = parse(await a.call("COMMAND")) as unknown[][];
      assert.deepEqual(all.map((x) => x[0]).sort(), top);
      assert.deepEqual(parse(await a.call("COMMAND", "INFO")), all);
      // DOCS: summary/since/group/complexity as Redis has them (RESP3 to see the maps).
      await Promise.all([r.call("HELLO", "3"), a.call("HELLO", "3")]);
      const ad = parse(await a.call("COMMAND", "DOCS", "get", "config")) as {
        map: [string, { map: [string, unknown][] }][];
      };
      const rd = parse(await r.call("COMMAND", "DOCS", "get", "config")) as typeof ad;
      assert.deepEqual(ad.map.map(([n]) => n), ["get", "config"]);
      for (const [name, doc] of ad.map) {
        const theirsDoc = new Map(rd.map.find(([n]) => n === name)![1].map);
        for (const [k, v] of doc.map) {
          if (k === "subcommands") continue;
          assert.deepEqual(v, theirsDoc.get(k), `${name} ${k}`);
        }
      }
    } finally {
      await pair.stop();
    }
  },
});

Deno.test("COMMAND DOCS with no names maps every implemented command", async () => {
  const t = await startAmber();
  try {
    const c = await t.client();
    const count = Number((await c.call("COMMAND", "COUNT")).slice(1, -2));
    const flat = parse(await c.call("COMMAND", "DOCS")) as unknown[];
    assert.equal(flat.length, 2 * count);
    await c.call("HELLO", "3");
    const docs = parse(await c.call("COMMAND", "DOCS")) as { map: [string, unknown][] };
    assert.equal(docs.map.length, count);
    assert.match(
      await c.call("COMMAND", "DOCS", "ping"),
      /^%1\r\n\$4\r\nping\r\n%4\r\n\$7\r\nsummary\r\n/,
    );
  } finally {
    await t.stop();
  }
});
