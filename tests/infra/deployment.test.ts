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

/** A top-level service of a compose file, up to the next one. */
function section(compose: string, service: string): string {
  const from = compose.indexOf(`\n  ${service}:\n`);
  if (from < 0) throw new Error(`no service ${service}`);
  const rest = compose.slice(from + 1);
  const next = rest.slice(1).search(/\n {2}[a-z-]+:\n|\n[a-z]+:\n/);
  return next < 0 ? rest : rest.slice(0, next + 1);
}

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

  it('compose publishes only the proxy: the stores and the CRM instances stay on the compose network, MongoDB needs a password', () => {
    const compose = file('docker-compose.yml');
    const published = [...compose.matchAll(/^\s{4}ports:\s*\n\s+- "([^"]+)"/gm)].map((m) => m[1]);
    expect(published).toEqual(['${CRM_PUBLISHED_PORT:-3000}:3000']);
    expect(section(compose, 'proxy')).toMatch(/ports:/);
    expect(compose).toMatch(/MONGO_INITDB_ROOT_PASSWORD: \$\{MONGO_PASSWORD:\?/);
    expect(compose).toMatch(/--auth/);
    expect(compose).toMatch(/MONGO_URL: \$\{MONGO_URL:-mongodb:\/\/\$\{MONGO_USER\}:\$\{MONGO_PASSWORD\}@mongo/);
    // The development override publishes them on the loopback interface only.
    for (const line of [...file('docker-compose.dev.yml').matchAll(/- "([^"]+)"/g)].map((m) => m[1]!)) expect(line).toMatch(/^127\.0\.0\.1:/);
  });

  it('compose scales the CRM out: two API instances behind the proxy and two workers, given only variables they read, after healthy servers', () => {
    const compose = file('docker-compose.yml');
    const api = section(compose, 'api');
    const worker = section(compose, 'worker');
    const environment = api.slice(api.indexOf('environment:'), api.indexOf('deploy:'));
    const keys = [...environment.matchAll(/^\s{6}([A-Z_]+):/gm)].map((m) => m[1]!);
    expect(keys.length).toBeGreaterThan(4);
    expect(keys.filter((key) => !configVariables.includes(key))).toEqual([]);
    expect(environment).toMatch(/CRM_ROLE: api/);
    expect(environment).toMatch(/CRM_TRUST_PROXY: "true"/);
    // The worker shares the API's settings (a YAML merge), its role apart.
    expect(worker).toMatch(/<<: \*crm-environment\s+CRM_ROLE: worker/);
    for (const part of [api, worker]) expect(part).toMatch(/replicas: 2/);
    for (const server of ['eventstore', 'mongo', 'kafka']) expect(api).toMatch(new RegExp(`${server}:\\s+condition: service_healthy`));
    expect(worker).toMatch(/depends_on: \*crm-depends/);
    // The proxy sends to every API instance compose's DNS knows, and retries on another when one is away.
    expect(section(compose, 'proxy')).toMatch(/scripts\/caddy\/Caddyfile:\/etc\/caddy\/Caddyfile/);
    const caddy = file('scripts/caddy/Caddyfile');
    expect(caddy).toMatch(/dynamic a api 3000/);
    expect(caddy).toMatch(/lb_try_duration/);
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
