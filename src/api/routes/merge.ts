import { z } from 'zod';
import { readFilter } from '../../access/scope.ts';
import { bulkDeps, stableMeta } from '../../app/jobs.ts';
import { authorize, isAllowed } from '../../commands/authorization.ts';
import { type MergedResource, runMerge, startMerge } from '../../commands/merge.ts';
import { ContactFields } from '../../domain/contact/index.ts';
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

/** A merge's body for a record type: the duplicates, and per field the record whose value the survivor keeps. */
function mergeBody(singular: string, fields: z.ZodObject<z.ZodRawShape>, schemaId: string) {
  const standard = Object.keys(fields.shape).filter((field) => field !== 'custom');
  return z
    .object({
      victimIds: z
        .array(Id)
        .min(1)
        .max(20)
        .refine((ids) => new Set(ids).size === ids.length, { message: 'Name each duplicate once' })
        .describe(`The duplicates to merge into this ${singular} (at most 20)`),
      fieldChoices: z
        .record(
          z.string().refine((field) => standard.includes(field) || /^custom\.[a-z][a-zA-Z0-9]{0,39}$/.test(field), { message: `Expected a ${singular} field (${standard.join(', ')}) or custom.<key>` }),
          Id,
        )
        .default({})
        .describe(`For a field, the ${singular} whose value the survivor keeps (this one or a duplicate), e.g. {"phone": "<victimId>"}; fields not named keep the survivor's value`),
    })
    .strict()
    .meta({ id: schemaId });
}

/** The merge route of a record type (customers, contacts): a batch, unmerged by its undo. */
function mergeRoute(resource: MergedResource, fields: z.ZodObject<z.ZodRawShape>, texts: { summary: string; description: string; schemaId: string }): AnyRoute {
  const singular = resource === 'customers' ? 'customer' : 'contact';
  return defineRoute({
    method: 'post',
    path: `/api/v1/${resource}/:survivorId/merge`,
    reads: [CUSTOMERS, CONTACTS],
    summary: texts.summary,
    description: texts.description,
    tags: [resource === 'customers' ? 'Customers 客户' : 'Contacts 联系人', 'Batches 批量操作'],
    params: z.object({ survivorId: Id }),
    body: mergeBody(singular, fields, texts.schemaId),
    responses: { 202: { description: 'Started; follow Location', schema: z.object({ batchId: z.string(), status: z.literal('running') }) }, ...commonErrors, ...notFoundError, ...conflictError },
    async handler({ params, body, actor, services, meta }) {
      authorize(actor, resource, 'edit');
      assertFieldsWritable(actor, resource, Object.keys(body.fieldChoices));
      const deps = bulkDeps(services);
      const { batchId, position } = await startMerge(deps, resource, params.survivorId, body, actor, meta);
      services.backgroundOrWorker(`merge ${batchId}`, () => runMerge(deps, batchId, actor, stableMeta(services)(`batch:${batchId}`)));
      return { status: 202, body: { batchId, status: 'running' as const }, headers: { Location: `/api/v1/batches/${batchId}`, 'X-Position': String(position) } };
    },
  });
}

export const mergeRoutes: AnyRoute[] = [
  mergeRoute('customers', CustomerFields, {
    summary: 'Merge duplicate customers (合并重复客户) into this one: their contacts, activities, opportunities, quotes, orders, tickets, tasks and expense claims move here; undo the batch to unmerge',
    description:
      'Runs in the background as a batch (follow Location). Each duplicate is then `status: "merged"` with `mergedInto` (GET answers 200; a write to it or naming it → 409 customer.merged), and listed only with ?status=merged. Every customer must be in your data scope (404 otherwise) and not in the pool; the survivor active. Unmerge: POST /api/v1/batches/{batchId}/undo restores the duplicates and moves back exactly the records that were moved. Needs customers edit; a field read-only for your role cannot be chosen (403).',
    schemaId: 'MergeRequest',
  }),
  mergeRoute('contacts', ContactFields, {
    summary: 'Merge duplicate contacts (合并重复联系人) into this one: their activities, tasks and tickets move here; undo the batch to unmerge',
    description:
      'Runs in the background as a batch (follow Location). Each duplicate is then `status: "merged"` with `mergedInto` (GET answers 200; a write to it or naming it → 409 contact.merged), leaves its customer\'s contacts, and is listed only with ?status=merged. Every contact must be in your data scope (404 otherwise). Unmerge: POST /api/v1/batches/{batchId}/undo. Needs contacts edit; a field read-only for your role cannot be chosen (403).',
    schemaId: 'ContactMergeRequest',
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
