import { z } from 'zod';
import { resourceSpecs } from '../../domain/customization/resources.ts';
import { authorize } from '../../commands/authorization.ts';
import { addContact, changeContact, removeContact } from '../../commands/contacts.ts';
import { foldAsOf, load } from '../../commands/pipeline.ts';
import { ContactFields, contactDecider, contactStream } from '../../domain/contact/index.ts';
import { customerDecider, customerStream } from '../../domain/customer/index.ts';
import { getContact } from '../../projections/customer-queries.ts';
import { publicView } from '../../projections/lists.ts';
import { CONTACTS, type ContactDoc } from '../../projections/customers.ts';
import { ownerInScope, readFilter } from '../../access/scope.ts';
import { fieldColumns } from '../csv.ts';
import { listOrExport } from '../list.ts';
import { listQuery } from '../list-query.ts';
import { AsOfQuery, HistoryPage, HistoryQuery, historyPage, notFound, recordEnvelope } from '../history.ts';
import { patchSchema } from '../patch.ts';
import { commonErrors, conflictError, notFoundError, recordWriteErrors, staleError } from '../responses.ts';
import { type AnyRoute, defineRoute, Id, IdParams, type RouteContext, WriteResult, written } from '../route.ts';

const BASE = '/api/v1/contacts';
const tags = ['Contacts 联系人'];

const ContactInput = ContactFields.extend({ customerId: Id.describe('The customer this contact belongs to') })
  .strict()
  .meta({ id: 'ContactInput', examples: [{ customerId: '0193a4c2-7f3e-7b1a-9c1d-2f4e6a8b0c11', name: '李娜', title: '采购总监', dealRole: 'decision_maker', mobile: '13900001111' }] });
const ContactPatch = patchSchema(ContactFields.extend({ customerId: Id.describe('Moves the contact to another customer') }), 'ContactPatch');

export const ContactView = ContactFields.extend({
  id: z.string(),
  revision: z.number().int(),
  createdAt: z.string(),
  updatedAt: z.string(),
  customerId: z.string(),
  customerName: z.string(),
  ownerId: z.string().nullable(),
  departmentPath: z.string().nullable(),
}).meta({ id: 'Contact' });

const ListQuery = listQuery(resourceSpecs.contacts.list.filters, resourceSpecs.contacts.list.sorts);
const ContactPage = z.object({ items: z.array(ContactView), nextCursor: z.string().nullable() }).meta({ id: 'ContactPage' });

const csvColumns = fieldColumns<ContactDoc>('id', 'name', 'title', 'dealRole', 'officePhone', 'mobile', 'email', 'birthday', 'customerId', 'customerName', 'ownerId', 'createdAt', 'updatedAt');

/**
 * A contact's stream, with its data scope: a contact is in scope when its customer is (contacts follow their
 * customer's owner). Removed contacts keep their history.
 */
async function contactEvents({ services, actor }: Pick<RouteContext<unknown, unknown, unknown>, 'services' | 'actor'>, id: string) {
  const loaded = await load(services.deps, contactDecider, contactStream(id));
  if (loaded.state.status === 'none') throw notFound('contact', id);
  const customer = (await load(services.deps, customerDecider, customerStream(loaded.state.customerId))).state;
  if (customer.status === 'none' || !(await ownerInScope(services.deps, actor, customer.ownerId))) throw notFound('contact', id);
  return loaded;
}

export const contactRoutes: AnyRoute[] = [
  defineRoute({
    method: 'post',
    path: BASE,
    summary: 'Add a contact (联系人) to a customer',
    tags,
    fields: { resource: 'contacts', writes: true },
    body: ContactInput,
    responses: { 201: { description: 'Added', schema: WriteResult }, ...commonErrors, ...conflictError },
    async handler({ body, actor, services, meta }) {
      authorize(actor, 'contacts', 'create');
      const { customerId, ...fields } = body;
      const result = await addContact(services.deps, { customerId, fields }, actor, meta);
      return written(result, result.contactId, `${BASE}/${result.contactId}`);
    },
  }),
  defineRoute({
    method: 'get',
    path: BASE,
    reads: [CONTACTS],
    summary: 'List contacts',
    description: '`Accept: text/csv` exports every matching contact.',
    tags,
    fields: { resource: 'contacts', shape: 'page' },
    query: ListQuery,
    responses: { 200: { description: 'A page of contacts', schema: ContactPage }, ...commonErrors },
    handler: (context) => listOrExport(context, { resource: 'contacts', columns: csvColumns }),
  }),
  defineRoute({
    method: 'get',
    path: `${BASE}/:id`,
    reads: [CONTACTS],
    summary: 'One contact; ?asOf= for the contact as it stood then',
    tags,
    fields: { resource: 'contacts', shape: 'record' },
    params: IdParams,
    query: AsOfQuery,
    responses: { 200: { description: 'The contact', schema: ContactView }, ...commonErrors, ...notFoundError },
    async handler(context) {
      const { params, query, actor, services } = context;
      authorize(actor, 'contacts', 'view');
      if (query.asOf) {
        const loaded = await contactEvents(context, params.id);
        const then = foldAsOf(contactDecider, loaded.events, new Date(query.asOf));
        if (then.state.status === 'none') throw notFound('contact', params.id);
        const { fields, status, customerId } = then.state;
        return { status: 200, body: { ...recordEnvelope(params.id, then.events), ...fields, customerId, status, asOf: query.asOf }, headers: { ETag: `"${then.revision}"` } };
      }
      const doc = await getContact(services.readStore, readFilter(actor), params.id);
      if (!doc) throw notFound('contact', params.id);
      return { status: 200, body: publicView(doc), headers: { ETag: `"${doc.revision}"` } };
    },
  }),
  defineRoute({
    method: 'get',
    path: `${BASE}/:id/history`,
    reads: [],
    summary: "A contact's events, oldest first (also after removal)",
    tags,
    fields: { resource: 'contacts', shape: 'history' },
    params: IdParams,
    query: HistoryQuery,
    responses: { 200: { description: 'History', schema: HistoryPage }, ...commonErrors, ...notFoundError },
    async handler(context) {
      authorize(context.actor, 'contacts', 'view');
      const loaded = await contactEvents(context, context.params.id);
      return { status: 200, body: historyPage(loaded.events, context.query.from, context.query.limit) };
    },
  }),
  defineRoute({
    method: 'patch',
    path: `${BASE}/:id`,
    summary: 'Change a contact (null clears a field; customerId moves it)',
    tags,
    fields: { resource: 'contacts', writes: true },
    params: IdParams,
    body: ContactPatch,
    conditional: true,
    responses: { 200: { description: 'Changed (or unchanged)', schema: WriteResult }, ...recordWriteErrors },
    async handler(context) {
      const { params, body, actor, services, meta } = context;
      authorize(actor, 'contacts', 'edit');
      await contactEvents(context, params.id);
      const { customerId, ...changes } = body as Record<string, unknown>;
      const input = { changes, ...(typeof customerId === 'string' ? { customerId } : {}) };
      return written(await changeContact(services.deps, params.id, input, actor, meta), params.id);
    },
  }),
  defineRoute({
    method: 'delete',
    path: `${BASE}/:id`,
    summary: 'Remove a contact (its history stays readable)',
    tags,
    params: IdParams,
    conditional: true,
    responses: { 200: { description: 'Removed', schema: WriteResult }, ...commonErrors, ...notFoundError, ...staleError },
    async handler(context) {
      const { params, actor, services, meta } = context;
      authorize(actor, 'contacts', 'delete');
      await contactEvents(context, params.id);
      return written(await removeContact(services.deps, params.id, actor, meta), params.id);
    },
  }),
];
