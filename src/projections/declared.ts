import { type RecordState, type ResourceSpec, resourceNames, specOf } from '../domain/customization/resources.ts';
import type { DomainEvent } from '../domain/shared/decider.ts';
import { recordProjection, registered, type RecordDoc, searchText, stamp } from './owned.ts';
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
  const owned = spec.scope.by === 'owner';
  const basics = registered(spec);
  return recordProjection<StateDoc>({
    ...basics,
    version: model.version,
    async evolve(doc, event, ownerPath) {
      const state = spec.decider.evolve(doc?._state ?? spec.decider.initialState, { type: event.type, data: event.data } as DomainEvent);
      if (state.status === 'none' || model.gone?.(state as never)) return null;
      const id = basics.idOf(event);
      const view = model.view(state as never);
      // Built afresh from the state (a field the record no longer has is gone), keeping only what the state does
      // not hold: when the record was created, and its owner's department path while the owner stays.
      const ownership = owned ? await ownershipOf((state as { ownerId?: string | null }).ownerId ?? null, doc, ownerPath) : {};
      return { _id: id, id, ...view, ...ownership, createdAt: doc?.createdAt ?? event.metadata.at, ...stamp(event), _state: state, _search: searchText(...spec.search.map((field) => view[field])) };
    },
  });
}

/** An owned record's owner and the owner's department path (kept current by the org mirror while the owner stays). */
async function ownershipOf(ownerId: string | null, doc: StateDoc | null, ownerPath: (ownerId: string) => Promise<string>) {
  if (doc && doc.ownerId === ownerId) return { ownerId, departmentPath: doc.departmentPath };
  return { ownerId, departmentPath: ownerId === null ? null : await ownerPath(ownerId) };
}

/** Every registered record type's declared read model. */
export const declaredProjections: readonly Projection[] = resourceNames.map(specOf).flatMap((spec) => (spec.readModel ? [declaredProjection(spec)] : []));
