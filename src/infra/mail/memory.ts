import { randomUUID } from 'node:crypto';
import type { Mailer, MailMessage, SentMail } from './port.ts';

/** Keeps sent mail in memory: for a service started in memory (tests), where no outbox directory exists. */
export class MemoryMailer implements Mailer {
  readonly description = 'memory';
  readonly sent: (MailMessage & { messageId: string })[] = [];

  async send(message: MailMessage): Promise<SentMail> {
    const messageId = message.messageId ?? `<${randomUUID()}@memory>`;
    this.sent.push({ ...message, messageId });
    return { messageId, accepted: [...message.to, ...(message.cc ?? [])], rejected: [] };
  }

  async close(): Promise<void> {}
}
