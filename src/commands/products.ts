import { type ProductFields, productDecider, type ProductState, productStream } from '../domain/product/index.ts';
import { DomainError } from '../domain/shared/errors.ts';
import type { Actor, CommandDeps, RequestMeta } from './context.ts';
import { type CustomOf, customChanges, prepareCustom, releaseCustom } from './custom-fields.ts';
import { execute, load } from './pipeline.ts';
import { claim, isHeld, type ReservationHolderCheck } from './reservations.ts';

const CODE_SCOPE = 'product.code';
const normalizeCode = (code: string) => code.normalize('NFKC').trim().toUpperCase();
const loadProduct = async (deps: CommandDeps, id: string): Promise<ProductState> => (await load(deps, productDecider, productStream(id))).state;
const customOf = (deps: CommandDeps): CustomOf => async (id) => {
  const state = await loadProduct(deps, id);
  return state.status === 'none' ? undefined : (state.fields.custom ?? {});
};

async function claimCode(deps: CommandDeps, code: string, productId: string, actor: Actor, meta: RequestMeta): Promise<{ scope: string; value: string }> {
  const value = normalizeCode(code);
  const check: ReservationHolderCheck = {
    holds: async (holder) => {
      const state = await loadProduct(deps, holder);
      return state.status !== 'none' && normalizeCode(state.fields.code) === value;
    },
    exists: async (holder) => (await loadProduct(deps, holder)).status !== 'none',
  };
  try {
    await claim(deps, CODE_SCOPE, value, productId, check, actor, meta);
  } catch (error) {
    if (isHeld(error)) throw new DomainError('product.duplicate_code', `A product with code ${code} exists already`, { existingProductId: error.details.holderId });
    throw error;
  }
  return { scope: CODE_SCOPE, value };
}

export async function createProduct(deps: CommandDeps, fields: ProductFields, actor: Actor, meta: RequestMeta) {
  const productId = meta.ids.newId();
  const { custom: given, ...plain } = fields;
  const custom = await prepareCustom(deps, 'products', given, 'create', productId, {}, customOf(deps), actor, meta);
  const claimed = [...custom.claimed];
  try {
    claimed.push(await claimCode(deps, fields.code, productId, actor, meta));
    const all = { ...plain, ...(Object.keys(custom.values).length ? { custom: custom.values } : {}) };
    return { ...(await execute(deps, productDecider, productStream(productId), { type: 'CreateProduct', productId, fields: all }, actor, meta)), productId };
  } catch (error) {
    await releaseCustom(deps, claimed, productId, actor, meta);
    throw error;
  }
}

export async function changeProduct(deps: CommandDeps, productId: string, changes: Record<string, unknown>, actor: Actor, meta: RequestMeta) {
  const before = await loadProduct(deps, productId);
  const custom = await customChanges(deps, 'products', changes, productId, before.status === 'none' ? undefined : (before.fields.custom ?? {}), customOf(deps), actor, meta);
  const plain = custom.changes;
  const claimed = [...custom.claimed];
  const replaced = [...custom.replaced];
  try {
    if (before.status !== 'none' && typeof plain.code === 'string' && normalizeCode(plain.code) !== normalizeCode(before.fields.code)) {
      claimed.push(await claimCode(deps, plain.code, productId, actor, meta));
      replaced.push({ scope: CODE_SCOPE, value: normalizeCode(before.fields.code) });
    }
    const result = await execute(deps, productDecider, productStream(productId), { type: 'ChangeProduct', productId, changes: plain }, actor, meta);
    if (result.changed) await releaseCustom(deps, replaced, productId, actor, meta);
    return result;
  } catch (error) {
    await releaseCustom(deps, claimed, productId, actor, meta);
    throw error;
  }
}

export async function getProduct(deps: CommandDeps, productId: string) {
  const state = await loadProduct(deps, productId);
  return state.status === 'none' ? undefined : state;
}
