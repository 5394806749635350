import { z } from 'zod';
import { DomainError } from '../shared/errors.ts';
import { diffFields, withChanges } from '../shared/normalize.ts';

/** An employee (员工档案), who may or may not have a login account. */
export const EmployeeFields = z.object({
  name: z.string().trim().min(1).max(100),
  departmentId: z.string().nullable().describe('null only for company-level staff such as the administrator'),
  title: z.string().trim().min(1).max(100).optional(),
  email: z.email().max(320).optional(),
  mobile: z.string().trim().regex(/^[+0-9()\- ]{3,40}$/, 'Expected a phone number').optional(),
});
export type EmployeeFields = z.infer<typeof EmployeeFields>;

export type Account = { username: string; passwordHash: string; mustChangePassword: boolean; passwordChangedAt: string };

export type EmployeeEvent =
  /** `erpCode`: hired by the ERP bridge for that ERP record. */
  | { type: 'EmployeeHired'; data: { employeeId: string; fields: EmployeeFields; roleIds: string[]; erpCode?: string } }
  /** Linked to a record of the ERP (the ERP bridge), or unlinked (null). */
  | { type: 'EmployeeErpLinked'; data: { employeeId: string; erpCode: string | null; fromErpCode: string | null } }
  | { type: 'EmployeeChanged'; data: { employeeId: string; changes: Record<string, unknown> } }
  | { type: 'EmployeeRolesAssigned'; data: { employeeId: string; roleIds: string[] } }
  | { type: 'AccountOpened'; data: { employeeId: string; username: string; passwordHash: string; mustChangePassword: boolean; at: string } }
  | { type: 'PasswordReset'; data: { employeeId: string; passwordHash: string; at: string } }
  /** The same password, hashed again with stronger parameters at a login. */
  | { type: 'PasswordRehashed'; data: { employeeId: string; passwordHash: string } }
  | { type: 'PasswordChanged'; data: { employeeId: string; passwordHash: string; at: string } }
  | { type: 'EmployeeDisabled'; data: { employeeId: string; reason?: string } }
  | { type: 'EmployeeEnabled'; data: { employeeId: string } };

export type EmployeeState =
  | { status: 'none' }
  | { status: 'active' | 'disabled'; employeeId: string; fields: EmployeeFields; roleIds: string[]; account?: Account; erpCode?: string | null };

export type EmployeeCommand =
  | { type: 'HireEmployee'; employeeId: string; fields: EmployeeFields; roleIds: string[]; erpCode?: string }
  | { type: 'LinkEmployeeToErp'; employeeId: string; erpCode: string | null }
  | { type: 'ChangeEmployee'; employeeId: string; changes: Partial<Record<keyof EmployeeFields, unknown>> }
  | { type: 'AssignRoles'; employeeId: string; roleIds: string[] }
  | { type: 'OpenAccount'; employeeId: string; username: string; passwordHash: string; mustChangePassword: boolean; at: string }
  | { type: 'ResetPassword'; employeeId: string; passwordHash: string; at: string }
  | { type: 'ChangePassword'; employeeId: string; passwordHash: string; at: string }
  | { type: 'RehashPassword'; employeeId: string; passwordHash: string }
  | { type: 'DisableEmployee'; employeeId: string; reason?: string }
  | { type: 'EnableEmployee'; employeeId: string };

export const initialState: EmployeeState = { status: 'none' };

export function evolve(state: EmployeeState, event: EmployeeEvent): EmployeeState {
  if (event.type === 'EmployeeHired') return { status: 'active', employeeId: event.data.employeeId, fields: event.data.fields, roleIds: event.data.roleIds, ...(event.data.erpCode ? { erpCode: event.data.erpCode } : {}) };
  if (state.status === 'none') return state;
  switch (event.type) {
    case 'EmployeeChanged':
      return withChanges(state, event.data.changes);
    case 'EmployeeRolesAssigned':
      return { ...state, roleIds: event.data.roleIds };
    case 'AccountOpened':
      return { ...state, account: { username: event.data.username, passwordHash: event.data.passwordHash, mustChangePassword: event.data.mustChangePassword, passwordChangedAt: event.data.at } };
    case 'PasswordReset':
      return state.account ? { ...state, account: { ...state.account, passwordHash: event.data.passwordHash, mustChangePassword: true, passwordChangedAt: event.data.at } } : state;
    case 'PasswordChanged':
      return state.account ? { ...state, account: { ...state.account, passwordHash: event.data.passwordHash, mustChangePassword: false, passwordChangedAt: event.data.at } } : state;
    case 'PasswordRehashed':
      return state.account ? { ...state, account: { ...state.account, passwordHash: event.data.passwordHash } } : state;
    case 'EmployeeDisabled':
      return { ...state, status: 'disabled' };
    case 'EmployeeEnabled':
      return { ...state, status: 'active' };
    case 'EmployeeErpLinked':
      return { ...state, erpCode: event.data.erpCode };
  }
}

const sameSet = (a: string[], b: string[]) => a.length === b.length && a.every((x) => b.includes(x));

export function decide(command: EmployeeCommand, state: EmployeeState): EmployeeEvent[] {
  if (command.type === 'HireEmployee') {
    if (state.status !== 'none') throw new DomainError('employee.already_exists', `Employee ${command.employeeId} already exists`);
    return [{ type: 'EmployeeHired', data: { employeeId: command.employeeId, fields: command.fields, roleIds: [...new Set(command.roleIds)], ...(command.erpCode ? { erpCode: command.erpCode } : {}) } }];
  }
  if (state.status === 'none') throw new DomainError('employee.not_found', `Employee ${command.employeeId} does not exist`, { employeeId: command.employeeId });
  const employeeId = state.employeeId;
  switch (command.type) {
    case 'ChangeEmployee': {
      if (command.changes.name === null) throw new DomainError('employee.name_required', 'An employee name cannot be cleared');
      const changes = diffFields(state.fields, command.changes);
      return Object.keys(changes).length ? [{ type: 'EmployeeChanged', data: { employeeId, changes } }] : [];
    }
    case 'LinkEmployeeToErp': {
      const current = state.erpCode ?? null;
      return command.erpCode === current ? [] : [{ type: 'EmployeeErpLinked', data: { employeeId, erpCode: command.erpCode, fromErpCode: current } }];
    }
    case 'AssignRoles': {
      const roleIds = [...new Set(command.roleIds)];
      return sameSet(roleIds, state.roleIds) ? [] : [{ type: 'EmployeeRolesAssigned', data: { employeeId, roleIds } }];
    }
    case 'OpenAccount':
      if (state.account) throw new DomainError('employee.account_exists', 'This employee already has a login account');
      return [{ type: 'AccountOpened', data: { employeeId, username: command.username, passwordHash: command.passwordHash, mustChangePassword: command.mustChangePassword, at: command.at } }];
    case 'ResetPassword':
    case 'ChangePassword':
      if (!state.account) throw new DomainError('employee.no_account', 'This employee has no login account');
      return [{ type: command.type === 'ResetPassword' ? 'PasswordReset' : 'PasswordChanged', data: { employeeId, passwordHash: command.passwordHash, at: command.at } }];
    case 'RehashPassword':
      if (!state.account) throw new DomainError('employee.no_account', 'This employee has no login account');
      return [{ type: 'PasswordRehashed', data: { employeeId, passwordHash: command.passwordHash } }];
    case 'DisableEmployee':
      if (state.status === 'disabled') return [];
      return [{ type: 'EmployeeDisabled', data: { employeeId, ...(command.reason ? { reason: command.reason } : {}) } }];
    case 'EnableEmployee':
      return state.status === 'active' ? [] : [{ type: 'EmployeeEnabled', data: { employeeId } }];
  }
}

export const employeeDecider = { initialState, evolve, decide };
export const employeeCategory = 'employee';
export const employeeStream = (id: string): string => `${employeeCategory}-${id}`;
export const normalizeUsername = (username: string): string => username.normalize('NFKC').trim().toLowerCase();
