import { whyInScope } from '../access/scope.ts';
import { type ResourceName, type ResourceSpec, resourceNames, specOf } from '../domain/customization/resources.ts';
import { type Action, ADMIN_ROLE_KEY, type DataScopeKind, type FieldSecurity, type Module, type Permissions, roleDecider, roleStream } from '../domain/role/index.ts';
import { AsOfEventStore } from '../infra/eventstore/as-of.ts';
import { resolveActor } from './access.ts';
import { isAllowed } from './authorization.ts';
import type { Actor, CommandDeps } from './context.ts';
import { getEmployee } from './employees.ts';
import { departmentPath } from './org.ts';
import { load } from './pipeline.ts';
import { holderOf, loadRecord } from './references.ts';

/** The commands' view of the log as it stood at `at`: every stream folded as of then; nothing can be written. */
export const depsAsOf = (deps: CommandDeps, at: Date): CommandDeps => ({ ...deps, eventStore: new AsOfEventStore(deps.eventStore, at), clock: { now: () => new Date(at) } });

/** A role as it stood: its name, and whether it granted an action on a module. */
interface RoleThen {
  id: string;
  key: string | null;
  name: string;
  permissions: Permissions;
  dataScope: DataScopeKind;
  fieldSecurity: FieldSecurity;
}

async function rolesThen(deps: CommandDeps, roleIds: readonly string[]): Promise<RoleThen[]> {
  const roles: RoleThen[] = [];
  for (const id of roleIds) {
    const { state } = await load(deps, roleDecider, roleStream(id));
    if (state.status === 'active') roles.push({ id, key: state.key, name: state.name, permissions: state.permissions, dataScope: state.dataScope, fieldSecurity: state.fieldSecurity ?? {} });
  }
  return roles;
}

/** Who could reach a record, and why. */
export interface AccessGrant {
  employeeId: string;
  name: string;
  departmentPath: string;
  roles: { id: string; name: string }[];
  read: boolean;
  edit: boolean;
  /** The reasons, in words: the roles that granted the module's actions, and the scope rule that covered the record. */
  why: string[];
  /** The record's fields hidden from them, and those they could read but not change (field rules of their roles). */
  hiddenFields: string[];
  readOnlyFields: string[];
}

export interface RecordAccess {
  at: string;
  record: { resource: ResourceName; id: string; exists: boolean; ownerId: string | null; ownerDepartmentPath: string | null; collaborators: string[] };
  access: AccessGrant[];
}

/** The registered record type whose stream holds `id` (ids are unique across types), at `at`. */
export async function recordTypeOf(deps: CommandDeps, id: string): Promise<ResourceSpec | undefined> {
  for (const name of resourceNames) {
    const spec = specOf(name);
    if ((await loadRecord(deps, spec, id)).state.status !== 'none') return spec;
  }
  return undefined;
}

const fieldsRuled = (rules: FieldSecurity, resource: string, rule: 'hidden' | 'readonly') =>
  Object.entries(rules[resource] ?? {})
    .filter(([, value]) => value === rule)
    .map(([field]) => field)
    .sort();

/** The roles that granted an action on a module (the administrator role holds every one). */
const grantedBy = (roles: readonly RoleThen[], module: Module, action: Action) => roles.filter((role) => role.key === ADMIN_ROLE_KEY || role.permissions[module]?.includes(action)).map((role) => role.name);

/**
 * Who could read and who could edit a record at an instant, and why, from the role, department, employee and
 * ownership events as they stood then: each employee who existed, was enabled and had a login then, with the
 * module's permission from their roles, whose data scope covered the record's holder.
 */
export async function whoCouldAccess(deps: CommandDeps, spec: ResourceSpec, recordId: string, at: Date, employeeIds: readonly string[]): Promise<RecordAccess> {
  const then = depsAsOf(deps, at);
  const { state } = await loadRecord(then, spec, recordId);
  const exists = state.status !== 'none';
  const holder = exists ? await holderOf(then, spec, state) : undefined;
  const ownerId = holder?.ownerId ?? null;
  const owner = ownerId ? await getEmployee(then, ownerId) : undefined;
  const record = {
    resource: spec.name as ResourceName,
    id: recordId,
    exists,
    ownerId,
    ownerDepartmentPath: owner ? await departmentPath(then, owner.fields.departmentId) : null,
    collaborators: [...(holder?.collaborators ?? [])],
  };
  const access: AccessGrant[] = [];
  if (holder)
    for (const employeeId of employeeIds) {
      const employee = await getEmployee(then, employeeId);
      if (!employee || employee.status !== 'active' || !employee.account) continue;
      const actor = await resolveActor(then, employee);
      const read = isAllowed(actor, spec.module, 'view');
      if (!read) continue;
      const scope = await whyInScope(then, actor, holder);
      if (!scope) continue;
      const roles = await rolesThen(then, employee.roleIds);
      const edit = isAllowed(actor, spec.module, 'edit');
      access.push({
        employeeId,
        name: String(employee.fields.name),
        departmentPath: actor.departmentPath,
        roles: roles.map(({ id, name }) => ({ id, name })),
        read,
        edit,
        why: [
          `${spec.module}:view from ${grantedBy(roles, spec.module, 'view').join(', ') || 'their roles'}`,
          ...(edit ? [`${spec.module}:edit from ${grantedBy(roles, spec.module, 'edit').join(', ') || 'their roles'}`] : []),
          scope,
        ],
        hiddenFields: fieldsRuled(actor.fieldRules, spec.name, 'hidden'),
        readOnlyFields: fieldsRuled(actor.fieldRules, spec.name, 'readonly'),
      });
    }
  return { at: at.toISOString(), record, access };
}

/** What one employee could see at an instant: whether they could log in, their roles, permissions, data scope and field rules then. */
export interface EmployeeAccess {
  at: string;
  employee: { id: string; exists: boolean; name: string | null; status: 'active' | 'disabled' | null; canLogIn: boolean; departmentPath: string | null };
  roles: { id: string; name: string; dataScope: DataScopeKind }[];
  permissions: Permissions;
  dataScope: DataScopeKind | null;
  /** The data scope in words: whose records they saw. */
  sees: string;
  fieldRules: FieldSecurity;
}

export async function whatCouldSee(deps: CommandDeps, employeeId: string, at: Date): Promise<EmployeeAccess> {
  const then = depsAsOf(deps, at);
  const employee = await getEmployee(then, employeeId);
  if (!employee) return { at: at.toISOString(), employee: { id: employeeId, exists: false, name: null, status: null, canLogIn: false, departmentPath: null }, roles: [], permissions: {}, dataScope: null, sees: 'nothing: not an employee then', fieldRules: {} };
  const actor: Actor = await resolveActor(then, employee);
  const roles = await rolesThen(then, employee.roleIds);
  const canLogIn = employee.status === 'active' && employee.account !== undefined;
  const sees = !canLogIn
    ? `nothing: ${employee.status === 'disabled' ? 'disabled' : 'no login'} then`
    : actor.dataScope === 'all'
      ? 'every record of the modules they could view'
      : actor.dataScope === 'own'
        ? 'the records they owned (and those whose team they were on)'
        : actor.dataScope === 'department'
          ? `the records owned in their department ${actor.departmentPath}, and their own`
          : `the records owned in ${actor.departmentPath} and the departments below it, and their own`;
  return {
    at: at.toISOString(),
    employee: { id: employeeId, exists: true, name: String(employee.fields.name), status: employee.status, canLogIn, departmentPath: actor.departmentPath },
    roles: roles.map(({ id, name, dataScope }) => ({ id, name, dataScope })),
    permissions: canLogIn ? actor.permissions : {},
    dataScope: actor.dataScope,
    sees,
    fieldRules: actor.fieldRules,
  };
}

