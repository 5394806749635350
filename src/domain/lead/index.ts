import { z } from 'zod';
import { reinstatedState } from '../shared/revert.ts';
import { CustomValues } from '../customization/values.ts';
import { DomainError } from '../shared/errors.ts';
import { diffFields, withChanges } from '../shared/normalize.ts';

/** A lead (线索): a company and a person who may become a customer. */
export const LeadFields = z.object({
  company: z.string().trim().min(1).max(200),
  person: z.string().trim().min(1).max(100),
  phone: z.string().trim().regex(/^[+0-9()\- ]{3,40}$/, 'Expected a phone number').optional(),
  email: z.email().max(320).optional(),
  source: z.string().trim().min(1).max(100).optional(),
  campaignId: z.uuid().optional(),
  notes: z.string().max(10_000).optional(),
  custom: CustomValues.optional(),
});
export type LeadFields = z.infer<typeof LeadFields>;
export type LeadStatus = 'new' | 'working' | 'qualified' | 'disqualified' | 'converted';

export type LeadEvent =
  | { type: 'LeadCreated'; data: { leadId: string; ownerId: string; fields: LeadFields } }
  | { type: 'LeadChanged'; data: { leadId: string; changes: Record<string, unknown> } }
  | { type: 'LeadStatusChanged'; data: { leadId: string; from: LeadStatus; status: 'working' | 'qualified' } }
  | { type: 'LeadDisqualified'; data: { leadId: string; reason: string } }
  | { type: 'LeadConverted'; data: { leadId: string; customerId: string; contactId: string; opportunityId?: string } }
  | { type: 'LeadOwnerChanged'; data: { leadId: string; fromOwnerId: string; ownerId: string } }
  /** An undo took back its creation (an import undone); `LeadReinstated` brings it back as it was. */
  | { type: 'LeadDiscarded'; data: { leadId: string } }
  | { type: 'LeadReinstated'; data: { leadId: string; fields: Record<string, unknown>; state: Record<string, unknown> } };

export type LeadState =
  | { status: 'none' }
  | { status: LeadStatus; leadId: string; ownerId: string; fields: LeadFields; converted?: { customerId: string; contactId: string; opportunityId?: string } };

export type LeadCommand =
  | { type: 'CreateLead'; leadId: string; ownerId: string; fields: LeadFields }
  | { type: 'ChangeLead'; leadId: string; changes: Record<string, unknown> }
  | { type: 'MarkLead'; leadId: string; status: 'working' | 'qualified' }
  | { type: 'DisqualifyLead'; leadId: string; reason: string }
  | { type: 'RecordConversion'; leadId: string; customerId: string; contactId: string; opportunityId?: string }
  | { type: 'ChangeLeadOwner'; leadId: string; ownerId: string };

export const initialState: LeadState = { status: 'none' };

export function evolve(state: LeadState, event: LeadEvent): LeadState {
  if (event.type === 'LeadCreated') return { status: 'new', ...event.data };
  if (event.type === 'LeadReinstated') return reinstatedState<LeadState>(event.data);
  if (event.type === 'LeadDiscarded') return initialState;
  if (state.status === 'none') return state;
  switch (event.type) {
    case 'LeadChanged':
      return withChanges(state, event.data.changes);
    case 'LeadStatusChanged':
      return { ...state, status: event.data.status };
    case 'LeadDisqualified':
      return { ...state, status: 'disqualified' };
    case 'LeadConverted': {
      const { leadId: _id, ...converted } = event.data;
      return { ...state, status: 'converted', converted };
    }
    case 'LeadOwnerChanged':
      return { ...state, ownerId: event.data.ownerId };
  }
}

const open = (status: LeadStatus) => status === 'new' || status === 'working' || status === 'qualified';

/** Whether a lead can be converted (checked by the handler before it creates anything). */
export function assertConvertible(state: LeadState, leadId: string): asserts state is Exclude<LeadState, { status: 'none' }> {
  if (state.status === 'none') throw new DomainError('lead.not_found', `Lead ${leadId} does not exist`, { leadId });
  if (state.status === 'converted') throw new DomainError('lead.already_converted', 'This lead was converted already', { leadId, ...state.converted });
  if (state.status === 'disqualified') throw new DomainError('lead.disqualified', 'A disqualified lead cannot be converted', { leadId });
}

export function decide(command: LeadCommand, state: LeadState): LeadEvent[] {
  if (command.type === 'CreateLead') {
    if (state.status !== 'none') throw new DomainError('lead.already_exists', `Lead ${command.leadId} already exists`);
    return [{ type: 'LeadCreated', data: { leadId: command.leadId, ownerId: command.ownerId, fields: command.fields } }];
  }
  if (state.status === 'none') throw new DomainError('lead.not_found', `Lead ${command.leadId} does not exist`, { leadId: command.leadId });
  const { leadId } = state;
  switch (command.type) {
    case 'ChangeLead': {
      if (!open(state.status)) throw new DomainError('lead.closed', `A ${state.status} lead cannot be changed`, { leadId });
      if (command.changes.company === null || command.changes.person === null) throw new DomainError('lead.field_required', 'company and person cannot be cleared');
      const changes = diffFields(state.fields, command.changes);
      return Object.keys(changes).length ? [{ type: 'LeadChanged', data: { leadId, changes } }] : [];
    }
    case 'MarkLead':
      if (!open(state.status)) throw new DomainError('lead.closed', `A ${state.status} lead cannot be marked ${command.status}`, { leadId });
      return state.status === command.status ? [] : [{ type: 'LeadStatusChanged', data: { leadId, from: state.status, status: command.status } }];
    case 'DisqualifyLead':
      if (!open(state.status)) throw new DomainError('lead.closed', `A ${state.status} lead cannot be disqualified`, { leadId });
      return [{ type: 'LeadDisqualified', data: { leadId, reason: command.reason } }];
    case 'RecordConversion': {
      assertConvertible(state, leadId);
      const { type: _t, ...data } = command;
      return [{ type: 'LeadConverted', data }];
    }
    case 'ChangeLeadOwner':
      return command.ownerId === state.ownerId ? [] : [{ type: 'LeadOwnerChanged', data: { leadId, fromOwnerId: state.ownerId, ownerId: command.ownerId } }];
  }
}

export const leadDecider = { initialState, evolve, decide };
export const leadCategory = 'lead';
export const leadStream = (id: string) => `${leadCategory}-${id}`;
