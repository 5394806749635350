import { z } from 'zod';

import { ApprovalRequest } from './policy.ts';

/**
 * A document that may go on only with an approval (a quote with a discount over its owner's role maximum, an
 * order over its customer's credit): the request it asked for, bound to its version, and the outcome it took.
 * The document's own events carry these shapes (`<Document>ApprovalRequested`, `<Document>ApprovalDecided`).
 */
export const GateRequested = z.object({
  documentId: z.string(),
  documentVersion: z.number().int(),
  submittedBy: z.string(),
  approval: ApprovalRequest,
  supersedes: z.string().nullable(),
  at: z.string(),
});
export type GateRequested = z.infer<typeof GateRequested>;
export const GateDecided = z.object({ documentId: z.string(), approvalId: z.string(), outcome: z.enum(['approved', 'rejected']) });
export type GateDecided = z.infer<typeof GateDecided>;

export type Gate = { approvalId: string; version: number; status: 'pending' | 'approved' | 'rejected' } | null;

export const gateRequested = (data: GateRequested): Gate => ({ approvalId: data.approval.approvalId, version: data.documentVersion, status: 'pending' });
export const gateDecided = (gate: Gate, data: GateDecided): Gate => (gate && gate.approvalId === data.approvalId ? { ...gate, status: data.outcome } : gate);

/** Whether the document's current version was approved. */
export const gateOpen = (gate: Gate, version: number): boolean => gate?.status === 'approved' && gate.version === version;

/**
 * Asking for approval: once per version while one is pending or granted (a repeat changes nothing); a rejected
 * one, or one for an older version, is asked again (the pending one it replaces is named).
 */
export function askGate(gate: Gate, version: number, request: Omit<GateRequested, 'supersedes' | 'documentVersion'>): GateRequested | undefined {
  if (gate && gate.version === version && gate.status !== 'rejected') return undefined;
  return { ...request, documentVersion: version, supersedes: gate?.status === 'pending' ? gate.approvalId : null };
}

/** The outcome of the request the document waits on; any other (replaced, a second delivery) changes nothing. */
export const decideGate = (gate: Gate, approvalId: string): boolean => gate?.approvalId === approvalId && gate.status === 'pending';

