import type { LeadEvent } from '../domain/lead/index.ts';
import { applyChanges } from '../domain/shared/normalize.ts';
import { ownedStart, recordProjection, searchText, stamp, type RecordDoc, registered } from './owned.ts';
import { resourceSpecs } from '../domain/customization/resources.ts';
import { keyed } from './projection.ts';

export const leadsProjection = recordProjection<RecordDoc, LeadEvent>({
  ...registered(resourceSpecs.leads),
  version: 1,
  async evolve(doc, event, ownerPath) {
    let next: RecordDoc | null = doc;
    switch (event.type) {
      case 'LeadCreated':
        next = { ...keyed(event.data.leadId), ...event.data.fields, status: 'new', ...(await ownedStart(event, event.data.ownerId, ownerPath)) };
        break;
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
});
