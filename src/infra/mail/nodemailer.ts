import { randomUUID } from 'node:crypto';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import nodemailer, { type Transporter } from 'nodemailer';
import { type Mailer, mailDomain, type MailMessage, type SentMail } from './port.ts';

const addresses = (list: readonly string[] | undefined) => (list && list.length ? [...list] : undefined);

/** nodemailer's message object for a port message. */
function envelope(message: MailMessage, defaultFrom: string, domain: string) {
  return {
    from: message.from ?? defaultFrom,
    to: [...message.to],
    cc: addresses(message.cc),
    replyTo: message.replyTo,
    subject: message.subject,
    text: message.text,
    html: message.html,
    headers: message.headers,
    attachments: message.attachments?.map((a) => ({ filename: a.filename, content: a.content, contentType: a.contentType })),
    messageId: message.messageId ?? `<${randomUUID()}@${domain}>`,
  };
}


/** SMTP through nodemailer (SMTP_URL: smtp:// or smtps://, credentials in the URL). */
export class SmtpMailer implements Mailer {
  readonly description: string;
  private readonly transport: Transporter;

  constructor(
    url: string,
    private readonly from: string,
    /** Connections kept open at most (a campaign's mails in flight). */
    maxConnections = 5,
  ) {
    const parsed = new URL(url);
    this.description = `smtp ${parsed.hostname}:${parsed.port || (parsed.protocol === 'smtps:' ? 465 : 587)}`;
    // Pooled: a campaign's batch reuses a few connections instead of one handshake per mail.
    const pooled = new URL(url);
    pooled.searchParams.set('pool', 'true');
    pooled.searchParams.set('maxConnections', String(maxConnections));
    pooled.searchParams.set('maxMessages', '1000');
    this.transport = nodemailer.createTransport(pooled.toString());
  }

  async send(message: MailMessage): Promise<SentMail> {
    const mail = envelope(message, this.from, mailDomain(this.from));
    const info = await this.transport.sendMail(mail);
    return { messageId: mail.messageId, accepted: (info.accepted ?? []).map(String), rejected: (info.rejected ?? []).map(String), ...(info.response ? { response: String(info.response) } : {}) };
  }

  async close(): Promise<void> {
    this.transport.close();
  }
}

/** The embedded default: each message an RFC 822 `.eml` file in `dir`, written atomically. */
export class OutboxMailer implements Mailer {
  readonly description: string;
  private readonly transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' });

  constructor(
    private readonly dir: string,
    private readonly from: string,
    private readonly now: () => Date,
  ) {
    this.description = `outbox ${dir}`;
  }

  async send(message: MailMessage): Promise<SentMail> {
    const mail = envelope(message, this.from, mailDomain(this.from));
    const info = (await this.transport.sendMail(mail)) as unknown as { message: Buffer };
    mkdirSync(this.dir, { recursive: true });
    const name = `${this.now().toISOString().replace(/[:.]/g, '-')}-${randomUUID().slice(0, 8)}.eml`;
    const temporary = join(this.dir, `.${name}.tmp`);
    writeFileSync(temporary, info.message);
    renameSync(temporary, join(this.dir, name));
    const all = [...message.to, ...(message.cc ?? [])];
    return { messageId: mail.messageId, accepted: all, rejected: [] };
  }

  async close(): Promise<void> {}
}
