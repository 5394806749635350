import type { AllotmentOwner } from '../domain/shared/allotment.ts';
import { DomainError } from '../domain/shared/errors.ts';
import type { CommandDeps } from './context.ts';
import { getEmployee } from './employees.ts';
import { invalidField } from './errors.ts';
import { departmentExists } from './org.ts';

/** A budget's or target's whom: exactly one of an employee and a department, and one that exists. */
export async function assertAllotmentOwner(deps: CommandDeps, fields: AllotmentOwner): Promise<void> {
  if (!fields.employeeId === !fields.departmentId) throw invalidField(fields.employeeId ? 'departmentId' : 'employeeId', 'Name either employeeId or departmentId (one of them)', null);
  if (fields.employeeId && !(await getEmployee(deps, fields.employeeId))) throw new DomainError('employee.not_found', `Employee ${fields.employeeId} does not exist`, { errors: [{ path: 'employeeId', message: 'No employee with this id' }] });
  if (fields.departmentId && !(await departmentExists(deps, fields.departmentId))) throw new DomainError('department.not_found', `Department ${fields.departmentId} does not exist`, { errors: [{ path: 'departmentId', message: 'No department with this id' }] });
}
