import { spawn } from 'node:child_process';
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

const serversScript = new URL('../../.ci/servers.sh', import.meta.url).pathname;

/**
 * Runs `.ci/servers.sh <command>` (kafka-stop, ferretdb-start, …) with its output on the test's, without blocking
 * this process: the app under test serves from the same event loop, and a synchronous wait of seconds would
 * freeze it (its keep-alive connections then close under the test's next requests).
 */
export function serversCommand(command: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [serversScript, command], { stdio: 'inherit' });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`.ci/servers.sh ${command} exited with ${code}`))));
  });
}
