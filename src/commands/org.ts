import { type DepartmentCommand, departmentDecider, departmentStream, type ParentFacts } from '../domain/department/index.ts';
import { ADMIN_ROLE_KEY, type DataScopeKind, type FieldSecurity, FIRST_MODULES, type Module, modules, type Permissions, type RoleCommand, roleDecider, roleStream, roleTemplates } from '../domain/role/index.ts';
import { readSetting, writeSetting } from './settings.ts';
import { checkFieldSecurity } from './customization.ts';
import { DomainError } from '../domain/shared/errors.ts';
import type { Actor, CommandDeps, RequestMeta } from './context.ts';
import { type Executed, execute, load } from './pipeline.ts';
import { claim, currentHolder, isHeld } from './reservations.ts';
import { getEmployee } from './employees.ts';

/** The ids from the root down to `departmentId` (inclusive), walking the department streams. */
export async function departmentAncestry(deps: CommandDeps, departmentId: string): Promise<string[] | undefined> {
  const chain: string[] = [];
  let current: string | null = departmentId;
  while (current) {
    if (chain.includes(current)) break; // defensive: a cycle can never be written, but never loop on one
    const { state }: { state: import('../domain/department/index.ts').DepartmentState } = await load(deps, departmentDecider, departmentStream(current));
    if (state.status === 'none') return undefined;
    chain.unshift(current);
    current = state.parentId;
  }
  return chain;
}

/** `/<rootId>/…/<departmentId>/`, or `/` for no department. */
export async function departmentPath(deps: CommandDeps, departmentId: string | null): Promise<string> {
  if (!departmentId) return '/';
  const chain = await departmentAncestry(deps, departmentId);
  return chain ? `/${chain.join('/')}/` : '/';
}

async function parentFacts(deps: CommandDeps, parentId: string | null): Promise<ParentFacts> {
  if (!parentId) return null;
  const chain = await departmentAncestry(deps, parentId);
  return { parentId, exists: chain !== undefined, ancestorIds: chain ?? [] };
}

export async function createDepartment(deps: CommandDeps, input: { name: string; parentId?: string | null }, actor: Actor, meta: RequestMeta) {
  const departmentId = meta.ids.newId();
  const command: DepartmentCommand = { type: 'CreateDepartment', departmentId, name: input.name, parent: await parentFacts(deps, input.parentId ?? null) };
  return { ...(await execute(deps, departmentDecider, departmentStream(departmentId), command, actor, meta)), departmentId };
}

export async function changeDepartment(deps: CommandDeps, departmentId: string, input: { name?: string; parentId?: string | null; managerId?: string | null }, actor: Actor, meta: RequestMeta) {
  if (typeof input.managerId === 'string') {
    const manager = await getEmployee(deps, input.managerId);
    if (!manager) throw new DomainError('employee.not_found', `Employee ${input.managerId} does not exist`, { errors: [{ path: 'managerId', message: 'No employee with this id' }] });
    if (manager.status === 'disabled') throw new DomainError('department.manager_disabled', `Employee ${input.managerId} is disabled and cannot lead a department`, { managerId: input.managerId });
  }
  const command: DepartmentCommand = {
    type: 'ChangeDepartment',
    departmentId,
    ...(input.name !== undefined ? { name: input.name } : {}),
    ...(input.parentId !== undefined ? { parent: await parentFacts(deps, input.parentId) } : {}),
    ...(input.managerId !== undefined ? { managerId: input.managerId } : {}),
  };
  return execute(deps, departmentDecider, departmentStream(departmentId), command, actor, meta);
}

/**
 * The managers above an employee, nearest first: the manager of their department (unless it is they), then of each
 * department up the tree, each person once and never the employee. The submitter's manager is the first, the
 * manager's manager the second.
 */
export async function managersAbove(deps: CommandDeps, employeeId: string): Promise<string[]> {
  const employee = await getEmployee(deps, employeeId);
  const departmentId = employee?.fields.departmentId;
  if (!departmentId) return [];
  const chain = (await departmentAncestry(deps, departmentId)) ?? [];
  const managers: string[] = [];
  for (const id of chain.reverse()) {
    const { state } = await load(deps, departmentDecider, departmentStream(id));
    const managerId = state.status === 'none' ? null : state.managerId;
    if (managerId && managerId !== employeeId && !managers.includes(managerId)) managers.push(managerId);
  }
  return managers;
}

export async function departmentExists(deps: CommandDeps, departmentId: string): Promise<boolean> {
  return (await load(deps, departmentDecider, departmentStream(departmentId))).state.status !== 'none';
}

const ROLE_KEY_SCOPE = 'role.key';

export async function roleIdByKey(deps: CommandDeps, key: string): Promise<string | undefined> {
  return currentHolder(deps, ROLE_KEY_SCOPE, key);
}

export async function createRole(
  deps: CommandDeps,
  input: { key?: string | null; name: string; permissions: Permissions; dataScope: DataScopeKind; fieldSecurity?: FieldSecurity; maxDiscountPercent?: number | null },
  actor: Actor,
  meta: RequestMeta,
): Promise<Executed<unknown> & { roleId: string }> {
  if (input.fieldSecurity) await checkFieldSecurity(deps, input.fieldSecurity);
  const roleId = meta.ids.newId();
  if (input.key) {
    const check = { holds: async () => true, exists: async () => true };
    try {
      await claim(deps, ROLE_KEY_SCOPE, input.key, roleId, check, actor, meta);
    } catch (error) {
      if (isHeld(error)) throw new DomainError('role.key_taken', `A role with key ${input.key} exists already`, { roleId: error.details.holderId });
      throw error;
    }
  }
  const command: RoleCommand = {
    type: 'CreateRole',
    roleId,
    key: input.key ?? null,
    name: input.name,
    permissions: input.permissions,
    dataScope: input.dataScope,
    ...(input.fieldSecurity && Object.keys(input.fieldSecurity).length ? { fieldSecurity: input.fieldSecurity } : {}),
    ...(input.maxDiscountPercent !== undefined && input.maxDiscountPercent !== null ? { maxDiscountPercent: input.maxDiscountPercent } : {}),
  };
  return { ...(await execute(deps, roleDecider, roleStream(roleId), command, actor, meta)), roleId };
}

export async function changeRole(
  deps: CommandDeps,
  roleId: string,
  input: { name?: string; permissions?: Permissions; dataScope?: DataScopeKind; fieldSecurity?: FieldSecurity; maxDiscountPercent?: number | null },
  actor: Actor,
  meta: RequestMeta,
) {
  if (input.fieldSecurity) await checkFieldSecurity(deps, input.fieldSecurity);
  return execute(deps, roleDecider, roleStream(roleId), { type: 'ChangeRole', roleId, ...input }, actor, meta);
}

/** The modules the template roles have been offered; a module added to the registry later is offered once. */
const OFFERED_MODULES_KEY = 'role-template-modules';

/**
 * Creates the built-in role templates that do not exist yet, and offers the template roles that do exist the
 * modules added since they were last offered (a start-up migration): each gets its template's grant for a new
 * module it lacks, as a RoleChanged event. What an administrator changed on a module already offered is never
 * touched, and neither is a role an administrator created. Idempotent; returns key → role id.
 */
export async function ensureRoleTemplates(deps: CommandDeps, actor: Actor, meta: () => RequestMeta): Promise<Record<string, string>> {
  const { value: offered } = await readSetting<Module[]>(deps, OFFERED_MODULES_KEY);
  const fresh = modules.filter((module) => !(offered ?? FIRST_MODULES).includes(module));
  const ids: Record<string, string> = {};
  for (const template of roleTemplates) {
    const existing = await roleIdByKey(deps, template.key);
    if (!existing) {
      ids[template.key] = (await createRole(deps, template, actor, meta())).roleId;
      continue;
    }
    ids[template.key] = existing;
    if (template.key === ADMIN_ROLE_KEY || fresh.length === 0) continue;
    const { state } = await load(deps, roleDecider, roleStream(existing));
    if (state.status === 'none') continue;
    const added = fresh.filter((module) => template.permissions[module]?.length && !state.permissions[module]?.length);
    if (added.length) await changeRole(deps, existing, { permissions: { ...state.permissions, ...Object.fromEntries(added.map((m) => [m, template.permissions[m]])) } }, actor, meta());
  }
  if (fresh.length) await writeSetting(deps, OFFERED_MODULES_KEY, modules, actor, meta());
  return ids;
}

/** Role ids that do not name an existing role → 409 employee.role_unknown. */
export async function assertRolesExist(deps: CommandDeps, roleIds: string[]): Promise<void> {
  for (const roleId of roleIds) {
    if ((await load(deps, roleDecider, roleStream(roleId))).state.status === 'none')
      throw new DomainError('employee.role_unknown', `Role ${roleId} does not exist`, { roleId });
  }
}
