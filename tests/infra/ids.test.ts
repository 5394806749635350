import { describe, expect, it } from 'vitest';
import { derivedEventId, orderedId, randomIds, requestOrderedEventId } from '../../src/infra/ids.ts';

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

describe('the ids of the events a request appends', () => {
  const UUID_V8 = /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
  let now = Date.parse('2026-12-03T12:00:00.000Z');
  const ids = randomIds({ now: () => new Date(now) });

  it('are the same for the same request, stream and index, and differ otherwise', () => {
    const requestId = ids.newId();
    const id = ids.eventId!(requestId, 'customer-1', 0);
    expect(id).toMatch(UUID_V8);
    expect(requestOrderedEventId(requestId, 'customer-1', 0)).toBe(id);
    const others = [ids.eventId!(requestId, 'customer-1', 1), ids.eventId!(requestId, 'customer-2', 0), ids.eventId!(ids.newId(), 'customer-1', 0)];
    expect(new Set([id, ...others]).size).toBe(4);
  });

  it("follow the order of the requests the service numbers (their time and sequence), so the log's index takes them in order", () => {
    const requests = Array.from({ length: 50 }, (_, i) => {
      if (i % 10 === 0) now += 1;
      return ids.newId();
    });
    const eventIds = requests.map((requestId, i) => ids.eventId!(requestId, `reservation-${i % 3}`, 0));
    expect([...eventIds].sort()).toEqual(eventIds);
    // The first 12 digits are the request's time, the next three its sequence.
    const hex = (id: string) => id.replace(/-/g, '');
    for (const [i, id] of eventIds.entries()) expect(hex(id).slice(0, 12) + hex(id).slice(13, 16)).toBe(hex(requests[i]!).slice(0, 12) + hex(requests[i]!).slice(13, 16));
  });

  it('of a request id that is not a UUIDv7 (an idempotency key, a derived request) are the name-based ones', () => {
    expect(requestOrderedEventId('import:1:row:2', 'customer-1', 0)).toBe(derivedEventId('import:1:row:2', 'customer-1', 0));
    expect(requestOrderedEventId('not-a-uuid', 's', 3)).toBe(derivedEventId('not-a-uuid', 's', 3));
  });
});
