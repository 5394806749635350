import { z } from 'zod';
import { CustomValues } from '../customization/values.ts';
import type { EventsOf } from '../shared/decider.ts';
import { DomainError } from '../shared/errors.ts';
import { Money } from '../shared/money.ts';
import { ChangeSet, diffFields, withChanges } from '../shared/normalize.ts';

/** The kinds of campaign (营销活动类型). */
export const CAMPAIGN_TYPES = ['email', 'sms', 'exhibition', 'seminar', 'webinar', 'advertising', 'other'] as const;
export type CampaignType = (typeof CAMPAIGN_TYPES)[number];

const Day = z.iso.date();
/** A label in both languages the product speaks. */
const Label = z.object({ 'zh-CN': z.string().trim().min(1).max(100), en: z.string().trim().min(1).max(100) }).strict();
const Key = z.string().regex(/^[a-z][a-z0-9_]{0,39}$/, 'a lowercase key: letters, digits and _');

/** A stage a campaign goes through, as a stage template lists it. */
export const CampaignStage = z.object({ key: Key, label: Label }).strict();
export type CampaignStage = z.infer<typeof CampaignStage>;

/** The stage templates: per campaign type, the stages in order (data, changed in the settings). */
export const CampaignStageTemplates = z
  .partialRecord(z.enum(CAMPAIGN_TYPES), z.array(CampaignStage).min(1).max(20))
  .superRefine((templates, context) => {
    for (const [type, stages] of Object.entries(templates)) {
      const seen = new Set<string>();
      for (const [i, stage] of (stages ?? []).entries()) {
        if (seen.has(stage.key)) context.addIssue({ code: 'custom', path: [type, i, 'key'], message: `Stage ${stage.key} appears twice` });
        seen.add(stage.key);
      }
    }
  });
export type CampaignStageTemplates = Partial<Record<CampaignType, CampaignStage[]>>;

const stage = (key: string, zh: string, en: string): CampaignStage => ({ key, label: { 'zh-CN': zh, en } });
const EVENT_STAGES = [stage('plan', '策划', 'Plan'), stage('prepare', '筹备', 'Prepare'), stage('run', '执行', 'Run'), stage('follow_up', '跟进线索', 'Follow up leads'), stage('evaluate', '总结评估', 'Evaluate')];
/** The stage templates until an administrator changes them; a type missing from the saved ones takes its default. */
export const DEFAULT_CAMPAIGN_STAGES: Record<CampaignType, CampaignStage[]> = {
  email: [stage('design', '设计邮件', 'Design the mail'), stage('test', '发送测试', 'Send a test'), stage('audience', '选择客户名单', 'Choose the audience'), stage('send', '发送邮件', 'Send'), stage('evaluate', '总结评估', 'Evaluate')],
  sms: [stage('design', '编写短信', 'Write the message'), stage('test', '发送测试', 'Send a test'), stage('audience', '选择客户名单', 'Choose the audience'), stage('send', '发送短信', 'Send'), stage('evaluate', '总结评估', 'Evaluate')],
  exhibition: EVENT_STAGES,
  seminar: EVENT_STAGES,
  webinar: EVENT_STAGES,
  advertising: [stage('plan', '策划', 'Plan'), stage('produce', '制作', 'Produce'), stage('run', '投放', 'Run'), stage('evaluate', '总结评估', 'Evaluate')],
  other: [stage('plan', '策划', 'Plan'), stage('run', '执行', 'Run'), stage('evaluate', '总结评估', 'Evaluate')],
};

/** The stages a campaign of a type goes through: the saved template, else the default. */
export const stagesFor = (type: CampaignType, templates: CampaignStageTemplates): CampaignStage[] => templates[type] ?? DEFAULT_CAMPAIGN_STAGES[type];

/** What a campaign is expected to bring. */
export const CampaignExpectations = z
  .object({ leads: z.number().int().min(0).optional(), opportunities: z.number().int().min(0).optional(), revenue: Money.optional() })
  .strict();

/** A marketing campaign (营销活动): company-wide, cited by leads and opportunities (`campaignId`). */
export const CampaignFields = z.object({
  name: z.string().trim().min(1).max(200),
  type: z.enum(CAMPAIGN_TYPES),
  startsOn: Day,
  endsOn: Day,
  budget: Money.refine((money) => money.amount >= 0, 'a budget of zero or more'),
  expected: CampaignExpectations.optional(),
  description: z.string().trim().min(1).max(4000).optional(),
  custom: CustomValues.optional(),
});
export type CampaignFields = z.infer<typeof CampaignFields>;

/** A move from stage to stage, as the campaign keeps it: who, when, and an optional note. */
export const StageMove = z.object({ stage: Key, from: Key.nullable(), by: z.string(), at: z.string(), note: z.string().max(2000).optional() });
export type StageMove = z.infer<typeof StageMove>;

export const CampaignCreated = z.object({
  campaignId: z.string(),
  fields: CampaignFields,
  ownerId: z.string(),
  /** The stages its type's template had when it was created (a later change of the template leaves it as it is). */
  stages: z.array(CampaignStage).min(1),
});
export const CampaignChanged = z.object({ campaignId: z.string(), changes: ChangeSet });
export const CampaignOwnerChanged = z.object({ campaignId: z.string(), ownerId: z.string() });
/** A move to a stage, with who made it and when (the campaign's stage history keeps them). */
export const CampaignStageMoved = z.object({ campaignId: z.string(), from: Key.nullable(), stage: Key, by: z.string(), at: z.string(), note: z.string().max(2000).optional() });
export const CampaignArchived = z.object({ campaignId: z.string() });
export const CampaignRestored = z.object({ campaignId: z.string() });

/** Its events' schemas, by type (checked on every append). */
export const campaignEventSchemas = { CampaignCreated, CampaignChanged, CampaignOwnerChanged, CampaignStageMoved, CampaignArchived, CampaignRestored };
export type CampaignEvent = EventsOf<typeof campaignEventSchemas>;

export type CampaignState =
  | { status: 'none' }
  | { status: 'active' | 'archived'; campaignId: string; ownerId: string; fields: CampaignFields; stages: CampaignStage[]; currentStage: string | null; stageHistory: StageMove[] };

export type CampaignCommand =
  | { type: 'CreateCampaign'; campaignId: string; fields: CampaignFields; ownerId: string; stages: CampaignStage[] }
  | { type: 'ChangeCampaign'; campaignId: string; changes: Record<string, unknown> }
  | { type: 'ChangeCampaignOwner'; campaignId: string; ownerId: string }
  | { type: 'MoveCampaignStage'; campaignId: string; stage: string; by: string; at: string; note?: string }
  | { type: 'ArchiveCampaign'; campaignId: string }
  | { type: 'RestoreCampaign'; campaignId: string };

export const initialState: CampaignState = { status: 'none' };

export function evolve(state: CampaignState, event: CampaignEvent): CampaignState {
  if (event.type === 'CampaignCreated') {
    const { campaignId, fields, ownerId, stages } = event.data;
    return { status: 'active', campaignId, fields, ownerId, stages, currentStage: null, stageHistory: [] };
  }
  if (state.status === 'none') return state;
  switch (event.type) {
    case 'CampaignChanged':
      return withChanges(state, event.data.changes);
    case 'CampaignOwnerChanged':
      return { ...state, ownerId: event.data.ownerId };
    case 'CampaignStageMoved': {
      const { stage, from, by, at, note } = event.data;
      return { ...state, currentStage: stage, stageHistory: [...state.stageHistory, { stage, from, by, at, ...(note ? { note } : {}) }] };
    }
    case 'CampaignArchived':
      return { ...state, status: 'archived' };
    case 'CampaignRestored':
      return { ...state, status: 'active' };
  }
}

const REQUIRED: readonly (keyof CampaignFields)[] = ['name', 'type', 'startsOn', 'endsOn', 'budget'];

function assertPeriod(fields: Pick<CampaignFields, 'startsOn' | 'endsOn'>): void {
  if (fields.endsOn < fields.startsOn) throw new DomainError('campaign.invalid_period', `A campaign cannot end (${fields.endsOn}) before it starts (${fields.startsOn})`, { startsOn: fields.startsOn, endsOn: fields.endsOn });
}

export function decide(command: CampaignCommand, state: CampaignState): CampaignEvent[] {
  const { campaignId } = command;
  if (command.type === 'CreateCampaign') {
    if (state.status !== 'none') throw new DomainError('campaign.already_exists', `Campaign ${campaignId} already exists`, { campaignId });
    assertPeriod(command.fields);
    return [{ type: 'CampaignCreated', data: { campaignId, fields: command.fields, ownerId: command.ownerId, stages: command.stages } }];
  }
  if (state.status === 'none') throw new DomainError('campaign.not_found', `Campaign ${campaignId} does not exist`, { campaignId });
  if (state.status === 'archived' && command.type !== 'RestoreCampaign' && command.type !== 'ArchiveCampaign')
    throw new DomainError('campaign.archived', 'An archived campaign cannot be changed; restore it first', { campaignId });
  switch (command.type) {
    case 'ChangeCampaign': {
      for (const field of REQUIRED) if (command.changes[field] === null) throw new DomainError('campaign.field_required', `${field} cannot be cleared`, { field });
      if ('type' in command.changes && command.changes.type !== state.fields.type)
        throw new DomainError('campaign.type_fixed', 'A campaign keeps its type (its stages follow from it); create another campaign instead', { campaignType: state.fields.type });
      const changes = diffFields(state.fields, command.changes);
      assertPeriod({ ...state.fields, ...(changes as Partial<CampaignFields>) });
      return Object.keys(changes).length ? [{ type: 'CampaignChanged', data: { campaignId, changes } }] : [];
    }
    case 'ChangeCampaignOwner':
      return state.ownerId === command.ownerId ? [] : [{ type: 'CampaignOwnerChanged', data: { campaignId, ownerId: command.ownerId } }];
    case 'MoveCampaignStage': {
      if (!state.stages.some((s) => s.key === command.stage))
        throw new DomainError('campaign.unknown_stage', `Stage ${command.stage} is not one of this campaign's: ${state.stages.map((s) => s.key).join(', ')}`, { stage: command.stage, stages: state.stages.map((s) => s.key) });
      if (state.currentStage === command.stage) return [];
      return [{ type: 'CampaignStageMoved', data: { campaignId, from: state.currentStage, stage: command.stage, by: command.by, at: command.at, ...(command.note ? { note: command.note } : {}) } }];
    }
    case 'ArchiveCampaign':
      return state.status === 'archived' ? [] : [{ type: 'CampaignArchived', data: { campaignId } }];
    case 'RestoreCampaign':
      return state.status === 'active' ? [] : [{ type: 'CampaignRestored', data: { campaignId } }];
  }
}

export const campaignDecider = { initialState, evolve, decide };
export const campaignCategory = 'campaign';
