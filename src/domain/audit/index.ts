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

/**
 * Retention: the streams whose events expire after a period (login attempts, idempotency keys, notifications);
 * each run records what it removed as an event, so the log itself says why an event is gone.
 */
export const retentionStream = (day: string): string => `${auditAnchorCategory}-retention-${day}`;
export const EventsExpired = z.object({
  category: z.string(),
  /** Events of the category appended before this instant were removed (each stream's last one kept). */
  before: z.iso.datetime(),
  expired: z.number().int().min(0),
});
export type EventsExpired = z.infer<typeof EventsExpired>;
