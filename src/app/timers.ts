import type { CommandDeps } from '../commands/context.ts';
import { firingRequestId, type TimerPorts, type TimerSpec } from '../commands/timers.ts';
import { seededIds } from '../infra/ids.ts';
import type { Fence } from '../infra/readstore/fencing.ts';
import type { Logger } from '../infra/logger.ts';
import type { Mailer } from '../infra/mail/port.ts';
import type { ReadStore } from '../infra/readstore/port.ts';
import { dueItems } from '../projections/timers.ts';

/**
 * Fires what the timers read model says is due, on a fixed tick (and on demand: tests drive it with the injected
 * clock). Each item is fired with request facts derived from (timer, key, due time), so however often it is
 * tried — a crash between firing and the read model catching up, a restart after the due time — its events are
 * written once. An item whose firing fails is logged and tried again on the next tick.
 */
export class TimerWorker {
  private readonly byName: ReadonlyMap<string, TimerSpec>;
  /** Firings done by this process whose items the read model still shows due (it has not caught up yet). */
  private fired = new Set<string>();
  private interval: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;

  constructor(
    specs: readonly TimerSpec[],
    private readonly deps: CommandDeps,
    private readonly readStore: ReadStore,
    private readonly logger: Logger,
    private readonly mailer: Mailer,
    private readonly extra: Omit<TimerPorts, 'readStore' | 'mailer'> = {},
  ) {
    this.byName = new Map(specs.map((spec) => [spec.name, spec]));
  }

  /** Fires every item due now; answers how many it fired. One tick at a time. */
  tick(): Promise<number> {
    this.running ??= this.fireDue().finally(() => (this.running = undefined));
    return this.running;
  }

  private async fireDue(): Promise<number> {
    if (this.byName.size === 0) return 0;
    const due = await dueItems(this.readStore, this.deps.clock.now());
    const stillDue = new Set<string>();
    let fired = 0;
    for (const doc of due) {
      const spec = this.byName.get(doc.timer);
      if (!spec || doc.dueAt === null) continue;
      const item = { timer: doc.timer, key: doc.key, dueAt: doc.dueAt, data: doc.data };
      const requestId = firingRequestId(item);
      stillDue.add(requestId);
      if (this.fired.has(requestId)) continue;
      // A leader that cannot trust its lease any more, or whose token the lease no longer carries, fires nothing
      // (its successor fires what is due; the firing's ids are the same, so a race across the takeover is one event).
      if (this.fence && (!this.fence.valid() || (this.fence.confirm && !(await this.fence.confirm())))) break;
      try {
        const meta = { correlationId: requestId, requestId, ids: seededIds(requestId, Date.parse(item.dueAt)), ...(this.fence ? { fence: this.fence.token } : {}) };
        await spec.fire(this.deps, item, meta, { ...this.extra, readStore: this.readStore, mailer: this.mailer });
        this.fired.add(requestId);
        fired += 1;
      } catch (error) {
        this.logger.error('a timer could not fire; it is tried again on the next tick', { timer: item.timer, key: item.key, dueAt: item.dueAt, error: (error as Error).message });
      }
    }
    this.fired = new Set([...this.fired].filter((id) => stillDue.has(id)));
    return fired;
  }

  /** The lease of the leading worker: firings stop the moment it cannot be trusted, and carry its token. */
  private fence: Fence | undefined;
  fenceWith(fence: Fence): void {
    this.fence = fence;
  }

  start(everyMs = 1_000): void {
    this.interval ??= setInterval(() => void this.tick().catch((error: unknown) => this.logger.error('timers could not be read; trying again on the next tick', { error: (error as Error).message })), everyMs);
    this.interval.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.interval);
    this.interval = undefined;
    await this.running;
  }
}
