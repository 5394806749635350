import { describe, expect, it } from 'vitest';
import { campaignForLeadership, LeaderLease, LEASES } from '../../src/app/leader.ts';
import { EmbeddedReadStore } from '../../src/infra/readstore/embedded.ts';
import { silentLogger } from '../../src/infra/logger.ts';

/** Two clocks a test moves by hand: the wall clock the lease document is written in, and a process's monotonic one. */
function clocks(start = Date.parse('2026-12-02T08:00:00Z')) {
  let wall = start;
  let mono = 0;
  return { now: () => wall, monotonic: () => mono, advance: (ms: number) => ((wall += ms), (mono += ms)), pause: (ms: number) => (wall += ms) };
}

const settings = (holder: string) => ({ name: 'worker', holder, ttlMs: 10_000, renewEveryMs: 2_000 });

describe('the workers\' lease', () => {
  it('is held by one process at a time, taken over after it expires with a higher fencing token, and released on a stop', async () => {
    const store = new EmbeddedReadStore();
    const a = clocks();
    const b = { ...a, monotonic: () => 0 };
    const first = new LeaderLease(store, settings('a'), a.now, a.monotonic);
    const second = new LeaderLease(store, settings('b'), b.now, b.monotonic);
    expect(await first.acquireOrRenew()).toBe(1);
    expect(await second.acquireOrRenew()).toBeUndefined();
    a.advance(5_000);
    expect(await first.acquireOrRenew()).toBe(1);
    // Not renewed for longer than its time-to-live: the standby takes it, one token higher.
    a.advance(10_001);
    expect(first.valid()).toBe(false);
    expect(await second.acquireOrRenew()).toBe(2);
    // The old holder cannot renew what it lost.
    expect(await first.acquireOrRenew()).toBeUndefined();
    expect(first.token).toBeUndefined();
    await second.release();
    expect(await first.acquireOrRenew()).toBe(3);
    expect((await store.collection(LEASES).findOne({ _id: 'worker' }))?.holder).toBe('a');
  });

  it('is distrusted by its holder before anyone else may take it: a paused leader knows on waking', async () => {
    const store = new EmbeddedReadStore();
    const a = clocks();
    const lease = new LeaderLease(store, settings('a'), a.now, a.monotonic);
    await lease.acquireOrRenew();
    a.advance(7_999);
    expect(lease.valid()).toBe(true);
    // Trusted until ttl less the margin (2 s) after the renewal was sent; the document expires only at ttl.
    a.advance(1);
    expect(lease.valid()).toBe(false);
    const doc = await store.collection<{ _id: string; expiresAt: number }>(LEASES).findOne({ _id: 'worker' });
    expect(doc!.expiresAt).toBeGreaterThan(a.now());
  });

  it('goes to exactly one of several standbys that try at once', async () => {
    const store = new EmbeddedReadStore();
    const a = clocks();
    await new LeaderLease(store, settings('dead'), a.now, a.monotonic).acquireOrRenew();
    a.advance(20_000);
    const tokens = await Promise.all(['b', 'c', 'd', 'e'].map((holder) => new LeaderLease(store, settings(holder), a.now, a.monotonic).acquireOrRenew()));
    expect(tokens.filter((token) => token !== undefined)).toEqual([2]);
  });

  it('refuses a renewal interval that leaves no room for a missed renewal', () => {
    expect(() => new LeaderLease(new EmbeddedReadStore(), { name: 'worker', holder: 'a', ttlMs: 5_000, renewEveryMs: 2_000 })).toThrow(/three times/);
  });

  it('campaigns: elects one, deposes a leader whose lease was taken, and hands over at once on a release', async () => {
    const store = new EmbeddedReadStore();
    const events: string[] = [];
    const fast = { name: 'worker', ttlMs: 600, renewEveryMs: 100 };
    const campaign = (holder: string) => {
      const lease = new LeaderLease(store, { ...fast, holder });
      return campaignForLeadership(lease, fast, { onElected: async (token) => void events.push(`${holder} elected ${token}`), onDeposed: async () => void events.push(`${holder} deposed`) }, silentLogger);
    };
    const a = campaign('a');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const b = campaign('b');
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(events).toEqual(['a elected 1']);
    // Another process takes the lease from under a (as after a pause): a is deposed at its next renewal.
    await store.collection(LEASES).updateOne({ _id: 'worker' }, { $set: { holder: 'x', token: 7 } });
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(events).toEqual(['a elected 1', 'a deposed']);
    expect(a.leading()).toBe(false);
    await store.collection(LEASES).updateOne({ _id: 'worker' }, { $set: { expiresAt: 0 } });
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(events).toEqual(['a elected 1', 'a deposed', 'b elected 8']);
    await b.stop();
    await a.stop();
    expect((await store.collection<{ _id: string; expiresAt: number }>(LEASES).findOne({ _id: 'worker' }))!.expiresAt).toBe(0);
  });
});
