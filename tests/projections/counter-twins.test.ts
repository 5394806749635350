import { describe, expect, it } from 'vitest';
import { prng } from '../../src/cli/seed-data.ts';
import type { RecordedEvent } from '../../src/infra/eventstore/port.ts';
import { EmbeddedReadStore } from '../../src/infra/readstore/embedded.ts';
import type { ReadStore } from '../../src/infra/readstore/port.ts';
import { WriteBackStore } from '../../src/infra/readstore/write-back.ts';
import { CounterDeltas, monthly, totals, yearly } from '../../src/projections/counters.ts';

const collections = ['flow', monthly('flow'), 'team', monthly('team'), 'balance', monthly('balance'), yearly('balance'), totals('balance'), 'plain'];

/** Every document of the counter collections, by collection, in id order. */
async function contents(store: ReadStore): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const name of collections) out[name] = await store.collection(name).find({}, { sort: { _id: 1 } });
  return out;
}

/**
 * Events as projections count them: a counter moved from one key to another (a day to another day of the same
 * month, an owner to another), changes that cancel out, path fields, balances, and counters without a day.
 */
function history(seed: number, events: number): ((deltas: CounterDeltas) => void)[] {
  const random = prng(seed);
  const pick = <T>(values: readonly T[]) => values[Math.floor(random() * values.length)]!;
  const day = () => new Date(Date.UTC(2025, 0, 1) + Math.floor(random() * 800) * 86_400_000).toISOString().slice(0, 10);
  const owners = ['o1', 'o2', 'o3'];
  return Array.from({ length: events }, () => {
    const from = { day: day(), ownerId: pick(owners), stage: pick(['a', 'b']) };
    const sameMonth = { ...from, day: `${from.day.slice(0, 8)}${String(1 + Math.floor(random() * 28)).padStart(2, '0')}` };
    const to = pick([sameMonth, { ...from, ownerId: pick(owners) }, { ...from, day: day() }, from]);
    const amount = Math.floor(random() * 1000);
    const kind = Math.floor(random() * 5);
    const measure = pick(['calls', 'visits']);
    return (deltas: CounterDeltas) => {
      if (kind === 0) deltas.add('flow', to, { count: 1, amount });
      if (kind === 1) {
        deltas.add('flow', from, { count: 1, amount }, -1);
        deltas.add('flow', to, { count: 1, amount });
      }
      if (kind === 2) deltas.add('team', { day: to.day, ownerId: to.ownerId }, { [`count.${measure}`]: 1, [`amount.${measure}`]: amount });
      if (kind === 3) {
        deltas.addBalance('balance', from, { count: 1, amount }, -1);
        deltas.addBalance('balance', to, { count: 1, amount });
      }
      if (kind === 4) deltas.add('plain', { month: from.day.slice(0, 7), ownerId: from.ownerId }, { count: 1 });
    };
  });
}

async function countEach(store: ReadStore, events: ((deltas: CounterDeltas) => void)[], from = 0): Promise<void> {
  for (let i = from; i < events.length; i++) {
    const deltas = new CounterDeltas();
    events[i]!(deltas);
    await deltas.apply(store, { position: BigInt(i + 1) } as RecordedEvent);
  }
}

describe('twins of day counters summed by a replay unit', () => {
  it('are the documents counting each event into them makes: sums, keys and last positions', async () => {
    for (const seed of [1, 2, 3]) {
      const events = history(seed, 1500);
      const each = new EmbeddedReadStore();
      await countEach(each, events);
      const summed = new EmbeddedReadStore();
      const unit = new WriteBackStore(summed, { sumsTwins: true });
      await countEach(unit, events);
      // Nothing of the twins was counted per event.
      expect(await summed.collection(monthly('flow')).countDocuments()).toBe(0);
      await unit.commit();
      expect(await summed.collection(monthly('flow')).countDocuments()).toBeGreaterThan(10);
      expect(await contents(summed)).toEqual(await contents(each));
    }
  });

  it('are counted with each event by a unit that does not sum them, the same', async () => {
    const events = history(4, 1000);
    const each = new EmbeddedReadStore();
    await countEach(each, events);
    const store = new EmbeddedReadStore();
    const unit = new WriteBackStore(store);
    await countEach(unit, events);
    await unit.commit();
    expect(await contents(store)).toEqual(await contents(each));
  });

  it('are summed before a twin is read during the replay, and again when it commits', async () => {
    const events = history(5, 1200);
    const each = new EmbeddedReadStore();
    await countEach(each, events.slice(0, 600));
    const summed = new EmbeddedReadStore();
    const unit = new WriteBackStore(summed, { sumsTwins: true });
    await countEach(unit, events.slice(0, 600));
    // A read halfway, by id and by query, sees every event so far.
    const some = (await each.collection(monthly('balance')).find({}))[0]!;
    expect(await unit.collection(monthly('balance')).findOne({ _id: some._id })).toEqual(some);
    expect(await unit.collection(totals('balance')).find({}, { sort: { _id: 1 } })).toEqual(await each.collection(totals('balance')).find({}, { sort: { _id: 1 } }));
    await countEach(each, events, 600);
    await countEach(unit, events, 600);
    await unit.commit();
    expect(await contents(summed)).toEqual(await contents(each));
  });

  it('keep an event counted once when it is counted again (a replay from an older position)', async () => {
    const events = history(6, 800);
    const each = new EmbeddedReadStore();
    await countEach(each, events);
    const summed = new EmbeddedReadStore();
    const unit = new WriteBackStore(summed, { sumsTwins: true });
    await countEach(unit, events.slice(0, 500));
    await countEach(unit, events, 300);
    await unit.commit();
    expect(await contents(summed)).toEqual(await contents(each));
  });
});
