import { DELAY_BUCKETS, type EngagementRule } from '../domain/campaign/engagement.ts';
import type { ReadStore } from '../infra/readstore/port.ts';
import { CAMPAIGN_RESULTS, type CampaignResultsDoc } from './campaign-results.ts';
import { monthly } from './counters.ts';
import { EXPENSES_BY } from './expenses.ts';

type Money = { amount: number; currency: string };

/** What a campaign brought and cost, in one currency (amounts in others are not converted: see `otherCurrencies`). */
export interface CampaignReportRow {
  campaignId: string;
  name: string;
  type: string;
  startsOn: string;
  endsOn: string;
  sent: number;
  delivered: number;
  opened: number;
  clicked: number;
  unsubscribed: number;
  bounced: number;
  failed: number;
  skipped: number;
  /** Opens and clicks left out of the rates: HEAD requests, scanners' agents, and person-like ones sooner after delivery than the rule's threshold. */
  automated: { opens: number; clicks: number };
  /** opened ÷ delivered, clicked ÷ delivered (null before anything was delivered). */
  openRate: number | null;
  clickRate: number | null;
  leads: number;
  opportunities: number;
  /** First touch followed on: orders from quotes of the opportunities citing the campaign, and their totals (cancelled ones taken back). */
  orders: number;
  orderRevenue: Money;
  /**
   * Last touch: leads created for an address after a person clicked this campaign's mail to it (the latest such
   * campaign's), the opportunities those leads were converted into, their won amounts, and orders from their quotes.
   */
  lastTouch: { leads: number; opportunities: number; orders: number; wonRevenue: Money };
  wonRevenue: Money;
  /** Costs entered on the campaign and expense claims naming it (approved or paid). */
  cost: Money;
  budget: Money;
  costPerLead: Money | null;
  /** (won revenue − cost) ÷ cost; null without a cost. */
  roi: number | null;
  /** Amounts in other currencies, left out of the sums above. */
  otherCurrencies: { wonRevenue: Record<string, number>; cost: Record<string, number>; orderRevenue: Record<string, number>; lastTouchWonRevenue: Record<string, number> };
}

/** Won revenue, cost, cost per lead and ROI ((won − cost) ÷ cost) in one currency: a campaign's, or the totals'. */
export const economics = (won: number, cost: number, leads: number, currency: string) => ({
  wonRevenue: { amount: won, currency },
  cost: { amount: cost, currency },
  costPerLead: leads > 0 && cost > 0 ? { amount: Math.round(cost / leads), currency } : null,
  roi: cost > 0 ? Math.round(((won - cost) / cost) * 10_000) / 10_000 : null,
});

const ratio = (part: number, whole: number) => (whole > 0 ? Math.round((part / whole) * 10_000) / 10_000 : null);
const withThreshold = (delays: Record<string, number> | undefined, threshold: number) => {
  let people = 0;
  let sooner = 0;
  for (const bucket of DELAY_BUCKETS) {
    const members = delays?.[`s${bucket}`] ?? 0;
    if (bucket >= threshold) people += members;
    else sooner += members;
  }
  return { people, sooner };
};
const others = (amounts: Record<string, number> | undefined, currency: string) => Object.fromEntries(Object.entries(amounts ?? {}).filter(([code, amount]) => code !== currency && amount !== 0));

/** Expense claims naming each campaign, approved or paid, per currency (from the expense counters). */
async function expenseCosts(store: ReadStore, campaignIds: readonly string[]): Promise<Map<string, Record<string, number>>> {
  const out = new Map<string, Record<string, number>>();
  if (campaignIds.length === 0) return out;
  for (const doc of await store.collection<{ _id: string; campaignId: string; currency: string; approved?: number }>(monthly(EXPENSES_BY.campaign)).find({ campaignId: { $in: [...campaignIds] } })) {
    const costs = out.get(doc.campaignId) ?? {};
    costs[doc.currency] = (costs[doc.currency] ?? 0) + (doc.approved ?? 0);
    out.set(doc.campaignId, costs);
  }
  return out;
}

/** The report rows of some campaigns (their documents from the campaigns read model), from the pre-aggregated counters. */
export async function campaignReportRows(
  store: ReadStore,
  campaigns: readonly { _id: string; name: string; type: string; startsOn: string; endsOn: string; budget: Money }[],
  rule: EngagementRule,
  currency: string,
): Promise<CampaignReportRow[]> {
  const ids = campaigns.map((campaign) => campaign._id);
  const results = new Map((await store.collection<CampaignResultsDoc>(CAMPAIGN_RESULTS).find({ _id: { $in: ids } })).map((doc) => [doc._id, doc]));
  const expenses = await expenseCosts(store, ids);
  return campaigns.map((campaign) => {
    const r = results.get(campaign._id) ?? { _id: campaign._id };
    const opens = withThreshold(r.openDelays, rule.minSecondsAfterDelivery);
    const clicks = withThreshold(r.clickDelays, rule.minSecondsAfterDelivery);
    const costs: Record<string, number> = { ...(r.costs ?? {}) };
    for (const [code, amount] of Object.entries(expenses.get(campaign._id) ?? {})) costs[code] = (costs[code] ?? 0) + amount;
    const delivered = r.delivered ?? 0;
    const leads = r.leads ?? 0;
    const won = r.won?.[currency] ?? 0;
    const cost = costs[currency] ?? 0;
    return {
      campaignId: campaign._id,
      name: campaign.name,
      type: campaign.type,
      startsOn: campaign.startsOn,
      endsOn: campaign.endsOn,
      sent: r.sent ?? 0,
      delivered,
      opened: opens.people,
      clicked: clicks.people,
      unsubscribed: r.unsubscribed ?? 0,
      bounced: r.bounced ?? 0,
      failed: r.failed ?? 0,
      skipped: r.skipped ?? 0,
      automated: { opens: (r.automatedOpens ?? 0) + opens.sooner, clicks: (r.automatedClicks ?? 0) + clicks.sooner },
      openRate: ratio(opens.people, delivered),
      clickRate: ratio(clicks.people, delivered),
      leads,
      opportunities: r.opportunities ?? 0,
      orders: r.orders ?? 0,
      orderRevenue: { amount: r.orderRevenue?.[currency] ?? 0, currency },
      lastTouch: { leads: r.lastTouchLeads ?? 0, opportunities: r.lastTouchOpportunities ?? 0, orders: r.lastTouchOrders ?? 0, wonRevenue: { amount: r.lastTouchWon?.[currency] ?? 0, currency } },
      ...economics(won, cost, leads, currency),
      budget: campaign.budget,
      otherCurrencies: { wonRevenue: others(r.won, currency), cost: others(costs, currency), orderRevenue: others(r.orderRevenue, currency), lastTouchWonRevenue: others(r.lastTouchWon, currency) },
    };
  });
}
