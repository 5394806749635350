import type { ResourceName } from '../domain/customization/resources.ts';
import { handoverCategory } from '../domain/categories.ts';
import { DomainError } from '../domain/shared/errors.ts';
import type { ReadStore } from '../infra/readstore/port.ts';
import { type CustomerDoc } from '../projections/customers.ts';
import { notify } from './notifications.ts';
import { completeBatch, inBatch, startBatch } from './batches.ts';
import type { Actor, CommandDeps, RequestMeta } from './context.ts';
import { factEvent } from './pipeline.ts';
import { changeCustomerOwner } from './customers.ts';
import { getEmployee } from './employees.ts';
import { changeLeadOwner } from './leads.ts';
import { changeOpportunityOwner } from './opportunities.ts';
import { changeDocumentOwner } from './documents.ts';

/**
 * Handover (离职交接): every record an employee owns moves to another owner, one owner-change event per record.
 * Stream `handover-<id>`: HandoverStarted → HandoverCompleted. Each move carries a request id derived from the
 * handover and the record, so a handover interrupted by a crash is resumed on the next start without moving
 * anything twice. Customers (their contacts follow), leads, opportunities, quotes and orders move; tickets
 * join as they land.
 */
export interface HandoverDeps extends CommandDeps {
  readStore: ReadStore;
  /** Waits until the read models have applied a position (so the next batch sees the moves). */
  waitFor(position: bigint): Promise<void>;
}

const stream = (handoverId: string) => `${handoverCategory}-${handoverId}`;

/** What a handover moves: each owned record type (its read model is named like it), with its owner-change command. Contacts follow customers. */
const movers: { resource: ResourceName; move: (deps: CommandDeps, id: string, ownerId: string, actor: Actor, meta: RequestMeta) => Promise<{ changed: boolean; position: bigint }> }[] = [
  { resource: 'customers', move: changeCustomerOwner },
  { resource: 'leads', move: changeLeadOwner },
  { resource: 'opportunities', move: changeOpportunityOwner },
  { resource: 'quotes', move: (deps, id, ownerId, actor, meta) => changeDocumentOwner(deps, 'quote', id, ownerId, actor, meta) },
  { resource: 'orders', move: (deps, id, ownerId, actor, meta) => changeDocumentOwner(deps, 'order', id, ownerId, actor, meta) },
];
const BATCH = 200;

const handoverBatch = (fromEmployeeId: string, toEmployeeId: string) => ({ kind: 'handover' as const, resource: 'customers', summary: { fromEmployeeId, toEmployeeId } });

export interface HandoverStatus {
  id: string;
  fromEmployeeId: string;
  toEmployeeId: string;
  status: 'running' | 'completed';
  moved: number;
  startedAt: string;
  completedAt?: string;
}

export async function handoverStatus(deps: CommandDeps, handoverId: string): Promise<HandoverStatus | undefined> {
  const events = await deps.eventStore.readStream(stream(handoverId));
  const started = events.find((e) => e.type === 'HandoverStarted');
  if (!started) return undefined;
  const { fromEmployeeId, toEmployeeId } = started.data as { fromEmployeeId: string; toEmployeeId: string };
  const completed = events.find((e) => e.type === 'HandoverCompleted');
  return {
    id: handoverId,
    fromEmployeeId,
    toEmployeeId,
    status: completed ? 'completed' : 'running',
    moved: completed ? (completed.data as { moved: number }).moved : 0,
    startedAt: started.metadata.at,
    ...(completed ? { completedAt: completed.metadata.at } : {}),
  };
}

export async function startHandover(deps: CommandDeps, fromEmployeeId: string, toEmployeeId: string, actor: Actor, meta: RequestMeta): Promise<{ handoverId: string; position: bigint }> {
  if (fromEmployeeId === toEmployeeId) throw new DomainError('handover.same_employee', 'An employee cannot hand over to themselves');
  if (!(await getEmployee(deps, fromEmployeeId))) throw new DomainError('employee.not_found', `Employee ${fromEmployeeId} does not exist`, { employeeId: fromEmployeeId });
  const to = await getEmployee(deps, toEmployeeId);
  if (!to) throw new DomainError('handover.receiver_unknown', `Employee ${toEmployeeId} does not exist`, { toEmployeeId });
  if (to.status === 'disabled') throw new DomainError('handover.receiver_disabled', `Employee ${toEmployeeId} is disabled`, { toEmployeeId });
  const handoverId = meta.ids.newId();
  const result = await deps.eventStore.append(
    stream(handoverId),
    [factEvent(deps, meta, actor.userId, { type: 'HandoverStarted', data: { handoverId, fromEmployeeId, toEmployeeId } })],
    'no_stream',
  );
  // A handover is a batch (its moves carry its id, so it can be undone), under the same id.
  const batch = await startBatch(deps, handoverBatch(fromEmployeeId, toEmployeeId), actor, meta, handoverId);
  return { handoverId, position: batch.position > result.position ? batch.position : result.position };
}

/** Moves everything; safe to run again for the same handover (after a crash, or concurrently). */
export async function runHandover(deps: HandoverDeps, handoverId: string, actor: Actor, meta: (requestId: string) => RequestMeta): Promise<number> {
  const status = await handoverStatus(deps, handoverId);
  if (!status || status.status === 'completed') return status?.moved ?? 0;
  // (A handover an earlier version started becomes a batch when it resumes.)
  await startBatch(deps, handoverBatch(status.fromEmployeeId, status.toEmployeeId), actor, meta(`handover:${handoverId}:batch`), handoverId);
  let moved = 0;
  for (const { resource, move } of movers) {
    for (;;) {
      const owned = await deps.readStore.collection<CustomerDoc>(resource).find({ ownerId: status.fromEmployeeId }, { projection: { _id: 1 }, limit: BATCH });
      if (owned.length === 0) break;
      let last = 0n;
      for (const { _id } of owned) {
        try {
          const result = await move(deps, _id, status.toEmployeeId, actor, inBatch(meta(`handover:${handoverId}:${_id}`), handoverId));
          if (result.changed) moved += 1;
          last = result.position > last ? result.position : last;
        } catch (error) {
          if (!(error instanceof DomainError)) throw error;
        }
      }
      if (last === 0n) break; // nothing in this batch could move: stop rather than spin
      await deps.waitFor(last);
    }
  }
  const events = await deps.eventStore.readStream(stream(handoverId));
  if (events.some((event) => event.type === 'HandoverCompleted')) return moved;
  await completeBatch(deps, handoverId, { records: moved, skipped: 0 }, actor, meta(`handover:${handoverId}:batch-completed`));
  // The receiver hears of it once, however often the handover is run.
  await notify(
    deps,
    {
      recipientId: status.toEmployeeId,
      kind: 'handover.received',
      title: { 'zh-CN': `${moved} 条记录已转交给您`, en: `${moved} records were handed over to you` },
      body: { 'zh-CN': '客户、商机等记录已从离职或调岗的同事转交给您，请及时跟进。', en: 'Customers, opportunities and other records of a colleague who left or moved are yours now; follow them up.' },
      subject: { resource: 'employees', id: status.fromEmployeeId },
    },
    actor,
    meta(`handover:${handoverId}:notify`),
  );
  const completed = `handover:${handoverId}:completed`;
  await deps.eventStore
    .append(stream(handoverId), [factEvent(deps, meta(completed), actor.userId, { type: 'HandoverCompleted', data: { handoverId, moved } }, completed)], events[events.length - 1]!.revision)
    .catch((error: unknown) => {
      if ((error as Error).name !== 'WrongExpectedRevisionError') throw error; // completed by a concurrent run
    });
  return moved;
}

/** Handovers started but not completed (interrupted by a stop or a crash). */
export async function unfinishedHandovers(deps: CommandDeps): Promise<string[]> {
  const events = await deps.eventStore.readAll({ filter: { categories: [handoverCategory] } });
  const open = new Set<string>();
  for (const event of events) {
    const id = (event.data as { handoverId: string }).handoverId;
    if (event.type === 'HandoverStarted') open.add(id);
    if (event.type === 'HandoverCompleted') open.delete(id);
  }
  return [...open];
}
