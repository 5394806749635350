import { z } from 'zod';
import type { ReadStore } from '../infra/readstore/port.ts';
import { CUSTOMERS, type CustomerDoc } from '../projections/customers.ts';
import type { Actor, CommandDeps, RequestMeta } from './context.ts';
import { releaseCustomer } from './customers.ts';
import { completeBatch, inBatch, startBatch } from './batches.ts';
import { readSetting, writeSetting } from './settings.ts';

/** Settings of the customer pool (公海): customers without follow-up for `autoReturnDays` days go back to it. */
export const PoolSettings = z
  .object({ autoReturnDays: z.number().int().min(1).max(3650).nullable().describe('null: never return customers automatically') })
  .strict()
  .meta({ id: 'PoolSettings' });
export type PoolSettings = z.infer<typeof PoolSettings>;

const KEY = 'customer-pool';

export async function poolSettings(deps: CommandDeps): Promise<PoolSettings & { revision: number }> {
  const { value, revision } = await readSetting<PoolSettings>(deps, KEY);
  return { autoReturnDays: value?.autoReturnDays ?? null, revision: Number(revision) };
}

export const changePoolSettings = (deps: CommandDeps, settings: PoolSettings, actor: Actor, meta: RequestMeta) => writeSetting(deps, KEY, settings, actor, meta);

/**
 * Returns owned customers without any follow-up for the configured number of days to the pool. A follow-up is an
 * activity logged with the customer (a call, a visit…, by its `occurredAt`); registering, claiming or being given a
 * customer starts its clock too. Edits to the record do not count (for a customer from before activities, its last
 * change then does). Safe to run repeatedly and concurrently: releasing a released customer is refused and skipped.
 */
export async function returnIdleCustomersToPool(deps: CommandDeps, readStore: ReadStore, actor: Actor, meta: () => RequestMeta): Promise<number> {
  const { autoReturnDays } = await poolSettings(deps);
  if (!autoReturnDays) return 0;
  const cutoff = new Date(deps.clock.now().getTime() - autoReturnDays * 86_400_000).toISOString();
  const idle = await readStore.collection<CustomerDoc>(CUSTOMERS).find({ inPool: false, status: 'active', lastContactedAt: { $lt: cutoff } }, { projection: { _id: 1 } });
  if (idle.length === 0) return 0;
  // One run is one batch: an administrator can see what it returned, and undo it.
  const { batchId } = await startBatch(deps, { kind: 'pool-return', resource: 'customers', summary: { autoReturnDays, idle: idle.length } }, actor, meta());
  let released = 0;
  for (const { _id } of idle) {
    try {
      const result = await releaseCustomer(deps, _id, `no_follow_up_${autoReturnDays}_days`, actor, inBatch(meta(), batchId));
      if (result.changed) released += 1;
    } catch {
      // Released, archived or changed meanwhile: the rule re-checks it on its next run.
    }
  }
  await completeBatch(deps, batchId, { records: released, skipped: idle.length - released }, actor, meta());
  return released;
}
