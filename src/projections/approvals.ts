import { approvalCategory, type ApprovalEvent, type ApprovalStatus, type ApprovalStep } from '../domain/approval/index.ts';
import type { RecordedEvent } from '../infra/eventstore/port.ts';
import type { Doc, ReadStore } from '../infra/readstore/port.ts';
import { COMPANY, companyZone } from './company.ts';
import { CounterDeltas, monthOf } from './counters.ts';
import { ORG, ownerPath } from './org.ts';
import { alreadyApplied, keyed, type Projection } from './projection.ts';

export const APPROVALS = 'approvals';
/** Approval turnaround per month, kind and step: how many steps were decided in each bucket of business hours. */
export const APPROVAL_TURNAROUND = 'approval_turnaround_monthly';

/** The histogram's buckets, in business hours: [0, 1), [1, 2), [2, 4), … [80, ∞). */
export const TURNAROUND_BUCKETS = [1, 2, 4, 8, 16, 24, 40, 80] as const;
export const bucketOf = (minutes: number): number => {
  const index = TURNAROUND_BUCKETS.findIndex((upper) => minutes < upper * 60);
  return index === -1 ? TURNAROUND_BUCKETS.length : index;
};

/** The counter field of a histogram bucket. */
export const turnaroundBucketField = (bucket: number): string => `b${bucket}`;
/** The buckets as ranges of business hours ("0-1" … "80+"). */
export const TURNAROUND_BUCKET_LABELS = [...TURNAROUND_BUCKETS.map((upper, i) => `${i === 0 ? 0 : TURNAROUND_BUCKETS[i - 1]}-${upper}`), `${TURNAROUND_BUCKETS.at(-1)}+`];

/** The business hours below which a share of the decisions fell, read from the histogram (the bucket's upper edge, interpolated within it). */
export function quantileHours(buckets: readonly number[], share: number): number | null {
  const total = buckets.reduce((sum, n) => sum + n, 0);
  if (total === 0) return null;
  const rank = share * total;
  let below = 0;
  for (const [i, n] of buckets.entries()) {
    if (n > 0 && below + n >= rank) {
      const lower = i === 0 ? 0 : TURNAROUND_BUCKETS[i - 1]!;
      const upper = TURNAROUND_BUCKETS[i] ?? lower;
      return Math.round((lower + ((upper - lower) * (rank - below)) / n) * 10) / 10;
    }
    below += n;
  }
  return TURNAROUND_BUCKETS.at(-1)!;
}

export type ApprovalDoc = Doc & {
  id: string;
  kind: string;
  documentId: string;
  documentVersion: number;
  policyId: string;
  policyVersion: number;
  submittedBy: string;
  submittedAt: string;
  status: ApprovalStatus;
  /** The step waiting (null once the request ended). */
  step: number | null;
  steps: ApprovalStep[];
  /** Who the waiting step waits on (null once the request ended). */
  currentApproverId: string | null;
  waitingSince: string | null;
  remindedSteps: number[];
  completedAt: string | null;
  /** Scope: the submitter owns it, their department path places it, its approvers and those who acted see it. */
  ownerId: string;
  departmentPath: string;
  collaborators: string[];
  revision: number;
  createdAt: string;
  updatedAt: string;
  _position: number;
};

/**
 * The approvals read model: every request with its steps as decided (never reset), who it waits on now, and the
 * turnaround counters (per month of the decision, kind and step, a histogram of business hours waited).
 */
export const approvalsProjection: Projection = {
  name: 'approvals',
  version: 1,
  categories: [approvalCategory],
  collections: [APPROVALS, APPROVAL_TURNAROUND],
  reads: [COMPANY, ORG.employees],
  async setup(store) {
    await store.collection(APPROVALS).createIndex({ currentApproverId: 1 });
    await store.collection(APPROVALS).createIndex({ documentId: 1 });
    await store.collection(APPROVAL_TURNAROUND).createIndex({ month: 1 });
  },
  async apply(event, store) {
    const e = event as RecordedEvent & ApprovalEvent;
    const approvals = store.collection<ApprovalDoc>(APPROVALS);
    const id = e.data.approvalId;
    const before = await approvals.findOne({ _id: id });
    if (alreadyApplied(before, event)) return;
    const stamp = { revision: Number(event.revision), updatedAt: event.metadata.at, _position: Number(event.position) };
    if (e.type === 'ApprovalSubmitted') {
      const d = e.data;
      const doc: ApprovalDoc = {
        ...keyed(id),
        kind: d.kind,
        documentId: d.documentId,
        documentVersion: d.documentVersion,
        policyId: d.policyId,
        policyVersion: d.policyVersion,
        submittedBy: d.submittedBy,
        submittedAt: d.at,
        status: 'pending',
        step: 0,
        steps: d.steps.map((step) => ({ ...step })),
        currentApproverId: d.steps[0]!.approverId,
        waitingSince: d.at,
        remindedSteps: [],
        completedAt: null,
        ownerId: d.submittedBy,
        departmentPath: await ownerPath(store, ORG, d.submittedBy),
        collaborators: [...new Set(d.steps.map((step) => step.approverId))],
        createdAt: event.metadata.at,
        ...stamp,
      };
      await approvals.replaceOne({ _id: id }, doc, { upsert: true });
      return;
    }
    if (!before) return;
    const next: ApprovalDoc = { ...before, ...stamp };
    switch (e.type) {
      case 'ApprovalStepApproved':
      case 'ApprovalStepRejected': {
        const { step, actorId, comment, at, waitedBusinessMinutes } = e.data;
        const outcome = e.type === 'ApprovalStepApproved' ? ('approved' as const) : ('rejected' as const);
        next.steps = before.steps.map((s, i) => (i === step ? { ...s, decision: { outcome, actorId, ...(comment ? { comment } : {}), at } } : s));
        next.collaborators = [...new Set([...before.collaborators, actorId])];
        const following = outcome === 'approved' ? before.steps[step + 1] : undefined;
        next.step = following ? step + 1 : null;
        next.currentApproverId = following?.approverId ?? null;
        next.waitingSince = following ? at : null;
        if (waitedBusinessMinutes !== undefined) {
          const deltas = new CounterDeltas();
          deltas.add(APPROVAL_TURNAROUND, { month: monthOf(at, await companyZone(store)), kind: before.kind, step: String(step) }, { count: 1, minutes: waitedBusinessMinutes, [turnaroundBucketField(bucketOf(waitedBusinessMinutes))]: 1 });
          await deltas.apply(store, event);
        }
        break;
      }
      case 'ApprovalReminded':
        next.remindedSteps = [...new Set([...before.remindedSteps, e.data.step])];
        break;
      case 'ApprovalRecalled':
      case 'ApprovalInvalidated':
        Object.assign(next, { status: e.type === 'ApprovalRecalled' ? 'recalled' : 'invalidated', step: null, currentApproverId: null, waitingSince: null, completedAt: e.data.at });
        break;
      case 'ApprovalCompleted':
        Object.assign(next, { status: e.data.outcome, step: null, currentApproverId: null, waitingSince: null, completedAt: e.data.at });
        break;
    }
    await approvals.replaceOne({ _id: id }, next);
  },
};

/**
 * Whether a document waits on one of `approverIds` now (the actor, or those whose delegate they are): an approver
 * may read the document while it waits on them, even outside their data scope.
 */
export async function waitsOn(store: ReadStore, documentId: string, approverIds: readonly string[]): Promise<boolean> {
  if (approverIds.length === 0) return false;
  return (await store.collection<ApprovalDoc>(APPROVALS).countDocuments({ documentId, status: 'pending', currentApproverId: { $in: [...approverIds] } })) > 0;
}
