import { z } from 'zod';
import { resourceSpecs } from '../../domain/customization/resources.ts';
import { authorize, isAllowed } from '../../commands/authorization.ts';
import { archiveCustomer, changeCustomer, changeCustomerOwner, registerCustomer, restoreCustomer } from '../../commands/customers.ts';
import { foldAsOf, load } from '../../commands/pipeline.ts';
import { CustomerFields, customerDecider, type CustomerState, customerStream } from '../../domain/customer/index.ts';
import type { RecordKind } from '../records.ts';
import { DomainError } from '../../domain/shared/errors.ts';
import { contactsOfCustomer, getCustomer } from '../../projections/customer-queries.ts';
import { publicView } from '../../projections/lists.ts';
import { CONTACTS, CUSTOMERS, type CustomerDoc } from '../../projections/customers.ts';
import { OPPORTUNITIES } from '../../projections/opportunities.ts';
import { ownerInScope, readFilter, withinScope } from '../../access/scope.ts';
import { fieldColumns, moneyColumns } from '../csv.ts';
import { listOrExport } from '../list.ts';
import { relatedRoute } from '../related.ts';
import { listQuery } from '../list-query.ts';
import { AsOfQuery, HistoryPage, HistoryQuery, historyPage, notFound, recordEnvelope } from '../history.ts';
import { patchSchema } from '../patch.ts';
import { commonErrors, conflictError, notFoundError, recordWriteErrors } from '../responses.ts';
import { assertFieldsWritable } from '../field-security.ts';
import { type AnyRoute, defineRoute, Id, IdParams, WriteResult, written } from '../route.ts';
import { ContactView } from './contacts.ts';

const BASE = '/api/v1/customers';
const tags = ['Customers 客户'];

/** Customers as record kind (history, attachments): scoped by owner; one in the pool is visible to everyone. */
export const customer: RecordKind<CustomerState> = { resource: 'customers', singular: 'customer', tags, stream: customerStream, decider: customerDecider, ownerOf: (state) => (state.status === 'none' ? null : state.ownerId) };

const CustomerInput = CustomerFields.extend({ ownerId: Id.optional().describe('Owner (a user id); default: you') })
  .strict()
  .meta({
    id: 'CustomerInput',
    examples: [{ name: '上海精工机械有限公司', industry: '机械制造', region: '华东', taxNumber: '91310000MA1FL0001A', annualRevenue: { amount: 12500000000, currency: 'CNY' } }],
  });

const CustomerPatch = patchSchema(CustomerFields, 'CustomerPatch');

export const CustomerView = CustomerFields.extend({
  id: z.string(),
  revision: z.number().int(),
  createdAt: z.string(),
  updatedAt: z.string(),
  status: z.enum(['active', 'archived']),
  ownerId: z.string().nullable().describe('null while in the customer pool'),
  departmentPath: z.string().nullable().describe("The owner's department path"),
  inPool: z.boolean(),
  erpCode: z.string().nullable().describe("The customer's code in the ERP (往来单位编码); null until the ERP bridge links it"),
  contacts: z.array(z.record(z.string(), z.unknown())).optional().describe('The most recently changed contacts (at most 50); all of them: GET /api/v1/contacts?customerId=<id>'),
  contactCount: z.number().int().optional().describe('How many contacts the customer has'),
}).meta({ id: 'Customer' });

const ListQuery = listQuery(resourceSpecs.customers.list.filters, resourceSpecs.customers.list.sorts);

const CustomerPage = z.object({ items: z.array(CustomerView), nextCursor: z.string().nullable() }).meta({ id: 'CustomerPage' });

const csvColumns = [
  ...fieldColumns<CustomerDoc>('id', 'name', 'shortName', 'industry', 'region', 'level', 'category', 'source', 'phone', 'website', 'address', 'postalCode', 'taxNumber', 'status', 'ownerId', 'createdAt', 'updatedAt'),
  ...moneyColumns<CustomerDoc>('annualRevenue'),
  { header: 'contacts', value: (doc: CustomerDoc) => doc.contacts.map((c) => c.name).join('; ') },
];

type Services = Parameters<AnyRoute['handler']>[0]['services'];
type Actor = Parameters<AnyRoute['handler']>[0]['actor'];

/** Loads a customer's stream for history and point-in-time reads, enforcing the data scope. */
async function customerEvents(services: Services, actor: Actor, id: string) {
  const loaded = await load(services.deps, customerDecider, customerStream(id));
  if (loaded.state.status === 'none' || !(await ownerInScope(services.deps, actor, loaded.state.ownerId))) throw notFound('customer', id);
  return loaded;
}

/** A customer the actor may change: in scope, and not in the pool unless the actor sees everything. */
async function customerForWrite(services: Services, actor: Actor, id: string) {
  const loaded = await customerEvents(services, actor, id);
  if (loaded.state.status !== 'none' && loaded.state.ownerId === null && actor.dataScope !== 'all')
    throw new DomainError('customer.in_pool', 'This customer is in the pool; claim it first', { customerId: id });
  return loaded;
}

const related = relatedRoute('customers', async (services, actor, id) => (await getCustomer(services.readStore, readFilter(actor), id)) !== null, {
  contacts: async (services, actor, id, limit) => {
    if (!isAllowed(actor, 'contacts', 'view')) return null;
    const collection = services.readStore.collection(CONTACTS);
    const filter = withinScope(readFilter(actor), { customerId: id });
    const items = await collection.find(filter, { sort: { name: 1, _id: 1 }, limit });
    return { items: items.map((c) => ContactView.parse(publicView(c))), total: await collection.countDocuments(filter) };
  },
  opportunities: async (services, actor, id, limit) => {
    if (!isAllowed(actor, 'opportunities', 'view')) return null;
    const collection = services.readStore.collection(OPPORTUNITIES);
    const filter = withinScope(readFilter(actor), { customerId: id });
    const items = await collection.find(filter, { sort: { updatedAt: -1, _id: -1 }, limit });
    return { items: items.map(publicView), total: await collection.countDocuments(filter) };
  },
});

export const customerRoutes: AnyRoute[] = [
  related,
  defineRoute({
    method: 'post',
    path: BASE,
    summary: 'Register a customer (客户档案)',
    description: 'One customer per normalised name and per tax number company-wide: a second one → 409 customer.duplicate naming existingCustomerId.',
    tags,
    fields: { resource: 'customers', writes: true },
    body: CustomerInput,
    responses: { 201: { description: 'Registered', schema: WriteResult }, ...commonErrors, ...conflictError },
    async handler({ body, actor, services, meta }) {
      authorize(actor, 'customers', 'create');
      const { ownerId, ...fields } = body;
      if (ownerId && ownerId !== actor.userId) authorize(actor, 'customers', 'assign');
      const result = await registerCustomer(services.deps, { fields, ...(ownerId ? { ownerId } : {}) }, actor, meta);
      return written(result, result.customerId, `${BASE}/${result.customerId}`);
    },
  }),
  defineRoute({
    method: 'get',
    path: BASE,
    reads: [CUSTOMERS],
    summary: 'List customers',
    description: 'Search, filter, sort and page with a cursor. `Accept: text/csv` exports every matching customer.',
    tags,
    fields: { resource: 'customers', shape: 'page' },
    query: ListQuery,
    responses: { 200: { description: 'A page of customers', schema: CustomerPage }, ...commonErrors },
    handler: (context) => listOrExport(context, { resource: 'customers', columns: csvColumns }),
  }),
  defineRoute({
    method: 'get',
    path: `${BASE}/:id`,
    reads: [CUSTOMERS],
    summary: 'One customer with its contacts (related objects); ?asOf= for the record as it stood then',
    tags,
    fields: { resource: 'customers', shape: 'record' },
    params: IdParams,
    query: AsOfQuery,
    responses: { 200: { description: 'The customer', schema: CustomerView }, ...commonErrors, ...notFoundError },
    async handler({ params, query, actor, services }) {
      authorize(actor, 'customers', 'view');
      if (query.asOf) {
        const loaded = await customerEvents(services, actor, params.id);
        const then = foldAsOf(customerDecider, loaded.events, new Date(query.asOf));
        if (then.state.status === 'none') throw notFound('customer', params.id);
        const { fields, status, ownerId, erpCode } = then.state;
        return {
          status: 200,
          body: { ...recordEnvelope(params.id, then.events), ...fields, erpCode, status, ownerId, inPool: ownerId === null, asOf: query.asOf },
          headers: { ETag: `"${then.revision}"` },
        };
      }
      const doc = await getCustomer(services.readStore, readFilter(actor), params.id);
      if (!doc) throw notFound('customer', params.id);
      const contacts = await contactsOfCustomer(services.readStore, readFilter(actor), params.id);
      return {
        status: 200,
        body: { ...publicView(doc), contacts: contacts.map((c) => ContactView.parse(publicView(c))), contactCount: doc.contactCount ?? contacts.length },
        headers: { ETag: `"${doc.revision}"` },
      };
    },
  }),
  defineRoute({
    method: 'get',
    path: `${BASE}/:id/history`,
    reads: [],
    summary: "A customer's events, oldest first",
    tags,
    fields: { resource: 'customers', shape: 'history' },
    params: IdParams,
    query: HistoryQuery,
    responses: { 200: { description: 'History', schema: HistoryPage }, ...commonErrors, ...notFoundError },
    async handler({ params, query, actor, services }) {
      authorize(actor, 'customers', 'view');
      const loaded = await customerEvents(services, actor, params.id);
      return { status: 200, body: historyPage(loaded.events, query.from, query.limit) };
    },
  }),
  defineRoute({
    method: 'patch',
    path: `${BASE}/:id`,
    summary: 'Change plain fields (null clears a field)',
    tags,
    fields: { resource: 'customers', writes: true },
    params: IdParams,
    body: CustomerPatch,
    conditional: true,
    responses: { 200: { description: 'Changed (or unchanged)', schema: WriteResult }, ...recordWriteErrors },
    async handler({ params, body, actor, services, meta }) {
      authorize(actor, 'customers', 'edit');
      await customerForWrite(services, actor, params.id);
      const result = await changeCustomer(services.deps, params.id, body, actor, meta);
      return written(result, params.id);
    },
  }),
  defineRoute({
    method: 'post',
    path: `${BASE}/:id/assign`,
    summary: 'Change the owner',
    tags,
    fields: { resource: 'customers', writes: true },
    params: IdParams,
    body: z.object({ ownerId: Id }).strict(),
    conditional: true,
    responses: { 200: { description: 'Owner changed', schema: WriteResult }, ...recordWriteErrors },
    async handler({ params, body, actor, services, meta }) {
      authorize(actor, 'customers', 'assign');
      assertFieldsWritable(actor, 'customers', ['ownerId']);
      await customerForWrite(services, actor, params.id);
      return written(await changeCustomerOwner(services.deps, params.id, body.ownerId, actor, meta), params.id);
    },
  }),
  defineRoute({
    method: 'post',
    path: `${BASE}/:id/archive`,
    summary: 'Archive a customer',
    tags,
    params: IdParams,
    body: z.object({ reason: z.string().trim().min(1).max(500).optional() }).strict(),
    conditional: true,
    responses: { 200: { description: 'Archived', schema: WriteResult }, ...recordWriteErrors },
    async handler({ params, body, actor, services, meta }) {
      authorize(actor, 'customers', 'delete');
      assertFieldsWritable(actor, 'customers', ['status']);
      await customerForWrite(services, actor, params.id);
      return written(await archiveCustomer(services.deps, params.id, body.reason, actor, meta), params.id);
    },
  }),
  defineRoute({
    method: 'post',
    path: `${BASE}/:id/restore`,
    summary: 'Restore an archived customer',
    tags,
    params: IdParams,
    body: z.object({}).strict(),
    conditional: true,
    responses: { 200: { description: 'Restored', schema: WriteResult }, ...recordWriteErrors },
    async handler({ params, actor, services, meta }) {
      authorize(actor, 'customers', 'delete');
      assertFieldsWritable(actor, 'customers', ['status']);
      await customerForWrite(services, actor, params.id);
      return written(await restoreCustomer(services.deps, params.id, actor, meta), params.id);
    },
  }),
];

