import { z } from 'zod';
/** `If-Match` named a revision the stream has moved past (HTTP 412). */
export class PreconditionFailedError extends Error {
  constructor(
    readonly streamId: string,
    readonly expected: bigint,
    readonly actual: bigint,
  ) {
    super(`The record changed: you based your change on revision ${expected}, it is now at revision ${actual}`);
    this.name = 'PreconditionFailedError';
  }
}

/** Concurrent writers kept winning even after a retry (HTTP 409, code concurrency.conflict). */
export class ConcurrencyConflictError extends Error {
  constructor(readonly streamId: string) {
    super(`Stream ${streamId} was changed concurrently; retry the request`);
    this.name = 'ConcurrencyConflictError';
  }
}

/** A 400 naming the field, as a body that breaks its schema gets (for what only a command can check: an unknown kind, a time in the past). */
export const invalidField = (path: string, message: string, input: unknown) => new z.ZodError([{ code: 'custom', path: [path], message, input }]);
