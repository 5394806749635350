import type { Logger } from '../infra/logger.ts';

/**
 * Starts a consumer in the background, and again after a pause while its source cannot be reached (Kafka down at
 * start), so the service itself starts regardless. `close` stops it, started or not.
 */
export function keepStarting(name: string, start: () => Promise<{ close(): Promise<void> }>, logger: Logger, retryMs = 10_000): { close(): Promise<void> } {
  let consumer: { close(): Promise<void> } | undefined;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  const attempt = () => {
    start()
      .then(async (started) => {
        if (closed) await started.close();
        else consumer = started;
      })
      .catch((error: unknown) => {
        logger.warn(`the ${name} could not start; trying again`, { error: (error as Error).message, retryInMs: retryMs });
        if (!closed) timer = setTimeout(attempt, retryMs);
      });
  };
  attempt();
  return {
    async close() {
      closed = true;
      clearTimeout(timer);
      await consumer?.close();
    },
  };
}
