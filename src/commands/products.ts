import { type ProductCommand, type ProductFields, type ProductState } from '../domain/product/index.ts';
import { DomainError } from '../domain/shared/errors.ts';
import type { Actor, CommandDeps, RequestMeta } from './context.ts';
import { RecordHandler, type RecordRules } from './record-handler.ts';

const normalizeCode = (code: unknown) => (typeof code === 'string' ? code.normalize('NFKC').trim().toUpperCase() : undefined);

export const productRules: RecordRules<ProductCommand, ProductState> = {
  resource: 'products',
  uniqueFields: [
    {
      scope: 'product.code',
      field: 'code',
      normalize: normalizeCode,
      taken: (code, holderId) => new DomainError('product.duplicate_code', `A product with code ${String(code)} exists already`, { ...(holderId ? { existingProductId: holderId } : {}) }),
    },
  ],
};

export const productHandler = (deps: CommandDeps, actor: Actor, meta: RequestMeta) => new RecordHandler(productRules, deps, actor, meta);
const products = productHandler;

/** `erpCode`: created by the ERP bridge for that ERP record. */
export async function createProduct(deps: CommandDeps, fields: ProductFields, actor: Actor, meta: RequestMeta, erpCode?: string) {
  const result = await products(deps, actor, meta).create(fields, (productId, all) => ({ type: 'CreateProduct', productId, fields: all as ProductFields, ...(erpCode ? { erpCode } : {}) }));
  return { ...result, productId: result.id };
}

export const changeProduct = (deps: CommandDeps, productId: string, changes: Record<string, unknown>, actor: Actor, meta: RequestMeta) =>
  products(deps, actor, meta).change(productId, changes, (plain) => ({ type: 'ChangeProduct', productId, changes: plain }));
