import { z } from 'zod';
import { authorize, isAllowed } from '../../commands/authorization.ts';
import { HttpProblem } from '../problem.ts';
import { commonErrors, notFoundError } from '../responses.ts';
import { ownerInScope } from '../../access/scope.ts';
import { recordTypeOf, whatCouldSee, whoCouldAccess } from '../../commands/access-forensics.ts';
import { getEmployee } from '../../commands/employees.ts';
import { loadRecord, stateInScope } from '../../commands/references.ts';
import { ORG } from '../../projections/org.ts';
import { CAMPAIGN_MEMBERS } from '../../projections/campaign-members.ts';
import { notFound } from '../history.ts';
import { chainBreakReasons } from '../../infra/eventstore/chain.ts';
import { type AnyRoute, defineRoute, IdParams, type RouteServices } from '../route.ts';
import { campaignMemberships, dossierEntries, type FieldChange, membershipEntries, relatedRecords } from '../../commands/dossier.ts';
import { campaignMemberStream } from '../../domain/campaign/members.ts';
import { type ResourceName, resourceNames, specOf } from '../../domain/customization/resources.ts';
import { personalFieldPaths } from '../../domain/customization/personal-data.ts';
import { fieldsOf } from '../../commands/custom-fields.ts';
import { isHidden } from '../field-security.ts';
import { dossierPdf, PDF_TYPE, wantsPdf } from '../dossier-pdf.ts';
import { recordReadable } from '../records.ts';

const Position = z.string().regex(/^\d{1,18}$/, 'Expected a position in the log (a whole number)');

const VerifyQuery = z
  .object({
    from: Position.optional().describe('First position to check (default: the start of the log)'),
    to: Position.optional().describe('Last position to check (default: the head of the log)'),
  })
  .strict();

const ChainBreak = z.object({
  position: z.number().int(),
  reason: z.enum(chainBreakReasons),
});

const Verification = z
  .object({
    ok: z.boolean(),
    checked: z.number().int().describe('Positions checked'),
    expired: z.number().int().describe('Of those, events whose payload retention removed (their links checked)'),
    head: z.string().optional().describe("The last link checked (hex SHA-256): compare it with the day's anchor"),
    firstBreak: ChainBreak.optional(),
  })
  .meta({ id: 'ChainVerification' });

const AccessQuery = z
  .object({
    recordId: z.string().min(1).max(100).optional().describe('A record of any type: who could read and edit it then, and why'),
    employeeId: z.string().min(1).max(100).optional().describe('An employee: what they could see then'),
    at: z.iso.datetime({ offset: true }).describe('The instant asked about'),
  })
  .strict()
  .refine((query) => (query.recordId === undefined) !== (query.employeeId === undefined), { message: 'Give either recordId or employeeId', path: ['recordId'] });

const AccessGrant = z.object({
  employeeId: z.string(),
  name: z.string(),
  departmentPath: z.string(),
  roles: z.array(z.object({ id: z.string(), name: z.string() })),
  read: z.boolean(),
  edit: z.boolean(),
  why: z.array(z.string()),
  hiddenFields: z.array(z.string()),
  readOnlyFields: z.array(z.string()),
});
const RecordAccess = z.object({
  at: z.string(),
  record: z.object({ resource: z.string(), id: z.string(), exists: z.boolean(), ownerId: z.string().nullable(), ownerDepartmentPath: z.string().nullable(), collaborators: z.array(z.string()) }),
  access: z.array(AccessGrant),
});
const EmployeeAccess = z.object({
  at: z.string(),
  employee: z.object({ id: z.string(), exists: z.boolean(), name: z.string().nullable(), status: z.enum(['active', 'disabled']).nullable(), canLogIn: z.boolean(), departmentPath: z.string().nullable() }),
  roles: z.array(z.object({ id: z.string(), name: z.string(), dataScope: z.string() })),
  permissions: z.record(z.string(), z.array(z.string())),
  dataScope: z.string().nullable(),
  sees: z.string(),
  fieldRules: z.record(z.string(), z.record(z.string(), z.string())),
});


const DossierQuery = z
  .object({
    from: z.iso.datetime({ offset: true }).optional().describe('Events at or after this instant'),
    to: z.iso.datetime({ offset: true }).optional().describe('Events before this instant'),
    cursor: z.string().regex(/^\d{1,18}$/, 'Expected the nextCursor of the previous page').optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(200),
  })
  .strict();

const DossierEntry = z.object({
  position: z.number().int(),
  at: z.string(),
  actor: z.object({ id: z.string(), name: z.string().nullable() }),
  resource: z.string(),
  recordId: z.string(),
  revision: z.number().int(),
  type: z.string(),
  changes: z.array(z.object({ field: z.string(), from: z.unknown(), to: z.unknown() })),
});
const Dossier = z
  .object({
    customerId: z.string(),
    records: z.record(z.string(), z.number().int()).describe('How many records of each type the dossier covers (those the caller may see)'),
    items: z.array(DossierEntry),
    nextCursor: z.string().nullable(),
  })
  .meta({ id: 'CustomerDossier' });

/** Per resource, its personal fields (`name`, `custom.<key>`). */
async function personalPathsOf(services: RouteServices, resources: readonly ResourceName[]): Promise<Map<string, Set<string>>> {
  return new Map(await Promise.all(resources.map(async (resource) => [resource, new Set(personalFieldPaths(resource, await fieldsOf(services.deps, resource)))] as const)));
}

/** Field changes without the withheld paths; a change of the whole `custom` object loses the withheld keys. */
function withoutPaths(changes: readonly FieldChange[], withheld: ReadonlySet<string> | undefined): FieldChange[] {
  if (!withheld?.size) return [...changes];
  const keep = (value: unknown) => (value && typeof value === 'object' ? Object.fromEntries(Object.entries(value).filter(([key]) => !withheld.has(`custom.${key}`))) : value);
  return changes.filter((change) => !withheld.has(change.field)).map((change) => (change.field === 'custom' ? { ...change, from: keep(change.from), to: keep(change.to) } : change));
}

export const auditRoutes: AnyRoute[] = [
  defineRoute({
    method: 'get',
    path: '/api/v1/customers/:id/dossier',
    reads: [...resourceNames, ORG.employees, CAMPAIGN_MEMBERS],
    summary: "The customer's dossier (auditors): everything that happened to the customer and its related records (contacts, activities, opportunities, quotes, orders, tickets…, and the campaign mail that reached them), merged in log order, with actors and field-level changes; paged",
    tags: ['Audit 审计'],
    params: IdParams,
    query: DossierQuery,
    description: 'With `Accept: application/pdf`, the whole dossier of the range (no paging, at most CRM_EXPORT_MAX_ROWS events) as a PDF with Chinese fonts embedded.',
    responses: { 200: { description: 'Oldest first (JSON), or the PDF', schema: Dossier }, ...commonErrors, ...notFoundError },
    async handler({ params, query, actor, services, koa }) {
      authorize(actor, 'audit', 'view');
      authorize(actor, 'customers', 'view');
      const customer = await recordReadable(services, actor, 'customers', params.id);
      const pdf = wantsPdf(koa.get('Accept'));
      const from = query.from ? new Date(query.from).toISOString() : undefined;
      const to = query.to ? new Date(query.to).toISOString() : undefined;
      if (from && to && from > to) throw new HttpProblem(400, 'validation', 'Invalid request', 'from must not be after to', { errors: [{ path: 'query.from', message: 'After to' }] });
      const records = [{ spec: specOf('customers'), id: params.id, events: customer.events }];
      for (const related of await relatedRecords(services.readStore, params.id)) {
        if (!isAllowed(actor, related.spec.module, 'view')) continue;
        const { state, events } = await loadRecord(services.deps, related.spec, related.id);
        if (state.status !== 'none' && (await stateInScope(services.deps, actor, related.spec, state))) records.push({ ...related, events });
      }
      // The campaign mail that reached the customer and its contacts (their members' streams).
      const memberships = isAllowed(actor, 'campaigns', 'view') ? await campaignMemberships(services.readStore, params.id, records.filter((r) => r.spec.name === 'contacts').map((r) => r.id)) : [];
      const mailed = (await Promise.all(memberships.map(async (membership) => membershipEntries(membership, await services.deps.eventStore.readStream(campaignMemberStream(membership.campaignId, membership.memberId)))))).flat();
      const after = query.cursor === undefined ? 0 : Number(query.cursor);
      const entries = [...dossierEntries(records), ...mailed].sort((a, b) => a.position - b.position).filter((entry) => entry.position > after && (!from || entry.at >= from) && (!to || entry.at < to));
      if (pdf && entries.length > services.config.CRM_EXPORT_MAX_ROWS)
        throw new HttpProblem(413, 'export.too_large', 'Export too large', `The dossier holds ${entries.length} events, more than ${services.config.CRM_EXPORT_MAX_ROWS}: narrow it with from and to`);
      const page = pdf ? entries : entries.slice(0, query.limit);
      const names = new Map((await services.readStore.collection(ORG.employees).find({}, { projection: { _id: 1, name: 1 } })).map((doc) => [doc._id, String(doc.name)]));
      const counts: Record<string, number> = {};
      for (const { spec } of records) counts[spec.name] = (counts[spec.name] ?? 0) + 1;
      if (memberships.length) counts.campaigns = new Set(memberships.map((m) => m.campaignId)).size;
      // A PDF is an export: without the personalData export grant its personal fields are left out.
      const withheld = pdf && !isAllowed(actor, 'personalData', 'export') ? await personalPathsOf(services, Object.keys(counts) as ResourceName[]) : undefined;
      const items = page.map((entry) => ({
        ...entry,
        actor: { id: entry.actor, name: names.get(entry.actor) ?? null },
        // A field hidden from the caller's roles is left out of the changes, as from any history.
        changes: withoutPaths(
          entry.changes.filter((change) => !isHidden(actor, entry.resource, change.field)),
          withheld?.get(entry.resource),
        ),
      }));
      if (pdf) {
        const name = String((customer.state as { fields?: { name?: unknown } }).fields?.name ?? params.id);
        const body = await dossierPdf({ customer: { id: params.id, name }, generatedAt: services.clock.now().toISOString(), generatedBy: names.get(actor.userId) ?? actor.username, range: { ...(from ? { from } : {}), ...(to ? { to } : {}) }, records: counts, items });
        return { status: 200, body, headers: { 'Content-Type': PDF_TYPE, 'Content-Disposition': `attachment; filename="dossier-${params.id}.pdf"` } };
      }
      return { status: 200, body: { customerId: params.id, records: counts, items, nextCursor: entries.length > query.limit ? String(page[page.length - 1]!.position) : null } };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/audit/verify',
    reads: [],
    summary: 'Verify the hash chain over the event log (auditors): every event unchanged, none removed, reordered or slipped in; the first break with its position',
    tags: ['Audit 审计'],
    query: VerifyQuery,
    responses: { 200: { description: 'The verification (ok false: see firstBreak)', schema: Verification }, ...commonErrors },
    async handler({ query, actor, services }) {
      authorize(actor, 'audit', 'view');
      if (!services.chain) throw new HttpProblem(501, 'audit.chain_unavailable', 'No hash chain', 'This event store keeps no hash chain; the embedded store does (see the README for EventStoreDB)');
      const from = query.from === undefined ? undefined : BigInt(query.from);
      const to = query.to === undefined ? undefined : BigInt(query.to);
      if (from !== undefined && to !== undefined && from > to) throw new HttpProblem(400, 'validation', 'Invalid request', 'from must not be after to', { errors: [{ path: 'query.from', message: 'After to' }] });
      const result = await services.chain.verifyChain({ ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) });
      return { status: 200, body: result };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/audit/access',
    reads: [ORG.employees],
    summary: 'Access forensics (auditors): who could read and who could edit a record at an instant, and why; or what one employee could see then — from the role, department, employee and ownership events as they stood',
    tags: ['Audit 审计'],
    query: AccessQuery,
    responses: { 200: { description: 'With recordId: the record and everyone who could reach it; with employeeId: their access', schema: z.union([RecordAccess, EmployeeAccess]) }, ...commonErrors, ...notFoundError },
    async handler({ query, actor, services }) {
      authorize(actor, 'audit', 'view');
      const at = new Date(query.at);
      if (query.employeeId !== undefined) {
        if (!(await ownerInScope(services.deps, actor, query.employeeId)) || !(await getEmployee(services.deps, query.employeeId))) throw notFound('employee', query.employeeId);
        return { status: 200, body: await whatCouldSee(services.deps, query.employeeId, at) };
      }
      const recordId = query.recordId!;
      // The record as it is now must be in the caller's scope (404 as for a missing one), whatever it was then.
      const spec = await recordTypeOf(services.deps, recordId);
      if (!spec || !(await stateInScope(services.deps, actor, spec, (await loadRecord(services.deps, spec, recordId)).state))) throw notFound('record', recordId);
      const employeeIds = (await services.readStore.collection(ORG.employees).find({}, { projection: { _id: 1 }, sort: { _id: 1 } })).map((doc) => doc._id);
      return { status: 200, body: await whoCouldAccess(services.deps, spec, recordId, at, employeeIds) };
    },
  }),
];
