import { describe, expect, it } from 'vitest';
import { fold } from '../../src/domain/shared/decider.ts';
import { ADMIN_ROLE_KEY, actionsOf, allPermissions, modules, normalizePermissions, roleDecider, type RoleEvent, roleStream, roleTemplates } from '../../src/domain/role/index.ts';
import { specFor } from '../support/spec.ts';

const created: RoleEvent = { type: 'RoleCreated', data: { roleId: 'r', key: null, name: 'Sales', permissions: { customers: ['view', 'edit'] }, dataScope: 'own' } };
const admin: RoleEvent = { type: 'RoleCreated', data: { roleId: 'a', key: ADMIN_ROLE_KEY, name: 'Admin', permissions: allPermissions(), dataScope: 'all' } };

describe('role decider: every decision pinned', () => {
  const { given } = specFor(roleDecider);

  it('creates once, with permissions in canonical order and without duplicates', () => {
    given([]).when({ type: 'CreateRole', roleId: 'r', key: null, name: 'Sales', permissions: { customers: ['edit', 'view', 'edit'] }, dataScope: 'own' }).then([created]);
    given([]).when({ type: 'CreateRole', roleId: 'r', key: null, name: 'Sales', permissions: { customers: ['view', 'edit'], leads: [] }, dataScope: 'own', fieldSecurity: { customers: { phone: 'hidden' } } }).then([
      { type: 'RoleCreated', data: { ...created.data, fieldSecurity: { customers: { phone: 'hidden' } } } },
    ]);
    given([created]).when({ type: 'CreateRole', roleId: 'r', key: null, name: 'X', permissions: {}, dataScope: 'own' }).thenThrows('role.already_exists');
    expect(given([]).when({ type: 'ChangeRole', roleId: 'r', name: 'X' }).thenThrows('role.not_found').details).toEqual({ roleId: 'r' });
  });

  it('changes only what differs, each part on its own', () => {
    given([created]).when({ type: 'ChangeRole', roleId: 'r', name: 'Sales', dataScope: 'own', permissions: { customers: ['edit', 'view'] }, fieldSecurity: {} }).thenNothing();
    given([created]).when({ type: 'ChangeRole', roleId: 'r', name: 'Field sales' }).then([{ type: 'RoleChanged', data: { roleId: 'r', name: 'Field sales' } }]);
    // The maximum line discount (null: no limit, as when none was ever set).
    given([created]).when({ type: 'ChangeRole', roleId: 'r', maxDiscountPercent: 10 }).then([{ type: 'RoleChanged', data: { roleId: 'r', maxDiscountPercent: 10 } }]);
    given([created]).when({ type: 'ChangeRole', roleId: 'r', maxDiscountPercent: null }).thenNothing();
    given([created, { type: 'RoleChanged', data: { roleId: 'r', maxDiscountPercent: 10 } }]).when({ type: 'ChangeRole', roleId: 'r', maxDiscountPercent: 10 }).thenNothing();
    given([created, { type: 'RoleChanged', data: { roleId: 'r', maxDiscountPercent: 10 } }]).when({ type: 'ChangeRole', roleId: 'r', maxDiscountPercent: null }).then([{ type: 'RoleChanged', data: { roleId: 'r', maxDiscountPercent: null } }]);
    given([created]).when({ type: 'ChangeRole', roleId: 'r', dataScope: 'department' }).then([{ type: 'RoleChanged', data: { roleId: 'r', dataScope: 'department' } }]);
    given([created]).when({ type: 'ChangeRole', roleId: 'r', permissions: { customers: ['view'] } }).then([{ type: 'RoleChanged', data: { roleId: 'r', permissions: { customers: ['view'] } } }]);
    given([created]).when({ type: 'ChangeRole', roleId: 'r', fieldSecurity: { customers: { phone: 'readonly' } } }).then([{ type: 'RoleChanged', data: { roleId: 'r', fieldSecurity: { customers: { phone: 'readonly' } } } }]);
    const changed: RoleEvent = { type: 'RoleChanged', data: { roleId: 'r', name: 'Field sales', fieldSecurity: { customers: { phone: 'readonly' } } } };
    expect(fold(roleDecider, [created, changed])).toEqual({ status: 'active', ...created.data, name: 'Field sales', fieldSecurity: { customers: { phone: 'readonly' } } });
    given([created, changed]).when({ type: 'ChangeRole', roleId: 'r', fieldSecurity: { customers: { phone: 'readonly' } } }).thenNothing();
    expect(fold(roleDecider, [changed])).toEqual({ status: 'none' });
  });

  it('the administrator role keeps every permission and the widest scope; its name may change', () => {
    given([admin]).when({ type: 'ChangeRole', roleId: 'a', permissions: {} }).thenThrows('role.builtin_admin');
    given([admin]).when({ type: 'ChangeRole', roleId: 'a', dataScope: 'own' }).thenThrows('role.builtin_admin');
    given([admin]).when({ type: 'ChangeRole', roleId: 'a', name: 'Root' }).then([{ type: 'RoleChanged', data: { roleId: 'a', name: 'Root' } }]);
    given([created]).when({ type: 'ChangeRole', roleId: 'r', dataScope: 'all' }).then([{ type: 'RoleChanged', data: { roleId: 'r', dataScope: 'all' } }]);
  });

  it('permissions: canonical order per module, empty modules and unknown actions dropped', () => {
    expect(normalizePermissions({ leads: ['edit', 'view'], customers: [], analytics: ['query'] })).toEqual({ leads: ['view', 'edit'], analytics: ['query'] });
    expect(normalizePermissions({ audit: ['view', 'edit' as never] })).toEqual({ audit: ['view'] });
    expect(Object.keys(allPermissions())).toEqual(modules);
    for (const module of modules) expect(allPermissions()[module]).toEqual([...actionsOf(module)]);
    expect(actionsOf('analytics')).toEqual(['query']);
    expect(roleStream('r')).toBe('role-r');
  });

  it('templates: a salesperson never approves, deletes or exports; an auditor changes nothing; only the admin holds security edits', () => {
    const template = (key: string) => roleTemplates.find((t) => t.key === key)!;
    for (const actions of Object.values(template('salesperson').permissions)) expect(actions.filter((a) => ['approve', 'delete', 'export'].includes(a))).toEqual([]);
    for (const actions of Object.values(template('auditor').permissions)) expect(actions.filter((a) => !['view', 'export', 'query'].includes(a))).toEqual([]);
    expect(template('auditor').permissions.audit).toEqual(['view']);
    expect(template('manager').permissions.security).toBeUndefined();
    expect(template('admin').permissions).toEqual(allPermissions());
    expect(roleTemplates.map((t) => [t.key, t.dataScope])).toEqual([['admin', 'all'], ['manager', 'department_tree'], ['salesperson', 'own'], ['auditor', 'all'], ['service_manager', 'all'], ['service_engineer', 'own']]);
  });
});
