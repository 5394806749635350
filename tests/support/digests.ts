import { createHash } from 'node:crypto';
import type { ReadStore } from '../../src/infra/readstore/port.ts';

/** What a digest leaves out: what every event changes. */
const EXCLUDED = new Set(['revision', 'updatedAt', '_position']);

const canonical = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') return Object.fromEntries(Object.keys(value).sort().map((key) => [key, canonical((value as Record<string, unknown>)[key])]));
  return value;
};

/** A read-model document's digest, without `revision`, `updatedAt` and `_position` (absent: `absent`). */
export const docDigest = (doc: Record<string, unknown> | null): string =>
  doc === null ? 'absent' : createHash('sha256').update(JSON.stringify(canonical(Object.fromEntries(Object.entries(doc).filter(([key]) => !EXCLUDED.has(key)))))).digest('hex');

/** The digests of these documents of a collection, by id (`absent` for one that does not exist). */
export async function digests(store: ReadStore, collection: string, ids: readonly string[]): Promise<Record<string, string>> {
  const docs = await store.collection(collection).find({ _id: { $in: [...ids] } });
  const byId = new Map(docs.map((doc) => [doc._id, doc]));
  return Object.fromEntries(ids.map((id) => [id, docDigest((byId.get(id) as Record<string, unknown> | undefined) ?? null)]));
}
