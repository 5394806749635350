import { z } from 'zod';
import { addContact, changeContact, removeContact } from '../../commands/contacts.ts';
import { ContactFields, type ContactState } from '../../domain/contact/index.ts';
import { recordRoutes } from '../records.ts';
import { type ContactDoc } from '../../projections/customers.ts';
import { fieldColumns } from '../csv.ts';
import { activityStatsShape, withActivityCount } from '../../projections/activity-stats.ts';
import { type AnyRoute, Id } from '../route.ts';

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
  ...activityStatsShape,
}).meta({ id: 'Contact' });

const csvColumns = fieldColumns<ContactDoc>('id', 'name', 'title', 'dealRole', 'officePhone', 'mobile', 'email', 'birthday', 'customerId', 'customerName', 'ownerId', 'createdAt', 'updatedAt');

export const contactRoutes: AnyRoute[] = recordRoutes<ContactState>({
  resource: 'contacts',
  view: ContactView,
  pageSchemaId: 'ContactPage',
  columns: csvColumns,
  texts: {
    list: { summary: 'List contacts', description: '`Accept: text/csv` exports every matching contact.' },
    one: 'One contact; ?asOf= for the contact as it stood then',
    history: "A contact's events, oldest first (also after removal)",
  },
  asOfView: (state) => (state.status === 'none' ? {} : { ...state.fields, customerId: state.customerId, status: state.status }),
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
});
