import { campaignCategory, CampaignCostRecorded } from '../domain/campaign/index.ts';
import { merged } from '../infra/merged.ts';
import { bucketOf, personLike } from '../domain/campaign/engagement.ts';
import { CampaignMailBounced, CampaignMailClicked, CampaignMailDelivered, CampaignMailOpened, campaignMemberCategory, consentCategory, ConsentWithdrawn } from '../domain/campaign/members.ts';
import { leadCategory } from '../domain/lead/index.ts';
import { opportunityCategory } from '../domain/opportunity/index.ts';
import { orderCategory } from '../domain/order/index.ts';
import { quoteCategory } from '../domain/quote/index.ts';
import { categoryOf, type RecordedEvent } from '../infra/eventstore/port.ts';
import type { Collection, Doc, ReadStore } from '../infra/readstore/port.ts';
import { alreadyApplied, type Projection } from './projection.ts';
import { COMPANY, companyZone } from './company.ts';
import { CounterDeltas, dayOf, monthly } from './counters.ts';

/** Per campaign, its results as counters (what the campaign report reads). */
export const CAMPAIGN_RESULTS = 'campaign_results';
/**
 * Per day (company time), currency and person, what campaigns brought and cost (the KPI `campaignRoi` sums it):
 * `won` — opportunities citing a campaign won (taken back when reopened), for the opportunity's owner; `cost` — costs
 * entered on a campaign, on their day, for the campaign's owner. Expense claims naming a campaign are in the
 * expense counters.
 */
export const CAMPAIGN_DAILY = 'report_campaign_daily';
/** What the counters need to remember per member and per attributed record (never read by a route). */
const MEMORY = 'campaign_results_memory';

type Money = { amount: number; currency: string };
export type CampaignResultsDoc = Doc & {
  sent?: number;
  delivered?: number;
  failed?: number;
  skipped?: number;
  bounced?: number;
  softBounces?: number;
  unsubscribed?: number;
  /** Opens and clicks that cannot be a person's (HEAD requests, scanners' agents), counted raw. */
  automatedOpens?: number;
  automatedClicks?: number;
  /** Members by how long after delivery their latest person-like open (click) came: `s<bucket>` → members. */
  openDelays?: Record<string, number>;
  clickDelays?: Record<string, number>;
  /** Last touch: leads created for an address after a person clicked the campaign's mail to it (the latest such campaign). */
  lastTouchLeads?: number;
  /** Last touch, followed on: opportunities converted from those leads, their won amounts per currency, and orders from their quotes. */
  lastTouchOpportunities?: number;
  lastTouchWon?: Record<string, number>;
  lastTouchOrders?: number;
  /** First touch, followed on: orders from quotes of opportunities citing the campaign, and their totals per currency (cancelled ones taken back). */
  orders?: number;
  orderRevenue?: Record<string, number>;
  /** First touch: leads and opportunities created citing the campaign (`campaignId`). */
  leads?: number;
  opportunities?: number;
  /** Won opportunities citing the campaign, per currency. */
  won?: Record<string, number>;
  /** Costs entered on the campaign, per currency (expense claims that name it are read from the expense counters). */
  costs?: Record<string, number>;
};
type Memory = Doc & {
  email?: string;
  deliveredAt?: string;
  openBucket?: number;
  clickBucket?: number;
  unsubscribed?: boolean;
  campaignId?: string | null;
  /** An order's last-touch campaign. */
  lastCampaignId?: string | null;
  opportunityId?: string;
  /** An opportunity's or a campaign's owner. */
  ownerId?: string;
  amount?: Money;
  won?: boolean;
  cancelled?: boolean;
  _position: number;
};
/** Memories a later event of another record reads: a lead's and an opportunity's last-touch campaign, a quote's opportunity. */
const leadLastTouch = (leadId: string) => `last-touch:${leadId}`;
const opportunityLastTouch = (opportunityId: string) => `last-touch-opportunity:${opportunityId}`;

const memberKey = (campaignId: string, memberId: string) => `member:${campaignId}.${memberId}`;
const seconds = (from: string | undefined, to: string) => (from ? Math.max(0, (Date.parse(to) - Date.parse(from)) / 1000) : 0);

/**
 * One event applied to the campaigns' results: the memory documents it changes once, and the counters it moves.
 * Methods rather than closures made per event: under tsx (esbuild keepNames) each closure made also has its name
 * defined, a cost paid for each of the hundreds of thousands of events a rebuild reads past here.
 */
class CampaignEventApplying {
  readonly memories: Collection<Memory>;

  constructor(
    readonly event: RecordedEvent,
    private readonly store: ReadStore,
  ) {
    this.memories = store.collection<Memory>(MEMORY);
  }

  /** Adds to a campaign's counters (none without a campaign). */
  counters(campaignId: string | null | undefined, inc: Record<string, number>): Promise<unknown> {
    return campaignId ? this.store.collection(CAMPAIGN_RESULTS).updateOne({ _id: campaignId }, { $inc: inc }, { upsert: true }) : Promise.resolve();
  }

  /** Applies the event once to a memory document: `change` answers the memory's new fields and moves the counters. */
  async once(key: string, change: (memory: Memory | null) => Promise<Partial<Memory> | undefined>): Promise<void> {
    const memory = await this.memories.findOne({ _id: key });
    if (alreadyApplied(memory, this.event)) return;
    const fields = await change(memory);
    await this.memories.updateOne({ _id: key }, { $set: merged(fields ?? {}, { _position: Number(this.event.position) }) }, { upsert: true });
  }

  /** An opportunity's first and last touch; a change of its won amount also moves its owner's daily counter. */
  async opportunity(opportunityId: string): Promise<void> {
    const { event, store, memories } = this;
    const lastTouch = (await memories.findOne({ _id: opportunityLastTouch(opportunityId) }))?.campaignId ?? null;
    // What leaves and what arrives go in one set of counter changes (applied once for the event).
    const deltas = new CounterDeltas();
    await attributed(this, `opportunity:${opportunityId}`, 'opportunities', lastTouch, async (won, sign) => {
      const ownerId = (await memories.findOne({ _id: `owner:${opportunityId}` }))?.ownerId;
      if (won && ownerId) deltas.add(CAMPAIGN_DAILY, { day: dayOf(event.metadata.at, await companyZone(store)), currency: won.amount.currency, ownerId }, { won: won.amount.amount }, sign);
    });
    await deltas.apply(store, event);
  }
}

/**
 * Campaign results, pre-aggregated: sends and their outcomes, opens and clicks (person-like ones by delay after
 * delivery, so the threshold stays data; the rest as automated), unsubscribes, bounces, first-touch leads and
 * opportunities, won revenue and costs entered on the campaign. Each event changes one memory document (which
 * remembers the event applied) and the counters of the campaigns it concerns.
 */
export const campaignResultsProjection: Projection = {
  name: 'campaign-results',
  // 2: last touch followed to opportunities, won revenue and orders; first-touch orders; the daily counters.
  version: 2,
  categories: [campaignCategory, campaignMemberCategory, consentCategory, leadCategory, opportunityCategory, quoteCategory, orderCategory],
  collections: [CAMPAIGN_RESULTS, MEMORY, CAMPAIGN_DAILY, monthly(CAMPAIGN_DAILY)],
  reads: [COMPANY],
  async setup(store) {
    await store.collection(CAMPAIGN_DAILY).createIndex({ day: 1 });
    await store.collection(monthly(CAMPAIGN_DAILY)).createIndex({ month: 1 });
  },
  async apply(event, store) {
    const applying = new CampaignEventApplying(event, store);
    const memories = applying.memories;
    const data = event.data as Record<string, unknown>;
    switch (event.type) {
      case 'CampaignCreated':
      case 'CampaignOwnerChanged':
        return applying.once(`campaign:${String(data.campaignId)}`, async () => ({ ownerId: String(data.ownerId) }));
      case 'OpportunityOwnerChanged':
        return applying.once(`owner:${String(data.opportunityId)}`, async () => ({ ownerId: String(data.ownerId) }));
      case 'CampaignCostRecorded': {
        const { campaignId, amount, on } = CampaignCostRecorded.parse(event.data);
        return applying.once(`cost:${String(data.costId)}`, async () => {
          await applying.counters(campaignId, { [`costs.${amount.currency}`]: amount.amount });
          const ownerId = (await memories.findOne({ _id: `campaign:${campaignId}` }))?.ownerId;
          const deltas = new CounterDeltas();
          if (ownerId) deltas.add(CAMPAIGN_DAILY, { day: on, currency: amount.currency, ownerId }, { cost: amount.amount });
          await deltas.apply(store, event);
          return {};
        });
      }
      case 'CampaignMailSending':
        return applying.once(`sent:${String(data.campaignId)}.${String(data.memberId)}`, async () => {
          await applying.counters(String(data.campaignId), { sent: 1 });
          // The address, for last touch (a lead later created for it).
          await memories.updateOne({ _id: memberKey(String(data.campaignId), String(data.memberId)) }, { $set: { email: String(data.email).toLowerCase() } }, { upsert: true });
          return {};
        });
      case 'CampaignSmsSending':
        return applying.once(`sent:${String(data.campaignId)}.${String(data.memberId)}`, async () => {
          await applying.counters(String(data.campaignId), { sent: 1 });
          return {};
        });
      case 'CampaignSmsAccepted':
        return applying.once(memberKey(String(data.campaignId), String(data.memberId)), async () => {
          await applying.counters(String(data.campaignId), { delivered: 1 });
          return { deliveredAt: String(data.at) };
        });
      case 'CampaignSmsFailed':
      case 'CampaignMailFailed':
      case 'CampaignMailSkipped': {
        const field = event.type === 'CampaignMailSkipped' ? 'skipped' : 'failed';
        return applying.once(`${field}:${String(data.campaignId)}.${String(data.memberId)}`, async () => {
          await applying.counters(String(data.campaignId), { [field]: 1 });
          return {};
        });
      }
      case 'CampaignMailDelivered': {
        const { campaignId, memberId, at } = CampaignMailDelivered.parse(event.data);
        return applying.once(memberKey(campaignId, memberId), async () => {
          await applying.counters(campaignId, { delivered: 1 });
          return { deliveredAt: at };
        });
      }
      case 'CampaignMailBounced': {
        const { campaignId, kind } = CampaignMailBounced.parse(event.data);
        return applying.once(`bounce:${event.id}`, async () => {
          await applying.counters(campaignId, { [kind === 'hard' ? 'bounced' : 'softBounces']: 1 });
          return {};
        });
      }
      case 'CampaignMailOpened':
      case 'CampaignMailClicked': {
        const engagement = (event.type === 'CampaignMailOpened' ? CampaignMailOpened : CampaignMailClicked).parse(event.data);
        const [kind, automated, field] = event.type === 'CampaignMailOpened' ? (['openDelays', 'automatedOpens', 'openBucket'] as const) : (['clickDelays', 'automatedClicks', 'clickBucket'] as const);
        return applying.once(memberKey(engagement.campaignId, engagement.memberId), async (memory) => {
          if (!personLike(engagement)) {
            await applying.counters(engagement.campaignId, { [automated]: 1 });
            return {};
          }
          // A person's click makes the campaign the address's last touch.
          if (event.type === 'CampaignMailClicked' && memory?.email) await memories.updateOne({ _id: `address:${memory.email}` }, { $set: { campaignId: engagement.campaignId, at: engagement.at } }, { upsert: true });
          const bucket = bucketOf(seconds(memory?.deliveredAt, engagement.at));
          const previous = memory?.[field];
          if (previous !== undefined && previous >= bucket) return {};
          await applying.counters(engagement.campaignId, { [`${kind}.s${bucket}`]: 1, ...(previous !== undefined ? { [`${kind}.s${previous}`]: -1 } : {}) });
          return { [field]: bucket };
        });
      }
      case 'ConsentWithdrawn': {
        if (categoryOf(event.streamId) !== consentCategory) return;
        const { campaignId, memberId } = ConsentWithdrawn.parse(event.data).evidence as { campaignId?: unknown; memberId?: unknown };
        if (typeof campaignId !== 'string' || typeof memberId !== 'string') return;
        return applying.once(memberKey(campaignId, memberId), async (memory) => {
          if (memory?.unsubscribed) return {};
          await applying.counters(campaignId, { unsubscribed: 1 });
          return { unsubscribed: true };
        });
      }
      case 'LeadCreated': {
        const email = (data.fields as { email?: string }).email?.toLowerCase();
        const touched = email ? await memories.findOne({ _id: `address:${email}` }) : null;
        if (touched?.campaignId) await applying.once(leadLastTouch(String(data.leadId)), async () => {
          await applying.counters(touched.campaignId, { lastTouchLeads: 1 });
          return { campaignId: touched.campaignId };
        });
        return attributed(applying, `lead:${String(data.leadId)}`, 'leads');
      }
      case 'LeadChanged':
        return attributed(applying, `lead:${String(data.leadId)}`, 'leads');
      case 'LeadConverted': {
        // The opportunity a lead became carries the lead's last touch (won already or not).
        const opportunityId = data.opportunityId as string | undefined;
        const touched = opportunityId ? await memories.findOne({ _id: leadLastTouch(String(data.leadId)) }) : null;
        if (!opportunityId || !touched?.campaignId) return;
        return applying.once(opportunityLastTouch(opportunityId), async () => {
          const deal = await memories.findOne({ _id: `opportunity:${opportunityId}` });
          await applying.counters(touched.campaignId, { lastTouchOpportunities: 1, ...(deal?.won && deal.amount ? { [`lastTouchWon.${deal.amount.currency}`]: deal.amount.amount } : {}) });
          return { campaignId: touched.campaignId };
        });
      }
      case 'OpportunityCreated':
        await applying.once(`owner:${String(data.opportunityId)}`, async () => ({ ownerId: String(data.ownerId) }));
        return applying.opportunity(String(data.opportunityId));
      case 'OpportunityChanged':
      case 'OpportunityWon':
      case 'OpportunityReopened':
        return applying.opportunity(String(data.opportunityId));
      case 'QuoteCreated':
        if (typeof data.opportunityId !== 'string') return;
        return applying.once(`quote:${String(data.quoteId)}`, async () => ({ opportunityId: data.opportunityId as string }));
      case 'OrderCreated': {
        const quote = typeof data.quoteId === 'string' ? await memories.findOne({ _id: `quote:${data.quoteId}` }) : null;
        if (!quote?.opportunityId) return;
        const first = (await memories.findOne({ _id: `opportunity:${quote.opportunityId}` }))?.campaignId ?? null;
        const last = (await memories.findOne({ _id: opportunityLastTouch(quote.opportunityId) }))?.campaignId ?? null;
        if (!first && !last) return;
        const amount = { amount: (data.totals as { total: number }).total, currency: String(data.currency) };
        return applying.once(`order:${String(data.orderId)}`, async () => {
          await applying.counters(first, { orders: 1, [`orderRevenue.${amount.currency}`]: amount.amount });
          await applying.counters(last, { lastTouchOrders: 1 });
          return { campaignId: first, lastCampaignId: last, amount };
        });
      }
      case 'OrderCancelled':
        return applying.once(`order:${String(data.orderId)}`, async (memory) => {
          if (!memory?.amount || memory.cancelled) return {};
          await applying.counters(memory.campaignId, { orders: -1, [`orderRevenue.${memory.amount.currency}`]: -memory.amount.amount });
          await applying.counters(memory.lastCampaignId, { lastTouchOrders: -1 });
          return { cancelled: true };
        });
    }
  },
};

/**
 * A lead's or an opportunity's first touch: counted for the campaign it cites (moved when that changes), and an
 * opportunity's amount counted as won revenue while it is won.
 */
async function attributed(
  applying: CampaignEventApplying,
  key: string,
  field: 'leads' | 'opportunities',
  /** An opportunity's last-touch campaign (a lead it came from was created after a person clicked): its won amount counts there too. */
  lastTouch: string | null = null,
  /** Told when the won amount citing a campaign leaves (-1) or arrives (1). */
  wonMoved: (won: { campaignId: string; amount: Money } | undefined, sign: number) => Promise<unknown> = async () => undefined,
): Promise<void> {
  const event = applying.event;
  const data = event.data as { fields?: { campaignId?: string; amount?: Money }; changes?: { campaignId?: string | null; amount?: Money } };
  const given = data.fields ?? data.changes;
  if ((event.type === 'LeadChanged' || event.type === 'OpportunityChanged') && !(given && ('campaignId' in given || 'amount' in given))) return;
  return applying.once(key, async (memory) => {
    const before = { campaignId: memory?.campaignId ?? null, amount: memory?.amount, won: memory?.won ?? false };
    const after = { ...before };
    if (given && 'campaignId' in given) after.campaignId = given.campaignId ?? null;
    if (given?.amount) after.amount = given.amount;
    if (event.type === 'OpportunityWon') after.won = true;
    if (event.type === 'OpportunityReopened') after.won = false;
    const wonOf = (state: typeof before) => (state.won && state.amount && state.campaignId ? { campaignId: state.campaignId, amount: state.amount } : undefined);
    if (before.campaignId !== after.campaignId) {
      await applying.counters(before.campaignId, { [field]: -1 });
      await applying.counters(after.campaignId, { [field]: 1 });
    }
    const wonBefore = wonOf(before);
    const wonAfter = wonOf(after);
    if (JSON.stringify(wonBefore) !== JSON.stringify(wonAfter)) {
      if (wonBefore) await applying.counters(wonBefore.campaignId, { [`won.${wonBefore.amount.currency}`]: -wonBefore.amount.amount });
      if (wonAfter) await applying.counters(wonAfter.campaignId, { [`won.${wonAfter.amount.currency}`]: wonAfter.amount.amount });
      await wonMoved(wonBefore, -1);
      await wonMoved(wonAfter, 1);
    }
    const lastBefore = before.won && before.amount ? before.amount : undefined;
    const lastAfter = after.won && after.amount ? after.amount : undefined;
    if (lastTouch && JSON.stringify(lastBefore) !== JSON.stringify(lastAfter)) {
      if (lastBefore) await applying.counters(lastTouch, { [`lastTouchWon.${lastBefore.currency}`]: -lastBefore.amount });
      if (lastAfter) await applying.counters(lastTouch, { [`lastTouchWon.${lastAfter.currency}`]: lastAfter.amount });
    }
    return { campaignId: after.campaignId, ...(after.amount ? { amount: after.amount } : {}), won: after.won };
  });
}

/** A campaign's counters (empty ones for a campaign nothing happened to yet). */
export const campaignResults = async (store: ReadStore, campaignId: string): Promise<CampaignResultsDoc> =>
  (await store.collection<CampaignResultsDoc>(CAMPAIGN_RESULTS).findOne({ _id: campaignId })) ?? { _id: campaignId };
