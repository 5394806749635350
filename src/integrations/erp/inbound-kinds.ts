import type { z } from 'zod';
import { archiveCustomer, changeCustomer, customerHandler, customerRules, registerCustomer, restoreCustomer } from '../../commands/customers.ts';
import type { Actor, CommandDeps, RequestMeta } from '../../commands/context.ts';
import { changeProduct, createProduct, productHandler, productRules } from '../../commands/products.ts';
import type { UniqueField } from '../../commands/record-handler.ts';
import { currentHolder } from '../../commands/reservations.ts';
import { loadRecord } from '../../commands/references.ts';
import { specOf } from '../../domain/customization/resources.ts';
import type { CustomerFields, CustomerState } from '../../domain/customer/index.ts';
import { type ErpKind, erpLinkDecider, erpLinkStream, type Values } from '../../domain/erp/link.ts';
import type { ReadStore } from '../../infra/readstore/port.ts';
import { DomainError } from '../../domain/shared/errors.ts';
import type { ProductFields, ProductState } from '../../domain/product/index.ts';
import type { ErpContact, ErpCustomer, ErpEmployee, ErpProduct, InboundTopic } from './contract.ts';
import { changeEmployee, disableEmployee, enableEmployee, findEmployeeByUsername, getEmployee, hireEmployee } from '../../commands/employees.ts';
import { employeeDecider, type EmployeeFields, employeeStream } from '../../domain/employee/index.ts';
import { ORG } from '../../projections/org.ts';
import { addContact, changeContact, contactHandler, removeContact } from '../../commands/contacts.ts';
import { execute, load } from '../../commands/pipeline.ts';
import type { ContactFields, ContactState } from '../../domain/contact/index.ts';
import { normalizePhone } from '../../domain/shared/normalize.ts';
import type { Doc } from '../../infra/readstore/port.ts';
import { CONTACTS } from '../../projections/customers.ts';

/** What a sync writes with: the deps, who writes (the `erp-bridge` system actor), the message, and the company's ERP settings. */
export interface SyncContext {
  deps: CommandDeps;
  actor: Actor;
  /** The message's: its request id names the message (topic, erpCode, erpVersion), so a redelivery finds the writes it made. */
  meta: RequestMeta;
  /** The read models (a contact is matched by its customer and e-mail or mobile). */
  readStore: ReadStore;
  /** Who owns the records the ERP creates (PUT /api/v1/settings/erp); null: not set. */
  defaultOwnerId: string | null;
}

/** A CRM record as a sync sees it: its values (the fields the ERP sets, with `retired`), its erpCode, whether it still takes writes. */
export interface CrmRecord {
  values: Values;
  erpCode: string | null;
  /** Merged into another record: it takes no writes. */
  mergedInto?: string;
}

/** The CRM record holding one of an ERP record's unique values (its tax number, its name, its code). */
export interface Holder {
  recordId: string;
  field: string;
  record: CrmRecord;
}

/**
 * How one kind of ERP master record maps onto CRM records: the CRM values it sets (the three-way merge compares
 * these, `retired` included), how to find the CRM record that already holds it, and the CRM commands that create,
 * change (register / change / retire) and link one. The commands are the API's own, so every rule holds.
 */
export interface InboundRecordKind<V extends { erpCode: string; erpVersion: number; retired?: boolean | undefined }> {
  topic: InboundTopic;
  kind: ErpKind;
  /** The CRM values the ERP value sets; a field the ERP leaves out is empty (null). */
  values(value: V): Values;
  /** Refused before anything is written (a code the CRM cannot take). */
  check?(value: V): string | undefined;
  /** Values that name other records, found through their links (a contact's customer), or why the message cannot be taken yet. */
  references?(context: SyncContext, value: V): Promise<Values | string>;
  holder(context: SyncContext, value: V, values: Values): Promise<Holder | undefined>;
  current(context: SyncContext, recordId: string): Promise<CrmRecord | undefined>;
  create(context: SyncContext, value: V, values: Values): Promise<string>;
  /** Writes `changes` (values of the same keys; `retired` archives or restores). */
  write(context: SyncContext, recordId: string, changes: Values): Promise<void>;
  link(context: SyncContext, recordId: string, erpCode: string | null): Promise<void>;
}

/**
 * The error code of a record that names another the CRM does not have yet (a contact before its customer): over
 * Kafka, where the ERP's topics arrive in no order between them, the bridge waits for it (CRM_ERP_REFERENCE_WAIT_MS).
 */
export const REFERENCE_NOT_SYNCED = 'erp.reference_not_synced';

/** The error code of a record the bridge cannot create before the administrator names a default owner. */
export const DEFAULT_OWNER_MISSING = 'erp.default_owner_missing';

/** A unique value's holder, if it really holds it (a claim left by a crashed write names a record that does not). */
async function holderOf<S extends { status: string }>(deps: CommandDeps, unique: UniqueField, given: unknown, load: (id: string) => Promise<S>, fieldsOf: (state: S) => Record<string, unknown> | undefined): Promise<string | undefined> {
  const value = unique.normalize(given);
  if (value === undefined) return undefined;
  const holderId = await currentHolder(deps, unique.scope, value);
  if (!holderId) return undefined;
  const fields = fieldsOf(await load(holderId));
  return fields !== undefined && unique.normalize(fields[unique.field]) === value ? holderId : undefined;
}

/**
 * Each write of one message has a request id of its own (several land on one stream: restore, change, archive),
 * derived from the message's, so a redelivered message finds each write it made and makes it only once.
 */
export const stepMeta = (meta: RequestMeta, step: string): RequestMeta => ({ ...meta, requestId: `${meta.requestId}/${step}` });

const uniqueField = (fields: readonly UniqueField[] | undefined, field: string): UniqueField => fields!.find((unique) => unique.field === field)!;
const plain = (changes: Values): Values => Object.fromEntries(Object.entries(changes).filter(([key]) => key !== 'retired'));
const present = (values: Values) => Object.fromEntries(Object.entries(values).filter(([, value]) => value !== null && value !== undefined));

type CustomerValue = z.infer<typeof ErpCustomer>;
const customerFieldsOf = (state: CustomerState) => (state.status === 'none' || state.status === 'merged' ? undefined : (state.fields as Record<string, unknown>));
const CUSTOMER_FIELDS = ['name', 'shortName', 'taxNumber', 'address', 'phone'] as const;

async function customerRecord(deps: CommandDeps, recordId: string): Promise<CrmRecord | undefined> {
  const state = (await loadRecord(deps, specOf('customers'), recordId)).state as CustomerState;
  if (state.status === 'none') return undefined;
  const fields = state.fields as Record<string, unknown>;
  return {
    values: { ...Object.fromEntries(CUSTOMER_FIELDS.map((field) => [field, fields[field] ?? null])), retired: state.status === 'archived' || (state.status === 'merged' && state.statusBeforeMerge === 'archived') },
    erpCode: state.erpCode,
    ...(state.status === 'merged' ? { mergedInto: state.mergedInto } : {}),
  };
}

export const erpCustomers: InboundRecordKind<CustomerValue> = {
  topic: 'erp.customer',
  kind: 'customer',
  values: (value) => ({ ...Object.fromEntries(CUSTOMER_FIELDS.map((field) => [field, value[field] ?? null])), retired: value.retired ?? false }),
  async holder({ deps }, value) {
    const load = async (id: string) => (await loadRecord(deps, specOf('customers'), id)).state as CustomerState;
    // The tax number first (it names one company); the normalised name only for an ERP customer without one.
    for (const field of value.taxNumber ? (['taxNumber', 'name'] as const) : (['name'] as const)) {
      const recordId = await holderOf(deps, uniqueField(customerRules.uniqueFields, field), value[field], load, customerFieldsOf);
      if (recordId) return { recordId, field, record: (await customerRecord(deps, recordId))! };
    }
    return undefined;
  },
  current: ({ deps }, recordId) => customerRecord(deps, recordId),
  async create(context, value, values) {
    if (!context.defaultOwnerId) throw new DomainError(DEFAULT_OWNER_MISSING, 'No default owner for customers from the ERP: set one with PUT /api/v1/settings/erp { defaultOwnerId }');
    const fields = present(plain(values)) as CustomerFields;
    const { customerId } = await registerCustomer(context.deps, { fields, ownerId: context.defaultOwnerId, erpCode: value.erpCode }, context.actor, stepMeta(context.meta, 'create'));
    if (values.retired === true) await archiveCustomer(context.deps, customerId, 'retired in the ERP', context.actor, stepMeta(context.meta, 'archive'));
    return customerId;
  },
  async write(context, recordId, changes) {
    const { deps, actor, meta } = context;
    // Restored before its fields change (an archived customer takes no changes), archived after.
    if (changes.retired === false) await restoreCustomer(deps, recordId, actor, stepMeta(meta, 'restore'));
    if (Object.keys(plain(changes)).length) await changeCustomer(deps, recordId, plain(changes) as Partial<Record<keyof CustomerFields, unknown>>, actor, stepMeta(meta, 'change'));
    if (changes.retired === true) await archiveCustomer(deps, recordId, 'retired in the ERP', actor, stepMeta(meta, 'archive'));
  },
  async link(context, recordId, erpCode) {
    await customerHandler(context.deps, context.actor, stepMeta(context.meta, 'link')).run(recordId, { type: 'LinkCustomerToErp', customerId: recordId, erpCode });
  },
};

type ProductValue = z.infer<typeof ErpProduct>;
const productFieldsOf = (state: ProductState) => (state.status === 'none' ? undefined : (state.fields as Record<string, unknown>));
const PRODUCT_CODE = /^[A-Za-z0-9._\-/]{1,40}$/;

async function productRecord(deps: CommandDeps, recordId: string): Promise<CrmRecord | undefined> {
  const state = (await loadRecord(deps, specOf('products'), recordId)).state as ProductState;
  if (state.status === 'none') return undefined;
  const { fields } = state;
  return {
    values: { name: fields.name, specification: fields.specification ?? null, unit: fields.unit, category: fields.category ?? null, standardPrice: fields.standardPrice, taxRate: fields.taxRate, retired: fields.active === false },
    erpCode: state.erpCode ?? null,
  };
}

export const erpProducts: InboundRecordKind<ProductValue> = {
  topic: 'erp.product',
  kind: 'product',
  // The ERP's code is the product's code (存货编码); `retired` is the product's `active` turned round.
  values: (value) => ({ name: value.name, specification: value.spec ?? null, unit: value.unit, category: value.category ?? null, standardPrice: value.standardPrice, taxRate: value.taxRate, retired: value.retired ?? false }),
  check: (value) => (PRODUCT_CODE.test(value.erpCode) ? undefined : `The ERP code ${value.erpCode} cannot be a product code (1 to 40 letters, digits or . _ - /)`),
  async holder({ deps }, value) {
    const load = async (id: string) => (await loadRecord(deps, specOf('products'), id)).state as ProductState;
    const recordId = await holderOf(deps, uniqueField(productRules.uniqueFields, 'code'), value.erpCode, load, productFieldsOf);
    return recordId ? { recordId, field: 'code', record: (await productRecord(deps, recordId))! } : undefined;
  },
  current: ({ deps }, recordId) => productRecord(deps, recordId),
  async create(context, value, values) {
    const { retired, ...rest } = values;
    const fields = { ...present(rest), code: value.erpCode, active: retired !== true } as ProductFields;
    return (await createProduct(context.deps, fields, context.actor, stepMeta(context.meta, 'create'), value.erpCode)).productId;
  },
  async write(context, recordId, changes) {
    const { retired, ...rest } = changes;
    await changeProduct(context.deps, recordId, { ...rest, ...(retired === undefined ? {} : { active: retired !== true }) }, context.actor, stepMeta(context.meta, 'change'));
  },
  async link(context, recordId, erpCode) {
    await productHandler(context.deps, context.actor, stepMeta(context.meta, 'link')).run(recordId, { type: 'LinkProductToErp', productId: recordId, erpCode });
  },
};

type ContactValue = z.infer<typeof ErpContact>;
const CONTACT_FIELDS = ['name', 'title', 'mobile', 'email'] as const;

async function contactRecord(deps: CommandDeps, recordId: string): Promise<CrmRecord | undefined> {
  const state = (await loadRecord(deps, specOf('contacts'), recordId)).state as ContactState;
  // A removed contact is gone for the ERP too: a later version adds it again.
  if (state.status === 'none' || state.status === 'removed') return undefined;
  const fields = state.fields as Record<string, unknown>;
  return {
    values: { ...Object.fromEntries(CONTACT_FIELDS.map((field) => [field, fields[field] ?? null])), customerId: state.customerId, retired: false },
    erpCode: state.erpCode ?? null,
    ...(state.status === 'merged' ? { mergedInto: state.mergedInto } : {}),
  };
}

/** The CRM customer an ERP customer is linked to (through its link stream, exactly). */
export async function linkedRecordOf(deps: CommandDeps, kind: ErpKind, erpCode: string): Promise<string | undefined> {
  const { state } = await load(deps, erpLinkDecider, erpLinkStream(kind, erpCode));
  return state.status === 'linked' ? state.recordId : undefined;
}

export const erpContacts: InboundRecordKind<ContactValue> = {
  topic: 'erp.contact',
  kind: 'contact',
  values: (value) => ({ ...Object.fromEntries(CONTACT_FIELDS.map((field) => [field, value[field] ?? null])), retired: value.retired ?? false }),
  async references({ deps }, value) {
    const customerId = await linkedRecordOf(deps, 'customer', value.customerErpCode);
    return customerId ? { customerId } : `${REFERENCE_NOT_SYNCED}: Its customer ${value.customerErpCode} is not synced yet: send erp.customer ${value.customerErpCode} first, then this again`;
  },
  // A contact of the same customer with the same e-mail, or else the same mobile, that no other ERP record holds.
  async holder({ deps, readStore }, value, values) {
    for (const [field, filter] of [
      ['email', value.email ? { email: value.email } : undefined],
      ['mobile', value.mobile && normalizePhone(value.mobile) ? { _phones: normalizePhone(value.mobile) } : undefined],
    ] as const) {
      if (!filter) continue;
      const found = await readStore.collection<Doc>(CONTACTS).find({ customerId: values.customerId, ...filter, status: { $ne: 'merged' } }, { projection: { _id: 1 }, limit: 1 });
      const record = found[0] ? await contactRecord(deps, found[0]._id) : undefined;
      if (record) return { recordId: found[0]!._id, field, record };
    }
    return undefined;
  },
  current: ({ deps }, recordId) => contactRecord(deps, recordId),
  async create(context, value, values) {
    const { retired, customerId, ...rest } = values;
    const { contactId } = await addContact(context.deps, { customerId: String(customerId), fields: present(rest) as ContactFields, erpCode: value.erpCode }, context.actor, stepMeta(context.meta, 'create'));
    if (retired === true) await removeContact(context.deps, contactId, context.actor, stepMeta(context.meta, 'remove'));
    return contactId;
  },
  async write(context, recordId, changes) {
    const { retired, customerId, ...rest } = changes;
    if (Object.keys(rest).length || customerId !== undefined)
      await changeContact(context.deps, recordId, { changes: rest as Partial<Record<keyof ContactFields, unknown>>, ...(customerId ? { customerId: String(customerId) } : {}) }, context.actor, stepMeta(context.meta, 'change'));
    if (retired === true) await removeContact(context.deps, recordId, context.actor, stepMeta(context.meta, 'remove'));
  },
  async link(context, recordId, erpCode) {
    await contactHandler(context.deps, context.actor, stepMeta(context.meta, 'link')).run(recordId, { type: 'LinkContactToErp', contactId: recordId, erpCode });
  },
};

type EmployeeValue = z.infer<typeof ErpEmployee>;
const EMPLOYEE_FIELDS = ['name', 'email', 'mobile'] as const;

async function employeeRecord(deps: CommandDeps, recordId: string): Promise<CrmRecord | undefined> {
  const employee = await getEmployee(deps, recordId);
  if (!employee) return undefined;
  const fields = employee.fields as Record<string, unknown>;
  return { values: { ...Object.fromEntries(EMPLOYEE_FIELDS.map((field) => [field, fields[field] ?? null])), departmentId: employee.fields.departmentId, retired: employee.status === 'disabled' }, erpCode: employee.erpCode ?? null };
}

export const erpEmployees: InboundRecordKind<EmployeeValue> = {
  topic: 'erp.employee',
  kind: 'employee',
  values: (value) => ({ ...Object.fromEntries(EMPLOYEE_FIELDS.map((field) => [field, value[field] ?? null])), retired: value.retired ?? false }),
  async references({ readStore }, value) {
    if (!value.departmentName) return { departmentId: null };
    const department = await readStore.collection<Doc>(ORG.departments).findOne({ name: value.departmentName }, { projection: { _id: 1 } });
    return department ? { departmentId: department._id } : `No department named ${value.departmentName}: create it, or send the employee without one`;
  },
  // The employee with its login name, or else its e-mail, or else its mobile.
  async holder({ deps, readStore }, value) {
    const byUsername = value.username ? await findEmployeeByUsername(deps, value.username) : undefined;
    if (byUsername) return { recordId: byUsername.employeeId, field: 'username', record: (await employeeRecord(deps, byUsername.employeeId))! };
    for (const field of ['email', 'mobile'] as const) {
      if (!value[field]) continue;
      const found = await readStore.collection<Doc>(ORG.employees).findOne({ [field]: value[field] }, { projection: { _id: 1 } });
      const record = found ? await employeeRecord(deps, found._id) : undefined;
      if (record) return { recordId: found!._id, field, record };
    }
    return undefined;
  },
  current: ({ deps }, recordId) => employeeRecord(deps, recordId),
  async create(context, value, values) {
    const { retired, departmentId, ...rest } = values;
    const hired = await hireEmployee(context.deps, { fields: { ...present(rest), departmentId: (departmentId as string | null) ?? null } as EmployeeFields, roleIds: [], erpCode: value.erpCode }, context.actor, stepMeta(context.meta, 'create'));
    if (retired === true) await disableEmployee(context.deps, hired.employeeId, 'retired in the ERP', context.actor, stepMeta(context.meta, 'disable'));
    return hired.employeeId;
  },
  async write(context, recordId, changes) {
    const { retired, ...rest } = changes;
    if (retired === false) await enableEmployee(context.deps, recordId, context.actor, stepMeta(context.meta, 'enable'));
    if (Object.keys(rest).length) await changeEmployee(context.deps, recordId, { changes: rest as Partial<Record<keyof EmployeeFields, unknown>> }, context.actor, stepMeta(context.meta, 'change'));
    if (retired === true) await disableEmployee(context.deps, recordId, 'retired in the ERP', context.actor, stepMeta(context.meta, 'disable'));
  },
  async link(context, recordId, erpCode) {
    await execute(context.deps, employeeDecider, employeeStream(recordId), { type: 'LinkEmployeeToErp', employeeId: recordId, erpCode }, context.actor, stepMeta(context.meta, 'link'));
  },
};

/** The `erp-bridge` system actor: every write of the bridge is made, and shown in histories, as it. */
export const erpBridgeActor: Actor = { userId: 'erp-bridge', username: 'erp-bridge', roleIds: [], permissions: {}, dataScope: 'all', departmentId: null, departmentPath: '/', fieldRules: {} };

/** The master-data topics whose records the bridge keeps linked, by topic. */
export const inboundRecordKinds = { 'erp.employee': erpEmployees, 'erp.customer': erpCustomers, 'erp.contact': erpContacts, 'erp.product': erpProducts } as const;
