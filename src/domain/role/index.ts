import { z } from 'zod';
import { DomainError } from '../shared/errors.ts';

/** Every action a permission can name; each module accepts the subset its registry entry lists. */
export const actions = ['view', 'create', 'edit', 'delete', 'export', 'assign', 'approve', 'query'] as const;
export type Action = (typeof actions)[number];
export const dataScopes = ['own', 'department', 'department_tree', 'all'] as const;
export type DataScopeKind = (typeof dataScopes)[number];

const RECORD = ['view', 'create', 'edit', 'delete', 'export', 'assign', 'approve'] as const;

/**
 * The permission modules, each with its label and the actions it knows. A module the coming features need is
 * added here once: the role schema, the administrator's grants, the template roles (below, an explicit grant per
 * module) and the start-up migration that offers it to existing template roles all follow from this list.
 * `security` is administration proper: roles, other people's passwords and locks, the admin routes. `settings`
 * covers the company's configuration. `analytics` is the analysts' query interface; `audit` the auditors' tools.
 * `personalData` guards personal data as such: `export` lets a list export (CSV, XLSX), a dossier PDF and the
 * subject keys carry personal fields (without it they are left out), `delete` erases a person (crypto-shredding).
 */
export const moduleRegistry = {
  customers: { label: { 'zh-CN': '客户', en: 'Customers' }, actions: RECORD },
  contacts: { label: { 'zh-CN': '联系人', en: 'Contacts' }, actions: RECORD },
  leads: { label: { 'zh-CN': '线索', en: 'Leads' }, actions: RECORD },
  opportunities: { label: { 'zh-CN': '商机', en: 'Opportunities' }, actions: RECORD },
  quotes: { label: { 'zh-CN': '报价', en: 'Quotes' }, actions: RECORD },
  orders: { label: { 'zh-CN': '订单', en: 'Orders' }, actions: RECORD },
  tickets: { label: { 'zh-CN': '服务工单', en: 'Service tickets' }, actions: RECORD },
  campaigns: { label: { 'zh-CN': '市场活动', en: 'Campaigns' }, actions: RECORD },
  products: { label: { 'zh-CN': '产品', en: 'Products' }, actions: RECORD },
  reports: { label: { 'zh-CN': '报表', en: 'Reports' }, actions: RECORD },
  settings: { label: { 'zh-CN': '系统设置', en: 'Settings' }, actions: RECORD },
  security: { label: { 'zh-CN': '安全与权限', en: 'Security' }, actions: RECORD },
  activities: { label: { 'zh-CN': '跟进记录', en: 'Activities' }, actions: RECORD },
  tasks: { label: { 'zh-CN': '任务', en: 'Tasks' }, actions: RECORD },
  plans: { label: { 'zh-CN': '工作计划', en: 'Work plans' }, actions: RECORD },
  expenses: { label: { 'zh-CN': '费用', en: 'Expenses' }, actions: RECORD },
  approvals: { label: { 'zh-CN': '审批', en: 'Approvals' }, actions: RECORD },
  budgets: { label: { 'zh-CN': '费用预算', en: 'Budgets' }, actions: RECORD },
  targets: { label: { 'zh-CN': '销售目标', en: 'Sales targets' }, actions: RECORD },
  analytics: { label: { 'zh-CN': '数据分析', en: 'Analytics' }, actions: ['query'] },
  audit: { label: { 'zh-CN': '审计', en: 'Audit' }, actions: ['view'] },
  imports: { label: { 'zh-CN': '数据导入', en: 'Imports' }, actions: RECORD },
  integrations: { label: { 'zh-CN': '系统集成', en: 'Integrations' }, actions: RECORD },
  personalData: { label: { 'zh-CN': '个人信息', en: 'Personal data' }, actions: ['export', 'delete'] },
} as const satisfies Record<string, { label: { 'zh-CN': string; en: string }; actions: readonly Action[] }>;
export type Module = keyof typeof moduleRegistry;
export const modules = Object.keys(moduleRegistry) as Module[];
/** The actions a module knows. */
export const actionsOf = (module: Module): readonly Action[] => moduleRegistry[module].actions;

/** The modules that existed before the registry; template roles created then were never offered the others. */
export const FIRST_MODULES: readonly Module[] = ['customers', 'contacts', 'leads', 'opportunities', 'quotes', 'orders', 'tickets', 'campaigns', 'products', 'reports', 'settings', 'security'];

export const Permissions = z
  .object(Object.fromEntries(modules.map((m) => [m, z.array(z.enum(actionsOf(m) as [Action, ...Action[]])).max(actionsOf(m).length).optional()])) as Record<Module, z.ZodOptional<z.ZodArray<z.ZodEnum<Record<Action, Action>>>>>)
  .strict()
  .describe('Per module, the actions allowed, e.g. { "customers": ["view", "create"] }');
export type Permissions = Partial<Record<Module, Action[]>>;

/** Every action of every module: what the administrator role holds, now and later. */
export const allPermissions = (): Permissions => Object.fromEntries(modules.map((m) => [m, [...actionsOf(m)]]));

/** The key of the built-in administrator role, which holds every permission of every module, now and later. */
export const ADMIN_ROLE_KEY = 'admin';

const SELL = ['view', 'create', 'edit', 'assign'] as const;
const READ = ['view', 'export'] as const;
const grant = (entries: Partial<Record<Module, readonly Action[]>>): Permissions => Object.fromEntries(Object.entries(entries).filter(([, a]) => a.length).map(([m, a]) => [m, [...a]]));

/**
 * Built-in role templates (stable keys), created on the first start and editable like any other role. Each names
 * its grant for every module explicitly, so a new module never reaches a template by default: it is added here,
 * and the start-up migration offers it to the template roles that exist.
 * - A salesperson does not hold `approve` (nobody approves their own documents), `delete` or `export`.
 * - An auditor reads and exports everything and holds the audit tools, and changes nothing; its exports leave out
 *   personal fields unless an administrator grants it `personalData: export`.
 */
export const roleTemplates: readonly { key: string; name: string; permissions: Permissions; dataScope: DataScopeKind }[] = [
  { key: ADMIN_ROLE_KEY, name: '系统管理员 Administrator', permissions: allPermissions(), dataScope: 'all' },
  {
    key: 'manager',
    name: '部门经理 Manager',
    permissions: grant({
      customers: RECORD, contacts: RECORD, leads: RECORD, opportunities: RECORD, quotes: RECORD, orders: RECORD, tickets: RECORD, campaigns: RECORD, products: RECORD, reports: RECORD,
      settings: [], security: [],
      activities: RECORD, tasks: RECORD, plans: RECORD, expenses: RECORD, approvals: RECORD, budgets: RECORD, targets: RECORD, analytics: ['query'], audit: [], imports: ['view', 'create'], integrations: ['view'], personalData: ['export'],
    }),
    dataScope: 'department_tree',
  },
  {
    key: 'salesperson',
    name: '销售员 Salesperson',
    permissions: grant({
      customers: SELL, contacts: SELL, leads: SELL, opportunities: SELL, quotes: SELL, orders: SELL, tickets: SELL, campaigns: SELL, products: SELL, reports: SELL,
      settings: [], security: [],
      activities: SELL, tasks: SELL, plans: SELL, expenses: SELL, approvals: ['view'], budgets: [], targets: [], analytics: [], audit: [], imports: [], integrations: [], personalData: [],
    }),
    dataScope: 'own',
  },
  {
    key: 'auditor',
    name: '审计员 Auditor',
    permissions: grant({
      customers: READ, contacts: READ, leads: READ, opportunities: READ, quotes: READ, orders: READ, tickets: READ, campaigns: READ, products: READ, reports: READ,
      settings: ['view'], security: ['view'],
      activities: READ, tasks: READ, plans: READ, expenses: READ, approvals: READ, budgets: READ, targets: READ, analytics: ['query'], audit: ['view'], imports: ['view'], integrations: ['view'], personalData: [],
    }),
    dataScope: 'all',
  },
  {
    // The service desk and its manager: opens tickets for any customer, dispatches them, reads the service reports.
    key: 'service_manager',
    name: '服务经理 Service manager',
    permissions: grant({
      customers: ['view'], contacts: ['view'], leads: [], opportunities: [], quotes: [], orders: ['view'], tickets: RECORD, campaigns: [], products: ['view'], reports: READ,
      settings: [], security: [],
      activities: ['view'], tasks: SELL, plans: SELL, expenses: SELL, approvals: ['view'], budgets: [], targets: [], analytics: [], audit: [], imports: [], integrations: [], personalData: [],
    }),
    dataScope: 'all',
  },
  {
    // An engineer works the tickets assigned to them or queued in their department (and opens tickets for their own customers).
    key: 'service_engineer',
    name: '服务工程师 Service engineer',
    permissions: grant({
      customers: ['view'], contacts: ['view'], leads: [], opportunities: [], quotes: [], orders: ['view'], tickets: ['view', 'create', 'edit'], campaigns: [], products: ['view'], reports: [],
      settings: [], security: [],
      activities: [], tasks: SELL, plans: SELL, expenses: SELL, approvals: ['view'], budgets: [], targets: [], analytics: [], audit: [], imports: [], integrations: [], personalData: [],
    }),
    dataScope: 'own',
  },
];

/** Per resource, fields (standard by name, custom as `custom.<key>`) that are hidden or read-only for the role. */
export const FieldSecurity = z
  .record(z.string().max(60), z.record(z.string().max(60), z.enum(['hidden', 'readonly'])))
  .describe('e.g. { "customers": { "annualRevenue": "hidden", "custom.creditLimit": "readonly" } }');
export type FieldSecurity = z.infer<typeof FieldSecurity>;

/** The largest line discount (%) a role's holders may give without approval; absent or null: no limit. */
export const MaxDiscountPercent = z.number().min(0).max(100).nullable().describe("The largest line discount (%) the role's holders give without approval (null: no limit); a quote over it needs approval before it is sent");

export type RoleEvent =
  | { type: 'RoleCreated'; data: { roleId: string; key: string | null; name: string; permissions: Permissions; dataScope: DataScopeKind; fieldSecurity?: FieldSecurity; maxDiscountPercent?: number | null } }
  | { type: 'RoleChanged'; data: { roleId: string; name?: string; permissions?: Permissions; dataScope?: DataScopeKind; fieldSecurity?: FieldSecurity; maxDiscountPercent?: number | null } };

export type RoleState =
  | { status: 'none' }
  | { status: 'active'; roleId: string; key: string | null; name: string; permissions: Permissions; dataScope: DataScopeKind; fieldSecurity?: FieldSecurity; maxDiscountPercent?: number | null };

export type RoleCommand =
  | { type: 'CreateRole'; roleId: string; key: string | null; name: string; permissions: Permissions; dataScope: DataScopeKind; fieldSecurity?: FieldSecurity; maxDiscountPercent?: number | null }
  | { type: 'ChangeRole'; roleId: string; name?: string; permissions?: Permissions; dataScope?: DataScopeKind; fieldSecurity?: FieldSecurity; maxDiscountPercent?: number | null };

export const initialState: RoleState = { status: 'none' };

/** Sorted, duplicate-free actions per module, so equal permissions compare equal. */
export const normalizePermissions = (permissions: Permissions): Permissions =>
  Object.fromEntries(
    modules
      .filter((m) => permissions[m]?.length)
      .map((m) => [m, actionsOf(m).filter((a) => permissions[m]!.includes(a))]),
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
  if (command.maxDiscountPercent !== undefined && command.maxDiscountPercent !== (state.maxDiscountPercent ?? null)) changes.maxDiscountPercent = command.maxDiscountPercent;
  if (command.permissions !== undefined) {
    const next = normalizePermissions(command.permissions);
    if (JSON.stringify(next) !== JSON.stringify(state.permissions)) changes.permissions = next;
  }
  return Object.keys(changes).length ? [{ type: 'RoleChanged', data: { roleId: state.roleId, ...changes } }] : [];
}

export const roleDecider = { initialState, evolve, decide };
export const roleCategory = 'role';
export const roleStream = (id: string): string => `${roleCategory}-${id}`;
