import { z } from 'zod';
import { addBusinessMs, businessMsBetween } from '../domain/service/calendar.ts';
import { businessTime } from './business-time.ts';
import { settingWithDefault } from './settings.ts';
import { approvalCategory, approvalDecider, type ApprovalState } from '../domain/approval/index.ts';
import { activePolicies } from '../domain/approval/policies.ts';
import { type ApprovalKind, approvalKinds, type ApprovalRequest, type DocumentFacts, resolveApprovers, strictestPolicy, type VersionedPolicy } from '../domain/approval/policy.ts';
import { DomainError } from '../domain/shared/errors.ts';
import type { ReadStore } from '../infra/readstore/port.ts';
import { ORG, type EmployeeDoc, type RoleDoc } from '../projections/org.ts';
import { loadApprovalPolicies } from './approval-policies.ts';
import type { Actor, CommandDeps, RequestMeta } from './context.ts';
import { delegatorsFor } from './delegations.ts';
import { getEmployee, systemActor } from './employees.ts';
import { departmentAncestry, managersAbove, roleIdByKey } from './org.ts';
import { execute, load } from './pipeline.ts';

export const approvalStream = (approvalId: string) => `${approvalCategory}-${approvalId}`;

/** The approval rules of the company: an approver is reminded after this many business hours of waiting. */
export const ApprovalSettings = z.object({ reminderBusinessHours: z.number().int().min(1).max(200).describe('Business hours a step waits before its approver is reminded (default 8)') }).strict().meta({ id: 'ApprovalSettings' });
export type ApprovalSettings = z.infer<typeof ApprovalSettings>;
export const approvalSettings = settingWithDefault<ApprovalSettings>('approvals', { reminderBusinessHours: 8 });

/** When a step that starts waiting at `from` reminds its approver: the reminder hours later, in business time. */
async function reminderDueAt(deps: CommandDeps, from: string): Promise<string | null> {
  const [time, settings] = await Promise.all([businessTime(deps), approvalSettings.read(deps)]);
  const due = addBusinessMs(time, Date.parse(from), settings.value.reminderBusinessHours * 3_600_000);
  return due === null ? null : new Date(due).toISOString();
}
export const loadApproval = (deps: CommandDeps, approvalId: string) => load(deps, approvalDecider, approvalStream(approvalId));

/**
 * The approval a document of `kind` needs, under the policies in force now: the strictest that applies, with its
 * approvers resolved from the organisation (never the submitter, only people who may approve this kind). null
 * when no policy applies. A step nobody can take refuses the submission (409 approval.no_approver), so a request
 * never waits for nobody.
 */
export async function planApproval(
  deps: CommandDeps,
  readStore: ReadStore,
  input: { kind: ApprovalKind; submitterId: string; approvalId: string; facts: Omit<DocumentFacts, 'kind'>; required?: boolean },
): Promise<ApprovalRequest | null> {
  const { state } = await loadApprovalPolicies(deps);
  // A document that must be approved whatever the policies say (a discount over the role maximum, an order over
  // credit) goes to the submitter's manager when no policy applies.
  const policy = strictestPolicy(activePolicies(state), { kind: input.kind, ...input.facts }) ?? (input.required ? BUILT_IN_POLICY(input.kind) : undefined);
  if (!policy) return null;
  const module = approvalKinds[input.kind].module;
  const submitter = await getEmployee(deps, input.submitterId);
  const chain = submitter?.fields.departmentId ? ((await departmentAncestry(deps, submitter.fields.departmentId)) ?? []).reverse() : [];
  const employees = readStore.collection<EmployeeDoc>(ORG.employees);
  const roles = new Map((await readStore.collection<RoleDoc>(ORG.roles).find({})).map((role) => [role._id, role]));
  const holders = new Map<string, string[]>();
  for (const step of policy.steps) {
    if (typeof step.approver !== 'object' || !('roleKey' in step.approver) || holders.has(step.approver.roleKey)) continue;
    const roleId = await roleIdByKey(deps, step.approver.roleKey);
    const holding = roleId ? await employees.find({ roleIds: roleId, departmentId: { $in: chain } }) : [];
    holders.set(step.approver.roleKey, chain.flatMap((departmentId) => holding.filter((e) => e.departmentId === departmentId).map((e) => e._id).sort()));
  }
  const managers = await managersAbove(deps, input.submitterId);
  const candidates = new Set([...managers, ...[...holders.values()].flat(), ...policy.steps.flatMap((s) => (typeof s.approver === 'object' && 'employeeId' in s.approver ? [s.approver.employeeId] : []))]);
  const mayApprove = new Set<string>();
  for (const doc of await employees.find({ _id: { $in: [...candidates] } })) {
    if (!doc.disabled && doc.roleIds.some((roleId) => roles.get(roleId)?.permissions[module]?.includes('approve'))) mayApprove.add(doc._id);
  }
  const resolved = resolveApprovers(policy.steps, { submitterId: input.submitterId, managersAbove: managers, roleHolders: (key) => holders.get(key) ?? [], mayApprove: (id) => mayApprove.has(id) });
  const missing = resolved.findIndex((step) => step === undefined);
  if (missing >= 0)
    throw new DomainError('approval.no_approver', `Nobody can approve step ${missing + 1} of the policy "${policy.name}": name a department manager or a holder of the approve permission, or change the policy`, { policyId: policy.policyId, step: missing });
  return { approvalId: input.approvalId, policyId: policy.policyId, policyVersion: policy.version, steps: resolved.map((step) => step!) };
}

/** The policy a required approval takes when none of the company's applies: one step, the submitter's manager (version 0). */
export const BUILT_IN_POLICY_ID = '00000000-0000-8000-8000-000000000000';
const BUILT_IN_POLICY = (kind: ApprovalKind): VersionedPolicy => ({ policyId: BUILT_IN_POLICY_ID, version: 0, name: '默认审批 Default approval', kind, conditions: {}, steps: [{ approver: 'manager' }] });

/**
 * Creates the approval request a document recorded (idempotent: a request that exists is left alone), and
 * invalidates the one it replaced. Run right after the document's submission and again by the approval process
 * after a crash, with request facts of its own.
 */
export async function openApprovalRequest(
  deps: CommandDeps,
  input: { kind: ApprovalKind; documentId: string; documentVersion: number; submittedBy: string; at: string; request: ApprovalRequest; supersedes: string | null },
  actor: Actor,
  meta: RequestMeta,
): Promise<void> {
  if (input.supersedes) {
    await execute(deps, approvalDecider, approvalStream(input.supersedes), { type: 'InvalidateApproval', approvalId: input.supersedes, documentVersion: input.documentVersion, at: input.at }, actor, { ...meta, requestId: `${meta.requestId}:invalidate` });
  }
  const { state } = await loadApproval(deps, input.request.approvalId);
  if (state.status !== 'none') return;
  const { approvalId, policyId, policyVersion, steps } = input.request;
  await execute(deps, approvalDecider, approvalStream(approvalId), { type: 'SubmitApproval', data: { approvalId, kind: input.kind, documentId: input.documentId, documentVersion: input.documentVersion, policyId, policyVersion, submittedBy: input.submittedBy, steps, at: input.at, remindAt: await reminderDueAt(deps, input.at) } }, actor, { ...meta, requestId: `${meta.requestId}:submit` });
}

/** Ends a pending request whose document moved to `documentVersion` (idempotent). */
export const invalidateApprovalRequest = (deps: CommandDeps, approvalId: string, documentVersion: number, meta: RequestMeta) =>
  execute(deps, approvalDecider, approvalStream(approvalId), { type: 'InvalidateApproval', approvalId, documentVersion, at: deps.clock.now().toISOString() }, systemActor, meta);

/** Ends a pending request its submitter recalled through the document (idempotent). */
export async function recallApprovalRequest(deps: CommandDeps, approvalId: string, actor: Actor, meta: RequestMeta): Promise<void> {
  const { state } = await loadApproval(deps, approvalId);
  if (state.status !== 'pending') return;
  await execute(deps, approvalDecider, approvalStream(approvalId), { type: 'RecallApproval', approvalId, actorId: actor.userId, at: deps.clock.now().toISOString() }, actor, { ...meta, requestId: `${meta.requestId}:recall` });
}

/** Approves or rejects the step waiting on the actor (or on someone whose delegate they are now). */
export async function decideApprovalStep(deps: CommandDeps, readStore: ReadStore, approvalId: string, input: { outcome: 'approved' | 'rejected'; comment?: string }, actor: Actor, meta: RequestMeta) {
  const at = deps.clock.now().toISOString();
  const [delegateOf, time, nextRemindAt] = await Promise.all([delegatorsFor(readStore, actor.userId, at), businessTime(deps), reminderDueAt(deps, at)]);
  const result = await execute(
    deps,
    approvalDecider,
    approvalStream(approvalId),
    (state: ApprovalState) => {
      if (state.status === 'none') throw new DomainError('approval.not_found', `Approval ${approvalId} does not exist`, { approvalId });
      const waitedBusinessMinutes = Math.floor(businessMsBetween(time, Date.parse(state.waitingSince), Date.parse(at)) / 60_000);
      const base = { approvalId, step: state.current, actorId: actor.userId, delegateOf, at, waitedBusinessMinutes };
      if (input.outcome === 'approved') return { type: 'ApproveStep' as const, ...base, nextRemindAt, ...(input.comment ? { comment: input.comment } : {}) };
      if (!input.comment) throw new DomainError('approval.comment_required', 'A rejection says why (comment)', { approvalId });
      return { type: 'RejectStep' as const, ...base, comment: input.comment };
    },
    actor,
    meta,
  );
  return result;
}
