import type { LeadEvent } from '../domain/lead/index.ts';
import { applyChanges } from '../domain/shared/normalize.ts';
import { COMPANY, companyZone } from './company.ts';
import { CounterDeltas, dayOf, monthly } from './counters.ts';
import { ownedStart, recordProjection, searchText, stamp, type RecordDoc, registered } from './owned.ts';
import { resourceSpecs } from '../domain/customization/resources.ts';
import { keyed } from './projection.ts';

/**
 * Lead counters per day, owner and source (the empty string: none given): leads created (for their first owner,
 * on the day created) and converted (for the owner then, on the day converted). The KPI report sums them.
 */
export const LEAD_FLOW = 'report_lead_flow';

export const leadsProjection = recordProjection<RecordDoc, LeadEvent>({
  ...registered(resourceSpecs.leads),
  // 2: the lead flow counters.
  version: 2,
  reads: [COMPANY],
  collections: [LEAD_FLOW, monthly(LEAD_FLOW)],
  async setup(store) {
    await store.collection(LEAD_FLOW).createIndex({ day: 1 });
    await store.collection(monthly(LEAD_FLOW)).createIndex({ month: 1 });
  },
  async evolve(doc, event, ownerPath) {
    let next: RecordDoc | null = doc;
    switch (event.type) {
      case 'LeadCreated':
        next = { ...keyed(event.data.leadId), ...event.data.fields, status: 'new', ...(await ownedStart(event, event.data.ownerId, ownerPath)) };
        break;
      case 'LeadDiscarded':
        return null;
      case 'LeadReinstated': {
        // (Its creation time and the rest of its document come back with the batch's image of it.)
        const state = event.data.state as { ownerId: string; status: string };
        next = { ...keyed(event.data.leadId), ...event.data.fields, status: state.status, ...(await ownedStart(event, state.ownerId, ownerPath)) };
        break;
      }
      case 'LeadChanged':
        next = doc && (applyChanges(doc, event.data.changes) as RecordDoc);
        break;
      case 'LeadStatusChanged':
        next = doc && { ...doc, status: event.data.status };
        break;
      case 'LeadDisqualified':
        next = doc && { ...doc, status: 'disqualified', disqualifiedReason: event.data.reason };
        break;
      case 'LeadConverted': {
        const { leadId: _id, ...converted } = event.data;
        next = doc && { ...doc, status: 'converted', converted, convertedAt: event.metadata.at };
        break;
      }
      case 'LeadOwnerChanged':
        next = doc && { ...doc, ownerId: event.data.ownerId, departmentPath: await ownerPath(event.data.ownerId) };
        break;
    }
    return next && { ...next, ...stamp(event), _search: searchText(next.company, next.person, next.phone, next.email) };
  },
  async beforeWrite(before, after, event, store) {
    if (!after) {
      // Discarded (an undone import): its creation counts no more.
      if (!before) return;
      const deltas = new CounterDeltas();
      deltas.add(LEAD_FLOW, { day: dayOf(String(before.createdAt), await companyZone(store)), ownerId: before.ownerId as string, source: (before.source as string | undefined) ?? '' }, { created: -1 });
      await deltas.apply(store, event);
      return;
    }
    const created = !before;
    const converted = before?.status !== 'converted' && after.status === 'converted';
    if (!created && !converted) return;
    const deltas = new CounterDeltas();
    const key = { day: dayOf(event.metadata.at, await companyZone(store)), ownerId: after.ownerId as string, source: (after.source as string | undefined) ?? '' };
    deltas.add(LEAD_FLOW, key, created ? { created: 1 } : { converted: 1 });
    await deltas.apply(store, event);
  },
});
