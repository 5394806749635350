import { describe, it } from 'vitest';
import { type DepartmentEvent, departmentDecider } from '../../src/domain/department/index.ts';
import { type EmployeeEvent, employeeDecider } from '../../src/domain/employee/index.ts';
import { type RoleEvent, roleDecider } from '../../src/domain/role/index.ts';
import { specFor } from '../support/spec.ts';

describe('department decider', () => {
  const { given } = specFor(departmentDecider);
  const created: DepartmentEvent = { type: 'DepartmentCreated', data: { departmentId: 'd2', name: 'East', parentId: 'd1' } };
  const parent = (parentId: string, ancestorIds: string[] = [parentId], exists = true) => ({ parentId, exists, ancestorIds });

  it('creates a department under an existing parent, or a root', () => {
    given([]).when({ type: 'CreateDepartment', departmentId: 'd2', name: 'East', parent: parent('d1') }).then([created]);
    given([])
      .when({ type: 'CreateDepartment', departmentId: 'd1', name: 'Sales', parent: null })
      .then([{ type: 'DepartmentCreated', data: { departmentId: 'd1', name: 'Sales', parentId: null } }]);
  });
  it('refuses an unknown parent and a second creation', () => {
    given([]).when({ type: 'CreateDepartment', departmentId: 'd2', name: 'X', parent: parent('nope', [], false) }).thenThrows('department.parent_unknown');
    given([created]).when({ type: 'CreateDepartment', departmentId: 'd2', name: 'X', parent: null }).thenThrows('department.already_exists');
  });
  it('renames and moves', () =>
    given([created])
      .when({ type: 'ChangeDepartment', departmentId: 'd2', name: 'East China', parent: parent('d9', ['d9']) })
      .then([
        { type: 'DepartmentRenamed', data: { departmentId: 'd2', name: 'East China' } },
        { type: 'DepartmentMoved', data: { departmentId: 'd2', fromParentId: 'd1', parentId: 'd9' } },
      ]));
  it('moves to the root', () =>
    given([created])
      .when({ type: 'ChangeDepartment', departmentId: 'd2', parent: null })
      .then([{ type: 'DepartmentMoved', data: { departmentId: 'd2', fromParentId: 'd1', parentId: null } }]));
  it('refuses to move under itself or its own subtree', () => {
    given([created]).when({ type: 'ChangeDepartment', departmentId: 'd2', parent: parent('d2', ['d1', 'd2']) }).thenThrows('department.cycle');
    given([created]).when({ type: 'ChangeDepartment', departmentId: 'd2', parent: parent('d3', ['d1', 'd2', 'd3']) }).thenThrows('department.cycle');
  });
  it('does nothing for the same name and parent; refuses an unknown department', () => {
    given([created]).when({ type: 'ChangeDepartment', departmentId: 'd2', name: 'East', parent: parent('d1') }).thenNothing();
    given([]).when({ type: 'ChangeDepartment', departmentId: 'd2', name: 'X' }).thenThrows('department.not_found');
  });
});

describe('role decider', () => {
  const { given } = specFor(roleDecider);
  const created: RoleEvent = { type: 'RoleCreated', data: { roleId: 'r', key: null, name: 'Clerk', permissions: { customers: ['view', 'edit'] }, dataScope: 'own' } };
  it('creates a role with permissions in canonical order', () =>
    given([])
      .when({ type: 'CreateRole', roleId: 'r', key: null, name: 'Clerk', permissions: { customers: ['edit', 'view', 'edit'], orders: [] }, dataScope: 'own' })
      .then([created]));
  it('changes only what differs', () => {
    given([created])
      .when({ type: 'ChangeRole', roleId: 'r', name: 'Clerk', permissions: { customers: ['view', 'edit'] }, dataScope: 'department' })
      .then([{ type: 'RoleChanged', data: { roleId: 'r', dataScope: 'department' } }]);
    given([created]).when({ type: 'ChangeRole', roleId: 'r', permissions: { customers: ['edit', 'view'] } }).thenNothing();
  });
  it('refuses a second creation and an unknown role', () => {
    given([created]).when({ type: 'CreateRole', roleId: 'r', key: null, name: 'X', permissions: {}, dataScope: 'own' }).thenThrows('role.already_exists');
    given([]).when({ type: 'ChangeRole', roleId: 'r', name: 'X' }).thenThrows('role.not_found');
  });
});

describe('employee decider', () => {
  const { given } = specFor(employeeDecider);
  const hired: EmployeeEvent = { type: 'EmployeeHired', data: { employeeId: 'e', fields: { name: '王芳', departmentId: 'd1' }, roleIds: ['r1'] } };
  const opened: EmployeeEvent = { type: 'AccountOpened', data: { employeeId: 'e', username: 'wang', passwordHash: 'h', mustChangePassword: false, at: 't0' } };

  it('hires, without duplicate roles', () =>
    given([]).when({ type: 'HireEmployee', employeeId: 'e', fields: { name: '王芳', departmentId: 'd1' }, roleIds: ['r1', 'r1'] }).then([hired]));
  it('refuses to hire twice and to change an unknown employee', () => {
    given([hired]).when({ type: 'HireEmployee', employeeId: 'e', fields: { name: 'X', departmentId: null }, roleIds: [] }).thenThrows('employee.already_exists');
    given([]).when({ type: 'ChangeEmployee', employeeId: 'e', changes: { title: 'X' } }).thenThrows('employee.not_found');
  });
  it('changes fields and roles that differ', () => {
    given([hired])
      .when({ type: 'ChangeEmployee', employeeId: 'e', changes: { departmentId: 'd2', name: '王芳' } })
      .then([{ type: 'EmployeeChanged', data: { employeeId: 'e', changes: { departmentId: 'd2' } } }]);
    given([hired]).when({ type: 'AssignRoles', employeeId: 'e', roleIds: ['r1'] }).thenNothing();
    given([hired]).when({ type: 'AssignRoles', employeeId: 'e', roleIds: ['r2', 'r1'] }).then([{ type: 'EmployeeRolesAssigned', data: { employeeId: 'e', roleIds: ['r2', 'r1'] } }]);
    given([hired]).when({ type: 'ChangeEmployee', employeeId: 'e', changes: { name: null } }).thenThrows('employee.name_required');
  });
  it('opens one account', () => {
    given([hired]).when({ type: 'OpenAccount', employeeId: 'e', username: 'wang', passwordHash: 'h', mustChangePassword: false, at: 't0' }).then([opened]);
    given([hired, opened]).when({ type: 'OpenAccount', employeeId: 'e', username: 'x', passwordHash: 'h', mustChangePassword: false, at: 't1' }).thenThrows('employee.account_exists');
  });
  it('resets and changes passwords only with an account', () => {
    given([hired, opened]).when({ type: 'ResetPassword', employeeId: 'e', passwordHash: 'h2', at: 't1' }).then([{ type: 'PasswordReset', data: { employeeId: 'e', passwordHash: 'h2', at: 't1' } }]);
    given([hired, opened]).when({ type: 'ChangePassword', employeeId: 'e', passwordHash: 'h3', at: 't2' }).then([{ type: 'PasswordChanged', data: { employeeId: 'e', passwordHash: 'h3', at: 't2' } }]);
    given([hired]).when({ type: 'ResetPassword', employeeId: 'e', passwordHash: 'h2', at: 't1' }).thenThrows('employee.no_account');
  });
  it('disables and enables, idempotently', () => {
    const disabled: EmployeeEvent = { type: 'EmployeeDisabled', data: { employeeId: 'e', reason: 'left' } };
    given([hired]).when({ type: 'DisableEmployee', employeeId: 'e', reason: 'left' }).then([disabled]);
    given([hired, disabled]).when({ type: 'DisableEmployee', employeeId: 'e' }).thenNothing();
    given([hired, disabled]).when({ type: 'EnableEmployee', employeeId: 'e' }).then([{ type: 'EmployeeEnabled', data: { employeeId: 'e' } }]);
    given([hired]).when({ type: 'EnableEmployee', employeeId: 'e' }).thenNothing();
  });
});
