import { approvalCategory } from '../domain/approval/index.ts';
import type { ApprovalKind } from '../domain/approval/policy.ts';
import { approvalKinds } from '../domain/approval/policy.ts';
import { scheduleCategory } from '../domain/categories.ts';
import type { RecordedEvent } from '../infra/eventstore/port.ts';
import { seededIds } from '../infra/ids.ts';
import { approvalStream, loadApproval, openApprovalRequest, recallApprovalRequest } from './approvals.ts';
import type { CommandDeps, RequestMeta } from './context.ts';
import { getEmployee, systemActor } from './employees.ts';
import { applyExpenseOutcome } from './expenses.ts';
import { applyOrderOutcome, applyQuoteOutcome } from './documents.ts';
import { approvalSubjectEvents } from './approval-subjects.ts';
import { notify } from './notifications.ts';
import { execute } from './pipeline.ts';
import { approvalDecider } from '../domain/approval/index.ts';
import { completedRun, completeRun, type TimerPlan, type TimerSpec } from './timers.ts';
import type { Mailer } from '../infra/mail/port.ts';

/** How each kind of document acts on a decided approval (idempotent: it acts only on the request it waits on, once). */
const actions: Record<ApprovalKind, (deps: CommandDeps, documentId: string, approvalId: string, outcome: 'approved' | 'rejected', meta: RequestMeta) => Promise<unknown>> = {
  expense: applyExpenseOutcome,
  quote: applyQuoteOutcome,
  order: applyOrderOutcome,
};

/** Acts on a decided approval's outcome for its document (right after the decision, and by the process after a crash). */
export async function actOnOutcome(deps: CommandDeps, approvalId: string, meta: RequestMeta): Promise<void> {
  const { state } = await loadApproval(deps, approvalId);
  if (state.status !== 'approved' && state.status !== 'rejected') return;
  await actions[state.kind](deps, state.documentId, approvalId, state.status, { ...meta, requestId: `${meta.requestId}:act` });
}

export const APPROVAL_PROCESS = 'approval-process';

/** A notification about an approval (once per firing), and a mail to the recipient's address when it is new. */
async function tell(deps: CommandDeps, mailer: Mailer, recipientId: string, kind: string, title: { 'zh-CN': string; en: string }, approvalId: string, dueAt: string, meta: RequestMeta) {
  const own = { ...meta, requestId: `${meta.requestId}:notify`, ids: seededIds(`${meta.requestId}:notify`, Date.parse(dueAt)) };
  const { sent } = await notify(deps, { recipientId, kind, title, subject: { resource: 'approvals', id: approvalId } }, systemActor, own);
  const email = sent ? ((await getEmployee(deps, recipientId))?.fields as { email?: string } | undefined)?.email : undefined;
  if (email) await mailer.send({ to: [email], subject: `${title['zh-CN']} / ${title.en}`, text: `${title['zh-CN']}\n${title.en}\n\n/api/v1/approvals/${approvalId}` });
}

/**
 * The approval process manager. It follows the documents' and the approvals' events and, per cause, does one
 * thing once: makes the request a document recorded (`open:`), ends the request a document took back
 * (`recall:`), lets the document act on a decided request (`act:`), tells an approver a step waits for them
 * (`notify:`) and reminds them later (`remind:`), tells the submitter the outcome (`outcome:`). Each item's work is idempotent and is marked done (RunCompleted) after it: a crash in between
 * runs it again, which changes nothing the first run did.
 */
export const approvalProcess: TimerSpec = {
  name: APPROVAL_PROCESS,
  categories: [...new Set([approvalCategory, scheduleCategory, ...Object.values(approvalSubjectEvents).map((s) => s.category)])],
  plan(event: RecordedEvent): TimerPlan | undefined {
    if (event.type === 'RunCompleted') return completedRun(APPROVAL_PROCESS, event);
    const data = event.data as { approvalId?: string; step?: number; remindAt?: string | null; nextRemindAt?: string | null };
    const now = event.metadata.at;
    switch (event.type) {
      case 'ApprovalSubmitted':
        return { schedule: [{ key: `notify:${data.approvalId}:0`, dueAt: now }, ...(data.remindAt ? [{ key: `remind:${data.approvalId}:0`, dueAt: data.remindAt }] : [])] };
      case 'ApprovalStepApproved':
        // Not the last step (the last one's event names no next reminder): the next approver is told, and reminded later.
        if (!('nextRemindAt' in data)) return undefined;
        return { schedule: [{ key: `notify:${data.approvalId}:${data.step! + 1}`, dueAt: now }, ...(data.nextRemindAt ? [{ key: `remind:${data.approvalId}:${data.step! + 1}`, dueAt: data.nextRemindAt }] : [])] };
      case 'ApprovalCompleted':
        return { schedule: [{ key: `act:${data.approvalId}`, dueAt: now }, { key: `outcome:${data.approvalId}`, dueAt: now }] };
    }
    for (const subject of Object.values(approvalSubjectEvents)) {
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
        const label = approvalKinds[state.kind].label;
        await tell(deps, mailer, state.steps[Number(step)]!.approverId, 'approval.reminder', { 'zh-CN': `审批提醒：${label['zh-CN']}等待您审批`, en: `Reminder: a ${label.en.toLowerCase()} waits for your approval` }, approvalId, item.dueAt, meta);
      }
    } else if (what === 'notify') {
      // A step starts waiting: its approver is told (once; a step no longer waiting is not announced).
      const { state } = await loadApproval(deps, approvalId);
      if (state.status === 'pending' && state.current === Number(step)) {
        const label = approvalKinds[state.kind].label;
        await tell(deps, mailer, state.steps[state.current]!.approverId, 'approval.waiting', { 'zh-CN': `待审批：${label['zh-CN']}`, en: `Waiting for your approval: ${label.en.toLowerCase()}` }, approvalId, item.dueAt, meta);
      }
    } else if (what === 'outcome') {
      // The submitter learns the outcome.
      const { state } = await loadApproval(deps, approvalId);
      if (state.status === 'approved' || state.status === 'rejected') {
        const label = approvalKinds[state.kind].label;
        const title = state.status === 'approved' ? { 'zh-CN': `审批通过：${label['zh-CN']}`, en: `Approved: ${label.en.toLowerCase()}` } : { 'zh-CN': `审批被驳回：${label['zh-CN']}`, en: `Rejected: ${label.en.toLowerCase()}` };
        await tell(deps, mailer, state.submittedBy, 'approval.completed', title, approvalId, item.dueAt, meta);
      }
    }
    await completeRun(deps, APPROVAL_PROCESS, item.key, systemActor, { ...meta, requestId: `${meta.requestId}:done` });
  },
};
