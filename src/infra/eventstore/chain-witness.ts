import { randomUUID } from 'node:crypto';
import { type ChainBreak, type ChainVerification, type ChainVerifier, GENESIS, linkHash, payloadHash } from './chain.ts';
import { categoryOf, type EventStore, type RecordedEvent, type Subscription, WrongExpectedRevisionError } from './port.ts';

/** The stream the witness keeps its record in (its own events are not witnessed). */
export const WITNESS_CATEGORY = 'auditChain';
export const WITNESS_STREAM = `${WITNESS_CATEGORY}-log`;

/** One witnessed event: its position (decimal), id, stream and payload hash. */
type Witnessed = [position: string, eventId: string, streamId: string, payloadHash: string];

/** One record of the witness: a run of events in log order, the link before them and the link after the last. */
export interface ChainWitnessed {
  previous: string;
  head: string;
  events: Witnessed[];
}

/** The payload hash of an event as the store hands it over (data and metadata as JSON text). */
const hashOf = (event: RecordedEvent): string =>
  payloadHash({ streamId: event.streamId, revision: Number(event.revision), type: event.type, data: JSON.stringify(event.data), metadata: JSON.stringify(event.metadata) });

const witnessed = (event: RecordedEvent) => categoryOf(event.streamId) !== WITNESS_CATEGORY;

/**
 * The hash chain for a store that cannot keep one in its append transaction (EventStoreDB): a witness follows the
 * log and records, in a stream of its own (`auditChain-log`), each run of new events with their payload hashes and
 * the chain's links, `H(previous link, event id, H(payload))` as the embedded store computes them. The verifier
 * reads the log again and checks every event against the record: a changed payload, an event gone, an event slipped
 * in, a record whose links do not follow. It cannot see a change made before the witness recorded the event (it
 * follows within `flushMs`), and its own stream is as safe as the server keeps it: the daily anchors published to
 * Kafka hold its head outside. Events of the `expiring` categories gone from the log count as expired (`$maxAge`).
 */
export class ChainWitness implements ChainVerifier {
  private subscription?: Subscription;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly store: EventStore,
    private readonly options: { batchSize?: number; flushMs?: number; expiring?: ReadonlySet<string> } = {},
  ) {}

  private async records(): Promise<{ revision: bigint; data: ChainWitnessed }[]> {
    return (await this.store.readStream(WITNESS_STREAM)).map((event) => ({ revision: event.revision, data: event.data as ChainWitnessed }));
  }

  /** Records every event not witnessed yet (several runs of at most `batchSize`); another witness's record first is fine. */
  witness(): Promise<void> {
    this.running ??= this.witnessAll().finally(() => (this.running = undefined));
    return this.running;
  }

  private async witnessAll(): Promise<void> {
    const batchSize = this.options.batchSize ?? 2_000;
    for (;;) {
      const records = await this.records();
      const last = records.at(-1);
      const after = last ? BigInt(last.data.events.at(-1)![0]) : 0n;
      const events = (await this.store.readAll({ after, maxCount: batchSize * 2 })).filter(witnessed).slice(0, batchSize);
      if (events.length === 0) return;
      const previous = last?.data.head ?? GENESIS;
      let link = previous;
      const rows: Witnessed[] = events.map((event) => {
        const payload = hashOf(event);
        link = linkHash(link, event.id, payload);
        return [event.position.toString(), event.id, event.streamId, payload];
      });
      const record: ChainWitnessed = { previous, head: link, events: rows };
      try {
        await this.store.append(WITNESS_STREAM, [{ id: randomUUID(), type: 'ChainWitnessed', data: record, metadata: { actor: 'system', at: new Date().toISOString(), correlationId: 'chain-witness', schemaVersion: 1 } }], last ? last.revision : 'no_stream');
      } catch (error) {
        // Another witness recorded first: read its record and go on from there.
        if (!(error instanceof WrongExpectedRevisionError)) throw error;
      }
    }
  }

  /**
   * Follows the log from its head (what came before is caught up by a first run): a run is recorded `flushMs` after
   * the first event not witnessed yet; a run that fails is tried again after the same delay.
   */
  async start(): Promise<void> {
    const flushMs = this.options.flushMs ?? 1_000;
    const schedule = () => {
      this.timer ??= setTimeout(() => {
        this.timer = undefined;
        void this.witness().catch(() => schedule());
      }, flushMs);
    };
    const head = await this.store.headPosition();
    this.subscription = this.store.subscribeToAll({ after: head }, { onEvent: (event) => (witnessed(event) ? schedule() : undefined) });
    schedule();
  }

  async stop(): Promise<void> {
    await this.subscription?.close();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  async chainHead(): Promise<{ position: bigint; hash: string } | null> {
    const last = (await this.records()).at(-1);
    return last ? { position: BigInt(last.data.events.at(-1)![0]), hash: last.data.head } : null;
  }

  async verifyChain(range: { from?: bigint; to?: bigint } = {}): Promise<ChainVerification> {
    const from = range.from ?? 0n;
    const to = range.to;
    let checked = 0;
    let expired = 0;
    let head: string | undefined;
    let firstBreak: ChainBreak | undefined;
    let before = GENESIS;
    let previousLast = 0n;
    const expiring = this.options.expiring ?? new Set<string>();
    for (const { data } of await this.records()) {
      const first = BigInt(data.events[0]![0]);
      const last = BigInt(data.events.at(-1)![0]);
      if (data.previous !== before) {
        firstBreak = { position: Number(first), reason: 'link_broken' };
        break;
      }
      before = data.head;
      const after = previousLast;
      previousLast = last;
      if (last < from || (to !== undefined && first > to)) continue;
      // Everything since the previous record's last event: an event between two records was slipped in too.
      const actual = new Map((await this.store.readAll({ after, maxCount: data.events.length * 2 + 1_000 })).filter((event) => witnessed(event) && event.position <= last).map((event) => [event.position, event]));
      let link = data.previous;
      for (const [position, eventId, streamId, payload] of data.events) {
        const at = BigInt(position);
        const event = actual.get(at);
        actual.delete(at);
        link = linkHash(link, eventId, payload);
        if (at < from || (to !== undefined && at > to)) continue;
        if (!event) {
          if (!expiring.has(categoryOf(streamId))) firstBreak ??= { position: Number(at), reason: 'event_missing' };
          else expired += 1;
        } else if (event.id !== eventId || hashOf(event) !== payload) firstBreak ??= { position: Number(at), reason: 'payload_changed' };
        if (firstBreak) break;
        checked += 1;
        head = link;
      }
      if (firstBreak) break;
      if (link !== data.head) {
        firstBreak = { position: Number(last), reason: 'link_broken' };
        break;
      }
      const slipped = [...actual.keys()].filter((at) => at >= from && (to === undefined || at <= to)).sort((a, b) => (a < b ? -1 : 1))[0];
      if (slipped !== undefined) {
        firstBreak = { position: Number(slipped), reason: 'event_unchained' };
        break;
      }
    }
    return { ok: !firstBreak, checked, expired, ...(head ? { head } : {}), ...(firstBreak ? { firstBreak } : {}) };
  }
}
