import { DomainError } from '../shared/errors.ts';
import type { Money } from '../shared/money.ts';
import { diffFields, withChanges } from '../shared/normalize.ts';
import type { CustomerEvent, CustomerFields } from './events.ts';

export type CustomerState =
  | { status: 'none' }
  | {
      /** `merged`: merged into another customer (`mergedInto`); it keeps its fields for history, and takes no writes. */
      status: 'active' | 'archived' | 'merged';
      customerId: string;
      /** null while the customer is in the pool (公海). */
      ownerId: string | null;
      /** The customer's code in the ERP; null until linked. */
      erpCode: string | null;
      fields: CustomerFields;
      /** Its member level (null: none; missing: never evaluated). */
      memberLevel?: string | null;
      /** How often its member level changed (names each change's care task). */
      memberLevelChanges?: number;
      /** The survivor it was merged into, while merged. */
      mergedInto?: string;
      /** Its status when it was merged (what an unmerge returns it to). */
      statusBeforeMerge?: 'active' | 'archived';
    };

export type CustomerCommand =
  /** `erpCode`: registered by the ERP bridge for that ERP record. */
  | { type: 'RegisterCustomer'; customerId: string; ownerId: string; fields: CustomerFields; erpCode?: string }
  | { type: 'LinkCustomerToErp'; customerId: string; erpCode: string | null }
  | { type: 'ChangeCustomer'; customerId: string; changes: Partial<Record<keyof CustomerFields, unknown>> }
  | { type: 'ChangeCustomerOwner'; customerId: string; ownerId: string }
  | { type: 'ReleaseCustomer'; customerId: string; reason: string }
  | { type: 'ClaimCustomer'; customerId: string; ownerId: string }
  | { type: 'ArchiveCustomer'; customerId: string; reason?: string }
  | { type: 'RestoreCustomer'; customerId: string }
  | { type: 'MergeCustomerInto'; customerId: string; survivorId: string }
  | { type: 'NoteMergedIn'; customerId: string; mergedIds: string[] }
  | { type: 'SetMemberLevel'; customerId: string; level: string | null; amount: Money; basis: 'orders' | 'collections'; windowMonths: number };

export const initialState: CustomerState = { status: 'none' };

export function evolve(state: CustomerState, event: CustomerEvent): CustomerState {
  if (event.type === 'CustomerRegistered') return { status: 'active', ...event.data };
  if (event.type === 'CustomerReinstated') {
    const { customerId, ownerId, erpCode, status, fields } = event.data;
    return { status, customerId, ownerId, erpCode, fields };
  }
  if (state.status === 'none') return state;
  switch (event.type) {
    case 'CustomerChanged':
      return withChanges(state, event.data.changes);
    case 'CustomerOwnerChanged':
    case 'CustomerClaimed':
      return { ...state, ownerId: event.data.ownerId };
    case 'CustomerReleased':
      return { ...state, ownerId: null };
    case 'CustomerArchived':
      return { ...state, status: 'archived' };
    case 'CustomerRestored':
      return { ...state, status: 'active' };
    case 'CustomerMemberLevelChanged':
      return { ...state, memberLevel: event.data.memberLevel.to, memberLevelChanges: (state.memberLevelChanges ?? 0) + 1 };
    case 'CustomerDiscarded':
      return { status: 'none' };
    case 'CustomerMerged': {
      const statusBeforeMerge = state.status === 'merged' ? state.statusBeforeMerge : state.status;
      return { ...state, status: 'merged', mergedInto: event.data.survivorId, ...(statusBeforeMerge ? { statusBeforeMerge } : {}) };
    }
    case 'CustomerUnmerged': {
      const { mergedInto: _into, statusBeforeMerge: _was, ...rest } = state;
      return { ...rest, status: event.data.status };
    }
    case 'CustomersMergedIn':
      return state;
    case 'CustomerErpLinked':
      return { ...state, erpCode: event.data.erpCode };
  }
}

const notFound = (customerId: string) => new DomainError('customer.not_found', `Customer ${customerId} does not exist`, { customerId });
const archived = (customerId: string, action: string) =>
  new DomainError('customer.archived', `An archived customer cannot be ${action}; restore it first`, { customerId });

const merged = (customerId: string, survivorId: string | undefined) =>
  new DomainError('customer.merged', `Customer ${customerId} was merged into ${survivorId}; change that one instead`, { customerId, mergedInto: survivorId });

export function decide(command: CustomerCommand, state: CustomerState): CustomerEvent[] {
  if (command.type === 'RegisterCustomer') {
    if (state.status !== 'none')
      throw new DomainError('customer.already_exists', `Customer ${command.customerId} already exists`, { customerId: command.customerId });
    const { customerId, ownerId, fields } = command;
    return [{ type: 'CustomerRegistered', data: { customerId, ownerId, erpCode: command.erpCode ?? null, fields } }];
  }
  if (state.status === 'none') throw notFound(command.customerId);
  const { customerId } = state;
  if (state.status === 'merged') {
    // A merged customer is a pointer to its survivor: nothing changes it but an unmerge (an undo of the merge).
    if (command.type === 'SetMemberLevel') return [];
    throw merged(customerId, state.mergedInto);
  }
  switch (command.type) {
    case 'MergeCustomerInto':
      if (command.survivorId === customerId) throw new DomainError('customer.merge_self', 'A customer cannot be merged into itself', { customerId });
      return [{ type: 'CustomerMerged', data: { customerId, survivorId: command.survivorId } }];
    case 'LinkCustomerToErp':
      return command.erpCode === state.erpCode ? [] : [{ type: 'CustomerErpLinked', data: { customerId, erpCode: command.erpCode, fromErpCode: state.erpCode } }];
    case 'NoteMergedIn':
      return [{ type: 'CustomersMergedIn', data: { customerId, mergedIds: command.mergedIds } }];
    case 'ChangeCustomer': {
      if (state.status === 'archived') throw archived(customerId, 'changed');
      if (command.changes.name === null) throw new DomainError('customer.name_required', 'A customer name cannot be cleared');
      const changes = diffFields(state.fields, command.changes);
      return Object.keys(changes).length === 0 ? [] : [{ type: 'CustomerChanged', data: { customerId, changes } }];
    }
    case 'ChangeCustomerOwner':
      if (command.ownerId === state.ownerId) return [];
      return [{ type: 'CustomerOwnerChanged', data: { customerId, fromOwnerId: state.ownerId, ownerId: command.ownerId } }];
    case 'ReleaseCustomer':
      if (state.status === 'archived') throw archived(customerId, 'released');
      if (state.ownerId === null) throw new DomainError('customer.already_in_pool', 'The customer is already in the pool', { customerId });
      return [{ type: 'CustomerReleased', data: { customerId, fromOwnerId: state.ownerId, reason: command.reason } }];
    case 'ClaimCustomer':
      if (state.status === 'archived') throw archived(customerId, 'claimed');
      if (state.ownerId !== null)
        throw new DomainError('customer.already_claimed', 'Someone else owns this customer already', { customerId });
      return [{ type: 'CustomerClaimed', data: { customerId, ownerId: command.ownerId } }];
    case 'ArchiveCustomer':
      if (state.status === 'archived') throw new DomainError('customer.already_archived', 'The customer is already archived', { customerId });
      return [{ type: 'CustomerArchived', data: { customerId, ...(command.reason ? { reason: command.reason } : {}) } }];
    case 'RestoreCustomer':
      if (state.status !== 'archived') throw new DomainError('customer.not_archived', 'Only an archived customer can be restored', { customerId });
      return [{ type: 'CustomerRestored', data: { customerId } }];
    case 'SetMemberLevel': {
      // Unchanged is no event (evaluating everyone again writes only the changes); an archived customer keeps its level.
      const current = state.memberLevel ?? null;
      if (command.level === current || state.status === 'archived') return [];
      const { amount, basis, windowMonths } = command;
      return [{ type: 'CustomerMemberLevelChanged', data: { customerId, memberLevel: { from: current, to: command.level, amount, basis, windowMonths } } }];
    }
  }
}

export const customerDecider = { initialState, evolve, decide };
