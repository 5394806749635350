import { isResourceName, type RecordState, recordStream, type ResourceName, type ResourceSpec, resourceNames, resourceSpecs, specOf } from '../domain/customization/resources.ts';
import { DomainError } from '../domain/shared/errors.ts';
import { ownerInScope, partiesInScope } from '../access/scope.ts';
import { isAllowed } from './authorization.ts';
import type { Actor, CommandDeps } from './context.ts';
import { type Loaded, load } from './pipeline.ts';

/** Who a record belongs to: its owner (null: nobody's, as a customer in the pool) and who shares it. */
export interface Holder {
  ownerId: string | null;
  collaborators?: readonly string[] | undefined;
  /** A record of `parties` scope: its queue and its customer's owner see it too (and nobody's is nobody's, not the pool's). */
  parties?: { queueId: string | null; customerOwnerId: string | null };
}

/** A record of a registered type, loaded from its stream. */
export const loadRecord = (deps: CommandDeps, spec: ResourceSpec, id: string): Promise<Loaded<RecordState>> => load(deps, spec.decider, recordStream(spec, id));

/** Whether a record of a registered type exists (for a reference to company-wide data, which only has to exist). */
export const recordExists = async (deps: CommandDeps, spec: ResourceSpec, id: string): Promise<boolean> => (await loadRecord(deps, spec, id)).state.status !== 'none';

/**
 * Who holds an existing record, by its type's scope rule (the registry's `scope`): its owner, or the holder of
 * the record it belongs to; undefined when that parent does not exist.
 */
export async function holderOf(deps: CommandDeps, spec: ResourceSpec, state: RecordState): Promise<Holder | undefined> {
  const scope = spec.scope;
  switch (scope.by) {
    case 'company':
      return { ownerId: null };
    case 'owner':
      return { ownerId: (state as { ownerId?: string | null }).ownerId ?? null, collaborators: scope.collaborators?.(state as never) };
    case 'parent': {
      const parent = specOf(scope.resource as ResourceName);
      const { state: parentState } = await loadRecord(deps, parent, scope.parentId(state as never));
      return parentState.status === 'none' ? undefined : holderOf(deps, parent, parentState);
    }
    case 'parties': {
      const parties = scope.parties(state as never);
      const { state: customer } = await loadRecord(deps, specOf('customers'), parties.customerId);
      const customerOwnerId = customer.status === 'none' ? null : ((customer as { ownerId?: string | null }).ownerId ?? null);
      return { ownerId: parties.ownerId, parties: { queueId: parties.queueId, customerOwnerId } };
    }
  }
}

/** Whether a holder is in the actor's data scope (a record nobody owns is in everyone's, unless it has parties). */
const holderInScope = (deps: CommandDeps, actor: Actor, holder: Holder): Promise<boolean> =>
  holder.parties ? partiesInScope(deps, actor, { ownerId: holder.ownerId, ...holder.parties }) : ownerInScope(deps, actor, holder.ownerId, holder.collaborators);

/** Whether an existing record is in the actor's data scope (one in the pool is, for everyone who may view the module). */
export async function stateInScope(deps: CommandDeps, actor: Actor, spec: ResourceSpec, state: RecordState): Promise<boolean> {
  const holder = await holderOf(deps, spec, state);
  return holder !== undefined && (await holderInScope(deps, actor, holder));
}

/** The record types that declare a `referenceField` and match `which`, by that field. */
function referenceFieldsWhere(which: (spec: ResourceSpec) => boolean): Readonly<Record<string, ResourceSpec>> {
  return Object.fromEntries(resourceNames.map((name) => specOf(name)).flatMap((spec) => (spec.referenceField && which(spec) ? [[spec.referenceField, spec]] : [])));
}

/** A record type whose records are scoped (not company-wide reference data): a body or a reference field naming one is checked. */
export const isScoped = (resource: string): boolean => isResourceName(resource) && resourceSpecs[resource].scope.by !== 'company';

/**
 * The body fields that name a scoped record, wherever they appear in a request body (each record type declares
 * its `referenceField`). Company-wide reference data (products, stages, departments, employees: `productId`,
 * `ownerId`, …) only has to exist and is checked by its command.
 */
export const scopedReferenceFields = referenceFieldsWhere((spec) => spec.scope.by !== 'company');

/**
 * The body fields that cite company-wide data by id (a record type of `company` scope that declares its
 * `referenceField`: `campaignId`): the caller must be allowed to view its module. That it exists is checked by
 * the command (the citing type's `references`).
 */
export const companyReferenceFields = referenceFieldsWhere((spec) => spec.scope.by === 'company');

/**
 * Whether a scoped record exists, may still be referred to, and is the actor's to use (a customer in the pool is not,
 * until claimed). One merged into another (a duplicate customer) is refused by name to whoever may see it (409
 * `<singular>.merged` naming where it went), so nothing new is attached to it.
 */
export async function referenceVisible(deps: CommandDeps, actor: Actor, spec: ResourceSpec, id: string): Promise<boolean> {
  const { state } = await loadRecord(deps, spec, id);
  const merged = state.status === 'merged';
  if (state.status === 'none' || (!merged && spec.scope.by === 'parent' && spec.scope.referable && !spec.scope.referable(state as never))) return false;
  const holder = await holderOf(deps, spec, state);
  const visible = holder !== undefined && (holder.ownerId !== null || holder.parties !== undefined) && (await holderInScope(deps, actor, holder));
  if (visible && merged) {
    const mergedInto = (state as { mergedInto?: string }).mergedInto;
    throw new DomainError(`${spec.singular}.merged`, `${spec.singular} ${id} was merged into ${mergedInto}; refer to that one`, { [spec.referenceField ?? 'id']: id, mergedInto });
  }
  return visible;
}

/** Whether the actor may read a record (one in the pool included): what a conflict answer may name. */
export async function recordVisible(deps: CommandDeps, actor: Actor, spec: ResourceSpec, id: string): Promise<boolean> {
  const { state } = await loadRecord(deps, spec, id);
  return state.status !== 'none' && (await stateInScope(deps, actor, spec, state));
}

/** The same answer for a record that does not exist and one outside the caller's scope: 404 naming the field. */
export const referenceNotFound = (spec: ResourceSpec, id: string, path: string) =>
  new DomainError(`${spec.singular}.not_found`, `${path}: ${spec.singular} ${id} does not exist or is outside your data scope`, { errors: [{ path, message: `No ${spec.singular} with this id in your data scope` }] });

/**
 * Every id in a request body that names a scoped record must name one in the actor's data scope; the first
 * that does not answers 404, as if it did not exist. Walks nested objects and arrays (`lines[].quoteId`).
 */
export async function assertReferencesInScope(deps: CommandDeps, actor: Actor, body: unknown, path = ''): Promise<void> {
  if (Array.isArray(body)) {
    for (const [i, item] of body.entries()) await assertReferencesInScope(deps, actor, item, `${path}[${i}]`);
    return;
  }
  if (!body || typeof body !== 'object') return;
  for (const [key, value] of Object.entries(body)) {
    const here = path ? `${path}.${key}` : key;
    const spec = scopedReferenceFields[key];
    const reference = companyReferenceFields[key];
    if (spec && typeof value === 'string') {
      if (!(await referenceVisible(deps, actor, spec, value))) throw referenceNotFound(spec, value, here);
    } else if (reference && typeof value === 'string') {
      // Company-wide data a body may cite by its reference field (a campaign): whoever may view its module may cite it; to anyone else it does not exist.
      if (!isAllowed(actor, reference.module, 'view')) throw referenceNotFound(reference, value, here);
    } else if (key !== 'custom') await assertReferencesInScope(deps, actor, value, here);
  }
}
