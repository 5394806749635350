import { Readable } from 'node:stream';
import { StreamNotFoundError, UnavailableError, WrongExpectedVersionError } from '@kurrent/kurrentdb-client';
import type { KurrentClient } from '../../src/infra/eventstore/kurrent.ts';

/** One event record of the fake transaction log: it starts at `pre` and ends at `post` (the next record's `pre`). */
interface LogRecord {
  pre: bigint;
  post: bigint;
  id: string;
  streamId: string;
  revision: bigint;
  type: string;
  data: unknown;
  metadata: unknown;
  /** Past the stream's `$maxAge`: left out of reads (the stream keeps its revision). */
  aged?: boolean;
}

type Filter = { filterOn: 'streamName' | 'eventType'; regex: string; maxSearchWindow?: number; checkpointReached?: (stream: unknown, position: { commit: bigint; prepare: bigint }) => unknown };
type ReadPosition = 'start' | 'end' | { commit: bigint; prepare: bigint };

/** The error the server answers a read from a position that is not the start (forwards) or end (backwards) of a record with. */
export class InvalidPositionError extends Error {}

/**
 * A stand-in for a KurrentDB server, answering as its documentation and source say (AllReader, the gRPC
 * services): records of varying length in one log, positions as byte offsets; reading `$all` forwards from
 * {commit: p} starts at the record beginning at p (inclusive), backwards from the record ending at p; a position
 * inside a record is refused; a filtered subscription sends a checkpoint (the end of the last record it looked at)
 * after each `maxSearchWindow` (32) records its filter skipped; an append at `any` recognises repeated ids through
 * a cache a restart empties, one at an exact revision by the events stored at that revision.
 */
export class FakeKurrentServer {
  private readonly log: LogRecord[] = [];
  private end = 100n;
  private recentIds = new Set<string>();
  private readonly subscriptions = new Set<{ stream: Readable; wake(): void }>();
  /** Options of every call, for assertions (the method, then what it was given). */
  readonly calls: { method: string; options: Record<string, unknown> }[] = [];
  /** Errors to throw from the next calls of a method. */
  readonly failNext = new Map<string, Error>();
  /** Each stream's metadata as last set (`$maxAge`…). */
  readonly streamMetadata = new Map<string, Record<string, unknown>>();

  /** System records between ours, as a real log has them. */
  writeSystemRecord(): void {
    this.record({ id: `sys-${this.end}`, streamId: '$stats', revision: 0n, type: '$statsCollected', data: {}, metadata: {} });
  }

  /** Every event of a stream past its `$maxAge`: reads leave them out, the stream keeps its revision. */
  ageOut(streamId: string): void {
    for (const record of this.log) if (record.streamId === streamId) record.aged = true;
  }

  /** A restart: the cache of recent ids is empty, and live subscriptions end with UNAVAILABLE. */
  restart(): void {
    this.recentIds = new Set();
    for (const subscription of this.subscriptions) subscription.stream.destroy(new UnavailableError(undefined, 'server restarted'));
    this.subscriptions.clear();
  }

  private record(event: Omit<LogRecord, 'pre' | 'post'>): LogRecord {
    // Records differ in length, so positions are not consecutive numbers.
    const size = 64n + BigInt(JSON.stringify(event.data ?? null).length) + BigInt(event.id.length);
    const record = { ...event, pre: this.end, post: this.end + size };
    this.end = record.post;
    this.log.push(record);
    return record;
  }

  private fail(method: string): void {
    const error = this.failNext.get(method);
    if (error) {
      this.failNext.delete(method);
      throw error;
    }
  }

  private streamRecords(streamId: string): LogRecord[] {
    return this.log.filter((r) => r.streamId === streamId);
  }

  private resolved(record: LogRecord) {
    return {
      event: {
        id: record.id,
        streamId: record.streamId,
        revision: record.revision,
        type: record.type,
        data: record.data,
        metadata: record.metadata,
        isJson: true,
        position: { commit: record.pre, prepare: record.pre },
      },
    };
  }

  readonly client: KurrentClient = {
    appendToStream: (async (streamId: string, events: { id: string; type: string; data: unknown; metadata: unknown }[], options: { streamState: 'any' | 'no_stream' | 'stream_exists' | bigint }) => {
      this.calls.push({ method: 'appendToStream', options: { streamId, ...options } });
      this.fail('appendToStream');
      const existing = this.streamRecords(streamId);
      const current = existing.length ? existing[existing.length - 1]!.revision : undefined;
      const expected = options.streamState;
      const result = (records: LogRecord[]) => ({ success: true, nextExpectedRevision: records[records.length - 1]!.revision, position: { commit: records[records.length - 1]!.pre, prepare: records[records.length - 1]!.pre } });
      if (typeof expected === 'bigint' || expected === 'no_stream') {
        // Idempotent at an exact revision: the same ids right after it are the earlier write.
        const after = expected === 'no_stream' ? 0 : Number(expected) + 1;
        const there = existing.slice(after, after + events.length);
        if (there.length === events.length && there.every((r, i) => r.id === events[i]!.id)) return result(there);
        const ok = expected === 'no_stream' ? current === undefined : current === expected;
        if (!ok) throw new WrongExpectedVersionError(undefined, { streamName: streamId, expected, current: current ?? 'no_stream' });
      } else {
        if (events.every((e) => this.recentIds.has(e.id))) return result(existing.filter((r) => events.some((e) => e.id === r.id)));
        if (expected === 'stream_exists' && current === undefined) throw new WrongExpectedVersionError(undefined, { streamName: streamId, expected, current: 'no_stream' });
      }
      let revision = current === undefined ? 0n : current + 1n;
      const written = events.map((e) => this.record({ id: e.id, streamId, revision: revision++, type: e.type, data: e.data, metadata: e.metadata }));
      for (const e of events) this.recentIds.add(e.id);
      for (const subscription of this.subscriptions) subscription.wake();
      return result(written);
    }) as unknown as KurrentClient['appendToStream'],

    readStream: ((streamId: string, options: { direction: string; fromRevision: 'start' | 'end' | bigint; maxCount?: number; requiresLeader?: boolean }) => {
      this.calls.push({ method: 'readStream', options: { streamId, ...options } });
      const read = async function* (server: FakeKurrentServer) {
        server.fail('readStream');
        const all = server.streamRecords(streamId);
        if (!all.length) throw new StreamNotFoundError(undefined, streamId);
        let records = all.filter((r) => !r.aged);
        if (options.direction === 'backwards') {
          records = [...records].reverse();
          if (typeof options.fromRevision === 'bigint') records = records.filter((r) => r.revision <= (options.fromRevision as bigint));
        } else if (typeof options.fromRevision === 'bigint') records = records.filter((r) => r.revision >= (options.fromRevision as bigint));
        for (const record of records.slice(0, options.maxCount ?? Infinity)) yield server.resolved(record);
      };
      return read(this);
    }) as unknown as KurrentClient['readStream'],

    readAll: ((options: { direction: string; fromPosition: ReadPosition; maxCount?: number; filter?: Filter }) => {
      this.calls.push({ method: 'readAll', options });
      const read = async function* (server: FakeKurrentServer) {
        server.fail('readAll');
        const backwards = options.direction === 'backwards';
        let records = server.from(options.fromPosition, backwards);
        if (backwards) records = [...records].reverse();
        let count = 0;
        for (const record of records) {
          if (!passes(record, options.filter)) continue;
          yield server.resolved(record);
          if (++count >= (options.maxCount ?? Infinity)) return;
        }
      };
      return read(this);
    }) as unknown as KurrentClient['readAll'],

    subscribeToAll: ((options: { fromPosition: ReadPosition; filter?: Filter }) => {
      this.calls.push({ method: 'subscribeToAll', options });
      const stream = new Readable({ objectMode: true, read() {} }) as Readable & { unsubscribe(): Promise<void> };
      let next = this.from(options.fromPosition, false)[0]?.pre ?? this.end;
      let skipped = 0;
      const window = options.filter?.maxSearchWindow ?? 32;
      const subscription = {
        stream,
        wake: () => {
          for (const record of this.log) {
            if (record.pre < next || stream.destroyed) continue;
            next = record.post;
            if (passes(record, options.filter)) {
              skipped = 0;
              stream.push(this.resolved(record));
            } else if (++skipped >= window && options.filter?.checkpointReached) {
              skipped = 0;
              void options.filter.checkpointReached(stream, { commit: record.post, prepare: record.post });
            }
          }
        },
      };
      stream.unsubscribe = async () => {
        this.subscriptions.delete(subscription);
      };
      this.subscriptions.add(subscription);
      setImmediate(() => subscription.wake());
      return stream;
    }) as unknown as KurrentClient['subscribeToAll'],

    setStreamMetadata: (async (streamId: string, metadata: Record<string, unknown>) => {
      this.calls.push({ method: 'setStreamMetadata', options: { streamId, ...metadata } });
      this.fail('setStreamMetadata');
      this.streamMetadata.set(streamId, metadata);
      return { success: true, nextExpectedRevision: 0n };
    }) as unknown as KurrentClient['setStreamMetadata'],
    dispose: async () => {},
  };

  /** The records from a position on (forwards: starting at it; backwards: ending at it); a position inside a record is refused. */
  private from(position: ReadPosition, backwards: boolean): LogRecord[] {
    if (position === 'start') return backwards ? [] : this.log;
    if (position === 'end') return backwards ? this.log : [];
    const at = position.commit;
    // The log starts at 0 with the server's own records (an epoch) up to 100, where ours begin.
    const valid = at === this.end || at === 0n || at === 100n || this.log.some((r) => (backwards ? r.post : r.pre) === at);
    if (!valid) throw new InvalidPositionError(`Invalid position: ${at} is not the ${backwards ? 'end' : 'start'} of a record`);
    return backwards ? this.log.filter((r) => r.post <= at) : this.log.filter((r) => r.pre >= at);
  }
}

function passes(record: LogRecord, filter: Filter | undefined): boolean {
  if (!filter) return true;
  return new RegExp(filter.regex).test(filter.filterOn === 'streamName' ? record.streamId : record.type);
}
