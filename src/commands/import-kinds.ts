import type { z } from 'zod';
import { ContactFields } from '../domain/contact/index.ts';
import { CustomerFields } from '../domain/customer/index.ts';
import type { FieldDefinition } from '../domain/customization/fields.ts';
import { specOf } from '../domain/customization/resources.ts';
import type { ImportResource } from '../domain/import/mapping.ts';
import type { RowError } from '../domain/import/rows.ts';
import { LeadFields } from '../domain/lead/index.ts';
import { ProductFields } from '../domain/product/index.ts';
import { normalizeName, normalizePhone } from '../domain/shared/normalize.ts';
import type { Doc, ReadStore } from '../infra/readstore/port.ts';
import { CONTACTS, CUSTOMERS } from '../projections/customers.ts';
import { addContact, changeContact } from './contacts.ts';
import type { Actor, CommandDeps, RequestMeta } from './context.ts';
import { changeCustomer, customerRules, registerCustomer } from './customers.ts';
import { changeLead, createLead } from './leads.ts';
import { changeProduct, createProduct, productRules } from './products.ts';
import type { UniqueField } from './record-handler.ts';
import { loadRecord, stateInScope } from './references.ts';
import { currentHolder } from './reservations.ts';

/** What planning an import's rows reads: the deps, the read models, who runs it, the company currency, the custom fields. */
export interface RowContext {
  deps: CommandDeps;
  readStore: ReadStore;
  actor: Actor;
  currency: string;
  custom: Readonly<Record<string, FieldDefinition>>;
}

/** What a row creates: its fields, and the owner (by login name) or the customer (by name) it names. */
export interface CreateWrite {
  create: Record<string, unknown>;
  ownerId?: string;
  customerId?: string;
}

/**
 * What an import needs to know of each record type it takes: its fields, its company-wide unique values, how a match
 * key finds a record, what a new record needs besides its fields, and the commands that write a row (the same the API
 * runs, so a row is checked and written as a request would be).
 */
export interface ImportKind {
  resource: ImportResource;
  /** One record, as a row's problems name it. */
  singular: string;
  fields: z.ZodObject<z.ZodRawShape>;
  uniqueFields: readonly UniqueField[];
  /** Its rows may name an owner by login name (`ownerUsername`). */
  owned: boolean;
  /** The record a match key that is no unique value names (its id), in any scope: the caller's scope is checked after. */
  match(context: RowContext, by: string, value: string): Promise<string | undefined>;
  /** A new record's parent, from the row (a contact's customer, by name), or the problem with it. */
  parent?(context: RowContext, values: Readonly<Record<string, unknown>>): Promise<{ customerId: string } | RowError>;
  create(deps: CommandDeps, write: CreateWrite, actor: Actor, meta: RequestMeta): Promise<unknown>;
  change(deps: CommandDeps, id: string, changes: Record<string, unknown>, actor: Actor, meta: RequestMeta): Promise<unknown>;
}

const idOf = async (store: ReadStore, collection: string, filter: Record<string, unknown>) => (await store.collection<Doc>(collection).findOne(filter, { projection: { _id: 1 } }))?._id;
const byPhone = (store: ReadStore, collection: string, value: string) => {
  const phone = normalizePhone(value);
  return phone ? idOf(store, collection, { _phones: phone }) : Promise.resolve(undefined);
};

/** The customer a contact row names (by name, as unique company-wide), if the caller may add contacts to it. */
async function customerByName(context: RowContext, values: Readonly<Record<string, unknown>>): Promise<{ customerId: string } | RowError> {
  const name = values.customerName;
  if (typeof name !== 'string' || !name.trim()) return { field: 'customerName', message: 'Required: the cell is empty' };
  const customers = specOf('customers');
  const customerId = await currentHolder(context.deps, 'customer.name', normalizeName(name));
  const { state } = customerId ? await loadRecord(context.deps, customers, customerId) : { state: { status: 'none' } };
  if (!customerId || state.status === 'none' || !(await stateInScope(context.deps, context.actor, customers, state))) return { field: 'customerName', message: `No customer named ${name.trim()} in your data scope` };
  if (state.status === 'merged') return { field: 'customerName', message: `${name.trim()} was merged into another customer; name that one` };
  return { customerId };
}

export const importKinds: Record<ImportResource, ImportKind> = {
  customers: {
    resource: 'customers',
    singular: 'customer',
    fields: CustomerFields,
    uniqueFields: customerRules.uniqueFields ?? [],
    owned: true,
    async match({ readStore }, by, value) {
      if (by === 'erpCode') return idOf(readStore, CUSTOMERS, { erpCode: value.trim() });
      return byPhone(readStore, CUSTOMERS, value);
    },
    create: (deps, write, actor, meta) => registerCustomer(deps, { fields: write.create as CustomerFields, ...(write.ownerId ? { ownerId: write.ownerId } : {}) }, actor, meta),
    change: (deps, id, changes, actor, meta) => changeCustomer(deps, id, changes, actor, meta),
  },
  contacts: {
    resource: 'contacts',
    singular: 'contact',
    fields: ContactFields,
    uniqueFields: [],
    owned: false,
    async match({ readStore }, by, value) {
      if (by === 'email') return idOf(readStore, CONTACTS, { email: value.trim() });
      return byPhone(readStore, CONTACTS, value);
    },
    parent: customerByName,
    create: (deps, write, actor, meta) => addContact(deps, { customerId: write.customerId!, fields: write.create as ContactFields }, actor, meta),
    change: (deps, id, changes, actor, meta) => changeContact(deps, id, { changes }, actor, meta),
  },
  products: {
    resource: 'products',
    singular: 'product',
    fields: ProductFields,
    uniqueFields: productRules.uniqueFields ?? [],
    owned: false,
    match: async ({ readStore }, _by, value) => idOf(readStore, 'products', { name: value.trim() }),
    create: (deps, write, actor, meta) => createProduct(deps, write.create as ProductFields, actor, meta),
    change: (deps, id, changes, actor, meta) => changeProduct(deps, id, changes, actor, meta),
  },
  leads: {
    resource: 'leads',
    singular: 'lead',
    fields: LeadFields,
    uniqueFields: [],
    owned: true,
    async match({ readStore }, by, value) {
      if (by === 'email') return idOf(readStore, 'leads', { email: value.trim() });
      return idOf(readStore, 'leads', { phone: value.trim() });
    },
    create: (deps, write, actor, meta) => createLead(deps, { fields: write.create as LeadFields, ...(write.ownerId ? { ownerId: write.ownerId } : {}) }, actor, meta),
    change: (deps, id, changes, actor, meta) => changeLead(deps, id, changes, actor, meta),
  },
};
