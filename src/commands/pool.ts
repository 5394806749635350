import { z } from 'zod';
import type { ReadStore } from '../infra/readstore/port.ts';
import { CUSTOMERS, type CustomerDoc } from '../projections/customers.ts';
import type { Actor, CommandDeps, RequestMeta } from './context.ts';
import { releaseCustomer } from './customers.ts';

/** Settings of the customer pool (公海): customers without follow-up for `autoReturnDays` days go back to it. */
export const PoolSettings = z
  .object({ autoReturnDays: z.number().int().min(1).max(3650).nullable().describe('null: never return customers automatically') })
  .strict()
  .meta({ id: 'PoolSettings' });
export type PoolSettings = z.infer<typeof PoolSettings>;

const STREAM = 'settings-customerpool';

export async function poolSettings(deps: CommandDeps): Promise<PoolSettings & { revision: number }> {
  const events = await deps.eventStore.readStream(STREAM);
  const last = events[events.length - 1];
  return { autoReturnDays: (last?.data as PoolSettings | undefined)?.autoReturnDays ?? null, revision: last ? Number(last.revision) : -1 };
}

export async function changePoolSettings(deps: CommandDeps, settings: PoolSettings, actor: Actor, meta: RequestMeta) {
  const current = await poolSettings(deps);
  if (current.autoReturnDays === settings.autoReturnDays) return { revision: BigInt(current.revision), position: 0n, changed: false };
  const result = await deps.eventStore.append(
    STREAM,
    [{ id: meta.ids.newId(), type: 'PoolSettingsChanged', data: settings, metadata: { actor: actor.userId, at: deps.clock.now().toISOString(), correlationId: meta.correlationId, requestId: meta.requestId, schemaVersion: 1 } }],
    current.revision < 0 ? 'no_stream' : BigInt(current.revision),
  );
  return { revision: result.nextExpectedRevision, position: result.position, changed: true };
}

/**
 * Returns owned customers without any follow-up (a change to them or their contacts) for the configured number
 * of days to the pool. Safe to run repeatedly and concurrently: releasing a released customer is refused and skipped.
 */
export async function returnIdleCustomersToPool(deps: CommandDeps, readStore: ReadStore, actor: Actor, meta: () => RequestMeta): Promise<number> {
  const { autoReturnDays } = await poolSettings(deps);
  if (!autoReturnDays) return 0;
  const cutoff = new Date(deps.clock.now().getTime() - autoReturnDays * 86_400_000).toISOString();
  const idle = await readStore.collection<CustomerDoc>(CUSTOMERS).find({ inPool: false, status: 'active', lastActivityAt: { $lt: cutoff } }, { projection: { _id: 1 } });
  let released = 0;
  for (const { _id } of idle) {
    try {
      const result = await releaseCustomer(deps, _id, `no_follow_up_${autoReturnDays}_days`, actor, meta());
      if (result.changed) released += 1;
    } catch {
      // Released, archived or changed meanwhile: the rule re-checks it on its next run.
    }
  }
  return released;
}
