import { z } from 'zod';
import type { ResourceSpec } from '../customization/resources.ts';
import { CAMPAIGN_TYPES, campaignCategory, campaignDecider, campaignEventSchemas, type CampaignState } from './index.ts';

const optional = (schema: z.ZodType) => schema.optional();

/** The campaign's document: its fields, owner, stages (from its type's template), current stage and stage history. */
export const campaignView = (state: Extract<CampaignState, { status: 'active' | 'archived' }>) => ({
  ...state.fields,
  ownerId: state.ownerId,
  stages: state.stages,
  currentStage: state.currentStage,
  stageHistory: state.stageHistory,
  audience: state.audience ?? null,
  send: state.send ?? null,
  costs: state.costs ?? [],
  status: state.status,
});

/**
 * Marketing campaigns (营销活动) as a record type: company-wide reference data (whoever may view campaigns sees
 * them all and may cite one on a lead or an opportunity, `campaignId`), each with an owner who runs it.
 */
export const campaignResource = {
  name: 'campaigns',
  singular: 'campaign',
  tag: 'Campaigns 营销活动',
  module: 'campaigns',
  category: campaignCategory,
  decider: campaignDecider,
  scope: { by: 'company' },
  referenceField: 'campaignId',
  personalFields: [],
  standardFields: ['name', 'type', 'startsOn', 'endsOn', 'budget', 'expected', 'description', 'ownerId', 'stages', 'currentStage', 'stageHistory', 'audience', 'send', 'costs', 'status', 'createdAt', 'updatedAt'],
  relatedPanels: [],
  list: {
    filters: {
      q: optional(z.string().trim().min(1).max(200)),
      type: optional(z.enum(CAMPAIGN_TYPES)),
      status: optional(z.enum(['active', 'archived'])),
      ownerId: optional(z.string().max(100)),
      currentStage: optional(z.string().max(40)),
    },
    sorts: ['name', 'startsOn', 'endsOn', 'createdAt', 'updatedAt'],
    defaultSort: '-startsOn',
  },
  search: ['name'],
  attachments: false,
  events: campaignEventSchemas,
  readModel: { version: 3, view: campaignView },
} as const satisfies ResourceSpec;
