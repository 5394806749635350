import { z } from 'zod';
import { CustomValues } from '../customization/values.ts';
import type { EventsOf } from '../shared/decider.ts';
import { DomainError } from '../shared/errors.ts';
import { Money } from '../shared/money.ts';
import { AB_METRICS, abTestSize } from './ab-test.ts';
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

/** Which records an audience takes: a list's query (its filters, `q`, a saved view) over contacts, customers or leads. */
export const AudienceFilter = z.object({ resource: z.enum(['contacts', 'customers', 'leads']), query: z.record(z.string(), z.string().max(400)) }).strict();
export type AudienceFilter = z.infer<typeof AudienceFilter>;
/** A member list frozen from filters at one moment (the members are in the campaign's audience stream). */
export const CampaignAudienceFrozen = z.object({
  campaignId: z.string(),
  audienceId: z.string(),
  filter: AudienceFilter,
  exclude: z.array(AudienceFilter),
  excludeEmails: z.number().int().min(0).describe('How many addresses were excluded by hand'),
  count: z.number().int().min(0),
  excluded: z.number().int().min(0).describe('Found by the filter but excluded (exclusion lists, suppression list, no address)'),
  by: z.string(),
  at: z.string(),
});
/** People joined the member list after it was frozen (an automation's add_to_campaign); with no list yet, they start one. */
export const CampaignMembersAdded = z.object({ campaignId: z.string(), audienceId: z.string(), added: z.number().int().min(1), by: z.string(), at: z.string() });
/** A mail to chosen addresses before the real send (who, which template, the Message-IDs). */
export const CampaignTestSent = z.object({ campaignId: z.string(), templateId: z.string(), to: z.array(z.string()), messageIds: z.array(z.string()), by: z.string(), at: z.string() });
/** An A/B test as a send starts it: the variant (at its revision then), the share, the metric and when it is decided. */
export const AbTestStarted = z.object({
  variantTemplateId: z.string(),
  variantTemplateRevision: z.number().int().min(0),
  share: z.number().gt(0).lt(1),
  metric: z.enum(AB_METRICS),
  decideAfterHours: z.number().positive(),
  decideAt: z.string(),
  groups: z.object({ A: z.number().int(), B: z.number().int(), rest: z.number().int() }),
});
/** The send to the frozen members began (the template at its revision then; with an A/B test, only the test's members first); progress is in the members' streams. */
export const CampaignSendStarted = z.object({ campaignId: z.string(), sendId: z.string(), templateId: z.string(), templateRevision: z.number().int().min(0), total: z.number().int().min(0), abTest: AbTestStarted.optional(), by: z.string(), at: z.string() });
const AbVariantResult = z.object({ members: z.number().int(), delivered: z.number().int(), converted: z.number().int(), ratePpm: z.number().int() });
/** The A/B test decided: each variant's result by the metric, the winner, and the template (at its revision) the rest get. */
export const CampaignAbTestDecided = z.object({
  campaignId: z.string(),
  sendId: z.string(),
  metric: z.enum(AB_METRICS),
  results: z.object({ A: AbVariantResult, B: AbVariantResult }),
  winner: z.enum(['A', 'B']),
  templateId: z.string(),
  templateRevision: z.number().int().min(0),
  at: z.string(),
});
/** A cost of the campaign entered on it (a booth, an advertisement, a mailing service), besides expense claims that name it. */
export const CampaignCostRecorded = z.object({ campaignId: z.string(), costId: z.string(), amount: Money, description: z.string().trim().min(1).max(500), on: z.iso.date(), by: z.string() });
export const CampaignSendCompleted = z.object({ campaignId: z.string(), sendId: z.string(), delivered: z.number().int(), failed: z.number().int(), skipped: z.number().int(), at: z.string() });

/** Its events' schemas, by type (checked on every append). */
export const campaignEventSchemas = {
  CampaignCreated,
  CampaignChanged,
  CampaignOwnerChanged,
  CampaignStageMoved,
  CampaignArchived,
  CampaignRestored,
  CampaignAudienceFrozen,
  CampaignTestSent,
  CampaignSendStarted,
  CampaignSendCompleted,
  CampaignCostRecorded,
  CampaignAbTestDecided,
  CampaignMembersAdded,
};
export type CampaignEvent = EventsOf<typeof campaignEventSchemas>;

/** The frozen member list a send goes to. */
export interface CampaignAudience {
  audienceId: string;
  /** Null for a list started by people added one by one (an automation). */
  filter: AudienceFilter | null;
  count: number;
  excluded: number;
  frozenAt: string;
  frozenBy: string;
}
export type AbTestStarted = z.infer<typeof AbTestStarted>;
/** An A/B test of a send, with its decision once made. */
export type CampaignAbTest = AbTestStarted & { decided?: Omit<z.infer<typeof CampaignAbTestDecided>, 'campaignId' | 'sendId' | 'metric'> };

/** The send: to whom (the audience), what (the template at a revision), and whether it has finished. */
export interface CampaignSend {
  sendId: string;
  templateId: string;
  templateRevision: number;
  audienceId: string;
  total: number;
  status: 'sending' | 'completed';
  /** An A/B test: until it is decided only its members are mailed, and the send does not complete. */
  abTest?: CampaignAbTest;
  startedAt: string;
  startedBy: string;
  completedAt?: string;
  delivered?: number;
  failed?: number;
  skipped?: number;
}

export type CampaignState =
  | { status: 'none' }
  | {
      status: 'active' | 'archived';
      campaignId: string;
      ownerId: string;
      fields: CampaignFields;
      stages: CampaignStage[];
      currentStage: string | null;
      stageHistory: StageMove[];
      audience?: CampaignAudience;
      send?: CampaignSend;
      testSends?: number;
      costs?: { costId: string; amount: { amount: number; currency: string }; description: string; on: string; by: string }[];
    };

export type CampaignCommand =
  | { type: 'CreateCampaign'; campaignId: string; fields: CampaignFields; ownerId: string; stages: CampaignStage[] }
  | { type: 'ChangeCampaign'; campaignId: string; changes: Record<string, unknown> }
  | { type: 'ChangeCampaignOwner'; campaignId: string; ownerId: string }
  | { type: 'MoveCampaignStage'; campaignId: string; stage: string; by: string; at: string; note?: string }
  | { type: 'ArchiveCampaign'; campaignId: string }
  | { type: 'RestoreCampaign'; campaignId: string }
  | { type: 'FreezeAudience'; campaignId: string; audienceId: string; filter: AudienceFilter; exclude: AudienceFilter[]; excludeEmails: number; count: number; excluded: number; by: string; at: string }
  | { type: 'AddMembers'; campaignId: string; audienceId: string; added: number; by: string; at: string }
  | { type: 'RecordTestSend'; campaignId: string; templateId: string; to: string[]; messageIds: string[]; by: string; at: string }
  | { type: 'StartSend'; campaignId: string; sendId: string; templateId: string; templateRevision: number; abTest?: Omit<AbTestStarted, 'groups'>; by: string; at: string }
  | { type: 'DecideAbTest'; campaignId: string; sendId: string; results: z.infer<typeof CampaignAbTestDecided>['results']; winner: 'A' | 'B'; templateId: string; templateRevision: number; at: string }
  | { type: 'CompleteSend'; campaignId: string; sendId: string; delivered: number; failed: number; skipped: number; at: string }
  | { type: 'RecordCost'; campaignId: string; costId: string; amount: { amount: number; currency: string }; description: string; on: string; by: string };

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
    case 'CampaignAudienceFrozen': {
      const { audienceId, filter, count, excluded, at, by } = event.data;
      return { ...state, audience: { audienceId, filter, count, excluded, frozenAt: at, frozenBy: by } };
    }
    case 'CampaignMembersAdded': {
      const { audienceId, added, at, by } = event.data;
      return { ...state, audience: state.audience ? { ...state.audience, count: state.audience.count + added } : { audienceId, filter: null, count: added, excluded: 0, frozenAt: at, frozenBy: by } };
    }
    case 'CampaignTestSent':
      return { ...state, testSends: (state.testSends ?? 0) + 1 };
    case 'CampaignCostRecorded': {
      const { costId, amount, description, on, by } = event.data;
      return { ...state, costs: [...(state.costs ?? []), { costId, amount, description, on, by }] };
    }
    case 'CampaignSendStarted': {
      const { sendId, templateId, templateRevision, total, abTest, at, by } = event.data;
      return { ...state, send: { sendId, templateId, templateRevision, audienceId: state.audience?.audienceId ?? '', total, status: 'sending', startedAt: at, startedBy: by, ...(abTest ? { abTest } : {}) } };
    }
    case 'CampaignAbTestDecided': {
      if (!state.send?.abTest) return state;
      const { results, winner, templateId, templateRevision, at } = event.data;
      return { ...state, send: { ...state.send, abTest: { ...state.send.abTest, decided: { results, winner, templateId, templateRevision, at } } } };
    }
    case 'CampaignSendCompleted': {
      if (!state.send) return state;
      const { delivered, failed, skipped, at } = event.data;
      return { ...state, send: { ...state.send, status: 'completed', completedAt: at, delivered, failed, skipped } };
    }
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
  if (state.status === 'archived' && command.type !== 'RestoreCampaign' && command.type !== 'ArchiveCampaign' && command.type !== 'CompleteSend' && command.type !== 'DecideAbTest')
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
    case 'FreezeAudience': {
      if (state.send) throw new DomainError('campaign.already_sent', 'The audience of a campaign that has been sent stays as it was sent; create another campaign', { campaignId, sendId: state.send.sendId });
      const { audienceId, filter, exclude, excludeEmails, count, excluded, by, at } = command;
      return [{ type: 'CampaignAudienceFrozen', data: { campaignId, audienceId, filter, exclude, excludeEmails, count, excluded, by, at } }];
    }
    case 'AddMembers': {
      if (state.send) throw new DomainError('campaign.already_sent', 'The member list of a campaign that has been sent stays as it was sent', { campaignId, sendId: state.send.sendId });
      if (state.audience && state.audience.audienceId !== command.audienceId) throw new DomainError('campaign.audience_changed', 'The member list was frozen again meanwhile', { campaignId });
      const { audienceId, added, by, at } = command;
      return added > 0 ? [{ type: 'CampaignMembersAdded', data: { campaignId, audienceId, added, by, at } }] : [];
    }
    case 'RecordTestSend': {
      const { templateId, to, messageIds, by, at } = command;
      return [{ type: 'CampaignTestSent', data: { campaignId, templateId, to, messageIds, by, at } }];
    }
    case 'StartSend': {
      if (state.fields.type !== 'email' && state.fields.type !== 'sms') throw new DomainError('campaign.not_email', `A ${state.fields.type} campaign sends no mail or text message`, { campaignType: state.fields.type });
      if (state.fields.type === 'sms' && command.abTest) throw new DomainError('campaign.ab_test_email_only', 'A/B tests compare mails; an SMS campaign sends one template', { campaignType: state.fields.type });
      // Asked again while it is being sent (after a crash): nothing new; the sender resumes it.
      if (state.send?.sendId === command.sendId || (state.send?.status === 'sending' && state.send.templateId === command.templateId)) return [];
      if (state.send) throw new DomainError(state.send.status === 'sending' ? 'campaign.already_sending' : 'campaign.already_sent', `This campaign's mail ${state.send.status === 'sending' ? 'is being sent' : `was sent on ${state.send.startedAt}`}; create another campaign for another mailing`, { sendId: state.send.sendId });
      if (!state.audience) throw new DomainError('campaign.no_audience', 'Choose the audience first (POST /api/v1/campaigns/:id/audience freezes the member list)', { campaignId });
      if (state.audience.count === 0) throw new DomainError('campaign.empty_audience', 'The audience has no members: widen its filter', { campaignId });
      const { sendId, templateId, templateRevision, by, at } = command;
      let abTest: AbTestStarted | undefined;
      if (command.abTest) {
        if (command.abTest.variantTemplateId === templateId) throw new DomainError('campaign.ab_test_same_template', 'An A/B test compares two different templates', { templateId });
        const groups = abTestSize(state.audience.count, command.abTest.share);
        if (groups.B === 0) throw new DomainError('campaign.ab_test_too_small', `A share of ${command.abTest.share} of ${state.audience.count} members leaves a variant without members: raise the share or widen the audience`, { share: command.abTest.share, members: state.audience.count });
        abTest = { ...command.abTest, groups };
      }
      return [{ type: 'CampaignSendStarted', data: { campaignId, sendId, templateId, templateRevision, total: state.audience.count, ...(abTest ? { abTest } : {}), by, at } }];
    }
    case 'DecideAbTest': {
      if (state.send?.sendId !== command.sendId || !state.send.abTest) throw new DomainError('campaign.no_ab_test', 'This send has no A/B test', { sendId: command.sendId });
      if (state.send.abTest.decided) return [];
      const { sendId, results, winner, templateId, templateRevision, at } = command;
      return [{ type: 'CampaignAbTestDecided', data: { campaignId, sendId, metric: state.send.abTest.metric, results, winner, templateId, templateRevision, at } }];
    }
    case 'CompleteSend': {
      if (state.send?.sendId !== command.sendId || state.send.status === 'completed') return [];
      if (state.send.abTest && !state.send.abTest.decided) throw new DomainError('campaign.ab_test_undecided', 'The A/B test is not decided yet: the rest of the audience has not been mailed', { sendId: command.sendId, decideAt: state.send.abTest.decideAt });
      const { sendId, delivered, failed, skipped, at } = command;
      return [{ type: 'CampaignSendCompleted', data: { campaignId, sendId, delivered, failed, skipped, at } }];
    }
    case 'RecordCost': {
      if (command.amount.amount <= 0) throw new DomainError('campaign.invalid_cost', 'A cost is more than zero', { amount: command.amount });
      const { costId, amount, description, on, by } = command;
      return [{ type: 'CampaignCostRecorded', data: { campaignId, costId, amount, description, on, by } }];
    }
    case 'ArchiveCampaign':
      return state.status === 'archived' ? [] : [{ type: 'CampaignArchived', data: { campaignId } }];
    case 'RestoreCampaign':
      return state.status === 'active' ? [] : [{ type: 'CampaignRestored', data: { campaignId } }];
  }
}

export const campaignDecider = { initialState, evolve, decide };
export const campaignCategory = 'campaign';
