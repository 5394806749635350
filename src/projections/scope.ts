import { escapeRegex } from '../infra/readstore/regex.ts';
import type { Actor, CommandDeps } from '../commands/context.ts';
import { getEmployee } from '../commands/employees.ts';
import { departmentPath } from '../commands/org.ts';
import type { Filter } from '../infra/readstore/port.ts';

declare const scoped: unique symbol;
/** A filter limiting documents to what an actor may see. Only `scopeFor` makes one, so no query can skip it. */
export type DataScope = Filter & { readonly [scoped]: true };

/**
 * The one place data scopes are decided. Every owned document carries `ownerId` and its owner's
 * `departmentPath` (`/<rootId>/…/<departmentId>/`), kept current by the projections when people or
 * departments move. Own records are always in scope.
 * - own: ownerId is the actor
 * - department: the owner is in the actor's department
 * - department_tree: the owner is in the actor's department or below it
 * - all: everything
 */
export function scopeFor(actor: Actor): DataScope {
  const own = { ownerId: actor.userId };
  switch (actor.dataScope) {
    case 'all':
      return {} as DataScope;
    case 'department':
      return { $or: [own, { departmentPath: actor.departmentPath }] } as unknown as DataScope;
    case 'department_tree':
      return { $or: [own, { departmentPath: { $regex: `^${escapeRegex(actor.departmentPath)}` } }] } as unknown as DataScope;
    case 'own':
      return own as unknown as DataScope;
  }
}

/** Combines a scope with a query filter. */
export const withinScope = (scope: DataScope, filter: Filter): Filter =>
  Object.keys(scope).length === 0 ? filter : Object.keys(filter).length === 0 ? { ...scope } : { $and: [scope, filter] };

/** The same decision for one record read from its stream (history, point in time, commands). */
export function pathInScope(actor: Actor, ownerId: string, ownerDepartmentPath: string): boolean {
  if (ownerId === actor.userId || actor.dataScope === 'all') return true;
  if (actor.dataScope === 'department') return ownerDepartmentPath === actor.departmentPath;
  if (actor.dataScope === 'department_tree') return ownerDepartmentPath.startsWith(actor.departmentPath);
  return false;
}

/**
 * Whether a record owned by `ownerId` is in the actor's scope, resolving the owner's current department
 * from the event store. A record in the customer pool (no owner) is visible to everyone.
 */
export async function ownerInScope(deps: CommandDeps, actor: Actor, ownerId: string | null): Promise<boolean> {
  if (ownerId === null || ownerId === actor.userId || actor.dataScope === 'all') return true;
  if (actor.dataScope === 'own') return false;
  const owner = await getEmployee(deps, ownerId);
  return owner !== undefined && pathInScope(actor, ownerId, await departmentPath(deps, owner.fields.departmentId));
}
