import { z } from 'zod';
import { changeApprovalPolicy, defineApprovalPolicy, loadApprovalPolicies, retireApprovalPolicy } from '../../commands/approval-policies.ts';
import { ApprovalPolicyFields } from '../../domain/approval/policy.ts';
import { Delegation } from '../../domain/approval/index.ts';
import { clearDelegation, myDelegation, setDelegation } from '../../commands/delegations.ts';
import { notFound } from '../history.ts';
import { decideApprovalStep, approvalSettings, ApprovalSettings } from '../../commands/approvals.ts';
import { actOnOutcome } from '../../commands/approval-process.ts';
import { delegatorsFor } from '../../commands/delegations.ts';
import { ApprovalKind, ApproverRule } from '../../domain/approval/policy.ts';
import { APPROVALS, type ApprovalDoc } from '../../projections/approvals.ts';
import { readFilter, withinScope } from '../../access/scope.ts';
import { pageQuery, toPage } from '../../projections/paging.ts';
import { publicView } from '../../projections/lists.ts';
import { settingRoutes } from '../setting-routes.ts';
import { Id } from '../route.ts';
import type { Actor } from '../../commands/context.ts';
import type { RouteServices } from '../route.ts';
import { commonErrors, conflictError, notFoundError, recordWriteErrors } from '../responses.ts';
import { type AnyRoute, defineRoute, IdParams, WriteResult, written } from '../route.ts';

const DelegationView = z.object({ delegation: Delegation.nullable() }).meta({ id: 'MyDelegation' });

const tags = ['Approvals 审批'];
const base = '/api/v1/settings/approval-policies';
const PolicyView = ApprovalPolicyFields.extend({
  id: z.string(),
  version: z.number().int().describe('How often it was defined or changed: an approval records the version in force when it was asked for'),
  retired: z.boolean(),
}).meta({ id: 'ApprovalPolicyView' });

const view = (id: string, entry: { fields: ApprovalPolicyFields; version: number; retired: boolean }) => ({ id, ...entry.fields, version: entry.version, retired: entry.retired });

const Step = z.object({
  approverId: z.string(),
  rule: ApproverRule,
  decision: z.object({ outcome: z.enum(['approved', 'rejected']), actorId: z.string().describe('Who acted: the approver or their delegate'), comment: z.string().optional(), at: z.string() }).optional(),
});
const ApprovalView = z
  .object({
    id: z.string(),
    kind: ApprovalKind,
    documentId: z.string(),
    documentVersion: z.number().int().describe('The document version the approval was asked for'),
    policyId: z.string(),
    policyVersion: z.number().int().describe('The policy version in force at submission'),
    submittedBy: z.string(),
    submittedAt: z.string(),
    status: z.enum(['pending', 'approved', 'rejected', 'recalled', 'invalidated']),
    step: z.number().int().nullable().describe('The step waiting (0-based; null once ended)'),
    steps: z.array(Step),
    currentApproverId: z.string().nullable(),
    waitingSince: z.string().nullable(),
    remindedSteps: z.array(z.number().int()),
    completedAt: z.string().nullable(),
    revision: z.number().int(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Approval' });
const WaitingView = z
  .object({
    id: z.string(),
    kind: ApprovalKind,
    documentId: z.string(),
    step: z.number().int(),
    submittedBy: z.string(),
    submittedAt: z.string(),
    waitingSince: z.string(),
    approverId: z.string().describe('Whose step it is: you, or someone whose delegate you are now'),
    asDelegate: z.boolean(),
    policyId: z.string(),
    documentVersion: z.number().int(),
  })
  .meta({ id: 'WaitingApproval' });
const approvalView = (doc: ApprovalDoc) => {
  const { ownerId: _owner, departmentPath: _path, collaborators: _collaborators, ...rest } = publicView(doc) as ApprovalDoc;
  return rest;
};

/** Everyone whose steps the actor acts on now: themselves and those whose delegate they are. */
async function actingFor(services: RouteServices, actor: Actor): Promise<string[]> {
  return [actor.userId, ...(await delegatorsFor(services.readStore, actor.userId, services.clock.now().toISOString()))];
}

/** An approval the actor may see: its submitter, an approver or who acted on it, a delegate of a waiting approver, or anyone whose data scope covers the submitter. */
async function approvalInScope(services: RouteServices, actor: Actor, approvalId: string): Promise<ApprovalDoc> {
  const approvals = services.readStore.collection<ApprovalDoc>(APPROVALS);
  const waitingOn = await actingFor(services, actor);
  const doc = await approvals.findOne(withinScope(readFilter(actor, { collaborators: true }), { _id: approvalId }));
  const delegated = doc ? null : await approvals.findOne({ _id: approvalId, currentApproverId: { $in: waitingOn } });
  const found = doc ?? delegated;
  if (!found) throw notFound('approval', approvalId);
  return found;
}

const decisionRoute = (action: 'approve' | 'reject') =>
  defineRoute({
    method: 'post',
    path: `/api/v1/approvals/:id/${action}`,
    summary: action === 'approve' ? 'Approve the step waiting on you (or on someone whose delegate you are now); the last step completes the approval and the document acts on it' : 'Reject the step waiting on you, with a comment saying why: the approval ends rejected and the document acts on it',
    description: 'Nobody decides a step of their own document (409 approval.own_document); a step waiting on someone else answers 409 approval.not_approver, a decided request 409 approval.closed.',
    tags,
    params: IdParams,
    body: action === 'approve' ? z.object({ comment: z.string().trim().min(1).max(2000).optional() }).strict() : z.object({ comment: z.string().trim().min(1).max(2000) }).strict(),
    responses: { 200: { description: 'Decided', schema: ApprovalView }, ...commonErrors, ...notFoundError, ...conflictError },
    async handler({ params, body, actor, services, meta }) {
      await approvalInScope(services, actor, params.id);
      const result = await decideApprovalStep(services.deps, services.readStore, params.id, { outcome: action === 'approve' ? 'approved' : 'rejected', ...(body.comment ? { comment: body.comment } : {}) }, actor, meta);
      // The document acts on a completed approval now; the approval process does it after a crash.
      await actOnOutcome(services.deps, params.id, meta);
      // Answered as GET answers it: from the read model, once it has the decision.
      await services.runner.waitFor(result.position, 10_000, services.runner.projectionsReading([APPROVALS]));
      const doc = await services.readStore.collection<ApprovalDoc>(APPROVALS).findOne({ _id: params.id });
      if (!doc) throw notFound('approval', params.id);
      return {
        status: 200,
        body: approvalView(doc),
        headers: { ETag: `"${result.revision}"`, 'X-Position': String(result.position) },
      };
    },
  });

/** The approval process (审批): what waits on me, the requests, the decisions. */
const processRoutes: AnyRoute[] = [
  defineRoute({
    method: 'get',
    path: '/api/v1/me/approvals',
    reads: [APPROVALS],
    summary: 'What waits for me (我的待审批): the steps waiting on me, and on those whose delegate I am now, oldest first',
    tags,
    responses: { 200: { description: 'Waiting approvals', schema: z.object({ items: z.array(WaitingView) }) }, ...commonErrors },
    async handler({ actor, services }) {
      const waitingOn = await actingFor(services, actor);
      const docs = await services.readStore.collection<ApprovalDoc>(APPROVALS).find({ status: 'pending', currentApproverId: { $in: waitingOn } }, { sort: { waitingSince: 1, _id: 1 }, limit: 500 });
      // Never one's own document, even through a delegation.
      const items = docs
        .filter((doc) => doc.submittedBy !== actor.userId)
        .map((doc) => ({ id: doc._id, kind: doc.kind as z.infer<typeof ApprovalKind>, documentId: doc.documentId, step: doc.step!, submittedBy: doc.submittedBy, submittedAt: doc.submittedAt, waitingSince: doc.waitingSince!, approverId: doc.currentApproverId!, asDelegate: doc.currentApproverId !== actor.userId, policyId: doc.policyId, documentVersion: doc.documentVersion }));
      return { status: 200, body: { items } };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/approvals',
    reads: [APPROVALS],
    summary: 'Approval requests: those I submitted or take part in, and those of the people my data scope covers; newest first',
    tags,
    permission: ['approvals', 'view'],
    query: z
      .object({
        status: z.enum(['pending', 'approved', 'rejected', 'recalled', 'invalidated']).optional(),
        kind: ApprovalKind.optional(),
        documentId: Id.optional(),
        submittedBy: Id.optional(),
        limit: z.coerce.number().int().min(1).max(200).default(50),
        cursor: z.string().max(1000).optional(),
      })
      .strict(),
    responses: { 200: { description: 'A page of approvals', schema: z.object({ items: z.array(ApprovalView), nextCursor: z.string().nullable() }) }, ...commonErrors },
    async handler({ query, actor, services }) {
      const { limit, cursor, ...filters } = query;
      const request = { sortField: 'submittedAt', direction: -1 as const, limit, ...(cursor ? { cursor } : {}) };
      const paging = pageQuery(request);
      const match = Object.fromEntries(Object.entries(filters).filter(([, v]) => v !== undefined));
      const filter = withinScope(readFilter(actor, { collaborators: true }), { ...match, ...paging.filter });
      const docs = await services.readStore.collection<ApprovalDoc>(APPROVALS).find(filter, { sort: paging.sort, limit: paging.limit });
      const page = toPage(docs, request);
      return { status: 200, body: { items: page.items.map(approvalView), nextCursor: page.nextCursor } };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/approvals/:id',
    reads: [APPROVALS],
    summary: 'One approval request with every step as decided (real actor, delegate, comment); never reset',
    tags,
    params: IdParams,
    responses: { 200: { description: 'The approval', schema: ApprovalView }, ...commonErrors, ...notFoundError },
    async handler({ params, actor, services }) {
      const doc = await approvalInScope(services, actor, params.id);
      return { status: 200, body: approvalView(doc), headers: { ETag: `"${doc.revision}"` } };
    },
  }),
  decisionRoute('approve'),
  decisionRoute('reject'),
  ...settingRoutes({
    path: '/api/v1/settings/approvals',
    tags,
    schema: ApprovalSettings,
    read: { summary: 'The approval rules: after how many business hours a waiting approver is reminded', done: 'Settings' },
    write: { summary: 'Change the approval rules', done: 'Changed' },
    load: approvalSettings.read,
    save: ({ body, actor, services, meta }) => approvalSettings.write(services.deps, body, actor, meta),
  }),
];

/** Approval policies as data (审批流程): which documents need approval, and whose, step by step. */
export const approvalRoutes: AnyRoute[] = [
  ...processRoutes,
  defineRoute({
    method: 'post',
    path: base,
    summary: 'Define an approval policy: the document kind, the conditions (all must hold), the steps and their approvers',
    description: 'A document that several policies apply to takes the strictest (most steps, then most conditions, then the higher minimum amount). Approvers: "manager", "managers_manager", { roleKey } (a holder in the submitter\'s department chain) or { employeeId }; nobody ever approves their own document.',
    tags,
    permission: ['settings', 'create'],
    body: ApprovalPolicyFields,
    responses: { 201: { description: 'Defined', schema: WriteResult }, ...commonErrors, ...conflictError },
    async handler({ body, actor, services, meta }) {
      const result = await defineApprovalPolicy(services.deps, body, actor, meta);
      return written(result, result.policyId, `${base}/${result.policyId}`);
    },
  }),
  defineRoute({
    method: 'get',
    path: base,
    reads: [],
    summary: 'The approval policies (retired ones with ?retired=true)',
    tags,
    permission: ['settings', 'view'],
    query: z.object({ retired: z.enum(['true', 'false']).default('false') }).strict(),
    responses: { 200: { description: 'The policies', schema: z.object({ items: z.array(PolicyView) }) }, ...commonErrors },
    async handler({ query, services }) {
      const { state, revision } = await loadApprovalPolicies(services.deps);
      const items = Object.entries(state.policies)
        .filter(([, entry]) => query.retired === 'true' || !entry.retired)
        .map(([id, entry]) => view(id, entry))
        .sort((a, b) => a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name));
      return { status: 200, body: { items }, headers: { ETag: `"${revision}"` } };
    },
  }),
  defineRoute({
    method: 'get',
    path: `${base}/:id`,
    reads: [],
    summary: 'One approval policy',
    tags,
    permission: ['settings', 'view'],
    params: IdParams,
    responses: { 200: { description: 'The policy', schema: PolicyView }, ...commonErrors, ...notFoundError },
    async handler({ params, services }) {
      const { state, revision } = await loadApprovalPolicies(services.deps);
      const entry = state.policies[params.id];
      if (!entry) throw notFound('approval_policy', params.id);
      return { status: 200, body: view(params.id, entry), headers: { ETag: `"${revision}"` } };
    },
  }),
  defineRoute({
    method: 'put',
    path: `${base}/:id`,
    summary: 'Change an approval policy (a new version: approvals asked for before keep the version they were asked under)',
    tags,
    permission: ['settings', 'edit'],
    params: IdParams,
    body: ApprovalPolicyFields,
    conditional: true,
    responses: { 200: { description: 'Changed', schema: WriteResult }, ...recordWriteErrors },
    handler: async ({ params, body, actor, services, meta }) => written(await changeApprovalPolicy(services.deps, params.id, body, actor, meta), params.id),
  }),
  defineRoute({
    method: 'delete',
    path: `${base}/:id`,
    summary: 'Retire an approval policy: it no longer applies to new submissions (approvals under way keep it)',
    tags,
    permission: ['settings', 'delete'],
    params: IdParams,
    conditional: true,
    responses: { 200: { description: 'Retired', schema: WriteResult }, ...recordWriteErrors },
    handler: async ({ params, actor, services, meta }) => written(await retireApprovalPolicy(services.deps, params.id, actor, meta), params.id),
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/me/delegation',
    reads: [],
    summary: 'Your delegation: who acts on your approval steps while you are away, and when (null: nobody)',
    tags,
    responses: { 200: { description: 'Your delegation', schema: DelegationView }, ...commonErrors },
    async handler({ actor, services }) {
      const { value, revision } = await myDelegation(services.deps, actor.userId);
      return { status: 200, body: { delegation: value }, headers: { ETag: `"${revision}"` } };
    },
  }),
  defineRoute({
    method: 'put',
    path: '/api/v1/me/delegation',
    summary: 'Name a delegate for a period (代理审批): from `from` until `to`, they act on the approval steps waiting for you (both are recorded)',
    description: 'The delegate is an enabled colleague other than you; `to` is still to come. A new delegation replaces the old one.',
    tags,
    body: Delegation,
    conditional: true,
    responses: { 200: { description: 'Saved', schema: DelegationView }, ...commonErrors, ...notFoundError, ...conflictError },
    async handler({ body, actor, services, meta }) {
      const result = await setDelegation(services.deps, body, actor, meta);
      return { status: 200, body: { delegation: (await myDelegation(services.deps, actor.userId)).value }, headers: { ETag: `"${result.revision}"`, ...(result.changed ? { 'X-Position': String(result.position) } : {}) } };
    },
  }),
  defineRoute({
    method: 'delete',
    path: '/api/v1/me/delegation',
    summary: 'End your delegation now',
    tags,
    responses: { 200: { description: 'Ended', schema: DelegationView }, ...commonErrors },
    async handler({ actor, services, meta }) {
      const result = await clearDelegation(services.deps, actor, meta);
      return { status: 200, body: { delegation: null }, headers: { ETag: `"${result.revision}"`, ...(result.changed ? { 'X-Position': String(result.position) } : {}) } };
    },
  }),
];
