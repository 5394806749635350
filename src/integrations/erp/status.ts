import type { InboundResult } from './inbound.ts';

/** What the bridge knows of one topic: how many messages came and how they ended, the last one's time, the last error. */
export interface TopicStatus {
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
}

/**
 * The ERP bridge's running status per topic, kept by the process that runs it (this instance's consumers and the
 * inbound route): what `/api/v1/integrations/erp/status`, `/readyz` and `/metrics` report.
 */
export class ErpBridgeStatus {
  private readonly topics = new Map<string, TopicStatus>();

  constructor(private readonly now: () => Date) {}

  /** The inbound consumer group's lag per topic (messages not yet committed), while this process runs it on Kafka. */
  lagOf: (() => Promise<Record<string, number>>) | undefined;

  private of(topic: string): TopicStatus {
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

  snapshot(): TopicStatus[] {
    return [...this.topics.values()].map((status) => ({ ...status })).sort((a, b) => a.topic.localeCompare(b.topic));
  }
}
