/** One e-mail. Addresses are plain `name@domain` or `"Name" <name@domain>`. */
export interface MailMessage {
  to: readonly string[];
  cc?: readonly string[];
  /** Default: the service's sender (CRM_MAIL_FROM). */
  from?: string;
  replyTo?: string;
  subject: string;
  text: string;
  html?: string;
  /** The Message-ID to send with (`<id@domain>`); default: a new one. A resumed send repeats its mail's. */
  messageId?: string;
  /** Extra headers, e.g. `List-Unsubscribe` for marketing mail. */
  headers?: Record<string, string>;
  attachments?: readonly { filename: string; content: Buffer; contentType: string }[];
}

export interface SentMail {
  /** The Message-ID the message was sent with. */
  messageId: string;
  /** Recipients the server accepted (the file outbox accepts every one). */
  accepted: string[];
  rejected: string[];
  /** The server's last answer (`250 2.0.0 Ok: queued as …`), when it gave one. */
  response?: string;
}

/**
 * The mail port: SMTP through nodemailer when SMTP_URL is set; embedded, `.eml` files in CRM_DATA_DIR/outbox,
 * which any mail client opens. Both build the message with nodemailer, so what the outbox holds is what SMTP
 * would have carried.
 */
export interface Mailer {
  /** What the mail goes through, for logs and /readyz details (never a password). */
  readonly description: string;
  send(message: MailMessage): Promise<SentMail>;
  close(): Promise<void>;
}

/** The domain of a sender address (`CRM <crm@example.com>` → `example.com`): what Message-IDs end with. */
export const mailDomain = (from: string): string => /@([^>\s]+)/.exec(from)?.[1] ?? 'localhost';
