import type { Actor } from '../commands/context.ts';
import type { Filter } from '../infra/readstore/port.ts';

declare const scoped: unique symbol;
/** A filter limiting documents to what an actor may see. Only `scopeFor` makes one, so no query can skip it. */
export type DataScope = Filter & { readonly [scoped]: true };

const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The one place data scopes are decided. Every owned document carries `ownerId` and `departmentPath`.
 * Today: admins see everything, everyone else their own records and those of their department subtree
 * when they hold the `manager` role. The organisation issue replaces the role test with role data scopes.
 */
export function scopeFor(actor: Actor): DataScope {
  if (actor.roles.includes('admin')) return {} as DataScope;
  if (actor.roles.includes('manager'))
    return { departmentPath: { $regex: `^${escapeRegex(actor.departmentPath)}` } } as unknown as DataScope;
  return { ownerId: actor.userId } as unknown as DataScope;
}

/** Combines a scope with a query filter. */
export const withinScope = (scope: DataScope, filter: Filter): Filter =>
  Object.keys(scope).length === 0 ? filter : Object.keys(filter).length === 0 ? { ...scope } : { $and: [scope, filter] };

/** Whether one document is inside the scope (for records read from their stream, e.g. history). */
export function inScope(actor: Actor, doc: { ownerId?: string; departmentPath?: string }): boolean {
  if (actor.roles.includes('admin')) return true;
  if (actor.roles.includes('manager')) return (doc.departmentPath ?? '').startsWith(actor.departmentPath);
  return doc.ownerId === actor.userId;
}
