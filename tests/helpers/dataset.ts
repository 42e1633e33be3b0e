/**
 * Reading a whole dataset out of a server through commands, in the shape of the
 * fixtures' expected.json (`dbs[db][key] = {type, value, pexpireat}`), so files loaded
 * by Amber, by redis-server, or described by a fixture can be compared.
 */
import { parseReply, type RawClient, type Reply } from "./resp_client.ts";

export interface KeyDump {
  type: string;
  value: unknown;
  pexpireat: number | null;
}
export type DatasetDump = Record<string, Record<string, KeyDump>>;

async function q(c: RawClient, ...argv: string[]): Promise<Reply> {
  const r = parseReply(await c.call(...argv));
  if (r instanceof Error) throw r;
  return r;
}

/** Every key of databases 0..`dbs-1`, with values normalised like expected.json. */
export async function dumpDataset(c: RawClient, dbs = 16): Promise<DatasetDump> {
  const out: DatasetDump = {};
  for (let db = 0; db < dbs; db++) {
    await q(c, "SELECT", String(db));
    const keys = (await q(c, "KEYS", "*")) as string[];
    if (keys.length === 0) continue;
    const m: Record<string, KeyDump> = {};
    for (const key of keys.sort()) {
      const type = (await q(c, "TYPE", key)) as string;
      let value: unknown;
      if (type === "string") value = await q(c, "GET", key);
      else if (type === "list") value = await q(c, "LRANGE", key, "0", "-1");
      else if (type === "set") value = ((await q(c, "SMEMBERS", key)) as string[]).sort();
      else if (type === "hash") {
        const flat = (await q(c, "HGETALL", key)) as string[];
        const h: Record<string, string> = {};
        for (let i = 0; i < flat.length; i += 2) h[flat[i]] = flat[i + 1];
        value = h;
      } else if (type === "zset") {
        const flat = (await q(c, "ZRANGE", key, "0", "-1", "WITHSCORES")) as string[];
        const z: [string, string][] = [];
        for (let i = 0; i < flat.length; i += 2) z.push([flat[i], flat[i + 1]]);
        value = z;
      }
      const pttl = (await q(c, "PTTL", key)) as number;
      m[key] = { type, value, pexpireat: pttl >= 0 ? Date.now() + pttl : null };
    }
    out[String(db)] = m;
  }
  await q(c, "SELECT", "0");
  return out;
}

/**
 * Compares two dumps: same keys, types and values; expiry times equal within
 * `toleranceMs`. Keys in `expected` whose expiry has passed are not expected.
 */
export function diffDatasets(
  actual: DatasetDump,
  expected: DatasetDump,
  toleranceMs = 5000,
): string[] {
  const problems: string[] = [];
  const now = Date.now();
  const dbs = new Set([...Object.keys(actual), ...Object.keys(expected)]);
  for (const db of dbs) {
    const a = actual[db] ?? {};
    const e: Record<string, KeyDump> = {};
    for (const [k, v] of Object.entries(expected[db] ?? {})) {
      if (v.pexpireat === null || v.pexpireat > now + 1000) e[k] = v;
    }
    for (const k of Object.keys(e)) {
      if (!(k in a)) {
        problems.push(`db ${db}: missing key ${JSON.stringify(k)}`);
        continue;
      }
      const x = a[k];
      const y = e[k];
      if (x.type !== y.type) {
        problems.push(`db ${db} ${JSON.stringify(k)}: type ${x.type} != ${y.type}`);
      }
      const xv = normalise(y.type, x.value);
      const yv = normalise(y.type, y.value);
      if (JSON.stringify(xv) !== JSON.stringify(yv)) {
        problems.push(`db ${db} ${JSON.stringify(k)}: value differs`);
      }
      if ((x.pexpireat === null) !== (y.pexpireat === null)) {
        problems.push(`db ${db} ${JSON.stringify(k)}: TTL presence differs`);
      } else if (x.pexpireat !== null && Math.abs(x.pexpireat - y.pexpireat!) > toleranceMs) {
        problems.push(`db ${db} ${JSON.stringify(k)}: expiry differs`);
      }
    }
    for (const k of Object.keys(a)) {
      if (!(k in e) && !(k in (expected[db] ?? {}))) {
        problems.push(`db ${db}: unexpected key ${JSON.stringify(k)}`);
      }
    }
  }
  return problems;
}

/** Sets and hashes have no order: compare them sorted. */
function normalise(type: string, v: unknown): unknown {
  if (type === "set" && Array.isArray(v)) return [...v].sort();
  if (type === "hash" && v && typeof v === "object") {
    return Object.entries(v as Record<string, string>).sort((a, b) => a[0] < b[0] ? -1 : 1);
  }
  return v;
}
