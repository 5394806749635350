import { revertFields } from '../shared/revert.ts';
import type { CustomerState } from './decider.ts';
import type { CustomerEvent } from './events.ts';

/**
 * The events that take a customer from `now` back to `before` (an undo): a registration is discarded, a discarded
 * customer reinstated, and otherwise its status, fields and owner are put back with the events a user's own
 * changes write (so every read model and consumer follows them as it follows those).
 */
export function revertCustomer(before: CustomerState, now: CustomerState): CustomerEvent[] {
  if (before.status === 'none') return now.status === 'none' ? [] : [{ type: 'CustomerDiscarded', data: { customerId: now.customerId } }];
  const { customerId } = before;
  if (now.status === 'none') return [{ type: 'CustomerReinstated', data: { customerId, ownerId: before.ownerId, erpCode: before.erpCode, status: before.status, fields: before.fields } }];
  const events: CustomerEvent[] = [];
  // An archived customer takes no changes: restore it first, archive it again last.
  if (now.status === 'archived' && before.status === 'active') events.push({ type: 'CustomerRestored', data: { customerId } });
  const changes = revertFields(now.fields, before.fields);
  if (Object.keys(changes).length) events.push({ type: 'CustomerChanged', data: { customerId, changes } });
  if (now.ownerId !== before.ownerId) {
    if (before.ownerId === null) events.push({ type: 'CustomerReleased', data: { customerId, fromOwnerId: now.ownerId!, reason: 'undo' } });
    else events.push({ type: 'CustomerOwnerChanged', data: { customerId, fromOwnerId: now.ownerId, ownerId: before.ownerId } });
  }
  if (now.status === 'active' && before.status === 'archived') events.push({ type: 'CustomerArchived', data: { customerId, reason: 'undo' } });
  return events;
}
