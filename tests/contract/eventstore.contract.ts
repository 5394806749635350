import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type EventStore,
  type EventToAppend,
  EventIdConflictError,
  type RecordedEvent,
  WrongExpectedRevisionError,
} from '../../src/infra/eventstore/port.ts';
import { waitUntil } from '../support/wait.ts';

export interface EventStoreTraits {
  /**
   * Whether an event id reused in another stream is refused (EventIdConflictError). EventStoreDB checks ids
   * for idempotence within a stream only, so its adapter says false and those two cases are skipped for it.
   */
  refusesIdsReusedAcrossStreams?: boolean;
  /**
   * Restarts what the store stands on (closing `store`) and returns a store on it again. Omitted: the store is
   * closed and created again (a server keeps what it remembers then).
   */
  restart?: (store: EventStore) => Promise<EventStore>;
}

/**
 * The contract every event-store adapter must pass. `create` gives a store; streams are named uniquely per
 * test so an adapter backed by a shared server (EventStoreDB) can run it too.
 */
export function eventStoreContract(name: string, create: () => Promise<EventStore>, traits: EventStoreTraits = {}): void {
  const acrossStreams = traits.refusesIdsReusedAcrossStreams ?? true;
  describe(`event store contract: ${name}`, () => {
    let store: EventStore;
    let run: string;
    beforeEach(async () => {
      store = await create();
      run = randomUUID().replaceAll('-', '');
    });
    afterEach(async () => {
      await store.close();
    });

    const stream = (category: string, id = '1') => `${category}${run.slice(0, 8)}-${id}`;
    const event = (type = 'ThingHappened', data: unknown = { n: 1 }): EventToAppend => ({
      id: randomUUID(),
      type,
      data,
      metadata: { actor: 'tester', at: '2026-11-26T00:00:00.000Z', correlationId: 'c-1', schemaVersion: 1 },
    });

    it('appends to a new stream with no_stream and reads it back in order', async () => {
      const s = stream('thing');
      const events = [event('A', { n: 1 }), event('B', { n: 2, nested: { text: '客户 ✓' } })];
      const result = await store.append(s, events, 'no_stream');
      expect(result.nextExpectedRevision).toBe(1n);
      const read = await store.readStream(s);
      expect(read.map((e) => [e.type, e.revision, e.data, e.id])).toEqual([
        ['A', 0n, { n: 1 }, events[0]!.id],
        ['B', 1n, { n: 2, nested: { text: '客户 ✓' } }, events[1]!.id],
      ]);
      expect(read[1]!.metadata).toEqual(events[1]!.metadata);
      expect(read[1]!.position).toBe(result.position);
      expect(read[0]!.position < read[1]!.position).toBe(true);
    });

    it('reads an unknown stream as empty', async () => {
      expect(await store.readStream(stream('nothing'))).toEqual([]);
    });

    it('refuses no_stream on an existing stream', async () => {
      const s = stream('thing');
      await store.append(s, [event()], 'no_stream');
      await expect(store.append(s, [event()], 'no_stream')).rejects.toBeInstanceOf(WrongExpectedRevisionError);
    });

    it('refuses stream_exists on a missing stream and accepts it on an existing one', async () => {
      const s = stream('thing');
      await expect(store.append(s, [event()], 'stream_exists')).rejects.toBeInstanceOf(WrongExpectedRevisionError);
      await store.append(s, [event()], 'any');
      const result = await store.append(s, [event()], 'stream_exists');
      expect(result.nextExpectedRevision).toBe(1n);
    });

    it('checks an exact expected revision and reports the actual one', async () => {
      const s = stream('thing');
      await store.append(s, [event(), event()], 'no_stream');
      const error = await store.append(s, [event()], 0n).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WrongExpectedRevisionError);
      expect((error as WrongExpectedRevisionError).actual).toBe(1n);
      const ok = await store.append(s, [event()], 1n);
      expect(ok.nextExpectedRevision).toBe(2n);
    });

    it('appends several events atomically: a refused append writes none of them', async () => {
      const s = stream('thing');
      await store.append(s, [event()], 'no_stream');
      await expect(store.append(s, [event(), event(), event()], 5n)).rejects.toBeInstanceOf(WrongExpectedRevisionError);
      expect(await store.readStream(s)).toHaveLength(1);
    });

    it('lets exactly one of many concurrent writers at the same revision win', async () => {
      const s = stream('thing');
      await store.append(s, [event()], 'no_stream');
      const results = await Promise.allSettled(Array.from({ length: 20 }, () => store.append(s, [event()], 0n)));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect(await store.readStream(s)).toHaveLength(2);
    });

    it('is idempotent by event id: a retried append returns the first result and writes nothing', async () => {
      const s = stream('thing');
      const events = [event('A'), event('B')];
      const first = await store.append(s, events, 'no_stream');
      const retry = await store.append(s, events, 'no_stream');
      expect(retry).toEqual(first);
      expect(await store.readStream(s)).toHaveLength(2);
    });

    it.skipIf(!acrossStreams)('refuses an event id reused for a different stream', async () => {
      const e = event();
      await store.append(stream('thing', 'a'), [e], 'any');
      await expect(store.append(stream('thing', 'b'), [e], 'any')).rejects.toBeInstanceOf(EventIdConflictError);
    });

    it.skipIf(!acrossStreams)('refuses a batch that reuses an event id in a later position, writing none of it', async () => {
      const reused = event();
      await store.append(stream('thing', 'a'), [reused], 'any');
      await expect(store.append(stream('thing', 'b'), [event(), reused], 'any')).rejects.toBeInstanceOf(EventIdConflictError);
      expect(await store.readStream(stream('thing', 'b'))).toEqual([]);
    });

    it('reads a stream from a revision with a max count', async () => {
      const s = stream('thing');
      await store.append(s, [event('A'), event('B'), event('C'), event('D')], 'no_stream');
      const read = await store.readStream(s, { fromRevision: 1n, maxCount: 2 });
      expect(read.map((e) => e.type)).toEqual(['B', 'C']);
    });

    it('reads the global log after a position, filtered by category and event type', async () => {
      const start = await store.headPosition();
      await store.append(stream('alpha', '1'), [event('Opened'), event('Closed')], 'any');
      await store.append(stream('beta', '1'), [event('Opened')], 'any');
      await store.append(stream('alpha', '2'), [event('Opened')], 'any');
      const all = await store.readAll({ after: start });
      expect(all.map((e) => `${e.streamId.split('-')[0]!.replace(run.slice(0, 8), '')}:${e.type}`)).toEqual([
        'alpha:Opened',
        'alpha:Closed',
        'beta:Opened',
        'alpha:Opened',
      ]);
      const positions = all.map((e) => e.position);
      expect([...positions].sort((a, b) => (a < b ? -1 : 1))).toEqual(positions);
      const alpha = await store.readAll({ after: start, filter: { categories: [`alpha${run.slice(0, 8)}`] } });
      expect(alpha).toHaveLength(3);
      const opened = await store.readAll({
        after: start,
        filter: { categories: [`alpha${run.slice(0, 8)}`], eventTypes: ['Opened'] },
      });
      expect(opened).toHaveLength(2);
      const afterSecond = await store.readAll({ after: all[1]!.position, maxCount: 1 });
      expect(afterSecond[0]!.id).toBe(all[2]!.id);
      expect(await store.headPosition()).toBe(all[3]!.position);
    });

    it('subscribes: catches up, then delivers live appends in order without gaps', async () => {
      const start = await store.headPosition();
      const s = stream('sub');
      await store.append(s, [event('Before1'), event('Before2')], 'no_stream');
      const seen: RecordedEvent[] = [];
      let checkpoint = 0n;
      const category = `sub${run.slice(0, 8)}`;
      const subscription = store.subscribeToAll(
        { after: start, filter: { categories: [category] } },
        { onEvent: (e) => void seen.push(e), onCheckpoint: (p) => void (checkpoint = p) },
      );
      await waitUntil(() => seen.length === 2);
      for (let i = 0; i < 30; i++) await store.append(s, [event(`Live${i}`)], 'any');
      await store.append(stream('other'), [event('Ignored')], 'any');
      await waitUntil(() => seen.length === 32);
      const head = await store.headPosition();
      // Caught up: past the last event its filter lets through (a server may report progress past skipped events
      // only now and then).
      const last = await store.lastPositionMatching({ categories: [category] }, head);
      expect(last).toBe(seen[31]!.position);
      await waitUntil(() => checkpoint >= last || seen[seen.length - 1]!.position >= last);
      await subscription.close();
      expect(seen.map((e) => e.type)).toEqual(['Before1', 'Before2', ...Array.from({ length: 30 }, (_, i) => `Live${i}`)]);
      expect(seen.map((e) => e.revision)).toEqual(Array.from({ length: 32 }, (_, i) => BigInt(i)));
    });

    it('resumes a filtered subscription from the checkpoint it reported, past 40 events it skipped', async () => {
      const category = `wanted${run.slice(0, 8)}`;
      let checkpoint = -1n;
      const errors: unknown[] = [];
      const first = store.subscribeToAll({ after: await store.headPosition(), filter: { categories: [category] } }, { onEvent: () => {}, onCheckpoint: (p) => void (checkpoint = p), onError: (e) => void errors.push(e) });
      for (let i = 0; i < 40; i++) await store.append(stream('unwanted', String(i)), [event()], 'no_stream');
      await waitUntil(() => checkpoint > 0n);
      await first.close();
      const seen: RecordedEvent[] = [];
      const resumed = store.subscribeToAll({ after: checkpoint, filter: { categories: [category] } }, { onEvent: (e) => void seen.push(e), onError: (e) => void errors.push(e) });
      await store.append(stream('wanted'), [event('Wanted')], 'no_stream');
      await waitUntil(() => seen.length === 1);
      await resumed.close();
      expect(seen.map((e) => e.type)).toEqual(['Wanted']);
      expect(errors).toEqual([]);
    });

    it('finds the last event a filter lets through at or before a position', async () => {
      const start = await store.headPosition();
      const a = await store.append(stream('alpha'), [event('One'), event('Two')], 'no_stream');
      const b = await store.append(stream('beta'), [event('Three')], 'no_stream');
      await store.append(stream('gamma'), [event('Four')], 'no_stream');
      const head = await store.headPosition();
      const alpha = { categories: [`alpha${run.slice(0, 8)}`] };
      expect(await store.lastPositionMatching(alpha, head)).toBe(a.position);
      expect(await store.lastPositionMatching(alpha, b.position)).toBe(a.position);
      expect(await store.lastPositionMatching({ categories: [`beta${run.slice(0, 8)}`] }, b.position)).toBe(b.position);
      expect(await store.lastPositionMatching({ categories: [`beta${run.slice(0, 8)}`, `alpha${run.slice(0, 8)}`] }, head)).toBe(b.position);
      expect(await store.lastPositionMatching({ categories: [`alpha${run.slice(0, 8)}`], eventTypes: ['One'] }, head)).toBeLessThan(a.position);
      expect(await store.lastPositionMatching({ categories: [`alpha${run.slice(0, 8)}`], eventTypes: ['One'] }, head)).toBeGreaterThan(start);
      expect(await store.lastPositionMatching({ categories: [`none${run.slice(0, 8)}`] }, head)).toBe(0n);
      // Past the head: events still to come may match.
      expect(await store.lastPositionMatching(alpha, head + 1_000_000n)).toBe(head + 1_000_000n);
    });

    it('stores an event appended at any once, though appended again after a restart', async () => {
      const s = stream('fact');
      const e = event('Noted');
      await store.append(s, [event('Before')], 'no_stream');
      const first = await store.append(s, [e], 'any');
      store = traits.restart ? await traits.restart(store) : (await store.close(), await create());
      const again = await store.append(s, [e], 'any');
      expect(again).toEqual(first);
      expect((await store.readStream(s)).map((x) => x.type)).toEqual(['Before', 'Noted']);
    });

    it('stops delivering after the subscription is closed', async () => {
      const s = stream('sub');
      const seen: string[] = [];
      const subscription = store.subscribeToAll(
        { after: await store.headPosition() },
        { onEvent: (e) => void seen.push(e.type) },
      );
      await store.append(s, [event('One')], 'any');
      await waitUntil(() => seen.includes('One'));
      await subscription.close();
      await store.append(s, [event('Two')], 'any');
      await new Promise((r) => setTimeout(r, 50));
      expect(seen).not.toContain('Two');
    });
  });
}
