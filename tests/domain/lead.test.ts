import { describe, expect, it } from 'vitest';
import { fold } from '../../src/domain/shared/decider.ts';
import { assertConvertible, leadDecider, type LeadEvent, type LeadState, leadStream } from '../../src/domain/lead/index.ts';
import { DomainError } from '../../src/domain/shared/errors.ts';
import { specFor } from '../support/spec.ts';

const fields = { company: 'Xinrui', person: 'Zhou', phone: '0512 1234' };
const created: LeadEvent = { type: 'LeadCreated', data: { leadId: 'l', ownerId: 'u', fields } };
const working: LeadEvent = { type: 'LeadStatusChanged', data: { leadId: 'l', from: 'new', status: 'working' } };
const disqualified: LeadEvent = { type: 'LeadDisqualified', data: { leadId: 'l', reason: 'no budget' } };
const converted: LeadEvent = { type: 'LeadConverted', data: { leadId: 'l', customerId: 'c', contactId: 'k' } };
const state = (events: LeadEvent[]) => fold(leadDecider, events) as Extract<LeadState, { leadId: string }>;

describe('lead decider: every decision pinned', () => {
  const { given } = specFor(leadDecider);

  it('creates a new lead once; an unknown one is not found', () => {
    given([]).when({ type: 'CreateLead', leadId: 'l', ownerId: 'u', fields }).then([created]);
    given([created]).when({ type: 'CreateLead', leadId: 'l', ownerId: 'u', fields }).thenThrows('lead.already_exists');
    expect(state([created])).toEqual({ status: 'new', leadId: 'l', ownerId: 'u', fields });
    expect(given([]).when({ type: 'MarkLead', leadId: 'l', status: 'working' }).thenThrows('lead.not_found').details).toEqual({ leadId: 'l' });
  });

  it('changes what differs while open; company and person stay', () => {
    given([created]).when({ type: 'ChangeLead', leadId: 'l', changes: { phone: null, company: 'Xinrui' } }).then([{ type: 'LeadChanged', data: { leadId: 'l', changes: { phone: null } } }]);
    given([created]).when({ type: 'ChangeLead', leadId: 'l', changes: { company: 'Xinrui' } }).thenNothing();
    given([created]).when({ type: 'ChangeLead', leadId: 'l', changes: { company: null } }).thenThrows('lead.field_required');
    given([created]).when({ type: 'ChangeLead', leadId: 'l', changes: { person: null } }).thenThrows('lead.field_required');
    given([created, working]).when({ type: 'ChangeLead', leadId: 'l', changes: { notes: 'x' } }).then([{ type: 'LeadChanged', data: { leadId: 'l', changes: { notes: 'x' } } }]);
    given([created, disqualified]).when({ type: 'ChangeLead', leadId: 'l', changes: { notes: 'x' } }).thenThrows('lead.closed');
    given([created, converted]).when({ type: 'ChangeLead', leadId: 'l', changes: { notes: 'x' } }).thenThrows('lead.closed');
    expect(state([created, { type: 'LeadChanged', data: { leadId: 'l', changes: { phone: null } } }]).fields).toEqual({ company: 'Xinrui', person: 'Zhou' });
  });

  it('is worked on and qualified, each once, while open', () => {
    given([created]).when({ type: 'MarkLead', leadId: 'l', status: 'working' }).then([working]);
    given([created, working]).when({ type: 'MarkLead', leadId: 'l', status: 'working' }).thenNothing();
    given([created, working]).when({ type: 'MarkLead', leadId: 'l', status: 'qualified' }).then([{ type: 'LeadStatusChanged', data: { leadId: 'l', from: 'working', status: 'qualified' } }]);
    given([created]).when({ type: 'MarkLead', leadId: 'l', status: 'qualified' }).then([{ type: 'LeadStatusChanged', data: { leadId: 'l', from: 'new', status: 'qualified' } }]);
    given([created, disqualified]).when({ type: 'MarkLead', leadId: 'l', status: 'working' }).thenThrows('lead.closed');
    expect(state([created, working]).status).toBe('working');
  });

  it('is disqualified once, with a reason, while open', () => {
    given([created, working]).when({ type: 'DisqualifyLead', leadId: 'l', reason: 'no budget' }).then([disqualified]);
    given([created, disqualified]).when({ type: 'DisqualifyLead', leadId: 'l', reason: 'again' }).thenThrows('lead.closed');
    given([created, converted]).when({ type: 'DisqualifyLead', leadId: 'l', reason: 'x' }).thenThrows('lead.closed');
    expect(state([created, disqualified]).status).toBe('disqualified');
  });

  it('records its conversion once, naming what it became; never a disqualified one', () => {
    given([created]).when({ type: 'RecordConversion', leadId: 'l', customerId: 'c', contactId: 'k' }).then([converted]);
    given([created]).when({ type: 'RecordConversion', leadId: 'l', customerId: 'c', contactId: 'k', opportunityId: 'o' }).then([{ type: 'LeadConverted', data: { leadId: 'l', customerId: 'c', contactId: 'k', opportunityId: 'o' } }]);
    const again = given([created, converted]).when({ type: 'RecordConversion', leadId: 'l', customerId: 'c2', contactId: 'k2' }).thenThrows('lead.already_converted');
    expect(again.details).toEqual({ leadId: 'l', customerId: 'c', contactId: 'k' });
    expect(given([created, disqualified]).when({ type: 'RecordConversion', leadId: 'l', customerId: 'c', contactId: 'k' }).thenThrows('lead.disqualified').details).toEqual({ leadId: 'l' });
    expect(state([created, converted])).toMatchObject({ status: 'converted', converted: { customerId: 'c', contactId: 'k' } });
    expect(state([created, converted]).converted).not.toHaveProperty('leadId');
  });

  it('asserts convertibility before anything is created', () => {
    expect(() => assertConvertible(fold(leadDecider, []), 'l')).toThrow(DomainError);
    expect(() => assertConvertible(state([created, working]), 'l')).not.toThrow();
    expect(() => assertConvertible(state([created, { type: 'LeadStatusChanged', data: { leadId: 'l', from: 'working', status: 'qualified' } }]), 'l')).not.toThrow();
  });

  it('changes its owner only to someone else', () => {
    given([created]).when({ type: 'ChangeLeadOwner', leadId: 'l', ownerId: 'u' }).thenNothing();
    const moved: LeadEvent = { type: 'LeadOwnerChanged', data: { leadId: 'l', fromOwnerId: 'u', ownerId: 'v' } };
    given([created]).when({ type: 'ChangeLeadOwner', leadId: 'l', ownerId: 'v' }).then([moved]);
    expect(state([created, moved]).ownerId).toBe('v');
    expect(fold(leadDecider, [moved])).toEqual({ status: 'none' });
    expect(leadStream('l')).toBe('lead-l');
  });
});
