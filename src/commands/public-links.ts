import { linkOpen, publicLinkDecider, type PublicLinkState, publicLinkStream } from '../domain/public-link/index.ts';
import { DomainError } from '../domain/shared/errors.ts';
import type { ServerKeys } from '../infra/keys.ts';
import type { Actor, CommandDeps, RequestMeta } from './context.ts';
import { execute, load } from './pipeline.ts';

/** A public link as its issuer hands it out. */
export interface IssuedLink {
  linkId: string;
  token: string;
  /** The absolute URL to send (CRM_PUBLIC_URL + the public route + the token). */
  url: string;
  expiresAt: string;
}

/** What the public route learns from a token that still works. */
export interface OpenedLink {
  linkId: string;
  subjectId: string;
}

/** The link cannot be used: never issued, altered, for another purpose, expired or revoked (all answer alike: 404). */
const closed = () => new DomainError('public_link.not_found', 'This link is not valid (it may have expired or been withdrawn); ask the sender for a new one');

/**
 * Issues a link for `purpose` (e.g. `quote`) to one record. The token is sealed with the server's public-link key
 * and bound to the purpose, so it can be neither read, altered, nor used on another public route; the link's
 * stream records it, so it can be revoked and audited.
 */
export async function issuePublicLink(
  deps: CommandDeps & { keys: ServerKeys; publicUrl: string },
  input: { purpose: string; path: string; subjectId: string; validForMs: number },
  actor: Actor,
  meta: RequestMeta,
): Promise<IssuedLink & { position: bigint }> {
  const linkId = meta.ids.newId();
  const expiresAt = new Date(deps.clock.now().getTime() + input.validForMs).toISOString();
  const result = await execute(deps, publicLinkDecider, publicLinkStream(linkId), { type: 'IssuePublicLink', linkId, purpose: input.purpose, subjectId: input.subjectId, expiresAt }, actor, meta);
  return { ...sealedLink(deps, { ...input, linkId, expiresAt }), position: result.position };
}

/** A link's token and URL: the link id and subject sealed with the server's public-link key, bound to the purpose. */
function sealedLink(deps: { keys: ServerKeys; publicUrl: string }, link: { linkId: string; purpose: string; path: string; subjectId: string; expiresAt: string }): IssuedLink {
  const token = deps.keys.seal('public-link', link.purpose, JSON.stringify({ l: link.linkId, s: link.subjectId }));
  return { linkId: link.linkId, token, url: `${deps.publicUrl.replace(/\/+$/, '')}${link.path}/${token}`, expiresAt: link.expiresAt };
}

/**
 * The link a record decided on (its id and expiry are in the record's own events, e.g. a closed ticket's survey):
 * issued if it is not yet (a retry after a crash issues it then), and sealed again for the answer either way.
 */
export async function ensurePublicLink(deps: CommandDeps & { keys: ServerKeys; publicUrl: string }, link: { linkId: string; purpose: string; path: string; subjectId: string; expiresAt: string }, actor: Actor, meta: RequestMeta): Promise<IssuedLink> {
  const state = await publicLink(deps, link.linkId);
  if (state.status === 'none') await execute(deps, publicLinkDecider, publicLinkStream(link.linkId), { type: 'IssuePublicLink', linkId: link.linkId, purpose: link.purpose, subjectId: link.subjectId, expiresAt: link.expiresAt }, actor, meta);
  else if (state.subjectId !== link.subjectId || state.purpose !== link.purpose) throw new DomainError('public_link.already_exists', `Public link ${link.linkId} exists for something else`);
  return sealedLink(deps, link);
}

export const revokePublicLink = (deps: CommandDeps, linkId: string, reason: string, actor: Actor, meta: RequestMeta) =>
  execute(deps, publicLinkDecider, publicLinkStream(linkId), { type: 'RevokePublicLink', linkId, reason }, actor, meta);

export async function publicLink(deps: CommandDeps, linkId: string): Promise<PublicLinkState> {
  return (await load(deps, publicLinkDecider, publicLinkStream(linkId))).state;
}

/** The link a token names, if it is open for `purpose` now; otherwise 404 public_link.not_found. */
export async function openPublicLink(deps: CommandDeps & { keys: ServerKeys }, purpose: string, token: string): Promise<OpenedLink> {
  const opened = await readPublicLink(deps, purpose, token);
  if (!linkOpen(opened.state, deps.clock.now())) throw closed();
  return { linkId: opened.linkId, subjectId: opened.subjectId };
}

/**
 * The link an authentic token names, for a route that answers an expired link differently from an unknown one (a
 * survey: "this survey closed on …"): altered, foreign, never issued or revoked answer 404 public_link.not_found.
 */
export async function readPublicLink(deps: CommandDeps & { keys: ServerKeys }, purpose: string, token: string): Promise<OpenedLink & { state: Exclude<PublicLinkState, { status: 'none' }> }> {
  const plain = deps.keys.open('public-link', purpose, token);
  if (!plain) throw closed();
  const { l: linkId, s: subjectId } = JSON.parse(plain) as { l: string; s: string };
  const state = await publicLink(deps, linkId);
  if (state.status !== 'active' || state.subjectId !== subjectId || state.purpose !== purpose) throw closed();
  return { linkId, subjectId, state };
}
