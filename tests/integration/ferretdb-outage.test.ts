import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { serverUrl, testDatabaseUrl } from '../support/servers.ts';

const mongo = serverUrl('MONGO_URL');
const servers = new URL('../../.ci/servers.sh', import.meta.url).pathname;

describe.skipIf(!mongo)('the service while FerretDB is down', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ MONGO_URL: testDatabaseUrl() });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('reports it on /readyz, answers reads with 503, keeps taking commands, and catches up when it returns', async () => {
    const token = await app.login();
    const before = await app.request('POST', '/api/v1/customers', { body: { name: `Before the read-store outage ${Date.now()}` }, token });
    expect(before.status).toBe(201);
    execFileSync('bash', [servers, 'ferretdb-stop'], { stdio: 'inherit' });
    let during: { status: number; body: { id: string } };
    try {
      const ready = await app.request('GET', '/readyz', { token: null });
      expect(ready.status).toBe(503);
      expect(ready.body.detail).toMatch(/read store cannot be reached/);
      expect(ready.body.checks).toEqual({ eventStore: 'ok' });
      const list = await app.request('GET', '/api/v1/customers', { token });
      expect(list.status).toBe(503);
      expect(list.headers.get('retry-after')).toBeTruthy();
      during = await app.request('POST', '/api/v1/customers', { body: { name: `During the read-store outage ${Date.now()}` }, token });
      expect(during.status).toBe(201);
    } finally {
      execFileSync('bash', [servers, 'ferretdb-start'], { stdio: 'inherit' });
    }
    await app.services.runner.waitFor(await app.services.eventStore.headPosition(), 30_000);
    expect(app.services.runner.status().filter((s) => s.failed)).toEqual([]);
    const read = await app.request('GET', `/api/v1/customers/${during.body.id}`, { token });
    expect(read.status).toBe(200);
    expect((await app.request('GET', '/readyz', { token: null })).status).toBe(200);
  });
});
