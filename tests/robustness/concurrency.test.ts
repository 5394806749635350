import { mkdtempSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { adminSession, startChildServer, stopChild } from '../support/child.ts';

describe('concurrency and bounded resources', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => app.close());

  it('50 parallel updates with one If-Match: exactly one succeeds, per revision', async () => {
    const { body } = await app.request('POST', '/api/v1/customers', { body: { name: 'Fifty Writers Co' } });
    for (const revision of [0, 1]) {
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) => app.request('PATCH', `/api/v1/customers/${body.id}`, { body: { notes: `writer ${revision}.${i}` }, headers: { 'if-match': `"${revision}"` } })),
      );
      expect(results.filter((r) => r.status === 200)).toHaveLength(1);
      expect(results.filter((r) => r.status === 412)).toHaveLength(49);
    }
    expect(await app.services.eventStore.readStream(`customer-${body.id}`)).toHaveLength(3);
  });

  it('50 parallel identical requests with one Idempotency-Key: one event, every answer the first or "in progress"', async () => {
    const headers = { 'idempotency-key': 'fifty-identical' };
    const results = await Promise.all(Array.from({ length: 50 }, () => app.request('POST', '/api/v1/customers', { body: { name: 'Idempotent Fifty Co' }, headers })));
    const created = results.filter((r) => r.status === 201);
    expect(new Set(created.map((r) => r.body.id)).size).toBe(1);
    expect(results.every((r) => r.status === 201 || (r.status === 409 && r.body.code === 'idempotency.in_progress'))).toBe(true);
    const registrations = (await app.services.eventStore.readAll({ filter: { eventTypes: ['CustomerRegistered'] } })).filter((e) => (e.data as { fields: { name: string } }).fields.name === 'Idempotent Fifty Co');
    expect(registrations).toHaveLength(1);
    const retry = await app.request('POST', '/api/v1/customers', { body: { name: 'Idempotent Fifty Co' }, headers });
    expect(retry.body.id).toBe(created[0]!.body.id);
  });

  it('stays responsive under abuse: slow clients, oversized bodies, huge pages', { timeout: 60_000 }, async () => {
    // The server runs in its own process, so the abusers here do not share its event loop.
    const server = await startChildServer({ CRM_DATA_DIR: mkdtempSync(join(tmpdir(), 'crm-abuse-')), CRM_ADMIN_PASSWORD: 'abuse-password-1' });
    const baseUrl = server.baseUrl;
    const token = await adminSession(baseUrl, 'abuse-password-1');
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const { port } = new URL(baseUrl);
    // 200 slow clients that send half a request and then nothing (slowloris).
    const sockets: Socket[] = await Promise.all(
      Array.from({ length: 200 }, () => new Promise<Socket>((resolve) => {
        const socket = connect(Number(port), '127.0.0.1', () => {
          socket.write('POST /api/v1/customers HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{"name":');
          resolve(socket);
        });
        socket.on('error', () => {});
      })),
    );
    // Oversized bodies and huge pages at the same time.
    const big = JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024) });
    const abuse = Promise.all([
      ...Array.from({ length: 10 }, () => fetch(`${baseUrl}/api/v1/customers`, { method: 'POST', headers, body: big }).then((r) => r.status).catch(() => 413)),
      ...Array.from({ length: 10 }, () => fetch(`${baseUrl}/api/v1/customers?limit=100000`, { headers }).then((r) => r.status)),
    ]);
    await fetch(`${baseUrl}/healthz`); // a warm connection, as a load balancer keeps one
    const latencies: number[] = [];
    for (let i = 0; i < 10; i++) {
      const started = performance.now();
      const health = await fetch(`${baseUrl}/healthz`);
      latencies.push(performance.now() - started);
      expect(health.status).toBe(200);
    }
    const answers = await abuse;
    expect(answers.slice(0, 10).every((status) => status === 413)).toBe(true);
    expect(answers.slice(10).every((status) => status === 400)).toBe(true);
    expect(Math.max(...latencies)).toBeLessThan(100);
    for (const socket of sockets) socket.destroy();
    await stopChild(server, 'SIGTERM');
  });
});
