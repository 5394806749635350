import { type BulkWriteResult, MongoBulkWriteError, MongoNetworkError, MongoServerError, MongoServerSelectionError } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { isUnavailable, translated } from '../../src/infra/readstore/mongo-errors.ts';
import { DuplicateKeyError, ReadStoreUnavailableError } from '../../src/infra/readstore/port.ts';

const noResult = {} as BulkWriteResult;
const noTopology = {} as ConstructorParameters<typeof MongoServerSelectionError>[1];

describe('MongoDB driver errors', () => {
  it('an unreachable server, a closed connection or a server shutting down is "unavailable", to be retried', () => {
    expect(isUnavailable(new MongoNetworkError('connection 1 to 127.0.0.1:27017 closed'))).toBe(true);
    expect(isUnavailable(new MongoServerSelectionError('connect ECONNREFUSED 127.0.0.1:27017', noTopology))).toBe(true);
    expect(isUnavailable(new MongoServerError({ code: 11600, errmsg: 'interrupted at shutdown' }))).toBe(true);
    expect(isUnavailable(new MongoServerError({ code: 10107, errmsg: 'not primary' }))).toBe(true);
    expect(isUnavailable(new MongoServerError({ code: 1, errmsg: 'x', errorLabels: ['RetryableWriteError'] }))).toBe(true);
  });

  it('the retryable server codes and the driver\'s retryable and overload labels are "unavailable"', () => {
    for (const code of [262, 50, 64, 134, 11601, 24]) expect([code, isUnavailable(new MongoServerError({ code, errmsg: 'x' }))]).toEqual([code, true]);
    for (const label of ['RetryableError', 'SystemOverloadedError', 'ResetPool', 'PoolRequestedRetry']) expect([label, isUnavailable(new MongoServerError({ code: 1, errmsg: 'x', errorLabels: [label] }))]).toEqual([label, true]);
    expect(isUnavailable(new MongoServerError({ code: 1, errmsg: 'x', errorLabels: ['TransientTransactionError'] }))).toBe(false);
  });

  it('a bulk write cut off by a closed connection is "unavailable", not a failed write', () => {
    const cutOff = new MongoBulkWriteError(new MongoNetworkError('connection 1 to 127.0.0.1:27017 closed'), noResult);
    expect(translated('customers', cutOff)).toBeInstanceOf(ReadStoreUnavailableError);
  });

  it('a rejected document stays an error; a duplicate key, in a bulk write or not, becomes DuplicateKeyError', () => {
    const badDocument = new MongoServerError({ code: 2, errmsg: 'unknown operator: $foo' });
    expect(isUnavailable(badDocument)).toBe(false);
    expect(translated('customers', badDocument)).toBe(badDocument);
    const duplicate = new MongoBulkWriteError({ message: 'E11000 duplicate key error collection: crm.customers index: taxId_1', code: 11000, writeErrors: [] }, noResult);
    expect(translated('customers', duplicate)).toBeInstanceOf(DuplicateKeyError);
    const sqlite = new MongoServerError({ code: 1, errmsg: "UNIQUE constraint failed: index 'customers_taxId_1'" });
    expect(translated('customers', sqlite)).toMatchObject({ index: 'customers_taxId_1' });
  });
});
