import { describe, expect, it } from 'vitest';
import { applyChanges, diffFields, normalizeName, normalizePhone, normalizeTaxNumber } from '../../src/domain/shared/normalize.ts';
import { LineInput, priceLine, sumLines } from '../../src/domain/shared/totals.ts';
import { DomainError } from '../../src/domain/shared/errors.ts';

describe('normalisation for company-wide uniqueness', () => {
  it('names: width, case, spaces, punctuation and symbols ignored', () => {
    expect(normalizeName('上海精工（集团）有限公司')).toBe(normalizeName('上海精工(集团)有限公司'));
    expect(normalizeName(' ACME  Pumps, Ltd. ')).toBe('acmepumpsltd');
    expect(normalizeName('Ａｃｍｅ＋Co')).toBe('acmeco');
    expect(normalizeName('Acme Pumps')).not.toBe(normalizeName('Acme Pump'));
  });

  it('tax numbers: upper case, no spaces, dots, dashes, underscores or slashes', () => {
    expect(normalizeTaxNumber(' 91310000-ma1fl.0001_a/ ')).toBe('91310000MA1FL0001A');
    expect(normalizeTaxNumber('９１３１')).toBe('9131');
  });

  it('phones: digits only, no international prefix, no 86 before a longer number, fewer than 5 digits is none', () => {
    expect(normalizePhone('+86 139-0000 1111')).toBe('13900001111');
    expect(normalizePhone('0086 13900001111')).toBe('13900001111');
    expect(normalizePhone('13900001111')).toBe('13900001111');
    expect(normalizePhone('86123')).toBe('86123');
    expect(normalizePhone('861234567890')).toBe('1234567890');
    expect(normalizePhone('8612345678901')).toBe('12345678901');
    expect(normalizePhone('8612345678')).toBe('8612345678');
    expect(normalizePhone('１２３４５')).toBe('12345');
    expect(normalizePhone('1234')).toBe('');
    expect(normalizePhone('00 1234')).toBe('');
  });
});

describe('changes to a record', () => {
  it('keep only what differs; null clears only what is set; dotted keys reach nested values', () => {
    const current = { name: 'A', tags: ['x'], custom: { level: 1 }, empty: null };
    expect(diffFields(current, { name: 'A', tags: ['x'], 'custom.level': 1 })).toEqual({});
    expect(diffFields(current, { name: 'B', tags: ['x', 'y'], 'custom.level': 2, missing: undefined })).toEqual({ name: 'B', tags: ['x', 'y'], 'custom.level': 2 });
    expect(diffFields(current, { nothing: null, empty: null, name: null, 'custom.other': null })).toEqual({ name: null });
    expect(diffFields(current, { 'custom.level': null, 'name.deep': 'x' })).toEqual({ 'custom.level': null, 'name.deep': 'x' });
  });

  it('apply: null removes, a value replaces, dotted keys build nested objects without touching the original', () => {
    const current = { name: 'A', phone: '1', custom: { level: 1, keep: true }, list: [1] };
    const next = applyChanges(current, { phone: null, name: 'B', 'custom.level': 2, 'custom.keep': null, 'extra.deep': 'x', skipped: undefined, 'list.0': 9 });
    expect(next).toEqual({ name: 'B', custom: { level: 2 }, extra: { deep: 'x' }, list: { 0: 9 } });
    expect(current).toEqual({ name: 'A', phone: '1', custom: { level: 1, keep: true }, list: [1] });
    expect(next).not.toHaveProperty('skipped');
  });
});

describe('line totals', () => {
  it('prices exactly: quantity in thousandths, discount and tax in hundredths of a percent, half-up', () => {
    const line = priceLine({ id: 'a', productId: 'p', quantity: 1.5, unitPrice: 333, discountPercent: 10, taxRate: 13 });
    expect(line).toEqual({ id: 'a', productId: 'p', quantity: 1.5, unitPrice: 333, discountPercent: 10, taxRate: 13, net: 450, tax: 59, total: 509 }); // 449.55 → 450; 58.5 → 59
    expect(priceLine({ id: 'b', productId: 'p', quantity: 1, unitPrice: 1, discountPercent: 50, taxRate: 0 }).net).toBe(1); // 0.5 → 1
    expect(priceLine({ id: 'c', productId: 'p', quantity: 1, unitPrice: 3, discountPercent: 50, taxRate: 0 }).net).toBe(2); // 1.5 → 2
    expect(priceLine({ id: 'd', productId: 'p', quantity: 1, unitPrice: 1, discountPercent: 60, taxRate: 0 }).net).toBe(0); // 0.4 → 0
    expect(priceLine({ id: 'e', productId: 'p', quantity: 1, unitPrice: 100, discountPercent: 0, taxRate: 6.5 }).tax).toBe(7); // 6.5 → 7
    expect(priceLine({ id: 'f', productId: 'p', quantity: 2, unitPrice: 100, discountPercent: 100, taxRate: 13 })).toMatchObject({ net: 0, tax: 0, total: 0 });
  });

  it('refuses totals beyond what a number holds exactly', () => {
    expect(() => priceLine({ id: 'a', productId: 'p', quantity: 1e9, unitPrice: 1e13, discountPercent: 0, taxRate: 0 })).toThrow(DomainError);
    expect(() => sumLines([{ net: Number.MAX_SAFE_INTEGER, tax: 0, total: Number.MAX_SAFE_INTEGER }, { net: 1, tax: 0, total: 1 }])).toThrow(DomainError);
    expect(sumLines([])).toEqual({ net: 0, tax: 0, total: 0 });
    expect(sumLines([{ net: 1, tax: 2, total: 3 }, { net: 10, tax: 20, total: 30 }])).toEqual({ net: 11, tax: 22, total: 33 });
  });

  it('line input: positive quantities with up to 3 decimals, percentages with up to 2', () => {
    const ok = { productId: '0193a4c2-7f3e-7b1a-9c1d-2f4e6a8b0c11', quantity: 1.125 };
    expect(LineInput.parse(ok)).toEqual({ ...ok, discountPercent: 0 });
    for (const bad of [{ quantity: 0 }, { quantity: 1.0001 }, { discountPercent: 10.001 }, { discountPercent: 101 }, { taxRate: 13.005 }, { unitPrice: 1.5 }, { extra: 1 }])
      expect(LineInput.safeParse({ ...ok, ...bad }).success, JSON.stringify(bad)).toBe(false);
  });
});
