import type { Services } from '../../app/wiring.ts';
import { automationSettings, scheduleAutomations } from '../../commands/automation.ts';
import { seededIds } from '../../infra/ids.ts';
import type { EventConsumer } from '../event-source.ts';
import { PUBLISHED_CATEGORIES } from '../kafka/messages.ts';
import { onceByEventId } from '../once.ts';
import { keepStarting } from '../keep-starting.ts';

/** The marketing consumer's group (a Kafka consumer group in production, a checkpoint on the event log embedded). */
export const MARKETING_GROUP = 'crm-marketing-automation';

/**
 * The marketing consumer: reads the published events through `eventSource.consume` (Kafka, or the event log in the
 * embedded default) and schedules what the automation rules (settings `marketing-automation`, read for each event)
 * say to do; the automations' timer does it when it is due. Idempotent twice over: the consumer's inbox skips an
 * event it handled, and a rule's firing for an event is a stream that is written once.
 */
export function startMarketingAutomation(services: Pick<Services, 'deps' | 'eventSource' | 'integrationStore'>, group = MARKETING_GROUP): Promise<EventConsumer> {
  return services.eventSource.consume(
    group,
    PUBLISHED_CATEGORIES,
    onceByEventId(services.integrationStore, group, async (event) => {
      const rules = (await automationSettings.read(services.deps)).value;
      if (rules.length === 0) return;
      const requestId = `automation:${event.id}`;
      // The trace of the request that wrote the event goes on into what the automations write.
      const trace = event.metadata.traceId ? { traceId: event.metadata.traceId } : {};
      await scheduleAutomations(services.deps, rules, event, { correlationId: event.metadata.correlationId, requestId, ids: seededIds(requestId, Date.parse(event.metadata.at)), ...trace });
    }),
  );
}

/** The marketing consumer as the server runs it: started again after a pause while its source cannot be reached. */
export const runMarketingAutomation = (services: Pick<Services, 'deps' | 'eventSource' | 'integrationStore' | 'logger'>, retryMs = 10_000): { close(): Promise<void> } =>
  keepStarting('marketing consumer', () => startMarketingAutomation(services), services.logger, retryMs);
