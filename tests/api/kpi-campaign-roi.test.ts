import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/infra/clock.ts';
import { startTestApp, type TestApp } from '../support/app.ts';

const CNY = (amount: number) => ({ amount, currency: 'CNY' });

/** The KPI campaignRoi: (won revenue of opportunities citing a campaign − the campaigns' costs) ÷ costs, by period and person. */
describe('KPI campaignRoi', () => {
  const clock = new ManualClock(new Date('2027-06-10T02:00:00.000Z'));
  let app: TestApp;
  let marketer: { userId: string; token: string };
  let seller: { userId: string; token: string };
  const kpi = async (query: string) => {
    await app.services.runner.waitFor(await app.services.eventStore.headPosition(), 10_000);
    const answer = await app.request('GET', `/api/v1/reports/kpi?metrics=campaignRoi&${query}`);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    return answer.body as { totals: { metrics: { campaignRoi: { value: number | null } } }; groups?: { key: string | null; metrics: { campaignRoi: { value: number | null } } }[] };
  };

  beforeAll(async () => {
    app = await startTestApp({}, { clock });
    marketer = await app.userWithToken('roi.marketer', ['manager']);
    seller = await app.userWithToken('roi.seller', ['salesperson']);
  });
  afterAll(async () => app.close());

  it('counts won revenue for the deal owners and costs (entered, and expense claims) for whoever bore them; a reopened deal is taken back', async () => {
    const campaignId = (await app.request('POST', '/api/v1/campaigns', { token: marketer.token, body: { name: '六月展会', type: 'exhibition', startsOn: '2027-06-01', endsOn: '2027-06-30', budget: CNY(500_000) } })).body.id as string;
    expect((await app.request('POST', `/api/v1/campaigns/${campaignId}/costs`, { token: marketer.token, body: { amount: CNY(200_000), description: '展位费', on: '2027-06-05' } })).status).toBe(200);
    const claimId = (await app.request('POST', '/api/v1/expenses', { token: marketer.token, body: { lines: [{ category: 'travel', amount: CNY(15_000), date: '2027-06-06', description: '展会交通' }], campaignId } })).body.id as string;
    expect((await app.request('POST', `/api/v1/expenses/${claimId}/submit`, { token: marketer.token, body: {} })).status).toBe(200);
    const customerId = (await app.request('POST', '/api/v1/customers', { token: seller.token, body: { name: '展会客户' } })).body.id as string;
    const dealId = (await app.request('POST', '/api/v1/opportunities', { token: seller.token, body: { name: '展会大单', customerId, amount: CNY(1_000_000), expectedCloseDate: '2027-06-30', campaignId } })).body.id as string;
    // A deal citing no campaign counts nowhere.
    const other = (await app.request('POST', '/api/v1/opportunities', { token: seller.token, body: { name: '普通单', customerId, amount: CNY(700_000), expectedCloseDate: '2027-06-30' } })).body.id as string;
    expect((await app.request('POST', `/api/v1/opportunities/${dealId}/win`, { token: seller.token, body: {} })).status).toBe(200);
    expect((await app.request('POST', `/api/v1/opportunities/${other}/win`, { token: seller.token, body: {} })).status).toBe(200);

    const june = 'from=2027-06-01&to=2027-07-01';
    // (1,000,000 − 215,000) ÷ 215,000
    expect((await kpi(june)).totals.metrics.campaignRoi.value).toBe(Math.round(((1_000_000 - 215_000) / 215_000) * 10_000) / 10_000);
    const byOwner = await kpi(`${june}&groupBy=owner`);
    const of = (userId: string) => byOwner.groups!.find((g) => g.key === userId)?.metrics.campaignRoi.value;
    expect(of(seller.userId)).toBeNull();
    expect(of(marketer.userId)).toBe(-1);
    // May has nothing: no cost, no ROI.
    expect((await kpi('from=2027-05-01&to=2027-06-01')).totals.metrics.campaignRoi.value).toBeNull();

    // Reopened the next day: June loses the won revenue.
    clock.advance(86_400_000);
    const token = await app.login('roi.seller', 'roi.seller-password-1');
    expect((await app.request('POST', `/api/v1/opportunities/${dealId}/reopen`, { token, body: {} })).status).toBe(200);
    expect((await kpi(june)).totals.metrics.campaignRoi.value).toBe(-1);
    // The day it was won had no cost: no ROI that day.
    expect((await kpi('from=2027-06-10&to=2027-06-11')).totals.metrics.campaignRoi.value).toBeNull();
  });
});
