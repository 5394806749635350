import { resourceNames, specOf } from './customization/resources.ts';
import { NotificationRead, NotificationSent } from './notification/index.ts';
import { DigestMailed, RunCompleted, RunScheduled } from './schedule/index.ts';
import { ReportMailed } from './schedule/report-mail.ts';
import { AuditAnchored, EventsExpired } from './audit/index.ts';
import { approvalPolicyEventSchemas } from './approval/policies.ts';
import { approvalEventSchemas } from './approval/index.ts';
import { GateDecided, GateRequested } from './approval/gate.ts';
import { RecordDiscarded, RecordMoved, RecordReinstated } from './shared/revert.ts';
import { automationEventSchemas } from './campaign/automation.ts';
import { batchEventSchemas } from './batch/index.ts';
import { importEventSchemas } from './import/index.ts';
import { erpLinkEventSchemas, ProductErpLinked } from './erp/link.ts';
import { erpFactEventSchemas, ErpOrderAckReceived } from './erp/facts.ts';
import { erpOutboundEventSchemas } from './erp/outbound.ts';
import { z } from 'zod';

const { erpDocumentNumber: _n, known: _k, ...ack } = ErpOrderAckReceived.shape;
const OrderErpAcknowledged = z.object({ ...ack, erpDocumentNumber: z.string() });
import { campaignAudienceEventSchemas, campaignMemberEventSchemas, consentEventSchemas } from './campaign/members.ts';

/**
 * The zod schema of every event type that declares one. Each event is checked against its schema before it is
 * appended (CodecEventStore): a decider that emits a malformed event fails loudly instead of writing a fact no
 * reader can trust. A record type declares its schemas next to its events and names them in its registry entry
 * (`events`); a stream that is no record type (notifications) lists them here.
 */
export const eventSchemas: Readonly<Record<string, z.ZodType>> = {
  NotificationSent,
  NotificationRead,
  RunScheduled,
  RunCompleted,
  ...approvalPolicyEventSchemas,
  ...approvalEventSchemas,
  // Quotes and orders moved by a merge of their customers, and gated by an approval (their other events predate the schemas).
  QuoteMoved: RecordMoved('quoteId'),
  // The creations an undo of an import took back, and brought back.
  ProductDiscarded: RecordDiscarded('productId'),
  ProductReinstated: RecordReinstated('productId'),
  LeadDiscarded: RecordDiscarded('leadId'),
  LeadReinstated: RecordReinstated('leadId'),
  OrderMoved: RecordMoved('orderId'),
  OrderErpAcknowledged: OrderErpAcknowledged,
  QuoteApprovalRequested: GateRequested,
  QuoteApprovalDecided: GateDecided,
  OrderApprovalRequested: GateRequested,
  OrderApprovalDecided: GateDecided,
  DigestMailed,
  ReportMailed,
  // The hash chain's daily anchors, and what retention removed.
  AuditAnchored,
  EventsExpired,
  // A campaign's frozen members, each member's mail and engagement, and the consent ledger.
  ...campaignAudienceEventSchemas,
  ...campaignMemberEventSchemas,
  ...consentEventSchemas,
  // The marketing automations' firings.
  ...automationEventSchemas,
  // Bulk operations (imports, merges, handovers, mass updates, undos).
  ...batchEventSchemas,
  ...importEventSchemas,
  // The ERP bridge's links and sync conflicts, and the products it links.
  ...erpLinkEventSchemas,
  ...erpFactEventSchemas,
  ...erpOutboundEventSchemas,
  ProductErpLinked,
  // Record types declare their events' schemas in the registry (`events`).
  ...Object.assign({}, ...resourceNames.map((name) => specOf(name).events ?? {})),
};

export { upcastData } from './upcasters.ts';

export class EventSchemaError extends Error {
  constructor(
    readonly eventType: string,
    readonly issues: readonly z.core.$ZodIssue[],
  ) {
    super(`A ${eventType} event breaks its schema: ${issues.map((issue) => `${issue.path.join('.') || '(data)'}: ${issue.message}`).join('; ')}`);
    this.name = 'EventSchemaError';
  }
}

/** Throws EventSchemaError when an event of a type with a schema does not match it. */
export function checkEventData(type: string, data: unknown): void {
  const schema = eventSchemas[type];
  if (!schema) return;
  const parsed = schema.safeParse(data);
  if (!parsed.success) throw new EventSchemaError(type, parsed.error.issues);
}
