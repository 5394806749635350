import { mkdtempSync } from 'node:fs';
import { type ClientRequest, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { adminSession, startChildServer } from '../support/child.ts';
import { logEntry } from '../support/logs.ts';

/** A POST whose body is sent in two parts, the second when `finish` is called; answers the response's status and body. */
function slowPost(baseUrl: string, path: string, token: string, body: unknown): { finish(): void; response: Promise<{ status: number; body: string }>; request: ClientRequest } {
  const text = Buffer.from(JSON.stringify(body));
  const url = new URL(path, baseUrl);
  let req!: ClientRequest;
  const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req = request(url, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': String(text.length) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
  req.write(text.subarray(0, 10));
  return { finish: () => req.end(text.subarray(10)), response, request: req };
}

describe('graceful shutdown', () => {
  it('on SIGTERM refuses new connections, lets requests in flight finish within the grace period (cutting off the rest), and loses no answered write', { timeout: 90_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crm-shutdown-'));
    const env = { CRM_DATA_DIR: dir, CRM_ADMIN_PASSWORD: 'shutdown-admin-1', CRM_SHUTDOWN_GRACE_MS: '2000' };
    const server = await startChildServer(env);
    const token = await adminSession(server.baseUrl, 'shutdown-admin-1');
    const finishing = slowPost(server.baseUrl, '/api/v1/customers', token, { name: '停机前的客户' });
    const stuck = slowPost(server.baseUrl, '/api/v1/customers', token, { name: '永远发不完' });
    // Both requests are in flight (their bodies half sent) when the signal comes.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const exited = new Promise<number | null>((resolve) => server.process.once('exit', resolve));
    const signalled = Date.now();
    server.process.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 300));
    await expect(fetch(`${server.baseUrl}/healthz`)).rejects.toThrow();
    finishing.finish();
    const answered = await finishing.response;
    expect(answered.status, answered.body).toBe(201);
    const customerId = (JSON.parse(answered.body) as { id: string }).id;
    // The stuck one is cut off when the grace period ends; the service then closes and exits cleanly.
    await expect(stuck.response).rejects.toThrow();
    expect(await exited).toBe(0);
    const took = Date.now() - signalled;
    expect(took).toBeGreaterThanOrEqual(1_900);
    expect(logEntry(server.output.join(''), 'requests still in flight at the end of the grace period were cut off')).toMatchObject({ inFlight: 1 });
    // The answered write is in the log: the restarted service has the customer.
    const again = await startChildServer(env);
    try {
      const admin = await adminSession(again.baseUrl, 'shutdown-admin-1');
      const read = await fetch(`${again.baseUrl}/api/v1/customers/${customerId}`, { headers: { authorization: `Bearer ${admin}` } });
      expect(read.status).toBe(200);
      expect(((await read.json()) as { name: string }).name).toBe('停机前的客户');
    } finally {
      again.process.kill('SIGTERM');
      await new Promise((resolve) => again.process.once('exit', resolve));
    }
  });
});
