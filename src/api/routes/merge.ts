import { z } from 'zod';
import { readFilter } from '../../access/scope.ts';
import { bulkDeps, stableMeta } from '../../app/jobs.ts';
import { authorize, isAllowed } from '../../commands/authorization.ts';
import { runMerge, startMerge } from '../../commands/merge.ts';
import { CustomerFields } from '../../domain/customer/index.ts';
import { duplicateCandidates, type DuplicateSubject } from '../../domain/customer/duplicates.ts';
import { CONTACTS, type ContactDoc, CUSTOMERS, type CustomerDoc } from '../../projections/customers.ts';
import { assertFieldsWritable, isHidden } from '../field-security.ts';
import { commonErrors, conflictError, notFoundError } from '../responses.ts';
import { type AnyRoute, defineRoute, Id } from '../route.ts';

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

const standardFields = Object.keys(CustomerFields.shape).filter((field) => field !== 'custom');
const MergeBody = z
  .object({
    victimIds: z
      .array(Id)
      .min(1)
      .max(20)
      .refine((ids) => new Set(ids).size === ids.length, { message: 'Name each duplicate once' })
      .describe('The duplicates to merge into this customer (at most 20)'),
    fieldChoices: z
      .record(
        z.string().refine((field) => standardFields.includes(field) || /^custom\.[a-z][a-zA-Z0-9]{0,39}$/.test(field), { message: `Expected a customer field (${standardFields.join(', ')}) or custom.<key>` }),
        Id,
      )
      .default({})
      .describe('For a field, the customer whose value the survivor keeps (this one or a duplicate), e.g. {"phone": "<victimId>"}; fields not named keep the survivor\'s value'),
  })
  .strict()
  .meta({ id: 'MergeRequest' });

export const mergeRoutes: AnyRoute[] = [
  defineRoute({
    method: 'post',
    path: '/api/v1/customers/:survivorId/merge',
    reads: [CUSTOMERS],
    summary: 'Merge duplicate customers (合并重复客户) into this one: their contacts, activities, opportunities, quotes, orders, tickets, tasks and expense claims move here; undo the batch to unmerge',
    description:
      'Runs in the background as a batch (follow Location). Each duplicate is then `status: "merged"` with `mergedInto` (GET answers 200; a write to it or naming it → 409 customer.merged), and listed only with ?status=merged. Every customer must be in your data scope (404 otherwise) and not in the pool; the survivor active. Unmerge: POST /api/v1/batches/{batchId}/undo restores the duplicates and moves back exactly the records that were moved. Needs customers edit; a field read-only for your role cannot be chosen (403).',
    tags: [...tags, 'Batches 批量操作'],
    params: z.object({ survivorId: Id }),
    body: MergeBody,
    responses: { 202: { description: 'Started; follow Location', schema: z.object({ batchId: z.string(), status: z.literal('running') }) }, ...commonErrors, ...notFoundError, ...conflictError },
    async handler({ params, body, actor, services, meta }) {
      authorize(actor, 'customers', 'edit');
      assertFieldsWritable(actor, 'customers', Object.keys(body.fieldChoices));
      const deps = bulkDeps(services);
      const { batchId, position } = await startMerge(deps, params.survivorId, body, actor, meta);
      services.backgroundOrWorker(`merge ${batchId}`, () => runMerge(deps, batchId, actor, stableMeta(services)(`batch:${batchId}`)));
      return { status: 202, body: { batchId, status: 'running' as const }, headers: { Location: `/api/v1/batches/${batchId}`, 'X-Position': String(position) } };
    },
  }),
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
