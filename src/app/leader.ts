import { performance } from 'node:perf_hooks';
import type { Logger } from '../infra/logger.ts';
import { type Doc, DuplicateKeyError, type ReadStore } from '../infra/readstore/port.ts';

/** Where leases live in the shared read store: one document per lease. */
export const LEASES = '_leases';

/** A lease document: who holds it, until when (epoch ms, the holder's wall clock), under which fencing token. */
export type LeaseDoc = Doc & { holder: string; token: number; expiresAt: number; acquiredAt: string };

export interface LeaseSettings {
  /** The lease's name (one per kind of leader). */
  name: string;
  /** Who asks: unique per process (host, pid and a random part). */
  holder: string;
  /** How long a lease lasts without renewal: a dead leader's successor waits this long at most. */
  ttlMs: number;
  /** How often the holder renews it, and a standby tries to take it. */
  renewEveryMs: number;
}

/**
 * A lease in the shared read store that makes one process the leader: taken when free or expired, renewed while
 * held, each taking numbered by a fencing token one higher than the last. Compare-and-set on the token makes
 * every taking exclusive, even on a store without transactions (FerretDB).
 *
 * The holder trusts its lease only until `ttlMs - marginMs` after it sent its last successful renewal (measured
 * on its own monotonic clock): a process paused past that (SIGSTOP, a long GC, a VM freeze) knows on waking that
 * it may have been replaced, before anyone else may take the lease, which expires `ttlMs` after that same renewal.
 */
export class LeaderLease {
  private held: { token: number; validUntil: number } | undefined;

  constructor(
    private readonly store: ReadStore,
    private readonly settings: LeaseSettings,
    private readonly now: () => number = Date.now,
    private readonly monotonic: () => number = () => performance.now(),
  ) {
    if (settings.renewEveryMs * 3 > settings.ttlMs) throw new Error('a lease must be renewed at least three times per time-to-live');
  }

  private get leases() {
    return this.store.collection<LeaseDoc>(LEASES);
  }

  /** A renewal's safety margin: the holder stops trusting its lease this long before it could be taken. */
  private get marginMs(): number {
    return Math.max(this.settings.renewEveryMs, Math.floor(this.settings.ttlMs / 5));
  }

  /** The fencing token of the lease this process holds and may still trust; undefined otherwise. */
  get token(): number | undefined {
    return this.valid() ? this.held!.token : undefined;
  }

  /** Whether this process holds the lease and its last renewal is recent enough to trust. */
  valid(): boolean {
    return this.held !== undefined && this.monotonic() < this.held.validUntil;
  }

  /**
   * Takes the lease when it is free, expired or ours, or renews it: answers the token held now, or undefined
   * when another process holds it (we were deposed, if we held it).
   */
  async acquireOrRenew(): Promise<number | undefined> {
    const { name, holder, ttlMs } = this.settings;
    const sentAt = this.monotonic();
    const now = this.now();
    const current = await this.leases.findOne({ _id: name });
    let token: number | undefined;
    if (!current) {
      try {
        await this.leases.insertOne({ _id: name, holder, token: 1, expiresAt: now + ttlMs, acquiredAt: new Date(now).toISOString() });
        token = 1;
      } catch (error) {
        if (!(error instanceof DuplicateKeyError)) throw error;
      }
    } else if (current.holder === holder && this.held?.token === current.token) {
      const renewed = await this.leases.updateOne({ _id: name, holder, token: current.token }, { $set: { expiresAt: now + ttlMs } });
      if (renewed.matchedCount === 1) token = current.token;
    } else if (current.expiresAt < now) {
      // Compare-and-set on the token and expiry read: of several standbys, one takes it.
      const taken = await this.leases.updateOne(
        { _id: name, token: current.token, expiresAt: current.expiresAt },
        { $set: { holder, token: current.token + 1, expiresAt: now + ttlMs, acquiredAt: new Date(now).toISOString() } },
      );
      if (taken.matchedCount === 1) token = current.token + 1;
    }
    this.held = token === undefined ? undefined : { token, validUntil: sentAt + ttlMs - this.marginMs };
    return token;
  }

  /** Gives the lease up (a graceful stop): a standby takes it at its next try instead of after the time-to-live. */
  async release(): Promise<void> {
    const held = this.held;
    this.held = undefined;
    if (!held) return;
    await this.leases.updateOne({ _id: this.settings.name, holder: this.settings.holder, token: held.token }, { $set: { expiresAt: 0 } });
  }

  /** Who holds the lease now, as the store says (for status pages). */
  async current(): Promise<LeaseDoc | null> {
    return this.leases.findOne({ _id: this.settings.name });
  }
}

export interface Leadership {
  /** Called once, when this process becomes the leader, with its fencing token; what it starts is stopped by `onDeposed`. */
  onElected(token: number): Promise<void>;
  /** Called once, when the lease is lost (not released), or leading could not start: stop writing at once. */
  onDeposed(): Promise<void>;
}

/**
 * Campaigns for the lease every `renewEveryMs`: a standby tries to take it, the leader renews it. The leader that
 * fails to renew (the store says another holds it, or it cannot trust its lease any more) is deposed. Returns a
 * function that stops campaigning and releases the lease.
 */
export function campaignForLeadership(lease: LeaderLease, settings: Pick<LeaseSettings, 'renewEveryMs'>, leadership: Leadership, logger: Logger): { stop(): Promise<void>; leading(): boolean } {
  let leading = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let turn: Promise<void> = Promise.resolve();
  const step = async () => {
    if (stopped) return;
    let token: number | undefined;
    try {
      token = await lease.acquireOrRenew();
    } catch (error) {
      // The store is away: a leader keeps its lease while it can trust it; past that it is deposed.
      logger.warn('the lease could not be renewed or taken; trying again', { error: (error as Error).message });
      token = leading && lease.valid() ? lease.token : undefined;
    }
    if (stopped) return;
    if (!leading && token !== undefined) {
      leading = true;
      logger.info('elected leader', { fencingToken: token });
      try {
        await leadership.onElected(token);
      } catch (error) {
        // It could not start leading (a store went away mid-start): give the lease up at once for another to take.
        logger.error('could not start leading; giving the lease up', { error });
        leading = false;
        stopped = true;
        await lease.release().catch(() => {});
        await leadership.onDeposed();
        return;
      }
    } else if (leading && token === undefined) {
      leading = false;
      stopped = true;
      logger.warn('lost the lease: another worker leads now; this one stops writing');
      await leadership.onDeposed();
      return;
    }
    if (!stopped) timer = setTimeout(() => (turn = step()), settings.renewEveryMs);
  };
  turn = step();
  return {
    leading: () => leading,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await turn;
      if (leading) await lease.release();
      leading = false;
    },
  };
}
