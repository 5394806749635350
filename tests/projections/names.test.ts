import { describe, expect, it } from 'vitest';
import { allProjections } from '../../src/projections/all.ts';

describe('the read models', () => {
  it('each has a name of its own (checkpoints and rebuilds are kept by name) and collections no other writes', () => {
    const names = allProjections.map((p) => p.name);
    expect(names.filter((name, i) => names.indexOf(name) !== i)).toEqual([]);
    const collections = allProjections.flatMap((p) => p.collections);
    expect(collections.filter((name, i) => collections.indexOf(name) !== i)).toEqual([]);
  });
});
