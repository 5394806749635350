import { createHmac } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpSmsGateway, signedText } from '../../src/infra/sms/http.ts';
import { FileSmsOutbox } from '../../src/infra/sms/outbox.ts';
import { SmsRejectedError } from '../../src/infra/sms/port.ts';

const KEY = 'test-key';
const SECRET = 'a-secret-of-the-sms-gateway';

/**
 * A local stand-in for an SMS gateway speaking the generic interface: it checks every request's signature (and
 * refuses a stale timestamp), remembers what it accepted by requestId (a retry gets the same messageId), refuses
 * template `SMS_BAD`, and answers 503 for number 13900000503.
 */
function gatewayStub() {
  const accepted = new Map<string, { to: string; templateCode: string; params: Record<string, string>; signName: string }>();
  const read = (request: IncomingMessage) => new Promise<string>((resolve) => {
    let body = '';
    request.setEncoding('utf8').on('data', (chunk: string) => (body += chunk)).on('end', () => resolve(body));
  });
  const server: Server = createServer(async (request, response) => {
    const body = await read(request);
    const answer = (status: number, json: unknown) => response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json));
    const timestamp = String(request.headers['x-sms-timestamp']);
    const expected = createHmac('sha256', SECRET).update(signedText('POST', request.url!, timestamp, String(request.headers['x-sms-nonce']), body)).digest('hex');
    if (request.headers['x-sms-key'] !== KEY || request.headers['x-sms-signature'] !== expected) return answer(401, { code: 'BadSignature', message: 'signature does not match' });
    if (Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) return answer(401, { code: 'StaleRequest', message: 'timestamp too old' });
    const message = JSON.parse(body) as { to: string; templateCode: string; params: Record<string, string>; signName: string; requestId: string };
    if (message.to === '13900000503') return answer(503, { code: 'Busy' });
    if (message.templateCode === 'SMS_BAD') return answer(400, { code: 'TemplateNotApproved', message: 'template SMS_BAD is not approved' });
    accepted.set(message.requestId, message);
    return answer(200, { code: 'OK', messageId: `gw-${message.requestId}` });
  });
  return { server, accepted };
}

describe('SMS port: the HTTP gateway adapter against a local stub of the generic interface', () => {
  const stub = gatewayStub();
  let url: string;
  beforeAll(async () => {
    await new Promise<void>((resolve) => stub.server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(stub.server.address() as AddressInfo).port}/v1/sms/send`;
  });
  afterAll(async () => new Promise((resolve) => stub.server.close(resolve)));

  it('sends a signed request the gateway verifies, with the signature name, template, parameters and request id', async () => {
    const gateway = new HttpSmsGateway(url, KEY, SECRET, '华星电子');
    const sent = await gateway.send({ to: '13800000000', templateCode: 'SMS_123', params: { name: '张三', code: '8899' }, requestId: 'r-1' });
    expect(sent).toEqual({ messageId: 'gw-r-1', response: '200 OK' });
    expect(stub.accepted.get('r-1')).toMatchObject({ to: '13800000000', signName: '华星电子', templateCode: 'SMS_123', params: { name: '张三', code: '8899' } });
  });

  it('is refused with a wrong secret or a stale clock, and says why', async () => {
    await expect(new HttpSmsGateway(url, KEY, 'not-the-secret-at-all', 'X').send({ to: '13800000000', templateCode: 'SMS_123', params: {}, requestId: 'r-2' })).rejects.toThrow(/BadSignature|signature/);
    const stale = new HttpSmsGateway(url, KEY, SECRET, 'X', () => new Date(Date.now() - 3_600_000));
    await expect(stale.send({ to: '13800000000', templateCode: 'SMS_123', params: {}, requestId: 'r-3' })).rejects.toBeInstanceOf(SmsRejectedError);
  });

  it('tells a refusal (do not retry) from a failure (retry)', async () => {
    const gateway = new HttpSmsGateway(url, KEY, SECRET, 'X');
    const refused = await gateway.send({ to: '13800000000', templateCode: 'SMS_BAD', params: {}, requestId: 'r-4' }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(SmsRejectedError);
    expect((refused as SmsRejectedError).code).toBe('TemplateNotApproved');
    const busy = await gateway.send({ to: '13900000503', templateCode: 'SMS_123', params: {}, requestId: 'r-5' }).catch((error: unknown) => error);
    expect(busy).toBeInstanceOf(Error);
    expect(busy).not.toBeInstanceOf(SmsRejectedError);
    expect(String(busy)).toMatch(/503/);
  });
});

describe('SMS port: the file outbox', () => {
  it('writes each message as one JSON line per day, with the signature name', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crm-sms-'));
    const outbox = new FileSmsOutbox(dir, '华星电子', () => new Date('2027-03-01T02:00:00.000Z'));
    expect(await outbox.send({ to: '13800000000', templateCode: 'SMS_123', params: { name: '张三' }, requestId: 'r-1' })).toMatchObject({ messageId: 'outbox-r-1' });
    await outbox.send({ to: '13800000001', templateCode: 'SMS_123', params: { name: '李四' }, requestId: 'r-2' });
    expect(readdirSync(dir)).toEqual(['2027-03-01.jsonl']);
    const lines = readFileSync(join(dir, '2027-03-01.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toEqual([
      { at: '2027-03-01T02:00:00.000Z', signName: '华星电子', to: '13800000000', templateCode: 'SMS_123', params: { name: '张三' }, requestId: 'r-1' },
      { at: '2027-03-01T02:00:00.000Z', signName: '华星电子', to: '13800000001', templateCode: 'SMS_123', params: { name: '李四' }, requestId: 'r-2' },
    ]);
  });
});
