import type { ProductEvent } from '../domain/product/index.ts';
import { applyChanges } from '../domain/shared/normalize.ts';
import type { RecordedEvent } from '../infra/eventstore/port.ts';
import { recordProjection, searchText, stamp, type RecordDoc } from './owned.ts';

export const PRODUCTS = 'products';

export const productsProjection = recordProjection<RecordDoc>({
  name: 'products',
  version: 1,
  category: 'product',
  collection: PRODUCTS,
  owned: false,
  idOf: (event) => (event.data as { productId: string }).productId,
  async setup(store) {
    await store.collection(PRODUCTS).createIndex({ code: 1 });
  },
  evolve(doc, event) {
    const e = event as RecordedEvent & ProductEvent;
    const next: RecordDoc | null =
      e.type === 'ProductCreated'
        ? { _id: e.data.productId, id: e.data.productId, ...e.data.fields, createdAt: event.metadata.at, ...stamp(event), _search: '' }
        : doc && { ...(applyChanges(doc, e.data.changes) as RecordDoc), ...stamp(event) };
    return next && { ...next, _search: searchText(next.code, next.name, next.specification, next.category) };
  },
});
