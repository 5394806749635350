import { z } from 'zod';
import { DomainError } from '../shared/errors.ts';

/** A department (部门) in the company tree. Its path is derived from its ancestry, never stored in events. */
export const DepartmentName = z.string().trim().min(1).max(100);

export type DepartmentEvent =
  | { type: 'DepartmentCreated'; data: { departmentId: string; name: string; parentId: string | null } }
  | { type: 'DepartmentRenamed'; data: { departmentId: string; name: string } }
  | { type: 'DepartmentMoved'; data: { departmentId: string; fromParentId: string | null; parentId: string | null } }
  | { type: 'DepartmentManagerChanged'; data: { departmentId: string; fromManagerId: string | null; managerId: string | null } };

/** `managerId`: who leads it (approvals go to the submitter's department's manager, then up the tree); null: nobody named. */
export type DepartmentState = { status: 'none' } | { status: 'active'; departmentId: string; name: string; parentId: string | null; managerId: string | null };

/** What the handler learned about a would-be parent: that it exists and its ancestry (for cycles). */
export type ParentFacts = { parentId: string; exists: boolean; ancestorIds: string[] } | null;

export type DepartmentCommand =
  | { type: 'CreateDepartment'; departmentId: string; name: string; parent: ParentFacts }
  | { type: 'ChangeDepartment'; departmentId: string; name?: string; parent?: ParentFacts; managerId?: string | null };

export const initialState: DepartmentState = { status: 'none' };

export function evolve(state: DepartmentState, event: DepartmentEvent): DepartmentState {
  switch (event.type) {
    case 'DepartmentCreated':
      return { status: 'active', ...event.data, managerId: null };
    case 'DepartmentRenamed':
      return state.status === 'none' ? state : { ...state, name: event.data.name };
    case 'DepartmentMoved':
      return state.status === 'none' ? state : { ...state, parentId: event.data.parentId };
    case 'DepartmentManagerChanged':
      return state.status === 'none' ? state : { ...state, managerId: event.data.managerId };
  }
}

function checkParent(departmentId: string, parent: ParentFacts): void {
  if (!parent) return;
  if (!parent.exists) throw new DomainError('department.parent_unknown', `Department ${parent.parentId} does not exist`, { parentId: parent.parentId });
  if (parent.parentId === departmentId || parent.ancestorIds.includes(departmentId))
    throw new DomainError('department.cycle', 'A department cannot be moved under itself or one of its sub-departments', { parentId: parent.parentId });
}

export function decide(command: DepartmentCommand, state: DepartmentState): DepartmentEvent[] {
  if (command.type === 'CreateDepartment') {
    if (state.status !== 'none') throw new DomainError('department.already_exists', `Department ${command.departmentId} already exists`);
    checkParent(command.departmentId, command.parent);
    return [{ type: 'DepartmentCreated', data: { departmentId: command.departmentId, name: command.name, parentId: command.parent?.parentId ?? null } }];
  }
  if (state.status === 'none') throw new DomainError('department.not_found', `Department ${command.departmentId} does not exist`, { departmentId: command.departmentId });
  const events: DepartmentEvent[] = [];
  if (command.name !== undefined && command.name !== state.name)
    events.push({ type: 'DepartmentRenamed', data: { departmentId: state.departmentId, name: command.name } });
  if (command.parent !== undefined && (command.parent?.parentId ?? null) !== state.parentId) {
    checkParent(state.departmentId, command.parent);
    events.push({ type: 'DepartmentMoved', data: { departmentId: state.departmentId, fromParentId: state.parentId, parentId: command.parent?.parentId ?? null } });
  }
  if (command.managerId !== undefined && command.managerId !== state.managerId)
    events.push({ type: 'DepartmentManagerChanged', data: { departmentId: state.departmentId, fromManagerId: state.managerId, managerId: command.managerId } });
  return events;
}

export const departmentDecider = { initialState, evolve, decide };
export const departmentCategory = 'department';
export const departmentStream = (id: string): string => `${departmentCategory}-${id}`;
