import { DomainError } from '../shared/errors.ts';
import { reinstatedState } from '../shared/revert.ts';
import { diffFields, withChanges } from '../shared/normalize.ts';
import { erasedFields } from '../shared/personal-data.ts';
import type { ContactEvent, ContactFields } from './events.ts';

export type ContactState =
  | { status: 'none' }
  /** `merged`: merged into another contact (`mergedInto`, a duplicate); it takes no changes. */
  | { status: 'active' | 'removed' | 'merged'; contactId: string; customerId: string; fields: ContactFields; erased?: boolean; mergedInto?: string; erpCode?: string | null };

/** What the handler learned about the customer a contact belongs to (or moves to). */
export type CustomerFacts = { customerId: string; exists: boolean; archived: boolean };

export type ContactCommand =
  /** `erpCode`: added by the ERP bridge for that ERP record. */
  | { type: 'AddContact'; contactId: string; customer: CustomerFacts; fields: ContactFields; erpCode?: string }
  | { type: 'LinkContactToErp'; contactId: string; erpCode: string | null }
  | {
      type: 'ChangeContact';
      contactId: string;
      changes: Partial<Record<keyof ContactFields, unknown>>;
      /** Present when the change moves the contact to another customer. */
      moveTo?: CustomerFacts;
    }
  | { type: 'RemoveContact'; contactId: string }
  | { type: 'MergeContactInto'; contactId: string; survivorId: string }
  /** Erases the contact's personal data: `fields` are its personal fields, `subjectId` the subject whose key was destroyed. */
  | { type: 'EraseContactPersonalData'; contactId: string; subjectId: string; fields: string[] };

export const initialState: ContactState = { status: 'none' };

export function evolve(state: ContactState, event: ContactEvent): ContactState {
  switch (event.type) {
    case 'ContactAdded':
      return { status: 'active', ...event.data };
    case 'ContactChanged':
      return state.status === 'none' ? state : withChanges(state, event.data.changes);
    case 'ContactMoved':
      return state.status === 'none' ? state : { ...state, customerId: event.data.customerId };
    case 'ContactRemoved':
      return state.status === 'none' ? state : { ...state, status: 'removed' };
    case 'PersonalDataErased':
      return state.status === 'none' ? state : { ...state, erased: true, fields: erasedFields(state.fields, event.data.fields) };
    case 'ContactDiscarded':
      return initialState;
    case 'ContactReinstated':
      return reinstatedState<ContactState>(event.data);
    case 'ContactMerged':
      return state.status === 'none' ? state : { ...state, status: 'merged', mergedInto: event.data.survivorId };
    case 'ContactErpLinked':
      return state.status === 'none' ? state : { ...state, erpCode: event.data.erpCode };
    case 'ContactUnmerged': {
      if (state.status === 'none') return state;
      const { mergedInto: _into, ...rest } = state;
      return { ...rest, status: 'active' };
    }
  }
}

function assertUsableCustomer(customer: CustomerFacts): void {
  if (!customer.exists)
    throw new DomainError('contact.customer_unknown', `Customer ${customer.customerId} does not exist`, {
      customerId: customer.customerId,
    });
  if (customer.archived)
    throw new DomainError('contact.customer_archived', `Customer ${customer.customerId} is archived`, {
      customerId: customer.customerId,
    });
}

export function decide(command: ContactCommand, state: ContactState): ContactEvent[] {
  if (command.type === 'AddContact') {
    if (state.status !== 'none')
      throw new DomainError('contact.already_exists', `Contact ${command.contactId} already exists`);
    assertUsableCustomer(command.customer);
    return [
      {
        type: 'ContactAdded',
        data: { contactId: command.contactId, customerId: command.customer.customerId, fields: command.fields, ...(command.erpCode ? { erpCode: command.erpCode } : {}) },
      },
    ];
  }
  if (command.type === 'EraseContactPersonalData') {
    if (state.status === 'none') throw new DomainError('contact.not_found', `Contact ${command.contactId} does not exist`, { contactId: command.contactId });
    if (state.erased) throw new DomainError('contact.erased', `The personal data of contact ${command.contactId} was erased already`, { contactId: command.contactId });
    return [{ type: 'PersonalDataErased', data: { contactId: state.contactId, customerId: state.customerId, subjectId: command.subjectId, fields: command.fields } }];
  }
  if (state.status === 'merged')
    throw new DomainError('contact.merged', `Contact ${command.contactId} was merged into ${state.mergedInto}; change that one instead`, { contactId: command.contactId, mergedInto: state.mergedInto });
  if (state.status !== 'active')
    throw new DomainError('contact.not_found', `Contact ${command.contactId} does not exist`, {
      contactId: command.contactId,
    });
  if (state.erased && command.type === 'ChangeContact')
    throw new DomainError('contact.erased', `The personal data of contact ${command.contactId} was erased; the contact can no longer be changed`, { contactId: command.contactId });
  switch (command.type) {
    case 'ChangeContact': {
      if (command.changes.name === null) throw new DomainError('contact.name_required', 'A contact name cannot be cleared');
      const events: ContactEvent[] = [];
      const changes = diffFields(state.fields, command.changes);
      if (Object.keys(changes).length > 0)
        events.push({ type: 'ContactChanged', data: { contactId: state.contactId, changes } });
      if (command.moveTo && command.moveTo.customerId !== state.customerId) {
        assertUsableCustomer(command.moveTo);
        events.push({
          type: 'ContactMoved',
          data: { contactId: state.contactId, fromCustomerId: state.customerId, customerId: command.moveTo.customerId },
        });
      }
      return events;
    }
    case 'LinkContactToErp': {
      const current = state.erpCode ?? null;
      return command.erpCode === current ? [] : [{ type: 'ContactErpLinked', data: { contactId: state.contactId, erpCode: command.erpCode, fromErpCode: current } }];
    }
    case 'RemoveContact':
      return [{ type: 'ContactRemoved', data: { contactId: state.contactId, customerId: state.customerId } }];
    case 'MergeContactInto':
      if (command.survivorId === state.contactId) throw new DomainError('contact.merge_self', 'A contact cannot be merged into itself', { contactId: state.contactId });
      return [{ type: 'ContactMerged', data: { contactId: state.contactId, survivorId: command.survivorId } }];
  }
}

export const contactDecider = { initialState, evolve, decide };
