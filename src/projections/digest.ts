import { createHash } from 'node:crypto';
import type { ReadStore } from '../infra/readstore/port.ts';
import type { Projection } from './projection.ts';

const stable = (value: unknown): unknown =>
  Array.isArray(value)
    ? value.map(stable)
    : value && typeof value === 'object'
      ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, stable(v)]))
      : value;

/**
 * A digest of every document the projections own, independent of insertion and key order: two read stores
 * with equal digests hold equal read models (used to prove live projections equal a full rebuild).
 */
export async function readModelDigest(store: ReadStore, projections: readonly Projection[]): Promise<string> {
  const hash = createHash('sha256');
  for (const name of projections.flatMap((p) => p.collections).sort()) {
    const docs = await store.collection(name).find({}, { sort: { _id: 1 } });
    hash.update(`${name}\n`);
    for (const doc of docs) hash.update(`${JSON.stringify(stable(doc))}\n`);
  }
  return hash.digest('hex');
}
