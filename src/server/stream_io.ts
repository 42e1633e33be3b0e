/**
 * A client connection's reads and writes made straight on the runtime's stream handle,
 * where the runtime exposes Node's StreamBase protocol (`process.binding("stream_wrap")`:
 * Deno does, Bun does not). This is what Node's own `net.Socket` does underneath, less
 * the Readable/Writable machinery around it: per read a Buffer, `push`, `addChunk` and a
 * 'data' emit; per write `writeOrBuffer`, a callback and a nextTick. At `-P 1` that
 * machinery, with a new WriteWrap per reply, measured 0.3-0.9 µs of server CPU per
 * request under Deno (BENCHMARKS.md).
 *
 * Where the binding is missing, `attachStreamIo` returns null and the caller keeps
 * `node:net`'s events ('data', 'end') and `socket.write`.
 */
import process from "node:process";
import { Buffer } from "node:buffer";
import type { Socket } from "node:net";

interface StreamWrapBinding {
  WriteWrap: new () => WriteReq;
  streamBaseState: Int32Array;
  kReadBytesOrError: number;
  kLastWriteWasAsync: number;
}

/** Node's WriteWrap: the handle calls `oncomplete(status)` when an async write ends. */
interface WriteReq {
  handle: unknown;
  oncomplete: (this: WriteReq, status: number) => void;
  /** Keeps the bytes alive until the handle has written them. */
  data?: Uint8Array;
}

interface StreamHandle {
  onread: (ab: ArrayBuffer | undefined) => void;
  readStart(): number;
  readStop(): number;
  writeBuffer(req: WriteReq, data: Uint8Array): number;
  useUserBuffer(buf: Uint8Array): void;
}

function loadBinding(): StreamWrapBinding | null {
  // AMBER_NET_STREAMS=1 keeps node:net's streams (for comparing the two paths).
  if (process.env.AMBER_NET_STREAMS === "1") return null;
  try {
    const binding = (process as unknown as { binding?: (m: string) => unknown }).binding;
    const b = binding?.("stream_wrap") as Partial<StreamWrapBinding> | undefined;
    if (
      b && typeof b.WriteWrap === "function" && b.streamBaseState instanceof Int32Array &&
      typeof b.kReadBytesOrError === "number" && typeof b.kLastWriteWasAsync === "number"
    ) return b as StreamWrapBinding;
  } catch {
    // Not implemented in this runtime.
  }
  return null;
}

const binding = loadBinding();

/** libuv's UV_EOF: the peer ended its side; any other negative read count is an error. */
const UV_EOF = (() => {
  try {
    const uv = (process as unknown as { binding: (m: string) => { UV_EOF?: unknown } })
      .binding("uv");
    if (typeof uv.UV_EOF === "number") return uv.UV_EOF;
  } catch {
    // The value libuv uses everywhere.
  }
  return -4095;
})();

/** Where every connection's reads land; `onBytes` must copy what it keeps. */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

/** A connection's output, written straight on its handle. */
export interface StreamIo {
  /**
   * Sends bytes; they leave in call order. True when the handle keeps `bytes` to write
   * the rest later (the caller must not reuse them); false when they are done with.
   */
  write(bytes: Uint8Array): boolean;
  /** Stops reading, and calls `done` once every byte written so far is with the kernel. */
  end(done: () => void): void;
}

/**
 * Takes over `socket`'s reads and writes. `onBytes` gets each chunk read, a view of a
 * buffer the next read reuses, so it must copy what it keeps; `onEnd` runs
 * once when the peer ends its side (EOF). A read or write error destroys the socket, so
 * its 'close' event follows. Returns null when the runtime has no StreamBase handle.
 */
export function attachStreamIo(
  socket: Socket,
  onBytes: (b: Buffer) => void,
  onEnd: () => void,
): StreamIo | null {
  if (binding === null) return null;
  const h = (socket as unknown as { _handle?: Partial<StreamHandle> | null })._handle;
  if (
    !h || typeof h.readStart !== "function" || typeof h.readStop !== "function" ||
    typeof h.writeBuffer !== "function" || typeof h.useUserBuffer !== "function"
  ) return null;
  const handle = h as StreamHandle;
  const { WriteWrap, streamBaseState: state, kReadBytesOrError } = binding;
  const kAsync = binding.kLastWriteWasAsync;
  /** Writes the handle has not finished yet, and what to call when they are. */
  let pending = 0;
  let whenDrained: (() => void) | null = null;
  let ended = false;
  let spare: WriteReq | null = null;

  function onWriteDone(this: WriteReq, status: number): void {
    this.data = undefined;
    pending--;
    if (status < 0) socket.destroy();
    else if (pending === 0 && whenDrained !== null) {
      const done = whenDrained;
      whenDrained = null;
      done();
    }
  }

  handle.readStop();
  // Reads land in one buffer shared by every connection, as the handle reads and calls
  // `onread` in one step: no ArrayBuffer (a malloc and a free) per read.
  handle.useUserBuffer(READ_BUFFER);
  handle.onread = () => {
    const nread = state[kReadBytesOrError];
    if (nread > 0) {
      if (!ended) onBytes(READ_BUFFER.subarray(0, nread));
      return;
    }
    if (nread === 0) return;
    handle.readStop();
    if (nread === UV_EOF) onEnd();
    else socket.destroy();
  };
  if (handle.readStart() !== 0) socket.destroy();
  return {
    write(bytes) {
      if (ended || socket.destroyed) return false;
      // A request the handle finished with at once is used again: creating one is a
      // runtime call (~140 ns), once per reply at -P 1.
      let req = spare;
      if (req === null) {
        req = new WriteWrap();
        req.handle = handle;
        req.oncomplete = onWriteDone;
      } else spare = null;
      const err = handle.writeBuffer(req, bytes);
      if (err !== 0) {
        socket.destroy();
        return false;
      }
      // The kernel did not take it all: the handle writes the rest later, from `bytes`.
      if (state[kAsync] !== 0) {
        req.data = bytes;
        pending++;
        return true;
      }
      spare = req;
      return false;
    },
    end(done) {
      if (!ended) {
        ended = true;
        if (!socket.destroyed) handle.readStop();
      }
      if (pending === 0 || socket.destroyed) done();
      else whenDrained = done;
    },
  };
}
