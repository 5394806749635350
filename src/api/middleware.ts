import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context, Next } from 'koa';
import { resolveActor } from '../commands/access.ts';
import { getEmployee, passwordStamp } from '../commands/employees.ts';
import type { Logger } from '../infra/logger.ts';
import { entropyPool } from '../infra/ids.ts';
import type { Services } from '../app/wiring.ts';
import type { Metrics } from './metrics.ts';
import { HttpProblem, problemResponse, toProblem } from './problem.ts';

export const MAX_BODY_BYTES = 1024 * 1024;
const CORRELATION = /^[\w.:-]{1,100}$/;
/** W3C Trace Context, version 00: trace-id, parent-id, flags. */
export const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The trace a `traceparent` header names (version 00, ids not all zeros), or a new one, sampled. */
export function traceOf(header: string | undefined, random: (bytes: number) => Buffer = randomBytes): { traceId: string; flags: string } {
  const match = header ? TRACEPARENT.exec(header.trim()) : null;
  if (match && !/^0+$/.test(match[1]!) && !/^0+$/.test(match[2]!)) return { traceId: match[1]!, flags: match[3]! };
  return { traceId: random(16).toString('hex'), flags: '01' };
}

/** Correlation id, a logger bound to it, the access log line and request metrics. */
export function requestContext(services: Services, metrics: Metrics) {
  // Trace and span ids from pooled entropy: two calls to the system per request cost 3 % of a create's time.
  const random = entropyPool();
  return async (ctx: Context, next: Next) => {
    const started = process.hrtime.bigint();
    const given = ctx.get('X-Correlation-Id');
    const correlationId = CORRELATION.test(given) ? given : services.requestMeta('').requestId;
    ctx.state.correlationId = correlationId;
    // W3C Trace Context: the caller's trace goes on (a new one begins without it); this request is a span of it.
    const trace = traceOf(ctx.get('traceparent'), random);
    ctx.state.traceId = trace.traceId;
    ctx.state.logger = services.logger.child({ correlationId, traceId: trace.traceId });
    ctx.set('X-Correlation-Id', correlationId);
    ctx.set('traceparent', `00-${trace.traceId}-${random(8).toString('hex')}-${trace.flags}`);
    try {
      await next();
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = (ctx as Context & { _matchedRoute?: string })._matchedRoute ?? 'unmatched';
      metrics.inc('http_requests_total', 'HTTP requests by method, route and status', { method: ctx.method, route: String(route), status: String(ctx.status) });
      metrics.observe('http_request_duration_seconds', 'HTTP request duration by method, route and status', { method: ctx.method, route: String(route), status: String(ctx.status) }, seconds);
      // One line per request: never its body, query string or headers (they may hold secrets or personal data).
      (ctx.state.logger as Logger).info('request', {
        method: ctx.method,
        route: String(route),
        path: ctx.path,
        status: ctx.status,
        durationMs: Math.round(seconds * 1e6) / 1e3,
        ...(ctx.state.actor ? { actorId: ctx.state.actor.userId } : {}),
      });
    }
  };
}

/** Every failure becomes application/problem+json; a 5xx never carries internals. */
export function problems() {
  return async (ctx: Context, next: Next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined)
        throw new HttpProblem(404, 'not_found', 'Not found', `No route for ${ctx.method} ${ctx.path}`);
      if (ctx.status === 405 && (ctx.body === undefined || typeof ctx.body === 'string'))
        throw new HttpProblem(405, 'method_not_allowed', 'Method not allowed', `${ctx.method} is not allowed on ${ctx.path}`, {}, { Allow: ctx.response.get('Allow') });
    } catch (error) {
      const { problem, unexpected } = toProblem(error);
      if (unexpected) (ctx.state.logger as Logger | undefined)?.error('unhandled error', { error });
      const response = problemResponse(problem, String(ctx.state.correlationId ?? ''));
      ctx.status = response.status;
      for (const [name, value] of Object.entries(response.headers)) ctx.set(name, value);
      ctx.body = response.body;
      ctx.type = 'application/problem+json';
    }
  };
}

const tooLarge = () => new HttpProblem(413, 'payload_too_large', 'Body too large', `The request body exceeds ${MAX_BODY_BYTES} bytes (1 MiB)`);

async function readBody(ctx: Context): Promise<string> {
  const declared = Number(ctx.get('Content-Length') || 0);
  if (declared > MAX_BODY_BYTES) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw tooLarge();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** How deep a JSON body may nest; no request of this API needs more, and deeper ones only cost stack. */
export const MAX_JSON_DEPTH = 32;

/**
 * What makes a parsed body unsafe to process, walked without recursion: nesting deeper than MAX_JSON_DEPTH, or a
 * string (value or key) holding a lone UTF-16 surrogate, which no valid text contains and which breaks hashing,
 * storage and logs downstream.
 */
export function unsafeJson(value: unknown): { path: string; message: string } | undefined {
  const stack: { value: unknown; path: string; depth: number }[] = [{ value, path: '', depth: 0 }];
  while (stack.length) {
    const { value: item, path, depth } = stack.pop()!;
    if (typeof item === 'string') {
      if (!item.isWellFormed()) return { path, message: 'Text holds a lone UTF-16 surrogate (not valid Unicode)' };
      continue;
    }
    if (!item || typeof item !== 'object') continue;
    if (depth >= MAX_JSON_DEPTH) return { path, message: `The body nests deeper than ${MAX_JSON_DEPTH} levels` };
    for (const [key, inner] of Object.entries(item)) {
      if (!key.isWellFormed()) return { path, message: 'A field name holds a lone UTF-16 surrogate (not valid Unicode)' };
      stack.push({ value: inner, path: path ? `${path}.${key}` : key, depth: depth + 1 });
    }
  }
  return undefined;
}

/** JSON bodies only, at most 1 MiB; malformed JSON → 400, another content type → 415. */
export function jsonBody() {
  return async (ctx: Context, next: Next) => {
    if (!['POST', 'PUT', 'PATCH', 'DELETE'].includes(ctx.method)) return next();
    const hasBody = Number(ctx.get('Content-Length') || 0) > 0 || ctx.get('Transfer-Encoding') !== '';
    if (!hasBody) return next();
    // A file upload is read by the route that takes one (and refused with 415 by every other).
    if (ctx.is('multipart/form-data')) return next();
    // A public page's form (the unsubscribe page) and one-click unsubscribe (RFC 8058) post a form.
    if (ctx.path.startsWith(PUBLIC_PREFIX) && ctx.is('application/x-www-form-urlencoded')) {
      ctx.state.body = Object.fromEntries(new URLSearchParams(await readBody(ctx)));
      return next();
    }
    // A delivery status notification comes as the mail it is (multipart/report, message/*) or as plain text.
    if (ctx.path === DSN_PATH && ctx.is('multipart/report', 'message/*', 'text/plain')) {
      ctx.state.body = await readBody(ctx);
      return next();
    }
    if (!ctx.is('application/json', '+json'))
      throw new HttpProblem(415, 'unsupported_media_type', 'Unsupported media type', `Send the body as application/json, not ${ctx.get('Content-Type') || 'without a Content-Type'}`);
    const text = await readBody(ctx);
    if (text.trim() === '') return next();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (error) {
      throw new HttpProblem(400, 'malformed_json', 'Malformed JSON', `The body is not valid JSON: ${(error as Error).message}`);
    }
    const problem = unsafeJson(body);
    if (problem) throw new HttpProblem(400, 'malformed_json', 'Malformed JSON', problem.message, { errors: [{ path: problem.path, message: problem.message }] });
    ctx.state.body = body;
    return next();
  };
}

/** Where bounce reports (RFC 3464) are posted, as raw mail text. */
export const DSN_PATH = '/api/v1/mail/dsn';

/** Public links (survey answers, tracking pixels, unsubscribe) live here and carry their own signed tokens. */
export const PUBLIC_PREFIX = '/api/v1/public/';

/** The exact paths of the routes that need no token (`auth: false`), e.g. the login. */
export const publicPaths = (routes: readonly { path: string; auth?: boolean }[]): ReadonlySet<string> =>
  new Set(routes.filter((route) => route.auth === false).map((route) => route.path));

/** Any path under /api (in any letter case, so no spelling of it slips past) needs a token unless it is public. */
export const needsToken = (path: string, publicRoutes: ReadonlySet<string>): boolean =>
  /^\/+api(?:\/|$)/i.test(path) && !publicRoutes.has(path) && !path.startsWith(PUBLIC_PREFIX);

export const unauthorized = (detail: string) => new HttpProblem(401, 'unauthorized', 'Not authenticated', detail, {}, { 'WWW-Authenticate': 'Bearer' });
export const missingToken = () => unauthorized('Send Authorization: Bearer <token>; get a token from POST /api/v1/auth/login');

/** The token of an `Authorization: Bearer <token>` header, if it has one. */
/** Compares a secret without leaking, through timing, how much of it matched. */
export function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

export const bearerToken = (ctx: Context): string | undefined => /^Bearer\s+(\S+)$/i.exec(ctx.get('Authorization'))?.[1];
/** What an account that must change its password may still do. */
const WHILE_PASSWORD_EXPIRED = new Set(['/api/v1/auth/change-password', '/api/v1/me']);

/**
 * Bearer token → the actor. The employee and their roles are read on every request, so disabling an account,
 * resetting or changing its password, or changing its roles takes effect at once. A request that fails here is
 * not answered yet: `requireActor` refuses it after the rate limit has counted it by its address.
 */
export function authenticate(services: Services, publicRoutes: ReadonlySet<string>) {
  return async (ctx: Context, next: Next) => {
    if (!needsToken(ctx.path, publicRoutes)) return next();
    try {
      ctx.state.actor = await actorOf(services, ctx);
    } catch (error) {
      if (!(error instanceof HttpProblem)) throw error;
      ctx.state.authFailure = error;
    }
    return next();
  };
}

async function actorOf(services: Services, ctx: Context) {
  const token = bearerToken(ctx);
  if (!token) throw missingToken();
  const claims = services.tokens.verify(token, services.clock.now());
  if (!claims) throw unauthorized('The token is invalid or has expired; log in again');
  const employee = await getEmployee(services.deps, claims.sub);
  if (!employee?.account) throw unauthorized('The account of this token no longer exists');
  if (employee.status === 'disabled') throw unauthorized('This account is disabled');
  if (passwordStamp(employee.account) !== claims.pwd) throw unauthorized('The password was changed since this token was issued; log in again');
  const actor = await resolveActor(services.deps, employee);
  if (employee.account.mustChangePassword && !WHILE_PASSWORD_EXPIRED.has(ctx.path))
    throw new HttpProblem(403, 'auth.password_change_required', 'Password change required', 'Change your password with POST /api/v1/auth/change-password first');
  return actor;
}

/** Answers the failure `authenticate` found (401, or 403 while a password must be changed). */
export function requireActor() {
  return async (ctx: Context, next: Next) => {
    if (ctx.state.authFailure) throw ctx.state.authFailure as HttpProblem;
    return next();
  };
}

/**
 * Optional fixed-window rate limit (CRM_RATE_LIMIT_PER_MINUTE; 0 turns it off), per authenticated employee, or
 * per client address for requests without a valid token; never by the raw Authorization header, which a
 * client could vary at will. The public routes have a limit of their own per address (CRM_PUBLIC_RATE_LIMIT_PER_MINUTE).
 */
export function rateLimit(services: Services) {
  return async (ctx: Context, next: Next) => {
    if (!ctx.path.startsWith('/api/')) return next();
    // The public routes (no account: a link is the key) are limited per client address, always.
    if (ctx.path.startsWith('/api/v1/public/')) {
      const wait = services.limits.publicRequests.hit(`public:${ctx.ip}`);
      if (wait !== undefined)
        throw new HttpProblem(429, 'too_many_requests', 'Too many requests', `At most ${services.limits.publicRequests.limit} requests a minute to public links; retry in ${wait} s`, {}, { 'Retry-After': String(wait) });
    }
    const actor = ctx.state.actor as { userId: string } | undefined;
    const retryAfter = services.limits.requests.hit(actor ? `employee:${actor.userId}` : `address:${ctx.ip}`);
    if (retryAfter !== undefined)
      throw new HttpProblem(429, 'too_many_requests', 'Too many requests', `At most ${services.limits.requests.limit} requests a minute; retry in ${retryAfter} s`, {}, { 'Retry-After': String(retryAfter) });
    return next();
  };
}
