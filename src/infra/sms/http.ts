import { createHash, createHmac, randomUUID } from 'node:crypto';
import { type SentSms, type SmsMessage, SmsRejectedError, type SmsSender } from './port.ts';

/** What the gateway answers: `code` "OK" and its message id, or another code and a message. */
interface GatewayAnswer {
  code?: unknown;
  messageId?: unknown;
  message?: unknown;
}

/** The string a request is signed over (see `HttpSmsGateway`). */
export const signedText = (method: string, path: string, timestamp: string, nonce: string, body: string): string =>
  [method, path, timestamp, nonce, createHash('sha256').update(body).digest('hex')].join('\n');

/**
 * An SMS gateway over HTTP, written against the generic interface Chinese SMS gateways share (Aliyun, Tencent
 * Cloud and others differ only in names):
 *
 *   POST <SMS_URL>   Content-Type: application/json
 *   { "to": "13800000000", "signName": "某某公司", "templateCode": "SMS_123", "params": { "name": "张三" }, "requestId": "…" }
 *   X-Sms-Key: <SMS_KEY_ID>   X-Sms-Timestamp: <unix seconds>   X-Sms-Nonce: <random>
 *   X-Sms-Signature: hex(HMAC-SHA256(SMS_SECRET, METHOD \n PATH \n TIMESTAMP \n NONCE \n hex(SHA-256(body))))
 *
 * It answers 200 `{ "code": "OK", "messageId": "…" }`; another code is a refusal (the message is not sent; sending it
 * again will not help), a 5xx or no answer a failure worth another attempt. `requestId` lets the gateway recognise
 * a retried request. An adapter for a gateway with other names maps them here.
 */
export class HttpSmsGateway implements SmsSender {
  readonly description: string;
  private readonly url: URL;

  constructor(
    url: string,
    private readonly keyId: string,
    private readonly secret: string,
    private readonly signName: string,
    private readonly now: () => Date = () => new Date(),
    private readonly timeoutMs = 10_000,
  ) {
    this.url = new URL(url);
    this.description = `sms ${this.url.host}`;
  }

  async send(message: SmsMessage): Promise<SentSms> {
    const body = JSON.stringify({ to: message.to, signName: message.signName ?? this.signName, templateCode: message.templateCode, params: message.params, requestId: message.requestId });
    const timestamp = String(Math.floor(this.now().getTime() / 1000));
    const nonce = randomUUID();
    const signature = createHmac('sha256', this.secret).update(signedText('POST', this.url.pathname, timestamp, nonce, body)).digest('hex');
    const response = await fetch(this.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-sms-key': this.keyId, 'x-sms-timestamp': timestamp, 'x-sms-nonce': nonce, 'x-sms-signature': signature },
      body,
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const text = await response.text();
    if (response.status >= 500) throw new Error(`SMS gateway answered ${response.status}: ${text.slice(0, 200)}`);
    let answer: GatewayAnswer;
    try {
      answer = JSON.parse(text) as GatewayAnswer;
    } catch {
      throw new Error(`SMS gateway answered ${response.status} without JSON: ${text.slice(0, 200)}`);
    }
    if (response.status === 200 && answer.code === 'OK' && typeof answer.messageId === 'string') return { messageId: answer.messageId, response: `${response.status} OK` };
    throw new SmsRejectedError(`SMS gateway refused the message: ${String(answer.message ?? text).slice(0, 300)}`, String(answer.code ?? response.status));
  }

  async close(): Promise<void> {}
}
