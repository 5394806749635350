import { describe, expect, it } from 'vitest';
import { fold } from '../../src/domain/shared/decider.ts';
import { departmentDecider, type DepartmentEvent, DepartmentName, departmentStream } from '../../src/domain/department/index.ts';
import { specFor } from '../support/spec.ts';

const created: DepartmentEvent = { type: 'DepartmentCreated', data: { departmentId: 'd', name: 'East', parentId: 'root' } };
const parent = (parentId: string, ancestorIds: string[] = [], exists = true) => ({ parentId, exists, ancestorIds });

describe('department decider: every decision pinned', () => {
  const { given } = specFor(departmentDecider);

  it('creates under an existing parent or at the root, once', () => {
    given([]).when({ type: 'CreateDepartment', departmentId: 'd', name: 'East', parent: parent('root') }).then([created]);
    given([]).when({ type: 'CreateDepartment', departmentId: 'd', name: 'East', parent: null }).then([{ type: 'DepartmentCreated', data: { departmentId: 'd', name: 'East', parentId: null } }]);
    expect(given([]).when({ type: 'CreateDepartment', departmentId: 'd', name: 'East', parent: parent('x', [], false) }).thenThrows('department.parent_unknown').details).toEqual({ parentId: 'x' });
    given([]).when({ type: 'CreateDepartment', departmentId: 'd', name: 'East', parent: parent('d') }).thenThrows('department.cycle');
    given([created]).when({ type: 'CreateDepartment', departmentId: 'd', name: 'East', parent: null }).thenThrows('department.already_exists');
    expect(fold(departmentDecider, [created])).toEqual({ status: 'active', departmentId: 'd', name: 'East', parentId: 'root', managerId: null });
  });

  it('renames and moves in one change, each only when it differs', () => {
    given([created]).when({ type: 'ChangeDepartment', departmentId: 'd', name: 'East China', parent: parent('sales') }).then([
      { type: 'DepartmentRenamed', data: { departmentId: 'd', name: 'East China' } },
      { type: 'DepartmentMoved', data: { departmentId: 'd', fromParentId: 'root', parentId: 'sales' } },
    ]);
    given([created]).when({ type: 'ChangeDepartment', departmentId: 'd', name: 'East', parent: parent('root') }).thenNothing();
    given([created]).when({ type: 'ChangeDepartment', departmentId: 'd' }).thenNothing();
    given([created]).when({ type: 'ChangeDepartment', departmentId: 'd', parent: null }).then([{ type: 'DepartmentMoved', data: { departmentId: 'd', fromParentId: 'root', parentId: null } }]);
    const atRoot: DepartmentEvent = { type: 'DepartmentCreated', data: { departmentId: 'd', name: 'East', parentId: null } };
    given([atRoot]).when({ type: 'ChangeDepartment', departmentId: 'd', parent: null }).thenNothing();
    const events: DepartmentEvent[] = [created, { type: 'DepartmentRenamed', data: { departmentId: 'd', name: 'E' } }, { type: 'DepartmentMoved', data: { departmentId: 'd', fromParentId: 'root', parentId: 'sales' } }];
    expect(fold(departmentDecider, events)).toEqual({ status: 'active', departmentId: 'd', name: 'E', parentId: 'sales', managerId: null });
  });

  it('names its manager, changes or clears it, each only when it differs', () => {
    const named: DepartmentEvent = { type: 'DepartmentManagerChanged', data: { departmentId: 'd', fromManagerId: null, managerId: 'u-1' } };
    given([created]).when({ type: 'ChangeDepartment', departmentId: 'd', managerId: 'u-1' }).then([named]);
    given([created, named]).when({ type: 'ChangeDepartment', departmentId: 'd', managerId: 'u-1' }).thenNothing();
    given([created, named]).when({ type: 'ChangeDepartment', departmentId: 'd', managerId: 'u-2' }).then([{ type: 'DepartmentManagerChanged', data: { departmentId: 'd', fromManagerId: 'u-1', managerId: 'u-2' } }]);
    given([created, named]).when({ type: 'ChangeDepartment', departmentId: 'd', managerId: null }).then([{ type: 'DepartmentManagerChanged', data: { departmentId: 'd', fromManagerId: 'u-1', managerId: null } }]);
    given([created]).when({ type: 'ChangeDepartment', departmentId: 'd', managerId: null }).thenNothing();
    given([created, named]).when({ type: 'ChangeDepartment', departmentId: 'd', name: 'East' }).thenNothing();
    expect(fold(departmentDecider, [created, named])).toMatchObject({ managerId: 'u-1' });
    expect(fold(departmentDecider, [named])).toEqual({ status: 'none' });
  });

  it('never moves under itself or its own subtree, nor under a department that does not exist', () => {
    given([created]).when({ type: 'ChangeDepartment', departmentId: 'd', parent: parent('d') }).thenThrows('department.cycle');
    expect(given([created]).when({ type: 'ChangeDepartment', departmentId: 'd', parent: parent('child', ['root', 'd']) }).thenThrows('department.cycle').details).toEqual({ parentId: 'child' });
    given([created]).when({ type: 'ChangeDepartment', departmentId: 'd', parent: parent('other', ['root']) }).then([{ type: 'DepartmentMoved', data: { departmentId: 'd', fromParentId: 'root', parentId: 'other' } }]);
    given([created]).when({ type: 'ChangeDepartment', departmentId: 'd', parent: parent('gone', [], false) }).thenThrows('department.parent_unknown');
    expect(given([]).when({ type: 'ChangeDepartment', departmentId: 'd', name: 'X' }).thenThrows('department.not_found').details).toEqual({ departmentId: 'd' });
  });

  it('ignores changes to a department it never saw created; names its stream; names are 1 to 100 characters', () => {
    expect(fold(departmentDecider, [{ type: 'DepartmentRenamed', data: { departmentId: 'd', name: 'X' } }, { type: 'DepartmentMoved', data: { departmentId: 'd', fromParentId: null, parentId: 'p' } }])).toEqual({ status: 'none' });
    expect(departmentStream('d')).toBe('department-d');
    expect(DepartmentName.safeParse('  ').success).toBe(false);
    expect(DepartmentName.parse(' East ')).toBe('East');
  });
});
