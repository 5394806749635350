/**
 * Fixed-window counters per key (a client address, an employee), in memory: at most `limit` hits a window.
 * Bounded: expired windows are dropped first, then the oldest, so a flood of new keys cannot grow it past
 * `maxKeys`. Per process: behind several instances each counts its own share.
 */
export class FixedWindowLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(
    readonly limit: number,
    private readonly windowMs: number,
    private readonly now: () => number,
    private readonly maxKeys = 100_000,
  ) {}

  /** Counts one hit for the key: undefined when allowed, otherwise the seconds until its window ends. */
  hit(key: string): number | undefined {
    if (this.limit <= 0) return undefined;
    const t = this.now();
    let window = this.windows.get(key);
    if (!window || t - window.start >= this.windowMs) {
      this.windows.delete(key);
      if (this.windows.size >= this.maxKeys) this.evict(t);
      this.windows.set(key, (window = { start: t, count: 0 }));
    }
    window.count += 1;
    return window.count > this.limit ? Math.max(1, Math.ceil((window.start + this.windowMs - t) / 1000)) : undefined;
  }

  private evict(t: number): void {
    for (const [key, window] of this.windows) if (t - window.start >= this.windowMs) this.windows.delete(key);
    // Still full: the oldest windows go (Map keeps insertion order).
    for (const key of this.windows.keys()) {
      if (this.windows.size < this.maxKeys) break;
      this.windows.delete(key);
    }
  }
}
