import { z } from 'zod';
import { authorize } from '../../commands/authorization.ts';
import { HttpProblem } from '../problem.ts';
import { commonErrors } from '../responses.ts';
import { type AnyRoute, defineRoute } from '../route.ts';

const Position = z.string().regex(/^\d{1,18}$/, 'Expected a position in the log (a whole number)');

const VerifyQuery = z
  .object({
    from: Position.optional().describe('First position to check (default: the start of the log)'),
    to: Position.optional().describe('Last position to check (default: the head of the log)'),
  })
  .strict();

const ChainBreak = z.object({
  position: z.number().int(),
  reason: z.enum(['payload_changed', 'link_broken', 'event_missing', 'event_unchained']),
});

const Verification = z
  .object({
    ok: z.boolean(),
    checked: z.number().int().describe('Positions checked'),
    expired: z.number().int().describe('Of those, events whose payload retention removed (their links checked)'),
    head: z.string().optional().describe("The last link checked (hex SHA-256): compare it with the day's anchor"),
    firstBreak: ChainBreak.optional(),
  })
  .meta({ id: 'ChainVerification' });

export const auditRoutes: AnyRoute[] = [
  defineRoute({
    method: 'get',
    path: '/api/v1/audit/verify',
    reads: [],
    summary: 'Verify the hash chain over the event log (auditors): every event unchanged, none removed, reordered or slipped in; the first break with its position',
    tags: ['Audit 审计'],
    query: VerifyQuery,
    responses: { 200: { description: 'The verification (ok false: see firstBreak)', schema: Verification }, ...commonErrors },
    async handler({ query, actor, services }) {
      authorize(actor, 'audit', 'view');
      if (!services.chain) throw new HttpProblem(501, 'audit.chain_unavailable', 'No hash chain', 'This event store keeps no hash chain; the embedded store does (see the README for EventStoreDB)');
      const from = query.from === undefined ? undefined : BigInt(query.from);
      const to = query.to === undefined ? undefined : BigInt(query.to);
      if (from !== undefined && to !== undefined && from > to) throw new HttpProblem(400, 'validation', 'Invalid request', 'from must not be after to', { errors: [{ path: 'query.from', message: 'After to' }] });
      const result = await services.chain.verifyChain({ ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) });
      return { status: 200, body: result };
    },
  }),
];
