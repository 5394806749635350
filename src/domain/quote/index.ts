import { z } from 'zod';
import { CustomValues } from '../customization/values.ts';
import { DomainError } from '../shared/errors.ts';
import type { PricedLine, Totals } from '../shared/totals.ts';
import { askGate, decideGate, type Gate, gateDecided, type GateDecided, gateOpen, gateRequested, type GateRequested } from '../approval/gate.ts';

/** A quote (报价) for a customer: priced lines, a validity date, revisions that keep earlier versions readable. */
export interface QuoteVersion {
  version: number;
  lines: PricedLine[];
  totals: Totals;
  validUntil: string;
  notes?: string;
}

export const QuoteExtras = z.object({ notes: z.string().max(10_000).optional(), custom: CustomValues.optional() });

export type QuoteEvent =
  | { type: 'QuoteCreated'; data: { quoteId: string; customerId: string; opportunityId?: string; ownerId: string; currency: string; current: QuoteVersion; custom?: Record<string, unknown> } }
  | { type: 'QuoteRevised'; data: { quoteId: string; current: QuoteVersion } }
  | { type: 'QuoteSent'; data: { quoteId: string; version: number } }
  | { type: 'QuoteAccepted'; data: { quoteId: string; version: number; orderId: string } }
  | { type: 'QuoteRejected'; data: { quoteId: string; version: number; reason: string } }
  | { type: 'QuoteOwnerChanged'; data: { quoteId: string; fromOwnerId: string; ownerId: string } }
  /** Its customer was merged into another one: the quote moved with it. */
  | { type: 'QuoteMoved'; data: { quoteId: string; fromCustomerId: string; customerId: string } }
  | { type: 'QuoteApprovalRequested'; data: GateRequested }
  | { type: 'QuoteApprovalDecided'; data: GateDecided };

export type QuoteStatus = 'draft' | 'sent' | 'accepted' | 'rejected';
export type QuoteState =
  | { status: 'none' }
  | { status: QuoteStatus; quoteId: string; customerId: string; opportunityId?: string; ownerId: string; currency: string; current: QuoteVersion; versions: QuoteVersion[]; orderId?: string; custom?: Record<string, unknown>; approval?: Gate };

/** Lines whose discount is over the owner's role maximum (null: no limit): a quote with one needs approval before it is sent. */
export const linesOverDiscount = (lines: readonly PricedLine[], maxDiscountPercent: number | null): number[] =>
  maxDiscountPercent === null ? [] : lines.flatMap((line, index) => ((line.discountPercent ?? 0) > maxDiscountPercent ? [index] : []));

export type QuoteCommand =
  | { type: 'CreateQuote'; quoteId: string; customerId: string; opportunityId?: string; ownerId: string; currency: string; current: QuoteVersion; custom?: Record<string, unknown> }
  | { type: 'ReviseQuote'; quoteId: string; lines: PricedLine[]; totals: Totals; validUntil: string; notes?: string }
  /** `maxDiscountPercent`: the owner's role maximum (null: no limit). */
  | { type: 'SendQuote'; quoteId: string; today: string; maxDiscountPercent?: number | null }
  | { type: 'RequestQuoteApproval'; quoteId: string; maxDiscountPercent: number | null; request: Omit<GateRequested, 'supersedes' | 'documentVersion'> }
  | { type: 'ApplyApprovalOutcome'; quoteId: string; approvalId: string; outcome: 'approved' | 'rejected' }
  | { type: 'AcceptQuote'; quoteId: string; orderId: string; today: string }
  | { type: 'RejectQuote'; quoteId: string; reason: string }
  | { type: 'ChangeQuoteOwner'; quoteId: string; ownerId: string };

export const initialState: QuoteState = { status: 'none' };

export function evolve(state: QuoteState, event: QuoteEvent): QuoteState {
  if (event.type === 'QuoteCreated') {
    const { current, ...rest } = event.data;
    return { status: 'draft', ...rest, current, versions: [current] };
  }
  if (state.status === 'none') return state;
  switch (event.type) {
    case 'QuoteRevised':
      return { ...state, status: 'draft', current: event.data.current, versions: [...state.versions, event.data.current] };
    case 'QuoteSent':
      return { ...state, status: 'sent' };
    case 'QuoteAccepted':
      return { ...state, status: 'accepted', orderId: event.data.orderId };
    case 'QuoteRejected':
      return { ...state, status: 'rejected' };
    case 'QuoteOwnerChanged':
      return { ...state, ownerId: event.data.ownerId };
    case 'QuoteMoved':
      return { ...state, customerId: event.data.customerId };
    case 'QuoteApprovalRequested':
      return { ...state, approval: gateRequested(event.data) };
    case 'QuoteApprovalDecided':
      return { ...state, approval: gateDecided(state.approval ?? null, event.data) };
  }
}

/** A sent quote whose validity date has passed reads as expired. */
export const effectiveStatus = (status: QuoteStatus, validUntil: string, today: string): QuoteStatus | 'expired' =>
  status === 'sent' && today > validUntil ? 'expired' : status;

export function decide(command: QuoteCommand, state: QuoteState): QuoteEvent[] {
  if (command.type === 'CreateQuote') {
    if (state.status !== 'none') throw new DomainError('quote.already_exists', `Quote ${command.quoteId} already exists`);
    const { type: _t, custom, ...data } = command;
    return [{ type: 'QuoteCreated', data: { ...data, ...(custom ? { custom } : {}) } }];
  }
  if (state.status === 'none') throw new DomainError('quote.not_found', `Quote ${command.quoteId} does not exist`, { quoteId: command.quoteId });
  const { quoteId } = state;
  const version = state.current.version;
  switch (command.type) {
    case 'ReviseQuote':
      if (state.status !== 'draft' && state.status !== 'sent') throw new DomainError('quote.closed', `A ${state.status} quote cannot be revised`, { quoteId });
      return [{ type: 'QuoteRevised', data: { quoteId, current: { version: version + 1, lines: command.lines, totals: command.totals, validUntil: command.validUntil, ...(command.notes ? { notes: command.notes } : {}) } } }];
    case 'SendQuote': {
      if (state.status !== 'draft') throw new DomainError('quote.not_draft', `Only a draft can be sent; this quote is ${state.status}`, { quoteId });
      if (command.today > state.current.validUntil) throw new DomainError('quote.expired', 'The quote is past its validity date; revise it first', { quoteId });
      const over = linesOverDiscount(state.current.lines, command.maxDiscountPercent ?? null);
      if (over.length > 0 && !gateOpen(state.approval ?? null, version)) {
        const asked = state.approval?.version === version ? state.approval : null;
        throw new DomainError('quote.approval_required', `${over.length} line(s) discount more than ${command.maxDiscountPercent}%, the owner's role maximum: the quote is sent once approved${asked ? ` (approval ${asked.approvalId} is ${asked.status})` : ' (POST /api/v1/quotes/:id/request-approval)'}`, {
          quoteId,
          lines: over,
          maxDiscountPercent: command.maxDiscountPercent,
          approvalId: asked?.approvalId ?? null,
          approvalStatus: asked?.status ?? null,
        });
      }
      return [{ type: 'QuoteSent', data: { quoteId, version } }];
    }
    case 'RequestQuoteApproval': {
      if (state.status !== 'draft') throw new DomainError('quote.not_draft', `Only a draft asks for approval; this quote is ${state.status}`, { quoteId });
      if (linesOverDiscount(state.current.lines, command.maxDiscountPercent).length === 0) throw new DomainError('quote.approval_not_needed', "No line discounts more than the owner's role maximum: send the quote", { quoteId });
      const asked = askGate(state.approval ?? null, version, command.request);
      return asked ? [{ type: 'QuoteApprovalRequested', data: asked }] : [];
    }
    case 'ApplyApprovalOutcome':
      return decideGate(state.approval ?? null, command.approvalId) ? [{ type: 'QuoteApprovalDecided', data: { documentId: quoteId, approvalId: command.approvalId, outcome: command.outcome } }] : [];
    case 'AcceptQuote':
      if (state.status !== 'sent') throw new DomainError('quote.not_sent', `Only a sent quote can be accepted; this quote is ${state.status}`, { quoteId });
      if (command.today > state.current.validUntil) throw new DomainError('quote.expired', 'The quote expired; revise and send it again', { quoteId });
      return [{ type: 'QuoteAccepted', data: { quoteId, version, orderId: command.orderId } }];
    case 'RejectQuote':
      if (state.status !== 'sent') throw new DomainError('quote.not_sent', `Only a sent quote can be rejected; this quote is ${state.status}`, { quoteId });
      return [{ type: 'QuoteRejected', data: { quoteId, version, reason: command.reason } }];
    case 'ChangeQuoteOwner':
      return command.ownerId === state.ownerId ? [] : [{ type: 'QuoteOwnerChanged', data: { quoteId, fromOwnerId: state.ownerId, ownerId: command.ownerId } }];
  }
}

export const quoteDecider = { initialState, evolve, decide };
export const quoteCategory = 'quote';
export const quoteStream = (id: string) => `${quoteCategory}-${id}`;
