import { type Action, actions, type DataScopeKind, dataScopes, type Module, modules, type Permissions, roleDecider, roleStream } from '../domain/role/index.ts';
import type { Actor, CommandDeps } from './context.ts';
import { getEmployee, type KnownEmployee } from './employees.ts';
import { departmentPath } from './org.ts';
import { load } from './pipeline.ts';

/** The actor an employee acts as: union of their roles' permissions, widest data scope, current department. */
export async function resolveActor(deps: CommandDeps, employee: KnownEmployee): Promise<Actor> {
  const granted = new Map<Module, Set<Action>>();
  let widest = 0;
  for (const roleId of employee.roleIds) {
    const { state } = await load(deps, roleDecider, roleStream(roleId));
    if (state.status === 'none') continue;
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
  };
}

export async function actorOf(deps: CommandDeps, employeeId: string): Promise<Actor | undefined> {
  const employee = await getEmployee(deps, employeeId);
  return employee ? resolveActor(deps, employee) : undefined;
}
