import type { Clock } from '../infra/clock.ts';
import type { EventStore } from '../infra/eventstore/port.ts';
import type { Ids } from '../infra/ids.ts';

/** Who issues a command. `departmentPath` is the owner scope their records get (e.g. `/sales/east/`). */
export interface Actor {
  userId: string;
  username: string;
  roles: string[];
  departmentPath: string;
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
}

export interface CommandDeps {
  eventStore: EventStore;
  clock: Clock;
}
