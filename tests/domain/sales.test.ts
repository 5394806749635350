import { describe, it } from 'vitest';
import { type LeadEvent, leadDecider } from '../../src/domain/lead/index.ts';
import { defaultStages, type OpportunityEvent, opportunityDecider } from '../../src/domain/opportunity/index.ts';
import { type ProductEvent, productDecider } from '../../src/domain/product/index.ts';
import { specFor } from '../support/spec.ts';

describe('product decider', () => {
  const { given } = specFor(productDecider);
  const fields = { code: 'P-1', name: 'Pump', unit: '台', standardPrice: { amount: 100_00, currency: 'CNY' }, taxRate: 13, active: true };
  const created: ProductEvent = { type: 'ProductCreated', data: { productId: 'p', fields } };
  it('creates and changes', () => {
    given([]).when({ type: 'CreateProduct', productId: 'p', fields }).then([created]);
    given([created]).when({ type: 'ChangeProduct', productId: 'p', changes: { active: false, name: 'Pump' } }).then([{ type: 'ProductChanged', data: { productId: 'p', changes: { active: false } } }]);
  });
  it('refuses clearing required fields, a second creation and unknown products', () => {
    given([created]).when({ type: 'ChangeProduct', productId: 'p', changes: { unit: null } }).thenThrows('product.field_required');
    given([created]).when({ type: 'CreateProduct', productId: 'p', fields }).thenThrows('product.already_exists');
    given([]).when({ type: 'ChangeProduct', productId: 'p', changes: {} }).thenThrows('product.not_found');
  });
});

describe('lead decider', () => {
  const { given } = specFor(leadDecider);
  const created: LeadEvent = { type: 'LeadCreated', data: { leadId: 'l', ownerId: 'u', fields: { company: 'Acme', person: 'Li' } } };
  const converted: LeadEvent = { type: 'LeadConverted', data: { leadId: 'l', customerId: 'c', contactId: 'p' } };
  it('moves new → working → qualified', () => {
    given([created]).when({ type: 'MarkLead', leadId: 'l', status: 'working' }).then([{ type: 'LeadStatusChanged', data: { leadId: 'l', from: 'new', status: 'working' } }]);
    given([created, { type: 'LeadStatusChanged', data: { leadId: 'l', from: 'new', status: 'working' } }])
      .when({ type: 'MarkLead', leadId: 'l', status: 'qualified' })
      .then([{ type: 'LeadStatusChanged', data: { leadId: 'l', from: 'working', status: 'qualified' } }]);
  });
  it('disqualifies with a reason; a disqualified lead is closed', () => {
    const disqualified: LeadEvent = { type: 'LeadDisqualified', data: { leadId: 'l', reason: 'no budget' } };
    given([created]).when({ type: 'DisqualifyLead', leadId: 'l', reason: 'no budget' }).then([disqualified]);
    given([created, disqualified]).when({ type: 'MarkLead', leadId: 'l', status: 'working' }).thenThrows('lead.closed');
    given([created, disqualified]).when({ type: 'RecordConversion', leadId: 'l', customerId: 'c', contactId: 'p' }).thenThrows('lead.disqualified');
  });
  it('records one conversion; a second is refused', () => {
    given([created]).when({ type: 'RecordConversion', leadId: 'l', customerId: 'c', contactId: 'p' }).then([converted]);
    given([created, converted]).when({ type: 'RecordConversion', leadId: 'l', customerId: 'c2', contactId: 'p2' }).thenThrows('lead.already_converted');
    given([created, converted]).when({ type: 'ChangeLead', leadId: 'l', changes: { notes: 'x' } }).thenThrows('lead.closed');
  });
  it('changes fields and owner', () => {
    given([created]).when({ type: 'ChangeLead', leadId: 'l', changes: { phone: '123456' } }).then([{ type: 'LeadChanged', data: { leadId: 'l', changes: { phone: '123456' } } }]);
    given([created]).when({ type: 'ChangeLead', leadId: 'l', changes: { company: null } }).thenThrows('lead.field_required');
    given([created]).when({ type: 'ChangeLeadOwner', leadId: 'l', ownerId: 'u' }).thenNothing();
  });
});

describe('opportunity decider', () => {
  const { given } = specFor(opportunityDecider);
  const stages = defaultStages;
  const fields = { name: 'Line 3', customerId: '01900000-0000-7000-8000-000000000001', amount: { amount: 1_000_000, currency: 'CNY' }, expectedCloseDate: '2026-12-31' };
  const created: OpportunityEvent = { type: 'OpportunityCreated', data: { opportunityId: 'o', ownerId: 'u', stage: 'initial_contact', fields } };
  const won: OpportunityEvent = { type: 'OpportunityWon', data: { opportunityId: 'o', from: 'proposal', stage: 'won' } };
  const toProposal: OpportunityEvent = { type: 'OpportunityStageChanged', data: { opportunityId: 'o', from: 'initial_contact', stage: 'proposal' } };
  it('starts in the first open stage, or a given open one', () => {
    given([]).when({ type: 'CreateOpportunity', opportunityId: 'o', ownerId: 'u', fields, stages }).then([created]);
    given([]).when({ type: 'CreateOpportunity', opportunityId: 'o', ownerId: 'u', fields, stages, stage: 'won' }).thenThrows('opportunity.stage_closed');
    given([]).when({ type: 'CreateOpportunity', opportunityId: 'o', ownerId: 'u', fields, stages, stage: 'nope' }).thenThrows('opportunity.stage_unknown');
  });
  it('moves between open stages; closed stages need win or lose', () => {
    given([created]).when({ type: 'MoveStage', opportunityId: 'o', stage: 'proposal', stages }).then([toProposal]);
    given([created]).when({ type: 'MoveStage', opportunityId: 'o', stage: 'initial_contact', stages }).thenNothing();
    given([created]).when({ type: 'MoveStage', opportunityId: 'o', stage: 'lost', stages }).thenThrows('opportunity.stage_closed');
  });
  it('wins, loses with reason and competitor, reopens to the last open stage', () => {
    given([created, toProposal]).when({ type: 'WinOpportunity', opportunityId: 'o', stages }).then([won]);
    given([created]).when({ type: 'LoseOpportunity', opportunityId: 'o', reason: 'price', competitor: 'Rival', stages }).then([
      { type: 'OpportunityLost', data: { opportunityId: 'o', from: 'initial_contact', stage: 'lost', reason: 'price', competitor: 'Rival' } },
    ]);
    given([created, toProposal, won]).when({ type: 'ReopenOpportunity', opportunityId: 'o', stages }).then([{ type: 'OpportunityReopened', data: { opportunityId: 'o', from: 'won', stage: 'proposal' } }]);
  });
  it('refuses changes to a closed opportunity and reopening an open one', () => {
    given([created, won]).when({ type: 'MoveStage', opportunityId: 'o', stage: 'proposal', stages }).thenThrows('opportunity.closed');
    given([created, won]).when({ type: 'WinOpportunity', opportunityId: 'o', stages }).thenThrows('opportunity.closed');
    given([created]).when({ type: 'ReopenOpportunity', opportunityId: 'o', stages }).thenThrows('opportunity.not_closed');
    given([created]).when({ type: 'ChangeOpportunity', opportunityId: 'o', changes: { amount: null } }).thenThrows('opportunity.field_required');
  });
});
