/**
 * Multi-part AOF manifest codec (Redis 7.0 aof.c `aofLoadManifestFromFile`,
 * `getAofManifestAsString`, `aofInfoFormat`) and the AOF file-name helpers.
 *
 * Owns the text format of `<appendfilename>.manifest`: one `file <name> seq <n> type <b|h|i>`
 * line per file, names written with `sdscatrepr` quoting when `sdsneedsrepr` says so, and
 * Redis's exact load-time error messages. Pure: no I/O.
 */
import { splitArgs } from "../../server/resp.ts";

/** One manifest entry: `b` base, `h` history (awaiting deletion), `i` incremental. */
export interface AofInfo {
  name: string;
  seq: number;
  type: "b" | "h" | "i";
}

export interface AofManifest {
  base: AofInfo | null;
  incrs: AofInfo[];
  history: AofInfo[];
  /** Seq of the base file (0 when there is none). */
  currBaseSeq: number;
  /** Seq of the last incr file (0 when there is none). */
  currIncrSeq: number;
}

/** A manifest Redis would refuse to load; `line` is 1-based (0 for whole-file errors). */
export class ManifestError extends Error {
  readonly line: number;
  /** Redis's own message, without the line number. */
  readonly reason: string;
  constructor(reason: string, line: number) {
    super(
      line > 0
        ? `Failed to load the manifest file: ${reason} (line ${line})`
        : `Failed to load the manifest file: ${reason}`,
    );
    this.name = "ManifestError";
    this.reason = reason;
    this.line = line;
  }
}

/** aof.c MANIFEST_MAX_LINE: fgets buffer is this + 1, so content + '\n' must fit in 1024. */
export const MANIFEST_MAX_LINE = 1024;

export const ERR_INVALID_FORMAT = "Invalid AOF manifest file format";
export const ERR_EMPTY = "Found an empty AOF manifest";
export const ERR_TOO_LONG = "The AOF manifest file contains too long line";
export const ERR_PATH = "File can't be a path, just a filename";
export const ERR_DUP_BASE = "Found duplicate base file information";
export const ERR_NON_MONOTONIC = "Found a non-monotonic sequence number";
export const ERR_UNKNOWN_TYPE = "Unknown AOF file type";

export function emptyManifest(): AofManifest {
  return { base: null, incrs: [], history: [], currBaseSeq: 0, currIncrSeq: 0 };
}

/** C `atoll`: optional leading whitespace and sign, then digits; anything else stops it. */
function atoll(s: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)/.exec(s);
  return m ? Number(m[1]) : 0;
}

function isBaseName(name: string): boolean {
  return !name.includes("/") && !name.includes("\\");
}

/**
 * Parses a manifest exactly as Redis 7.0 loads it: lines starting with `#` are skipped,
 * every other line (trimmed of " \t\r\n") must split into an even number (>= 6) of
 * key/value tokens with `file`, `seq` (non-zero) and `type`; unknown keys are ignored.
 * Like Redis (fgets + strchr '\n'), a line without a terminating newline — including
 * a last line missing its '\n' — is reported as too long.
 */
export function parseManifest(text: string): AofManifest {
  const m = emptyManifest();
  if (text.length === 0) throw new ManifestError(ERR_EMPTY, 0);
  let maxSeq = 0;
  let pos = 0;
  let lineno = 0;
  while (pos < text.length) {
    // fgets(buf, MANIFEST_MAX_LINE + 1): at most 1024 chars, up to and including '\n'.
    const nl = text.indexOf("\n", pos);
    const lineEnd = nl === -1 ? text.length : nl + 1;
    const chunkEnd = Math.min(lineEnd, pos + MANIFEST_MAX_LINE);
    const buf = text.slice(pos, chunkEnd);
    pos = chunkEnd;
    lineno++;
    if (buf[0] === "#") continue;
    if (!buf.includes("\n")) throw new ManifestError(ERR_TOO_LONG, lineno);
    const line = buf.replace(/^[ \t\r\n]+/, "").replace(/[ \t\r\n]+$/, "");
    if (line.length === 0) throw new ManifestError(ERR_INVALID_FORMAT, lineno);
    const argv = splitArgs(line);
    if (argv === null || argv.length < 6 || argv.length % 2 !== 0) {
      throw new ManifestError(ERR_INVALID_FORMAT, lineno);
    }
    let name: string | null = null;
    let seq = 0;
    let type = "";
    for (let i = 0; i < argv.length; i += 2) {
      const key = argv[i].toLowerCase();
      if (key === "file") {
        name = argv[i + 1];
        if (!isBaseName(name)) throw new ManifestError(ERR_PATH, lineno);
      } else if (key === "seq") {
        seq = atoll(argv[i + 1]);
      } else if (key === "type") {
        type = argv[i + 1].charAt(0);
      }
    }
    if (name === null || seq === 0 || type === "") {
      throw new ManifestError(ERR_INVALID_FORMAT, lineno);
    }
    if (type === "b") {
      if (m.base !== null) throw new ManifestError(ERR_DUP_BASE, lineno);
      m.base = { name, seq, type };
      m.currBaseSeq = seq;
    } else if (type === "h") {
      m.history.push({ name, seq, type });
    } else if (type === "i") {
      if (seq <= maxSeq) throw new ManifestError(ERR_NON_MONOTONIC, lineno);
      m.incrs.push({ name, seq, type });
      m.currIncrSeq = seq;
      maxSeq = seq;
    } else {
      throw new ManifestError(ERR_UNKNOWN_TYPE, lineno);
    }
  }
  return m;
}

/** C `isprint` in the C locale, on a (signed) char: 0x20..0x7e only. */
function isPrint(c: number): boolean {
  return c >= 0x20 && c <= 0x7e;
}

/** sds.c `sdsneedsrepr`. Note: a single quote does not trigger quoting (as in Redis). */
export function needsRepr(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (
      c === 0x5c || c === 0x22 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0x07 ||
      c === 0x08 || !isPrint(c) || c === 0x20 || c === 0x0b || c === 0x0c
    ) return true;
  }
  return false;
}

/** sds.c `sdscatrepr`: a double-quoted, escaped copy of a Latin-1 string. */
export function reprString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    switch (c) {
      case 0x5c:
        out += "\\\\";
        break;
      case 0x22:
        out += '\\"';
        break;
      case 0x0a:
        out += "\\n";
        break;
      case 0x0d:
        out += "\\r";
        break;
      case 0x09:
        out += "\\t";
        break;
      case 0x07:
        out += "\\a";
        break;
      case 0x08:
        out += "\\b";
        break;
      default:
        out += isPrint(c) ? s[i] : "\\x" + (c & 0xff).toString(16).padStart(2, "0");
    }
  }
  return out + '"';
}

/** aof.c `aofInfoFormat`: one manifest line, with its '\n'. */
export function formatAofInfo(ai: AofInfo): string {
  const name = needsRepr(ai.name) ? reprString(ai.name) : ai.name;
  return `file ${name} seq ${ai.seq} type ${ai.type}\n`;
}

/** aof.c `getAofManifestAsString`: base, then history, then incrs, each in list order. */
export function formatManifest(m: AofManifest): string {
  let out = "";
  if (m.base !== null) out += formatAofInfo(m.base);
  for (const ai of m.history) out += formatAofInfo(ai);
  for (const ai of m.incrs) out += formatAofInfo(ai);
  return out;
}

/** `<appendfilename>.<seq>.base.rdb` (RDB preamble) or `.base.aof` (RESP base). */
export function baseFileName(appendFilename: string, seq: number, rdbPreamble: boolean): string {
  return `${appendFilename}.${seq}.base.${rdbPreamble ? "rdb" : "aof"}`;
}

/** `<appendfilename>.<seq>.incr.aof`. */
export function incrFileName(appendFilename: string, seq: number): string {
  return `${appendFilename}.${seq}.incr.aof`;
}

/** `<appendfilename>.manifest`. */
export function manifestFileName(appendFilename: string): string {
  return `${appendFilename}.manifest`;
}

/** `temp-<appendfilename>.manifest`: written first, then renamed over the manifest. */
export function tempManifestFileName(appendFilename: string): string {
  return `temp-${appendFilename}.manifest`;
}
