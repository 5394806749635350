import { z } from 'zod';
import { addContact, changeContact, removeContact } from '../../commands/contacts.ts';
import { ContactFields, type ContactState } from '../../domain/contact/index.ts';
import { recordRoutes } from '../records.ts';
import { CONTACTS, type ContactDoc } from '../../projections/customers.ts';
import { publicView } from '../../projections/lists.ts';
import { readFilter, withinScope } from '../../access/scope.ts';
import { specOf } from '../../domain/customization/resources.ts';
import { commonErrors } from '../responses.ts';
import { fieldColumns } from '../csv.ts';
import { activityStatsShape, withActivityCount } from '../../projections/activity-stats.ts';
import { type AnyRoute, defineRoute, Id } from '../route.ts';

const ContactInput = ContactFields.extend({ customerId: Id.describe('The customer this contact belongs to') })
  .strict()
  .meta({ id: 'ContactInput', examples: [{ customerId: '0193a4c2-7f3e-7b1a-9c1d-2f4e6a8b0c11', name: '李娜', title: '采购总监', dealRole: 'decision_maker', mobile: '13900001111' }] });

export const ContactView = ContactFields.extend({
  id: z.string(),
  revision: z.number().int(),
  createdAt: z.string(),
  updatedAt: z.string(),
  customerId: z.string(),
  customerName: z.string(),
  ownerId: z.string().nullable(),
  departmentPath: z.string().nullable(),
  status: z.literal('merged').optional().describe('Present on a contact merged into another (a duplicate): it takes no changes'),
  mergedInto: z.string().optional().describe('While merged: the contact it was merged into'),
  erpCode: z.string().nullable().optional().describe("The contact's code in the ERP; null until the ERP bridge links it"),
  ...activityStatsShape,
}).meta({ id: 'Contact' });

const csvColumns = fieldColumns<ContactDoc>('id', 'name', 'title', 'dealRole', 'officePhone', 'mobile', 'email', 'birthday', 'customerId', 'customerName', 'ownerId', 'createdAt', 'updatedAt');

const DAY_MS = 86_400_000;
const StaleQuery = z.object({
  days: z.coerce.number().int().min(1).max(3650).default(30).describe('No activity for this many days'),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

/**
 * 该联系了: contacts in the caller's scope with no activity for `days` days (never contacted: since they were
 * added), the longest first, with when they were last contacted.
 */
const staleContacts = defineRoute({
  method: 'get',
  path: '/api/v1/contacts/stale',
  reads: [CONTACTS],
  summary: 'Contacts in your scope with no activity for N days, the longest first',
  tags: [specOf('contacts').tag],
  permission: ['contacts', 'view'],
  fields: { resource: 'contacts', shape: 'page' },
  query: StaleQuery,
  responses: { 200: { description: 'Contacts to call', schema: z.object({ items: z.array(ContactView.extend({ idleDays: z.number().int().describe('Days since the last activity (or since added)') })), total: z.number().int() }) }, ...commonErrors },
  async handler({ query, actor, services }) {
    const now = services.deps.clock.now();
    const cutoff = new Date(now.getTime() - query.days * DAY_MS).toISOString();
    const filter = withinScope(readFilter(actor), { $or: [{ lastContactedAt: { $lt: cutoff } }, { lastContactedAt: { $exists: false }, createdAt: { $lt: cutoff } }] });
    const since = (doc: ContactDoc) => (doc.lastContactedAt as string | undefined) ?? doc.createdAt;
    const docs = (await services.readStore.collection<ContactDoc>(CONTACTS).find(filter)).sort((a, b) => (since(a) < since(b) ? -1 : since(a) > since(b) ? 1 : a._id < b._id ? -1 : 1));
    const items = docs.slice(0, query.limit).map((doc) => ({ ...publicView(withActivityCount(doc, now)), idleDays: Math.floor((now.getTime() - Date.parse(since(doc))) / DAY_MS) }));
    return { status: 200, body: { items, total: docs.length } };
  },
});

export const contactRoutes: AnyRoute[] = [staleContacts, ...recordRoutes<ContactState>({
  resource: 'contacts',
  view: ContactView,
  pageSchemaId: 'ContactPage',
  columns: csvColumns,
  texts: {
    list: { summary: 'List contacts', description: '`Accept: text/csv` (or the XLSX type) exports every matching contact.' },
    one: 'One contact; ?asOf= for the contact as it stood then',
    history: "A contact's events, oldest first (also after removal)",
  },
  asOfView: (state) => (state.status === 'none' ? {} : { ...state.fields, customerId: state.customerId, status: state.status, erpCode: state.erpCode ?? null }),
  present: (doc, services) => withActivityCount(doc, services.deps.clock.now()),
  create: {
    summary: 'Add a contact (联系人) to a customer',
    body: ContactInput,
    async run({ body, actor, services, meta }) {
      const { customerId, ...fields } = body as z.infer<typeof ContactInput>;
      const result = await addContact(services.deps, { customerId, fields }, actor, meta);
      return { ...result, id: result.contactId };
    },
  },
  patch: {
    summary: 'Change a contact (null clears a field; customerId moves it)',
    done: 'Changed (or unchanged)',
    fields: ContactFields.extend({ customerId: Id.describe('Moves the contact to another customer') }),
    schemaId: 'ContactPatch',
    run({ params, body, actor, services, meta }) {
      const { customerId, ...changes } = body;
      return changeContact(services.deps, params.id, { changes, ...(typeof customerId === 'string' ? { customerId } : {}) }, actor, meta);
    },
  },
  remove: {
    summary: 'Remove a contact (its history stays readable)',
    done: 'Removed',
    run: ({ params, actor, services, meta }) => removeContact(services.deps, params.id, actor, meta),
  },
})];
