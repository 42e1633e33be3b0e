/**
 * Long work written once as a generator that yields at safe points, run either to the
 * end at once (`runSteps`: what Redis documents as blocking, e.g. DEBUG RELOAD) or in
 * slices that give the event loop a turn in between (`runStepsAsync`: loading at start,
 * while clients get -LOADING, as Redis's processEventsWhileBlocked).
 */

/** What a step yields: nothing, or a Promise to await before the next step. */
export type Step = void | Promise<void>;

/**
 * Runs `gen` to completion without yielding to the event loop. A step that yields a
 * Promise (waiting on a Worker) is for runStepsAsync: here it is a plain step.
 */
export function runSteps<T>(gen: Generator<unknown, T, void>): T {
  while (true) {
    const r = gen.next();
    if (r.done) return r.value;
  }
}

/**
 * Runs `gen`, letting the event loop in whenever a slice took `sliceMs` or more, or at
 * once when a step yields a Promise (it waits on something outside the thread): that is
 * awaited before the next step.
 */
export async function runStepsAsync<T>(
  gen: Generator<unknown, T, void>,
  sliceMs = 20,
  /** Runs after each pause; throwing stops the work (the generator is closed). */
  check?: () => void,
): Promise<T> {
  let t0 = performance.now();
  try {
    while (true) {
      const r = gen.next();
      if (r.done) return r.value;
      if (r.value instanceof Promise) {
        await r.value;
        check?.();
        t0 = performance.now();
        continue;
      }
      if (performance.now() - t0 >= sliceMs) {
        // A timer: measured in Deno 2.9, socket events starve behind setImmediate or
        // MessageChannel turns; only the timer phase lets the poll phase run.
        await new Promise<void>((resolve) => setTimeout(resolve, 0));
        check?.();
        t0 = performance.now();
      }
    }
  } finally {
    gen.return(undefined as T);
  }
}

/**
 * Redis's debugDelay, for `key-load-delay` (tests slow loading down with it): positive is
 * microseconds (spun: there is no synchronous sleep), negative -N pauses 1 µs one time in N.
 */
export function debugDelay(usec: number): void {
  if (usec < 0) {
    if (Math.floor(Math.random() * -usec) !== 0) return;
    usec = 1;
  }
  const end = performance.now() + usec / 1000;
  while (performance.now() < end) { /* spin */ }
}
