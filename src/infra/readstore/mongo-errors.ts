import {
  MongoBulkWriteError,
  MongoError,
  MongoErrorLabel,
  MongoNetworkError,
  MongoNotConnectedError,
  MongoServerError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
} from 'mongodb';
import { DuplicateKeyError, ReadStoreUnavailableError } from './port.ts';

/**
 * Server answers that mean "not now" rather than "wrong": the server is shutting down, stepping down or cannot
 * reach its peers (the codes MongoDB's drivers treat as retryable).
 */
const TRANSIENT_CODES = new Set([
  6, // HostUnreachable
  7, // HostNotFound
  89, // NetworkTimeout
  91, // ShutdownInProgress
  189, // PrimarySteppedDown
  9001, // SocketException
  10107, // NotWritablePrimary
  11600, // InterruptedAtShutdown
  11602, // InterruptedDueToReplStateChange
  13435, // NotPrimaryNoSecondaryOk
  13436, // NotPrimaryOrSecondary
  262, // ExceededTimeLimit
  50, // MaxTimeMSExpired
  64, // WriteConcernFailed
  134, // ReadConcernMajorityNotAvailableYet
  11601, // Interrupted
  24, // LockTimeout
]);

/** The driver's labels for "try again": retryable writes and reads, an overloaded server. */
const TRANSIENT_LABELS = [MongoErrorLabel.RetryableWriteError, MongoErrorLabel.RetryableError, MongoErrorLabel.SystemOverloadedError, MongoErrorLabel.ResetPool, MongoErrorLabel.PoolRequestedRetry];

/** Whether the error says the server cannot be used just now (a retry later can succeed). */
export function isUnavailable(error: unknown): boolean {
  if (
    error instanceof MongoNetworkError ||
    error instanceof MongoServerSelectionError ||
    error instanceof MongoNotConnectedError ||
    error instanceof MongoTopologyClosedError
  )
    return true;
  // A bulk write that failed on the connection rather than on a document wraps the driver's error.
  if (error instanceof MongoBulkWriteError && error.errorResponse instanceof MongoError) return isUnavailable(error.errorResponse);
  if (!(error instanceof MongoError)) return false;
  if (TRANSIENT_LABELS.some((label) => error.hasErrorLabel(label))) return true;
  return error instanceof MongoServerError && typeof error.code === 'number' && TRANSIENT_CODES.has(error.code);
}

/**
 * Turns an unreachable server into ReadStoreUnavailableError and a duplicate-key error into DuplicateKeyError;
 * anything else passes through. MongoDB answers code 11000; FerretDB v1 (SQLite backend) answers an update that
 * breaks a unique index with code 1 and SQLite's "UNIQUE constraint failed: index '…'" in the message.
 */
export function translated(collection: string, error: unknown): unknown {
  if (isUnavailable(error)) return new ReadStoreUnavailableError(error);
  if (!(error instanceof MongoServerError)) return error;
  if (error.code === 11000) {
    const index = /index: (\S+)/.exec(error.message)?.[1] ?? 'unknown';
    return new DuplicateKeyError(collection, index, error.keyValue ?? error.message);
  }
  const sqlite = /UNIQUE constraint failed: index '([^']+)'/.exec(error.message);
  if (sqlite) return new DuplicateKeyError(collection, sqlite[1]!, error.message);
  return error;
}
