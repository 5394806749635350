/**
 * Turns of the event loop for a long run of work that needs no I/O (a catch-up through the synchronous SQLite
 * log, a fetched batch of messages whose handlers decide nothing new): awaited after each item, the function it
 * returns lets timers and I/O in (a lease's renewal, requests) once at least `everyMs` has passed since the last
 * time, and costs nothing otherwise.
 */
export function loopYielder(everyMs = 10): () => Promise<void> | undefined {
  let last = performance.now();
  return () => {
    if (performance.now() - last < everyMs) return undefined;
    return new Promise<void>((resolve) =>
      setImmediate(() => {
        last = performance.now();
        resolve();
      }),
    );
  };
}
