import { type Action, actionsOf, ADMIN_ROLE_KEY, allPermissions, type DataScopeKind, dataScopes, type FieldSecurity, type Module, modules, type Permissions, roleDecider, type RoleState, roleStream } from '../domain/role/index.ts';
import { freezeOwned } from '../infra/frozen.ts';
import type { Actor, CommandDeps } from './context.ts';
import { getEmployee, type KnownEmployee } from './employees.ts';
import { departmentPath } from './org.ts';
import { load } from './pipeline.ts';

type Grants = { permissions: Permissions; dataScope: DataScopeKind; fieldRules: FieldSecurity };

/**
 * What one role's state grants, computed once per state (a role's state is shared while its stream is unchanged,
 * so a changed role is a new state and is computed afresh).
 */
const grantsOfState = new WeakMap<object, Grants>();

/** What a set of roles grants together: the union of their permissions, the widest data scope, their field rules. */
export async function grantsOf(deps: CommandDeps, roleIds: readonly string[]): Promise<Grants> {
  const states = [];
  for (const roleId of roleIds) states.push((await load(deps, roleDecider, roleStream(roleId))).state);
  const only = states.length === 1 ? states[0]! : undefined;
  const known = only && grantsOfState.get(only);
  if (known) return known;
  // Shared by every request of the role's holders: frozen, so none can change what the others see.
  const grants = freezeOwned(combine(states));
  if (only) grantsOfState.set(only, grants);
  return grants;
}

function combine(states: readonly RoleState[]): Grants {
  const granted = new Map<Module, Set<Action>>();
  let widest = 0;
  const ruleSets: FieldSecurity[] = [];
  for (const state of states) {
    if (state.status === 'none') continue;
    // The administrator role holds every permission, including modules added after it was created.
    const permissions = state.key === ADMIN_ROLE_KEY ? allPermissions() : state.permissions;
    ruleSets.push(state.fieldSecurity ?? {});
    for (const [module, allowed] of Object.entries(permissions) as [Module, Action[]][]) {
      const set = granted.get(module) ?? new Set<Action>();
      for (const action of allowed) set.add(action);
      granted.set(module, set);
    }
    widest = Math.max(widest, dataScopes.indexOf(state.key === ADMIN_ROLE_KEY ? 'all' : state.dataScope));
  }
  const permissions: Permissions = {};
  for (const module of modules) {
    const set = granted.get(module);
    if (set?.size) permissions[module] = actionsOf(module).filter((a) => set.has(a));
  }
  return { permissions, dataScope: dataScopes[widest] as DataScopeKind, fieldRules: combineFieldRules(ruleSets) };
}

/** The actor an employee acts as: union of their roles' permissions, widest data scope, current department. */
export async function resolveActor(deps: CommandDeps, employee: KnownEmployee): Promise<Actor> {
  const { permissions, dataScope, fieldRules } = await grantsOf(deps, employee.roleIds);
  return {
    userId: employee.employeeId,
    username: employee.account?.username ?? '',
    roleIds: employee.roleIds,
    permissions,
    dataScope,
    departmentId: employee.fields.departmentId,
    departmentPath: await departmentPath(deps, employee.fields.departmentId),
    fieldRules,
  };
}

/** A grant beyond the granter's own permissions (HTTP 403). */
export class EscalationError extends Error {
  constructor(readonly beyond: string[]) {
    super(`You cannot grant what you do not hold yourself: ${beyond.join(', ')}`);
    this.name = 'EscalationError';
  }
}

/**
 * Nobody grants what they do not hold: every permission given (to a role, or to a person through roles) must be
 * among the actor's, and its data scope no wider than theirs. Taking over an account (resetting its password,
 * lifting its lock) counts as being given its permissions.
 */
export function assertMayGrant(actor: Actor, grant: { permissions: Permissions; dataScope: DataScopeKind }): void {
  const beyond = (Object.entries(grant.permissions) as [Module, Action[]][]).flatMap(([module, allowed]) =>
    allowed.filter((action) => !actor.permissions[module]?.includes(action)).map((action) => `${module}:${action}`),
  );
  if (dataScopes.indexOf(grant.dataScope) > dataScopes.indexOf(actor.dataScope)) beyond.push(`data scope ${grant.dataScope}`);
  if (beyond.length) throw new EscalationError(beyond);
}

/** The actor may take over (reset the password of, unlock) this employee only if they hold all it holds. */
export async function assertMayActAs(deps: CommandDeps, actor: Actor, employeeId: string): Promise<void> {
  const employee = await getEmployee(deps, employeeId);
  if (employee) assertMayGrant(actor, await grantsOf(deps, employee.roleIds));
}

/**
 * Field rules of several roles, as permissions combine (the most permissive wins): a field is hidden only
 * when every role hides it, read-only when every role restricts it.
 */
export function combineFieldRules(ruleSets: FieldSecurity[]): FieldSecurity {
  if (ruleSets.length === 0) return {};
  const [first, ...rest] = ruleSets;
  const combined: FieldSecurity = {};
  for (const [resource, fields] of Object.entries(first!)) {
    for (const [field, rule] of Object.entries(fields)) {
      const others = rest.map((set) => set[resource]?.[field]);
      if (others.some((other) => other === undefined)) continue;
      (combined[resource] ??= {})[field] = rule === 'hidden' && others.every((other) => other === 'hidden') ? 'hidden' : 'readonly';
    }
  }
  return combined;
}

export async function actorOf(deps: CommandDeps, employeeId: string): Promise<Actor | undefined> {
  const employee = await getEmployee(deps, employeeId);
  return employee ? resolveActor(deps, employee) : undefined;
}
