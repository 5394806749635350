import { DomainError } from '../shared/errors.ts';
import { applyChanges, diffFields } from '../shared/normalize.ts';
import type { CustomerEvent, CustomerFields } from './events.ts';

export type CustomerState =
  | { status: 'none' }
  | {
      status: 'active' | 'archived';
      customerId: string;
      ownerId: string;
      departmentPath: string;
      fields: CustomerFields;
    };

export type CustomerCommand =
  | { type: 'RegisterCustomer'; customerId: string; ownerId: string; departmentPath: string; fields: CustomerFields }
  | { type: 'ChangeCustomer'; customerId: string; changes: Partial<Record<keyof CustomerFields, unknown>> }
  | { type: 'ChangeCustomerOwner'; customerId: string; ownerId: string; departmentPath: string }
  | { type: 'ArchiveCustomer'; customerId: string; reason?: string }
  | { type: 'RestoreCustomer'; customerId: string };

export const initialState: CustomerState = { status: 'none' };

export function evolve(state: CustomerState, event: CustomerEvent): CustomerState {
  switch (event.type) {
    case 'CustomerRegistered':
      return { status: 'active', ...event.data };
    case 'CustomerChanged':
      return state.status === 'none' ? state : { ...state, fields: applyChanges(state.fields, event.data.changes) };
    case 'CustomerOwnerChanged':
      return state.status === 'none'
        ? state
        : { ...state, ownerId: event.data.ownerId, departmentPath: event.data.departmentPath };
    case 'CustomerArchived':
      return state.status === 'none' ? state : { ...state, status: 'archived' };
    case 'CustomerRestored':
      return state.status === 'none' ? state : { ...state, status: 'active' };
  }
}

const notFound = (customerId: string) =>
  new DomainError('customer.not_found', `Customer ${customerId} does not exist`, { customerId });

export function decide(command: CustomerCommand, state: CustomerState): CustomerEvent[] {
  if (command.type === 'RegisterCustomer') {
    if (state.status !== 'none')
      throw new DomainError('customer.already_exists', `Customer ${command.customerId} already exists`, {
        customerId: command.customerId,
      });
    const { customerId, ownerId, departmentPath, fields } = command;
    return [{ type: 'CustomerRegistered', data: { customerId, ownerId, departmentPath, fields } }];
  }
  if (state.status === 'none') throw notFound(command.customerId);
  switch (command.type) {
    case 'ChangeCustomer': {
      if (state.status === 'archived')
        throw new DomainError('customer.archived', 'An archived customer cannot be changed; restore it first', {
          customerId: state.customerId,
        });
      if (command.changes.name === null)
        throw new DomainError('customer.name_required', 'A customer name cannot be cleared');
      const changes = diffFields(state.fields, command.changes);
      return Object.keys(changes).length === 0
        ? []
        : [{ type: 'CustomerChanged', data: { customerId: state.customerId, changes } }];
    }
    case 'ChangeCustomerOwner':
      if (command.ownerId === state.ownerId && command.departmentPath === state.departmentPath) return [];
      return [
        {
          type: 'CustomerOwnerChanged',
          data: {
            customerId: state.customerId,
            fromOwnerId: state.ownerId,
            ownerId: command.ownerId,
            departmentPath: command.departmentPath,
          },
        },
      ];
    case 'ArchiveCustomer':
      if (state.status === 'archived')
        throw new DomainError('customer.already_archived', 'The customer is already archived', {
          customerId: state.customerId,
        });
      return [
        {
          type: 'CustomerArchived',
          data: { customerId: state.customerId, ...(command.reason ? { reason: command.reason } : {}) },
        },
      ];
    case 'RestoreCustomer':
      if (state.status !== 'archived')
        throw new DomainError('customer.not_archived', 'Only an archived customer can be restored', {
          customerId: state.customerId,
        });
      return [{ type: 'CustomerRestored', data: { customerId: state.customerId } }];
  }
}

export const customerDecider = { initialState, evolve, decide };
