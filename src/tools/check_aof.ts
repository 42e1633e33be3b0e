/**
 * `amber check-aof [--fix] [--yes] [--truncate-to-timestamp UNIX] MANIFEST|FILE|DIR`:
 * checks a multi-part AOF (its manifest and every base and incr file it lists) or a
 * single AOF file the way `redis-check-aof` 7.0 does, in its words, with its verdicts
 * and exit codes: the first bad offset and `ok_up_to` of each file, a base starting
 * with "REDIS" checked by the RDB checker first. `--fix` cuts the LAST file at its valid
 * prefix (only the last: cutting an earlier file would drop the commands after it), and
 * `--truncate-to-timestamp` cuts at the first `#TS:` annotation past the given time.
 *
 * Like redis-check-aof, --fix also cuts at garbage in the last file (dropping everything
 * after it), which redis-server's aof-load-truncated never does; the report then says so.
 * Differences from redis-check-aof, on the side of caution or convenience: every cut keeps
 * a copy of the file first (`<file>.bak`, `.bak.2`, ...); `--yes` answers --fix's
 * question; each problem is described with its offset ("AOF error: ..."); a directory can
 * be given for its manifest, and a manifest is also recognized by its name (redis-check-aof
 * only by a first line starting with "file"). A file is read in chunks, whatever its size.
 */
import {
  copyFileSync,
  existsSync,
  readdirSync,
  readFileSync,
  statSync,
  truncateSync,
} from "node:fs";
import { dirname, join } from "node:path";
import {
  ERR_EMPTY,
  ERR_TOO_LONG,
  ManifestError,
  parseManifest,
} from "../persistence/aof/manifest.ts";
import { AMBER_VERSION } from "../version.ts";
import { checkRdbFile } from "./check_rdb.ts";
import { FileReader, processIO, readHead, strerror, type ToolIO } from "./io.ts";
import { Progress } from "./progress.ts";
import { type AofScanResult, scanAofFile } from "./aof_scan.ts";

export const CHECK_AOF_USAGE =
  "Usage: amber check-aof [--fix] [--yes] [--truncate-to-timestamp $timestamp] <file.manifest|file.aof|appendonlydir>\n";

/** Ends the run with an exit code (redis-check-aof calls exit() mid-way the same way). */
class Exit {
  constructor(readonly code: number) {}
}

type FileVerdict = "ok" | "empty" | "truncated" | "ts-truncated";

interface Options {
  fix: boolean;
  yes: boolean;
  toTimestamp: number;
  progress: boolean;
  chunkSize?: number;
}

/** `amber check-aof ...`; resolves to the exit code. */
export async function runCheckAof(
  args: string[],
  io: ToolIO = processIO(),
  extra: { progress?: boolean; chunkSize?: number } = {},
): Promise<number> {
  const opts: Options = {
    fix: false,
    yes: false,
    toTimestamp: 0,
    progress: extra.progress ?? true,
    chunkSize: extra.chunkSize,
  };
  let path: string | null = null;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--fix") opts.fix = true;
    else if (a === "--yes" || a === "-y") opts.yes = true;
    else if (a === "--truncate-to-timestamp") {
      const v = args[++i];
      if (v === undefined) {
        io.err(CHECK_AOF_USAGE);
        return 1;
      }
      // strtol with errno and *endptr checks, as redis-check-aof.
      if (!/^[+-]?\d+$/.test(v) || !Number.isSafeInteger(Number(v))) {
        io.out("Invalid timestamp, aborting...\n");
        return 1;
      }
      opts.toTimestamp = Number(v);
    } else if ((a === "-v" || a === "--version") && args.length === 1) {
      io.out(`amber check-aof ${AMBER_VERSION}\n`);
      return 0;
    } else if ((a === "-h" || a === "--help") && args.length === 1) {
      io.out(CHECK_AOF_USAGE);
      return 0;
    } else if (a.startsWith("-") && a.length > 1) {
      io.err(`Invalid argument: ${a}\n` + CHECK_AOF_USAGE);
      return 1;
    } else if (path === null) path = a;
    else {
      io.err(CHECK_AOF_USAGE);
      return 1;
    }
  }
  if (path === null) {
    io.err(CHECK_AOF_USAGE);
    return 1;
  }
  const checker = new AofChecker(io, opts);
  try {
    await checker.run(path);
    return 0;
  } catch (e) {
    if (e instanceof Exit) return e.code;
    throw e;
  }
}

/** How a path given to check-aof (or dump) is read. */
export type AofInput =
  | { kind: "manifest"; manifest: string; dir: string }
  | { kind: "rdb-preamble"; file: string }
  | { kind: "aof"; file: string };

/**
 * What `path` is: a directory holding a manifest, a manifest (by its first line
 * starting with "file", as redis-check-aof, or its name), an RDB-preamble AOF (starts
 * with "REDIS") or a plain RESP AOF. Throws an Error with a message for the operator.
 */
export function classifyAofInput(path: string): AofInput {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    throw new Error(`Cannot open file: ${path}: ${strerror(e)}`);
  }
  if (st.isDirectory()) {
    const found = readdirSync(path).filter((n) =>
      n.endsWith(".manifest") && !n.startsWith("temp-")
    );
    if (found.length === 0) throw new Error(`No AOF manifest (*.manifest) in directory ${path}`);
    if (found.length > 1) {
      throw new Error(
        `Several AOF manifests in directory ${path} (${found.join(", ")}): name one`,
      );
    }
    return { kind: "manifest", manifest: join(path, found[0]), dir: path };
  }
  const head = readHead(path, 5);
  const text = String.fromCharCode(...head);
  if ((st.size >= 30 && text.startsWith("file")) || path.endsWith(".manifest")) {
    return { kind: "manifest", manifest: path, dir: dirname(path) };
  }
  if (st.size >= 8 && text === "REDIS") return { kind: "rdb-preamble", file: path };
  return { kind: "aof", file: path };
}

class AofChecker {
  /** redis-check-aof's line counter runs on across the files of a manifest. */
  private line = 1;

  constructor(private readonly io: ToolIO, private readonly opts: Options) {}

  private say(s: string): void {
    this.io.out(s + "\n");
  }

  private fail(s: string, code = 1): never {
    this.say(s);
    throw new Exit(code);
  }

  async run(path: string): Promise<void> {
    let input: AofInput;
    try {
      input = classifyAofInput(path);
    } catch (e) {
      this.fail((e as Error).message);
    }
    if (input.kind === "manifest") {
      await this.checkMultiPart(input.dir, input.manifest);
      return;
    }
    this.say("Start checking Old-Style AOF");
    const v = await this.checkSingle(input.file, input.file, true, input.kind === "rdb-preamble");
    this.sayVerdict("AOF", input.file, v);
  }

  private sayVerdict(what: string, name: string, v: FileVerdict): void {
    switch (v) {
      case "ok":
        this.say(`${what} ${name} is valid`);
        break;
      case "empty":
        this.say(`${what} ${name} is empty`);
        break;
      case "ts-truncated":
        this.say(`Successfully truncated AOF ${name} to timestamp ${this.opts.toTimestamp}`);
        break;
      case "truncated":
        this.say(`Successfully truncated AOF ${name}`);
        break;
    }
  }

  private async checkMultiPart(dir: string, manifestPath: string): Promise<void> {
    this.say("Start checking Multi Part AOF");
    if (!existsSync(manifestPath)) {
      this.fail(`The AOF manifest file ${manifestPath} doesn't exist`);
    }
    let text: string;
    try {
      text = readFileSync(manifestPath, "latin1");
    } catch (e) {
      this.fail(
        `Fatal error: can't open the AOF manifest file ${manifestPath} for reading: ${strerror(e)}`,
      );
    }
    let m;
    try {
      m = parseManifest(text);
    } catch (e) {
      if (!(e instanceof ManifestError)) throw e;
      this.say("\n*** FATAL AOF MANIFEST FILE ERROR ***");
      if (e.line > 0 && e.reason !== ERR_TOO_LONG && e.reason !== ERR_EMPTY) {
        const l = (text.split("\n")[e.line - 1] ?? "").replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, "");
        this.say(`Reading the manifest file, at line ${e.line}`);
        this.say(`>>> '${l}'`);
      }
      this.fail(e.reason);
    }
    const total = (m.base ? 1 : 0) + m.incrs.length;
    let n = 0;
    if (m.base) {
      const name = m.base.name;
      const path = join(dir, name);
      const last = ++n === total;
      let preamble: boolean;
      try {
        preamble = isRdbFile(path);
      } catch (e) {
        this.fail(`Cannot open file ${path}: ${strerror(e)}`);
      }
      this.say(`Start to check BASE AOF (${preamble ? "RDB" : "RESP"} format).`);
      this.sayVerdict("BASE AOF", name, await this.checkSingle(name, path, last, preamble));
    }
    if (m.incrs.length > 0) {
      this.say("Start to check INCR files.");
      for (const ai of m.incrs) {
        const last = ++n === total;
        const v = await this.checkSingle(ai.name, join(dir, ai.name), last, false);
        this.sayVerdict("INCR AOF", ai.name, v);
      }
    }
    this.say("All AOF files and manifest are valid");
  }

  /** redis-check-aof's checkSingleAof: exits on a verdict that stops the run. */
  private async checkSingle(
    name: string,
    path: string,
    last: boolean,
    preamble: boolean,
  ): Promise<FileVerdict> {
    let file: FileReader;
    try {
      file = new FileReader(path);
    } catch (e) {
      this.fail(`Cannot open file ${path}: ${strerror(e)}, aborting...`);
    }
    // Set by the timestamp callback: where --truncate-to-timestamp cuts.
    let cutAt = -1;
    let scan: AofScanResult;
    try {
      if (file.size === 0) return "empty";
      let start = 0;
      if (preamble) {
        const r = checkRdbFile(path, name, this.io, {
          progress: this.opts.progress,
          chunkSize: this.opts.chunkSize,
        });
        if (!r.ok) this.fail("RDB preamble of AOF file is not sane, aborting.");
        this.say("RDB preamble is OK, proceeding with AOF tail...");
        start = r.end;
      }
      const progress = this.opts.progress && file.size - start > 0
        ? new Progress({
          label: `Checking ${name}`,
          total: file.size,
          write: (s) => this.io.err(s),
          tty: this.io.errIsTTY,
        })
        : null;
      const T = this.opts.toTimestamp;
      try {
        scan = scanAofFile(
          file,
          start,
          {
            onProgress: (at) => progress?.update(at),
            onTimestamp: T === 0 ? undefined : (ts, offset, wellFormed) => {
              if (!wellFormed) this.fail("Invalid timestamp annotation");
              if (ts <= T) return false;
              if (offset === 0) {
                this.fail(`AOF ${path} has nothing before timestamp ${T}, aborting...`);
              }
              if (!last) {
                this.say(
                  `Failed to truncate AOF ${path} to timestamp ${T} to offset ${offset} because it is not the last file.`,
                );
                this.fail(
                  "If you insist, please delete all files after this file according to the manifest " +
                    "file and delete the corresponding records in manifest file manually. Then re-run amber check-aof.",
                );
              }
              cutAt = offset;
              return true;
            },
          },
          this.line,
          this.opts.chunkSize,
        );
      } finally {
        progress?.finish();
      }
      this.line = scan.line;
    } finally {
      file.close();
    }
    if (cutAt >= 0) {
      const at = cutAt;
      this.say(
        `AOF ${name}: the first timestamp annotation after ${this.opts.toTimestamp} is at offset ${at}`,
      );
      // The timestamp is the operator's explicit choice: no question, as redis-check-aof.
      this.cut(name, path, at);
      return "ts-truncated";
    }
    if (scan.message !== null) this.say(`AOF error: ${scan.message}`);
    const diff = scan.size - scan.okUpTo;
    if (diff === 0 && this.opts.toTimestamp !== 0) {
      this.say(`Truncate nothing in AOF ${name} to timestamp ${this.opts.toTimestamp}`);
      return "ok";
    }
    this.say(
      `AOF analyzed: filename=${name}, size=${scan.size}, ok_up_to=${scan.okUpTo}, ok_up_to_line=${scan.line}, diff=${diff}`,
    );
    if (diff > 0) {
      if (!this.opts.fix) {
        this.fail(`AOF ${name} is not valid. Use the --fix option to try fixing it.`);
      }
      if (!last) this.fail(`Failed to truncate AOF ${name} because it is not the last file`);
      await this.truncate(name, path, scan.size, scan.okUpTo, scan.status === "garbage");
      return "truncated";
    }
    return "ok";
  }

  /** Asks (unless --yes), then cuts `path` to `to` bytes keeping a copy. */
  private async truncate(
    name: string,
    path: string,
    size: number,
    to: number,
    garbage: boolean,
  ): Promise<void> {
    this.say(
      `This will shrink the AOF ${name} from ${size} bytes, with ${
        size - to
      } bytes, to ${to} bytes`,
    );
    if (garbage) {
      this.say(
        `Warning: this is not a torn tail but bad data at offset ${to} or after it: ` +
          `every command after offset ${to} is dropped, not only the damaged one.`,
      );
    }
    if (this.opts.yes) {
      this.say("Continue? [y/N]: y (--yes)");
    } else {
      this.io.out("Continue? [y/N]: ");
      const answer = await this.io.readLine();
      if (answer === null || !/^y/i.test(answer)) this.fail("Aborting...");
    }
    this.cut(name, path, to);
  }

  /** Keeps a copy of `path`, then cuts it to `to` bytes. */
  private cut(name: string, path: string, to: number): void {
    const backup = backupName(path);
    try {
      copyFileSync(path, backup);
    } catch (e) {
      this.fail(
        `Failed to save a copy of AOF ${name} as ${backup}: ${strerror(e)}; nothing changed`,
      );
    }
    this.say(`Saved a copy of the original as ${backup}`);
    try {
      truncateSync(path, to);
    } catch (e) {
      this.fail(`Failed to truncate AOF ${name}: ${strerror(e)}`);
    }
  }
}

/** `<file>.bak`, or `<file>.bak.N` when earlier backups exist (never overwritten). */
export function backupName(path: string): string {
  let b = `${path}.bak`;
  for (let i = 2; existsSync(b); i++) b = `${path}.bak.${i}`;
  return b;
}

/** redis-check-aof's fileIsRDB: at least 8 bytes, starting with "REDIS". */
function isRdbFile(path: string): boolean {
  const st = statSync(path);
  if (st.size < 8) return false;
  return String.fromCharCode(...readHead(path, 5)) === "REDIS";
}
