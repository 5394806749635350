import { type OpportunityEvent } from '../domain/opportunity/index.ts';
import { merged } from '../infra/merged.ts';
import type { Money } from '../domain/shared/money.ts';
import { applyChanges } from '../domain/shared/normalize.ts';
import { COMPANY, companyZone } from './company.ts';
import { balanceCollections, CounterDeltas, dayOf, monthly, yearly } from './counters.ts';
import { ownedStart, recordProjection, searchText, stamp, type RecordDoc, registered } from './owned.ts';
import { resourceSpecs } from '../domain/customization/resources.ts';
import { keyed } from './projection.ts';

export const OPPORTUNITIES = 'opportunities';
export const FUNNEL = 'report_opportunity_funnel';
export const STAGE_EXITS = 'report_opportunity_stage_exits';
export const CLOSES = 'report_opportunity_closes';
/** Lost opportunities per close day, owner, competitor lost to (the empty string: none) and reason. */
export const LOSSES = 'report_opportunity_losses';
/**
 * The open pipeline as a balance: per day, stage, owner and currency, the change in open opportunities (count and
 * amount) that day's events made. The pipeline as it stood at the start of a day is the sum of every change before it
 * (its totals twin less the changes since).
 */
export const PIPELINE = 'report_opportunity_pipeline';
/**
 * Open opportunities as they are now, by expected close date, stage, owner and currency (count and amount): the
 * forecast sums the days (whole months from the monthly twin) it covers.
 */
export const FORECAST = 'report_opportunity_forecast';

export type OpportunityDoc = RecordDoc & {
  ownerId: string;
  stage: string;
  status: 'open' | 'won' | 'lost';
  amount: Money;
  stageEnteredAt: string;
  stageHistory: { stage: string; enteredAt: string; leftAt?: string }[];
  closedAt?: string;
};

/** The fields an opportunity moved to another stage (and status) sets: its history closed and extended, its close time. */
function movedTo(current: OpportunityDoc, stage: string, status: OpportunityDoc['status'], at: string): Partial<OpportunityDoc> {
  const stageHistory = current.stageHistory.map((h) => (h.leftAt ? h : merged(h, { leftAt: at })));
  stageHistory.push({ stage, enteredAt: at });
  return status === 'open' ? { stage, status, stageEnteredAt: at, stageHistory } : { stage, status, stageEnteredAt: at, stageHistory, closedAt: at };
}

/** The funnel counter an opportunity contributes to: created day, current stage, owner, currency. */
function funnelContribution(deltas: CounterDeltas, doc: OpportunityDoc | null, sign: number, zone: string): void {
  if (!doc) return;
  deltas.add(FUNNEL, { day: dayOf(doc.createdAt, zone), stage: doc.stage, ownerId: doc.ownerId, currency: doc.amount.currency }, { count: 1, amount: doc.amount.amount }, sign);
}

function closeContribution(deltas: CounterDeltas, doc: OpportunityDoc, sign: number, zone: string): void {
  if (doc.status === 'open' || !doc.closedAt) return;
  const won = doc.status === 'won';
  deltas.add(
    CLOSES,
    { day: dayOf(doc.closedAt, zone), ownerId: doc.ownerId, currency: doc.amount.currency },
    { won: won ? 1 : 0, lost: won ? 0 : 1, wonAmount: won ? doc.amount.amount : 0, wonCycleMs: won ? new Date(doc.closedAt).getTime() - new Date(doc.createdAt).getTime() : 0 },
    sign,
  );
  if (!won) deltas.add(LOSSES, { day: dayOf(doc.closedAt, zone), ownerId: doc.ownerId, competitor: (doc.lostTo as string | undefined) ?? '', reason: (doc.lostReason as string | undefined) ?? '' }, { lost: 1 }, sign);
}

/** What an open opportunity adds to the forecast while it is as it is (a closed one nothing). */
function forecastContribution(deltas: CounterDeltas, doc: OpportunityDoc | null, sign: number): void {
  const expected = doc?.expectedCloseDate as string | undefined;
  if (doc?.status !== 'open' || !expected) return;
  deltas.add(FORECAST, { day: expected, stage: doc.stage, ownerId: doc.ownerId, currency: doc.amount.currency }, { count: 1, amount: doc.amount.amount }, sign);
}

/** What an open opportunity holds of the pipeline, changed on the event's day (a closed one holds nothing). */
function pipelineContribution(deltas: CounterDeltas, doc: OpportunityDoc | null, day: string, sign: number): void {
  if (doc?.status !== 'open') return;
  deltas.addBalance(PIPELINE, { day, stage: doc.stage, ownerId: doc.ownerId, currency: doc.amount.currency }, { count: 1, amount: doc.amount.amount }, sign);
}

/**
 * Opportunities with their stage history, and three pre-aggregated report counters:
 * the funnel (by created day, stage, owner, currency), stage exits (time in stage, by the day the stage was
 * left) and closes (won/lost, won amount, cycle time, by close day). Reports sum counters, never scan records.
 */
export const opportunitiesProjection = recordProjection<OpportunityDoc, OpportunityEvent>({
  ...registered(resourceSpecs.opportunities),
  // 2: day and month counters in the company's time zone (was UTC).
  // 3: competitors are references (ids) to the competitors archive, no longer searched as text.
  // 4: month-level twins of the day counters.
  // 5: lastContactedAt and the activity day counts.
  // 6: the losses and pipeline counters. 7: the pipeline's totals twin. 8: the forecast counters. 9: the
  // pipeline's yearly twin, and every monthly twin indexed by month.
  version: 9,
  activities: 'opportunityId',
  reads: [COMPANY],
  collections: [...[FUNNEL, STAGE_EXITS, CLOSES, LOSSES, FORECAST].flatMap((collection) => [collection, monthly(collection)]), ...balanceCollections(PIPELINE)],
  async setup(store) {
    await store.collection(OPPORTUNITIES).createIndex({ customerId: 1 });
    await store.collection(OPPORTUNITIES).createIndex({ stage: 1 });
    await store.collection(OPPORTUNITIES).createIndex({ competitors: 1 });
    // A report's edge days are a range of the day counters.
    for (const counters of [FUNNEL, STAGE_EXITS, CLOSES, LOSSES, PIPELINE, FORECAST]) await store.collection(counters).createIndex({ day: 1 });
    for (const counters of [FUNNEL, STAGE_EXITS, CLOSES, LOSSES, PIPELINE, FORECAST]) await store.collection(monthly(counters)).createIndex({ month: 1 });
    await store.collection(yearly(PIPELINE)).createIndex({ year: 1 });
  },
  async evolve(doc, event, ownerPath) {
    const at = event.metadata.at;
    // The document the event starts from (a new one, or the changed fields applied) and the fields it sets on it:
    // the result is made in one copy, with the stamp and search keys.
    let base: OpportunityDoc | null = doc;
    let changes: Partial<OpportunityDoc> = {};
    switch (event.type) {
      case 'OpportunityCreated':
        base = merged(
          keyed(event.data.opportunityId),
          event.data.fields,
          { stage: event.data.stage, status: 'open' as const, stageEnteredAt: at, stageHistory: [{ stage: event.data.stage, enteredAt: at }] },
          await ownedStart(event, event.data.ownerId, ownerPath),
        );
        break;
      case 'OpportunityChanged':
        base = doc && (applyChanges(doc, event.data.changes) as OpportunityDoc);
        break;
      case 'OpportunityStageChanged':
      case 'OpportunityReopened':
        changes = doc ? movedTo(doc, event.data.stage, 'open', at) : {};
        break;
      case 'OpportunityWon':
        changes = doc ? movedTo(doc, event.data.stage, 'won', at) : {};
        break;
      case 'OpportunityLost':
        changes = doc ? merged(movedTo(doc, event.data.stage, 'lost', at), { lostReason: event.data.reason }, event.data.competitor ? { lostTo: event.data.competitor } : {}) : {};
        break;
      case 'OpportunityOwnerChanged':
        changes = { ownerId: event.data.ownerId, departmentPath: await ownerPath(event.data.ownerId) };
        break;
    }
    if (!base) return null;
    const name = changes.name ?? base.name;
    const next = merged(base, changes, stamp(event), { _search: doc && name === doc.name && typeof doc._search === 'string' ? doc._search : searchText(name) });
    // Reopened: no longer closed (the only change that takes a field away).
    if (next.status === 'open' && next.closedAt !== undefined) delete next.closedAt;
    return next;
  },
  async beforeWrite(before, after, event, store) {
    const deltas = new CounterDeltas();
    const zone = await companyZone(store);
    funnelContribution(deltas, before, -1, zone);
    funnelContribution(deltas, after, +1, zone);
    if (before && after && before.stage !== after.stage)
      deltas.add(STAGE_EXITS, { day: dayOf(event.metadata.at, zone), stage: before.stage, ownerId: before.ownerId }, { exits: 1, totalMs: new Date(event.metadata.at).getTime() - new Date(before.stageEnteredAt).getTime() });
    if (before && before.status !== 'open' && (!after || after.status === 'open' || after.ownerId !== before.ownerId || after.closedAt !== before.closedAt)) closeContribution(deltas, before, -1, zone);
    if (after && after.status !== 'open' && (!before || before.status === 'open' || after.ownerId !== before.ownerId || after.closedAt !== before.closedAt)) closeContribution(deltas, after, +1, zone);
    const day = dayOf(event.metadata.at, zone);
    pipelineContribution(deltas, before, day, -1);
    pipelineContribution(deltas, after, day, +1);
    forecastContribution(deltas, before, -1);
    forecastContribution(deltas, after, +1);
    await deltas.apply(store, event);
  },
});
