import type { GateRequested } from '../domain/approval/gate.ts';
import type { ApprovalKind, ApprovalRequest } from '../domain/approval/policy.ts';
import { orderCategory, quoteCategory } from '../domain/categories.ts';
import { expenseCategory } from '../domain/expense/index.ts';
import type { RecordedEvent } from '../infra/eventstore/port.ts';
import { openApprovalRequest } from './approvals.ts';
import type { CommandDeps, RequestMeta } from './context.ts';
import { systemActor } from './employees.ts';

/** What a document's event asks of the approval process: the request to make, for the document's version. */
export type RequestedApproval = { documentId: string; documentVersion: number; submittedBy: string; at: string; request: ApprovalRequest; supersedes: string | null };

/**
 * A document that can wait on an approval, as its events tell it: the event in which it asks for one (submitted,
 * or edited while waiting) and the one in which it takes its request back. How it acts on the outcome is the
 * approval process's (approval-process.ts), which imports the documents' commands; these do not.
 */
export interface ApprovalSubjectEvents {
  kind: ApprovalKind;
  category: string;
  requested(event: RecordedEvent): RequestedApproval | undefined;
  recalled(event: RecordedEvent): string | undefined;
}

const expenseEvents: ApprovalSubjectEvents = {
  kind: 'expense',
  category: expenseCategory,
  requested(event) {
    if (event.type !== 'ExpenseClaimSubmitted') return undefined;
    const data = event.data as { claimId: string; claimantId: string; version: number; at: string; approval: ApprovalRequest | null; supersedes: string | null };
    return data.approval ? { documentId: data.claimId, documentVersion: data.version, submittedBy: data.claimantId, at: data.at, request: data.approval, supersedes: data.supersedes } : undefined;
  },
  recalled: (event) => (event.type === 'ExpenseClaimRecalled' ? ((event.data as { approvalId: string | null }).approvalId ?? undefined) : undefined),
};

/** A document gated by an approval (a quote's discount, an order's credit): it records `<type>` when it asks. */
const gateEvents = (kind: ApprovalKind, category: string, type: string): ApprovalSubjectEvents => ({
  kind,
  category,
  requested(event) {
    if (event.type !== type) return undefined;
    const data = event.data as GateRequested;
    return { documentId: data.documentId, documentVersion: data.documentVersion, submittedBy: data.submittedBy, at: data.at, request: data.approval, supersedes: data.supersedes };
  },
  recalled: () => undefined,
});

/** The documents behind approvals, by kind (a new kind adds its events here and its action in the approval process). */
export const approvalSubjectEvents: Record<ApprovalKind, ApprovalSubjectEvents> = {
  expense: expenseEvents,
  quote: gateEvents('quote', quoteCategory, 'QuoteApprovalRequested'),
  order: gateEvents('order', orderCategory, 'OrderApprovalRequested'),
};

/**
 * Makes now the request a document's last asking event recorded (its command calls this right after recording it;
 * the approval process makes it after a crash, and a request made twice is made once).
 */
export async function openRequestedApproval(deps: CommandDeps, kind: ApprovalKind, events: readonly RecordedEvent[], meta: RequestMeta): Promise<void> {
  for (let i = events.length - 1; i >= 0; i--) {
    const requested = approvalSubjectEvents[kind].requested(events[i]!);
    if (!requested) continue;
    await openApprovalRequest(deps, { kind, ...requested }, systemActor, { ...meta, requestId: `${meta.requestId}:approval` });
    return;
  }
}
