import { z } from 'zod';
import { DomainError } from '../shared/errors.ts';

/**
 * Permission modules. `security` is administration proper: defining roles and giving them to people, resetting
 * other people's passwords and lifting login locks. `settings` covers the company's configuration.
 */
export const modules = ['customers', 'contacts', 'leads', 'opportunities', 'quotes', 'orders', 'tickets', 'campaigns', 'products', 'reports', 'settings', 'security'] as const;
export const actions = ['view', 'create', 'edit', 'delete', 'export', 'assign', 'approve'] as const;
export const dataScopes = ['own', 'department', 'department_tree', 'all'] as const;
export type Module = (typeof modules)[number];
export type Action = (typeof actions)[number];
export type DataScopeKind = (typeof dataScopes)[number];

export const Permissions = z
  .partialRecord(z.enum(modules), z.array(z.enum(actions)).max(actions.length))
  .describe('Per module, the actions allowed, e.g. { "customers": ["view", "create"] }');
export type Permissions = z.infer<typeof Permissions>;

/** Built-in role templates (stable keys); created on the first start, editable like any other role. */
const everything = (except: Module[] = [], without: Action[] = []): Permissions =>
  Object.fromEntries(modules.filter((m) => !except.includes(m)).map((m) => [m, actions.filter((a) => !without.includes(a))]));

/** The key of the built-in administrator role, which holds every permission of every module, now and later. */
export const ADMIN_ROLE_KEY = 'admin';

// A salesperson does not hold `approve`: nobody approves (confirms) their own order.
export const roleTemplates = [
  { key: ADMIN_ROLE_KEY, name: '系统管理员 Administrator', permissions: everything(), dataScope: 'all' as const },
  { key: 'manager', name: '部门经理 Manager', permissions: everything(['settings', 'security']), dataScope: 'department_tree' as const },
  { key: 'salesperson', name: '销售员 Salesperson', permissions: everything(['settings', 'security'], ['delete', 'export', 'approve']), dataScope: 'own' as const },
];

/** Per resource, fields (standard by name, custom as `custom.<key>`) that are hidden or read-only for the role. */
export const FieldSecurity = z
  .record(z.string().max(60), z.record(z.string().max(60), z.enum(['hidden', 'readonly'])))
  .describe('e.g. { "customers": { "annualRevenue": "hidden", "custom.creditLimit": "readonly" } }');
export type FieldSecurity = z.infer<typeof FieldSecurity>;

export type RoleEvent =
  | { type: 'RoleCreated'; data: { roleId: string; key: string | null; name: string; permissions: Permissions; dataScope: DataScopeKind; fieldSecurity?: FieldSecurity } }
  | { type: 'RoleChanged'; data: { roleId: string; name?: string; permissions?: Permissions; dataScope?: DataScopeKind; fieldSecurity?: FieldSecurity } };

export type RoleState =
  | { status: 'none' }
  | { status: 'active'; roleId: string; key: string | null; name: string; permissions: Permissions; dataScope: DataScopeKind; fieldSecurity?: FieldSecurity };

export type RoleCommand =
  | { type: 'CreateRole'; roleId: string; key: string | null; name: string; permissions: Permissions; dataScope: DataScopeKind; fieldSecurity?: FieldSecurity }
  | { type: 'ChangeRole'; roleId: string; name?: string; permissions?: Permissions; dataScope?: DataScopeKind; fieldSecurity?: FieldSecurity };

export const initialState: RoleState = { status: 'none' };

/** Sorted, duplicate-free actions per module, so equal permissions compare equal. */
export const normalizePermissions = (permissions: Permissions): Permissions =>
  Object.fromEntries(
    modules
      .filter((m) => permissions[m]?.length)
      .map((m) => [m, actions.filter((a) => permissions[m]!.includes(a))]),
  );

export function evolve(state: RoleState, event: RoleEvent): RoleState {
  switch (event.type) {
    case 'RoleCreated':
      return { status: 'active', ...event.data };
    case 'RoleChanged': {
      if (state.status === 'none') return state;
      const { roleId: _id, ...changes } = event.data;
      return { ...state, ...changes };
    }
  }
}

export function decide(command: RoleCommand, state: RoleState): RoleEvent[] {
  if (command.type === 'CreateRole') {
    if (state.status !== 'none') throw new DomainError('role.already_exists', `Role ${command.roleId} already exists`);
    const { type: _type, ...data } = command;
    return [{ type: 'RoleCreated', data: { ...data, permissions: normalizePermissions(data.permissions) } }];
  }
  if (state.status === 'none') throw new DomainError('role.not_found', `Role ${command.roleId} does not exist`, { roleId: command.roleId });
  if (state.key === ADMIN_ROLE_KEY && (command.permissions !== undefined || command.dataScope !== undefined))
    throw new DomainError('role.builtin_admin', 'The administrator role always holds every permission with the widest data scope; create another role for less');
  const changes: Omit<Extract<RoleEvent, { type: 'RoleChanged' }>['data'], 'roleId'> = {};
  if (command.name !== undefined && command.name !== state.name) changes.name = command.name;
  if (command.dataScope !== undefined && command.dataScope !== state.dataScope) changes.dataScope = command.dataScope;
  if (command.fieldSecurity !== undefined && JSON.stringify(command.fieldSecurity) !== JSON.stringify(state.fieldSecurity ?? {})) changes.fieldSecurity = command.fieldSecurity;
  if (command.permissions !== undefined) {
    const next = normalizePermissions(command.permissions);
    if (JSON.stringify(next) !== JSON.stringify(state.permissions)) changes.permissions = next;
  }
  return Object.keys(changes).length ? [{ type: 'RoleChanged', data: { roleId: state.roleId, ...changes } }] : [];
}

export const roleDecider = { initialState, evolve, decide };
export const roleCategory = 'role';
export const roleStream = (id: string): string => `${roleCategory}-${id}`;
