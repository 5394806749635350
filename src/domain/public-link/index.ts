import { DomainError } from '../shared/errors.ts';

/**
 * A public link (对外链接): a signed, expiring, revocable token that lets someone without an account reach one
 * thing under /api/v1/public/ — a quote sent to a customer, a satisfaction survey, an unsubscribe page. The token
 * names the link; this stream says whether the link still works.
 */
export type PublicLinkEvent =
  | { type: 'PublicLinkIssued'; data: { linkId: string; purpose: string; subjectId: string; expiresAt: string } }
  | { type: 'PublicLinkRevoked'; data: { linkId: string; reason: string } };

export type PublicLinkState =
  | { status: 'none' }
  | { status: 'active' | 'revoked'; linkId: string; purpose: string; subjectId: string; expiresAt: string };

export type PublicLinkCommand =
  | { type: 'IssuePublicLink'; linkId: string; purpose: string; subjectId: string; expiresAt: string }
  | { type: 'RevokePublicLink'; linkId: string; reason: string };

export const initialState: PublicLinkState = { status: 'none' };

export function evolve(state: PublicLinkState, event: PublicLinkEvent): PublicLinkState {
  if (event.type === 'PublicLinkIssued') return { status: 'active', ...event.data };
  return state.status === 'none' ? state : { ...state, status: 'revoked' };
}

export function decide(command: PublicLinkCommand, state: PublicLinkState): PublicLinkEvent[] {
  if (command.type === 'IssuePublicLink') {
    if (state.status !== 'none') throw new DomainError('public_link.already_exists', `Public link ${command.linkId} exists already`);
    const { type: _type, ...data } = command;
    return [{ type: 'PublicLinkIssued', data }];
  }
  if (state.status === 'none') throw new DomainError('public_link.not_found', `Public link ${command.linkId} does not exist`, { linkId: command.linkId });
  return state.status === 'revoked' ? [] : [{ type: 'PublicLinkRevoked', data: { linkId: state.linkId, reason: command.reason } }];
}

/** Whether a link lets its holder in at `now`: issued, not revoked, not expired. */
export const linkOpen = (state: PublicLinkState, now: Date): boolean => state.status === 'active' && new Date(state.expiresAt).getTime() > now.getTime();

export const publicLinkDecider = { initialState, evolve, decide };
export const publicLinkCategory = 'publiclink';
export const publicLinkStream = (id: string) => `${publicLinkCategory}-${id}`;
