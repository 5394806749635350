import { describe, expect, it } from 'vitest';
import { merged } from '../../src/infra/merged.ts';

describe('merged: what a literal with spreads makes, without its cost', () => {
  it('the same properties in the same order as { ...a, ...b, ...c }, a later value winning', () => {
    const a = { _id: 'c1', id: 'c1', name: '联系人', nested: { x: 1 } };
    const b = { customerId: 'k', name: '新名字', erpCode: null };
    const c = { _position: 7, id: 'c1-again' };
    const spread = { ...a, ...b, ...c };
    const result = merged(a, b, c);
    expect(Object.keys(result)).toEqual(Object.keys(spread));
    expect(result).toEqual(spread);
    // A new object, whose parts are shared as a spread shares them.
    expect(result).not.toBe(a);
    expect(result.nested).toBe(a.nested);
    expect(a).toEqual({ _id: 'c1', id: 'c1', name: '联系人', nested: { x: 1 } });
  });

  it('copies from frozen parts and makes a writable object', () => {
    const result: { a: number; b: number } = merged(Object.freeze({ a: 1 }), Object.freeze({ b: 2 }));
    result.a = 3;
    expect(result).toEqual({ a: 3, b: 2 });
  });

  it('a part with its own __proto__ (parsed JSON) gives a plain property, as a spread does, never a prototype', () => {
    const fields = JSON.parse('{"name":"x","__proto__":{"polluted":true}}') as Record<string, unknown>;
    const result = merged({ _id: '1' }, fields, { after: true }) as Record<string, unknown>;
    expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
    expect(result.polluted).toBeUndefined();
    expect(Object.keys(result)).toEqual(Object.keys({ ...{ _id: '1' }, ...fields, after: true }));
    expect(Object.getOwnPropertyDescriptor(result, '__proto__')?.value).toEqual({ polluted: true });
  });
});
