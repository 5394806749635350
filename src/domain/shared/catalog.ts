import { z } from 'zod';
import type { Decider } from './decider.ts';
import { DomainError } from './errors.ts';
import { ChangeSet, diffFields, withChanges } from './normalize.ts';

/**
 * A catalog record: company-wide reference data with nothing but fields, created, changed, archived and restored
 * (an email template, an SMS template). Its events are `<Name>Created`, `<Name>Changed`, `<Name>Archived`,
 * `<Name>Restored`, each carrying the record's id under `idField`; its errors are `<code>.not_found`,
 * `.already_exists`, `.archived`, `.field_required`. A record type declares one instead of writing the decider again.
 */
export function catalogRecord<Name extends string, IdField extends string, Fields extends Record<string, unknown>>(options: {
  name: Name;
  idField: IdField;
  /** The error code prefix, e.g. `email_template`. */
  code: string;
  /** How messages name it, e.g. `Email template`. */
  noun: string;
  fields: z.ZodType<Fields>;
  /** Fields a change may not clear. */
  required: readonly (keyof Fields & string)[];
}) {
  type Id = { [K in IdField]: string };
  type Event =
    | { type: `${Name}Created`; data: Id & { fields: Fields } }
    | { type: `${Name}Changed`; data: Id & { changes: Record<string, unknown> } }
    | { type: `${Name}Archived` | `${Name}Restored`; data: Id };
  type Command =
    | (Id & { type: `Create${Name}`; fields: Fields })
    | (Id & { type: `Change${Name}`; changes: Record<string, unknown> })
    | (Id & { type: `Archive${Name}` | `Restore${Name}` });
  type State = { status: 'none' } | ({ status: 'active' | 'archived'; fields: Fields } & Id);

  const { name, idField, code, noun } = options;
  const id = z.object({ [idField]: z.string() });
  const schemas = {
    [`${name}Created`]: id.extend({ fields: options.fields }),
    [`${name}Changed`]: id.extend({ changes: ChangeSet }),
    [`${name}Archived`]: id,
    [`${name}Restored`]: id,
  } as unknown as Record<Event['type'], z.ZodType>;
  const idOf = (value: { [K in IdField]: string }): string => value[idField];
  const withId = (value: string) => ({ [idField]: value }) as Id;

  const initialState = { status: 'none' } as State;
  function evolve(state: State, event: Event): State {
    if (event.type === `${name}Created`) return { status: 'active', ...withId(idOf(event.data)), fields: (event.data as { fields: Fields }).fields } as State;
    if (state.status === 'none') return state;
    if (event.type === `${name}Changed`) return withChanges(state, (event.data as { changes: Record<string, unknown> }).changes);
    if (event.type === `${name}Archived`) return { ...state, status: 'archived' };
    if (event.type === `${name}Restored`) return { ...state, status: 'active' };
    return state;
  }
  function decide(command: Command, state: State): Event[] {
    const recordId = idOf(command);
    const event = (suffix: string, data: Record<string, unknown> = {}) => [{ type: `${name}${suffix}`, data: { ...withId(recordId), ...data } } as Event];
    if (command.type === `Create${name}`) {
      if (state.status !== 'none') throw new DomainError(`${code}.already_exists`, `${noun} ${recordId} already exists`, { [idField]: recordId });
      return event('Created', { fields: (command as { fields: Fields }).fields });
    }
    if (state.status === 'none') throw new DomainError(`${code}.not_found`, `${noun} ${recordId} does not exist`, { [idField]: recordId });
    if (command.type === `Change${name}`) {
      if (state.status === 'archived') throw new DomainError(`${code}.archived`, `An archived ${noun.toLowerCase()} cannot be changed; restore it first`, { [idField]: recordId });
      const given = (command as { changes: Record<string, unknown> }).changes;
      for (const field of options.required) if (given[field] === null) throw new DomainError(`${code}.field_required`, `${field} cannot be cleared`, { field });
      const changes = diffFields(state.fields, given);
      return Object.keys(changes).length ? event('Changed', { changes }) : [];
    }
    if (command.type === `Archive${name}`) return state.status === 'archived' ? [] : event('Archived');
    return state.status === 'active' ? [] : event('Restored');
  }
  const decider: Decider<Command, Event, State> = { initialState, evolve, decide };
  return { schemas, decider, types: undefined as unknown as { event: Event; command: Command; state: State } };
}
