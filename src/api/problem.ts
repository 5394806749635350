import { z } from 'zod';
import { AsOfBusyError } from '../projections/as-of.ts';
import { EscalationError } from '../commands/access.ts';
import { ForbiddenError } from '../commands/authorization.ts';
import { CustomFieldsInvalidError } from '../commands/custom-fields.ts';
import { UnknownFieldsError } from '../commands/customization.ts';
import { LoginThrottledError } from '../commands/employees.ts';
import { ConcurrencyConflictError, PreconditionFailedError } from '../commands/errors.ts';
import { IdempotencyInProgressError, IdempotencyKeyReusedError } from '../commands/idempotency.ts';
import { DomainError, isGone, isNotFound } from '../domain/shared/errors.ts';
import { AppendTooLargeError, EventStoreOutcomeUnknownError, EventStoreUnavailableError, StreamDeletedError } from '../infra/eventstore/port.ts';
import { ReadStoreUnavailableError } from '../infra/readstore/port.ts';
import { InvalidCursorError } from '../projections/paging.ts';
import { MinPositionTimeoutError, ProjectionFailedError, ProjectionStateError } from '../projections/runner.ts';

/** An RFC 9457 problem, answered as application/problem+json. */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly title: string,
    detail: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
    this.name = 'HttpProblem';
  }
}

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    code: z.string().describe('Stable machine-readable code, e.g. validation, customer.duplicate'),
    detail: z.string(),
    correlationId: z.string().optional(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  // A problem may carry more members that say what was wrong (e.g. currentRevision, fields, existingCustomerId).
  .catchall(z.unknown())
  .meta({
    id: 'Problem',
    examples: [{ type: 'https://errors.crm.local/validation', title: 'Invalid request', status: 400, code: 'validation', detail: '1 field is invalid', errors: [{ path: 'name', message: 'Required' }], correlationId: '0193a4c2-7f3e-7b1a-9c1d-2f4e6a8b0c12' }],
  });

export interface ProblemResponse {
  status: number;
  body: Record<string, unknown>;
  headers: Record<string, string>;
}

const typeFor = (code: string) => `https://errors.crm.local/${code.replace(/[._]/g, '-')}`;

export const validationProblem = (issues: z.core.$ZodIssue[], where = ''): HttpProblem => {
  const errors = issues.flatMap((issue) => {
    const base = [where, ...issue.path.map(String)].filter(Boolean).join('.');
    if (issue.code === 'unrecognized_keys')
      return issue.keys.map((key) => ({ path: [base, key].filter(Boolean).join('.'), message: 'Unknown field' }));
    return [{ path: base, message: issue.message }];
  });
  return new HttpProblem(400, 'validation', 'Invalid request', `${errors.length} field${errors.length === 1 ? ' is' : 's are'} invalid`, { errors });
};

/** Maps any error to the problem the client receives. Unknown errors become a 500 without internals. */
export function toProblem(error: unknown): { problem: HttpProblem; unexpected: boolean } {
  if (error instanceof HttpProblem) return { problem: error, unexpected: false };
  if (error instanceof z.ZodError) return { problem: validationProblem(error.issues), unexpected: false };
  if (error instanceof UnknownFieldsError)
    return { problem: new HttpProblem(400, 'validation', 'Invalid request', error.message, { errors: error.problems }), unexpected: false };
  if (error instanceof CustomFieldsInvalidError) return { problem: validationProblem(error.issues, 'custom'), unexpected: false };
  if (error instanceof DomainError) {
    const status = isNotFound(error) ? 404 : isGone(error) ? 410 : 409;
    return {
      problem: new HttpProblem(status, error.code, status === 404 ? 'Not found' : status === 410 ? 'No longer available' : 'Refused by a business rule', error.message, error.details),
      unexpected: false,
    };
  }
  if (error instanceof PreconditionFailedError)
    return {
      problem: new HttpProblem(412, 'precondition_failed', 'The record has changed', error.message, { currentRevision: Number(error.actual) }),
      unexpected: false,
    };
  if (error instanceof ConcurrencyConflictError)
    return { problem: new HttpProblem(409, 'concurrency.conflict', 'Concurrent change', error.message), unexpected: false };
  if (error instanceof ForbiddenError)
    return {
      problem: new HttpProblem(403, 'forbidden', 'Not allowed', error.message, { module: error.module, action: error.action }),
      unexpected: false,
    };
  if (error instanceof EscalationError)
    return { problem: new HttpProblem(403, 'forbidden.escalation', 'Not allowed', error.message), unexpected: false };
  if (error instanceof IdempotencyKeyReusedError)
    return { problem: new HttpProblem(422, 'idempotency.key_reused', 'Idempotency key reused', error.message), unexpected: false };
  if (error instanceof IdempotencyInProgressError)
    return {
      problem: new HttpProblem(409, 'idempotency.in_progress', 'Request in progress', error.message, {}, { 'Retry-After': String(error.retryAfterSeconds) }),
      unexpected: false,
    };
  if (error instanceof LoginThrottledError)
    return {
      problem: new HttpProblem(429, 'auth.throttled', 'Too many failed logins', error.message, {}, { 'Retry-After': String(error.retryAfterSeconds) }),
      unexpected: false,
    };
  if (error instanceof ReadStoreUnavailableError)
    return {
      problem: new HttpProblem(503, 'read_store_unavailable', 'Temporarily unavailable', 'The read models cannot be reached right now; nothing was lost, try again shortly', {}, { 'Retry-After': '2' }),
      unexpected: false,
    };
  if (error instanceof EventStoreOutcomeUnknownError)
    return {
      problem: new HttpProblem(503, 'event_store.outcome_unknown', 'Outcome unknown', 'The event store did not confirm the change in time; it may or may not have been made. Repeat the request with the same Idempotency-Key, or read the record before trying again', {}, { 'Retry-After': '2' }),
      unexpected: false,
    };
  if (error instanceof AppendTooLargeError)
    return { problem: new HttpProblem(413, 'event_store.append_too_large', 'Change too large', 'The change is larger than the event store takes in one write; send it in smaller parts'), unexpected: false };
  if (error instanceof StreamDeletedError)
    return { problem: new HttpProblem(410, 'event_store.stream_deleted', 'Gone', 'The record was deleted in the event store'), unexpected: false };
  if (error instanceof EventStoreUnavailableError)
    return {
      problem: new HttpProblem(503, 'event_store_unavailable', 'Temporarily unavailable', 'The event store cannot be reached right now; nothing was written, try again shortly', {}, { 'Retry-After': '2' }),
      unexpected: false,
    };
  if (error instanceof InvalidCursorError)
    return { problem: new HttpProblem(400, 'validation', 'Invalid request', error.message, { errors: [{ path: 'cursor', message: error.message }] }), unexpected: false };
  if (error instanceof AsOfBusyError)
    return { problem: new HttpProblem(503, 'report.as_of_busy', 'Busy', error.message, {}, { 'Retry-After': '5' }), unexpected: false };
  if (error instanceof ProjectionFailedError)
    return { problem: new HttpProblem(503, 'projection_failed', 'Read model stopped', error.message, {}, { 'Retry-After': '30' }), unexpected: false };
  if (error instanceof ProjectionStateError)
    return { problem: new HttpProblem(error.code === 'projection.not_found' ? 404 : 409, error.code, error.code === 'projection.not_found' ? 'Not found' : 'Refused', error.message), unexpected: false };
  if (error instanceof MinPositionTimeoutError)
    return {
      problem: new HttpProblem(503, 'not_ready', 'Read models are behind', error.message, {}, { 'Retry-After': '1' }),
      unexpected: false,
    };
  return {
    problem: new HttpProblem(500, 'internal', 'Internal error', 'An unexpected error occurred; it has been logged with the correlation id'),
    unexpected: true,
  };
}

export function problemResponse(problem: HttpProblem, correlationId: string): ProblemResponse {
  return {
    status: problem.status,
    headers: problem.headers,
    body: {
      type: typeFor(problem.code),
      title: problem.title,
      status: problem.status,
      code: problem.code,
      detail: problem.message,
      ...problem.extra,
      correlationId,
    },
  };
}
