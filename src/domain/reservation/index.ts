import { DomainError } from '../shared/errors.ts';

/**
 * A reservation makes a value unique across streams (one customer per normalised name, one login per
 * username). Its stream is appended with optimistic concurrency, so two claimants can never both win.
 */
export type ReservationEvent =
  | { type: 'ReservationClaimed'; data: { scope: string; value: string; holderId: string } }
  | { type: 'ReservationReleased'; data: { scope: string; value: string; holderId: string } };

export type ReservationState = { holderId?: string };

export type ReservationCommand =
  | {
      type: 'ClaimReservation';
      scope: string;
      value: string;
      holderId: string;
      /** True when the handler proved the current holder no longer holds the value (a stale claim). */
      takeOver?: boolean;
    }
  | { type: 'ReleaseReservation'; scope: string; value: string; holderId: string };

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
  switch (command.type) {
    case 'ClaimReservation':
      if (state.holderId === holderId) return [];
      if (state.holderId !== undefined && !command.takeOver)
        throw new DomainError('reservation.held', `${scope} "${value}" is already taken`, {
          scope,
          holderId: state.holderId,
        });
      return [{ type: 'ReservationClaimed', data: { scope, value, holderId } }];
    case 'ReleaseReservation':
      return state.holderId === holderId ? [{ type: 'ReservationReleased', data: { scope, value, holderId } }] : [];
  }
}

export const reservationDecider = { initialState, evolve, decide };
export const reservationCategory = 'reservation';
