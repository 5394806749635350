import type { Actor, CommandDeps } from '../commands/context.ts';
import { getEmployee } from '../commands/employees.ts';
import { departmentPath } from '../commands/org.ts';
import type { Filter } from '../infra/readstore/port.ts';
import { escapeRegex } from '../infra/readstore/regex.ts';

/**
 * The one scope policy. A data scope is a rule over a record's owner: own records are always in scope; beyond
 * them the actor sees the records owned in their department (`department`), in it and below it
 * (`department_tree`), or everything (`all`). Every owned record carries `ownerId` and its owner's
 * `departmentPath` (`/<rootId>/…/<departmentId>/`), kept current when people or departments move; a record may
 * also name collaborators (an opportunity's team), who see it too. The rule is read here once and answers the
 * three questions callers ask: the read-store filter, whether one record is in scope, which owners a report covers.
 */
type Rule = { all: true } | { all: false; self: string; department?: { path: string; subtree: boolean } };

function ruleOf(actor: Actor): Rule {
  switch (actor.dataScope) {
    case 'all':
      return { all: true };
    case 'own':
      return { all: false, self: actor.userId };
    case 'department':
    case 'department_tree':
      return { all: false, self: actor.userId, department: { path: actor.departmentPath, subtree: actor.dataScope === 'department_tree' } };
  }
}

declare const scoped: unique symbol;
/** A read-store filter limiting documents to what an actor may see. Only this module makes one. */
export type DataScope = Filter & { readonly [scoped]: true };

/** No limit: for company-wide reference data and the customer pool, which everyone who may view the module sees. */
export const UNRESTRICTED: DataScope = Object.freeze({}) as DataScope;

/**
 * Question 1: the read-store filter of the actor's scope (with `collaborators`, a record's team sees it too; with
 * `parties`, the members of its queue and the owner of its customer, and those the rule covers over them).
 */
export function readFilter(actor: Actor, options: { collaborators?: boolean; parties?: boolean } = {}): DataScope {
  const rule = ruleOf(actor);
  if (rule.all) return UNRESTRICTED;
  const ways: Filter[] = [{ ownerId: rule.self }];
  const path = rule.department && (rule.department.subtree ? { $regex: `^${escapeRegex(rule.department.path)}` } : rule.department.path);
  if (path) ways.push({ departmentPath: path });
  if (options.collaborators) ways.push({ collaborators: rule.self });
  if (options.parties) {
    ways.push({ customerOwnerId: rule.self });
    if (actor.departmentId) ways.push({ queueId: actor.departmentId });
    if (path) ways.push({ customerOwnerPath: path }, { queuePath: path });
  }
  return (ways.length === 1 ? ways[0]! : { $or: ways }) as DataScope;
}

/** Combines a scope with a query filter. */
export const withinScope = (scope: DataScope, filter: Filter): Filter =>
  Object.keys(scope).length === 0 ? filter : Object.keys(filter).length === 0 ? { ...scope } : { $and: [scope, filter] };

/** Question 2, for a record whose owner's department path is known. */
export function covers(actor: Actor, record: { ownerId: string; departmentPath: string; collaborators?: readonly string[] | undefined }): boolean {
  const rule = ruleOf(actor);
  if (rule.all || record.ownerId === rule.self || record.collaborators?.includes(rule.self)) return true;
  if (!rule.department) return false;
  return rule.department.subtree ? record.departmentPath.startsWith(rule.department.path) : record.departmentPath === rule.department.path;
}

/**
 * Question 2, for a record read from its stream: its owner's current department is resolved from the event
 * store. A record without an owner (the customer pool) is visible to everyone who may view the module.
 */
export async function ownerInScope(deps: CommandDeps, actor: Actor, ownerId: string | null, collaborators?: readonly string[]): Promise<boolean> {
  if (ownerId === null) return true;
  const rule = ruleOf(actor);
  if (rule.all || ownerId === rule.self || collaborators?.includes(rule.self)) return true;
  if (!rule.department) return false;
  const owner = await getEmployee(deps, ownerId);
  return owner !== undefined && covers(actor, { ownerId, departmentPath: await departmentPath(deps, owner.fields.departmentId) });
}

/** Question 2, for a record of `parties` scope (a service ticket): its assignee, its queue or its customer's owner is covered. */
export async function partiesInScope(deps: CommandDeps, actor: Actor, parties: { ownerId: string | null; queueId: string | null; customerOwnerId: string | null }): Promise<boolean> {
  for (const person of [parties.ownerId, parties.customerOwnerId]) if (person !== null && (await ownerInScope(deps, actor, person))) return true;
  if (parties.queueId === null) return false;
  if (actor.departmentId === parties.queueId) return true;
  return covers(actor, { ownerId: '', departmentPath: await departmentPath(deps, parties.queueId) });
}

/**
 * Question 3: the owners whose records a report may count, given a way to list the employees matching a
 * read-store filter on their `departmentPath`. null means everyone.
 */
export async function ownersCovered(actor: Actor, employeesWhere: (filter: Filter) => Promise<string[]>): Promise<string[] | null> {
  const rule = ruleOf(actor);
  if (rule.all) return null;
  if (!rule.department) return [rule.self];
  const path = rule.department.subtree ? { $regex: `^${escapeRegex(rule.department.path)}` } : rule.department.path;
  return [...new Set([rule.self, ...(await employeesWhere({ departmentPath: path }))])];
}

/** A scope that also covers the records nobody owns (`ownerId: null`, the customer pool), which everyone who may view the module sees. */
export const orUnowned = (scope: DataScope): DataScope => (Object.keys(scope).length === 0 ? scope : ({ $or: [{ ownerId: null }, scope] } as unknown as DataScope));

/**
 * Question 4, for forensics: why a record's holder is in the actor's scope, in words (null: it is not). The same
 * rule as the questions above, through `deps` (a view of the log at a past instant answers as of then).
 */
export async function whyInScope(
  deps: CommandDeps,
  actor: Actor,
  holder: { ownerId: string | null; collaborators?: readonly string[] | undefined; parties?: { queueId: string | null; customerOwnerId: string | null } },
): Promise<string | null> {
  const rule = ruleOf(actor);
  const owner = async (ownerId: string, as: string): Promise<string | null> => {
    if (rule.all) return 'data scope all: every record';
    if (ownerId === rule.self) return as === 'owner' ? 'owns it' : `is its ${as}`;
    if (!rule.department) return null;
    const employee = await getEmployee(deps, ownerId);
    if (!employee) return null;
    const path = await departmentPath(deps, employee.fields.departmentId);
    if (!covers(actor, { ownerId, departmentPath: path })) return null;
    return rule.department.subtree ? `its ${as} is in ${path}, within their department ${rule.department.path} (data scope department_tree)` : `its ${as} is in their department ${path} (data scope department)`;
  };
  if (holder.parties) {
    const { queueId, customerOwnerId } = holder.parties;
    for (const [person, as] of [[holder.ownerId, 'assignee'], [customerOwnerId, "customer's owner"]] as const) {
      const why = person !== null ? await owner(person, as) : null;
      if (why) return why;
    }
    if (queueId === null) return null;
    if (actor.departmentId === queueId) return 'it is queued in their department';
    const path = await departmentPath(deps, queueId);
    return covers(actor, { ownerId: '', departmentPath: path }) ? `it is queued in ${path}, which their data scope covers` : null;
  }
  if (holder.ownerId === null) return 'nobody owns it (the customer pool): everyone who may view the module sees it';
  if (holder.collaborators?.includes(actor.userId)) return 'is on its team (collaborator)';
  return owner(holder.ownerId, 'owner');
}

