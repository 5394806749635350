import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TimerWorker } from '../../src/app/timers.ts';
import { execute } from '../../src/commands/pipeline.ts';
import type { TimerSpec } from '../../src/commands/timers.ts';
import { ManualClock } from '../../src/infra/clock.ts';
import { silentLogger } from '../../src/infra/logger.ts';
import { startTestApp, type TestApp } from '../support/app.ts';

/** A test timer: a sent quote is due for a follow-up at its validity date; accepting or rejecting it cancels that. */
type NoteCommand = { type: 'NoteExpiry'; quoteId: string; dueAt: string };
const noteDecider = {
  initialState: { notes: 0 },
  evolve: (state: { notes: number }) => ({ notes: state.notes + 1 }),
  decide: (command: NoteCommand) => [{ type: 'QuoteExpiryNoted', data: { quoteId: command.quoteId, dueAt: command.dueAt } }],
};
const fired: string[] = [];
const followUp: TimerSpec = {
  name: 'quote-follow-up',
  categories: ['quote'],
  plan(event) {
    const data = event.data as { quoteId: string };
    // The test quotes are all valid until 2027-01-31.
    if (event.type === 'QuoteSent') return { schedule: [{ key: data.quoteId, dueAt: '2027-01-31T00:00:00.000Z', data: { quoteId: data.quoteId } }] };
    if (event.type === 'QuoteAccepted' || event.type === 'QuoteRejected') return { cancel: [data.quoteId] };
    return undefined;
  },
  async fire(deps, item, meta) {
    fired.push(`${item.key}@${item.dueAt}`);
    await execute(deps, noteDecider, `quotenote-${item.key}`, { type: 'NoteExpiry', quoteId: item.key, dueAt: item.dueAt }, { userId: 'system' } as never, meta);
  },
};

describe('timers: due items fire once, driven by the injected clock', () => {
  const clock = new ManualClock(new Date('2026-12-01T08:00:00.000Z'));
  let app: TestApp;
  let customerId: string;
  let productId: string;
  const sentQuote = async () => {
    const quote = await app.request('POST', '/api/v1/quotes', { body: { customerId, currency: 'CNY', validUntil: '2027-01-31', lines: [{ productId, quantity: 1 }] } });
    await app.request('POST', `/api/v1/quotes/${quote.body.id}/send`, { body: {} });
    await app.services.runner.waitFor(await app.services.eventStore.headPosition(), 5000);
    return quote.body.id as string;
  };
  const notes = async (quoteId: string) => (await app.services.eventStore.readStream(`quotenote-${quoteId}`)).length;

  beforeAll(async () => {
    app = await startTestApp({}, { clock, timers: [followUp] });
    customerId = (await app.request('POST', '/api/v1/customers', { body: { name: 'Timer Co' } })).body.id;
    productId = (await app.request('POST', '/api/v1/products', { body: { code: 'TIMER-1', name: 'Valve', unit: '件', standardPrice: { amount: 100, currency: 'CNY' }, taxRate: 13 } })).body.id;
  });
  afterAll(async () => app.close());

  it('fires at the due time, not before, and once however often it is tried — also by a second worker after a restart', async () => {
    const quoteId = await sentQuote();
    expect(await app.services.timers.tick()).toBe(0);
    clock.set('2027-01-31T00:00:00.000Z');
    expect(await app.services.timers.tick()).toBe(1);
    expect(await app.services.timers.tick()).toBe(0);
    // A restarted process (or a standby that took over) does not remember what was fired: the firing's request id does.
    const restarted = new TimerWorker([followUp], app.services.deps, app.services.readStore, silentLogger, app.services.mailer);
    expect(await restarted.tick()).toBe(1);
    expect(await notes(quoteId)).toBe(1);
    expect(fired.filter((f) => f.startsWith(quoteId))).toHaveLength(2);
  });

  it('a cancelled item never fires; a restart long after the due time fires what was missed, once', async () => {
    clock.set('2026-12-02T08:00:00.000Z');
    const cancelled = await sentQuote();
    const missed = await sentQuote();
    await app.request('POST', `/api/v1/quotes/${cancelled}/reject`, { body: { reason: 'Bought elsewhere' } });
    await app.services.runner.waitFor(await app.services.eventStore.headPosition(), 5000);
    clock.set('2027-03-01T00:00:00.000Z');
    const worker = new TimerWorker([followUp], app.services.deps, app.services.readStore, silentLogger, app.services.mailer);
    await worker.tick();
    await worker.tick();
    expect(await notes(cancelled)).toBe(0);
    expect(await notes(missed)).toBe(1);
  });

  it('a leader-elected worker fires only while its lease holds its token, and its firings carry the token', async () => {
    clock.set('2026-12-03T08:00:00.000Z');
    const quoteId = await sentQuote();
    clock.set('2027-04-01T00:00:00.000Z');
    const deposed = new TimerWorker([followUp], app.services.deps, app.services.readStore, silentLogger, app.services.mailer);
    deposed.fenceWith({ token: 4, valid: () => true, confirm: async () => false });
    expect(await deposed.tick()).toBe(0);
    const distrusted = new TimerWorker([followUp], app.services.deps, app.services.readStore, silentLogger, app.services.mailer);
    distrusted.fenceWith({ token: 4, valid: () => false });
    expect(await distrusted.tick()).toBe(0);
    expect(await notes(quoteId)).toBe(0);
    const leader = new TimerWorker([followUp], app.services.deps, app.services.readStore, silentLogger, app.services.mailer);
    leader.fenceWith({ token: 5, valid: () => true, confirm: async () => true });
    expect(await leader.tick()).toBeGreaterThanOrEqual(1);
    const [note] = await app.services.eventStore.readStream(`quotenote-${quoteId}`);
    expect(note!.metadata.fence).toBe(5);
  });

  it('the due items are a read model: rebuilt from the log, they come back the same', async () => {
    const before = await app.services.readStore.collection('timers_due').find({}, { sort: { _id: 1 } });
    await app.services.runner.rebuildProjection('timers');
    await app.services.runner.waitFor(await app.services.eventStore.headPosition(), 5000, ['timers']);
    expect(await app.services.readStore.collection('timers_due').find({}, { sort: { _id: 1 } })).toEqual(before);
  });
});
