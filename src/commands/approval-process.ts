import { approvalCategory } from '../domain/approval/index.ts';
import type { ApprovalKind, ApprovalRequest } from '../domain/approval/policy.ts';
import { approvalKinds } from '../domain/approval/policy.ts';
import { scheduleCategory } from '../domain/categories.ts';
import { expenseCategory } from '../domain/expense/index.ts';
import type { RecordedEvent } from '../infra/eventstore/port.ts';
import { seededIds } from '../infra/ids.ts';
import { approvalStream, loadApproval, openApprovalRequest, recallApprovalRequest } from './approvals.ts';
import type { CommandDeps, RequestMeta } from './context.ts';
import { getEmployee, systemActor } from './employees.ts';
import { applyExpenseOutcome } from './expenses.ts';
import { notify } from './notifications.ts';
import { execute } from './pipeline.ts';
import { approvalDecider } from '../domain/approval/index.ts';
import { completedRun, completeRun, type TimerPlan, type TimerSpec } from './timers.ts';

/**
 * A document that can wait on an approval, as the approval process sees it: the events in which it asks for one
 * (submitted, or edited while waiting) or takes its request back, and how it acts on the outcome. The action is
 * idempotent: the document acts only on the request it waits on, once.
 */
interface ApprovalSubject {
  kind: ApprovalKind;
  category: string;
  requested(event: RecordedEvent): { documentId: string; documentVersion: number; submittedBy: string; at: string; request: ApprovalRequest; supersedes: string | null } | undefined;
  recalled(event: RecordedEvent): string | undefined;
  act(deps: CommandDeps, documentId: string, approvalId: string, outcome: 'approved' | 'rejected', meta: RequestMeta): Promise<unknown>;
}

const expenseSubject: ApprovalSubject = {
  kind: 'expense',
  category: expenseCategory,
  requested(event) {
    if (event.type !== 'ExpenseClaimSubmitted') return undefined;
    const data = event.data as { claimId: string; claimantId: string; version: number; at: string; approval: ApprovalRequest | null; supersedes: string | null };
    return data.approval ? { documentId: data.claimId, documentVersion: data.version, submittedBy: data.claimantId, at: data.at, request: data.approval, supersedes: data.supersedes } : undefined;
  },
  recalled: (event) => (event.type === 'ExpenseClaimRecalled' ? ((event.data as { approvalId: string | null }).approvalId ?? undefined) : undefined),
  act: applyExpenseOutcome,
};

/** The documents behind approvals, by kind (a new kind adds its subject here). */
const subjects: Partial<Record<ApprovalKind, ApprovalSubject>> = { expense: expenseSubject };

/** Acts on a decided approval's outcome for its document (right after the decision, and by the process after a crash). */
export async function actOnOutcome(deps: CommandDeps, approvalId: string, meta: RequestMeta): Promise<void> {
  const { state } = await loadApproval(deps, approvalId);
  if (state.status !== 'approved' && state.status !== 'rejected') return;
  await subjects[state.kind]?.act(deps, state.documentId, approvalId, state.status, { ...meta, requestId: `${meta.requestId}:act` });
}

export const APPROVAL_PROCESS = 'approval-process';

/**
 * The approval process manager. It follows the documents' and the approvals' events and, per cause, does one
 * thing once: makes the request a document recorded (`open:`), ends the request a document took back
 * (`recall:`), lets the document act on a decided request (`act:`), reminds the approver of a step that waits
 * (`remind:`). Each item's work is idempotent and is marked done (RunCompleted) after it: a crash in between
 * runs it again, which changes nothing the first run did.
 */
export const approvalProcess: TimerSpec = {
  name: APPROVAL_PROCESS,
  categories: [...new Set([approvalCategory, scheduleCategory, ...Object.values(subjects).map((s) => s.category)])],
  plan(event: RecordedEvent): TimerPlan | undefined {
    if (event.type === 'RunCompleted') return completedRun(APPROVAL_PROCESS, event);
    const data = event.data as { approvalId?: string; step?: number; remindAt?: string | null; nextRemindAt?: string | null };
    switch (event.type) {
      case 'ApprovalSubmitted':
        return data.remindAt ? { schedule: [{ key: `remind:${data.approvalId}:0`, dueAt: data.remindAt }] } : undefined;
      case 'ApprovalStepApproved':
        return data.nextRemindAt ? { schedule: [{ key: `remind:${data.approvalId}:${data.step! + 1}`, dueAt: data.nextRemindAt }] } : undefined;
      case 'ApprovalCompleted':
        return { schedule: [{ key: `act:${data.approvalId}`, dueAt: event.metadata.at }] };
    }
    for (const subject of Object.values(subjects)) {
      const requested = subject.requested(event);
      if (requested) return { schedule: [{ key: `open:${requested.request.approvalId}`, dueAt: event.metadata.at, data: { kind: subject.kind, ...requested } }] };
      const recalled = subject.recalled(event);
      if (recalled) return { schedule: [{ key: `recall:${recalled}`, dueAt: event.metadata.at }] };
    }
    return undefined;
  },
  async fire(deps, item, meta, { mailer }) {
    const [what, approvalId, step] = item.key.split(':') as [string, string, string | undefined];
    if (what === 'open') {
      const data = item.data as Parameters<typeof openApprovalRequest>[1];
      await openApprovalRequest(deps, data, systemActor, meta);
    } else if (what === 'recall') {
      const { state } = await loadApproval(deps, approvalId);
      if (state.status === 'pending') await recallApprovalRequest(deps, approvalId, { ...systemActor, userId: state.submittedBy }, meta);
    } else if (what === 'act') {
      await actOnOutcome(deps, approvalId, meta);
    } else if (what === 'remind') {
      const reminded = await execute(deps, approvalDecider, approvalStream(approvalId), { type: 'RemindApprover', approvalId, step: Number(step), at: item.dueAt }, systemActor, meta);
      const state = reminded.state;
      if (reminded.changed && state.status !== 'none') {
        const approverId = state.steps[Number(step)]!.approverId;
        const label = approvalKinds[state.kind].label;
        const title = { 'zh-CN': `审批提醒：${label['zh-CN']}等待您审批`, en: `Reminder: a ${label.en.toLowerCase()} waits for your approval` };
        const own = { ...meta, requestId: `${meta.requestId}:notify`, ids: seededIds(`${meta.requestId}:notify`, Date.parse(item.dueAt)) };
        const { sent } = await notify(deps, { recipientId: approverId, kind: 'approval.reminder', title, subject: { resource: 'approvals', id: approvalId } }, systemActor, own);
        const email = sent ? ((await getEmployee(deps, approverId))?.fields as { email?: string } | undefined)?.email : undefined;
        if (email) await mailer.send({ to: [email], subject: `${title['zh-CN']} / ${title.en}`, text: `${title['zh-CN']}\n${title.en}\n\n/api/v1/approvals/${approvalId}` });
      }
    }
    await completeRun(deps, APPROVAL_PROCESS, item.key, systemActor, { ...meta, requestId: `${meta.requestId}:done` });
  },
};
