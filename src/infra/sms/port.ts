/**
 * One text message as Chinese SMS gateways take it: not free text but an approved template (its code) with the
 * values of its parameters, under the company's approved signature (签名).
 */
export interface SmsMessage {
  /** A mobile number: 11 digits in mainland China, or E.164 (`+8613800000000`). */
  to: string;
  templateCode: string;
  params: Record<string, string>;
  /** Default: the service's (SMS_SIGN_NAME). */
  signName?: string;
  /** Our id for the message, sent along so a retried request is recognised by the gateway (idempotency). */
  requestId: string;
}

export interface SentSms {
  /** The gateway's id for the message (its delivery receipts name it). */
  messageId: string;
  /** The gateway's answer, for the send record. */
  response: string;
}

/** The gateway refused the message (a bad number, a template not approved): sending it again will not help. */
export class SmsRejectedError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

/**
 * The SMS port: an HTTP gateway when SMS_URL is set (the generic signed interface in http.ts); embedded, JSON lines
 * in CRM_DATA_DIR/sms-outbox (kept in memory for in-memory tests).
 */
export interface SmsSender {
  readonly description: string;
  send(message: SmsMessage): Promise<SentSms>;
  close(): Promise<void>;
}
