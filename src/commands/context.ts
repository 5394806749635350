import type { DataScopeKind, FieldSecurity, Permissions } from '../domain/role/index.ts';
import type { Clock } from '../infra/clock.ts';
import type { EventStore } from '../infra/eventstore/port.ts';
import type { Ids } from '../infra/ids.ts';

/**
 * Who issues a command, resolved from their employee record and roles on every request, so a changed
 * role, a move to another department or a disabled account takes effect at once.
 */
export interface Actor {
  userId: string;
  username: string;
  roleIds: string[];
  /** Union of the permissions of all the actor's roles. */
  permissions: Permissions;
  /** The widest data scope among the actor's roles. */
  dataScope: DataScopeKind;
  departmentId: string | null;
  /** The actor's department path, e.g. `/<rootId>/<childId>/`; `/` without a department. */
  departmentPath: string;
  /** Fields hidden or read-only for the actor: only what every one of their roles restricts. */
  fieldRules: FieldSecurity;
}

/** Facts about one request, carried into every event it appends. */
export interface RequestMeta {
  correlationId: string;
  /** Stable across retries of one idempotent request; marks its events so a retry can recognise them. */
  requestId: string;
  /** Ids for new records; seeded by the request id, so a retried request re-creates the same ids. */
  ids: Ids;
  /** The revision the client based its change on (`If-Match`). */
  ifMatch?: bigint;
  /** The W3C trace id the request carries (`traceparent`), kept in its events' metadata and Kafka headers. */
  traceId?: string;
  /** The fencing token of the leading worker whose scheduler wrote the events (their metadata keeps it). */
  fence?: number;
  /** The bulk operation (import, merge, handover, mass update…) the request's events belong to: its batch id, kept in their metadata. */
  batchId?: string;
  /** For an undo: the batch whose effects these events revert (the read models put back what that batch changed). */
  undoes?: string;
  /** A forced undo of a record changed after the batch: its events overwrite those later changes. */
  undoForced?: boolean;
}

export interface CommandDeps {
  eventStore: EventStore;
  clock: Clock;
  /**
   * Keys the hash that names a reserved unique value (reservations record it, never the value); absent (a bare
   * test setup), values are named by their plain hash as earlier versions did.
   */
  reservationKey?: Buffer;
}
