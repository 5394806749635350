import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/infra/logger.ts';
import { SqliteEventStore } from '../../src/infra/eventstore/sqlite.ts';
import { EmbeddedReadStore } from '../../src/infra/readstore/embedded.ts';
import { customersProjection } from '../../src/projections/customers.ts';
import { readModelDigest } from '../../src/projections/digest.ts';
import { ProjectionRunner } from '../../src/projections/runner.ts';
import { type ChildServer, startChildServer, stopChild } from '../support/child.ts';

const PASSWORD = 'crash-test-password';

async function login(server: ChildServer): Promise<string> {
  const response = await fetch(`${server.baseUrl}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: PASSWORD }),
  });
  return ((await response.json()) as { token: string }).token;
}

/** Sends creates from several workers until stopped; returns the ids the server acknowledged with 201. */
function createLoad(server: ChildServer, token: string, prefix: string) {
  const acknowledged: { id: string; name: string }[] = [];
  let running = true;
  let counter = 0;
  const worker = async () => {
    while (running) {
      const name = `${prefix} customer ${counter++}`;
      try {
        const response = await fetch(`${server.baseUrl}/api/v1/customers`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ name, industry: 'Crash testing' }),
        });
        if (response.status === 201) acknowledged.push({ id: ((await response.json()) as { id: string }).id, name });
      } catch {
        return; // the server is gone
      }
    }
  };
  const workers = Array.from({ length: 4 }, worker);
  return {
    acknowledged,
    async stop() {
      running = false;
      await Promise.all(workers);
    },
  };
}

describe('crash safety', () => {
  it('keeps every acknowledged create through kill -9, and read models equal a full rebuild', { timeout: 120_000 }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'crm-crash-'));
    const env = { CRM_DATA_DIR: dataDir, CRM_ADMIN_PASSWORD: PASSWORD };
    const acknowledged: { id: string; name: string }[] = [];

    for (let round = 0; round < 3; round++) {
      const server = await startChildServer(env);
      const token = await login(server);
      const load = createLoad(server, token, `round ${round}`);
      await new Promise((r) => setTimeout(r, 400 + Math.random() * 600));
      await stopChild(server, 'SIGKILL');
      await load.stop();
      expect(load.acknowledged.length).toBeGreaterThan(0);
      acknowledged.push(...load.acknowledged);
    }

    // Restart: every acknowledged customer is readable once the projections caught up.
    const server = await startChildServer(env);
    try {
      const token = await login(server);
      const ready = await fetch(`${server.baseUrl}/readyz`);
      expect(ready.status).toBe(200);
      for (const { id, name } of acknowledged) {
        const response = await fetch(`${server.baseUrl}/api/v1/customers/${id}`, { headers: { authorization: `Bearer ${token}` } });
        expect(response.status, `customer ${id}`).toBe(200);
        expect(((await response.json()) as { name: string }).name).toBe(name);
      }
    } finally {
      await stopChild(server, 'SIGTERM');
    }

    // No event was written twice: one registration per customer id and per name.
    const store = new SqliteEventStore({ path: join(dataDir, 'events.sqlite') });
    const registrations = (await store.readAll({ filter: { eventTypes: ['CustomerRegistered'] } })).map((e) => e.data as { customerId: string; fields: { name: string } });
    expect(new Set(registrations.map((r) => r.customerId)).size).toBe(registrations.length);
    expect(new Set(registrations.map((r) => r.fields.name)).size).toBe(registrations.length);
    expect(registrations.length).toBeGreaterThanOrEqual(acknowledged.length);

    // The read models the server kept equal a full rebuild from the log.
    const kept = new EmbeddedReadStore({ snapshotPath: join(dataDir, 'read-models.snapshot') });
    const rebuilt = new EmbeddedReadStore();
    await new ProjectionRunner(store, rebuilt, [customersProjection], silentLogger).rebuild();
    expect(await readModelDigest(kept, [customersProjection])).toBe(await readModelDigest(rebuilt, [customersProjection]));
    expect(await kept.collection('customers').countDocuments()).toBe(registrations.length);
    await store.close();
  });
});
