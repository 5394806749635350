import { expect } from 'vitest';
import type { Decider, DomainEvent } from '../../src/domain/shared/decider.ts';
import { fold } from '../../src/domain/shared/decider.ts';
import { DomainError } from '../../src/domain/shared/errors.ts';

/** Decider specifications: given(events).when(command).then(events) / .thenThrows(code). */
export function specFor<C, E extends DomainEvent, S>(decider: Decider<C, E, S>) {
  return {
    given: (events: E[]) => ({
      when: (command: C) => {
        const run = () => decider.decide(command, fold(decider, events));
        return {
          then: (expected: E[]) => expect(run()).toEqual(expected),
          thenNothing: () => expect(run()).toEqual([]),
          thenThrows: (code: string) => {
            let thrown: unknown;
            try {
              run();
            } catch (error) {
              thrown = error;
            }
            expect(thrown, `expected ${code}`).toBeInstanceOf(DomainError);
            expect((thrown as DomainError).code).toBe(code);
            return thrown as DomainError;
          },
        };
      },
    }),
  };
}
