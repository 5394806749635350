import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import { OutboxMailer, SmtpMailer } from '../../src/infra/mail/nodemailer.ts';
import { serverUrl, skipReason } from '../support/servers.ts';
import { mailerContract } from './mailer.contract.ts';

mailerContract('outbox (.eml files)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'crm-outbox-'));
  const mailer = new OutboxMailer(dir, 'CRM <crm@example.com>', () => new Date());
  return {
    mailer,
    received: async (messageId) => {
      const sources = readdirSync(dir).filter((f) => f.endsWith('.eml')).map((f) => readFileSync(join(dir, f), 'utf8'));
      return sources.find((s) => s.includes(messageId)) ?? '';
    },
  };
});

const smtp = serverUrl('MAILPIT_SMTP_URL');
const api = serverUrl('MAILPIT_API_URL');
if (smtp && api)
  mailerContract(`SMTP (Mailpit at ${smtp})`, async () => ({
    mailer: new SmtpMailer(smtp, 'CRM <crm@example.com>'),
    received: async (messageId) => {
      // Mailpit's API: search by Message-ID, then the raw source of the message found.
      for (let attempt = 0; attempt < 50; attempt++) {
        const found = (await (await fetch(`${api}/api/v1/search?query=${encodeURIComponent(`message-id:"${messageId.slice(1, -1)}"`)}`)).json()) as { messages: { ID: string }[] };
        if (found.messages.length) return (await fetch(`${api}/api/v1/message/${found.messages[0]!.ID}/raw`)).text();
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      return '';
    },
  }));
else describe('mailer contract: SMTP', () => it.skip(skipReason('MAILPIT_SMTP_URL'), () => {}));
