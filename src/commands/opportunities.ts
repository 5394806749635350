import { customerDecider, customerStream } from '../domain/customer/index.ts';
import { defaultStages, type OpportunityCommand, type OpportunityFields, type OpportunityState, type Stage } from '../domain/opportunity/index.ts';
import { DomainError } from '../domain/shared/errors.ts';
import type { Actor, CommandDeps, RequestMeta } from './context.ts';
import { assertOwner } from './customers.ts';
import { getEmployee } from './employees.ts';
import { load } from './pipeline.ts';
import { RecordHandler, type RecordRules } from './record-handler.ts';
import { readSetting, writeSetting } from './settings.ts';

const STAGES_KEY = 'opportunity-stages';

export async function opportunityStages(deps: CommandDeps): Promise<{ stages: Stage[]; revision: bigint }> {
  const { value, revision } = await readSetting<Stage[]>(deps, STAGES_KEY);
  return { stages: value ?? defaultStages, revision };
}

/** Replaces the stage list. A stage that open opportunities may still be in is kept in history by key. */
export const putOpportunityStages = (deps: CommandDeps, stages: Stage[], actor: Actor, meta: RequestMeta) => writeSetting(deps, STAGES_KEY, stages, actor, meta);

export const opportunityRules: RecordRules<OpportunityCommand, OpportunityState> = {
  resource: 'opportunities',
};

const opportunities = (deps: CommandDeps, actor: Actor, meta: RequestMeta) => new RecordHandler(opportunityRules, deps, actor, meta);

async function assertCustomerUsable(deps: CommandDeps, customerId: string): Promise<void> {
  const { state } = await load(deps, customerDecider, customerStream(customerId));
  if (state.status === 'none') throw new DomainError('opportunity.customer_unknown', `Customer ${customerId} does not exist`, { customerId });
  if (state.status === 'archived') throw new DomainError('opportunity.customer_archived', `Customer ${customerId} is archived`, { customerId });
}

async function assertCollaborators(deps: CommandDeps, collaborators: unknown): Promise<void> {
  if (!Array.isArray(collaborators)) return;
  for (const id of collaborators)
    if (!(await getEmployee(deps, String(id)))) throw new DomainError('opportunity.collaborator_unknown', `Employee ${String(id)} does not exist`, { employeeId: id });
}

export async function createOpportunity(
  deps: CommandDeps,
  input: { fields: OpportunityFields; ownerId?: string; stage?: string },
  actor: Actor,
  meta: RequestMeta,
) {
  const ownerId = input.ownerId ?? actor.userId;
  await assertOwner(deps, ownerId);
  await assertCustomerUsable(deps, input.fields.customerId);
  await assertCollaborators(deps, input.fields.collaborators);
  const { stages } = await opportunityStages(deps);
  const result = await opportunities(deps, actor, meta).create(input.fields, (opportunityId, fields) => ({
    type: 'CreateOpportunity',
    opportunityId,
    ownerId,
    stages,
    ...(input.stage ? { stage: input.stage } : {}),
    fields: fields as OpportunityFields,
  }));
  return { ...result, opportunityId: result.id };
}

export async function changeOpportunity(deps: CommandDeps, opportunityId: string, changes: Record<string, unknown>, actor: Actor, meta: RequestMeta) {
  if (typeof changes.customerId === 'string') await assertCustomerUsable(deps, changes.customerId);
  await assertCollaborators(deps, changes.collaborators);
  return opportunities(deps, actor, meta).change(opportunityId, changes, (plain) => ({ type: 'ChangeOpportunity', opportunityId, changes: plain }));
}

/** Stage moves, win, lose and reopen: decided against the stage list in force. */
export async function moveOpportunity(
  deps: CommandDeps,
  opportunityId: string,
  action: { type: 'MoveStage'; stage: string } | { type: 'WinOpportunity' } | { type: 'LoseOpportunity'; reason: string; competitor?: string } | { type: 'ReopenOpportunity' },
  actor: Actor,
  meta: RequestMeta,
) {
  const { stages } = await opportunityStages(deps);
  return opportunities(deps, actor, meta).run(opportunityId, { ...action, opportunityId, stages } as OpportunityCommand);
}

export async function changeOpportunityOwner(deps: CommandDeps, opportunityId: string, ownerId: string, actor: Actor, meta: RequestMeta) {
  await assertOwner(deps, ownerId);
  return opportunities(deps, actor, meta).run(opportunityId, { type: 'ChangeOpportunityOwner', opportunityId, ownerId });
}
