import { ProblemSchema } from './problem.ts';

/** OpenAPI response entries shared by every resource. */
const problem = (description: string) => ({ description, schema: ProblemSchema, contentType: 'application/problem+json' });

export const commonErrors = {
  400: problem('Invalid input'),
  401: problem('No or bad token'),
  403: problem('Not allowed'),
};
export const notFoundError = { 404: problem('Unknown, or outside your data scope') };
export const conflictError = { 409: problem('Refused by a business rule (see code)') };
export const staleError = { 412: problem('If-Match is stale') };

/** The answers of a write to an existing record. */
export const recordWriteErrors = { ...commonErrors, ...notFoundError, ...conflictError, ...staleError };
