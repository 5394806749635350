import { describe, expect, it } from 'vitest';
import { orderedId } from '../../src/infra/ids.ts';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('orderedId', () => {
  const time = Date.parse('2026-12-03T12:00:00.000Z');

  it('is a UUIDv7 of the time, the same for the same time, ordinal and seed', () => {
    const id = orderedId(time, 42, 'import:x:row:42');
    expect(id).toMatch(UUID_V7);
    expect(id).toBe(orderedId(time, 42, 'import:x:row:42'));
    expect(id.replace(/-/g, '').slice(0, 12)).toBe(time.toString(16).padStart(12, '0'));
    expect(orderedId(time, 42, 'import:x:row:42:other')).not.toBe(id);
  });

  it('sorts by time, then by ordinal (up to 2^32 - 1), whatever the seeds', () => {
    const ordinals = [0, 1, 2, 63, 64, 65, 16_383, 16_384, 1_048_575, 1_048_576, 99_999, 100_000, 2 ** 28, 2 ** 32 - 1].sort((a, b) => a - b);
    const ids = ordinals.map((ordinal) => orderedId(time, ordinal, `seed ${ordinal % 7}`));
    expect([...ids].sort()).toEqual(ids);
    expect(ids.every((id) => UUID_V7.test(id))).toBe(true);
    expect(orderedId(time + 1, 0, 'a') > orderedId(time, 2 ** 32 - 1, 'b')).toBe(true);
  });
});
