import { escapeRegex } from '../../infra/readstore/regex.ts';
import { z } from 'zod';
import { assertMayActAs, assertMayGrant, grantsOf } from '../../commands/access.ts';
import { authorize } from '../../commands/authorization.ts';
import type { Actor } from '../../commands/context.ts';
import { load } from '../../commands/pipeline.ts';
import type { RouteServices as Services } from '../route.ts';
import { changeEmployee, disableEmployee, enableEmployee, hireEmployee, resetPassword, unlockLogins } from '../../commands/employees.ts';
import { changeDepartment, changeRole, createDepartment, createRole } from '../../commands/org.ts';
import { EmployeeFields } from '../../domain/employee/index.ts';
import { DomainError } from '../../domain/shared/errors.ts';
import { dataScopes, FieldSecurity, MaxDiscountPercent, Permissions, roleDecider, roleStream } from '../../domain/role/index.ts';
import { DepartmentName } from '../../domain/department/index.ts';
import type { ReadStore } from '../../infra/readstore/port.ts';
import { publicView } from '../../projections/lists.ts';
import { type DepartmentDoc, type EmployeeDoc, ORG, type RoleDoc } from '../../projections/org.ts';
import { notFound } from '../history.ts';
import { patchSchema } from '../patch.ts';
import { commonErrors, conflictError, notFoundError, recordWriteErrors, staleError } from '../responses.ts';
import { type AnyRoute, defineRoute, EmptyBody, Id, IdParams, WriteResult, written } from '../route.ts';

const DepartmentInput = z.object({ name: DepartmentName, parentId: Id.nullable().optional() }).strict().meta({ id: 'DepartmentInput' });
const DepartmentPatch = z
  .object({
    name: DepartmentName.optional(),
    parentId: Id.nullable().optional().describe('Moves the department (and its subtree, and their scopes)'),
    managerId: Id.nullable().optional().describe('Who leads it (an enabled employee; null: nobody): approvals go to the submitter’s manager, then up the tree'),
  })
  .strict()
  .meta({ id: 'DepartmentPatch' });
const Department = z.object({ id: z.string(), name: z.string(), parentId: z.string().nullable(), path: z.string(), managerId: z.string().nullable().optional(), revision: z.number().int() }).meta({ id: 'Department' });

const EmployeeInput = EmployeeFields.extend({
  departmentId: Id,
  username: z.string().trim().regex(/^[\w.@-]{3,50}$/, 'Expected 3 to 50 letters, digits or . _ @ -').optional(),
  password: z.string().min(1).max(1000).optional(),
  roleIds: z.array(Id).max(20).default([]),
})
  .strict()
  .refine((e) => (e.username === undefined) === (e.password === undefined), { message: 'username and password go together', path: ['password'] })
  .meta({ id: 'EmployeeInput' });
const EmployeePatch = patchSchema(EmployeeFields.extend({ departmentId: Id, roleIds: z.array(Id).max(20) }), 'EmployeePatch');
const Employee = z
  .object({ id: z.string(), name: z.string(), departmentId: z.string().nullable(), departmentPath: z.string(), username: z.string().nullable(), roleIds: z.array(z.string()), disabled: z.boolean(), mustChangePassword: z.boolean(), erpCode: z.string().nullable().optional().describe("The employee's code in the ERP (职员编码); null until the ERP bridge links it"), revision: z.number().int() })
  .meta({ id: 'Employee' });

const RoleInput = z
  .object({ name: z.string().trim().min(1).max(100), permissions: Permissions, dataScope: z.enum(dataScopes), fieldSecurity: FieldSecurity.optional(), maxDiscountPercent: MaxDiscountPercent.optional() })
  .strict()
  .meta({ id: 'RoleInput' });
const RolePatch = z
  .object({ name: z.string().trim().min(1).max(100).optional(), permissions: Permissions.optional(), dataScope: z.enum(dataScopes).optional(), fieldSecurity: FieldSecurity.optional(), maxDiscountPercent: MaxDiscountPercent.optional() })
  .strict()
  .meta({ id: 'RolePatch' });
const Role = z
  .object({ id: z.string(), key: z.string().nullable(), name: z.string(), permissions: Permissions, dataScope: z.enum(dataScopes), fieldSecurity: FieldSecurity.optional(), maxDiscountPercent: z.number().nullable().optional(), revision: z.number().int() })
  .meta({ id: 'Role' });

const one = async <T extends { _id: string } & Record<string, unknown>>(store: ReadStore, collection: string, id: string, what: string) => {
  const doc = await store.collection<T>(collection).findOne({ _id: id });
  if (!doc) throw notFound(what, id);
  return { status: 200, body: publicView(doc), headers: { ETag: `"${doc.revision}"` } };
};

const departmentTags = ['Departments 部门'];
const employeeTags = ['Employees 员工'];
const roleTags = ['Roles 角色'];

/** Giving people roles is administration (`security:edit`), and nobody gives roles beyond their own permissions. */
async function assertMayAssignRoles(services: Services, actor: Actor, roleIds: string[]): Promise<void> {
  authorize(actor, 'security', 'edit');
  assertMayGrant(actor, await grantsOf(services.deps, roleIds));
}

export const orgRoutes: AnyRoute[] = [
  defineRoute({
    method: 'post',
    path: '/api/v1/departments',
    summary: 'Create a department (under a parent, or a root)',
    tags: departmentTags,
    body: DepartmentInput,
    responses: { 201: { description: 'Created', schema: WriteResult }, ...commonErrors, ...conflictError },
    async handler({ body, actor, services, meta }) {
      authorize(actor, 'settings', 'create');
      const result = await createDepartment(services.deps, body, actor, meta);
      return written(result, result.departmentId, `/api/v1/departments/${result.departmentId}`);
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/departments',
    reads: [ORG.departments],
    summary: 'The department tree, as a flat list ordered by path',
    tags: departmentTags,
    query: z.object({ parentId: Id.optional() }).strict(),
    responses: { 200: { description: 'Departments', schema: z.object({ items: z.array(Department) }) }, ...commonErrors },
    async handler({ query, services }) {
      const docs = await services.readStore.collection<DepartmentDoc>(ORG.departments).find(query.parentId ? { parentId: query.parentId } : {}, { sort: { path: 1 }, limit: 5000 });
      return { status: 200, body: { items: docs.map(publicView) } };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/departments/:id',
    reads: [ORG.departments],
    summary: 'One department',
    tags: departmentTags,
    params: IdParams,
    responses: { 200: { description: 'The department', schema: Department }, ...commonErrors, ...notFoundError },
    handler: ({ params, services }) => one(services.readStore, ORG.departments, params.id, 'department'),
  }),
  defineRoute({
    method: 'patch',
    path: '/api/v1/departments/:id',
    summary: 'Rename or move a department (its subtree and its people move with it), or name its manager',
    tags: departmentTags,
    params: IdParams,
    body: DepartmentPatch,
    conditional: true,
    responses: { 200: { description: 'Changed', schema: WriteResult }, ...recordWriteErrors },
    async handler({ params, body, actor, services, meta }) {
      authorize(actor, 'settings', 'edit');
      return written(await changeDepartment(services.deps, params.id, body, actor, meta), params.id);
    },
  }),
  defineRoute({
    method: 'post',
    path: '/api/v1/employees',
    summary: 'Add an employee, optionally with a login account and roles',
    tags: employeeTags,
    body: EmployeeInput,
    responses: { 201: { description: 'Added', schema: WriteResult }, ...commonErrors, ...conflictError },
    async handler({ body, actor, services, meta }) {
      authorize(actor, 'settings', 'create');
      const { username, password, roleIds, ...fields } = body;
      if (roleIds.length) await assertMayAssignRoles(services, actor, roleIds);
      // A password someone else chose is known to them: the employee must change it at the first login.
      const account = username && password ? { username, password, mustChangePassword: true } : undefined;
      const result = await hireEmployee(services.deps, { fields, roleIds, ...(account ? { account } : {}) }, actor, meta);
      return written(result, result.employeeId, `/api/v1/employees/${result.employeeId}`);
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/employees',
    reads: [ORG.employees],
    summary: 'The employee directory (never a password hash)',
    tags: employeeTags,
    query: z.object({ q: z.string().trim().min(1).max(100).optional(), departmentId: Id.optional(), erpCode: z.string().max(40).optional().describe('The employee linked to this ERP record'), limit: z.coerce.number().int().min(1).max(500).default(200) }).strict(),
    responses: { 200: { description: 'Employees', schema: z.object({ items: z.array(Employee) }) }, ...commonErrors },
    async handler({ query, services }) {
      const filter: Record<string, unknown> = {};
      if (query.departmentId) filter.departmentId = query.departmentId;
      if (query.erpCode) filter.erpCode = query.erpCode;
      if (query.q) filter._search = { $regex: escapeRegex(query.q.toLowerCase()) };
      const docs = await services.readStore.collection<EmployeeDoc>(ORG.employees).find(filter, { sort: { name: 1, _id: 1 }, limit: query.limit });
      return { status: 200, body: { items: docs.map(publicView) } };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/employees/:id',
    reads: [ORG.employees],
    summary: 'One employee',
    tags: employeeTags,
    params: IdParams,
    responses: { 200: { description: 'The employee', schema: Employee }, ...commonErrors, ...notFoundError },
    handler: ({ params, services }) => one(services.readStore, ORG.employees, params.id, 'employee'),
  }),
  defineRoute({
    method: 'patch',
    path: '/api/v1/employees/:id',
    summary: 'Change an employee (department, title, contact details, roles)',
    tags: employeeTags,
    params: IdParams,
    body: EmployeePatch,
    conditional: true,
    responses: { 200: { description: 'Changed', schema: WriteResult }, ...recordWriteErrors },
    async handler({ params, body, actor, services, meta }) {
      authorize(actor, 'settings', 'edit');
      const { roleIds, ...changes } = body as Record<string, unknown>;
      if (Array.isArray(roleIds)) await assertMayAssignRoles(services, actor, roleIds as string[]);
      const input = { changes, ...(Array.isArray(roleIds) ? { roleIds: roleIds as string[] } : {}) };
      return written(await changeEmployee(services.deps, params.id, input, actor, meta), params.id);
    },
  }),
  ...(['disable', 'enable'] as const).map((action) =>
    defineRoute({
      method: 'post',
      path: `/api/v1/employees/:id/${action}`,
      summary: action === 'disable' ? "Disable an employee: their tokens stop working at once" : 'Enable a disabled employee',
      tags: employeeTags,
      params: IdParams,
      body: z.object({ reason: z.string().trim().min(1).max(500).optional() }).strict(),
      responses: { 200: { description: 'Done', schema: WriteResult }, ...commonErrors, ...notFoundError },
      async handler({ params, body, actor, services, meta }) {
        authorize(actor, 'settings', 'edit');
        if (action === 'disable' && params.id === actor.userId) throw new DomainError('employee.cannot_disable_self', 'You cannot disable your own account');
        const result = action === 'disable' ? await disableEmployee(services.deps, params.id, body.reason, actor, meta) : await enableEmployee(services.deps, params.id, actor, meta);
        return written(result, params.id);
      },
    }),
  ),
  defineRoute({
    method: 'post',
    path: '/api/v1/employees/:id/reset-password',
    summary: 'Set a new password; the employee must change it at the next login, earlier tokens stop working',
    tags: employeeTags,
    params: IdParams,
    body: z.object({ newPassword: z.string().min(1).max(1000) }).strict(),
    responses: { 200: { description: 'Reset', schema: WriteResult }, ...commonErrors, ...notFoundError, ...conflictError },
    async handler({ params, body, actor, services, meta }) {
      authorize(actor, 'security', 'edit');
      if (params.id === actor.userId) throw new DomainError('employee.reset_own_password', 'Change your own password with POST /api/v1/auth/change-password');
      await assertMayActAs(services.deps, actor, params.id);
      return written(await resetPassword(services.deps, params.id, body.newPassword, actor, meta), params.id);
    },
  }),
  defineRoute({
    method: 'post',
    path: '/api/v1/employees/:id/unlock',
    summary: 'Lift the lock that failed logins put on an account, at once',
    tags: employeeTags,
    params: IdParams,
    body: EmptyBody,
    responses: { 200: { description: 'Unlocked', schema: WriteResult }, ...commonErrors, ...notFoundError, ...conflictError },
    async handler({ params, actor, services, meta }) {
      authorize(actor, 'security', 'edit');
      await assertMayActAs(services.deps, actor, params.id);
      const result = await unlockLogins(services.deps, params.id, actor, meta);
      return { status: 200, body: { id: params.id, revision: Number(result.revision) }, headers: { 'X-Position': String(result.position) } };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/api/v1/roles',
    summary: 'Create a role',
    tags: roleTags,
    body: RoleInput,
    responses: { 201: { description: 'Created', schema: WriteResult }, ...commonErrors, ...conflictError },
    async handler({ body, actor, services, meta }) {
      authorize(actor, 'security', 'create');
      assertMayGrant(actor, body);
      const result = await createRole(services.deps, body, actor, meta);
      return written(result, result.roleId, `/api/v1/roles/${result.roleId}`);
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/roles',
    reads: [ORG.roles],
    summary: 'Roles, with the built-in templates (key admin, manager, salesperson)',
    tags: roleTags,
    responses: { 200: { description: 'Roles', schema: z.object({ items: z.array(Role) }) }, ...commonErrors },
    async handler({ services }) {
      const docs = await services.readStore.collection<RoleDoc>(ORG.roles).find({}, { sort: { name: 1, _id: 1 }, limit: 1000 });
      return { status: 200, body: { items: docs.map(publicView) } };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/roles/:id',
    reads: [ORG.roles],
    summary: 'One role',
    tags: roleTags,
    params: IdParams,
    responses: { 200: { description: 'The role', schema: Role }, ...commonErrors, ...notFoundError },
    handler: ({ params, services }) => one(services.readStore, ORG.roles, params.id, 'role'),
  }),
  defineRoute({
    method: 'patch',
    path: '/api/v1/roles/:id',
    summary: "Change a role's name, permissions or data scope (takes effect on the next request)",
    tags: roleTags,
    params: IdParams,
    body: RolePatch,
    conditional: true,
    responses: { 200: { description: 'Changed', schema: WriteResult }, ...commonErrors, ...notFoundError, ...staleError },
    async handler({ params, body, actor, services, meta }) {
      authorize(actor, 'security', 'edit');
      const { state } = await load(services.deps, roleDecider, roleStream(params.id));
      if (state.status === 'none') throw notFound('role', params.id);
      assertMayGrant(actor, { permissions: body.permissions ?? state.permissions, dataScope: body.dataScope ?? state.dataScope });
      return written(await changeRole(services.deps, params.id, body, actor, meta), params.id);
    },
  }),
];
