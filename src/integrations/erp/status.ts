import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { ReadStore } from '../../infra/readstore/port.ts';
import type { InboundResult } from './inbound.ts';

/**
 * Where the instances add up their counts, one document per topic, so that any instance reports the whole bridge
 * (an API instance too). Earlier versions kept one per instance and topic (`instance` set, never removed); they
 * are still read and summed.
 */
export const ERP_STATUS = '_erp_status';
/** How soon after a change an instance writes its counts down. */
const FLUSH_AFTER_MS = 1_000;

/** A topic's document: the counts of every instance, the latest times, `troubled` as of `heardAt`. */
type StoredStatus = Partial<TopicStatus> & Counts & { _id: string; topic: string; heardAt?: string; instance?: string };

const COUNTS = ['messages', 'applied', 'unchanged', 'conflicts', 'rejected'] as const;
type Counts = Record<(typeof COUNTS)[number], number>;
const countsOf = (status: Counts): Counts => ({ messages: status.messages, applied: status.applied, unchanged: status.unchanged, conflicts: status.conflicts, rejected: status.rejected });
/** When a status last heard from its topic: its last message or its last error, whichever came later. */
const lastHeard = (status: Pick<TopicStatus, 'lastMessageAt' | 'lastErrorAt'>): string | undefined =>
  [status.lastMessageAt, status.lastErrorAt].filter((at): at is string => at !== null).sort().at(-1);

/** What the bridge knows of one topic: how many messages came and how they ended, the last one's time, the last error. */
export type TopicStatus = {
  topic: string;
  messages: number;
  applied: number;
  unchanged: number;
  conflicts: number;
  rejected: number;
  lastMessageAt: string | null;
  lastError: string | null;
  lastErrorAt: string | null;
  /** Its last message was rejected, or its last try failed (a later message taken clears it). */
  troubled: boolean;
};

/**
 * The ERP bridge's running status per topic, kept by the process that runs it (this instance's consumers and the
 * inbound route): what `/api/v1/integrations/erp/status`, `/readyz` and `/metrics` report.
 */
export class ErpBridgeStatus {
  private readonly topics = new Map<string, TopicStatus>();
  private readonly changed = new Set<string>();
  /** Per topic, what this instance has added to the shared document so far (its next write adds the rest). */
  private readonly written = new Map<string, Counts & { lastErrorAt: string | null }>();
  private flushing: NodeJS.Timeout | undefined;
  /** Flushes one after another: two at once would add the same counts twice. */
  private flushed: Promise<void> = Promise.resolve();

  constructor(
    private readonly now: () => Date,
    /** Shared by the instances (the integrations' store); without it, the counts stay in this process. */
    private readonly store?: ReadStore,
    private readonly instance = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`,
  ) {}

  /** The inbound consumer group's lag per topic (messages not yet committed), while this process runs it on Kafka. */
  lagOf: (() => Promise<Record<string, number>>) | undefined;

  private of(topic: string): TopicStatus {
    this.changed.add(topic);
    if (this.store && !this.flushing) this.flushing = setTimeout(() => void this.flush().catch(() => {}), FLUSH_AFTER_MS).unref();
    let status = this.topics.get(topic);
    if (!status) {
      status = { topic, messages: 0, applied: 0, unchanged: 0, conflicts: 0, rejected: 0, lastMessageAt: null, lastError: null, lastErrorAt: null, troubled: false };
      this.topics.set(topic, status);
    }
    return status;
  }

  /** A message handled, with its outcome (a rejection is the topic's last error). */
  handled(topic: string, result: InboundResult | { status: 'published' }): void {
    const status = this.of(topic);
    const at = this.now().toISOString();
    status.messages++;
    status.lastMessageAt = at;
    status.troubled = result.status === 'rejected';
    if (result.status === 'applied' || result.status === 'published') status.applied++;
    else if (result.status === 'unchanged') status.unchanged++;
    else if (result.status === 'conflict') status.conflicts++;
    else {
      status.rejected++;
      status.lastError = result.reason ?? 'rejected';
      status.lastErrorAt = at;
    }
  }

  /** A failure that will be retried (a store or the broker could not be reached). */
  failed(topic: string, error: unknown): void {
    const status = this.of(topic);
    status.lastError = error instanceof Error ? error.message : String(error);
    status.lastErrorAt = this.now().toISOString();
    status.troubled = true;
  }

  /** This instance's counts (what its /readyz and /metrics report). */
  snapshot(): TopicStatus[] {
    return [...this.topics.values()].map((status) => ({ ...status })).sort((a, b) => a.topic.localeCompare(b.topic));
  }

  /** Adds what changed since the last time to the shared documents (a best effort: what fails is added next time). */
  flush(): Promise<void> {
    clearTimeout(this.flushing);
    this.flushing = undefined;
    const done = this.flushed.then(() => this.flushChanged());
    this.flushed = done.catch(() => {});
    return done;
  }

  private async flushChanged(): Promise<void> {
    if (!this.store || this.changed.size === 0) return;
    const topics = [...this.changed];
    this.changed.clear();
    const collection = this.store.collection<StoredStatus>(ERP_STATUS);
    let done = 0;
    try {
      for (const topic of topics) {
        const status = this.topics.get(topic)!;
        const written = this.written.get(topic) ?? { messages: 0, applied: 0, unchanged: 0, conflicts: 0, rejected: 0, lastErrorAt: null };
        // (The counts as they are now: messages handled while this writes are added next time.)
        const added = { ...countsOf(status), lastErrorAt: written.lastErrorAt };
        const inc = Object.fromEntries(COUNTS.map((count) => [count, added[count] - written[count]]));
        await collection.updateOne({ _id: topic }, { $inc: inc, $setOnInsert: { topic }, ...(status.lastMessageAt ? { $max: { lastMessageAt: status.lastMessageAt } } : {}) }, { upsert: true });
        this.written.set(topic, added);
        if (status.lastErrorAt && status.lastErrorAt !== written.lastErrorAt) {
          const unset = [{ lastErrorAt: { $exists: false } }, { lastErrorAt: null }, { lastErrorAt: { $lte: status.lastErrorAt } }];
          await collection.updateOne({ _id: topic, $or: unset }, { $set: { lastError: status.lastError, lastErrorAt: status.lastErrorAt } });
          added.lastErrorAt = status.lastErrorAt;
        }
        // Whether the topic is troubled is said by the instance that heard from it last.
        const heard = lastHeard(status);
        if (heard) await collection.updateOne({ _id: topic, $or: [{ heardAt: { $exists: false } }, { heardAt: { $lte: heard } }] }, { $set: { troubled: status.troubled, heardAt: heard } });
        done += 1;
      }
    } finally {
      // What was not written is written next time.
      for (const topic of topics.slice(done)) this.changed.add(topic);
    }
  }

  /**
   * The whole bridge per topic, over every instance that ran it (the consumers on the leading worker, the inbound
   * route on any instance), restarts included: counts summed; the last message's time, the last error and whether
   * it is troubled from the instance that heard from the topic last.
   */
  async combined(): Promise<TopicStatus[]> {
    if (!this.store) return this.snapshot();
    await this.flush();
    const byTopic = new Map<string, { total: TopicStatus; latest: string }>();
    for (const { _id: _, instance: __, heardAt, ...stored } of await this.store.collection<StoredStatus>(ERP_STATUS).find({})) {
      const status: TopicStatus = { ...stored, lastMessageAt: stored.lastMessageAt ?? null, lastError: stored.lastError ?? null, lastErrorAt: stored.lastErrorAt ?? null, troubled: stored.troubled ?? false };
      const heard = heardAt ?? lastHeard(status) ?? '';
      const seen = byTopic.get(status.topic);
      if (!seen) {
        byTopic.set(status.topic, { total: { ...status }, latest: heard });
        continue;
      }
      const { total } = seen;
      for (const count of COUNTS) total[count] += status[count];
      if (status.lastMessageAt && (!total.lastMessageAt || status.lastMessageAt > total.lastMessageAt)) total.lastMessageAt = status.lastMessageAt;
      if (status.lastErrorAt && (!total.lastErrorAt || status.lastErrorAt > total.lastErrorAt)) Object.assign(total, { lastError: status.lastError, lastErrorAt: status.lastErrorAt });
      if (heard > seen.latest) {
        seen.latest = heard;
        total.troubled = status.troubled;
      }
    }
    return [...byTopic.values()].map(({ total }) => total).sort((a, b) => a.topic.localeCompare(b.topic));
  }
}
