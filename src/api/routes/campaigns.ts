import { z } from 'zod';
import { archiveCampaign, campaignStageSettings, changeCampaign, changeCampaignOwner, createCampaign, moveCampaignStage, restoreCampaign } from '../../commands/campaigns.ts';
import { CampaignFields, CampaignStage, CampaignStageTemplates, type CampaignState, DEFAULT_CAMPAIGN_STAGES, StageMove } from '../../domain/campaign/index.ts';
import { resourceSpecs } from '../../domain/customization/resources.ts';
import { campaignView } from '../../domain/campaign/resource.ts';
import { fieldColumns } from '../csv.ts';
import { recordAction, recordRoutes } from '../records.ts';
import { type AnyRoute, AssignBody, EmptyBody, Id } from '../route.ts';
import { settingRoutes } from '../setting-routes.ts';

const tags = [resourceSpecs.campaigns.tag];

const CampaignView = CampaignFields.extend({
  id: z.string(),
  revision: z.number().int(),
  ownerId: z.string().describe('Who runs the campaign'),
  stages: z.array(CampaignStage).describe("Its stages, from its type's template when it was created"),
  currentStage: z.string().nullable().describe('The stage it is in (null: not started)'),
  stageHistory: z.array(StageMove).describe('Every move: to which stage, from which, by whom, when'),
  status: z.enum(['active', 'archived']),
  createdAt: z.string(),
  updatedAt: z.string(),
}).meta({ id: 'Campaign' });

const CampaignInput = CampaignFields.extend({ ownerId: Id.optional().describe('Who runs it (default: you)') })
  .strict()
  .meta({
    id: 'CampaignInput',
    examples: [{ name: '2027 春季新品邮件推广', type: 'email', startsOn: '2027-03-01', endsOn: '2027-03-31', budget: { amount: 2_000_000, currency: 'CNY' }, expected: { leads: 120, opportunities: 20, revenue: { amount: 300_000_000, currency: 'CNY' } } }],
  });

/** Marketing campaigns (营销活动): company-wide; their stages follow the type's template (settings: campaign-stages). */
export const campaignRoutes: AnyRoute[] = [
  ...recordRoutes<CampaignState>({
    resource: 'campaigns',
    view: CampaignView,
    pageSchemaId: 'CampaignPage',
    columns: fieldColumns('id', 'name', 'type', 'startsOn', 'endsOn', 'budget', 'ownerId', 'currentStage', 'status', 'createdAt', 'updatedAt'),
    asOfView: (state) => (state.status === 'none' ? {} : campaignView(state)),
    create: {
      summary: "Create a campaign (营销活动): name, type, period, budget, what it is expected to bring; its stages are its type's template",
      body: CampaignInput,
      run: async ({ body, actor, services, meta }) => {
        const { ownerId, ...fields } = body as CampaignFields & { ownerId?: string };
        const result = await createCampaign(services.deps, { fields, ...(ownerId ? { ownerId } : {}) }, actor, meta);
        return { ...result, id: result.campaignId };
      },
    },
    patch: {
      summary: 'Change a campaign (its type stays: 409 campaign.type_fixed)',
      fields: CampaignFields,
      schemaId: 'CampaignPatch',
      run: ({ params, body, actor, services, meta }) => changeCampaign(services.deps, params.id, body, actor, meta),
    },
    actions: [
      recordAction({
        action: 'stage',
        writes: ['currentStage'],
        summary: "Move a campaign to one of its stages (409 campaign.unknown_stage names them), recorded with who and when",
        body: z.object({ stage: z.string().min(1).max(40), note: z.string().trim().min(1).max(2000).optional() }).strict(),
        done: 'Moved',
        run: ({ params, body, actor, services, meta }) => moveCampaignStage(services.deps, params.id, body, actor, meta),
      }),
      recordAction({
        action: 'assign',
        writes: ['ownerId'],
        summary: 'Change who runs a campaign',
        body: AssignBody,
        permission: 'assign',
        done: 'Owner changed',
        run: ({ params, body, actor, services, meta }) => changeCampaignOwner(services.deps, params.id, body.ownerId, actor, meta),
      }),
      recordAction({ action: 'archive', summary: 'Archive a campaign (the leads and deals that cite it keep it)', body: EmptyBody, permission: 'delete', done: 'Archived', run: ({ params, actor, services, meta }) => archiveCampaign(services.deps, params.id, actor, meta) }),
      recordAction({ action: 'restore', summary: 'Restore an archived campaign', body: EmptyBody, permission: 'delete', done: 'Restored', run: ({ params, actor, services, meta }) => restoreCampaign(services.deps, params.id, actor, meta) }),
    ],
  }),
  ...settingRoutes({
    path: '/api/v1/settings/campaign-stages',
    tags,
    schema: CampaignStageTemplates,
    read: { summary: "The campaigns' stage templates, per type (a type not saved has its default; the email template: design → test → audience → send → evaluate)", done: 'Templates' },
    write: { summary: "Change the stage templates (a campaign keeps the stages it was created with)", done: 'Changed' },
    // What is in force: the saved templates, and each type not saved with its default.
    load: async (deps) => {
      const { value, revision } = await campaignStageSettings.read(deps);
      return { value: { ...DEFAULT_CAMPAIGN_STAGES, ...value }, revision };
    },
    save: ({ body, actor, services, meta }) => campaignStageSettings.write(services.deps, body, actor, meta),
  }),
];
