import { freezeOwned } from '../frozen.ts';
import { merged } from '../merged.ts';
import { openValue, type PersonalValues, SEALED_PREFIX, sealValue, valueAt, withValueAt } from '../personal-data/sealing.ts';
import type { SubjectKey, SubjectKeys } from '../personal-data/keys.ts';
import { type AppendResult, categoryOf, type EventFilter, type EventStore, type EventToAppend, type ExpectedRevision, type ReadAllOptions, type ReadStreamOptions, type RecordedEvent, type StreamWrite, type Subscription, type SubscriptionHandlers } from './port.ts';

/** Which values of an event are personal data, and whose (the domain's rules). */
export interface PersonalDataPolicy {
  /** Whether events of this stream can hold personal values at all (a data subject's stream). */
  applies(streamId: string): boolean;
  personalValues(streamId: string, event: Pick<EventToAppend, 'type' | 'data'>): Promise<readonly PersonalValues[]>;
  /**
   * The subject whose own stream this is, when its events hold that subject's values only (a contact's): an event of
   * it in clear needs its values found only once that subject is erased.
   */
  ownSubject?(streamId: string): string | undefined;
  /** The subject an event says was erased (its key destroyed), so a process that cached the key forgets it. */
  erasedSubject?(event: RecordedEvent): string | undefined;
}

/** Keys kept in memory at most, by default (those fetched longest ago go first). */
const CACHED_KEYS = 20_000;

/**
 * Which streams hold personal values, as plain data (a thread that reads the log gets it from the service, and
 * loads the rules that find the values only when an event needs them): the categories of the data subjects' own
 * streams, and of the streams that copy their values.
 */
export interface PersonalDataScope {
  subjectCategories: string[];
  copyingCategories: string[];
}

/** The answers of a policy that depend only on which streams hold personal values (its `applies`, its `ownSubject`). */
export function streamsOf(scope: PersonalDataScope): Pick<PersonalDataPolicy, 'applies' | 'ownSubject'> {
  const subjects = new Set(scope.subjectCategories);
  const copying = new Set(scope.copyingCategories);
  return {
    applies: (streamId) => subjects.has(categoryOf(streamId)) || copying.has(categoryOf(streamId)),
    ownSubject: (streamId) => (subjects.has(categoryOf(streamId)) ? streamId : undefined),
  };
}

export interface PersonalDataOptions {
  /** Keys kept in memory at most (those fetched longest ago go first). */
  cachedKeys?: number;
  /**
   * Keep, for each event the last `readAll` opened from sealed values, the stored event it was opened from, for
   * `openedFrom` (a reader that hands the stored text over, with the opened values beside it).
   */
  keepsOpenedFrom?: boolean;
}

/**
 * Crypto-shredding at the store: on append, the personal values an event holds (by the policy) are sealed under
 * their subject's key, and `metadata.personal` says where; on every read they are opened again, so command
 * handlers, projections and history see plain values, and a value whose subject was erased reads `[erased]`, in
 * a rebuild too. The stored events never change: the hash chain over them still verifies after an erasure.
 * Kafka is fed from the sealed events (the relay reads below this layer), so a message carries what the log holds.
 */
export class PersonalDataEventStore implements EventStore {
  private readonly cache = new Map<string, SubjectKey>();
  /** Bumped by each erasure: streams opened before it are opened again. */
  private generation = 0;
  private readonly opened = new WeakMap<readonly RecordedEvent[], { generation: number; events: readonly RecordedEvent[] }>();
  private readonly cachedKeys: number;
  /**
   * The events the last readAll opened from sealed values, each with the stored event it came from (keepsOpenedFrom),
   * dropped with the next read: a new map per read, as the SQLite store keeps its rows' texts.
   */
  private openedFromLastRead: Map<RecordedEvent, RecordedEvent> | undefined;

  constructor(
    private readonly inner: EventStore,
    private readonly policy: PersonalDataPolicy,
    private readonly keys: SubjectKeys,
    /** What an erased subject's values read as (the domain's `[erased]`). */
    private readonly erased: unknown,
    options: PersonalDataOptions = {},
  ) {
    this.cachedKeys = options.cachedKeys ?? CACHED_KEYS;
    if (options.keepsOpenedFrom) this.openedFromLastRead = new Map();
    if (inner.expire) this.expire = inner.expire.bind(inner);
    if (inner.watchAppends) this.watchAppends = inner.watchAppends.bind(inner);
    const atomically = inner.appendAtomically?.bind(inner);
    if (atomically) this.appendAtomically = async (writes) => atomically(await Promise.all(writes.map(async (write) => ({ ...write, events: await this.sealAll(write.streamId, write.events) }))));
  }

  readonly appendAtomically?: (writes: readonly StreamWrite[]) => Promise<AppendResult[]>;
  readonly expire?: (category: string, before: string) => Promise<{ expired: number }>;
  readonly watchAppends?: (onAppend: () => void) => Subscription;

  private async key(subjectId: string, create: boolean): Promise<SubjectKey | undefined> {
    const cached = this.cache.get(subjectId);
    if (cached && !(create && 'erasedAt' in cached)) return cached;
    const found = await this.keys.get(subjectId, create);
    if (found) this.remember(subjectId, found);
    return found;
  }

  private remember(subjectId: string, key: SubjectKey): void {
    if (this.cache.size >= this.cachedKeys) this.evictOldest();
    this.cache.set(subjectId, key);
  }

  /**
   * Fetches in one read the keys that the sealed values of a batch need and the cache lacks: a replay meets most
   * contacts' keys once, and one read per key cost its reading thread a tenth of its time. An erasure made here
   * meanwhile leaves them to be fetched one by one (its tombstone must not be overwritten by a key read before it).
   */
  private async fetchKeys(events: readonly RecordedEvent[]): Promise<void> {
    const missing = new Set<string>();
    for (const event of events) for (const { subjectId } of event.metadata.personal ?? []) if (!this.cache.has(subjectId)) missing.add(subjectId);
    if (missing.size < 2) return;
    const generation = this.generation;
    const found = await this.keys.getMany([...missing].slice(0, Math.floor(this.cachedKeys / 2)));
    if (generation !== this.generation) return;
    for (const [subjectId, key] of found) this.remember(subjectId, key);
  }

  /**
   * Forgets the quarter of the keys fetched longest ago, in one pass: deleting the oldest one per fetch instead
   * makes each eviction walk past the slots earlier deletions left at the front of the map (a rebuild reading more
   * subjects than the cache holds spent 6 % of its time there).
   */
  private evictOldest(): void {
    let left = Math.ceil(this.cachedKeys / 4);
    for (const subjectId of this.cache.keys()) {
      if (left-- === 0) break;
      this.cache.delete(subjectId);
    }
  }

  /** Destroys a subject's key: from now on its sealed values read `[erased]`, here and wherever they were sent. */
  async erase(subjectId: string, at: string): Promise<boolean> {
    const destroyed = await this.keys.erase(subjectId, at);
    this.cache.set(subjectId, { erasedAt: at });
    this.generation++;
    return destroyed;
  }

  /** Forgets a cached key (another process erased its subject). */
  forget(subjectId: string): void {
    if (this.cache.delete(subjectId)) this.generation++;
  }

  /** The subject's key, for a consumer of sealed messages; `erased` once it was destroyed. */
  async subjectKey(subjectId: string): Promise<SubjectKey | undefined> {
    return this.key(subjectId, false);
  }

  private async seal(streamId: string, event: EventToAppend): Promise<EventToAppend> {
    if (!this.policy.applies(streamId)) return event;
    const personal = await this.policy.personalValues(streamId, event);
    if (personal.length === 0) return event;
    let data = event.data;
    const sealed: PersonalValues[] = [];
    for (const { subjectId, pointers } of personal) {
      const found = await this.key(subjectId, true);
      // A person erased already: nothing of theirs is written again (a copy made from a read model, a race with
      // the erasure), their values are written as `[erased]`.
      if (!found || 'erasedAt' in found) {
        for (const pointer of pointers) data = withValueAt(data, pointer, this.erased);
        continue;
      }
      for (const pointer of pointers) data = withValueAt(data, pointer, sealValue(found.key, subjectId, event.id, pointer, valueAt(data, pointer)));
      sealed.push({ subjectId, pointers: [...pointers] });
    }
    return { ...event, data, metadata: sealed.length ? { ...event.metadata, personal: sealed } : event.metadata };
  }

  private sealAll(streamId: string, events: readonly EventToAppend[]): Promise<EventToAppend[]> {
    return Promise.all(events.map((event) => this.seal(streamId, event)));
  }

  /** Whether an event may need opening: it holds sealed values, or it is a subject's event from before sealing. */
  private needsOpening(event: RecordedEvent): boolean {
    return event.metadata.personal !== undefined || this.policy.applies(event.streamId);
  }

  private async open(event: RecordedEvent): Promise<RecordedEvent> {
    // Another process may have erased the subject: its erasure event makes this one drop a key it still holds.
    const erasedSubject = this.policy.erasedSubject?.(event);
    if (erasedSubject && this.cache.has(erasedSubject) && 'key' in this.cache.get(erasedSubject)!) this.forget(erasedSubject);
    const personal = event.metadata.personal;
    if (!personal) return this.openClear(event);
    let data = event.data;
    for (const { subjectId, pointers } of personal) {
      const found = await this.key(subjectId, false);
      for (const pointer of pointers) {
        const sealed = valueAt(data, pointer);
        // Only a sealed value is opened (a copy of the log made from opened events holds plain ones).
        if (typeof sealed !== 'string' || !sealed.startsWith(SEALED_PREFIX)) continue;
        data = withValueAt(data, pointer, found && 'key' in found ? openValue(found.key, subjectId, pointer, sealed) : this.erased);
      }
    }
    return merged(event, { data });
  }

  /**
   * An event written before personal data was sealed holds it in clear: once its subject is erased, it reads
   * `[erased]` as well (the bytes stay in the log until it is migrated, see `npm run personal-data:seal`).
   */
  private async openClear(event: RecordedEvent): Promise<RecordedEvent> {
    if (!this.policy.applies(event.streamId)) return event;
    // Most such events of a subject's own stream hold no personal value at all (a contact's move, a change of its
    // title): while the subject's key stands there is nothing to hide, and no need to find its values.
    const own = this.policy.ownSubject?.(event.streamId);
    if (own !== undefined) {
      const found = await this.key(own, false);
      if (!found || !('erasedAt' in found)) return event;
    }
    const personal = await this.policy.personalValues(event.streamId, event);
    let data = event.data;
    for (const { subjectId, pointers } of personal) {
      const found = await this.key(subjectId, false);
      if (found && 'erasedAt' in found) for (const pointer of pointers) data = withValueAt(data, pointer, this.erased);
    }
    return data === event.data ? event : merged(event, { data });
  }

  private async openAll(events: readonly RecordedEvent[]): Promise<readonly RecordedEvent[]> {
    if (!events.some((event) => this.needsOpening(event))) return events;
    await this.fetchKeys(events);
    return Promise.all(events.map((event) => this.open(event)));
  }

  async append(streamId: string, events: readonly EventToAppend[], expectedRevision: ExpectedRevision): Promise<AppendResult> {
    return this.inner.append(streamId, await this.sealAll(streamId, events), expectedRevision);
  }

  async readStream(streamId: string, options?: ReadStreamOptions): Promise<RecordedEvent[]> {
    const stored = await this.inner.readStream(streamId, options);
    if (!Object.isFrozen(stored)) return [...(await this.openAll(stored))];
    // A stream the inner store serves from memory is opened once per erasure generation, and stays frozen.
    const known = this.opened.get(stored);
    if (known && known.generation === this.generation) return known.events as RecordedEvent[];
    const generation = this.generation;
    const opened = await this.openAll(stored);
    const events = opened === stored ? stored : freezeOwned([...opened]);
    this.opened.set(stored, { generation, events });
    return events as RecordedEvent[];
  }

  async readAll(options?: ReadAllOptions): Promise<RecordedEvent[]> {
    const stored = await this.inner.readAll(options);
    const opened = await this.openAll(stored);
    if (this.openedFromLastRead) {
      const from = new Map<RecordedEvent, RecordedEvent>();
      for (let i = 0; i < opened.length; i++) if (opened[i] !== stored[i] && stored[i]!.metadata.personal) from.set(opened[i]!, stored[i]!);
      this.openedFromLastRead = from;
    }
    return [...opened];
  }

  /**
   * The stored event an event the last readAll returned was opened from (keepsOpenedFrom), when its sealed values
   * were opened: the two differ only in the values at the pointers of its `metadata.personal`, which it shares.
   * Undefined for any other event, and for one of an earlier read.
   */
  openedFrom(event: RecordedEvent): RecordedEvent | undefined {
    return this.openedFromLastRead?.get(event);
  }

  subscribeToAll(options: { after?: bigint; filter?: EventFilter }, handlers: SubscriptionHandlers): Subscription {
    return this.inner.subscribeToAll(options, {
      ...handlers,
      onEvent: (event) => (this.needsOpening(event) ? this.open(event).then((opened) => handlers.onEvent(opened)) : handlers.onEvent(event)),
    });
  }

  headPosition(): Promise<bigint> {
    return this.inner.headPosition();
  }

  lastPositionMatching(filter: EventFilter, atOrBefore: bigint): Promise<bigint> {
    return this.inner.lastPositionMatching(filter, atOrBefore);
  }

  async close(): Promise<void> {
    await this.inner.close();
    await this.keys.close();
  }
}
