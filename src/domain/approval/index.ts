import { z } from 'zod';
import type { EventsOf } from '../shared/decider.ts';
import { DomainError } from '../shared/errors.ts';
import { ApprovalKind, ApproverRule } from './policy.ts';

const At = z.string().describe('When it happened (ISO 8601 UTC)');

/**
 * One approval request (审批): a document, at the version it was asked for, under the policy version in force then,
 * through ordered steps each with its approver. A request is never reset: a recall, a rejection or an edit of the
 * document (ApprovalInvalidated) ends it, and asking again is a new request, so every step ever taken stays.
 */
export const ApprovalSubmitted = z.object({
  approvalId: z.string(),
  kind: ApprovalKind,
  documentId: z.string(),
  documentVersion: z.number().int(),
  policyId: z.string(),
  policyVersion: z.number().int(),
  submittedBy: z.string(),
  steps: z.array(z.object({ approverId: z.string(), rule: ApproverRule })).min(1),
  at: At,
  remindAt: z.string().nullable().optional().describe("When the first step's approver is reminded (after the company's reminder business hours)"),
});
const Decision = {
  approvalId: z.string(),
  step: z.number().int().min(0),
  approverId: z.string().describe('Whose step it was'),
  actorId: z.string().describe('Who acted: the approver, or their delegate'),
  at: At,
  waitedBusinessMinutes: z.number().int().min(0).optional().describe('Business minutes the step waited (the turnaround report counts them)'),
};
export const ApprovalStepApproved = z.object({ ...Decision, comment: z.string().optional(), nextRemindAt: z.string().nullable().optional().describe("When the next step's approver is reminded") });
export const ApprovalStepRejected = z.object({ ...Decision, comment: z.string() });
export const ApprovalRecalled = z.object({ approvalId: z.string(), by: z.string(), at: At });
export const ApprovalInvalidated = z.object({ approvalId: z.string(), documentVersion: z.number().int().describe('The version the document was edited to'), at: At });
export const ApprovalCompleted = z.object({ approvalId: z.string(), outcome: z.enum(['approved', 'rejected']), at: At });
export const ApprovalReminded = z.object({ approvalId: z.string(), step: z.number().int().min(0), approverId: z.string(), at: At });

export const approvalEventSchemas = { ApprovalSubmitted, ApprovalStepApproved, ApprovalStepRejected, ApprovalRecalled, ApprovalInvalidated, ApprovalCompleted, ApprovalReminded };
export type ApprovalEvent = EventsOf<typeof approvalEventSchemas>;

export type ApprovalStatus = 'pending' | 'approved' | 'rejected' | 'recalled' | 'invalidated';
export type ApprovalStep = z.infer<typeof ApprovalSubmitted>['steps'][number] & { decision?: { outcome: 'approved' | 'rejected'; actorId: string; comment?: string; at: string } };
export type ApprovalState =
  | { status: 'none' }
  | {
      status: ApprovalStatus;
      approvalId: string;
      kind: ApprovalKind;
      documentId: string;
      documentVersion: number;
      policyId: string;
      policyVersion: number;
      submittedBy: string;
      submittedAt: string;
      steps: ApprovalStep[];
      /** The step waiting for a decision (steps.length once all are decided). */
      current: number;
      /** Since when the current step waits. */
      waitingSince: string;
      /** Steps whose approver was reminded. */
      reminded: number[];
    };

type Act = { approvalId: string; actorId: string; at: string };
/** What the handler measured in business time: how long the step waited, and when the next approver is reminded. */
type Timing = { waitedBusinessMinutes?: number; nextRemindAt?: string | null };
export type ApprovalCommand =
  | { type: 'SubmitApproval'; data: z.infer<typeof ApprovalSubmitted> }
  /** `delegateOf`: the person whose delegate the actor is right now (the handler finds it from the delegations). */
  | ({ type: 'ApproveStep'; step: number; comment?: string; delegateOf: readonly string[] } & Act & Timing)
  | ({ type: 'RejectStep'; step: number; comment: string; delegateOf: readonly string[] } & Act & Timing)
  | { type: 'RemindApprover'; approvalId: string; step: number; at: string }
  | ({ type: 'RecallApproval' } & Act)
  | { type: 'InvalidateApproval'; approvalId: string; documentVersion: number; at: string };

export const initialState: ApprovalState = { status: 'none' };

export function evolve(state: ApprovalState, event: ApprovalEvent): ApprovalState {
  if (event.type === 'ApprovalSubmitted') {
    const { approvalId, kind, documentId, documentVersion, policyId, policyVersion, submittedBy, steps, at } = event.data;
    return { status: 'pending', approvalId, kind, documentId, documentVersion, policyId, policyVersion, submittedBy, submittedAt: at, steps, current: 0, waitingSince: at, reminded: [] };
  }
  if (state.status === 'none') return state;
  switch (event.type) {
    case 'ApprovalStepApproved':
    case 'ApprovalStepRejected': {
      const outcome = event.type === 'ApprovalStepApproved' ? ('approved' as const) : ('rejected' as const);
      const { step, actorId, comment, at } = event.data;
      const steps = state.steps.map((s, i) => (i === step ? { ...s, decision: { outcome, actorId, ...(comment ? { comment } : {}), at } } : s));
      return { ...state, steps, current: step + 1, waitingSince: at };
    }
    case 'ApprovalReminded':
      return { ...state, reminded: [...state.reminded, event.data.step] };
    case 'ApprovalRecalled':
      return { ...state, status: 'recalled' };
    case 'ApprovalInvalidated':
      return { ...state, status: 'invalidated' };
    case 'ApprovalCompleted':
      return { ...state, status: event.data.outcome };
  }
}

type Pending = Extract<ApprovalState, { status: ApprovalStatus }>;

/** Who may decide the current step: its approver, or someone that approver delegated to; never the submitter. */
function assertMayDecide(state: Pending, command: Extract<ApprovalCommand, { type: 'ApproveStep' | 'RejectStep' }>): void {
  if (state.status !== 'pending') throw new DomainError('approval.closed', `This approval is ${state.status}`, { approvalId: state.approvalId, approvalStatus: state.status });
  if (command.step !== state.current) throw new DomainError('approval.step_decided', `Step ${command.step + 1} is not the one waiting (step ${state.current + 1} is)`, { approvalId: state.approvalId, step: command.step, current: state.current });
  if (command.actorId === state.submittedBy) throw new DomainError('approval.own_document', 'Nobody approves their own document', { approvalId: state.approvalId });
  const approverId = state.steps[state.current]!.approverId;
  if (command.actorId !== approverId && !command.delegateOf.includes(approverId))
    throw new DomainError('approval.not_approver', 'This step waits for someone else', { approvalId: state.approvalId, step: command.step });
}

export function decide(command: ApprovalCommand, state: ApprovalState): ApprovalEvent[] {
  if (command.type === 'SubmitApproval') {
    if (state.status !== 'none') throw new DomainError('approval.already_exists', `Approval ${command.data.approvalId} already exists`, { approvalId: command.data.approvalId });
    if (command.data.steps.some((step) => step.approverId === command.data.submittedBy)) throw new DomainError('approval.own_document', 'Nobody approves their own document', {});
    return [{ type: 'ApprovalSubmitted', data: command.data }];
  }
  if (state.status === 'none') throw new DomainError('approval.not_found', `Approval ${command.approvalId} does not exist`, { approvalId: command.approvalId });
  switch (command.type) {
    case 'ApproveStep': {
      assertMayDecide(state, command);
      const approverId = state.steps[state.current]!.approverId;
      const last = command.step === state.steps.length - 1;
      const timing = { ...(command.waitedBusinessMinutes !== undefined ? { waitedBusinessMinutes: command.waitedBusinessMinutes } : {}), ...(!last && command.nextRemindAt !== undefined ? { nextRemindAt: command.nextRemindAt } : {}) };
      const approved: ApprovalEvent = { type: 'ApprovalStepApproved', data: { approvalId: state.approvalId, step: command.step, approverId, actorId: command.actorId, ...(command.comment ? { comment: command.comment } : {}), at: command.at, ...timing } };
      return last ? [approved, { type: 'ApprovalCompleted', data: { approvalId: state.approvalId, outcome: 'approved', at: command.at } }] : [approved];
    }
    case 'RejectStep': {
      assertMayDecide(state, command);
      const approverId = state.steps[state.current]!.approverId;
      return [
        { type: 'ApprovalStepRejected', data: { approvalId: state.approvalId, step: command.step, approverId, actorId: command.actorId, comment: command.comment, at: command.at, ...(command.waitedBusinessMinutes !== undefined ? { waitedBusinessMinutes: command.waitedBusinessMinutes } : {}) } },
        { type: 'ApprovalCompleted', data: { approvalId: state.approvalId, outcome: 'rejected', at: command.at } },
      ];
    }
    case 'RecallApproval':
      if (state.status === 'recalled') return [];
      if (command.actorId !== state.submittedBy) throw new DomainError('approval.not_submitter', 'Only the submitter recalls an approval', { approvalId: state.approvalId });
      if (state.status !== 'pending') throw new DomainError('approval.closed', `This approval is ${state.status}`, { approvalId: state.approvalId, approvalStatus: state.status });
      return [{ type: 'ApprovalRecalled', data: { approvalId: state.approvalId, by: command.actorId, at: command.at } }];
    case 'RemindApprover':
      // Once per step, and only while that step still waits.
      if (state.status !== 'pending' || command.step !== state.current || state.reminded.includes(command.step)) return [];
      return [{ type: 'ApprovalReminded', data: { approvalId: state.approvalId, step: command.step, approverId: state.steps[command.step]!.approverId, at: command.at } }];
    case 'InvalidateApproval':
      // Only a pending request for an older version: a decided one stands (the document acts on it), a newer version is its own.
      if (state.status !== 'pending' || command.documentVersion <= state.documentVersion) return [];
      return [{ type: 'ApprovalInvalidated', data: { approvalId: state.approvalId, documentVersion: command.documentVersion, at: command.at } }];
  }
}

export const approvalDecider = { initialState, evolve, decide };
export const approvalCategory = 'approval';

/** A delegation (代理审批): while `from` ≤ now < `to`, the delegate may act on the delegator's steps. */
export const Delegation = z
  .object({ delegateId: z.string().min(1).max(100), from: z.iso.datetime({ offset: true }), to: z.iso.datetime({ offset: true }) })
  .strict()
  .refine((d) => Date.parse(d.from) < Date.parse(d.to), { message: 'from comes before to', path: ['to'] });
export type Delegation = z.infer<typeof Delegation>;

/** The delegators whose steps `actorId` may act on at `at`, from their delegations. */
export const delegatorsOf = (actorId: string, at: string, delegations: readonly (Delegation & { delegatorId: string })[]): string[] =>
  delegations.filter((d) => d.delegateId === actorId && d.delegatorId !== actorId && Date.parse(d.from) <= Date.parse(at) && Date.parse(at) < Date.parse(d.to)).map((d) => d.delegatorId);
