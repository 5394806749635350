import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { SentSms, SmsMessage, SmsSender } from './port.ts';

/** The embedded default: each message a JSON line in `dir/<day>.jsonl` (one write per message, never half a line). */
export class FileSmsOutbox implements SmsSender {
  readonly description: string;

  constructor(
    private readonly dir: string,
    private readonly signName: string,
    private readonly now: () => Date,
  ) {
    this.description = `sms outbox ${dir}`;
  }

  async send(message: SmsMessage): Promise<SentSms> {
    mkdirSync(this.dir, { recursive: true });
    const at = this.now().toISOString();
    const line = `${JSON.stringify({ at, signName: this.signName, ...message })}\n`;
    appendFileSync(join(this.dir, `${at.slice(0, 10)}.jsonl`), line);
    return { messageId: `outbox-${message.requestId}`, response: 'written to the outbox' };
  }

  async close(): Promise<void> {}
}

/** Keeps messages in memory: for a service started in memory (tests). */
export class MemorySms implements SmsSender {
  readonly description = 'memory';
  readonly sent: (SmsMessage & { signName: string })[] = [];

  constructor(private readonly signName: string) {}

  async send(message: SmsMessage): Promise<SentSms> {
    this.sent.push({ signName: this.signName, ...message });
    return { messageId: `memory-${message.requestId}`, response: 'kept in memory' };
  }

  async close(): Promise<void> {}
}
