import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configVariables, loadConfig } from '../../src/infra/config.ts';
import { silentLogger } from '../../src/infra/logger.ts';
import { openServices } from '../../src/app/wiring.ts';

const file = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

/** KEY=value lines of an env file, comments and blanks left out. */
const envFile = (text: string) =>
  Object.fromEntries(
    text
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith('#'))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );

describe('deployment files', () => {
  it('.env.example selects the three production adapters, and the service refuses its example secrets', () => {
    const env = envFile(file('.env.example'));
    expect(() => loadConfig(env)).toThrow(/JWT_SECRET is still the example value[\s\S]*CRM_ADMIN_PASSWORD is still the example value|CRM_ADMIN_PASSWORD is still the example value[\s\S]*JWT_SECRET is still the example value/);
    const config = loadConfig({ ...env, JWT_SECRET: 'x'.repeat(16) + 'a-real-secret-of-our-own', CRM_ADMIN_PASSWORD: 'a-password-of-our-own' });
    expect(config.EVENTSTORE_URL).toMatch(/^kurrentdb:\/\//);
    expect(config.MONGO_URL).toBeUndefined(); // docker compose builds it from MONGO_USER and MONGO_PASSWORD
    expect(config.KAFKA_BROKERS).toBe('kafka:9092');
    // Everything it sets is read by the service, apart from what only docker compose reads.
    expect(Object.keys(env).filter((key) => !configVariables.includes(key)).sort()).toEqual(['CRM_PUBLISHED_PORT', 'MONGO_ANALYTICS_PASSWORD', 'MONGO_ANALYTICS_USER', 'MONGO_PASSWORD', 'MONGO_USER']);
  });

  it('compose publishes only the service: the stores stay on the compose network, MongoDB needs a password', () => {
    const compose = file('docker-compose.yml');
    const published = [...compose.matchAll(/^\s{4}ports:\s*\n\s+- "([^"]+)"/gm)].map((m) => m[1]);
    expect(published).toEqual(['${CRM_PUBLISHED_PORT:-3000}:3000']);
    expect(compose).toMatch(/MONGO_INITDB_ROOT_PASSWORD: \$\{MONGO_PASSWORD:\?/);
    expect(compose).toMatch(/--auth/);
    expect(compose).toMatch(/MONGO_URL: \$\{MONGO_URL:-mongodb:\/\/\$\{MONGO_USER\}:\$\{MONGO_PASSWORD\}@mongo/);
    // The development override publishes them on the loopback interface only.
    for (const line of [...file('docker-compose.dev.yml').matchAll(/- "([^"]+)"/g)].map((m) => m[1]!)) expect(line).toMatch(/^127\.0\.0\.1:/);
  });

  it('docker-compose.yml gives the service only variables it reads, and waits for healthy servers', () => {
    const compose = file('docker-compose.yml');
    const crm = compose.slice(compose.indexOf('\n  crm:'));
    const environment = crm.slice(crm.indexOf('environment:'), crm.indexOf('ports:'));
    const keys = [...environment.matchAll(/^\s{6}([A-Z_]+):/gm)].map((m) => m[1]!);
    expect(keys.length).toBeGreaterThan(4);
    expect(keys.filter((key) => !configVariables.includes(key))).toEqual([]);
    for (const server of ['eventstore', 'mongo', 'kafka']) expect(crm).toMatch(new RegExp(`${server}:\\s+condition: service_healthy`));
  });

  it('Kafka TLS and SASL settings: checked together, every missing one named', () => {
    const config = loadConfig({ KAFKA_BROKERS: 'k1:9093,k2:9093', KAFKA_SSL: 'true', KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'crm', KAFKA_SASL_PASSWORD: 'secret' });
    expect(config).toMatchObject({ KAFKA_SSL: true, KAFKA_SASL_MECHANISM: 'scram-sha-512' });
    expect(loadConfig({}).KAFKA_SSL).toBe(false);
    expect(() => loadConfig({ KAFKA_SASL_USERNAME: 'crm', KAFKA_SSL: 'yes' })).toThrow(
      /KAFKA_SSL: Expected true or false[\s\S]*KAFKA_SASL_MECHANISM: Kafka SASL needs[\s\S]*KAFKA_SASL_PASSWORD: Kafka SASL needs/,
    );
  });

  it('CRM_ROLE: api and worker need a shared read store, and a lease renewed at least three times per time-to-live', () => {
    expect(loadConfig({}).CRM_ROLE).toBe('all');
    expect(loadConfig({ CRM_ROLE: 'worker', MONGO_URL: 'mongodb://db:27017/crm' })).toMatchObject({ CRM_ROLE: 'worker', CRM_LEASE_TTL_MS: 10_000, CRM_LEASE_RENEW_MS: 2_000 });
    expect(() => loadConfig({ CRM_ROLE: 'api' })).toThrow(/CRM_ROLE: CRM_ROLE=api needs a read store other processes share \(MONGO_URL\)/);
    expect(() => loadConfig({ CRM_ROLE: 'leader' })).toThrow(/CRM_ROLE/);
    expect(() => loadConfig({ CRM_ROLE: 'worker', MONGO_URL: 'mongodb://db:27017/crm', CRM_LEASE_TTL_MS: '5000' })).toThrow(/CRM_LEASE_RENEW_MS: CRM_LEASE_RENEW_MS must be at most a third/);
  });

  it('an unreachable MongoDB stops the start with a message naming MONGO_URL', async () => {
    const config = loadConfig({ MONGO_URL: 'mongodb://127.0.0.1:1/crm', LOG_LEVEL: 'error', CRM_ADMIN_PASSWORD: 'admin-password-1' });
    await expect(openServices(config, { logger: silentLogger, inMemory: true })).rejects.toThrow(/cannot reach the read store at MONGO_URL/);
  }, 20_000);
});
