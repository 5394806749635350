import { describe, expect, it } from 'vitest';
import { fold } from '../../src/domain/shared/decider.ts';
import { employeeDecider, type EmployeeEvent, type EmployeeState, employeeStream, normalizeUsername } from '../../src/domain/employee/index.ts';
import { specFor } from '../support/spec.ts';

const fields = { name: 'Wang Fang', departmentId: 'd', title: 'Sales' };
const hired: EmployeeEvent = { type: 'EmployeeHired', data: { employeeId: 'e', fields, roleIds: ['r1'] } };
const opened: EmployeeEvent = { type: 'AccountOpened', data: { employeeId: 'e', username: 'wang', passwordHash: 'h1', mustChangePassword: true, at: 't1' } };
const state = (events: EmployeeEvent[]) => fold(employeeDecider, events) as Extract<EmployeeState, { employeeId: string }>;

describe('employee decider: every decision pinned', () => {
  const { given } = specFor(employeeDecider);

  it('hires once, roles without duplicates; an unknown employee is not found', () => {
    given([]).when({ type: 'HireEmployee', employeeId: 'e', fields, roleIds: ['r1', 'r1'] }).then([hired]);
    given([hired]).when({ type: 'HireEmployee', employeeId: 'e', fields, roleIds: [] }).thenThrows('employee.already_exists');
    expect(given([]).when({ type: 'EnableEmployee', employeeId: 'e' }).thenThrows('employee.not_found').details).toEqual({ employeeId: 'e' });
    expect(state([hired])).toEqual({ status: 'active', employeeId: 'e', fields, roleIds: ['r1'] });
  });

  it('changes fields that differ; the name stays', () => {
    given([hired]).when({ type: 'ChangeEmployee', employeeId: 'e', changes: { title: null, name: 'Wang Fang' } }).then([{ type: 'EmployeeChanged', data: { employeeId: 'e', changes: { title: null } } }]);
    given([hired]).when({ type: 'ChangeEmployee', employeeId: 'e', changes: { title: 'Sales' } }).thenNothing();
    given([hired]).when({ type: 'ChangeEmployee', employeeId: 'e', changes: { name: null } }).thenThrows('employee.name_required');
    expect(state([hired, { type: 'EmployeeChanged', data: { employeeId: 'e', changes: { title: null } } }]).fields).toEqual({ name: 'Wang Fang', departmentId: 'd' });
  });

  it('assigns roles as a set: same roles in another order or repeated change nothing', () => {
    given([hired]).when({ type: 'AssignRoles', employeeId: 'e', roleIds: ['r1', 'r1'] }).thenNothing();
    given([hired]).when({ type: 'AssignRoles', employeeId: 'e', roleIds: ['r2', 'r1', 'r2'] }).then([{ type: 'EmployeeRolesAssigned', data: { employeeId: 'e', roleIds: ['r2', 'r1'] } }]);
    given([hired]).when({ type: 'AssignRoles', employeeId: 'e', roleIds: ['r2'] }).then([{ type: 'EmployeeRolesAssigned', data: { employeeId: 'e', roleIds: ['r2'] } }]);
    given([hired]).when({ type: 'AssignRoles', employeeId: 'e', roleIds: [] }).then([{ type: 'EmployeeRolesAssigned', data: { employeeId: 'e', roleIds: [] } }]);
    const two: EmployeeEvent = { type: 'EmployeeRolesAssigned', data: { employeeId: 'e', roleIds: ['r1', 'r2'] } };
    given([hired, two]).when({ type: 'AssignRoles', employeeId: 'e', roleIds: ['r2', 'r1'] }).thenNothing();
    given([hired, two]).when({ type: 'AssignRoles', employeeId: 'e', roleIds: ['r1', 'r3'] }).then([{ type: 'EmployeeRolesAssigned', data: { employeeId: 'e', roleIds: ['r1', 'r3'] } }]);
    expect(state([hired, two]).roleIds).toEqual(['r1', 'r2']);
  });

  it('opens one account; passwords are reset, changed or rehashed only with one', () => {
    given([hired]).when({ type: 'OpenAccount', employeeId: 'e', username: 'wang', passwordHash: 'h1', mustChangePassword: true, at: 't1' }).then([opened]);
    given([hired, opened]).when({ type: 'OpenAccount', employeeId: 'e', username: 'w2', passwordHash: 'h', mustChangePassword: false, at: 't' }).thenThrows('employee.account_exists');
    for (const type of ['ResetPassword', 'ChangePassword'] as const) given([hired]).when({ type, employeeId: 'e', passwordHash: 'h2', at: 't2' }).thenThrows('employee.no_account');
    given([hired]).when({ type: 'RehashPassword', employeeId: 'e', passwordHash: 'h2' }).thenThrows('employee.no_account');
    given([hired, opened]).when({ type: 'ResetPassword', employeeId: 'e', passwordHash: 'h2', at: 't2' }).then([{ type: 'PasswordReset', data: { employeeId: 'e', passwordHash: 'h2', at: 't2' } }]);
    given([hired, opened]).when({ type: 'ChangePassword', employeeId: 'e', passwordHash: 'h2', at: 't2' }).then([{ type: 'PasswordChanged', data: { employeeId: 'e', passwordHash: 'h2', at: 't2' } }]);
    given([hired, opened]).when({ type: 'RehashPassword', employeeId: 'e', passwordHash: 'h3' }).then([{ type: 'PasswordRehashed', data: { employeeId: 'e', passwordHash: 'h3' } }]);
  });

  it('folds the account: a reset must be changed, a change need not, a rehash keeps the rest', () => {
    expect(state([hired, opened]).account).toEqual({ username: 'wang', passwordHash: 'h1', mustChangePassword: true, passwordChangedAt: 't1' });
    const changed: EmployeeEvent = { type: 'PasswordChanged', data: { employeeId: 'e', passwordHash: 'h2', at: 't2' } };
    expect(state([hired, opened, changed]).account).toEqual({ username: 'wang', passwordHash: 'h2', mustChangePassword: false, passwordChangedAt: 't2' });
    const reset: EmployeeEvent = { type: 'PasswordReset', data: { employeeId: 'e', passwordHash: 'h3', at: 't3' } };
    expect(state([hired, opened, changed, reset]).account).toEqual({ username: 'wang', passwordHash: 'h3', mustChangePassword: true, passwordChangedAt: 't3' });
    const rehashed: EmployeeEvent = { type: 'PasswordRehashed', data: { employeeId: 'e', passwordHash: 'h4' } };
    expect(state([hired, opened, changed, rehashed]).account).toEqual({ username: 'wang', passwordHash: 'h4', mustChangePassword: false, passwordChangedAt: 't2' });
    for (const event of [reset, changed, rehashed]) expect(state([hired, event])).not.toHaveProperty('account');
  });

  it('disables and enables, each once; the reason only when given', () => {
    const disabled: EmployeeEvent = { type: 'EmployeeDisabled', data: { employeeId: 'e', reason: 'left' } };
    given([hired]).when({ type: 'DisableEmployee', employeeId: 'e', reason: 'left' }).then([disabled]);
    given([hired]).when({ type: 'DisableEmployee', employeeId: 'e' }).then([{ type: 'EmployeeDisabled', data: { employeeId: 'e' } }]);
    given([hired, disabled]).when({ type: 'DisableEmployee', employeeId: 'e' }).thenNothing();
    given([hired]).when({ type: 'EnableEmployee', employeeId: 'e' }).thenNothing();
    given([hired, disabled]).when({ type: 'EnableEmployee', employeeId: 'e' }).then([{ type: 'EmployeeEnabled', data: { employeeId: 'e' } }]);
    expect(state([hired, disabled]).status).toBe('disabled');
    expect(state([hired, disabled, { type: 'EmployeeEnabled', data: { employeeId: 'e' } }]).status).toBe('active');
    expect(fold(employeeDecider, [disabled])).toEqual({ status: 'none' });
  });

  it('names its stream; usernames compare by width-folded, trimmed lower case', () => {
    expect(employeeStream('e')).toBe('employee-e');
    expect(normalizeUsername(' Ｗａｎｇ.Fang ')).toBe('wang.fang');
  });
});
