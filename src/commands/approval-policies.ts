import { approvalPoliciesDecider, APPROVAL_POLICIES_STREAM, type ApprovalPoliciesCommand } from '../domain/approval/policies.ts';
import type { ApprovalPolicyFields } from '../domain/approval/policy.ts';
import type { Actor, CommandDeps, RequestMeta } from './context.ts';
import { execute, load } from './pipeline.ts';

/** The company's approval policies as one aggregate (see domain/approval/policies.ts). */
export const loadApprovalPolicies = (deps: CommandDeps) => load(deps, approvalPoliciesDecider, APPROVAL_POLICIES_STREAM);

const run = (deps: CommandDeps, command: ApprovalPoliciesCommand, actor: Actor, meta: RequestMeta) => execute(deps, approvalPoliciesDecider, APPROVAL_POLICIES_STREAM, command, actor, meta);

export async function defineApprovalPolicy(deps: CommandDeps, fields: ApprovalPolicyFields, actor: Actor, meta: RequestMeta) {
  const policyId = meta.ids.newId();
  return { ...(await run(deps, { type: 'DefineApprovalPolicy', policyId, fields }, actor, meta)), policyId };
}

export const changeApprovalPolicy = (deps: CommandDeps, policyId: string, fields: ApprovalPolicyFields, actor: Actor, meta: RequestMeta) => run(deps, { type: 'ChangeApprovalPolicy', policyId, fields }, actor, meta);
export const retireApprovalPolicy = (deps: CommandDeps, policyId: string, actor: Actor, meta: RequestMeta) => run(deps, { type: 'RetireApprovalPolicy', policyId }, actor, meta);
