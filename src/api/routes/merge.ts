import { z } from 'zod';
import { readFilter } from '../../access/scope.ts';
import { authorize, isAllowed } from '../../commands/authorization.ts';
import { duplicateCandidates, type DuplicateSubject } from '../../domain/customer/duplicates.ts';
import { CONTACTS, type ContactDoc, CUSTOMERS, type CustomerDoc } from '../../projections/customers.ts';
import { isHidden } from '../field-security.ts';
import { commonErrors } from '../responses.ts';
import { type AnyRoute, defineRoute } from '../route.ts';

const tags = ['Customers 客户'];

const CandidateCustomer = z.object({ id: z.string(), name: z.string().optional(), ownerId: z.string().nullable(), taxNumber: z.string().optional(), phone: z.string().optional() });
const Candidates = z
  .object({
    items: z.array(
      z.object({
        score: z.number().int().min(0).max(100).describe('How likely the two are one company, 0–100'),
        reasons: z.array(z.enum(['name', 'taxNumber', 'phone'])).describe('What matched: similar names, the same tax number, a shared phone (theirs or a contact\'s)'),
        nameSimilarity: z.number().optional().describe('Similarity of the names without their legal forms, 0–1'),
        customers: z.tuple([CandidateCustomer, CandidateCustomer]),
      }),
    ),
    scanned: z.number().int().describe('Customers compared (those in your data scope, archived ones left out)'),
  })
  .meta({ id: 'DuplicateCandidates' });

export const mergeRoutes: AnyRoute[] = [
  defineRoute({
    method: 'get',
    path: '/api/v1/customers/duplicate-candidates',
    reads: [CUSTOMERS, CONTACTS],
    summary: 'The duplicates finder (查重): likely pairs of duplicate customers in your data scope, best first, with a score and what matched',
    description:
      'Names are compared without their legal forms (有限公司, Co., Ltd.…) by the similarity of their characters; tax numbers and phones (the customer\'s and its contacts\') by equality. A field hidden for your role is neither compared nor shown.',
    tags,
    permission: ['customers', 'view'],
    query: z
      .object({
        minScore: z.coerce.number().int().min(1).max(100).default(50).describe('Leave out pairs scoring less'),
        limit: z.coerce.number().int().min(1).max(500).default(100),
      })
      .strict(),
    responses: { 200: { description: 'Candidate pairs', schema: Candidates }, ...commonErrors },
    async handler({ query, actor, services }) {
      authorize(actor, 'customers', 'view');
      const shown = (field: string) => !isHidden(actor, 'customers', field);
      const customers = await services.readStore.collection<CustomerDoc>(CUSTOMERS).find({ $and: [readFilter(actor), { status: 'active' }] }, { projection: { _id: 1, name: 1, taxNumber: 1, phone: 1, ownerId: 1, _phones: 1 } });
      const phones = new Map<string, Set<string>>();
      const addPhones = (customerId: string, values: readonly string[] | undefined) => {
        let set = phones.get(customerId);
        if (!set) phones.set(customerId, (set = new Set()));
        for (const value of values ?? []) set.add(value);
      };
      if (shown('phone')) for (const customer of customers) addPhones(customer._id, customer._phones);
      if (isAllowed(actor, 'contacts', 'view') && !isHidden(actor, 'contacts', 'mobile') && !isHidden(actor, 'contacts', 'officePhone'))
        for (const contact of await services.readStore.collection<ContactDoc>(CONTACTS).find(readFilter(actor), { projection: { customerId: 1, _phones: 1 } })) addPhones(contact.customerId, contact._phones);
      const subjects: DuplicateSubject[] = customers.map((customer) => ({
        id: customer._id,
        ...(shown('name') ? { name: customer.name } : {}),
        ...(shown('taxNumber') && typeof customer.taxNumber === 'string' ? { taxNumber: customer.taxNumber } : {}),
        phones: [...(phones.get(customer._id) ?? [])],
      }));
      const byId = new Map(customers.map((customer) => [customer._id, customer]));
      const view = (id: string) => {
        const doc = byId.get(id)!;
        return {
          id,
          ownerId: doc.ownerId,
          ...(shown('name') ? { name: doc.name } : {}),
          ...(shown('taxNumber') && typeof doc.taxNumber === 'string' ? { taxNumber: doc.taxNumber } : {}),
          ...(shown('phone') && typeof doc.phone === 'string' ? { phone: doc.phone } : {}),
        };
      };
      const pairs = duplicateCandidates(subjects, { minScore: query.minScore }).slice(0, query.limit);
      return { status: 200, body: { items: pairs.map(({ ids, ...pair }) => ({ ...pair, customers: [view(ids[0]), view(ids[1])] })), scanned: customers.length } };
    },
  }),
];
