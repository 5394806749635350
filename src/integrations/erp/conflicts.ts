import { execute, load } from '../../commands/pipeline.ts';
import { type ErpKind, erpLinkCategory, erpLinkDecider, erpLinkStream } from '../../domain/erp/link.ts';
import { DomainError } from '../../domain/shared/errors.ts';
import { adopt, appendDecided, type AnyKind, kindOfLink } from './inbound.ts';
import { stepMeta, type SyncContext } from './inbound-kinds.ts';

/**
 * Settles an open sync conflict. `erp`: an edit conflict writes the ERP's values of the fields in conflict (those
 * the CRM still holds differently); an identity conflict hands the CRM record over to this ERP record (its old link
 * is given up, the ERP's values written, its erpCode changed). `crm`: nothing is written to the CRM record.
 * The CRM writes come first and the link's events last, as for a sync.
 */
export async function resolveSyncConflict(context: SyncContext, linkId: string, conflictId: string, take: 'erp' | 'crm'): Promise<{ recordId: string; position: bigint }> {
  const stream = `${erpLinkCategory}-${linkId}`;
  const loaded = await load(context.deps, erpLinkDecider, stream);
  const { state } = loaded;
  const open = state.open;
  if (!open || open.conflictId !== conflictId || !state.kind || !state.erpCode) throw new DomainError('erp.conflict_closed', `Sync conflict ${conflictId} is not open (settled or replaced by a newer one)`, { conflictId });
  const kind: AnyKind = kindOfLink(state.kind);
  const current = await kind.current(context, open.recordId);
  if (!current || current.mergedInto) throw new DomainError('erp.record_gone', 'The CRM record of this conflict no longer takes writes (removed or merged); the next ERP version links anew', { conflictId, recordId: open.recordId });
  const events = erpLinkDecider.decide({ type: 'ResolveSyncConflict', conflictId, take, current: current.values }, state);
  if (open.reason === 'edited') {
    const resolved = events.find((event) => event.type === 'SyncConflictResolved');
    const changes = resolved?.type === 'SyncConflictResolved' ? resolved.data.changes : {};
    if (Object.keys(changes).length) await kind.write(context, open.recordId, changes);
  } else if (take === 'erp') {
    if (current.erpCode !== null && current.erpCode !== state.erpCode) await giveUp(context, state.kind, current.erpCode);
    await adopt(context, kind, open.recordId, current, open.values, state.erpCode);
  }
  const position = await appendDecided(context, stream, loaded.revision, events);
  return { recordId: open.recordId, position };
}

/** The CRM record's old link is given up: its ERP record links anew with its next version. */
async function giveUp(context: SyncContext, kind: ErpKind, erpCode: string): Promise<void> {
  await execute(context.deps, erpLinkDecider, erpLinkStream(kind, erpCode), { type: 'UnlinkErpRecord', reason: 'relinked' }, context.actor, stepMeta(context.meta, 'unlink'));
}
