import { z } from 'zod';
import { changeApprovalPolicy, defineApprovalPolicy, loadApprovalPolicies, retireApprovalPolicy } from '../../commands/approval-policies.ts';
import { ApprovalPolicyFields } from '../../domain/approval/policy.ts';
import { Delegation } from '../../domain/approval/index.ts';
import { clearDelegation, myDelegation, setDelegation } from '../../commands/delegations.ts';
import { notFound } from '../history.ts';
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

/** Approval policies as data (审批流程): which documents need approval, and whose, step by step. */
export const approvalRoutes: AnyRoute[] = [
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
