import { ProblemSchema } from './problem.ts';

/** OpenAPI response entries shared by every resource. */
export const problem = (description: string) => ({ description, schema: ProblemSchema, contentType: 'application/problem+json' });

export const commonErrors = {
  400: problem('Invalid input'),
  401: problem('No or bad token'),
  403: problem('Not allowed'),
};
export const notFoundError = { 404: problem('Unknown, or outside your data scope') };
export const conflictError = { 409: problem('Refused by a business rule (see code)') };
export const staleError = { 412: problem('If-Match is stale') };
export const goneError = { 410: problem('No longer available (expired, or replaced by a newer one)') };

/**
 * The problem answers a route can give because of how the service handles every request, whatever the route
 * declares: the OpenAPI document lists them for each operation, so it cannot drift from what is answered.
 */
export function generatedProblems(route: { method: string; auth?: boolean; params?: unknown; body?: unknown; conditional?: boolean; idempotent?: boolean }): Record<number, ReturnType<typeof problem> | undefined> {
  const api = route.auth !== false;
  const write = route.method !== 'get';
  return {
    400: problem('Invalid input: a parameter, the body or a header (X-Min-Position, If-Match, Idempotency-Key) is malformed'),
    ...(api ? { 401: problem('No or bad token'), 403: problem('Not allowed: a permission, a read-only field, or a password that must be changed first') } : {}),
    ...(route.params || (write && route.body) ? notFoundError : {}),
    ...(write ? { ...conflictError, 413: problem('Body over 1 MiB'), 415: problem('Body not application/json') } : {}),
    ...(route.conditional ? staleError : {}),
    ...(route.method === 'post' && route.idempotent !== false && api ? { 422: problem('Idempotency-Key reused with another request') } : {}),
    429: problem('Too many requests; see Retry-After'),
    431: problem('The URL and headers together exceed 16 KiB'),
    503: problem('A store is unavailable, or the read models have not reached X-Min-Position; see Retry-After'),
  };
}

/** The answers of a write to an existing record. */
export const recordWriteErrors = { ...commonErrors, ...notFoundError, ...conflictError, ...staleError };
