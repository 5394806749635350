import { type CampaignCommand, type CampaignFields, type CampaignStageTemplates, type CampaignState, stagesFor } from '../domain/campaign/index.ts';
import type { Actor, CommandDeps, RequestMeta } from './context.ts';
import { assertOwner } from './customers.ts';
import { RecordHandler, type RecordRules } from './record-handler.ts';
import { settingWithDefault } from './settings.ts';
import { DEFAULT_ENGAGEMENT_RULE, type EngagementRule } from '../domain/campaign/engagement.ts';

const campaignRules: RecordRules<CampaignCommand, CampaignState> = { resource: 'campaigns' };
const campaigns = (deps: CommandDeps, actor: Actor, meta: RequestMeta) => new RecordHandler(campaignRules, deps, actor, meta);

/** The stage templates per campaign type (data: an administrator changes them; a type not saved takes its default). */
export const campaignStageSettings = settingWithDefault<CampaignStageTemplates>('campaign-stages', {});

/** Creates a campaign run by `ownerId` (default: its creator), with the stages its type's template has now. */
export async function createCampaign(deps: CommandDeps, input: { fields: CampaignFields; ownerId?: string }, actor: Actor, meta: RequestMeta) {
  const ownerId = input.ownerId ?? actor.userId;
  await assertOwner(deps, ownerId);
  const stages = stagesFor(input.fields.type, (await campaignStageSettings.read(deps)).value);
  const result = await campaigns(deps, actor, meta).create(input.fields, (campaignId, fields) => ({ type: 'CreateCampaign', campaignId, ownerId, stages, fields: fields as CampaignFields }));
  return { ...result, campaignId: result.id };
}

export const changeCampaign = (deps: CommandDeps, campaignId: string, changes: Record<string, unknown>, actor: Actor, meta: RequestMeta) =>
  campaigns(deps, actor, meta).change(campaignId, changes, (plain) => ({ type: 'ChangeCampaign', campaignId, changes: plain }));

export async function changeCampaignOwner(deps: CommandDeps, campaignId: string, ownerId: string, actor: Actor, meta: RequestMeta) {
  await assertOwner(deps, ownerId);
  return campaigns(deps, actor, meta).run(campaignId, { type: 'ChangeCampaignOwner', campaignId, ownerId });
}

/** Moves a campaign to one of its stages (any of them: a stage may be gone back to), recording who and when. */
export const moveCampaignStage = (deps: CommandDeps, campaignId: string, input: { stage: string; note?: string | undefined }, actor: Actor, meta: RequestMeta) =>
  campaigns(deps, actor, meta).run(campaignId, { type: 'MoveCampaignStage', campaignId, stage: input.stage, by: actor.userId, at: deps.clock.now().toISOString(), ...(input.note ? { note: input.note } : {}) });

export const archiveCampaign = (deps: CommandDeps, campaignId: string, actor: Actor, meta: RequestMeta) => campaigns(deps, actor, meta).run(campaignId, { type: 'ArchiveCampaign', campaignId });
export const restoreCampaign = (deps: CommandDeps, campaignId: string, actor: Actor, meta: RequestMeta) => campaigns(deps, actor, meta).run(campaignId, { type: 'RestoreCampaign', campaignId });

/** The rule that tells people's opens and clicks from scanners' (data: the threshold after delivery). */
export const campaignEngagementSettings = settingWithDefault<EngagementRule>('campaign-engagement', DEFAULT_ENGAGEMENT_RULE);

/** Records a cost of the campaign (a booth, an advertisement) on it; expense claims that name it count by themselves. */
export async function recordCampaignCost(deps: CommandDeps, campaignId: string, input: { amount: { amount: number; currency: string }; description: string; on: string }, actor: Actor, meta: RequestMeta) {
  const costId = meta.ids.newId();
  const result = await campaigns(deps, actor, meta).run(campaignId, { type: 'RecordCost', campaignId, costId, ...input, by: actor.userId });
  return { ...result, costId };
}
