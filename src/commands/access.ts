import { type Action, actions, type DataScopeKind, dataScopes, type FieldSecurity, type Module, modules, type Permissions, roleDecider, roleStream } from '../domain/role/index.ts';
import type { Actor, CommandDeps } from './context.ts';
import { getEmployee, type KnownEmployee } from './employees.ts';
import { departmentPath } from './org.ts';
import { load } from './pipeline.ts';

/** The actor an employee acts as: union of their roles' permissions, widest data scope, current department. */
export async function resolveActor(deps: CommandDeps, employee: KnownEmployee): Promise<Actor> {
  const granted = new Map<Module, Set<Action>>();
  let widest = 0;
  const ruleSets: FieldSecurity[] = [];
  for (const roleId of employee.roleIds) {
    const { state } = await load(deps, roleDecider, roleStream(roleId));
    if (state.status === 'none') continue;
    ruleSets.push(state.fieldSecurity ?? {});
    for (const [module, allowed] of Object.entries(state.permissions) as [Module, Action[]][]) {
      const set = granted.get(module) ?? new Set<Action>();
      for (const action of allowed) set.add(action);
      granted.set(module, set);
    }
    widest = Math.max(widest, dataScopes.indexOf(state.dataScope));
  }
  const permissions: Permissions = {};
  for (const module of modules) {
    const set = granted.get(module);
    if (set?.size) permissions[module] = actions.filter((a) => set.has(a));
  }
  return {
    userId: employee.employeeId,
    username: employee.account?.username ?? '',
    roleIds: employee.roleIds,
    permissions,
    dataScope: dataScopes[widest] as DataScopeKind,
    departmentId: employee.fields.departmentId,
    departmentPath: await departmentPath(deps, employee.fields.departmentId),
    fieldRules: combineFieldRules(ruleSets),
  };
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
