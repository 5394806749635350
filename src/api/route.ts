import type Router from '@koa/router';
import { Readable } from 'node:stream';
import type { Context } from 'koa';
import { z } from 'zod';
import type { Actor, RequestMeta } from '../commands/context.ts';
import { requestFingerprint, runIdempotent, type StoredResponse } from '../commands/idempotency.ts';
import { assertReferencesInScope } from '../commands/references.ts';
import { authorize } from '../commands/authorization.ts';
import type { Action, Module } from '../domain/role/index.ts';
import type { Services } from '../app/wiring.ts';
import { assertWritable, redact, type ResponseShape } from './field-security.ts';
import { missingToken } from './middleware.ts';
import { HttpProblem, problemResponse, toProblem, validationProblem } from './problem.ts';

export interface RouteResult {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/**
 * What a route handler may use: the command deps and the read store; keys, tokens and limits for the credential
 * and cursor work; config and clock; the projection runner and the relay for the operations routes; background
 * work and request facts. Never the adapters themselves, their lifecycles or the integration state.
 */
export type RouteServices = Pick<Services, 'config' | 'clock' | 'deps' | 'readStore' | 'asOf' | 'keys' | 'tokens' | 'limits' | 'runner' | 'relay' | 'eventSource' | 'background' | 'backgroundOrWorker' | 'role' | 'leadership' | 'requestMeta' | 'notifications' | 'blobs' | 'mailer' | 'sms' | 'logger' | 'campaigns' | 'chain' | 'personalData' | 'erp' | 'kafka'>;

export interface RouteContext<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  actor: Actor;
  services: RouteServices;
  correlationId: string;
  /** Request facts for commands; for an idempotent retry, seeded exactly as on the first attempt. */
  meta: RequestMeta;
  /** The raw Koa context, for headers such as Accept. */
  koa: Context;
}

export interface ResponseSpec {
  description: string;
  schema?: z.ZodType;
  contentType?: string;
}

export interface RouteSpec<P = unknown, Q = unknown, B = unknown> {
  method: 'get' | 'post' | 'patch' | 'put' | 'delete';
  path: string;
  summary: string;
  description?: string;
  tags: string[];
  /**
   * The permission the route needs (module, action), declared as data: checked before the body's references are
   * looked up and before the handler runs, so a caller without it gets 403 whatever the request names. The
   * authorization matrix checks its rows against it. Routes whose permission depends on the request check it in
   * their handler.
   */
  permission?: readonly [Module, Action];
  /** Takes a multipart/form-data upload, which the handler reads from `koa` (every other route refuses one with 415). */
  upload?: boolean;
  /**
   * The body is data another system sent (the ERP's messages), judged by the handler message by message, not ids the
   * caller names: its `orderId`s and `customerId`s are not looked up in the caller's scope first. Only for routes
   * whose permission is an administrator's.
   */
  bodyIsData?: boolean;
  /** Default true: needs a bearer token. */
  auth?: boolean;
  params?: z.ZodType<P>;
  query?: z.ZodType<Q>;
  body?: z.ZodType<B>;
  /** false: an Idempotency-Key is ignored and the answer never stored (routes whose answers hold credentials). */
  idempotent?: boolean;
  /** Whether the route takes If-Match. */
  conditional?: boolean;
  /**
   * The read-model collections a GET route reads: `X-Min-Position` waits for their projections only, so a read
   * model that stopped never holds up the routes that do not read it. Default: every projection.
   */
  reads?: readonly string[];
  /** The resource whose field-level security applies to this route's answer (and shape of the answer). */
  fields?: { resource: string; shape?: ResponseShape; writes?: boolean };
  responses: Record<number, ResponseSpec>;
  handler(context: RouteContext<P, Q, B>): Promise<RouteResult>;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyRoute = RouteSpec<any, any, any>;

export const defineRoute = <P, Q, B>(spec: RouteSpec<P, Q, B>): RouteSpec<P, Q, B> => spec;

function parse<T>(schema: z.ZodType<T> | undefined, value: unknown, where: string): T {
  if (!schema) return undefined as T;
  const result = schema.safeParse(value);
  if (!result.success) throw validationProblem(result.error.issues, where === 'body' ? '' : where);
  return result.data;
}

export const MIN_POSITION_WAIT_MS = 5000;
export const MIN_POSITION_PATTERN = /^\d{1,18}$/;

/** `X-Min-Position` on a read: wait (bounded) until the projections behind the route's collections have applied it. */
async function readYourWrites(services: Services, header: string, projections: readonly string[] | undefined): Promise<void> {
  if (!header) return;
  if (!MIN_POSITION_PATTERN.test(header))
    throw new HttpProblem(400, 'validation', 'Invalid request', 'X-Min-Position must be a global position (a non-negative integer)', {
      errors: [{ path: 'X-Min-Position', message: 'Expected a non-negative integer' }],
    });
  if (projections?.length === 0) return;
  await services.runner.waitFor(BigInt(header), MIN_POSITION_WAIT_MS, projections);
}

export const IF_MATCH_PATTERN = /^\s*(?:\*|(?:W\/)?"?\d{1,15}"?)\s*$/;
export const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

/** `If-Match: "3"` (also W/"3" or 3) → 3n; `*` → undefined (any existing revision). */
function parseIfMatch(header: string | undefined): bigint | undefined {
  if (header === undefined || header.trim() === '*') return undefined;
  const match = IF_MATCH_PATTERN.test(header) ? /\d+/.exec(header) : null;
  if (!match) throw new HttpProblem(400, 'validation', 'Invalid request', 'If-Match must be a revision such as "3"', { errors: [{ path: 'If-Match', message: 'Expected "<revision>"' }] });
  return BigInt(match[0]);
}

const canonical = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v,
  ) ?? '';

function send(ctx: Context, response: StoredResponse): void {
  ctx.status = response.status;
  for (const [name, value] of Object.entries(response.headers)) ctx.set(name, value);
  const contentType = response.headers['Content-Type'];
  if (contentType) ctx.type = contentType;
  ctx.body = response.body;
  if (response.status >= 400) ctx.type = 'application/problem+json';
}

/** Mounts a route: validates params, query and body with its zod schemas and applies Idempotency-Key. */
export function mount(router: Router, services: Services, spec: AnyRoute): void {
  // The projections X-Min-Position waits for on this route (undefined: all of them).
  const readModels = spec.reads ? services.runner.projectionsReading(spec.reads) : undefined;
  router[spec.method](spec.path, async (ctx) => {
    // Whatever the middleware did, a route that needs an actor never runs, nor validates input, without one.
    if (spec.auth !== false && !ctx.state.actor) throw missingToken();
    if (!spec.upload && ctx.is('multipart/form-data'))
      throw new HttpProblem(415, 'unsupported_media_type', 'Unsupported media type', 'Send the body as application/json; only attachment uploads take multipart/form-data');
    const correlationId = String(ctx.state.correlationId);
    const params = parse(spec.params, ctx.params, 'params');
    const query = parse(spec.query, { ...ctx.query }, 'query');
    const rawBody: unknown = ctx.state.body;
    // A change (PATCH, PUT) says what to change: no body is a mistake, not "change nothing".
    if (spec.body && rawBody === undefined && (spec.method === 'patch' || spec.method === 'put'))
      throw new HttpProblem(400, 'validation', 'Invalid request', 'Send the change as a JSON body', { errors: [{ path: 'body', message: 'Required' }] });
    const body = parse(spec.body, rawBody ?? {}, 'body');
    const ifMatch = spec.conditional ? parseIfMatch(ctx.get('If-Match') || undefined) : undefined;
    if (spec.method === 'get') await readYourWrites(services, ctx.get('X-Min-Position'), readModels);
    // Public routes (auth: false) have no actor; their handlers do not read it.
    const actor = ctx.state.actor as Actor;
    if (spec.permission) authorize(actor, ...spec.permission);
    if (spec.fields?.writes) assertWritable(actor, spec.fields.resource, body);
    // Every id a write sends that names a scoped record must be in the caller's scope (404 otherwise).
    if (spec.method !== 'get' && actor && !spec.bodyIsData) await assertReferencesInScope(services.deps, actor, body);
    const run = async (seed?: { seed: string; timeMs: number }): Promise<StoredResponse> => {
      const result = await spec.handler({
        params,
        query,
        body,
        actor,
        services,
        correlationId,
        meta: { ...services.requestMeta(correlationId, seed, ifMatch), traceId: String(ctx.state.traceId) },
        koa: ctx,
      });
      const shape = spec.fields?.shape;
      // (A stream, an export, was written with the caller's columns already.)
      const visible = shape && result.status === 200 && typeof result.body === 'object' && !(result.body instanceof Readable) ? redact(actor, spec.fields!.resource, shape, result.body) : result.body;
      return { status: result.status, body: visible, headers: result.headers ?? {} };
    };
    const key = ctx.get('Idempotency-Key');
    // Credential routes never keep their answers (they hold tokens): a key sent to them is ignored.
    if (spec.method !== 'post' || !key || spec.idempotent === false) return send(ctx, await run());
    if (!IDEMPOTENCY_KEY_PATTERN.test(key))
      throw new HttpProblem(400, 'validation', 'Invalid request', 'Idempotency-Key must be 1 to 255 visible ASCII characters', {
        errors: [{ path: 'Idempotency-Key', message: 'Expected 1 to 255 visible ASCII characters' }],
      });
    const fingerprint = requestFingerprint((data) => services.keys.hmac('idempotency', data), spec.method, ctx.path, canonical(rawBody ?? null), ctx.get('If-Match'));
    const ttlMs = services.config.CRM_IDEMPOTENCY_TTL_HOURS * 3600_000;
    const response = await runIdempotent(services.deps, { userId: actor.userId, key, fingerprint, correlationId, ttlMs }, async (seed, timeMs) => {
      try {
        return await run({ seed, timeMs });
      } catch (error) {
        const { problem, unexpected } = toProblem(error);
        if (unexpected) throw error;
        return problemResponse(problem, correlationId);
      }
    });
    if (response.replayed) ctx.set('Idempotent-Replayed', 'true');
    send(ctx, response);
  });
}

/** The answer to a successful write: `{ id, revision }` with ETag, X-Position and, on create, Location. */
export function written(result: { revision: bigint; position: bigint }, id: string, location?: string): RouteResult {
  return {
    status: location ? 201 : 200,
    body: { id, revision: Number(result.revision) },
    headers: {
      ETag: `"${result.revision}"`,
      'X-Position': String(result.position),
      ...(location ? { Location: location } : {}),
    },
  };
}

export const WriteResult = z.object({ id: z.string(), revision: z.number().int() }).meta({ id: 'WriteResult', examples: [{ id: '0193a4c2-7f3e-7b1a-9c1d-2f4e6a8b0c11', revision: 0 }] });
export const Id = z.uuid('Expected a UUID');
export const IdParams = z.object({ id: Id });
/** Bodies of commands on one record: none, a reason, a new owner. */
export const EmptyBody = z.object({}).strict();
export const ReasonBody = z.object({ reason: z.string().trim().min(1).max(500) }).strict();
export const AssignBody = z.object({ ownerId: Id }).strict();
