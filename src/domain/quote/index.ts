import { z } from 'zod';
import { CustomValues } from '../customization/values.ts';
import { DomainError } from '../shared/errors.ts';
import type { PricedLine, Totals } from '../shared/totals.ts';

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
  | { type: 'QuoteOwnerChanged'; data: { quoteId: string; fromOwnerId: string; ownerId: string } };

export type QuoteStatus = 'draft' | 'sent' | 'accepted' | 'rejected';
export type QuoteState =
  | { status: 'none' }
  | { status: QuoteStatus; quoteId: string; customerId: string; opportunityId?: string; ownerId: string; currency: string; current: QuoteVersion; versions: QuoteVersion[]; orderId?: string; custom?: Record<string, unknown> };

export type QuoteCommand =
  | { type: 'CreateQuote'; quoteId: string; customerId: string; opportunityId?: string; ownerId: string; currency: string; current: QuoteVersion; custom?: Record<string, unknown> }
  | { type: 'ReviseQuote'; quoteId: string; lines: PricedLine[]; totals: Totals; validUntil: string; notes?: string }
  | { type: 'SendQuote'; quoteId: string; today: string }
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
    case 'SendQuote':
      if (state.status !== 'draft') throw new DomainError('quote.not_draft', `Only a draft can be sent; this quote is ${state.status}`, { quoteId });
      if (command.today > state.current.validUntil) throw new DomainError('quote.expired', 'The quote is past its validity date; revise it first', { quoteId });
      return [{ type: 'QuoteSent', data: { quoteId, version } }];
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
