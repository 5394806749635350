import { describe, expect, it } from 'vitest';
import type { Mailer } from '../../src/infra/mail/port.ts';

/** A message as the receiving side saw it: raw RFC 822 source. */
export type Received = (messageId: string) => Promise<string>;

/** The contract every mail adapter passes: what is sent arrives whole, with its headers, text and attachments. */
export function mailerContract(name: string, create: () => Promise<{ mailer: Mailer; received: Received }>): void {
  describe(`mailer contract: ${name}`, () => {
    it('delivers subject, recipients, text, HTML, extra headers and attachments, with the Message-ID it answers', async () => {
      const { mailer, received } = await create();
      const sent = await mailer.send({
        to: ['王芳 <wang.fang@example.com>'],
        cc: ['li.qiang@example.com'],
        subject: '报价单 Q-2026-001 已发送',
        text: '您好，报价单已发送，请查收。',
        html: '<p>您好，报价单已发送，请查收。</p>',
        headers: { 'List-Unsubscribe': '<https://crm.example.com/u/abc>' },
        attachments: [{ filename: '报价单.csv', content: Buffer.from('line,qty\r\nPUMP-100,2\r\n'), contentType: 'text/csv' }],
      });
      expect(sent.accepted.join(' ')).toContain('wang.fang@example.com');
      expect(sent.accepted.join(' ')).toContain('li.qiang@example.com');
      expect(sent.messageId).toMatch(/^<[^@>]+@[^>]+>$/);
      const source = await received(sent.messageId);
      expect(source).toContain(`Message-ID: ${sent.messageId}`);
      expect(source).toMatch(/^Subject: =\?UTF-8\?/m);
      expect(source).toContain('List-Unsubscribe: <https://crm.example.com/u/abc>');
      expect(source).toContain('wang.fang@example.com');
      expect(source).toContain('Content-Type: text/csv');
      expect(source).toMatch(/Content-Disposition: attachment;/);
      await mailer.close();
    });
  });
}
