import { createHash, randomUUID } from 'node:crypto';
import { withDatabase } from '../../src/infra/readstore/mongo-url.ts';

/**
 * Real servers for the integration suites (.ci/servers.sh starts them and sets the variables). A suite whose
 * server is not configured is skipped with the reason, except under `npm run test:integration`
 * (CRM_REQUIRE_SERVERS=1), where a missing server fails the run instead of skipping quietly.
 */
export function serverUrl(variable: 'MONGO_URL' | 'KAFKA_BROKERS' | 'EVENTSTORE_URL' | 'MAILPIT_SMTP_URL' | 'MAILPIT_API_URL'): string | undefined {
  const value = process.env[variable]?.trim();
  if (value) return value;
  if (process.env.CRM_REQUIRE_SERVERS === '1' && variable !== 'EVENTSTORE_URL')
    throw new Error(`${variable} is unset: run the integration suites with \`npm run test:integration\`, which starts the servers`);
  return undefined;
}

export const skipReason = (variable: string) => `skipped: ${variable} unset`;

/** MONGO_URL naming a database of its own: fresh, or the same one for the same `key`. */
export function testDatabaseUrl(key?: string): string {
  return withDatabase(serverUrl('MONGO_URL')!, `crm_test_${key ? createHash('sha256').update(key).digest('hex').slice(0, 12) : randomUUID().slice(0, 8)}`);
}
