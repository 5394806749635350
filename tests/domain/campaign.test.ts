import { describe, expect, it } from 'vitest';
import { type CampaignEvent, campaignDecider, CampaignStageTemplates, DEFAULT_CAMPAIGN_STAGES, stagesFor } from '../../src/domain/campaign/index.ts';
import { fold } from '../../src/domain/shared/decider.ts';
import { specFor } from '../support/spec.ts';

const CNY = (amount: number) => ({ amount, currency: 'CNY' });

describe('campaign decider', () => {
  const spec = specFor(campaignDecider);
  const campaignId = 'c1';
  const stages = DEFAULT_CAMPAIGN_STAGES.email;
  const fields = { name: '春季新品邮件', type: 'email' as const, startsOn: '2027-03-01', endsOn: '2027-03-31', budget: CNY(2_000_000) };
  const created: CampaignEvent = { type: 'CampaignCreated', data: { campaignId, fields, ownerId: 'mkt', stages } };
  const at = '2027-03-01T02:00:00.000Z';

  it('the email template is design → test → audience → send → evaluate, labelled in zh-CN and en', () => {
    expect(DEFAULT_CAMPAIGN_STAGES.email.map((s) => s.key)).toEqual(['design', 'test', 'audience', 'send', 'evaluate']);
    expect(DEFAULT_CAMPAIGN_STAGES.email.map((s) => s.label['zh-CN'])).toEqual(['设计邮件', '发送测试', '选择客户名单', '发送邮件', '总结评估']);
    for (const type of Object.keys(DEFAULT_CAMPAIGN_STAGES) as (keyof typeof DEFAULT_CAMPAIGN_STAGES)[]) expect(CampaignStageTemplates.safeParse({ [type]: DEFAULT_CAMPAIGN_STAGES[type] }).success).toBe(true);
    const saved = { exhibition: [{ key: 'book', label: { 'zh-CN': '订展位', en: 'Book a stand' } }] };
    expect(stagesFor('exhibition', saved)).toEqual(saved.exhibition);
    expect(stagesFor('email', saved)).toEqual(DEFAULT_CAMPAIGN_STAGES.email);
    expect(CampaignStageTemplates.safeParse({ email: [stages[0], stages[0]] }).success).toBe(false);
  });

  it('is created with its stages, not started; cannot end before it starts', () => {
    spec.given([]).when({ type: 'CreateCampaign', campaignId, fields, ownerId: 'mkt', stages }).then([created]);
    spec.given([created]).when({ type: 'CreateCampaign', campaignId, fields, ownerId: 'mkt', stages }).thenThrows('campaign.already_exists');
    spec.given([]).when({ type: 'CreateCampaign', campaignId, fields: { ...fields, endsOn: '2027-02-28' }, ownerId: 'mkt', stages }).thenThrows('campaign.invalid_period');
    expect(fold(campaignDecider, [created])).toMatchObject({ status: 'active', currentStage: null, stageHistory: [], stages });
  });

  it('moves through its stages (back too), each move recorded with who and when; an unknown stage names the known ones', () => {
    const toDesign: CampaignEvent = { type: 'CampaignStageMoved', data: { campaignId, from: null, stage: 'design', by: 'mkt', at } };
    spec.given([created]).when({ type: 'MoveCampaignStage', campaignId, stage: 'design', by: 'mkt', at }).then([toDesign]);
    spec.given([created, toDesign]).when({ type: 'MoveCampaignStage', campaignId, stage: 'design', by: 'mkt', at }).thenNothing();
    const toTest: CampaignEvent = { type: 'CampaignStageMoved', data: { campaignId, from: 'design', stage: 'test', by: 'boss', at, note: '测试通过' } };
    spec.given([created, toDesign]).when({ type: 'MoveCampaignStage', campaignId, stage: 'test', by: 'boss', at, note: '测试通过' }).then([toTest]);
    const back: CampaignEvent = { type: 'CampaignStageMoved', data: { campaignId, from: 'test', stage: 'design', by: 'mkt', at } };
    spec.given([created, toDesign, toTest]).when({ type: 'MoveCampaignStage', campaignId, stage: 'design', by: 'mkt', at }).then([back]);
    expect(spec.given([created]).when({ type: 'MoveCampaignStage', campaignId, stage: 'plan', by: 'mkt', at }).thenThrows('campaign.unknown_stage').details).toEqual({ stage: 'plan', stages: ['design', 'test', 'audience', 'send', 'evaluate'] });
    expect(fold(campaignDecider, [created, toDesign, toTest])).toMatchObject({
      currentStage: 'test',
      stageHistory: [
        { stage: 'design', from: null, by: 'mkt', at },
        { stage: 'test', from: 'design', by: 'boss', at, note: '测试通过' },
      ],
    });
  });

  it('changes its fields but not its type; keeps its period in order; archived, it changes nothing until restored', () => {
    spec.given([created]).when({ type: 'ChangeCampaign', campaignId, changes: { budget: CNY(3_000_000) } }).then([{ type: 'CampaignChanged', data: { campaignId, changes: { budget: CNY(3_000_000) } } }]);
    spec.given([created]).when({ type: 'ChangeCampaign', campaignId, changes: { type: 'sms' } }).thenThrows('campaign.type_fixed');
    spec.given([created]).when({ type: 'ChangeCampaign', campaignId, changes: { type: 'email', name: fields.name } }).thenNothing();
    spec.given([created]).when({ type: 'ChangeCampaign', campaignId, changes: { endsOn: '2027-01-01' } }).thenThrows('campaign.invalid_period');
    spec.given([created]).when({ type: 'ChangeCampaign', campaignId, changes: { name: null } }).thenThrows('campaign.field_required');
    spec.given([created]).when({ type: 'ChangeCampaignOwner', campaignId, ownerId: 'other' }).then([{ type: 'CampaignOwnerChanged', data: { campaignId, ownerId: 'other' } }]);
    const archived: CampaignEvent = { type: 'CampaignArchived', data: { campaignId } };
    spec.given([created]).when({ type: 'ArchiveCampaign', campaignId }).then([archived]);
    spec.given([created, archived]).when({ type: 'MoveCampaignStage', campaignId, stage: 'design', by: 'mkt', at }).thenThrows('campaign.archived');
    spec.given([created, archived]).when({ type: 'RestoreCampaign', campaignId }).then([{ type: 'CampaignRestored', data: { campaignId } }]);
    spec.given([]).when({ type: 'ArchiveCampaign', campaignId }).thenThrows('campaign.not_found');
  });
});
