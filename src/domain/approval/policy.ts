import { z } from 'zod';
import { Money } from '../shared/money.ts';
import type { Module } from '../role/index.ts';

/**
 * The documents an approval can be asked for, each with the module whose `approve` permission makes someone an
 * approver of it and the record type the document is. A new kind is one more entry here (and the document's own gate).
 */
export const approvalKinds = {
  expense: { module: 'expenses', resource: 'expenses', label: { 'zh-CN': '费用报销', en: 'Expense claim' } },
  quote: { module: 'quotes', resource: 'quotes', label: { 'zh-CN': '报价折扣', en: 'Quote discount' } },
  order: { module: 'orders', resource: 'orders', label: { 'zh-CN': '订单信用', en: 'Order credit' } },
} as const satisfies Record<string, { module: Module; resource: string; label: { 'zh-CN': string; en: string } }>;
/** The record types whose documents can wait on an approval (their approvers may read them meanwhile). */
export const approvableResources: readonly string[] = Object.values(approvalKinds).map((kind) => kind.resource);
export type ApprovalKind = keyof typeof approvalKinds;
export const ApprovalKind = z.enum(Object.keys(approvalKinds) as [ApprovalKind, ...ApprovalKind[]]);

/** Who approves a step: the submitter's manager, the manager's manager, a holder of a role in the submitter's department chain, or a named employee. */
export const ApproverRule = z.union([
  z.enum(['manager', 'managers_manager']),
  z.object({ roleKey: z.string().trim().min(1).max(50) }).strict(),
  z.object({ employeeId: z.string().min(1).max(100) }).strict(),
]);
export type ApproverRule = z.infer<typeof ApproverRule>;

/** When a policy applies: every condition it names must hold (a policy naming none applies to every document of its kind). */
export const ApprovalConditions = z
  .object({
    minAmount: Money.optional().describe('The document amount is at or over this (in the same currency)'),
    overBudget: z.literal(true).optional().describe('The document would exceed a budget'),
    discountOverRoleMax: z.literal(true).optional().describe("A line's discount is over the submitter's role maximum"),
    overCredit: z.literal(true).optional().describe("The customer's open receivables plus the document exceed its credit limit"),
  })
  .strict();
export type ApprovalConditions = z.infer<typeof ApprovalConditions>;

/** An approval policy (审批流程) as data. */
export const ApprovalPolicyFields = z
  .object({
    name: z.string().trim().min(1).max(100),
    kind: ApprovalKind,
    conditions: ApprovalConditions,
    steps: z.array(z.object({ approver: ApproverRule }).strict()).min(1).max(10),
  })
  .strict()
  .meta({ id: 'ApprovalPolicy' });
export type ApprovalPolicyFields = z.infer<typeof ApprovalPolicyFields>;

/** A policy as evaluation sees it: its fields, its id and the version (revision) in force. */
export type VersionedPolicy = ApprovalPolicyFields & { policyId: string; version: number };

/** What a document says about itself when it asks whether it needs approval. */
export interface DocumentFacts {
  kind: ApprovalKind;
  amount?: Money;
  overBudget?: boolean;
  discountOverRoleMax?: boolean;
  overCredit?: boolean;
}

/** Whether a policy applies to a document: its kind, and each condition it names. An amount in another currency does not meet a minimum. */
export function policyApplies(policy: ApprovalPolicyFields, facts: DocumentFacts): boolean {
  if (policy.kind !== facts.kind) return false;
  const { minAmount, overBudget, discountOverRoleMax, overCredit } = policy.conditions;
  if (minAmount && !(facts.amount && facts.amount.currency === minAmount.currency && facts.amount.amount >= minAmount.amount)) return false;
  if (overBudget && !facts.overBudget) return false;
  if (discountOverRoleMax && !facts.discountOverRoleMax) return false;
  if (overCredit && !facts.overCredit) return false;
  return true;
}

/**
 * The policy a document takes among those that apply: the strictest, i.e. the one with the most steps; on a tie,
 * the one naming more conditions, then the higher minimum amount, then the policy id (so the choice is stable).
 * undefined when none applies (the document needs no approval).
 */
export function strictestPolicy<P extends VersionedPolicy>(policies: readonly P[], facts: DocumentFacts): P | undefined {
  const conditionCount = (p: P) => Object.keys(p.conditions).length;
  const minimum = (p: P) => p.conditions.minAmount?.amount ?? -Infinity;
  return policies
    .filter((p) => policyApplies(p, facts))
    .sort((a, b) => b.steps.length - a.steps.length || conditionCount(b) - conditionCount(a) || minimum(b) - minimum(a) || a.policyId.localeCompare(b.policyId))[0];
}

/** What resolving approvers needs to know about the organisation (looked up by the command handler). */
export interface ApproverFacts {
  submitterId: string;
  /** The submitter's managers up the department tree, nearest first, without the submitter. */
  managersAbove: readonly string[];
  /** The enabled holders of a role in the submitter's department chain, nearest department first. */
  roleHolders(roleKey: string): readonly string[];
  /** Whether someone may act as an approver of this kind (enabled, holding `approve` on its module). */
  mayApprove(employeeId: string): boolean;
}

export type ResolvedStep = { approverId: string; rule: ApproverRule };

/**
 * Who approves each step. Nobody approves their own document, and only someone who may approve counts: a rule
 * that would resolve to the submitter, or to someone who may not approve, moves to the next one up (the next
 * manager, the next holder of the role up the chain; for a named employee, the submitter's first manager who
 * may). undefined for a step nobody can take.
 */
export function resolveApprovers(steps: readonly { approver: ApproverRule }[], facts: ApproverFacts): (ResolvedStep | undefined)[] {
  const eligible = (ids: readonly string[]) => ids.filter((id) => id !== facts.submitterId && facts.mayApprove(id));
  const managers = eligible(facts.managersAbove);
  return steps.map(({ approver }) => {
    let candidates: string[];
    if (approver === 'manager') candidates = managers;
    else if (approver === 'managers_manager') candidates = managers.slice(1);
    else if ('roleKey' in approver) candidates = eligible(facts.roleHolders(approver.roleKey));
    else candidates = [...eligible([approver.employeeId]), ...managers];
    return candidates[0] === undefined ? undefined : { approverId: candidates[0], rule: approver };
  });
}

/**
 * An approval a document asks for, as the document records it when it is submitted (or edited while waiting):
 * the request's id, the policy version in force and the approvers resolved then. The approval process creates the
 * request from this fact, so a crash between the document's submission and the request's creation is resumed.
 * `supersedes`: the pending request an edit replaced (invalidated by the process).
 */
export const ApprovalRequest = z.object({
  approvalId: z.string(),
  policyId: z.string(),
  policyVersion: z.number().int(),
  steps: z.array(z.object({ approverId: z.string(), rule: ApproverRule })).min(1),
});
export type ApprovalRequest = z.infer<typeof ApprovalRequest>;
