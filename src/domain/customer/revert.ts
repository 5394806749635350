import { revertFields } from '../shared/revert.ts';
import { evolve, type CustomerState } from './decider.ts';
import type { CustomerEvent } from './events.ts';

type Existing = Exclude<CustomerState, { status: 'none' }>;
/** Active or archived: what a merged customer was before it was merged. */
const own = (state: Existing): 'active' | 'archived' => (state.status === 'merged' ? (state.statusBeforeMerge ?? 'active') : state.status);

/**
 * The events that take a customer from `now` back to `before` (an undo): a registration is discarded, a discarded
 * customer reinstated, a merged one unmerged (and merged again, when an unmerge is undone), and otherwise its
 * status, fields and owner are put back with the events a user's own changes write (so every read model and
 * consumer follows them as it follows those).
 */
export function revertCustomer(before: CustomerState, now: CustomerState): CustomerEvent[] {
  if (before.status === 'none') return now.status === 'none' ? [] : [{ type: 'CustomerDiscarded', data: { customerId: now.customerId } }];
  const { customerId } = before;
  const events: CustomerEvent[] = [];
  const push = (event: CustomerEvent) => {
    events.push(event);
    current = evolve(current, event);
  };
  let current: CustomerState = now;
  if (current.status === 'none') push({ type: 'CustomerReinstated', data: { customerId, ownerId: before.ownerId, erpCode: before.erpCode, status: own(before), fields: before.fields } });
  if (current.status === 'merged' && before.status === 'merged') return events;
  if (current.status === 'merged') push({ type: 'CustomerUnmerged', data: { customerId, status: own(current as Existing) } });
  const is = current as Existing;
  // An archived customer takes no changes: restore it first, archive it again last.
  if (is.status === 'archived' && own(before) === 'active') push({ type: 'CustomerRestored', data: { customerId } });
  const changes = revertFields(is.fields, before.fields);
  if (Object.keys(changes).length) push({ type: 'CustomerChanged', data: { customerId, changes } });
  if (is.ownerId !== before.ownerId) {
    if (before.ownerId === null) push({ type: 'CustomerReleased', data: { customerId, fromOwnerId: is.ownerId!, reason: 'undo' } });
    else push({ type: 'CustomerOwnerChanged', data: { customerId, fromOwnerId: is.ownerId, ownerId: before.ownerId } });
  }
  if (is.status === 'active' && own(before) === 'archived') push({ type: 'CustomerArchived', data: { customerId, reason: 'undo' } });
  if (before.status === 'merged') push({ type: 'CustomerMerged', data: { customerId, survivorId: before.mergedInto! } });
  return events;
}
