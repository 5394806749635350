import { describe, expect, it } from 'vitest';
import { reservationDecider } from '../../src/domain/reservation/index.ts';
import { normalizeName, normalizeTaxNumber } from '../../src/domain/shared/normalize.ts';
import { specFor } from '../support/spec.ts';

describe('reservation decider', () => {
  const { given } = specFor(reservationDecider);
  const claimed = { type: 'ReservationClaimed' as const, data: { scope: 's', value: 'v', holderId: 'a' } };

  it('claims a free value', () => given([]).when({ type: 'ClaimReservation', scope: 's', value: 'v', holderId: 'a' }).then([claimed]));
  it('is a no-op for the holder claiming again', () =>
    given([claimed]).when({ type: 'ClaimReservation', scope: 's', value: 'v', holderId: 'a' }).thenNothing());
  it('refuses another holder, naming the holder', () => {
    const error = given([claimed]).when({ type: 'ClaimReservation', scope: 's', value: 'v', holderId: 'b' }).thenThrows('reservation.held');
    expect(error.details.holderId).toBe('a');
  });
  it('lets another holder take over a stale claim', () =>
    given([claimed])
      .when({ type: 'ClaimReservation', scope: 's', value: 'v', holderId: 'b', takeOver: true })
      .then([{ type: 'ReservationClaimed', data: { scope: 's', value: 'v', holderId: 'b' } }]));
  it('releases only for the holder', () => {
    given([claimed])
      .when({ type: 'ReleaseReservation', scope: 's', value: 'v', holderId: 'a' })
      .then([{ type: 'ReservationReleased', data: { scope: 's', value: 'v', holderId: 'a' } }]);
    given([claimed]).when({ type: 'ReleaseReservation', scope: 's', value: 'v', holderId: 'b' }).thenNothing();
  });
  it('frees the value after a release', () =>
    given([claimed, { type: 'ReservationReleased', data: { scope: 's', value: 'v', holderId: 'a' } }])
      .when({ type: 'ClaimReservation', scope: 's', value: 'v', holderId: 'b' })
      .then([{ type: 'ReservationClaimed', data: { scope: 's', value: 'v', holderId: 'b' } }]));
});

describe('normalisation for uniqueness', () => {
  it('treats full-width, case, spaces and punctuation alike', () => {
    expect(normalizeName('上海精工（集团）有限公司')).toBe(normalizeName('上海精工 (集团) 有限公司'));
    expect(normalizeName('ＡＣＭＥ Co., Ltd.')).toBe(normalizeName('acme co ltd'));
    expect(normalizeName('Acme')).not.toBe(normalizeName('Acme 2'));
  });
  it('normalises tax numbers', () => {
    expect(normalizeTaxNumber('9131-0000 ma1fl0xx1a')).toBe('91310000MA1FL0XX1A');
  });

  it('records the keyed hash instead of the value when given one', () => {
    const { given } = specFor(reservationDecider);
    const hashed = { type: 'ReservationClaimed' as const, data: { scope: 's', valueHash: 'h', holderId: 'a' } };
    given([]).when({ type: 'ClaimReservation', scope: 's', value: 'v', holderId: 'a', valueHash: 'h' }).then([hashed]);
    given([hashed]).when({ type: 'ReleaseReservation', scope: 's', value: 'v', holderId: 'a', valueHash: 'h' }).then([{ type: 'ReservationReleased', data: { scope: 's', valueHash: 'h', holderId: 'a' } }]);
    expect(given([hashed]).when({ type: 'ClaimReservation', scope: 's', value: 'v', holderId: 'b', valueHash: 'h' }).thenThrows('reservation.held').message).toBe('s "v" is already taken');
  });
});
