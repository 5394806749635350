import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { ReadStore } from '../../infra/readstore/port.ts';
import type { InboundResult } from './inbound.ts';

/** Where each instance keeps its counts, so that any instance reports the whole bridge (an API instance too). */
export const ERP_STATUS = '_erp_status';
/** How soon after a change an instance writes its counts down. */
const FLUSH_AFTER_MS = 1_000;

type StoredStatus = TopicStatus & { _id: string; instance: string };

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
  private flushing: NodeJS.Timeout | undefined;

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

  /** Writes down what changed since the last time (a best effort: the next change writes it again). */
  async flush(): Promise<void> {
    clearTimeout(this.flushing);
    this.flushing = undefined;
    if (!this.store || this.changed.size === 0) return;
    const topics = [...this.changed];
    this.changed.clear();
    const collection = this.store.collection<StoredStatus>(ERP_STATUS);
    for (const topic of topics) {
      const status = this.topics.get(topic)!;
      const _id = `${this.instance}|${topic}`;
      await collection.replaceOne({ _id }, { _id, instance: this.instance, ...status }, { upsert: true });
    }
  }

  /**
   * The whole bridge per topic, over every instance that ran it (the consumers on the leading worker, the inbound
   * route on any instance), since each started: counts summed; the last message's time, the last error and whether
   * it is troubled from the instance that heard from the topic last.
   */
  async combined(): Promise<TopicStatus[]> {
    if (!this.store) return this.snapshot();
    await this.flush();
    const byTopic = new Map<string, { total: TopicStatus; latest: string }>();
    for (const { _id: _, instance: __, ...status } of await this.store.collection<StoredStatus>(ERP_STATUS).find({})) {
      const heard = [status.lastMessageAt, status.lastErrorAt].filter((at): at is string => at !== null).sort().at(-1) ?? '';
      const seen = byTopic.get(status.topic);
      if (!seen) {
        byTopic.set(status.topic, { total: { ...status }, latest: heard });
        continue;
      }
      const { total } = seen;
      for (const count of ['messages', 'applied', 'unchanged', 'conflicts', 'rejected'] as const) total[count] += status[count];
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
