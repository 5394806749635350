import { randomUUID } from 'node:crypto';
import { DeadlineExceededError, MaxAppendSizeExceededError, StreamDeletedError as ServerStreamDeletedError, TimeoutError, UnavailableError } from '@kurrent/kurrentdb-client';
import { describe, expect, it } from 'vitest';
import { execute } from '../../src/commands/pipeline.ts';
import type { CommandDeps, RequestMeta } from '../../src/commands/context.ts';
import { toProblem } from '../../src/api/problem.ts';
import { KurrentEventStore } from '../../src/infra/eventstore/kurrent.ts';
import { AppendTooLargeError, EventStoreOutcomeUnknownError, EventStoreUnavailableError, type EventToAppend, type RecordedEvent, StreamDeletedError } from '../../src/infra/eventstore/port.ts';
import { silentLogger } from '../../src/infra/logger.ts';
import { EmbeddedReadStore } from '../../src/infra/readstore/embedded.ts';
import { ProjectionRunner } from '../../src/projections/runner.ts';
import type { Projection } from '../../src/projections/projection.ts';
import { FakeKurrentServer } from '../support/fake-kurrent.ts';
import { maxAgeSeconds, retentionPeriods } from '../../src/commands/retention.ts';
import { idempotencyCategory, loginCategory } from '../../src/domain/categories.ts';
import { waitUntil } from '../support/wait.ts';
import { eventStoreContract } from '../contract/eventstore.contract.ts';

const event = (type = 'Happened', data: unknown = { n: 1 }): EventToAppend => ({ id: randomUUID(), type, data, metadata: { actor: 'test', at: new Date().toISOString(), correlationId: 'c', schemaVersion: 1 } });

// The whole contract, against a stand-in that answers as the server does (the real server runs it with EVENTSTORE_URL).
const shared = new FakeKurrentServer();
eventStoreContract('KurrentDB adapter over a stand-in server', async () => KurrentEventStore.over(shared.client), {
  refusesIdsReusedAcrossStreams: false,
  restart: async (store) => {
    await store.close();
    shared.restart();
    return KurrentEventStore.over(shared.client);
  },
});

describe('KurrentDB adapter: what the server answers, translated', () => {
  it("a filtered subscription's checkpoint is an event's position, from which the server resumes", async () => {
    const server = new FakeKurrentServer();
    const store = KurrentEventStore.over(server.client);
    const errors: unknown[] = [];
    let checkpoint = -1n;
    const first = store.subscribeToAll({ filter: { categories: ['wanted'] } }, { onEvent: () => {}, onCheckpoint: (p) => void (checkpoint = p), onError: (e) => void errors.push(e) });
    const others: bigint[] = [];
    for (let i = 0; i < 40; i++) {
      if (i % 7 === 0) server.writeSystemRecord();
      others.push((await store.append(`other-${i}`, [event()], 'no_stream')).position);
    }
    await waitUntil(() => checkpoint > 0n);
    await first.close();
    // The server's checkpoint is the end of the last record it looked at; the adapter reports the event before it.
    expect(others).toContain(checkpoint);
    const seen: RecordedEvent[] = [];
    const resumed = store.subscribeToAll({ after: checkpoint, filter: { categories: ['wanted'] } }, { onEvent: (e) => void seen.push(e), onError: (e) => void errors.push(e) });
    await store.append('wanted-1', [event('Wanted')], 'no_stream');
    await waitUntil(() => seen.length === 1);
    await resumed.close();
    expect(seen[0]!.type).toBe('Wanted');
    expect(errors).toEqual([]);
  });

  it('a lost connection ends a subscription with EventStoreUnavailableError', async () => {
    const server = new FakeKurrentServer();
    const store = KurrentEventStore.over(server.client);
    const errors: unknown[] = [];
    const subscription = store.subscribeToAll({}, { onEvent: () => {}, onError: (e) => void errors.push(e) });
    await store.append('thing-1', [event()], 'no_stream');
    server.restart();
    await waitUntil(() => errors.length === 1);
    expect(errors[0]).toBeInstanceOf(EventStoreUnavailableError);
    await subscription.close();
  });

  it('projections follow the log again after the server restarts, from where they were', async () => {
    const server = new FakeKurrentServer();
    const store = KurrentEventStore.over(server.client);
    const readStore = new EmbeddedReadStore();
    const counted: Projection = {
      name: 'counted',
      version: 1,
      categories: ['thing'],
      collections: ['things'],
      async setup() {},
      async apply(e, s) {
        await s.collection('things').replaceOne({ _id: e.id }, { _id: e.id, type: e.type }, { upsert: true });
      },
    };
    const runner = new ProjectionRunner(store, readStore, [counted], silentLogger);
    runner.retryMs = 10;
    await runner.start();
    for (let i = 0; i < 5; i++) await store.append(`thing-${i}`, [event()], 'no_stream');
    await waitUntil(async () => (await readStore.collection('things').countDocuments()) === 5);
    server.restart();
    for (let i = 5; i < 10; i++) await store.append(`thing-${i}`, [event()], 'no_stream');
    await waitUntil(async () => (await readStore.collection('things').countDocuments()) === 10);
    expect(runner.status().every((s) => !s.failure)).toBe(true);
    // Caught up means caught up, though the last events are of a category it does not follow.
    for (let i = 0; i < 3; i++) await store.append(`ignored-${i}`, [event()], 'no_stream');
    await runner.waitFor(await store.headPosition(), 2000);
    await runner.stop();
  });

  it('an append that timed out is "outcome unknown"; too large, deleted and unreachable have their own errors', async () => {
    const server = new FakeKurrentServer();
    const store = KurrentEventStore.over(server.client);
    for (const timeout of [new DeadlineExceededError(undefined, 'deadline'), new TimeoutError(undefined, 'commit timeout')]) {
      server.failNext.set('appendToStream', timeout);
      await expect(store.append('thing-1', [event()], 'no_stream')).rejects.toBeInstanceOf(EventStoreOutcomeUnknownError);
    }
    server.failNext.set('appendToStream', new MaxAppendSizeExceededError(undefined, 1_048_576));
    await expect(store.append('thing-1', [event()], 'no_stream')).rejects.toBeInstanceOf(AppendTooLargeError);
    await store.append('thing-1', [event()], 'no_stream');
    server.failNext.set('readStream', new ServerStreamDeletedError(undefined, 'thing-1'));
    await expect(store.readStream('thing-1')).rejects.toBeInstanceOf(StreamDeletedError);
    server.failNext.set('readAll', new UnavailableError(undefined, 'down'));
    await expect(store.readAll({})).rejects.toBeInstanceOf(EventStoreUnavailableError);
    // The API's answers: 503 with a code saying so, 413, 410.
    expect(toProblem(new EventStoreOutcomeUnknownError('thing-1', new Error('x'))).problem).toMatchObject({ status: 503, code: 'event_store.outcome_unknown' });
    expect(toProblem(new AppendTooLargeError('thing-1', 1)).problem).toMatchObject({ status: 413, code: 'event_store.append_too_large' });
    expect(toProblem(new StreamDeletedError('thing-1')).problem).toMatchObject({ status: 410, code: 'event_store.stream_deleted' });
  });

  it('the command pipeline re-reads the stream after an unknown outcome and answers with what was written', async () => {
    const server = new FakeKurrentServer();
    const store = KurrentEventStore.over(server.client);
    // Written, but the answer never came.
    const original = server.client.appendToStream;
    let failed = false;
    (server.client as { appendToStream: unknown }).appendToStream = async (...args: Parameters<typeof original>) => {
      const result = await original(...args);
      if (!failed) {
        failed = true;
        throw new DeadlineExceededError(undefined, 'deadline');
      }
      return result;
    };
    const decider = { initialState: 0, evolve: (n: number) => n + 1, decide: () => [{ type: 'Noted', data: {} }] };
    const deps = { eventStore: store, clock: { now: () => new Date() } } as unknown as CommandDeps;
    const meta: RequestMeta = { requestId: randomUUID(), correlationId: 'c', ids: { newId: randomUUID } };
    const result = await execute(deps, decider as never, 'note-1', {}, { userId: 'u' } as never, meta);
    expect(result.changed).toBe(false);
    expect((await store.readStream('note-1')).map((e) => e.type)).toEqual(['Noted']);
  });

  it('command loads read from the leader; an append at any is sent at the exact revision it read', async () => {
    const server = new FakeKurrentServer();
    const store = KurrentEventStore.over(server.client);
    await store.append('thing-1', [event()], 'no_stream');
    await store.readStream('thing-1');
    expect(server.calls.filter((c) => c.method === 'readStream').every((c) => c.options.requiresLeader === true)).toBe(true);
    await store.append('thing-1', [event()], 'any');
    expect(server.calls.filter((c) => c.method === 'appendToStream').map((c) => c.options.streamState)).toEqual(['no_stream', 0n]);
  });
});

describe('KurrentDB adapter: retention by $maxAge', () => {
  it('takes the retention periods of the configuration, in seconds, leaving out what is kept for ever', () => {
    const periods = retentionPeriods({ CRM_RETENTION_LOGIN_DAYS: 180, CRM_RETENTION_IDEMPOTENCY_DAYS: 7, CRM_RETENTION_NOTIFICATION_DAYS: 0, CRM_IDEMPOTENCY_TTL_HOURS: 24 });
    expect(maxAgeSeconds(periods)).toEqual({ [loginCategory]: 15_552_000, [idempotencyCategory]: 604_800 });
  });

  it("gives each new stream of a category with a retention period its $maxAge, once, also when a retry repeats the creating append", async () => {
    const server = new FakeKurrentServer();
    const store = KurrentEventStore.over(server.client, { maxAgeSeconds: { login: 180 * 86_400, idempotency: 7 * 86_400 } });
    const first = event('LoginFailed');
    await store.append('login-zhang', [first], 'any');
    expect(server.streamMetadata.get('login-zhang')).toEqual({ maxAge: 15_552_000 });
    await store.append('login-zhang', [event('LoginFailed')], 'any');
    await store.append('customer-1', [event('CustomerRegistered')], 'no_stream');
    expect(server.calls.filter((call) => call.method === 'setStreamMetadata').map((call) => call.options.streamId)).toEqual(['login-zhang']);
    // Setting it failed: the append is reported failed, and the retry (answered from the stream's tail) sets it.
    server.failNext.set('setStreamMetadata', new UnavailableError(undefined, 'leader lost'));
    const created = event('IdempotentRequestStarted');
    await expect(store.append('idempotency-k1', [created], 'no_stream')).rejects.toBeInstanceOf(EventStoreUnavailableError);
    expect(server.streamMetadata.has('idempotency-k1')).toBe(false);
    await store.append('idempotency-k1', [created], 'no_stream');
    expect(server.streamMetadata.get('idempotency-k1')).toEqual({ maxAge: 604_800 });
  });

  it('appends to a stream whose every event is past its $maxAge (it reads empty) at the revision the server keeps', async () => {
    const server = new FakeKurrentServer();
    const store = KurrentEventStore.over(server.client, { maxAgeSeconds: { login: 60 } });
    await store.append('login-li', [event('LoginFailed'), event('LoginFailed')], 'any');
    server.ageOut('login-li');
    expect(await store.readStream('login-li')).toEqual([]);
    const next = await store.append('login-li', [event('LoginFailed')], 'any');
    expect(next.nextExpectedRevision).toBe(2n);
    expect((await store.readStream('login-li')).map((e) => e.revision)).toEqual([2n]);
  });
});
