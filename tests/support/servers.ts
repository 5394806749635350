import { randomUUID } from 'node:crypto';
import { MongoReadStore } from '../../src/infra/readstore/mongo.ts';

/**
 * Real servers for the integration suites (.ci/servers.sh starts them and sets the variables). A suite whose
 * server is not configured is skipped with the reason, except under `npm run test:integration`
 * (CRM_REQUIRE_SERVERS=1), where a missing server fails the run instead of skipping quietly.
 */
export function serverUrl(variable: 'MONGO_URL' | 'KAFKA_BROKERS' | 'EVENTSTORE_URL'): string | undefined {
  const value = process.env[variable]?.trim();
  if (value) return value;
  if (process.env.CRM_REQUIRE_SERVERS === '1' && variable !== 'EVENTSTORE_URL')
    throw new Error(`${variable} is unset: run the integration suites with \`npm run test:integration\`, which starts the servers`);
  return undefined;
}

export const skipReason = (variable: string) => `skipped: ${variable} unset`;

/** A read store on a database of its own, dropped by `dispose`. */
export async function mongoTestStore(url: string): Promise<MongoReadStore & { dispose(): Promise<void> }> {
  const store = await MongoReadStore.connect(url, { database: `crm_test_${randomUUID().slice(0, 8)}` });
  return Object.assign(store, {
    async dispose() {
      await store.dropDatabase();
      await store.close();
    },
  });
}
