import { ConcurrencyConflictError } from '../../commands/errors.ts';
import { execute, load, requestEvents } from '../../commands/pipeline.ts';
import { type ErpKind, type ErpLinkCommand, type ErpLinkEvent, erpLinkDecider, erpLinkStream, type Values } from '../../domain/erp/link.ts';
import { DomainError } from '../../domain/shared/errors.ts';
import { WrongExpectedRevisionError } from '../../infra/eventstore/port.ts';
import { derivedIds } from '../../infra/ids.ts';
import type { z } from 'zod';
import { erpFactDecider, type ErpFactEvent, inventoryStream, orderAckStream, receivableStream } from '../../domain/erp/facts.ts';
import { orderDecider, orderStream } from '../../domain/order/index.ts';
import { erpContract, type ErpInventory, type ErpOrderAck, type ErpReceivable, type InboundTopic, inboundTopics } from './contract.ts';
import { type CrmRecord, type InboundRecordKind, inboundRecordKinds, stepMeta, type SyncContext } from './inbound-kinds.ts';

/** What became of one inbound message. */
export interface InboundResult {
  status: 'applied' | 'unchanged' | 'conflict' | 'rejected';
  recordId?: string;
  /** For a conflict: the conflict to settle (GET /api/v1/integrations/erp/conflicts). */
  conflictId?: string;
  /** Why it was rejected or is in conflict. */
  reason?: string;
}

export type AnyKind = InboundRecordKind<{ erpCode: string; erpVersion: number; retired?: boolean | undefined }>;
const kindOf = (topic: InboundTopic): AnyKind | undefined => (inboundRecordKinds as Partial<Record<InboundTopic, AnyKind>>)[topic];
/** The record kind a link of `kind` belongs to. */
export const kindOfLink = (kind: ErpKind): AnyKind => {
  const found = (Object.values(inboundRecordKinds) as AnyKind[]).find((candidate) => candidate.kind === kind);
  if (!found) throw new Error(`No inbound record kind ${kind}`);
  return found;
};

/**
 * The ERP's answer to an order: recorded on the order (its ERP document number, once per ERP version), then as a fact
 * under the document number. An answer about an order the CRM does not have is kept for the reconciliation report.
 */
async function acknowledge(context: SyncContext, ack: z.infer<typeof ErpOrderAck>): Promise<InboundResult> {
  const { erpCode, erpVersion, orderId, orderVersion, status, reason, at } = ack;
  const meta = (step: string) => ({ ...context.meta, requestId: `erp-in:erp.order-ack:${erpCode}:v${erpVersion}/${step}` });
  const order = await load(context.deps, orderDecider, orderStream(orderId));
  const known = order.state.status !== 'none';
  let changed = false;
  if (known) {
    const acknowledgement = { erpDocumentNumber: erpCode, erpVersion, orderVersion, status, ...(reason ? { reason } : {}), at };
    changed = (await execute(context.deps, orderDecider, orderStream(orderId), { type: 'RecordErpAcknowledgement', orderId, acknowledgement }, context.actor, meta('order'))).changed;
  }
  const fact: ErpFactEvent = { type: 'ErpOrderAckReceived', data: { erpDocumentNumber: erpCode, erpVersion, orderId, orderVersion, status, ...(reason ? { reason } : {}), at, known } };
  const recorded = (await execute(context.deps, erpFactDecider, orderAckStream(erpCode), { type: 'ReportErpFact', event: fact }, context.actor, meta('fact'))).changed;
  if (!known) return { status: 'rejected', reason: `No CRM order ${orderId}: the acknowledgement is kept for the reconciliation report` };
  return { status: changed || recorded ? 'applied' : 'unchanged', recordId: orderId };
}

/** A message that reports a fact (stock, receivables): the stream it goes to and its event. */
function factOf(topic: InboundTopic, value: unknown): { stream: string; key: string; event: ErpFactEvent } | undefined {
  if (topic === 'erp.inventory') {
    const { erpCode, erpVersion, warehouse, quantity, available, asOf } = value as z.infer<typeof ErpInventory>;
    return { stream: inventoryStream(erpCode, warehouse), key: `${erpCode}:${warehouse}`, event: { type: 'ErpInventoryReported', data: { productErpCode: erpCode, warehouse, erpVersion, quantity, ...(available !== undefined ? { available } : {}), asOf } } };
  }
  if (topic === 'erp.receivable') {
    const { erpCode, erpVersion, balance, overdue, asOf } = value as z.infer<typeof ErpReceivable>;
    return { stream: receivableStream(erpCode), key: erpCode, event: { type: 'ErpReceivableReported', data: { customerErpCode: erpCode, erpVersion, balance, ...(overdue ? { overdue } : {}), asOf } } };
  }
  return undefined;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
/** The values of `wanted` that `current` does not hold yet. */
const differences = (current: Values, wanted: Values): Values => Object.fromEntries(Object.entries(wanted).filter(([field, value]) => !same(current[field], value)));

/** Concurrent syncs of the same ERP record: each re-reads and decides again, this many times at most. */
const ATTEMPTS = 5;

/**
 * Applies one inbound message: checked against its topic's schema, then an upsert keyed by its erpCode and made
 * idempotent by its erpVersion through the ERP record's link stream. The CRM record is written first and the link
 * last, so a crash in between is repaired by the next delivery (the three-way merge finds nothing left to write, or
 * the record created is found again by its unique values). Refusals (a value the CRM rules reject) are answers,
 * never exceptions; a failure of the stores is thrown (the message is delivered again).
 */
export async function applyInbound(context: SyncContext, topic: string, value: unknown): Promise<InboundResult> {
  if (!(inboundTopics as readonly string[]).includes(topic)) return { status: 'rejected', reason: `Unknown inbound topic ${topic}; expected one of ${inboundTopics.join(', ')}` };
  const parsed = erpContract[topic as InboundTopic].schema.safeParse(value);
  if (!parsed.success) return { status: 'rejected', reason: `Not a valid ${topic} v${erpContract[topic as InboundTopic].version} value: ${parsed.error.issues.map((issue) => `${issue.path.join('.') || '(value)'}: ${issue.message}`).join('; ')}` };
  if (topic === 'erp.order-ack') return acknowledge(context, parsed.data as z.infer<typeof ErpOrderAck>);
  const fact = factOf(topic as InboundTopic, parsed.data);
  if (fact) {
    const requestId = `erp-in:${topic}:${fact.key}:v${fact.event.data.erpVersion}`;
    const result = await execute(context.deps, erpFactDecider, fact.stream, { type: 'ReportErpFact', event: fact.event }, context.actor, { ...context.meta, requestId });
    return { status: result.changed ? 'applied' : 'unchanged' };
  }
  const kind = kindOf(topic as InboundTopic);
  if (!kind) return { status: 'rejected', reason: `The bridge does not take ${topic} yet` };
  const message = parsed.data as { erpCode: string; erpVersion: number; retired?: boolean };
  const refused = kind.check?.(message);
  if (refused) return { status: 'rejected', reason: refused };
  const references = kind.references ? await kind.references(context, message) : {};
  if (typeof references === 'string') return { status: 'rejected', reason: references };
  // The message names its writes: a redelivery (or the same message posted again) finds what it wrote.
  // Its new records' ids too: a record it created before a crash is created again with the same id (so, not twice).
  const requestId = `erp-in:${topic}:${message.erpCode}:v${message.erpVersion}`;
  const messageContext: SyncContext = { ...context, meta: { ...context.meta, requestId, ids: derivedIds(requestId) } };
  for (let attempt = 1; ; attempt++) {
    try {
      return await syncRecord(messageContext, kind, message, references);
    } catch (error) {
      if (error instanceof DomainError) return { status: 'rejected', reason: `${error.code}: ${error.message}` };
      if (!(error instanceof WrongExpectedRevisionError || error instanceof ConcurrencyConflictError) || attempt >= ATTEMPTS) throw error;
    }
  }
}

async function syncRecord(context: SyncContext, kind: AnyKind, message: { erpCode: string; erpVersion: number; retired?: boolean }, references: Values): Promise<InboundResult> {
  const { erpCode, erpVersion } = message;
  const stream = erpLinkStream(kind.kind, erpCode);
  const loaded = await load(context.deps, erpLinkDecider, stream);
  const { state } = loaded;
  const values = { ...kind.values(message), ...references };
  if (state.erpVersion !== undefined && erpVersion <= state.erpVersion) return { status: 'unchanged', ...(state.status === 'linked' ? { recordId: state.recordId } : {}) };
  const decideAndAppend = (command: ErpLinkCommand) => execute(context.deps, erpLinkDecider, stream, command, context.actor, stepMeta(context.meta, 'erplink'));

  if (state.status === 'linked') {
    const current = await kind.current(context, state.recordId);
    if (current && !current.mergedInto) {
      const events = erpLinkDecider.decide({ type: 'SyncErpRecord', erpVersion, values, current: current.values, conflictId: context.meta.ids.newId() }, state);
      const changes = synced(events);
      if (Object.keys(changes).length) await kind.write(context, state.recordId, changes);
      await appendDecided(context, stream, loaded.revision, events);
      const conflict = events.find((event) => event.type === 'SyncConflict');
      if (conflict) return { status: 'conflict', recordId: state.recordId, conflictId: conflict.data.conflictId, reason: `Changed in the CRM since the last sync: ${conflict.data.fields.map((field) => field.field).join(', ')}` };
      return { status: Object.keys(changes).length ? 'applied' : 'unchanged', recordId: state.recordId };
    }
    // Its record is gone (an undone import) or merged away: it is linked again, as if new.
  }

  const holder = await kind.holder(context, message, values);
  if (holder && !holder.record.mergedInto) {
    if (holder.record.erpCode !== null && holder.record.erpCode !== erpCode) {
      const conflictId = context.meta.ids.newId();
      const result = await decideAndAppend({ type: 'RaiseIdentityConflict', kind: kind.kind, erpCode, erpVersion, values, holderId: holder.recordId, holderErpCode: holder.record.erpCode, field: holder.field, conflictId });
      return result.changed
        ? { status: 'conflict', recordId: holder.recordId, conflictId, reason: `Its ${holder.field} is held by a CRM record linked to the ERP record ${holder.record.erpCode}` }
        : { status: 'unchanged' };
    }
    await adopt(context, kind, holder.recordId, holder.record, values, erpCode);
    await decideAndAppend({ type: 'LinkErpRecord', kind: kind.kind, erpCode, recordId: holder.recordId, erpVersion, values, how: 'matched' });
    return { status: 'applied', recordId: holder.recordId };
  }
  const recordId = await kind.create(context, message, values);
  await decideAndAppend({ type: 'LinkErpRecord', kind: kind.kind, erpCode, recordId, erpVersion, values, how: 'created' });
  return { status: 'applied', recordId };
}

/**
 * A CRM record taken over by an ERP record: the values the ERP has are written (the ERP keeps the master data; what
 * only the CRM knows, such as a phone the ERP lacks, stays), then its erpCode.
 */
export async function adopt(context: SyncContext, kind: AnyKind, recordId: string, record: CrmRecord, values: Values, erpCode: string): Promise<void> {
  const changes = differences(record.values, Object.fromEntries(Object.entries(values).filter(([, value]) => value !== null && value !== undefined)));
  if (Object.keys(changes).length) await kind.write(context, recordId, changes);
  if (record.erpCode !== erpCode) await kind.link(context, recordId, erpCode);
}

const synced = (events: readonly ErpLinkEvent[]): Values => {
  const sync = events.find((event) => event.type === 'ErpRecordSynced');
  return sync ? sync.data.changes : {};
};

/** Events decided before the CRM write, appended after it, still conditional on the revision they were decided on. */
export async function appendDecided(context: SyncContext, stream: string, revision: bigint, events: readonly ErpLinkEvent[]): Promise<bigint> {
  if (events.length === 0) return 0n;
  const { position } = await context.deps.eventStore.append(stream, requestEvents(context.deps, stepMeta(context.meta, 'erplink'), context.actor.userId, stream, events), revision < 0n ? 'no_stream' : revision);
  return position;
}

