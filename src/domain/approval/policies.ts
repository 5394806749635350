import { z } from 'zod';
import type { EventsOf } from '../shared/decider.ts';
import { DomainError } from '../shared/errors.ts';
import { ApprovalPolicyFields, type VersionedPolicy } from './policy.ts';

/**
 * The company's approval policies, one stream for all of them: a submission reads the whole set at once, and each
 * policy's version (how often it was defined or changed) is what an approval records as in force.
 */
export const ApprovalPolicyDefined = z.object({ policyId: z.string(), fields: ApprovalPolicyFields });
export const ApprovalPolicyChanged = z.object({ policyId: z.string(), fields: ApprovalPolicyFields });
export const ApprovalPolicyRetired = z.object({ policyId: z.string() });
export const approvalPolicyEventSchemas = { ApprovalPolicyDefined, ApprovalPolicyChanged, ApprovalPolicyRetired };
export type ApprovalPolicyEvent = EventsOf<typeof approvalPolicyEventSchemas>;

export type PolicyEntry = { fields: ApprovalPolicyFields; version: number; retired: boolean };
export type ApprovalPoliciesState = { status: 'active'; policies: Readonly<Record<string, PolicyEntry>> };
export type ApprovalPoliciesCommand =
  | { type: 'DefineApprovalPolicy'; policyId: string; fields: ApprovalPolicyFields }
  | { type: 'ChangeApprovalPolicy'; policyId: string; fields: ApprovalPolicyFields }
  | { type: 'RetireApprovalPolicy'; policyId: string };

export const initialState: ApprovalPoliciesState = { status: 'active', policies: {} };

export function evolve(state: ApprovalPoliciesState, event: ApprovalPolicyEvent): ApprovalPoliciesState {
  const { policyId } = event.data;
  const current = state.policies[policyId];
  switch (event.type) {
    case 'ApprovalPolicyDefined':
      return { ...state, policies: { ...state.policies, [policyId]: { fields: event.data.fields, version: 1, retired: false } } };
    case 'ApprovalPolicyChanged':
      return current ? { ...state, policies: { ...state.policies, [policyId]: { ...current, fields: event.data.fields, version: current.version + 1 } } } : state;
    case 'ApprovalPolicyRetired':
      return current ? { ...state, policies: { ...state.policies, [policyId]: { ...current, retired: true } } } : state;
  }
}

const notFound = (policyId: string) => new DomainError('approval_policy.not_found', `Approval policy ${policyId} does not exist`, { policyId });

/** Two active policies never share a name (an administrator tells them apart by it). */
function assertNameFree(state: ApprovalPoliciesState, policyId: string, name: string): void {
  const holder = Object.entries(state.policies).find(([id, entry]) => id !== policyId && !entry.retired && entry.fields.name.toLowerCase() === name.toLowerCase());
  if (holder) throw new DomainError('approval_policy.duplicate_name', `Another policy is named ${name}`, { existingPolicyId: holder[0] });
}

export function decide(command: ApprovalPoliciesCommand, state: ApprovalPoliciesState): ApprovalPolicyEvent[] {
  const current = state.policies[command.policyId];
  switch (command.type) {
    case 'DefineApprovalPolicy':
      if (current) throw new DomainError('approval_policy.already_exists', `Approval policy ${command.policyId} exists already`, { policyId: command.policyId });
      assertNameFree(state, command.policyId, command.fields.name);
      return [{ type: 'ApprovalPolicyDefined', data: { policyId: command.policyId, fields: command.fields } }];
    case 'ChangeApprovalPolicy':
      if (!current || current.retired) throw notFound(command.policyId);
      assertNameFree(state, command.policyId, command.fields.name);
      return JSON.stringify(current.fields) === JSON.stringify(command.fields) ? [] : [{ type: 'ApprovalPolicyChanged', data: { policyId: command.policyId, fields: command.fields } }];
    case 'RetireApprovalPolicy':
      if (!current) throw notFound(command.policyId);
      return current.retired ? [] : [{ type: 'ApprovalPolicyRetired', data: { policyId: command.policyId } }];
  }
}

export const approvalPoliciesDecider = { initialState, evolve, decide };
export const APPROVAL_POLICIES_STREAM = 'approvalpolicies-company';

/** The policies in force, with their ids and versions (retired ones never apply). */
export const activePolicies = (state: ApprovalPoliciesState): VersionedPolicy[] =>
  Object.entries(state.policies)
    .filter(([, entry]) => !entry.retired)
    .map(([policyId, entry]) => ({ ...entry.fields, policyId, version: entry.version }));
