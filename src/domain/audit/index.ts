import { z } from 'zod';

/**
 * Daily anchors of the hash chain over the log: once a day the chain's last link is recorded as an event (and so
 * published on `crm.audit.anchor`), so that a party outside the company can hold it. A log rewritten later,
 * chain and all, no longer ends in links its anchors hold.
 */
export const auditAnchorCategory = 'auditAnchor';
/** One anchor per day (the company's day that ended): a second run the same day appends nothing. */
export const auditAnchorStream = (day: string): string => `${auditAnchorCategory}-${day}`;
/** The Kafka topic anchors go to. */
export const AUDIT_ANCHOR_TOPIC = 'crm.audit.anchor';

export const AuditAnchored = z.object({
  /** The company's day that ended (YYYY-MM-DD). */
  day: z.iso.date(),
  /** The position of the last event the anchor covers (decimal: 64-bit). */
  position: z.string().regex(/^\d+$/),
  /** The chain's link at that position, hex (SHA-256). */
  hash: z.string().regex(/^[0-9a-f]{64}$/),
});
export type AuditAnchored = z.infer<typeof AuditAnchored>;
