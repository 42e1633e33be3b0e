/**
 * INFO: sections and field names against a real redis-server (same sections in the
 * same order; every Redis field present, in Redis's order; Amber may add fields),
 * values that are deterministic (keyspace, errorstats, command counters), the RESP3
 * verbatim form, and the registerInfoSection extension point.
 */
import assert from "node:assert/strict";
import { startPair } from "./helpers/differential.ts";
import type { RawClient } from "./helpers/resp_client.ts";
import { skipWithoutRedis, startAmber } from "./helpers/servers.ts";
import { bytesToHuman, fixed2, infoText, registerInfoSection } from "../src/commands/info.ts";

/** The text of a bulk or verbatim reply. */
function text(reply: string): string {
  const m = /^[$=](\d+)\r\n/.exec(reply);
  assert.ok(m, reply);
  const body = reply.slice(m[0].length, m[0].length + Number(m[1]));
  return reply[0] === "=" ? body.slice(4) : body;
}

interface Section {
  header: string;
  fields: [string, string][];
}

function sections(info: string): Section[] {
  const out: Section[] = [];
  for (const line of info.split("\r\n")) {
    if (line.startsWith("# ")) out.push({ header: line.slice(2), fields: [] });
    else if (line !== "") {
      const i = line.indexOf(":");
      out.at(-1)!.fields.push([line.slice(0, i), line.slice(i + 1)]);
    }
  }
  return out;
}

/** Every name of `theirs` appears in `ours`, in the same relative order. */
function assertSubsequence(ours: string[], theirs: string[], what: string): void {
  let i = 0;
  for (const name of theirs) {
    const at = ours.indexOf(name, i);
    assert.ok(at !== -1, `${what}: missing or out of order: ${name}`);
    i = at + 1;
  }
}

const STATIC_SECTIONS = [
  "Server",
  "Clients",
  "Memory",
  "Persistence",
  "Stats",
  "Replication",
  "CPU",
  "Cluster",
];

async function both(r: RawClient, a: RawClient, ...argv: string[]): Promise<[string, string]> {
  return await Promise.all([r.call(...argv), a.call(...argv)]);
}

Deno.test({
  name: "differential: INFO section headers and field names match redis-server",
  ignore: skipWithoutRedis(),
  async fn() {
    const pair = await startPair();
    try {
      const [r, a] = await pair.clients();
      const args = [
        [],
        ["everything"],
        ["all"],
        ["default"],
        ["ALL"],
        ["server"],
        ["Server", "KEYSPACE"],
        ["commandstats", "server"],
        ["default", "commandstats"],
        ["all", "default"],
        ["modules"],
        ["module_list"],
        ["everything", "cpu"],
        ["latencystats"],
        ["errorstats"],
        ["nosuchsection"],
        ["persistence", "memory", "clients", "stats", "replication", "cpu", "cluster"],
      ];
      for (const arg of args) {
        const [rr, ar] = await both(r, a, "INFO", ...arg);
        const rs = sections(text(rr));
        const as = sections(text(ar));
        assert.deepEqual(as.map((s) => s.header), rs.map((s) => s.header), `INFO ${arg.join(" ")}`);
        for (let i = 0; i < rs.length; i++) {
          if (!STATIC_SECTIONS.includes(rs[i].header)) continue;
          assertSubsequence(
            as[i].fields.map(([k]) => k),
            rs[i].fields.map(([k]) => k),
            `INFO ${arg.join(" ")} / ${rs[i].header}`,
          );
        }
      }
      // Amber's extras are few: amber_version and nothing else unexpected.
      const [rr, ar] = await both(r, a, "INFO", "everything");
      const rnames = new Set(sections(text(rr)).flatMap((s) => s.fields.map(([k]) => k)));
      const extra = sections(text(ar)).filter((s) => STATIC_SECTIONS.includes(s.header))
        .flatMap((s) => s.fields.map(([k]) => k)).filter((k) => !rnames.has(k));
      assert.deepEqual(extra, ["amber_version", "amber_eventloop_max_stall_ms"]);
      // Empty answers are identical bytes.
      assert.equal((await both(r, a, "INFO", "nosuch"))[1], "$0\r\n\r\n");
      await both(r, a, "HELLO", "3");
      const [r3, a3] = await both(r, a, "INFO", "nosuch");
      assert.equal(a3, r3);
      const [rk, ak] = await both(r, a, "INFO", "keyspace");
      assert.equal(ak, rk);
    } finally {
      await pair.stop();
    }
  },
});

Deno.test({
  name: "differential: INFO keyspace, errorstats and commandstats counters",
  ignore: skipWithoutRedis(),
  async fn() {
    const pair = await startPair();
    try {
      const [r, a] = await pair.clients();
      const script = [
        ["CONFIG", "RESETSTAT"],
        ["SET", "a", "1"],
        ["SET", "b", "x"],
        ["GET", "a"],
        ["GET"],
        ["INCR", "b"],
        ["NOSUCH"],
        ["CONFIG", "GET", "port"],
        ["CONFIG", "NOSUCH"],
        ["SELECT", "2"],
        ["SET", "c", "1"],
        ["SET", "d", "1"],
        ["SELECT", "99"],
        ["HELLO", "9"],
        ["SELECT", "0"],
      ];
      for (const s of script) await both(r, a, ...s);
      const [rk, ak] = await both(r, a, "INFO", "keyspace");
      assert.equal(ak, rk);
      const [re, ae] = await both(r, a, "INFO", "errorstats");
      assert.equal(ae, re);
      const [rc, ac] = await both(r, a, "INFO", "commandstats");
      const mask = (info: string) =>
        sections(text(info))[0].fields
          .map(([k, v]) => `${k}:${v.replace(/usec=\d+,usec_per_call=[\d.]+/, "usec=U")}`)
          .sort();
      assert.deepEqual(mask(ac), mask(rc));
      assert.match(text(ac), /^cmdstat_config\|get:calls=1,usec=\d+,usec_per_call=\d+\.\d\d,/m);
      // CONFIG RESETSTAT clears the counters and the error stats.
      await both(r, a, "CONFIG", "RESETSTAT");
      const [rc2, ac2] = await both(r, a, "INFO", "commandstats", "errorstats");
      assert.deepEqual(mask(ac2), mask(rc2));
      assert.equal(sections(text(ac2))[1].fields.length, 0);
    } finally {
      await pair.stop();
    }
  },
});

Deno.test("INFO values: versions, dirty, lastsave, clients, RESP3 verbatim", async () => {
  const t = await startAmber();
  try {
    const c = await t.client();
    await c.call("SET", "k", "v");
    const srv = t.amber.server;
    const info = new Map(sections(text(await c.call("INFO"))).flatMap((s) => s.fields));
    assert.equal(info.get("redis_version"), "7.0.15");
    assert.match(info.get("amber_version")!, /^\d+\.\d+\.\d+/);
    assert.equal(info.get("rdb_changes_since_last_save"), String(srv.dirty));
    assert.equal(info.get("rdb_last_save_time"), String(srv.lastSave));
    assert.equal(info.get("aof_enabled"), "0");
    assert.equal(info.get("loading"), "0");
    assert.equal(info.get("tcp_port"), String(t.port));
    assert.equal(info.get("connected_clients"), "1");
    assert.equal(info.get("run_id"), srv.runId);
    assert.equal(info.get("db0"), "keys=1,expires=0,avg_ttl=0");
    assert.match(info.get("used_memory_human")!, /^\d+\.\d\d[KMG]$/);
    assert.match(info.get("used_cpu_user")!, /^\d+\.\d{6}$/);
    await c.call("HELLO", "3");
    assert.match(
      await c.call("INFO", "server"),
      /^=\d+\r\ntxt:# Server\r\nredis_version:7\.0\.15\r\n/,
    );
    assert.equal(infoText(srv, ["nosuch"]), "");
    assert.ok(infoText(srv, ["cluster"]) === "# Cluster\r\ncluster_enabled:0\r\n");
  } finally {
    await t.stop();
  }
});

Deno.test("registerInfoSection overrides and appends fields, and adds sections", async () => {
  const t = await startAmber();
  try {
    registerInfoSection("persistence", (server, f) => {
      if (server !== t.amber.server) return;
      f.set("aof_enabled", 1);
      f.set("aof_current_size", 123);
    });
    registerInfoSection("amberextra", (server, f) => {
      if (server === t.amber.server) f.set("x", "y");
    });
    const p = infoText(t.amber.server, ["persistence"]);
    assert.match(p, /\r\naof_enabled:1\r\naof_rewrite_in_progress:0\r\n/);
    assert.ok(p.endsWith("module_fork_last_cow_size:0\r\naof_current_size:123\r\n"));
    assert.equal(infoText(t.amber.server, ["amberextra"]), "# Amberextra\r\nx:y\r\n");
    assert.ok(infoText(t.amber.server, ["all"]).endsWith("\r\n# Amberextra\r\nx:y\r\n"));
    assert.ok(!infoText(t.amber.server, []).includes("Amberextra"));
  } finally {
    await t.stop();
  }
});

Deno.test("bytesToHuman and %.2f formatting follow C's printf", () => {
  assert.equal(bytesToHuman(0), "0B");
  assert.equal(bytesToHuman(1023), "1023B");
  assert.equal(bytesToHuman(1024), "1.00K");
  assert.equal(bytesToHuman(991264), "968.03K");
  assert.equal(bytesToHuman(7081984), "6.75M");
  assert.equal(bytesToHuman(25274793984), "23.54G");
  assert.equal(fixed2(0.125), "0.12");
  assert.equal(fixed2(0.375), "0.38");
  assert.equal(fixed2(2.5), "2.50");
  assert.equal(fixed2(1.005), "1.00");
  assert.equal(fixed2(154), "154.00");
});
