import type { z } from 'zod';

/** The event union of an aggregate that declares its events as zod schemas: `{ type: <name>, data: <its schema's type> }` for each. */
export type EventsOf<Schemas extends Record<string, z.ZodType>> = { [K in keyof Schemas & string]: { type: K; data: z.infer<Schemas[K]> } }[keyof Schemas & string];

/** The shape every aggregate follows: pure functions, no I/O, no clock, no randomness. */
export interface DomainEvent<Type extends string = string, Data = unknown> {
  type: Type;
  data: Data;
}

export interface Decider<Command, Event extends DomainEvent, State> {
  initialState: State;
  evolve(state: State, event: Event): State;
  decide(command: Command, state: State): Event[];
}

export const fold = <Event extends DomainEvent, State>(
  decider: Pick<Decider<unknown, Event, State>, 'initialState' | 'evolve'>,
  events: readonly Event[],
): State => events.reduce(decider.evolve, decider.initialState);
