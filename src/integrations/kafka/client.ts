import { Kafka, logLevel, type LogEntry, type SASLOptions } from 'kafkajs';
import type { Logger } from '../../infra/logger.ts';

export interface KafkaSettings {
  brokers: string[];
  clientId: string;
  /** TLS to the brokers (with the system's certificate authorities). */
  ssl?: boolean;
  sasl?: SASLOptions;
}

/** A kafkajs client whose own log lines go to our structured logger (warnings and errors only). */
export function kafkaClient(settings: KafkaSettings, logger: Logger): Kafka {
  const log = logger.child({ component: 'kafka' });
  return new Kafka({
    clientId: settings.clientId,
    brokers: settings.brokers,
    ...(settings.ssl ? { ssl: true } : {}),
    ...(settings.sasl ? { sasl: settings.sasl } : {}),
    connectionTimeout: 3000,
    requestTimeout: 10_000,
    retry: { initialRetryTime: 300, maxRetryTime: 5000, retries: 8 },
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log: entry }: LogEntry) => {
        const { message, ...fields } = entry;
        // Expected by design: the relay bounds retries and re-sends a failed batch with a new producer.
        if (message.startsWith('Limiting retries for the idempotent producer')) log.debug(message, fields);
        else if (level <= logLevel.ERROR) log.error(message, fields);
        else log.warn(message, fields);
      },
  });
}
