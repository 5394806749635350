import { DomainError } from '../shared/errors.ts';

/**
 * A reservation makes a value unique across streams (one customer per normalised name, one login per
 * username). Its stream is appended with optimistic concurrency, so two claimants can never both win.
 * Its events record a keyed hash of the value (`valueHash`), never the value itself (a unique value may be
 * personal data); events of earlier versions hold the `value`.
 */
type Reserved = { scope: string; holderId: string } & ({ valueHash: string; value?: never } | { value: string; valueHash?: never });
export type ReservationEvent = { type: 'ReservationClaimed'; data: Reserved } | { type: 'ReservationReleased'; data: Reserved };

export type ReservationState = { holderId?: string };

export type ReservationCommand =
  | {
      type: 'ClaimReservation';
      scope: string;
      value: string;
      holderId: string;
      /** True when the handler proved the current holder no longer holds the value (a stale claim). */
      takeOver?: boolean;
      /** What the events record instead of the value (its keyed hash); absent, the value (as earlier versions did). */
      valueHash?: string;
    }
  | { type: 'ReleaseReservation'; scope: string; value: string; holderId: string; valueHash?: string };

export const initialState: ReservationState = {};

export function evolve(state: ReservationState, event: ReservationEvent): ReservationState {
  switch (event.type) {
    case 'ReservationClaimed':
      return { holderId: event.data.holderId };
    case 'ReservationReleased':
      return state.holderId === event.data.holderId ? {} : state;
  }
}

export function decide(command: ReservationCommand, state: ReservationState): ReservationEvent[] {
  const { scope, value, holderId } = command;
  const data: Reserved = command.valueHash === undefined ? { scope, value, holderId } : { scope, valueHash: command.valueHash, holderId };
  switch (command.type) {
    case 'ClaimReservation':
      if (state.holderId === holderId) return [];
      if (state.holderId !== undefined && !command.takeOver)
        throw new DomainError('reservation.held', `${scope} "${value}" is already taken`, {
          scope,
          holderId: state.holderId,
        });
      return [{ type: 'ReservationClaimed', data }];
    case 'ReleaseReservation':
      return state.holderId === holderId ? [{ type: 'ReservationReleased', data }] : [];
  }
}

export const reservationDecider = { initialState, evolve, decide };
export const reservationCategory = 'reservation';
