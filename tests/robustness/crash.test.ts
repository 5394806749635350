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
import { adminSession, type ChildServer, startChildServer, stopChild } from '../support/child.ts';

const PASSWORD = 'crash-test-password';

const login = (server: ChildServer): Promise<string> => adminSession(server.baseUrl, PASSWORD);

type Acknowledged = { id: string; name: string; sent: string[]; acknowledgedUpdates: string[] };

/**
 * Sends creates and updates from several workers until stopped; returns what the server acknowledged: each
 * customer with its name, the industries sent to it and those whose update was acknowledged.
 */
function createLoad(server: ChildServer, token: string, prefix: string, known: Acknowledged[]) {
  const acknowledged: Acknowledged[] = [];
  let running = true;
  let counter = 0;
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
  const worker = async () => {
    while (running) {
      const n = counter++;
      try {
        const pool = [...known, ...acknowledged];
        const existing = n % 3 === 2 ? pool[Math.floor(Math.random() * pool.length)] : undefined;
        if (existing) {
          const industry = `Updated ${n}`;
          existing.sent.push(industry);
          const response = await fetch(`${server.baseUrl}/api/v1/customers/${existing.id}`, { method: 'PATCH', headers, body: JSON.stringify({ industry }) });
          if (response.status === 200) existing.acknowledgedUpdates.push(industry);
          continue;
        }
        const name = `${prefix} customer ${n}`;
        const response = await fetch(`${server.baseUrl}/api/v1/customers`, { method: 'POST', headers, body: JSON.stringify({ name, industry: 'Crash testing' }) });
        if (response.status === 201) acknowledged.push({ id: ((await response.json()) as { id: string }).id, name, sent: ['Crash testing'], acknowledgedUpdates: [] });
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
  it('keeps every acknowledged create and update through 5 kill -9s, and read models equal a full rebuild', { timeout: 180_000 }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'crm-crash-'));
    const env = { CRM_DATA_DIR: dataDir, CRM_ADMIN_PASSWORD: PASSWORD };
    const acknowledged: Acknowledged[] = [];
    /** Every acknowledged create and update is in the customer's history; its current value is one that was sent. */
    const check = async (server: ChildServer, token: string, customers: Acknowledged[]) => {
      for (const { id, name, sent, acknowledgedUpdates } of customers) {
        const response = await fetch(`${server.baseUrl}/api/v1/customers/${id}/history?limit=1000`, { headers: { authorization: `Bearer ${token}` } });
        expect(response.status, `customer ${id}`).toBe(200);
        const items = ((await response.json()) as { items: { data: { fields?: { name: string; industry?: string }; changes?: { industry?: string } } }[] }).items;
        expect(items[0]!.data.fields!.name).toBe(name);
        const industries = items.map((i) => i.data.fields?.industry ?? i.data.changes?.industry).filter(Boolean);
        for (const update of acknowledgedUpdates) expect(industries).toContain(update);
        expect(sent).toContain(industries[industries.length - 1]);
      }
    };

    for (let round = 0; round < 5; round++) {
      const server = await startChildServer(env);
      const token = await login(server);
      await check(server, token, acknowledged);
      const load = createLoad(server, token, `round ${round}`, acknowledged);
      await new Promise((r) => setTimeout(r, 300 + Math.random() * 700));
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
      await check(server, token, acknowledged);
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
    const all = await store.readAll({});
    expect(new Set(all.map((e) => e.id)).size).toBe(all.length);
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
