import { describe, expect, it } from 'vitest';
import { fold } from '../../src/domain/shared/decider.ts';
import { defaultStages, opportunityDecider, type OpportunityEvent, type OpportunityState, opportunityStream, type Stage } from '../../src/domain/opportunity/index.ts';
import { specFor } from '../support/spec.ts';

const stages = defaultStages;
const fields = { name: 'Line 2', customerId: '0193a4c2-7f3e-7b1a-9c1d-2f4e6a8b0c11', amount: { amount: 100, currency: 'CNY' }, expectedCloseDate: '2026-12-31' };
const created: OpportunityEvent = { type: 'OpportunityCreated', data: { opportunityId: 'o', ownerId: 'u', stage: 'initial_contact', fields } };
const toProposal: OpportunityEvent = { type: 'OpportunityStageChanged', data: { opportunityId: 'o', from: 'initial_contact', stage: 'proposal' } };
const won: OpportunityEvent = { type: 'OpportunityWon', data: { opportunityId: 'o', from: 'proposal', stage: 'won' } };
const lost: OpportunityEvent = { type: 'OpportunityLost', data: { opportunityId: 'o', from: 'proposal', stage: 'lost', reason: 'price' } };
const state = (events: OpportunityEvent[]) => fold(opportunityDecider, events) as Extract<OpportunityState, { opportunityId: string }>;

describe('opportunity decider: every decision pinned', () => {
  const { given } = specFor(opportunityDecider);

  it('is created once, in the first open stage or a named open one', () => {
    given([]).when({ type: 'CreateOpportunity', opportunityId: 'o', ownerId: 'u', fields, stages, stage: 'proposal' }).then([{ type: 'OpportunityCreated', data: { opportunityId: 'o', ownerId: 'u', stage: 'proposal', fields } }]);
    const reordered: Stage[] = stages.map((s) => (s.key === 'proposal' ? { ...s, order: 1 } : s));
    given([]).when({ type: 'CreateOpportunity', opportunityId: 'o', ownerId: 'u', fields, stages: reordered }).then([{ type: 'OpportunityCreated', data: { opportunityId: 'o', ownerId: 'u', stage: 'proposal', fields } }]);
    given([created]).when({ type: 'CreateOpportunity', opportunityId: 'o', ownerId: 'u', fields, stages }).thenThrows('opportunity.already_exists');
    expect(given([]).when({ type: 'CreateOpportunity', opportunityId: 'o', ownerId: 'u', fields, stages, stage: 'nope' }).thenThrows('opportunity.stage_unknown').details).toEqual({ stage: 'nope' });
    expect(given([]).when({ type: 'CreateOpportunity', opportunityId: 'o', ownerId: 'u', fields, stages, stage: 'lost' }).thenThrows('opportunity.stage_closed').details).toEqual({ stage: 'lost' });
    expect(state([created])).toEqual({ status: 'open', opportunityId: 'o', ownerId: 'u', stage: 'initial_contact', lastOpenStage: 'initial_contact', fields });
  });

  it('an unknown opportunity is not found', () => {
    expect(given([]).when({ type: 'WinOpportunity', opportunityId: 'o', stages }).thenThrows('opportunity.not_found').details).toEqual({ opportunityId: 'o' });
  });

  it('changes what differs while open; the required fields stay', () => {
    given([created]).when({ type: 'ChangeOpportunity', opportunityId: 'o', changes: { notes: 'x', name: 'Line 2' } }).then([{ type: 'OpportunityChanged', data: { opportunityId: 'o', changes: { notes: 'x' } } }]);
    given([created]).when({ type: 'ChangeOpportunity', opportunityId: 'o', changes: { name: 'Line 2' } }).thenNothing();
    for (const field of ['name', 'customerId', 'amount', 'expectedCloseDate'])
      expect(given([created]).when({ type: 'ChangeOpportunity', opportunityId: 'o', changes: { [field]: null } }).thenThrows('opportunity.field_required').details).toEqual({ field });
    given([created]).when({ type: 'ChangeOpportunity', opportunityId: 'o', changes: { notes: null } }).thenNothing();
    expect(given([created, won]).when({ type: 'ChangeOpportunity', opportunityId: 'o', changes: { notes: 'x' } }).thenThrows('opportunity.closed').details).toEqual({ opportunityId: 'o' });
    expect(state([created, { type: 'OpportunityChanged', data: { opportunityId: 'o', changes: { notes: 'x' } } }]).fields).toEqual({ ...fields, notes: 'x' });
  });

  it('moves between open stages, remembering the last open one', () => {
    given([created]).when({ type: 'MoveStage', opportunityId: 'o', stage: 'proposal', stages }).then([toProposal]);
    given([created, toProposal]).when({ type: 'MoveStage', opportunityId: 'o', stage: 'proposal', stages }).thenNothing();
    given([created]).when({ type: 'MoveStage', opportunityId: 'o', stage: 'won', stages }).thenThrows('opportunity.stage_closed');
    given([created]).when({ type: 'MoveStage', opportunityId: 'o', stage: 'nope', stages }).thenThrows('opportunity.stage_unknown');
    given([created, lost]).when({ type: 'MoveStage', opportunityId: 'o', stage: 'proposal', stages }).thenThrows('opportunity.closed');
    expect(state([created, toProposal])).toMatchObject({ status: 'open', stage: 'proposal', lastOpenStage: 'proposal' });
  });

  it('wins or loses from the stage it is in, into the list\'s won or lost stage; the competitor only when named', () => {
    const renamed: Stage[] = stages.map((s) => (s.isWon ? { ...s, key: 'signed' } : s.isClosed ? { ...s, key: 'dropped' } : s));
    given([created, toProposal]).when({ type: 'WinOpportunity', opportunityId: 'o', stages: renamed }).then([{ type: 'OpportunityWon', data: { opportunityId: 'o', from: 'proposal', stage: 'signed' } }]);
    given([created, toProposal]).when({ type: 'LoseOpportunity', opportunityId: 'o', reason: 'price', stages: renamed }).then([{ type: 'OpportunityLost', data: { opportunityId: 'o', from: 'proposal', stage: 'dropped', reason: 'price' } }]);
    given([created, toProposal]).when({ type: 'LoseOpportunity', opportunityId: 'o', reason: 'price', competitor: 'Rival', stages }).then([{ type: 'OpportunityLost', data: { opportunityId: 'o', from: 'proposal', stage: 'lost', reason: 'price', competitor: 'Rival' } }]);
    given([created, toProposal, won]).when({ type: 'LoseOpportunity', opportunityId: 'o', reason: 'x', stages }).thenThrows('opportunity.closed');
    expect(state([created, toProposal, won])).toMatchObject({ status: 'won', stage: 'won', lastOpenStage: 'proposal' });
    expect(state([created, toProposal, lost])).toMatchObject({ status: 'lost', stage: 'lost', lastOpenStage: 'proposal' });
  });

  it('reopens a closed one to its last open stage, or the first open stage if that one is gone', () => {
    given([created, toProposal, lost]).when({ type: 'ReopenOpportunity', opportunityId: 'o', stages }).then([{ type: 'OpportunityReopened', data: { opportunityId: 'o', from: 'lost', stage: 'proposal' } }]);
    const without = stages.filter((s) => s.key !== 'proposal');
    given([created, toProposal, won]).when({ type: 'ReopenOpportunity', opportunityId: 'o', stages: without }).then([{ type: 'OpportunityReopened', data: { opportunityId: 'o', from: 'won', stage: 'initial_contact' } }]);
    const closedNow = stages.map((s) => (s.key === 'proposal' ? { ...s, isClosed: true } : s));
    given([created, toProposal, won]).when({ type: 'ReopenOpportunity', opportunityId: 'o', stages: closedNow }).then([{ type: 'OpportunityReopened', data: { opportunityId: 'o', from: 'won', stage: 'initial_contact' } }]);
    expect(given([created]).when({ type: 'ReopenOpportunity', opportunityId: 'o', stages }).thenThrows('opportunity.not_closed').details).toEqual({ opportunityId: 'o' });
    expect(state([created, toProposal, won, { type: 'OpportunityReopened', data: { opportunityId: 'o', from: 'won', stage: 'proposal' } }])).toMatchObject({ status: 'open', stage: 'proposal' });
  });

  it('changes its owner only to someone else', () => {
    given([created]).when({ type: 'ChangeOpportunityOwner', opportunityId: 'o', ownerId: 'u' }).thenNothing();
    const moved: OpportunityEvent = { type: 'OpportunityOwnerChanged', data: { opportunityId: 'o', fromOwnerId: 'u', ownerId: 'v' } };
    given([created, won]).when({ type: 'ChangeOpportunityOwner', opportunityId: 'o', ownerId: 'v' }).then([moved]);
    expect(state([created, moved]).ownerId).toBe('v');
    expect(fold(opportunityDecider, [moved])).toEqual({ status: 'none' });
    expect(opportunityStream('o')).toBe('opportunity-o');
  });
});
