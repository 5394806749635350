import { settingsCategory } from '../domain/categories.ts';
import type { Doc } from '../infra/readstore/port.ts';
import { alreadyApplied, type Projection } from './projection.ts';

export const DELEGATIONS = 'delegations';
/** One person's delegation in force (`_id`: the delegator); none once cleared. */
export type DelegationDoc = Doc & { delegateId: string; from: string; to: string; _position: number };

const PREFIX = 'delegation.';

/** Who delegated their approvals to whom, and when: found by the delegate when they act. */
export const delegationsProjection: Projection = {
  name: 'delegations',
  version: 1,
  categories: [settingsCategory],
  collections: [DELEGATIONS],
  async setup(store) {
    await store.collection(DELEGATIONS).createIndex({ delegateId: 1 });
  },
  async apply(event, store) {
    const data = event.data as { key?: string; value?: { delegateId: string; from: string; to: string } | null };
    if (event.type !== 'SettingChanged' || !data.key?.startsWith(PREFIX)) return;
    const delegatorId = data.key.slice(PREFIX.length);
    const docs = store.collection<DelegationDoc>(DELEGATIONS);
    const current = await docs.findOne({ _id: delegatorId });
    if (alreadyApplied(current, event)) return;
    if (data.value) await docs.replaceOne({ _id: delegatorId }, { _id: delegatorId, ...data.value, _position: Number(event.position) }, { upsert: true });
    else if (current) await docs.deleteOne({ _id: delegatorId });
  },
};
