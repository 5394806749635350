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

  it("keeps an operand's own operators ($each, $in) and encodes the values under them", () => {
    const update = encodeUpdate({ $push: { tags: { $each: [{ 'a.b': 1 }], $slice: -5 } }, $addToSet: { more: { $each: ['x'] } }, $pull: { tags: { $in: ['old'] } } });
    expect(Object.keys(update.$push!.tags as object)).toEqual(['$each', '$slice']);
    expect(JSON.stringify((update.$push!.tags as { $each: unknown[] }).$each)).not.toContain('a.b');
    expect(update.$addToSet).toEqual({ more: { $each: ['x'] } });
    expect(update.$pull).toEqual({ tags: { $in: ['old'] } });
    // Data under $set is data: a key with a leading $ there is a stored name, encoded.
    expect(JSON.stringify(encodeUpdate({ $set: { rules: { $odd: 1 } } }))).not.toContain('"$odd"');
  });
});

describe('MongoDB connection strings', () => {
  it("a replica set's host list is taken apart without a URL parser; the database is read and replaced", async () => {
    const { namesDatabase, withDatabase } = await import('../../src/infra/readstore/mongo-url.ts');
    const replicaSet = 'mongodb://user:p%40ss@h1:27017,h2:27017,h3:27017/crm?replicaSet=rs0&authSource=admin';
    expect(namesDatabase(replicaSet)).toBe(true);
    expect(withDatabase(replicaSet, 'crm_test_1')).toBe('mongodb://user:p%40ss@h1:27017,h2:27017,h3:27017/crm_test_1?replicaSet=rs0&authSource=admin');
    expect(namesDatabase('mongodb://h1:27017,h2:27017/?replicaSet=rs0')).toBe(false);
    expect(namesDatabase('mongodb://h1')).toBe(false);
    expect(withDatabase('mongodb://h1:27017', 'crm')).toBe('mongodb://h1:27017/crm');
    expect(namesDatabase('mongodb+srv://cluster.example.com/crm')).toBe(true);
    const { withOption } = await import('../../src/infra/readstore/mongo-url.ts');
    expect(withOption(replicaSet, 'readPreference', 'secondary')).toBe('mongodb://user:p%40ss@h1:27017,h2:27017,h3:27017/crm?replicaSet=rs0&authSource=admin&readPreference=secondary');
    expect(withOption('mongodb://h1:27017,h2:27017/?replicaSet=rs0&serverSelectionTimeoutMS=1', 'serverSelectionTimeoutMS', '30000')).toBe('mongodb://h1:27017,h2:27017/?replicaSet=rs0&serverSelectionTimeoutMS=30000');
  });
});
