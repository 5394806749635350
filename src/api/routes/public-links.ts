import { z } from 'zod';
import { authorize } from '../../commands/authorization.ts';
import { issuePublicLink, openPublicLink, publicLink, revokePublicLink } from '../../commands/public-links.ts';
import { load } from '../../commands/pipeline.ts';
import { quoteDecider, type QuoteState, quoteStream } from '../../domain/quote/index.ts';
import { DomainError } from '../../domain/shared/errors.ts';
import { notFound } from '../history.ts';
import { recordInScope } from '../records.ts';
import { commonErrors, notFoundError, recordWriteErrors } from '../responses.ts';
import { type AnyRoute, defineRoute, IdParams, ReasonBody, type RouteServices } from '../route.ts';

const tags = ['Public links 对外链接'];
const DAY_MS = 86_400_000;
const Token = z.string().regex(/^[A-Za-z0-9_-]{40,600}$/, 'Expected a link token');
export const publicUrl = (services: RouteServices) => services.config.CRM_PUBLIC_URL ?? `http://localhost:${services.config.PORT}`;
/** What issuing or opening a public link takes: the deps, the server's keys, the public URL links start with. */
export const linkDeps = (services: RouteServices) => ({ ...services.deps, keys: services.keys, publicUrl: publicUrl(services) });

/** What a public link opens, per purpose: the record kind whose scope and permission its issuer needs. */
const purposes: Record<string, { module: 'quotes'; resource: 'quotes' }> = { quote: { module: 'quotes', resource: 'quotes' } };

const IssuedLink = z.object({ linkId: z.string(), url: z.string().describe('The absolute URL to send; it carries the token'), expiresAt: z.string() }).meta({ id: 'IssuedPublicLink' });
const PublicQuote = z
  .object({
    quoteId: z.string(),
    version: z.number().int(),
    status: z.enum(['sent', 'accepted', 'rejected']),
    currency: z.string(),
    validUntil: z.string(),
    lines: z.array(z.object({ productId: z.string(), quantity: z.number(), unitPrice: z.number().int(), discountPercent: z.number(), taxRate: z.number(), net: z.number().int(), tax: z.number().int(), total: z.number().int() })),
    totals: z.object({ net: z.number().int(), tax: z.number().int(), total: z.number().int() }),
  })
  .meta({ id: 'PublicQuote' });

export const publicLinkRoutes: AnyRoute[] = [
  defineRoute({
    method: 'post',
    path: '/api/v1/quotes/:id/share',
    summary: 'A link the customer opens without an account to read the sent quote (expires; revocable)',
    description: 'Answers the absolute URL (CRM_PUBLIC_URL + /api/v1/public/quotes/<token>). Only a sent quote can be shared (409 quote.not_sent).',
    tags,
    params: IdParams,
    body: z.object({ validDays: z.number().int().min(1).max(90).default(30) }).strict(),
    responses: { 201: { description: 'Shared', schema: IssuedLink }, ...recordWriteErrors },
    async handler({ params, body, actor, services, meta }) {
      authorize(actor, 'quotes', 'edit');
      const { state } = await recordInScope<QuoteState>(services, actor, 'quotes', params.id);
      if (state.status !== 'sent') throw new DomainError('quote.not_sent', `A ${state.status} quote cannot be shared; send it first`, { quoteId: params.id });
      const link = await issuePublicLink(linkDeps(services), { purpose: 'quote', path: '/api/v1/public/quotes', subjectId: params.id, validForMs: body.validDays * DAY_MS }, actor, meta);
      return { status: 201, body: { linkId: link.linkId, url: link.url, expiresAt: link.expiresAt }, headers: { 'X-Position': String(link.position) } };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/api/v1/public-links/:id/revoke',
    summary: 'Withdraw a public link: it stops working at once',
    tags,
    params: IdParams,
    body: ReasonBody,
    responses: { 200: { description: 'Revoked', schema: z.object({ id: z.string(), revoked: z.literal(true) }) }, ...recordWriteErrors },
    async handler({ params, body, actor, services, meta }) {
      const link = await publicLink(services.deps, params.id);
      const purpose = link.status === 'none' ? undefined : purposes[link.purpose];
      if (link.status === 'none' || !purpose) throw notFound('public_link', params.id);
      authorize(actor, purpose.module, 'edit');
      // The link is the issuer's record's: someone who may not see that record gets 404, as if the link did not exist.
      await recordInScope(services, actor, purpose.resource, link.subjectId).catch(() => {
        throw notFound('public_link', params.id);
      });
      const result = await revokePublicLink(services.deps, params.id, body.reason, actor, meta);
      return { status: 200, body: { id: params.id, revoked: true as const }, headers: { 'X-Position': String(result.position) } };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/public/quotes/:token',
    auth: false,
    reads: [],
    summary: 'A shared quote, as the customer sees it (no account; the link must be open)',
    description: 'Internal fields (notes, custom fields, owner, opportunity) are never shown. A link that was never issued, was altered, expired or was revoked answers 404 public_link.not_found.',
    tags,
    params: z.object({ token: Token }),
    responses: { 200: { description: 'The quote', schema: PublicQuote }, ...commonErrors, ...notFoundError },
    async handler({ params, services }) {
      const opened = await openPublicLink({ ...services.deps, keys: services.keys }, 'quote', params.token);
      const { state } = await load(services.deps, quoteDecider, quoteStream(opened.subjectId));
      if (state.status === 'none' || state.status === 'draft') throw notFound('public_link', opened.linkId);
      const { version, lines, totals, validUntil } = state.current;
      return {
        status: 200,
        body: {
          quoteId: state.quoteId,
          version,
          status: state.status,
          currency: state.currency,
          validUntil,
          lines: lines.map(({ productId, quantity, unitPrice, discountPercent, taxRate, net, tax, total }) => ({ productId, quantity, unitPrice, discountPercent, taxRate, net, tax, total })),
          totals,
        },
        headers: { 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' },
      };
    },
  }),
];
