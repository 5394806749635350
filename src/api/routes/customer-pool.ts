import { escapeRegex } from '../../infra/readstore/regex.ts';
import { z } from 'zod';
import { authorize } from '../../commands/authorization.ts';
import { claimCustomer, releaseCustomer } from '../../commands/customers.ts';
import { changePoolSettings, PoolSettings, poolSettings, returnIdleCustomersToPool } from '../../commands/pool.ts';
import { customerDecider, customerStream } from '../../domain/customer/index.ts';
import { DomainError } from '../../domain/shared/errors.ts';
import { normalizeName, normalizePhone, normalizeTaxNumber } from '../../domain/shared/normalize.ts';
import { load } from '../../commands/pipeline.ts';
import { currentHolder } from '../../commands/reservations.ts';
import { CONTACTS, type ContactDoc, CUSTOMERS, type CustomerDoc } from '../../projections/customers.ts';
import { assertFieldsWritable, isHidden } from '../field-security.ts';
import { ORG, type EmployeeDoc } from '../../projections/org.ts';
import { ownerInScope } from '../../access/scope.ts';
import { notFound } from '../history.ts';
import { listOrExport } from '../list.ts';
import { listQuery } from '../list-query.ts';
import { commonErrors, conflictError, notFoundError, recordWriteErrors } from '../responses.ts';
import { settingRoutes } from '../setting-routes.ts';
import { type AnyRoute, EmptyBody, defineRoute, IdParams, WriteResult, written } from '../route.ts';
import { HttpProblem } from '../problem.ts';

const tags = ['Customer pool 公海'];

const PoolQuery = listQuery(
  {
    q: z.string().trim().min(1).max(200).optional(),
    industry: z.string().max(100).optional(),
    region: z.string().max(100).optional(),
    level: z.string().max(50).optional(),
  },
  ['name', 'updatedAt'],
);

const DuplicateQuery = z
  .object({
    name: z.string().trim().min(2).max(200).optional(),
    phone: z.string().trim().max(40).refine((phone) => normalizePhone(phone) !== '', 'Expected a phone number (at least 5 digits)').optional().describe('Matched exactly, as digits (spaces, dashes and +86 ignored)'),
    taxNumber: z.string().trim().min(5).max(40).optional(),
  })
  .strict()
  .refine((q) => q.name || q.phone || q.taxNumber, { message: 'Give at least one of name, phone, taxNumber' });
const DuplicateMatches = z
  .object({ matches: z.array(z.object({ name: z.string().nullable().describe('null when customer names are hidden for your role'), ownerName: z.string().nullable(), inPool: z.boolean(), matchedOn: z.array(z.enum(['name', 'phone', 'taxNumber'])) })) })
  .meta({ id: 'DuplicateMatches' });

export const poolRoutes: AnyRoute[] = [
  defineRoute({
    method: 'get',
    path: '/api/v1/customers/duplicates',
    reads: [CUSTOMERS, CONTACTS, ORG.employees],
    summary: 'Collision check (撞单检查): is a customer already taken? Company-wide, answers only names',
    description: 'Searches every customer regardless of data scope and answers only the match\'s name and its owner\'s name, never its details. Names match by substring; a phone (the customer\'s or a contact\'s) and a tax number only exactly, normalised.',
    tags,
    query: DuplicateQuery,
    responses: { 200: { description: 'Matches (at most 20)', schema: DuplicateMatches }, ...commonErrors },
    async handler({ query, actor, services }) {
      authorize(actor, 'customers', 'view');
      const customers = services.readStore.collection<CustomerDoc>(CUSTOMERS);
      const found = new Map<string, { doc: CustomerDoc; matchedOn: Set<'name' | 'phone' | 'taxNumber'> }>();
      const add = (docs: CustomerDoc[], on: 'name' | 'phone' | 'taxNumber') => {
        for (const doc of docs) {
          const entry = found.get(doc._id) ?? { doc, matchedOn: new Set() };
          entry.matchedOn.add(on);
          found.set(doc._id, entry);
        }
      };
      if (query.name) {
        // The exact normalised name (the uniqueness key), then names containing the text.
        const holder = await currentHolder(services.deps, 'customer.name', normalizeName(query.name));
        if (holder) add(await customers.find({ _id: holder }), 'name');
        add(await customers.find({ name: { $regex: escapeRegex(query.name), $options: 'i' } }, { limit: 20 }), 'name');
      }
      if (query.phone) {
        // Only the exact number (normalised), on a customer or one of its contacts: a substring would let anyone
        // read numbers digit by digit across the whole company.
        const phone = normalizePhone(query.phone);
        const viaContacts = await services.readStore.collection<ContactDoc>(CONTACTS).find({ _phones: phone }, { limit: 20 });
        add(await customers.find({ $or: [{ _phones: phone }, { _id: { $in: viaContacts.map((c) => c.customerId) } }] }, { limit: 20 }), 'phone');
      }
      if (query.taxNumber) {
        const holder = await currentHolder(services.deps, 'customer.taxNumber', normalizeTaxNumber(query.taxNumber));
        if (holder) add(await customers.find({ _id: holder }), 'taxNumber');
      }
      const employees = services.readStore.collection<EmployeeDoc>(ORG.employees);
      const nameHidden = isHidden(actor, 'customers', 'name');
      const matches = [];
      for (const { doc, matchedOn } of [...found.values()].slice(0, 20)) {
        const owner = doc.ownerId ? await employees.findOne({ _id: doc.ownerId }) : null;
        matches.push({ name: nameHidden ? null : doc.name, ownerName: owner?.name ?? null, inPool: doc.inPool === true, matchedOn: [...matchedOn] });
      }
      return { status: 200, body: { matches } };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/customer-pool',
    reads: [CUSTOMERS],
    summary: 'Customers in the pool, visible to everyone who may view customers',
    tags,
    fields: { resource: 'customers', shape: 'page' },
    query: PoolQuery,
    responses: { 200: { description: 'A page of pool customers' }, ...commonErrors },
    handler: (context) => listOrExport(context, { resource: 'customers', defaultSort: '-updatedAt', name: 'customer-pool', columns: [{ header: 'id', value: (d: CustomerDoc) => d.id }, { header: 'name', value: (d: CustomerDoc) => d.name }, { header: 'industry', value: (d: CustomerDoc) => d.industry }, { header: 'region', value: (d: CustomerDoc) => d.region }, { header: 'releasedAt', value: (d: CustomerDoc) => d.releasedAt }], unowned: true, fixed: { inPool: true } }),
  }),
  defineRoute({
    method: 'post',
    path: '/api/v1/customers/:id/release',
    summary: 'Put a customer into the pool (公海)',
    tags,
    params: IdParams,
    body: z.object({ reason: z.string().trim().min(1).max(500).optional() }).strict(),
    conditional: true,
    responses: { 200: { description: 'Released', schema: WriteResult }, ...recordWriteErrors },
    async handler({ params, body, actor, services, meta }) {
      authorize(actor, 'customers', 'edit');
      assertFieldsWritable(actor, 'customers', ['ownerId']);
      const { state } = await load(services.deps, customerDecider, customerStream(params.id));
      if (state.status === 'none' || !(await ownerInScope(services.deps, actor, state.ownerId))) throw notFound('customer', params.id);
      return written(await releaseCustomer(services.deps, params.id, body.reason ?? 'released', actor, meta), params.id);
    },
  }),
  defineRoute({
    method: 'post',
    path: '/api/v1/customers/:id/claim',
    summary: 'Take a customer from the pool; the first claimer wins, a later one gets 409 customer.already_claimed',
    tags,
    params: IdParams,
    body: EmptyBody,
    responses: { 200: { description: 'Claimed: you own it now', schema: WriteResult }, ...commonErrors, ...notFoundError, ...conflictError },
    async handler({ params, actor, services, meta }) {
      authorize(actor, 'customers', 'edit');
      assertFieldsWritable(actor, 'customers', ['ownerId']);
      const { state } = await load(services.deps, customerDecider, customerStream(params.id));
      if (state.status === 'none') throw notFound('customer', params.id);
      if (state.ownerId !== null && !(await ownerInScope(services.deps, actor, state.ownerId)))
        throw new DomainError('customer.already_claimed', 'Someone else owns this customer already', { customerId: params.id });
      return written(await claimCustomer(services.deps, params.id, actor, meta), params.id);
    },
  }),
  ...settingRoutes({
    path: '/api/v1/settings/customer-pool',
    tags,
    schema: PoolSettings,
    read: { summary: 'The pool rule: return customers without follow-up for N days', done: 'Settings' },
    write: { summary: 'Change the pool rule', done: 'Changed' },
    load: async (deps) => {
      const { revision, ...value } = await poolSettings(deps);
      return { value, revision };
    },
    save: ({ body, actor, services, meta }) => changePoolSettings(services.deps, body, actor, meta),
  }),
  defineRoute({
    method: 'post',
    path: '/api/v1/settings/customer-pool/run',
    summary: 'Apply the pool rule now (it also runs every hour)',
    tags,
    body: EmptyBody,
    responses: { 200: { description: 'How many customers went back to the pool', schema: z.object({ released: z.number().int() }) }, ...commonErrors },
    async handler({ actor, services }) {
      authorize(actor, 'settings', 'edit');
      if (!services.runner.status().every((s) => !s.failed)) throw new HttpProblem(503, 'not_ready', 'Not ready', 'A projection has failed');
      const released = await returnIdleCustomersToPool(services.deps, services.readStore, actor, () => services.requestMeta('pool-rule'));
      return { status: 200, body: { released } };
    },
  }),
];
