import { describe, expect, it } from 'vitest';
import { abGroups, type AbMemberOutcome, abTestSize, abVariantResult, abWinner } from '../../src/domain/campaign/ab-test.ts';
import { type CampaignEvent, campaignDecider, DEFAULT_CAMPAIGN_STAGES } from '../../src/domain/campaign/index.ts';
import { DEFAULT_ENGAGEMENT_RULE } from '../../src/domain/campaign/engagement.ts';
import { specFor } from '../support/spec.ts';

const at = '2027-04-01T02:00:00.000Z';

describe('A/B test groups and results', () => {
  const ids = Array.from({ length: 101 }, (_, i) => `member-${i}`);

  it('draws the same groups for the same send, other groups for another send, of the sizes the share gives', () => {
    const groups = abGroups(ids, 'send-1', 0.2);
    expect(abGroups([...ids].reverse(), 'send-1', 0.2)).toEqual(groups);
    const count = (g: Map<string, string>, group: string) => [...g.values()].filter((v) => v === group).length;
    expect({ A: count(groups, 'A'), B: count(groups, 'B'), rest: count(groups, 'rest') }).toEqual(abTestSize(101, 0.2));
    expect(abTestSize(101, 0.2)).toEqual({ A: 10, B: 10, rest: 81 });
    const other = abGroups(ids, 'send-2', 0.2);
    expect([...other.entries()].filter(([id, group]) => groups.get(id) !== group).length).toBeGreaterThan(0);
  });

  it("counts a variant's delivered members who did what the metric counts, leaving scanners and too-early engagement out", () => {
    const deliveredAt = '2027-04-01T02:00:00.000Z';
    const person = { at: '2027-04-01T02:05:00.000Z', method: 'GET', userAgent: 'Mozilla/5.0' };
    const outcomes: AbMemberOutcome[] = [
      { deliveredAt, opens: [person], clicks: [], lead: false },
      { deliveredAt, opens: [], clicks: [person], lead: true },
      { deliveredAt, opens: [{ ...person, userAgent: 'Proofpoint' }], clicks: [{ ...person, at: '2027-04-01T02:00:02.000Z' }], lead: false },
      { deliveredAt, opens: [{ ...person, method: 'HEAD' }], clicks: [], lead: false },
      { opens: [], clicks: [], lead: false },
    ];
    // A click shows the mail was opened too (the pixel may be blocked).
    expect(abVariantResult(outcomes, 'opens', DEFAULT_ENGAGEMENT_RULE)).toEqual({ members: 5, delivered: 4, converted: 2, ratePpm: 500_000 });
    expect(abVariantResult(outcomes, 'clicks', DEFAULT_ENGAGEMENT_RULE)).toEqual({ members: 5, delivered: 4, converted: 1, ratePpm: 250_000 });
    // With no threshold, the click two seconds after delivery counts.
    expect(abVariantResult(outcomes, 'clicks', { minSecondsAfterDelivery: 0 }).converted).toBe(2);
    expect(abVariantResult(outcomes, 'leads', DEFAULT_ENGAGEMENT_RULE).converted).toBe(1);
    expect(abVariantResult([], 'leads', DEFAULT_ENGAGEMENT_RULE).ratePpm).toBe(0);
    const result = (ratePpm: number) => ({ members: 1, delivered: 1, converted: 0, ratePpm });
    expect(abWinner({ A: result(100), B: result(101) })).toBe('B');
    expect(abWinner({ A: result(100), B: result(100) })).toBe('A');
  });
});

describe('campaign decider: A/B tests', () => {
  const spec = specFor(campaignDecider);
  const campaignId = 'c1';
  const fields = { name: 'A/B', type: 'email' as const, startsOn: '2027-04-01', endsOn: '2027-04-30', budget: { amount: 0, currency: 'CNY' } };
  const created: CampaignEvent = { type: 'CampaignCreated', data: { campaignId, fields, ownerId: 'mkt', stages: DEFAULT_CAMPAIGN_STAGES.email } };
  const frozen: CampaignEvent = { type: 'CampaignAudienceFrozen', data: { campaignId, audienceId: 'a1', filter: { resource: 'contacts', query: {} }, exclude: [], excludeEmails: 0, count: 10, excluded: 0, by: 'mkt', at } };
  const test = { variantTemplateId: 't2', variantTemplateRevision: 1, share: 0.4, metric: 'clicks' as const, decideAfterHours: 4, decideAt: '2027-04-01T06:00:00.000Z' };
  const start = { type: 'StartSend' as const, campaignId, sendId: 's1', templateId: 't1', templateRevision: 2, abTest: test, by: 'mkt', at };
  const started: CampaignEvent = { type: 'CampaignSendStarted', data: { campaignId, sendId: 's1', templateId: 't1', templateRevision: 2, total: 10, abTest: { ...test, groups: { A: 2, B: 2, rest: 6 } }, by: 'mkt', at } };
  const results = { A: { members: 2, delivered: 2, converted: 0, ratePpm: 0 }, B: { members: 2, delivered: 2, converted: 1, ratePpm: 500_000 } };
  const decide = { type: 'DecideAbTest' as const, campaignId, sendId: 's1', results, winner: 'B' as const, templateId: 't2', templateRevision: 1, at };
  const decided: CampaignEvent = { type: 'CampaignAbTestDecided', data: { campaignId, sendId: 's1', metric: 'clicks', results, winner: 'B', templateId: 't2', templateRevision: 1, at } };
  const complete = { type: 'CompleteSend' as const, campaignId, sendId: 's1', delivered: 10, failed: 0, skipped: 0, at };

  it('starts a test with its groups; refuses one that compares a template with itself or leaves a variant empty', () => {
    spec.given([created, frozen]).when(start).then([started]);
    spec.given([created, frozen]).when({ ...start, abTest: { ...test, variantTemplateId: 't1' } }).thenThrows('campaign.ab_test_same_template');
    spec.given([created, frozen]).when({ ...start, abTest: { ...test, share: 0.1 } }).thenThrows('campaign.ab_test_too_small');
  });

  it('decides once; the send does not complete before the decision', () => {
    spec.given([created, frozen, started]).when(complete).thenThrows('campaign.ab_test_undecided');
    spec.given([created, frozen, started]).when(decide).then([decided]);
    spec.given([created, frozen, started, decided]).when(decide).then([]);
    spec.given([created, frozen, started, decided]).when(complete).then([{ type: 'CampaignSendCompleted', data: { campaignId, sendId: 's1', delivered: 10, failed: 0, skipped: 0, at } }]);
    spec.given([created, frozen]).when(decide).thenThrows('campaign.no_ab_test');
  });
});
