import { z } from 'zod';
import { isAllowed } from '../../commands/authorization.ts';
import { archiveCustomer, changeCustomer, changeCustomerOwner, registerCustomer, restoreCustomer } from '../../commands/customers.ts';
import { CustomerFields, type CustomerState } from '../../domain/customer/index.ts';
import { recordAction, recordRoutes } from '../records.ts';
import type { Actor } from '../../commands/context.ts';
import { DomainError } from '../../domain/shared/errors.ts';
import { contactsOfCustomer, customerContactsFilter, getCustomer } from '../../projections/customer-queries.ts';
import { publicView } from '../../projections/lists.ts';
import { CONTACTS, type CustomerDoc } from '../../projections/customers.ts';
import { OPPORTUNITIES } from '../../projections/opportunities.ts';
import { receivableOf } from '../../projections/erp.ts';
import { Money } from '../../domain/shared/money.ts';
import { readFilter, withinScope } from '../../access/scope.ts';
import { fieldColumns, moneyColumns } from '../csv.ts';
import { relatedRoute } from '../related.ts';
import { AssignBody, type AnyRoute, EmptyBody, Id } from '../route.ts';
import { ContactView } from './contacts.ts';
import { openComplaints, ticketsPanel } from './tickets.ts';
import { activityStatsShape, withActivityCount } from '../../projections/activity-stats.ts';

const CustomerInput = CustomerFields.extend({ ownerId: Id.optional().describe('Owner (a user id); default: you') })
  .strict()
  .meta({
    id: 'CustomerInput',
    examples: [{ name: '上海精工机械有限公司', industry: '机械制造', region: '华东', taxNumber: '91310000MA1FL0001A', annualRevenue: { amount: 12500000000, currency: 'CNY' } }],
  });

export const CustomerView = CustomerFields.extend({
  id: z.string(),
  revision: z.number().int(),
  createdAt: z.string(),
  updatedAt: z.string(),
  status: z.enum(['active', 'archived', 'merged']),
  mergedInto: z.string().optional().describe('While merged: the customer it was merged into (where its records are now)'),
  ownerId: z.string().nullable().describe('null while in the customer pool'),
  departmentPath: z.string().nullable().describe("The owner's department path"),
  inPool: z.boolean(),
  erpCode: z.string().nullable().describe("The customer's code in the ERP (往来单位编码); null until the ERP bridge links it"),
  contacts: z.array(z.record(z.string(), z.unknown())).optional().describe('The most recently changed contacts (at most 50); all of them: GET /api/v1/contacts?customerId=<id>'),
  contactCount: z.number().int().optional().describe('How many contacts the customer has'),
  openComplaints: z
    .array(z.object({ id: z.string(), number: z.string(), subject: z.string(), priority: z.string(), status: z.string() }))
    .optional()
    .describe('Its open complaint tickets you may see (one record only; needs tickets view)'),
  memberLevel: z.string().nullable().optional().describe("Its member level's key, computed from the rules at /api/v1/settings/member-levels (the manual `level` is another field)"),
  receivable: z
    .object({ balance: Money, overdue: Money.optional(), asOf: z.string() })
    .nullable()
    .optional()
    .describe('What it owes as the ERP last reported (应收余额; one record only); null: the ERP reported nothing'),
  ...activityStatsShape,
}).meta({ id: 'Customer' });

const csvColumns = [
  ...fieldColumns<CustomerDoc>('id', 'name', 'shortName', 'industry', 'region', 'level', 'memberLevel', 'category', 'source', 'phone', 'website', 'address', 'postalCode', 'taxNumber', 'status', 'ownerId', 'createdAt', 'updatedAt'),
  ...moneyColumns<CustomerDoc>('annualRevenue'),
  { header: 'contacts', value: (doc: CustomerDoc) => doc.contacts.map((c) => c.name).join('; ') },
];

const related = relatedRoute('customers', async (services, actor, id) => (await getCustomer(services.readStore, readFilter(actor), id)) !== null, {
  contacts: async (services, actor, id, limit) => {
    if (!isAllowed(actor, 'contacts', 'view')) return null;
    const collection = services.readStore.collection(CONTACTS);
    const filter = withinScope(readFilter(actor), customerContactsFilter(id));
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
  tickets: ticketsPanel('customerId'),
});

/** A customer in the pool may be read by everyone who may view customers, but changed only once claimed (or by someone who sees everything). */
function assertNotInPool(state: CustomerState, actor: Actor): void {
  if (state.status !== 'none' && state.ownerId === null && actor.dataScope !== 'all')
    throw new DomainError('customer.in_pool', 'This customer is in the pool; claim it first', { customerId: state.customerId });
}

export const customerRoutes: AnyRoute[] = [
  related,
  ...recordRoutes<CustomerState>({
    resource: 'customers',
    view: CustomerView,
    pageSchemaId: 'CustomerPage',
    columns: csvColumns,
    texts: { list: { summary: 'List customers', description: 'Search, filter, sort and page with a cursor. `Accept: text/csv` (or the XLSX type) exports every matching customer.' }, one: 'One customer with its contacts (related objects); ?asOf= for the record as it stood then' },
    asOfView: (state) => (state.status === 'none' ? {} : { ...state.fields, erpCode: state.erpCode, status: state.status, ownerId: state.ownerId, inPool: state.ownerId === null, ...(state.memberLevel !== undefined ? { memberLevel: state.memberLevel } : {}) }),
    present: (doc, services) => withActivityCount(doc, services.deps.clock.now()),
    async expand(doc, { services, actor }) {
      const contacts = await contactsOfCustomer(services.readStore, readFilter(actor), doc._id);
      const complaints = isAllowed(actor, 'tickets', 'view') ? { openComplaints: await openComplaints(services.readStore, actor, doc._id) } : {};
      const receivable = await receivableOf(services.readStore, (doc as CustomerDoc).erpCode);
      return { contacts: contacts.map((c) => ContactView.parse(publicView(c))), contactCount: (doc as CustomerDoc).contactCount ?? contacts.length, ...complaints, receivable };
    },
    assertWritable: assertNotInPool,
    create: {
      summary: 'Register a customer (客户档案)',
      description: 'One customer per normalised name and per tax number company-wide: a second one → 409 customer.duplicate naming existingCustomerId.',
      done: 'Registered',
      body: CustomerInput,
      async run({ body, actor, services, meta }) {
        const { ownerId, ...fields } = body as z.infer<typeof CustomerInput>;
        const result = await registerCustomer(services.deps, { fields, ...(ownerId ? { ownerId } : {}) }, actor, meta);
        return { ...result, id: result.customerId };
      },
    },
    patch: {
      summary: 'Change plain fields (null clears a field)',
      done: 'Changed (or unchanged)',
      fields: CustomerFields,
      schemaId: 'CustomerPatch',
      run: ({ params, body, actor, services, meta }) => changeCustomer(services.deps, params.id, body, actor, meta),
    },
    actions: [
      recordAction({
        action: 'assign',
        summary: 'Change the owner',
        body: AssignBody,
        permission: 'assign',
        writes: ['ownerId'],
        done: 'Owner changed',
        run: ({ params, body, actor, services, meta }) => changeCustomerOwner(services.deps, params.id, body.ownerId, actor, meta),
      }),
      recordAction({
        action: 'archive',
        summary: 'Archive a customer',
        body: z.object({ reason: z.string().trim().min(1).max(500).optional() }).strict(),
        permission: 'delete',
        bodyNamesFields: false,
        done: 'Archived',
        run: ({ params, body, actor, services, meta }) => archiveCustomer(services.deps, params.id, body.reason, actor, meta),
      }),
      recordAction({
        action: 'restore',
        summary: 'Restore an archived customer',
        body: EmptyBody,
        permission: 'delete',
        done: 'Restored',
        run: ({ params, actor, services, meta }) => restoreCustomer(services.deps, params.id, actor, meta),
      }),
    ],
  }),
];
