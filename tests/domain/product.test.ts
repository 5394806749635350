import { describe, expect, it } from 'vitest';
import { fold } from '../../src/domain/shared/decider.ts';
import { productDecider, type ProductEvent, ProductFields, productStream, TaxRate } from '../../src/domain/product/index.ts';
import { specFor } from '../support/spec.ts';

const fields = { code: 'PUMP-100', name: 'Pump', unit: '台', standardPrice: { amount: 100, currency: 'CNY' }, taxRate: 13, active: true };
const created: ProductEvent = { type: 'ProductCreated', data: { productId: 'p', fields } };

describe('product decider: every decision pinned', () => {
  const { given } = specFor(productDecider);

  it('is created once; an unknown one is not found', () => {
    given([]).when({ type: 'CreateProduct', productId: 'p', fields }).then([created]);
    given([created]).when({ type: 'CreateProduct', productId: 'p', fields }).thenThrows('product.already_exists');
    expect(given([]).when({ type: 'ChangeProduct', productId: 'p', changes: { name: 'X' } }).thenThrows('product.not_found').details).toEqual({ productId: 'p' });
    expect(fold(productDecider, [created])).toEqual({ status: 'active', productId: 'p', fields });
  });

  it('changes what differs; the required fields cannot be cleared, the others can', () => {
    given([created]).when({ type: 'ChangeProduct', productId: 'p', changes: { name: 'Pump 2', code: 'PUMP-100' } }).then([{ type: 'ProductChanged', data: { productId: 'p', changes: { name: 'Pump 2' } } }]);
    given([created]).when({ type: 'ChangeProduct', productId: 'p', changes: { name: 'Pump' } }).thenNothing();
    for (const field of ['code', 'name', 'unit', 'standardPrice', 'taxRate', 'active'])
      expect(given([created]).when({ type: 'ChangeProduct', productId: 'p', changes: { [field]: null } }).thenThrows('product.field_required').details).toEqual({ field });
    given([created]).when({ type: 'ChangeProduct', productId: 'p', changes: { specification: null } }).thenNothing();
    const changed: ProductEvent = { type: 'ProductChanged', data: { productId: 'p', changes: { active: false } } };
    given([created]).when({ type: 'ChangeProduct', productId: 'p', changes: { active: false } }).then([changed]);
    expect(fold(productDecider, [created, changed])).toMatchObject({ fields: { ...fields, active: false } });
    expect(fold(productDecider, [changed])).toEqual({ status: 'none' });
    expect(productStream('p')).toBe('product-p');
  });

  it('tax rates are percent with at most two decimals', () => {
    for (const rate of [0, 1.5, 9, 13, 6.25, 100]) expect(TaxRate.safeParse(rate).success, String(rate)).toBe(true);
    for (const rate of [-1, 100.01, 13.333, 0.001]) expect(TaxRate.safeParse(rate).success, String(rate)).toBe(false);
    expect(ProductFields.parse({ ...fields, active: undefined }).active).toBe(true);
    expect(ProductFields.safeParse({ ...fields, code: 'has space' }).success).toBe(false);
  });
});
