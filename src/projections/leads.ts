import type { LeadEvent } from '../domain/lead/index.ts';
import { applyChanges } from '../domain/shared/normalize.ts';
import type { RecordedEvent } from '../infra/eventstore/port.ts';
import { ownedStart, recordProjection, searchText, stamp, type RecordDoc } from './owned.ts';

export const LEADS = 'leads';

export const leadsProjection = recordProjection<RecordDoc>({
  name: 'leads',
  version: 1,
  category: 'lead',
  collection: LEADS,
  owned: true,
  idOf: (event) => (event.data as { leadId: string }).leadId,
  async evolve(doc, event, ownerPath) {
    const e = event as RecordedEvent & LeadEvent;
    let next: RecordDoc | null = doc;
    switch (e.type) {
      case 'LeadCreated':
        next = { _id: e.data.leadId, id: e.data.leadId, ...e.data.fields, status: 'new', ...(await ownedStart(event, e.data.ownerId, ownerPath)) };
        break;
      case 'LeadChanged':
        next = doc && (applyChanges(doc, e.data.changes) as RecordDoc);
        break;
      case 'LeadStatusChanged':
        next = doc && { ...doc, status: e.data.status };
        break;
      case 'LeadDisqualified':
        next = doc && { ...doc, status: 'disqualified', disqualifiedReason: e.data.reason };
        break;
      case 'LeadConverted': {
        const { leadId: _id, ...converted } = e.data;
        next = doc && { ...doc, status: 'converted', converted, convertedAt: event.metadata.at };
        break;
      }
      case 'LeadOwnerChanged':
        next = doc && { ...doc, ownerId: e.data.ownerId, departmentPath: await ownerPath(e.data.ownerId) };
        break;
    }
    return next && { ...next, ...stamp(event), _search: searchText(next.company, next.person, next.phone, next.email) };
  },
});
