import { describe, expect, it } from 'vitest';
import { approvalDecider, type ApprovalCommand, type ApprovalEvent, Delegation, delegatorsOf } from '../../src/domain/approval/index.ts';
import { ApprovalPolicyFields, type ApproverFacts, policyApplies, resolveApprovers, strictestPolicy, type VersionedPolicy } from '../../src/domain/approval/policy.ts';
import { fold } from '../../src/domain/shared/decider.ts';
import { activePolicies, approvalPoliciesDecider, type ApprovalPolicyEvent } from '../../src/domain/approval/policies.ts';
import { specFor } from '../support/spec.ts';

const CNY = (amount: number) => ({ amount, currency: 'CNY' });
const policy = (id: string, fields: Partial<ApprovalPolicyFields> = {}): VersionedPolicy => ({ policyId: id, version: 1, name: id, kind: 'expense', conditions: {}, steps: [{ approver: 'manager' }], ...fields });

describe('approval policies: which applies, and who approves', () => {
  it('applies when its kind matches and every condition it names holds; an amount in another currency meets no minimum', () => {
    const big = policy('big', { conditions: { minAmount: CNY(500_000) } });
    expect(policyApplies(big, { kind: 'expense', amount: CNY(500_000) })).toBe(true);
    expect(policyApplies(big, { kind: 'expense', amount: CNY(499_999) })).toBe(false);
    expect(policyApplies(big, { kind: 'expense', amount: { amount: 900_000, currency: 'USD' } })).toBe(false);
    expect(policyApplies(big, { kind: 'expense' })).toBe(false);
    expect(policyApplies(big, { kind: 'quote', amount: CNY(900_000) })).toBe(false);
    const both = policy('both', { conditions: { minAmount: CNY(100), overBudget: true } });
    expect(policyApplies(both, { kind: 'expense', amount: CNY(200), overBudget: true })).toBe(true);
    expect(policyApplies(both, { kind: 'expense', amount: CNY(200), overBudget: false })).toBe(false);
    expect(policyApplies(policy('discount', { kind: 'quote', conditions: { discountOverRoleMax: true } }), { kind: 'quote', discountOverRoleMax: true })).toBe(true);
    expect(policyApplies(policy('discount', { kind: 'quote', conditions: { discountOverRoleMax: true } }), { kind: 'quote' })).toBe(false);
    expect(policyApplies(policy('credit', { kind: 'order', conditions: { overCredit: true } }), { kind: 'order', overCredit: false })).toBe(false);
    expect(policyApplies(policy('any'), { kind: 'expense' })).toBe(true);
  });

  it('takes the strictest of those that apply: most steps, then most conditions, then the higher minimum, then the id', () => {
    const one = policy('a-one', { conditions: { minAmount: CNY(100) } });
    const two = policy('b-two', { steps: [{ approver: 'manager' }, { approver: 'managers_manager' }] });
    const narrower = policy('c-narrow', { conditions: { minAmount: CNY(100), overBudget: true } });
    const higher = policy('d-higher', { conditions: { minAmount: CNY(1_000) } });
    const facts = { kind: 'expense' as const, amount: CNY(5_000), overBudget: true };
    expect(strictestPolicy([one, two, narrower, higher], facts)?.policyId).toBe('b-two');
    expect(strictestPolicy([one, narrower, higher], facts)?.policyId).toBe('c-narrow');
    expect(strictestPolicy([one, higher], facts)?.policyId).toBe('d-higher');
    expect(strictestPolicy([policy('z'), policy('y')], facts)?.policyId).toBe('y');
    expect(strictestPolicy([higher], { kind: 'expense', amount: CNY(10) })).toBeUndefined();
    expect(strictestPolicy([], facts)).toBeUndefined();
  });

  it('checks a policy’s shape: a kind it knows, one to ten steps, approvers of the four kinds', () => {
    expect(ApprovalPolicyFields.safeParse({ name: 'Big', kind: 'expense', conditions: { minAmount: CNY(1) }, steps: [{ approver: 'manager' }, { approver: { roleKey: 'finance' } }, { approver: { employeeId: 'e' } }] }).success).toBe(true);
    expect(ApprovalPolicyFields.safeParse({ name: 'X', kind: 'invoice', conditions: {}, steps: [{ approver: 'manager' }] }).success).toBe(false);
    expect(ApprovalPolicyFields.safeParse({ name: 'X', kind: 'expense', conditions: {}, steps: [] }).success).toBe(false);
    expect(ApprovalPolicyFields.safeParse({ name: 'X', kind: 'expense', conditions: { overBudget: false }, steps: [{ approver: 'manager' }] }).success).toBe(false);
    expect(ApprovalPolicyFields.safeParse({ name: 'X', kind: 'expense', conditions: {}, steps: [{ approver: 'boss' }] }).success).toBe(false);
  });

  const facts = (overrides: Partial<ApproverFacts> = {}): ApproverFacts => ({
    submitterId: 'rep',
    managersAbove: ['lead', 'head', 'ceo'],
    roleHolders: (key) => (key === 'finance' ? ['rep', 'fin-near', 'fin-far'] : []),
    mayApprove: () => true,
    ...overrides,
  });

  it('resolves each step: the manager, the manager’s manager, the nearest role holder, a named employee', () => {
    expect(resolveApprovers([{ approver: 'manager' }, { approver: 'managers_manager' }, { approver: { roleKey: 'finance' } }, { approver: { employeeId: 'cfo' } }], facts())).toEqual([
      { approverId: 'lead', rule: 'manager' },
      { approverId: 'head', rule: 'managers_manager' },
      { approverId: 'fin-near', rule: { roleKey: 'finance' } },
      { approverId: 'cfo', rule: { employeeId: 'cfo' } },
    ]);
  });

  it('never resolves to the submitter nor to someone who may not approve: the rule moves to the next one up', () => {
    const withoutApprove = facts({ mayApprove: (id) => id !== 'lead' });
    expect(resolveApprovers([{ approver: 'manager' }, { approver: 'managers_manager' }], withoutApprove).map((s) => s?.approverId)).toEqual(['head', 'ceo']);
    // The named employee is the submitter: the submitter's first manager takes the step.
    expect(resolveApprovers([{ approver: { employeeId: 'rep' } }], facts())[0]?.approverId).toBe('lead');
    expect(resolveApprovers([{ approver: { employeeId: 'cfo' } }], facts({ mayApprove: (id) => id !== 'cfo' }))[0]?.approverId).toBe('lead');
    // Nobody at all: undefined (the submission is refused).
    expect(resolveApprovers([{ approver: 'manager' }, { approver: { roleKey: 'legal' } }], facts({ managersAbove: [] }))).toEqual([undefined, undefined]);
    expect(resolveApprovers([{ approver: 'managers_manager' }], facts({ managersAbove: ['lead'] }))).toEqual([undefined]);
  });
});

describe('approval decider', () => {
  const spec = specFor(approvalDecider);
  const approvalId = 'ap-1';
  const submitted: ApprovalEvent = {
    type: 'ApprovalSubmitted',
    data: { approvalId, kind: 'expense', documentId: 'exp-1', documentVersion: 3, policyId: 'p', policyVersion: 2, submittedBy: 'rep', steps: [{ approverId: 'lead', rule: 'manager' }, { approverId: 'head', rule: 'managers_manager' }], at: 't0' },
  };
  const approve = (actorId: string, step: number, delegateOf: string[] = []): ApprovalCommand => ({ type: 'ApproveStep', approvalId, step, actorId, delegateOf, at: 't1', comment: 'ok' });
  const first: ApprovalEvent = { type: 'ApprovalStepApproved', data: { approvalId, step: 0, approverId: 'lead', actorId: 'lead', comment: 'ok', at: 't1' } };

  it('is submitted once, bound to the document and policy versions; never with the submitter as an approver', () => {
    spec.given([]).when({ type: 'SubmitApproval', data: submitted.data }).then([submitted]);
    spec.given([submitted]).when({ type: 'SubmitApproval', data: submitted.data }).thenThrows('approval.already_exists');
    spec.given([]).when({ type: 'SubmitApproval', data: { ...submitted.data, steps: [{ approverId: 'rep', rule: 'manager' }] } }).thenThrows('approval.own_document');
    expect(fold(approvalDecider, [submitted])).toMatchObject({ status: 'pending', current: 0, documentVersion: 3, policyVersion: 2, submittedAt: 't0' });
    spec.given([]).when(approve('lead', 0)).thenThrows('approval.not_found');
  });

  it('goes step by step: each approver in turn; the last approval completes it', () => {
    spec.given([submitted]).when(approve('lead', 0)).then([first]);
    spec.given([submitted]).when(approve('head', 1)).thenThrows('approval.step_decided');
    spec.given([submitted]).when(approve('head', 0)).thenThrows('approval.not_approver');
    spec.given([submitted, first]).when(approve('lead', 0)).thenThrows('approval.step_decided');
    spec.given([submitted, first]).when(approve('head', 1)).then([
      { type: 'ApprovalStepApproved', data: { approvalId, step: 1, approverId: 'head', actorId: 'head', comment: 'ok', at: 't1' } },
      { type: 'ApprovalCompleted', data: { approvalId, outcome: 'approved', at: 't1' } },
    ]);
    const done = [submitted, first, ...approvalDecider.decide(approve('head', 1), fold(approvalDecider, [submitted, first]))];
    expect(fold(approvalDecider, done)).toMatchObject({ status: 'approved', current: 2 });
    spec.given(done).when(approve('head', 2)).thenThrows('approval.closed');
  });

  it('a rejection (with its comment) ends it; the history of every step stays', () => {
    const rejected = approvalDecider.decide({ type: 'RejectStep', approvalId, step: 1, actorId: 'head', delegateOf: [], comment: '超预算', at: 't2' }, fold(approvalDecider, [submitted, first]));
    expect(rejected).toEqual([
      { type: 'ApprovalStepRejected', data: { approvalId, step: 1, approverId: 'head', actorId: 'head', comment: '超预算', at: 't2' } },
      { type: 'ApprovalCompleted', data: { approvalId, outcome: 'rejected', at: 't2' } },
    ]);
    const state = fold(approvalDecider, [submitted, first, ...rejected]);
    expect(state).toMatchObject({ status: 'rejected', steps: [{ decision: { outcome: 'approved', actorId: 'lead', comment: 'ok' } }, { decision: { outcome: 'rejected', actorId: 'head', comment: '超预算' } }] });
  });

  it('a delegate acts for the approver (both recorded); nobody approves their own document, even as a delegate', () => {
    spec.given([submitted]).when(approve('deputy', 0, ['lead'])).then([{ type: 'ApprovalStepApproved', data: { approvalId, step: 0, approverId: 'lead', actorId: 'deputy', comment: 'ok', at: 't1' } }]);
    spec.given([submitted]).when(approve('deputy', 0, ['head'])).thenThrows('approval.not_approver');
    spec.given([submitted]).when(approve('rep', 0, ['lead'])).thenThrows('approval.own_document');
    spec.given([submitted]).when({ type: 'RejectStep', approvalId, step: 0, actorId: 'rep', delegateOf: ['lead'], comment: 'x', at: 't1' }).thenThrows('approval.own_document');
  });

  it('the submitter recalls a pending one; an edit of the document invalidates a pending one for an older version only', () => {
    spec.given([submitted]).when({ type: 'RecallApproval', approvalId, actorId: 'rep', at: 't3' }).then([{ type: 'ApprovalRecalled', data: { approvalId, by: 'rep', at: 't3' } }]);
    spec.given([submitted]).when({ type: 'RecallApproval', approvalId, actorId: 'lead', at: 't3' }).thenThrows('approval.not_submitter');
    const recalled: ApprovalEvent = { type: 'ApprovalRecalled', data: { approvalId, by: 'rep', at: 't3' } };
    spec.given([submitted, recalled]).when({ type: 'RecallApproval', approvalId, actorId: 'rep', at: 't4' }).thenNothing();
    spec.given([submitted, recalled]).when(approve('lead', 0)).thenThrows('approval.closed');
    const completed: ApprovalEvent = { type: 'ApprovalCompleted', data: { approvalId, outcome: 'approved', at: 't3' } };
    spec.given([submitted, first, completed]).when({ type: 'RecallApproval', approvalId, actorId: 'rep', at: 't4' }).thenThrows('approval.closed');
    spec.given([submitted]).when({ type: 'InvalidateApproval', approvalId, documentVersion: 4, at: 't5' }).then([{ type: 'ApprovalInvalidated', data: { approvalId, documentVersion: 4, at: 't5' } }]);
    spec.given([submitted]).when({ type: 'InvalidateApproval', approvalId, documentVersion: 3, at: 't5' }).thenNothing();
    spec.given([submitted, first, completed]).when({ type: 'InvalidateApproval', approvalId, documentVersion: 9, at: 't5' }).thenNothing();
    expect(fold(approvalDecider, [submitted, { type: 'ApprovalInvalidated', data: { approvalId, documentVersion: 4, at: 't5' } }])).toMatchObject({ status: 'invalidated' });
  });

  it("records how long a step waited and when the next approver is reminded; the last step reminds nobody", () => {
    const timed = { ...approve('lead', 0), waitedBusinessMinutes: 95, nextRemindAt: 't9' } as ApprovalCommand;
    spec.given([submitted]).when(timed).then([{ type: 'ApprovalStepApproved', data: { approvalId, step: 0, approverId: 'lead', actorId: 'lead', comment: 'ok', at: 't1', waitedBusinessMinutes: 95, nextRemindAt: 't9' } }]);
    const last = { ...approve('head', 1), waitedBusinessMinutes: 5, nextRemindAt: 't9' } as ApprovalCommand;
    expect(approvalDecider.decide(last, fold(approvalDecider, [submitted, first]))[0]).toEqual({ type: 'ApprovalStepApproved', data: { approvalId, step: 1, approverId: 'head', actorId: 'head', comment: 'ok', at: 't1', waitedBusinessMinutes: 5 } });
    const rejected = approvalDecider.decide({ type: 'RejectStep', approvalId, step: 0, actorId: 'lead', delegateOf: [], comment: 'no', at: 't2', waitedBusinessMinutes: 0 }, fold(approvalDecider, [submitted]));
    expect(rejected[0]).toMatchObject({ data: { waitedBusinessMinutes: 0 } });
    expect(fold(approvalDecider, [submitted, first])).toMatchObject({ waitingSince: 't1', current: 1 });
  });

  it('reminds the approver of the waiting step once, and never a step no longer waiting', () => {
    const reminded: ApprovalEvent = { type: 'ApprovalReminded', data: { approvalId, step: 0, approverId: 'lead', at: 't2' } };
    spec.given([submitted]).when({ type: 'RemindApprover', approvalId, step: 0, at: 't2' }).then([reminded]);
    spec.given([submitted, reminded]).when({ type: 'RemindApprover', approvalId, step: 0, at: 't3' }).thenNothing();
    spec.given([submitted, first]).when({ type: 'RemindApprover', approvalId, step: 0, at: 't3' }).thenNothing();
    spec.given([submitted, first]).when({ type: 'RemindApprover', approvalId, step: 1, at: 't3' }).then([{ type: 'ApprovalReminded', data: { approvalId, step: 1, approverId: 'head', at: 't3' } }]);
    spec.given([submitted, { type: 'ApprovalRecalled', data: { approvalId, by: 'rep', at: 't3' } }]).when({ type: 'RemindApprover', approvalId, step: 0, at: 't4' }).thenNothing();
    expect(fold(approvalDecider, [submitted, reminded])).toMatchObject({ reminded: [0] });
  });

  it('delegations hold for their period only, and never make someone their own delegate', () => {
    const delegations = [
      { delegatorId: 'lead', delegateId: 'deputy', from: '2026-12-01T00:00:00Z', to: '2026-12-08T00:00:00Z' },
      { delegatorId: 'head', delegateId: 'deputy', from: '2026-12-05T00:00:00Z', to: '2026-12-06T00:00:00Z' },
      { delegatorId: 'deputy', delegateId: 'deputy', from: '2026-12-01T00:00:00Z', to: '2026-12-09T00:00:00Z' },
    ];
    expect(delegatorsOf('deputy', '2026-12-01T00:00:00Z', delegations)).toEqual(['lead']);
    expect(delegatorsOf('deputy', '2026-12-05T12:00:00Z', delegations)).toEqual(['lead', 'head']);
    expect(delegatorsOf('deputy', '2026-12-08T00:00:00Z', delegations)).toEqual([]);
    expect(delegatorsOf('other', '2026-12-05T12:00:00Z', delegations)).toEqual([]);
    expect(Delegation.safeParse({ delegateId: 'd', from: '2026-12-02T00:00:00Z', to: '2026-12-01T00:00:00Z' }).success).toBe(false);
    expect(Delegation.safeParse({ delegateId: 'd', from: '2026-12-01T00:00:00Z', to: '2026-12-02T00:00:00Z' }).success).toBe(true);
  });
});

describe('the approval policy set', () => {
  const spec = specFor(approvalPoliciesDecider);
  const fields: ApprovalPolicyFields = { name: 'Big', kind: 'expense', conditions: {}, steps: [{ approver: 'manager' }] };
  const defined: ApprovalPolicyEvent = { type: 'ApprovalPolicyDefined', data: { policyId: 'p1', fields } };

  it('defines once, changes to a new version when something differs, retires once; retired ones neither apply nor hold their name', () => {
    spec.given([]).when({ type: 'DefineApprovalPolicy', policyId: 'p1', fields }).then([defined]);
    spec.given([defined]).when({ type: 'DefineApprovalPolicy', policyId: 'p1', fields }).thenThrows('approval_policy.already_exists');
    spec.given([defined]).when({ type: 'DefineApprovalPolicy', policyId: 'p2', fields: { ...fields, name: 'BIG' } }).thenThrows('approval_policy.duplicate_name');
    spec.given([defined]).when({ type: 'ChangeApprovalPolicy', policyId: 'p1', fields }).thenNothing();
    const changed: ApprovalPolicyEvent = { type: 'ApprovalPolicyChanged', data: { policyId: 'p1', fields: { ...fields, steps: [{ approver: 'managers_manager' }] } } };
    spec.given([defined]).when({ type: 'ChangeApprovalPolicy', policyId: 'p1', fields: changed.data.fields }).then([changed]);
    spec.given([]).when({ type: 'ChangeApprovalPolicy', policyId: 'p1', fields }).thenThrows('approval_policy.not_found');
    const retired: ApprovalPolicyEvent = { type: 'ApprovalPolicyRetired', data: { policyId: 'p1' } };
    spec.given([defined]).when({ type: 'RetireApprovalPolicy', policyId: 'p1' }).then([retired]);
    spec.given([defined, retired]).when({ type: 'RetireApprovalPolicy', policyId: 'p1' }).thenNothing();
    spec.given([]).when({ type: 'RetireApprovalPolicy', policyId: 'p1' }).thenThrows('approval_policy.not_found');
    spec.given([defined, retired]).when({ type: 'ChangeApprovalPolicy', policyId: 'p1', fields }).thenThrows('approval_policy.not_found');
    spec.given([defined, retired]).when({ type: 'DefineApprovalPolicy', policyId: 'p2', fields }).then([{ type: 'ApprovalPolicyDefined', data: { policyId: 'p2', fields } }]);
    expect(activePolicies(fold(approvalPoliciesDecider, [defined, changed]))).toEqual([{ ...changed.data.fields, policyId: 'p1', version: 2 }]);
    expect(activePolicies(fold(approvalPoliciesDecider, [defined, retired]))).toEqual([]);
    expect(fold(approvalPoliciesDecider, [changed, retired]).policies).toEqual({});
  });
});
