import { type RecordParties, type RecordState, type ResourceSpec, resourceNames, specOf } from '../domain/customization/resources.ts';
import type { DomainEvent } from '../domain/shared/decider.ts';
import { type PartyLookup, recordProjection, registered, type RecordDoc, searchText, stamp } from './owned.ts';
import type { Projection } from './projection.ts';

type StateDoc = RecordDoc & { _state: RecordState };

/**
 * The read model of a record type that declares one (`readModel` in the registry): one document per record in
 * the collection named like the resource, holding the record's state folded by its own decider (kept as
 * `_state`, never shown) as `view` shows it, with the envelope every list reads (id, revision, times, search
 * text; owner and department path for an owned type). No projection code per record type.
 */
export function declaredProjection(spec: ResourceSpec): Projection {
  const model = spec.readModel!;
  const basics = registered(spec);
  const { owned } = basics;
  const scope = spec.scope;
  return recordProjection<StateDoc>({
    ...basics,
    version: model.version,
    async evolve(doc, event, ownerPath, lookup) {
      const state = spec.decider.evolve(doc?._state ?? spec.decider.initialState, { type: event.type, data: event.data } as DomainEvent);
      if (state.status === 'none' || model.gone?.(state as never)) return null;
      const id = basics.idOf(event);
      const view = model.view(state as never);
      // Built afresh from the state (a field the record no longer has is gone), keeping only what the state does
      // not hold: when the record was created, and its owner's department path while the owner stays.
      const parties = scope.by === 'parties' ? scope.parties(state as never) : undefined;
      const ownership = owned ? await ownershipOf(parties ? parties.ownerId : ((state as { ownerId?: string | null }).ownerId ?? null), doc, ownerPath) : {};
      return { _id: id, id, ...view, ...ownership, ...(parties ? await partiesOf(parties, doc, lookup) : {}), createdAt: doc?.createdAt ?? event.metadata.at, ...stamp(event), _state: state, _search: searchText(...spec.search.map((field) => view[field])) };
    },
  });
}

/** An owned record's owner and the owner's department path (kept current by the org mirror while the owner stays). */
async function ownershipOf(ownerId: string | null, doc: StateDoc | null, ownerPath: (ownerId: string) => Promise<string>) {
  if (doc && doc.ownerId === ownerId) return { ownerId, departmentPath: doc.departmentPath };
  return { ownerId, departmentPath: ownerId === null ? null : await ownerPath(ownerId) };
}

/** The queue's and the customer owner's paths of a `parties` record (looked up again only when its queue or customer changes). */
async function partiesOf(parties: RecordParties, doc: StateDoc | null, lookup: PartyLookup) {
  const queuePath = parties.queueId === null ? null : doc && doc.queueId === parties.queueId ? doc.queuePath : await lookup.departmentPath(parties.queueId);
  const customer = doc && doc.customerId === parties.customerId ? { customerOwnerId: doc.customerOwnerId, customerOwnerPath: doc.customerOwnerPath } : await lookup.customerOwner(parties.customerId);
  return { queueId: parties.queueId, queuePath, customerId: parties.customerId, ...customer };
}

/** Every registered record type's declared read model. */
export const declaredProjections: readonly Projection[] = resourceNames.map(specOf).flatMap((spec) => (spec.readModel ? [declaredProjection(spec)] : []));
