import { z } from 'zod';
import { CustomValues } from '../customization/values.ts';
import { DomainError } from '../shared/errors.ts';
import { Money } from '../shared/money.ts';
import { diffFields, withChanges } from '../shared/normalize.ts';
import { firstOpenStage, lostStage, type Stage, wonStage } from './stages.ts';

export * from './stages.ts';

/** An opportunity (商机): a deal with a customer moving through the stages. */
export const OpportunityFields = z.object({
  name: z.string().trim().min(1).max(200),
  customerId: z.uuid(),
  amount: Money,
  expectedCloseDate: z.iso.date(),
  source: z.string().trim().min(1).max(100).optional(),
  campaignId: z.uuid().optional(),
  competitors: z.array(z.uuid()).max(20).optional().describe('The competitors in this deal: ids from /api/v1/competitors'),
  collaborators: z.array(z.uuid()).max(20).optional().describe('Employees selling together with the owner (team selling)'),
  notes: z.string().max(10_000).optional(),
  custom: CustomValues.optional(),
});
export type OpportunityFields = z.infer<typeof OpportunityFields>;

export type OpportunityEvent =
  | { type: 'OpportunityCreated'; data: { opportunityId: string; ownerId: string; stage: string; fields: OpportunityFields } }
  | { type: 'OpportunityChanged'; data: { opportunityId: string; changes: Record<string, unknown> } }
  | { type: 'OpportunityStageChanged'; data: { opportunityId: string; from: string; stage: string } }
  | { type: 'OpportunityWon'; data: { opportunityId: string; from: string; stage: string } }
  | { type: 'OpportunityLost'; data: { opportunityId: string; from: string; stage: string; reason: string; competitor?: string } }
  | { type: 'OpportunityReopened'; data: { opportunityId: string; from: string; stage: string } }
  | { type: 'OpportunityOwnerChanged'; data: { opportunityId: string; fromOwnerId: string; ownerId: string } };

export type OpportunityState =
  | { status: 'none' }
  | { status: 'open' | 'won' | 'lost'; opportunityId: string; ownerId: string; stage: string; lastOpenStage: string; fields: OpportunityFields };

export type OpportunityCommand =
  | { type: 'CreateOpportunity'; opportunityId: string; ownerId: string; fields: OpportunityFields; stages: Stage[]; stage?: string }
  | { type: 'ChangeOpportunity'; opportunityId: string; changes: Record<string, unknown> }
  | { type: 'MoveStage'; opportunityId: string; stage: string; stages: Stage[] }
  | { type: 'WinOpportunity'; opportunityId: string; stages: Stage[] }
  | { type: 'LoseOpportunity'; opportunityId: string; reason: string; competitor?: string; stages: Stage[] }
  | { type: 'ReopenOpportunity'; opportunityId: string; stages: Stage[] }
  | { type: 'ChangeOpportunityOwner'; opportunityId: string; ownerId: string };

export const initialState: OpportunityState = { status: 'none' };

export function evolve(state: OpportunityState, event: OpportunityEvent): OpportunityState {
  if (event.type === 'OpportunityCreated') return { status: 'open', opportunityId: event.data.opportunityId, ownerId: event.data.ownerId, stage: event.data.stage, lastOpenStage: event.data.stage, fields: event.data.fields };
  if (state.status === 'none') return state;
  switch (event.type) {
    case 'OpportunityChanged':
      return withChanges(state, event.data.changes);
    case 'OpportunityStageChanged':
    case 'OpportunityReopened':
      return { ...state, status: 'open', stage: event.data.stage, lastOpenStage: event.data.stage };
    case 'OpportunityWon':
      return { ...state, status: 'won', stage: event.data.stage };
    case 'OpportunityLost':
      return { ...state, status: 'lost', stage: event.data.stage };
    case 'OpportunityOwnerChanged':
      return { ...state, ownerId: event.data.ownerId };
  }
}

function openStage(stages: Stage[], key: string): Stage {
  const stage = stages.find((s) => s.key === key);
  if (!stage) throw new DomainError('opportunity.stage_unknown', `No stage ${key}; see /api/v1/settings/opportunity-stages`, { stage: key });
  if (stage.isClosed) throw new DomainError('opportunity.stage_closed', `${key} closes the opportunity; use /win or /lose`, { stage: key });
  return stage;
}

export function decide(command: OpportunityCommand, state: OpportunityState): OpportunityEvent[] {
  if (command.type === 'CreateOpportunity') {
    if (state.status !== 'none') throw new DomainError('opportunity.already_exists', `Opportunity ${command.opportunityId} already exists`);
    const stage = command.stage ? openStage(command.stages, command.stage) : firstOpenStage(command.stages);
    return [{ type: 'OpportunityCreated', data: { opportunityId: command.opportunityId, ownerId: command.ownerId, stage: stage.key, fields: command.fields } }];
  }
  if (state.status === 'none') throw new DomainError('opportunity.not_found', `Opportunity ${command.opportunityId} does not exist`, { opportunityId: command.opportunityId });
  const { opportunityId } = state;
  const mustBeOpen = () => {
    if (state.status !== 'open') throw new DomainError('opportunity.closed', `The opportunity is ${state.status}; reopen it first`, { opportunityId });
  };
  switch (command.type) {
    case 'ChangeOpportunity': {
      mustBeOpen();
      for (const required of ['name', 'customerId', 'amount', 'expectedCloseDate'])
        if (command.changes[required] === null) throw new DomainError('opportunity.field_required', `${required} cannot be cleared`, { field: required });
      const changes = diffFields(state.fields, command.changes);
      return Object.keys(changes).length ? [{ type: 'OpportunityChanged', data: { opportunityId, changes } }] : [];
    }
    case 'MoveStage': {
      mustBeOpen();
      const stage = openStage(command.stages, command.stage);
      return stage.key === state.stage ? [] : [{ type: 'OpportunityStageChanged', data: { opportunityId, from: state.stage, stage: stage.key } }];
    }
    case 'WinOpportunity':
      mustBeOpen();
      return [{ type: 'OpportunityWon', data: { opportunityId, from: state.stage, stage: wonStage(command.stages).key } }];
    case 'LoseOpportunity':
      mustBeOpen();
      return [{ type: 'OpportunityLost', data: { opportunityId, from: state.stage, stage: lostStage(command.stages).key, reason: command.reason, ...(command.competitor ? { competitor: command.competitor } : {}) } }];
    case 'ReopenOpportunity': {
      if (state.status === 'open') throw new DomainError('opportunity.not_closed', 'Only a won or lost opportunity can be reopened', { opportunityId });
      const back = command.stages.find((s) => s.key === state.lastOpenStage && !s.isClosed) ?? firstOpenStage(command.stages);
      return [{ type: 'OpportunityReopened', data: { opportunityId, from: state.stage, stage: back.key } }];
    }
    case 'ChangeOpportunityOwner':
      return command.ownerId === state.ownerId ? [] : [{ type: 'OpportunityOwnerChanged', data: { opportunityId, fromOwnerId: state.ownerId, ownerId: command.ownerId } }];
  }
}

export const opportunityDecider = { initialState, evolve, decide };
export const opportunityCategory = 'opportunity';
export const opportunityStream = (id: string) => `${opportunityCategory}-${id}`;
