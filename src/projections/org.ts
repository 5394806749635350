import { escapeRegex } from '../infra/readstore/regex.ts';
import { departmentCategory, type DepartmentEvent } from '../domain/department/index.ts';
import { employeeCategory, type EmployeeEvent } from '../domain/employee/index.ts';
import { roleCategory, type RoleEvent } from '../domain/role/index.ts';
import { applyChanges } from '../domain/shared/normalize.ts';
import type { RecordedEvent } from '../infra/eventstore/port.ts';
import type { Doc, ReadStore } from '../infra/readstore/port.ts';
import { alreadyApplied, keyed, type Projection } from './projection.ts';

export type DepartmentDoc = Doc & { id: string; name: string; parentId: string | null; path: string; managerId?: string | null; revision: number; createdAt: string; updatedAt: string; _position: number };
export type EmployeeDoc = Doc & {
  id: string;
  name: string;
  departmentId: string | null;
  departmentPath: string;
  username: string | null;
  roleIds: string[];
  disabled: boolean;
  mustChangePassword: boolean;
  /** Its code in the ERP; null (or absent, before the bridge) until linked. */
  erpCode?: string | null;
  revision: number;
  createdAt: string;
  updatedAt: string;
  _search: string;
  _position: number;
} & Record<string, unknown>;
export type RoleDoc = Doc & { id: string; key: string | null; name: string; permissions: Record<string, string[]>; dataScope: string; maxDiscountPercent?: number | null; revision: number; createdAt: string; updatedAt: string; _position: number };

export interface OrgCollections {
  departments: string;
  employees: string;
}

const stamp = (event: RecordedEvent) => ({ revision: Number(event.revision), updatedAt: event.metadata.at, _position: Number(event.position) });
const employeeSearch = (doc: Record<string, unknown>) => [doc.name, doc.username, doc.email, doc.mobile, doc.title].filter((v) => typeof v === 'string').join('\u0001').toLowerCase();

/**
 * Keeps departments (with their materialised paths) and employees (with their department's path) in the
 * named collections. Returns the employees whose department path changed, so a projection that stores
 * owners' paths on its documents can follow them. Used by the org read model and, as a private mirror, by
 * every projection of owned records (a projection never reads another projection's collections).
 */
export async function applyOrgEvent(event: RecordedEvent, store: ReadStore, names: OrgCollections): Promise<{ id: string; departmentPath: string }[]> {
  const departments = store.collection<DepartmentDoc>(names.departments);
  const employees = store.collection<EmployeeDoc>(names.employees);
  const pathOf = async (departmentId: string | null) => (departmentId ? ((await departments.findOne({ _id: departmentId }))?.path ?? '/') : '/');

  if (event.streamId.startsWith(`${departmentCategory}-`)) {
    const e = event as RecordedEvent & DepartmentEvent;
    const doc = await departments.findOne({ _id: e.data.departmentId });
    if (alreadyApplied(doc, event)) return [];
    if (e.type === 'DepartmentCreated') {
      const path = `${await pathOf(e.data.parentId)}${e.data.departmentId}/`;
      await departments.replaceOne({ _id: e.data.departmentId }, { ...keyed(e.data.departmentId), name: e.data.name, parentId: e.data.parentId, path, managerId: null, createdAt: event.metadata.at, ...stamp(event) }, { upsert: true });
      return [];
    }
    if (!doc) return [];
    if (e.type === 'DepartmentRenamed') {
      await departments.updateOne({ _id: doc._id }, { $set: { name: e.data.name, ...stamp(event) } });
      return [];
    }
    if (e.type === 'DepartmentManagerChanged') {
      await departments.updateOne({ _id: doc._id }, { $set: { managerId: e.data.managerId, ...stamp(event) } });
      return [];
    }
    // Moved: the subtree's paths, and the paths of everyone in it, follow.
    const oldPath = doc.path;
    const newPath = `${await pathOf(e.data.parentId)}${doc._id}/`;
    await departments.updateOne({ _id: doc._id }, { $set: { parentId: e.data.parentId, ...stamp(event) } });
    const prefix = { $regex: `^${escapeRegex(oldPath)}` };
    for (const department of await departments.find({ path: prefix }))
      await departments.updateOne({ _id: department._id }, { $set: { path: newPath + department.path.slice(oldPath.length) } });
    const moved: { id: string; departmentPath: string }[] = [];
    for (const employee of await employees.find({ departmentPath: prefix })) {
      const departmentPath = newPath + employee.departmentPath.slice(oldPath.length);
      await employees.updateOne({ _id: employee._id }, { $set: { departmentPath } });
      moved.push({ id: employee._id, departmentPath });
    }
    return moved;
  }

  const e = event as RecordedEvent & EmployeeEvent;
  const doc = await employees.findOne({ _id: e.data.employeeId });
  if (alreadyApplied(doc, event)) return [];
  let next: EmployeeDoc | null = null;
  switch (e.type) {
    case 'EmployeeHired':
      next = {
        ...keyed(e.data.employeeId),
        ...e.data.fields,
        departmentPath: await pathOf(e.data.fields.departmentId),
        username: null,
        erpCode: e.data.erpCode ?? null,
        roleIds: e.data.roleIds,
        disabled: false,
        mustChangePassword: false,
        createdAt: event.metadata.at,
        ...stamp(event),
        _search: '',
      };
      break;
    case 'EmployeeChanged':
      if (doc) {
        next = { ...(applyChanges(doc as Record<string, unknown>, e.data.changes) as EmployeeDoc), ...stamp(event) };
        if ('departmentId' in e.data.changes) next.departmentPath = await pathOf(next.departmentId ?? null);
      }
      break;
    case 'EmployeeRolesAssigned':
      if (doc) next = { ...doc, roleIds: e.data.roleIds, ...stamp(event) };
      break;
    case 'AccountOpened':
      if (doc) next = { ...doc, username: e.data.username, mustChangePassword: e.data.mustChangePassword, ...stamp(event) };
      break;
    case 'PasswordReset':
    case 'PasswordChanged':
      if (doc) next = { ...doc, mustChangePassword: e.type === 'PasswordReset', ...stamp(event) };
      break;
    case 'PasswordRehashed':
      if (doc) next = { ...doc, ...stamp(event) };
      break;
    case 'EmployeeDisabled':
    case 'EmployeeEnabled':
      if (doc) next = { ...doc, disabled: e.type === 'EmployeeDisabled', ...stamp(event) };
      break;
    case 'EmployeeErpLinked':
      if (doc) next = { ...doc, erpCode: e.data.erpCode, ...stamp(event) };
      break;
  }
  if (!next) return [];
  await employees.replaceOne({ _id: next._id }, { ...next, _search: employeeSearch(next) }, { upsert: true });
  return doc?.departmentPath !== next.departmentPath ? [{ id: next._id, departmentPath: next.departmentPath }] : [];
}

/** The department path of an owner in a projection's org mirror ('/' when unknown). */
export async function ownerPath(store: ReadStore, names: OrgCollections, ownerId: string): Promise<string> {
  return (await store.collection<EmployeeDoc>(names.employees).findOne({ _id: ownerId }))?.departmentPath ?? '/';
}

export const orgCategories = [departmentCategory, employeeCategory] as const;
export const ORG = { departments: 'departments', employees: 'employees', roles: 'roles' } as const;

/** The organisation read model: department tree, employee directory, roles. */
export const orgProjection: Projection = {
  name: 'org',
  version: 1,
  categories: [departmentCategory, employeeCategory, roleCategory],
  collections: [ORG.departments, ORG.employees, ORG.roles],
  async setup(store) {
    await store.collection(ORG.departments).createIndex({ parentId: 1 });
    await store.collection(ORG.employees).createIndex({ departmentId: 1 });
  },
  async apply(event, store) {
    if (!event.streamId.startsWith(`${roleCategory}-`)) {
      await applyOrgEvent(event, store, ORG);
      return;
    }
    const e = event as RecordedEvent & RoleEvent;
    const roles = store.collection<RoleDoc>(ORG.roles);
    const doc = await roles.findOne({ _id: e.data.roleId });
    if (alreadyApplied(doc, event)) return;
    if (e.type === 'RoleCreated') {
      await roles.replaceOne({ _id: e.data.roleId }, { ...keyed(e.data.roleId), key: e.data.key, name: e.data.name, permissions: e.data.permissions as Record<string, string[]>, dataScope: e.data.dataScope, ...(e.data.fieldSecurity ? { fieldSecurity: e.data.fieldSecurity } : {}), ...(e.data.maxDiscountPercent !== undefined ? { maxDiscountPercent: e.data.maxDiscountPercent } : {}), createdAt: event.metadata.at, ...stamp(event) }, { upsert: true });
    } else if (doc) {
      const { roleId: _id, ...changes } = e.data;
      await roles.updateOne({ _id: doc._id }, { $set: { ...changes, ...stamp(event) } });
    }
  },
};
