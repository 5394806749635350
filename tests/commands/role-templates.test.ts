import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { systemActor } from '../../src/commands/employees.ts';
import { changeRole, createRole, ensureRoleTemplates } from '../../src/commands/org.ts';
import { load } from '../../src/commands/pipeline.ts';
import { ADMIN_ROLE_KEY, FIRST_MODULES, type Module, modules, type Permissions, roleDecider, roleStream, roleTemplates } from '../../src/domain/role/index.ts';
import { systemClock } from '../../src/infra/clock.ts';
import { SqliteEventStore } from '../../src/infra/eventstore/sqlite.ts';
import { randomIds } from '../../src/infra/ids.ts';

const meta = () => ({ correlationId: 'test', requestId: randomUUID(), ids: randomIds(systemClock) });
const only = (permissions: Permissions, keep: readonly Module[]): Permissions => Object.fromEntries(Object.entries(permissions).filter(([m]) => keep.includes(m as Module)));

describe('template roles grow with the modules', () => {
  it('every template names a grant for every module explicitly, and nobody but the administrator holds every module', () => {
    for (const template of roleTemplates) for (const module of Object.keys(template.permissions)) expect(modules).toContain(module);
    const salesperson = roleTemplates.find((t) => t.key === 'salesperson')!;
    for (const module of ['settings', 'security', 'audit', 'analytics', 'imports', 'integrations'] as const) expect(salesperson.permissions[module], module).toBeUndefined();
    expect(salesperson.permissions.orders).not.toContain('approve');
    const auditor = roleTemplates.find((t) => t.key === 'auditor')!;
    expect(auditor.dataScope).toBe('all');
    expect(auditor.permissions.audit).toEqual(['view']);
    for (const actions of Object.values(auditor.permissions)) for (const action of actions!) expect(['view', 'export', 'query']).toContain(action);
  });

  it('a start-up migration offers new modules to the template roles of an older install, once, and touches nothing else', async () => {
    const deps = { eventStore: new SqliteEventStore({ path: ':memory:' }), clock: systemClock };
    // An install made before the module registry: the templates as they were (the first twelve modules only).
    const ids: Record<string, string> = {};
    for (const template of roleTemplates.filter((t) => t.key !== 'auditor'))
      ids[template.key] = (await createRole(deps, { ...template, permissions: only(template.permissions, FIRST_MODULES) }, systemActor, meta())).roleId;
    // An administrator narrowed the salesperson template on a module it already had, and created a role of their own.
    const salesperson = (await load(deps, roleDecider, roleStream(ids.salesperson!))).state;
    if (salesperson.status === 'none') throw new Error('no salesperson role');
    const { campaigns: _dropped, ...narrowed } = salesperson.permissions;
    await changeRole(deps, ids.salesperson!, { permissions: narrowed }, systemActor, meta());
    const custom = (await createRole(deps, { name: 'Custom', permissions: { customers: ['view'] }, dataScope: 'own' }, systemActor, meta())).roleId;

    const result = await ensureRoleTemplates(deps, systemActor, meta);
    const stateOf = async (id: string) => {
      const { state } = await load(deps, roleDecider, roleStream(id));
      if (state.status === 'none') throw new Error(`no role ${id}`);
      return state;
    };
    const template = (key: string) => roleTemplates.find((t) => t.key === key)!;
    const seller = await stateOf(ids.salesperson!);
    expect(seller.permissions.activities).toEqual(template('salesperson').permissions.activities);
    expect(seller.permissions.tasks).toEqual(template('salesperson').permissions.tasks);
    expect(seller.permissions.campaigns, 'the administrator\'s choice on an old module stays').toBeUndefined();
    const manager = await stateOf(ids.manager!);
    expect(manager.permissions.analytics).toEqual(['query']);
    expect(manager.permissions.approvals).toEqual(template('manager').permissions.approvals);
    expect((await stateOf(custom)).permissions).toEqual({ customers: ['view'] });
    expect((await stateOf(ids[ADMIN_ROLE_KEY]!)).permissions.activities, 'the administrator role is computed, not migrated').toBeUndefined();
    expect((await stateOf(result.auditor!)).permissions).toEqual(template('auditor').permissions);

    // Once: a second start appends nothing.
    const head = await deps.eventStore.headPosition();
    await ensureRoleTemplates(deps, systemActor, meta);
    expect(await deps.eventStore.headPosition()).toBe(head);
    await deps.eventStore.close();
  });
});
