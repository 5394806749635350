import { Query, update as mingoUpdate } from 'mingo';
import { describe, expect, it } from 'vitest';
import { prng } from '../../src/cli/seed-data.ts';
import { fastMatch, fastUpdate } from '../../src/infra/readstore/fast-path.ts';

/** The fast paths must agree with mingo (MongoDB semantics) wherever they answer at all. */
const random = prng(42);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const values = [0, 1, 2, 5, -3, 'a', 'b', '华东', true, false, null, undefined, ['a', 'b'], [1, 2], { x: 1 }, [{ x: 1 }]];
const randomDoc = () => {
  const doc: Record<string, unknown> = { _id: 'd' };
  for (const key of ['a', 'b', 'c']) {
    const value = pick(values);
    if (value !== undefined) doc[key] = structuredClone(value);
  }
  if (random() < 0.5) doc.n = { x: pick([1, 2, 'a', undefined]) };
  return doc;
};
const randomCondition = (): unknown => {
  const operand = pick([0, 1, 2, 'a', 'b', true]);
  switch (Math.floor(random() * 7)) {
    case 0:
      return operand;
    case 1:
      return { $eq: operand };
    case 2:
      return { $ne: operand };
    case 3:
      return { [pick(['$gt', '$gte', '$lt', '$lte'])]: pick([0, 1, 2, 'a', 'b', 'B', '2026-11-01', '华']) };
    case 4:
      return { $in: [operand, pick([1, 'b'])] };
    case 5:
      return { $exists: random() < 0.5 };
    default:
      return { $gt: 0, $lt: pick([2, 5]) };
  }
};

describe('embedded read store fast paths', () => {
  it('match exactly as mingo does, or defer to it', () => {
    let answered = 0;
    for (let i = 0; i < 5000; i++) {
      const doc = randomDoc();
      const simple = () => {
        const part: Record<string, unknown> = {};
        for (let k = 0; k < 1 + Math.floor(random() * 2); k++) part[pick(['a', 'b', 'c', 'n.x', 'missing'])] = random() < 0.1 ? null : randomCondition();
        return part;
      };
      // Plain filters, and $and / $or of them (as list paging builds them), nested once at most.
      const shape = random();
      const filter: Record<string, unknown> =
        shape < 0.6 ? simple() : { ...(random() < 0.5 ? simple() : {}), [shape < 0.8 ? '$or' : '$and']: [simple(), random() < 0.3 ? { $or: [simple(), simple()] } : simple()] };
      const fast = fastMatch(doc, filter);
      if (fast === undefined) continue;
      answered += 1;
      expect(fast, `${JSON.stringify(filter)} on ${JSON.stringify(doc)}`).toBe(new Query(filter).test(doc));
    }
    expect(answered).toBeGreaterThan(2500);
  });

  it('update exactly as mingo does, or defer to it', () => {
    let answered = 0;
    for (let i = 0; i < 3000; i++) {
      const doc = randomDoc();
      const operator = pick(['$set', '$unset', '$inc', '$min', '$max', '$push', '$addToSet', '$pull']);
      const path = pick(['a', 'b', 'n.x', 'new', 'n.y.z']);
      const operand = operator === '$unset' ? '' : pick([1, 3, 'a', ['a'], { $each: ['a', 'c'] }, { x: 1 }]);
      const update = { [operator]: { [path]: operand } };
      const mine = structuredClone(doc);
      const theirs = structuredClone(doc);
      let fast: boolean | undefined;
      try {
        fast = fastUpdate(mine, update);
      } catch {
        continue;
      }
      if (fast === undefined) {
        expect(mine).toEqual(doc);
        continue;
      }
      let mingoChanged: boolean;
      try {
        mingoChanged = mingoUpdate(theirs, update as never).length > 0;
      } catch {
        continue; // mingo refuses the update (MongoDB would too); the fast path must never be asked for it
      }
      answered += 1;
      expect(mine, `${JSON.stringify(update)} on ${JSON.stringify(doc)}`).toEqual(theirs);
      expect(fast, `${JSON.stringify(update)} on ${JSON.stringify(doc)}`).toBe(mingoChanged);
    }
    expect(answered).toBeGreaterThan(1000);
  });
});

describe('embedded read store $set', () => {
  it('tells a change exactly as comparing the values\' JSON does, part by part', () => {
    const leaves = [0, 1, -0, NaN, 'a', 'b', '', true, false, null, undefined, new Date(0), new Date(1)];
    const value = (depth: number): unknown => {
      const shape = random();
      if (depth > 2 || shape < 0.4) return pick(leaves);
      if (shape < 0.7) return Array.from({ length: Math.floor(random() * 3) }, () => value(depth + 1));
      const object: Record<string, unknown> = {};
      for (const key of ['x', 'y', 'z']) if (random() < 0.6) object[key] = value(depth + 1);
      return object;
    };
    // A near copy: the same value with one part changed, or reordered, or an undefined part added or dropped.
    const nearCopy = (of: unknown): unknown => {
      if (Array.isArray(of)) return of.map((item) => (random() < 0.3 ? nearCopy(item) : item));
      if (of && typeof of === 'object' && !(of instanceof Date)) {
        const entries = Object.entries(of).map(([key, item]) => [key, random() < 0.3 ? nearCopy(item) : item] as [string, unknown]);
        if (random() < 0.2) entries.reverse();
        if (random() < 0.2) entries.push(['w', undefined]);
        return Object.fromEntries(entries);
      }
      return random() < 0.5 ? of : pick(leaves);
    };
    let objects = 0;
    for (let i = 0; i < 5000; i++) {
      const before = value(0);
      const after = random() < 0.7 ? nearCopy(before) : value(0);
      const changed = fastUpdate({ _id: 'd', v: before }, { $set: { v: after } });
      if (changed === undefined) continue;
      const same = before === after || (typeof before === 'object' && typeof after === 'object' && JSON.stringify(before) === JSON.stringify(after));
      if (typeof before === 'object' && typeof after === 'object') objects += 1;
      expect(changed, `${String(JSON.stringify(before))} → ${String(JSON.stringify(after))}`).toBe(!same);
    }
    expect(objects).toBeGreaterThan(1000);
  });
});

describe('embedded read store sorting', () => {
  it('orders pages exactly as mingo does', async () => {
    const { Query } = await import('mingo');
    const { fastSort } = await import('../../src/infra/readstore/fast-path.ts');
    for (let run = 0; run < 300; run++) {
      const docs = Array.from({ length: 1 + Math.floor(random() * 60) }, (_, i) => {
        const doc: Record<string, unknown> = { _id: `d${String(i).padStart(3, '0')}` };
        for (const key of ['a', 'b']) {
          const value = pick([0, 1, 2, -5, 2.5, 'a', 'B', 'b', '华', '', null, undefined, true, false]);
          if (value !== undefined) doc[key] = value;
        }
        return doc;
      });
      const sort = { [pick(['a', 'b'])]: pick([1, -1] as const), _id: pick([1, -1] as const) } as Record<string, 1 | -1>;
      const limit = 1 + Math.floor(random() * 10);
      const mine = fastSort(docs, sort, limit)!.map((d) => d._id);
      const theirs = new Query({}).find(docs).sort(sort).limit(limit).all().map((d) => (d as { _id: string })._id);
      expect(mine, JSON.stringify(sort)).toEqual(theirs);
      expect(fastSort(docs, sort)!.map((d) => d._id)).toEqual(new Query({}).find(docs).sort(sort).all().map((d) => (d as { _id: string })._id));
    }
  });
});

describe('embedded read store grouping', () => {
  it('groups and sums exactly as mingo does', async () => {
    const { Aggregator } = await import('mingo');
    const { fastGroup } = await import('../../src/infra/readstore/fast-path.ts');
    for (let run = 0; run < 200; run++) {
      const docs = Array.from({ length: Math.floor(random() * 40) }, (_, i) => ({ _id: String(i), stage: pick(['a', 'b', null, undefined, 3]), n: pick([1, 2.5, -3, 'x', undefined]), m: pick([10, 20]) }));
      const pipeline = [{ $group: { _id: pick(['$stage', null]), count: { $sum: 1 }, total: { $sum: '$n' }, other: { $sum: '$m' } } }];
      const sortById = (rows: Record<string, unknown>[]) => [...rows].sort((a, b) => String(a._id).localeCompare(String(b._id)));
      expect(sortById(fastGroup(docs, pipeline)!)).toEqual(sortById(new Aggregator(pipeline).run(docs) as Record<string, unknown>[]));
    }
  });

  it('groups by an object of fields, summing nested paths, exactly as mingo does; an object or array key is left to mingo', async () => {
    const { Aggregator } = await import('mingo');
    const { fastGroup } = await import('../../src/infra/readstore/fast-path.ts');
    const key = (row: Record<string, unknown>) => JSON.stringify(row._id);
    const byKey = (rows: Record<string, unknown>[]) => [...rows].sort((a, b) => key(a).localeCompare(key(b)));
    for (let run = 0; run < 200; run++) {
      const docs = Array.from({ length: Math.floor(random() * 60) }, (_, i) => ({
        _id: String(i),
        day: pick(['2026-11-01', '2026-11-02']),
        ownerId: pick(['u1', 'u2', null, undefined, 7]),
        count: pick([{ orders: 2, 'collections:CNY': 5 }, { orders: 1 }, {}, undefined]),
      }));
      const pipeline = [{ $group: { _id: { p: pick(['$day', null]), ownerId: '$ownerId' }, orders: { $sum: '$count.orders' }, collected: { $sum: '$count.collections:CNY' }, n: { $sum: 1 } } }];
      expect(byKey(fastGroup(docs, pipeline)!), JSON.stringify(pipeline)).toEqual(byKey(new Aggregator(pipeline).run(docs) as Record<string, unknown>[]));
    }
    expect(fastGroup([{ _id: '1', k: { a: 1 } }], [{ $group: { _id: { k: '$k' }, n: { $sum: 1 } } }])).toBeUndefined();
    expect(fastGroup([{ _id: '1', k: [1, 2] }], [{ $group: { _id: '$k.a', n: { $sum: 1 } } }])).toBeUndefined();
  });
});
