import { describe, expect, it } from 'vitest';
import { decodeFieldNames, encodeFieldNames, encodeUpdate } from '../../src/infra/readstore/field-names.ts';

describe('stored field names for MongoDB-protocol servers', () => {
  it('encodes dots and a leading $ at any depth and decodes them back', () => {
    const doc = { _id: 'r1', fieldSecurity: { customers: { 'custom.creditLimit': 'hidden' } }, list: [{ $odd: { 'a.b': 1 } }], plain: 'a.b' };
    const stored = encodeFieldNames(doc);
    expect(JSON.stringify(stored)).not.toMatch(/"[^"]*\.[^"]*":|"\$/);
    expect(stored.plain).toBe('a.b');
    expect(decodeFieldNames(stored)).toEqual(doc);
  });

  it('returns the same object when nothing needs renaming', () => {
    const doc = { _id: 'x', nested: { a: [1, { b: 2 }] } };
    expect(encodeFieldNames(doc)).toBe(doc);
    expect(decodeFieldNames(doc)).toBe(doc);
  });

  it('leaves update paths alone and encodes only the values', () => {
    expect(decodeFieldNames(encodeUpdate({ $set: { 'owner.rules': { 'x.y': 1 } }, $inc: { 'counts.total': 1 } }))).toEqual({
      $set: { 'owner.rules': { 'x.y': 1 } },
      $inc: { 'counts.total': 1 },
    });
    expect(Object.keys(encodeUpdate({ $set: { 'owner.rules': { 'x.y': 1 } } }).$set!)).toEqual(['owner.rules']);
  });
});
