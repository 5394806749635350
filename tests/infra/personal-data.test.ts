import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { personalPointers, pointerTo } from '../../src/domain/shared/personal-data.ts';
import { openValue, putValueAt, SEALED_PREFIX, sealValue, valueAt, withValueAt } from '../../src/infra/personal-data/sealing.ts';
import { PersonalDataEventStore } from '../../src/infra/eventstore/personal-data.ts';
import { SqliteEventStore } from '../../src/infra/eventstore/sqlite.ts';
import { SqliteSubjectKeys } from '../../src/infra/personal-data/keys.ts';

const metadata = { actor: 'a', at: '2026-12-02T00:00:00.000Z', correlationId: 'c', schemaVersion: 1 };

describe('sealing one personal value', () => {
  const key = randomBytes(32);

  it('opens what it sealed, for the same subject and pointer only, and seals a retry to the same bytes', () => {
    const sealed = sealValue(key, 'contact-1', 'event-1', '/fields/name', '王伟');
    expect(sealed.startsWith(SEALED_PREFIX)).toBe(true);
    expect(sealed).not.toContain('王伟');
    expect(openValue(key, 'contact-1', '/fields/name', sealed)).toBe('王伟');
    expect(sealValue(key, 'contact-1', 'event-1', '/fields/name', '王伟')).toBe(sealed);
    expect(sealValue(key, 'contact-1', 'event-2', '/fields/name', '王伟')).not.toBe(sealed);
    expect(() => openValue(key, 'contact-2', '/fields/name', sealed)).toThrow();
    expect(() => openValue(key, 'contact-1', '/fields/mobile', sealed)).toThrow();
    expect(() => openValue(randomBytes(32), 'contact-1', '/fields/name', sealed)).toThrow();
    expect(openValue(key, 'c', '/x', sealValue(key, 'c', 'e', '/x', { y: [1, 2] }))).toEqual({ y: [1, 2] });
  });

  it('finds and replaces values by JSON pointer, keys with / and ~ escaped, sharing what it does not change', () => {
    const data = { fields: { name: 'A', custom: { 'a/b~c': 1 } }, changes: { 'custom.hobby': 'x' }, other: { deep: true } };
    expect(pointerTo('fields', 'custom', 'a/b~c')).toBe('/fields/custom/a~1b~0c');
    expect(valueAt(data, '/fields/custom/a~1b~0c')).toBe(1);
    expect(valueAt(data, '/changes/custom.hobby')).toBe('x');
    expect(valueAt(data, '/fields/missing')).toBeUndefined();
    const next = withValueAt(data, '/fields/name', 'B') as typeof data;
    expect(next.fields.name).toBe('B');
    expect(data.fields.name).toBe('A');
    expect(next.other).toBe(data.other);
    expect(withValueAt(data, '/fields/missing', 'B')).toEqual(data);
  });

  it('puts a value in place where withValueAt would replace it, and nowhere else', () => {
    const text = '{"fields":{"name":"A","phones":["1","2"],"custom":{"a/b~c":1}},"__proto__":{"x":1},"n":null}';
    const pointers = ['/fields/name', '/fields/phones/1', '/fields/custom/a~1b~0c', '/__proto__/x', '/fields/missing', '/fields/name/deeper', '/n/x', '/missing/x', '/fields/phones/7'];
    for (const pointer of pointers) {
      const data = JSON.parse(text) as unknown;
      const put = putValueAt(data, pointer, 'B');
      expect(put).toBe(data);
      expect(put).toEqual(withValueAt(JSON.parse(text), pointer, 'B'));
      expect(Object.getPrototypeOf(put)).toBe(Object.prototype);
    }
    expect((putValueAt(JSON.parse(text), '/fields/name', 'B') as { fields: { name: string } }).fields.name).toBe('B');
    expect(putValueAt(JSON.parse(text), '', 'whole')).toBe('whole');
  });

  it('names the personal values of a record event: standard and custom personal fields, set or changed, never a cleared one', () => {
    const standard = ['name', 'mobile'];
    const custom = new Set(['hobby']);
    expect(personalPointers({ contactId: '1', fields: { name: 'A', title: 'T', mobile: null, custom: { hobby: 'h', colour: 'c' } } }, standard, custom)).toEqual(['/fields/name', '/fields/custom/hobby']);
    expect(personalPointers({ changes: { mobile: '1', title: 'T', 'custom.hobby': 'h', 'custom.colour': 'c', name: null } }, standard, custom)).toEqual(['/changes/mobile', '/changes/custom.hobby']);
    expect(personalPointers({ contactId: '1', customerId: '2' }, standard, custom)).toEqual([]);
  });
});

describe('the crypto-shredding store', () => {
  /** A contact's name is personal in every event that carries one. */
  const namePolicy = { applies: (streamId: string) => streamId.startsWith('contact-'), personalValues: async (streamId: string) => [{ subjectId: streamId, pointers: ['/name'] }] };
  /** A contact's name is personal in its Added event, and PersonalDataErased names the subject erased. */
  const erasingPolicy = {
    applies: (streamId: string) => streamId.startsWith('contact-'),
    personalValues: async (streamId: string, event: { type: string }) => (event.type === 'Added' ? [{ subjectId: streamId, pointers: ['/name'] }] : []),
    erasedSubject: (event: { type: string; data: unknown }) => (event.type === 'PersonalDataErased' ? (event.data as { subjectId: string }).subjectId : undefined),
  };

  it('seals on append, opens on every read, and reads [erased] once the key is gone; writes nothing personal for an erased subject', async () => {
    const inner = new SqliteEventStore({ path: ':memory:' });
    const store = new PersonalDataEventStore(inner, namePolicy, new SqliteSubjectKeys(':memory:'), '[erased]');
    await store.append('contact-1', [{ id: '01900000-0000-7000-8000-000000000001', type: 'Added', data: { name: '王伟', title: 'CFO' }, metadata }], 'no_stream');
    await store.append('other-1', [{ id: '01900000-0000-7000-8000-000000000002', type: 'Added', data: { name: 'plain' }, metadata }], 'no_stream');
    const stored = await inner.readStream('contact-1');
    expect(String((stored[0]!.data as { name: string }).name).startsWith(SEALED_PREFIX)).toBe(true);
    expect(stored[0]!.metadata.personal).toEqual([{ subjectId: 'contact-1', pointers: ['/name'] }]);
    expect((await store.readStream('contact-1'))[0]!.data).toEqual({ name: '王伟', title: 'CFO' });
    expect((await store.readAll()).map((event) => event.data)).toEqual([{ name: '王伟', title: 'CFO' }, { name: 'plain' }]);
    // A retried append (same event id) seals to the same bytes: recognised as the same event, not a conflict.
    await store.append('contact-1', [{ id: '01900000-0000-7000-8000-000000000001', type: 'Added', data: { name: '王伟', title: 'CFO' }, metadata }], 'any');
    expect(await inner.readStream('contact-1')).toHaveLength(1);
    const seen: unknown[] = [];
    const subscription = store.subscribeToAll({}, { onEvent: (event) => void seen.push(event.data) });
    await expect.poll(() => seen.length).toBe(2);
    await subscription.close();
    expect(seen[0]).toEqual({ name: '王伟', title: 'CFO' });
    expect(await store.erase('contact-1', '2026-12-02T00:00:00.000Z')).toBe(true);
    expect((await store.readStream('contact-1'))[0]!.data).toEqual({ name: '[erased]', title: 'CFO' });
    expect((await store.readAll())[0]!.data).toEqual({ name: '[erased]', title: 'CFO' });
    // Nothing of an erased person is written again: a value for them is stored as [erased], not sealed.
    await store.append('contact-1', [{ id: '01900000-0000-7000-8000-000000000003', type: 'Changed', data: { name: 'again' }, metadata }], 'any');
    const rewritten = (await inner.readStream('contact-1'))[1]!;
    expect(rewritten.data).toEqual({ name: '[erased]' });
    expect(rewritten.metadata.personal).toBeUndefined();
    // An event from before sealing holds its values in clear: read as written, and as [erased] once its subject is.
    await inner.append('contact-2', [{ id: '01900000-0000-7000-8000-000000000004', type: 'Added', data: { name: '旧的', title: 'CTO' }, metadata }], 'no_stream');
    expect((await store.readStream('contact-2'))[0]!.data).toEqual({ name: '旧的', title: 'CTO' });
    await store.erase('contact-2', '2026-12-02T00:00:00.000Z');
    expect((await store.readStream('contact-2'))[0]!.data).toEqual({ name: '[erased]', title: 'CTO' });
    expect((await store.readAll()).map((event) => event.data)).toContainEqual({ name: '[erased]', title: 'CTO' });
    await store.close();
  });

  it('keeps at most the keys it is told to: one it forgot is read again from the key store, an erased one stays erased', async () => {
    const inner = new SqliteEventStore({ path: ':memory:' });
    const keys = new SqliteSubjectKeys(':memory:');
    let fetched = 0;
    const counted = { get: (subjectId: string, create: boolean) => (fetched++, keys.get(subjectId, create)), getMany: (subjectIds: readonly string[]) => ((fetched += subjectIds.length), keys.getMany(subjectIds)), erase: keys.erase.bind(keys), close: keys.close.bind(keys) };
    const store = new PersonalDataEventStore(inner, namePolicy, counted, '[erased]', { cachedKeys: 8 });
    const names = Array.from({ length: 30 }, (_, i) => `联系人 ${i}`);
    for (const [i, name] of names.entries()) await store.append(`contact-${i}`, [{ id: `01900000-0000-7000-8000-${String(i).padStart(12, '0')}`, type: 'Added', data: { name }, metadata }], 'no_stream');
    await store.erase('contact-3', '2026-12-02T00:00:00.000Z');
    const expected = names.map((name, i) => ({ name: i === 3 ? '[erased]' : name }));
    fetched = 0;
    // Twice over 30 subjects with room for 8: the second pass fetches again the keys the first one forgot.
    expect((await store.readAll()).map((event) => event.data)).toEqual(expected);
    const firstPass = fetched;
    expect((await store.readAll()).map((event) => event.data)).toEqual(expected);
    expect(fetched - firstPass).toBeGreaterThanOrEqual(30 - 8);
    // A subject read again at once comes from the cache.
    fetched = 0;
    await store.readStream('contact-29');
    await store.readStream('contact-29');
    expect(fetched).toBe(0);
    await store.close();
  });

  it('fetches the keys a batch lacks in one read, and still opens one erased within the batch as erased', async () => {
    const inner = new SqliteEventStore({ path: ':memory:' });
    const keys = new SqliteSubjectKeys(':memory:');
    const writer = new PersonalDataEventStore(inner, erasingPolicy, keys, '[erased]');
    for (let i = 0; i < 20; i++) await writer.append(`contact-${i}`, [{ id: `01900000-0000-7000-8000-${String(i).padStart(12, '0')}`, type: 'Added', data: { name: `联系人 ${i}` }, metadata }], 'no_stream');
    const calls = { get: 0, getMany: 0 };
    const counted = { get: (subjectId: string, create: boolean) => (calls.get++, keys.get(subjectId, create)), getMany: (subjectIds: readonly string[]) => (calls.getMany++, keys.getMany(subjectIds)), erase: keys.erase.bind(keys), close: keys.close.bind(keys) };
    const reader = new PersonalDataEventStore(inner, erasingPolicy, counted, '[erased]');
    expect((await reader.readAll()).map((event) => event.data)).toEqual(Array.from({ length: 20 }, (_, i) => ({ name: `联系人 ${i}` })));
    expect(calls).toEqual({ get: 0, getMany: 1 });
    // Erased by another process: the batch holding its erasure event opens the values after it as erased.
    await writer.erase('contact-4', '2026-12-02T00:00:00.000Z');
    await writer.append('contact-4', [{ id: '01900000-0000-7000-8000-000000000100', type: 'PersonalDataErased', data: { subjectId: 'contact-4' }, metadata }], 'any');
    await writer.append('contact-4', [{ id: '01900000-0000-7000-8000-000000000101', type: 'Added', data: { name: '又一个' }, metadata }], 'any');
    const after = await reader.readAll({ after: 20n });
    expect(after.map((event) => event.data)).toEqual([{ subjectId: 'contact-4' }, { name: '[erased]' }]);
    await writer.close();
  });

  it('an event in clear of a subject\'s own stream: its values are looked for only once that subject is erased', async () => {
    const inner = new SqliteEventStore({ path: ':memory:' });
    let asked = 0;
    const ownPolicy = { ...erasingPolicy, ownSubject: (streamId: string) => (streamId.startsWith('contact-') ? streamId : undefined), personalValues: async (streamId: string, event: { type: string }) => (asked++, erasingPolicy.personalValues(streamId, event)) };
    // Written before sealing: in clear, with no metadata.personal.
    await inner.append('contact-1', [{ id: '01900000-0000-7000-8000-000000000001', type: 'Added', data: { name: '王伟' }, metadata }], 'no_stream');
    await inner.append('contact-2', [{ id: '01900000-0000-7000-8000-000000000002', type: 'Added', data: { name: '李娜' }, metadata }], 'no_stream');
    const store = new PersonalDataEventStore(inner, ownPolicy, new SqliteSubjectKeys(':memory:'), '[erased]');
    expect((await store.readAll()).map((event) => event.data)).toEqual([{ name: '王伟' }, { name: '李娜' }]);
    expect(asked).toBe(0);
    await store.erase('contact-2', '2026-12-06T00:00:00.000Z');
    expect((await store.readAll()).map((event) => event.data)).toEqual([{ name: '王伟' }, { name: '[erased]' }]);
    expect(asked).toBe(1);
    await store.close();
  });

  it('another process that erased a subject: the erasure event it reads makes this one forget the key it cached', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'crm-pd-')), 'events.sqlite');
    const open = () => new PersonalDataEventStore(new SqliteEventStore({ path }), erasingPolicy, new SqliteSubjectKeys(path), '[erased]');
    const api = open();
    const worker = open();
    await api.append('contact-9', [{ id: '01900000-0000-7000-8000-000000000009', type: 'Added', data: { name: '李娜' }, metadata }], 'no_stream');
    // The worker reads (and caches the key).
    expect((await worker.readAll()).map((event) => event.data)).toEqual([{ name: '李娜' }]);
    // The API instance erases the subject and records it.
    await api.erase('contact-9', '2026-12-02T00:00:00.000Z');
    await api.append('contact-9', [{ id: '01900000-0000-7000-8000-000000000010', type: 'PersonalDataErased', data: { subjectId: 'contact-9' }, metadata }], 'any');
    // The worker meets the erasure in the log (its projections read it): from then on the values read [erased].
    await worker.readAll({ after: 1n });
    expect((await worker.readAll()).map((event) => event.data)).toEqual([{ name: '[erased]' }, { subjectId: 'contact-9' }]);
    expect((await worker.readStream('contact-9'))[0]!.data).toEqual({ name: '[erased]' });
    await api.close();
    await worker.close();
  });
});
