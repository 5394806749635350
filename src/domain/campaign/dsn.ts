/** One recipient's report in a delivery status notification (RFC 3464). */
export interface RecipientStatus {
  recipient: string;
  /** failed, delayed, delivered, relayed, expanded. */
  action: string;
  /** The enhanced status code (RFC 3463): 5.x.x permanent, 4.x.x transient. */
  status: string;
  diagnostic?: string;
}

export interface DeliveryStatusReport {
  /** The Message-ID of the message the report is about (from the returned message or its headers). */
  messageId?: string;
  recipients: RecipientStatus[];
}

/** A header block's fields (continuation lines unfolded), names lower-cased. */
function fields(block: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of block.replace(/\r\n/g, '\n').replace(/\n[ \t]+/g, ' ').split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) out.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return out;
}

const addressOf = (value: string) => value.replace(/^[^;]*;\s*/, '').replace(/^<|>$/g, '').trim();

/**
 * Reads a delivery status notification: a whole `multipart/report` message, or its `message/delivery-status` part
 * alone. Each per-recipient block (it has `Final-Recipient`) gives a recipient's action and status; the Message-ID is
 * the returned message's (after the report: the DSN's own Message-ID, at its top, is not the one it is about).
 * Undefined when the text holds no per-recipient block.
 */
export function parseDeliveryStatus(raw: string): DeliveryStatusReport | undefined {
  const text = raw.replace(/\r\n/g, '\n');
  const first = text.search(/^Final-Recipient:/im);
  if (first === -1) return undefined;
  const recipients: RecipientStatus[] = [];
  for (const block of text.slice(first).split(/\n\s*\n/)) {
    const f = fields(block);
    const final = f.get('final-recipient');
    if (!final) continue;
    const diagnostic = f.get('diagnostic-code');
    recipients.push({ recipient: addressOf(final).toLowerCase(), action: (f.get('action') ?? '').toLowerCase(), status: (f.get('status') ?? '').split(/\s/)[0] ?? '', ...(diagnostic ? { diagnostic: diagnostic.slice(0, 1000) } : {}) });
  }
  const returned = /^(?:Message-ID|X-Original-Message-ID|Original-Message-ID):\s*(<[^>\s]+>)/im.exec(text.slice(first)) ?? /^(?:X-Original-Message-ID|Original-Message-ID):\s*(<[^>\s]+>)/im.exec(text);
  return { ...(returned ? { messageId: returned[1]! } : {}), recipients };
}

/** A permanent failure (hard bounce): the address is not to be mailed again. */
export const isHardBounce = (status: RecipientStatus): boolean => status.action === 'failed' && status.status.startsWith('5');
/** A transient failure or delay (soft bounce). */
export const isSoftBounce = (status: RecipientStatus): boolean => (status.action === 'failed' || status.action === 'delayed') && status.status.startsWith('4');
