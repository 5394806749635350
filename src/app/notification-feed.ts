import { notificationCategory, notificationStream } from '../domain/notification/index.ts';
import type { EventStore, RecordedEvent, Subscription } from '../infra/eventstore/port.ts';
import type { Logger } from '../infra/logger.ts';

type Listener = (event: RecordedEvent) => void;

/**
 * Live notifications for the connected clients of this process: one subscription to the log's notification
 * streams, fanned out by recipient. A client resumes where it left off: `follow` sends what the recipient's
 * stream holds after the revision it last saw, then every new event, in order and without gaps or repeats.
 */
export class NotificationFeed {
  private readonly listeners = new Map<string, Set<Listener>>();
  private subscription: Subscription | undefined;

  constructor(
    private readonly eventStore: EventStore,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    const after = await this.eventStore.headPosition();
    this.subscription = this.eventStore.subscribeToAll(
      { after, filter: { categories: [notificationCategory] } },
      {
        onEvent: (event) => {
          const recipient = event.streamId.slice(notificationCategory.length + 1);
          for (const listener of this.listeners.get(recipient) ?? []) listener(event);
        },
        onError: (error) => this.logger.error('the live notification feed stopped; clients fall back to listing', { error: (error as Error).message }),
      },
    );
  }

  /** Sends `recipientId`'s notification events after revision `after` (all when undefined), then live ones, until the returned function is called. */
  async follow(recipientId: string, after: bigint | undefined, send: Listener): Promise<() => void> {
    let last = after ?? -1n;
    let buffered: RecordedEvent[] | undefined = [];
    const deliver = (event: RecordedEvent) => {
      if (event.revision <= last) return;
      last = event.revision;
      send(event);
    };
    const listener: Listener = (event) => (buffered ? buffered.push(event) : deliver(event));
    const set = this.listeners.get(recipientId) ?? new Set<Listener>();
    set.add(listener);
    this.listeners.set(recipientId, set);
    // Live events are held while the history is read, then delivered after it: none is lost between the two.
    for (const event of await this.eventStore.readStream(notificationStream(recipientId), { fromRevision: last + 1n })) deliver(event);
    for (const event of buffered) deliver(event);
    buffered = undefined;
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(recipientId);
    };
  }

  async stop(): Promise<void> {
    await this.subscription?.close();
  }
}
