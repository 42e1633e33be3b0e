/**
 * A raw RESP test client: sends exact bytes, returns exact reply bytes (Latin-1
 * strings), one complete reply at a time. Used for protocol edge cases and for the
 * byte-for-byte differential tests against redis-server.
 */
import { connect, type Socket } from "node:net";
import { Buffer } from "node:buffer";

/** Length of the first complete RESP2/RESP3 reply in `s` from `pos`, or -1 if incomplete. */
export function replyLength(s: string, pos = 0): number {
  const nl = s.indexOf("\r\n", pos);
  if (nl === -1) return -1;
  const t = s[pos];
  const head = s.slice(pos + 1, nl);
  let p = nl + 2;
  switch (t) {
    case "+":
    case "-":
    case ":":
    case "_":
    case ",":
    case "#":
    case "(":
      return p - pos;
    case "$":
    case "=":
    case "!": {
      const n = Number(head);
      if (n < 0) return p - pos;
      if (s.length < p + n + 2) return -1;
      return p + n + 2 - pos;
    }
    case "*":
    case "~":
    case ">":
    case "%":
    case "|": {
      let n = Number(head);
      if (n < 0) return p - pos;
      if (t === "%" || t === "|") n *= 2;
      for (let i = 0; i < n; i++) {
        const len = replyLength(s, p);
        if (len === -1) return -1;
        p += len;
      }
      return p - pos;
    }
    default:
      throw new Error(
        `bad reply type ${JSON.stringify(t)} in ${JSON.stringify(s.slice(pos, pos + 50))}`,
      );
  }
}

/** Encodes argv as a RESP multibulk request. */
export function encodeCommand(argv: string[]): string {
  let out = "*" + argv.length + "\r\n";
  for (const a of argv) out += "$" + a.length + "\r\n" + a + "\r\n";
  return out;
}

export class RawClient {
  private buf = "";
  private waiters: (() => void)[] = [];
  closed = false;

  private constructor(readonly socket: Socket) {
    socket.on("data", (d: Buffer) => {
      this.buf += d.toString("latin1");
      this.wake();
    });
    socket.on("close", () => {
      this.closed = true;
      this.wake();
    });
    socket.on("error", () => {});
  }

  private wake() {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  static connect(port: number, host = "127.0.0.1"): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = connect({ port, host }, () => resolve(new RawClient(s)));
      s.once("error", reject);
    });
  }

  /** Writes raw bytes (Latin-1). */
  write(data: string): void {
    this.socket.write(Buffer.from(data, "latin1"));
  }

  /** Reads one complete reply; rejects after `timeoutMs`. */
  async read(timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      if (this.buf.length > 0) {
        const n = replyLength(this.buf);
        if (n !== -1) {
          const r = this.buf.slice(0, n);
          this.buf = this.buf.slice(n);
          return r;
        }
      }
      if (this.closed) throw new Error("connection closed; pending: " + JSON.stringify(this.buf));
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error("timeout waiting for reply; pending: " + JSON.stringify(this.buf));
      }
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  /** Sends one command and returns its raw reply. */
  async call(...argv: string[]): Promise<string> {
    this.write(encodeCommand(argv));
    return await this.read();
  }

  /** Resolves when the server has closed the connection; returns what arrived unread. */
  async waitClosed(timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error("connection not closed");
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
    const rest = this.buf;
    this.buf = "";
    return rest;
  }

  close(): void {
    this.socket.destroy();
  }
}

/** A decoded reply: strings stay Latin-1 (byte strings); errors become Error objects. */
export type Reply = string | number | null | Error | Reply[];

/** Decodes one complete raw reply (as returned by RawClient.read/call). */
export function parseReply(raw: string): Reply {
  let pos = 0;
  const one = (): Reply => {
    const nl = raw.indexOf("\r\n", pos);
    const t = raw[pos];
    const head = raw.slice(pos + 1, nl);
    pos = nl + 2;
    switch (t) {
      case "+":
      case "(":
        return head;
      case "-":
        return new Error(head);
      case ":":
        return Number(head);
      case ",":
        return Number(head);
      case "_":
        return null;
      case "#":
        return head === "t" ? 1 : 0;
      case "$":
      case "=": {
        const n = Number(head);
        if (n < 0) return null;
        const s = raw.slice(pos, pos + n);
        pos += n + 2;
        return t === "=" ? s.slice(4) : s;
      }
      default: {
        let n = Number(head);
        if (n < 0) return null;
        if (t === "%" || t === "|") n *= 2;
        const out: Reply[] = [];
        for (let i = 0; i < n; i++) out.push(one());
        return out;
      }
    }
  };
  return one();
}

/**
 * Connects, sends `input` (Latin-1), optionally shuts down the sending side, and returns
 * everything received until the server closes the connection (RawClient.waitClosed).
 * With `pauseMs` the client reads nothing for that long after sending, so a large reply
 * fills the socket buffers and the server has to finish writing it later.
 */
export async function exchangeUntilClose(
  port: number,
  input: string,
  opts: { halfClose?: boolean; pauseMs?: number; timeoutMs?: number } = {},
): Promise<string> {
  const c = await RawClient.connect(port);
  if (opts.pauseMs) {
    c.socket.pause();
    setTimeout(() => c.socket.resume(), opts.pauseMs);
  }
  c.write(input);
  if (opts.halfClose) c.socket.end();
  return await c.waitClosed(opts.timeoutMs ?? 10000);
}
