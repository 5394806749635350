import { DomainError } from './errors.ts';
import { stableUuid } from './stable-id.ts';

/** Whom an allotment is for: one employee, or a department (its sub-departments' people included). */
export interface AllotmentOwner {
  employeeId?: string | undefined;
  departmentId?: string | undefined;
}

/** `employee:<id>` or `department:<id>`: how counters and allotments name whom they are for. */
export const targetKey = (fields: AllotmentOwner): string => (fields.employeeId ? `employee:${fields.employeeId}` : `department:${fields.departmentId}`);

/**
 * The words of one kind of allotment: its name in codes and messages, the field naming its id, the field keying it
 * besides whom and which month (an expense category, a metric), the field holding its value, and its event types.
 */
export interface AllotmentWords {
  kind: string;
  id: string;
  key: string;
  value: string;
  events: { set: string; changed: string; removed: string };
  commands: { set: string; change: string; remove: string };
}

/** One per whom, key and month: the id follows from them, so a second one for the same is refused. */
export const allotmentIdFor = (words: Pick<AllotmentWords, 'kind'>, fields: AllotmentOwner & { month: string }, key: string): string => stableUuid(`${words.kind}:${targetKey(fields)}:${key}:${fields.month}`);

type Fields = AllotmentOwner & Record<string, unknown>;
type Event = { type: string; data: Record<string, unknown> };
type State = { status: 'none' } | ({ status: 'active' | 'removed'; fields: Fields } & Record<string, unknown>);
/** A command as its kind names it (`SetBudget { budgetId, fields }`, `ChangeBudget { budgetId, changes }`, `RemoveBudget { budgetId }`). */
type Command = { type: string; fields?: Fields; changes?: Record<string, unknown> } & Record<string, unknown>;

/**
 * The decider of a monthly allotment (a budget, a sales target): a value set for one employee or one department,
 * one key and one month. Set once (409 `<kind>.already_exists`; again after removal), its value changed (its
 * whom, key and month are fixed: `<kind>.key_fixed`), removed. `parseValue` checks a new value against the
 * fields (a target's value is Money or a count by its metric).
 */
export function allotmentDecider<S, C, E>(words: AllotmentWords, parseValue: (value: unknown, fields: Fields) => unknown): { initialState: S; evolve(state: S, event: E): S; decide(command: C, state: S): E[] } {
  const Kind = words.kind[0]!.toUpperCase() + words.kind.slice(1);
  const evolve = (state: State, event: Event): State => {
    switch (event.type) {
      case words.events.set:
        return { status: 'active', [words.id]: event.data[words.id], fields: event.data.fields as Fields };
      case words.events.changed:
        return state.status === 'none' ? state : { ...state, fields: { ...state.fields, [words.value]: event.data[words.value] } };
      case words.events.removed:
        return state.status === 'none' ? state : { ...state, status: 'removed' };
      default:
        return state;
    }
  };
  const decide = (command: Command, state: State): Event[] => {
    const id = command[words.id] as string;
    if (command.type === words.commands.set) {
      const fields = command.fields!;
      if (state.status === 'active') throw new DomainError(`${words.kind}.already_exists`, `A ${words.kind} for this ${fields.employeeId ? 'employee' : 'department'}, ${words.key} and month exists already (${id}); change its ${words.value} instead`, { [words.id]: id });
      if (!fields.employeeId === !fields.departmentId) throw new DomainError(`${words.kind}.target_required`, 'Name either employeeId or departmentId', {});
      return [{ type: words.events.set, data: { [words.id]: id, fields } }];
    }
    if (state.status !== 'active') throw new DomainError(`${words.kind}.not_found`, `${Kind} ${id} does not exist`, { [words.id]: id });
    if (command.type === words.commands.remove) return [{ type: words.events.removed, data: { [words.id]: id } }];
    const { [words.value]: value, ...others } = command.changes ?? {};
    const moved = Object.keys(others).filter((field) => JSON.stringify(others[field]) !== JSON.stringify(state.fields[field]));
    if (moved.length) throw new DomainError(`${words.kind}.key_fixed`, `A ${words.kind}'s ${moved.join(', ')} cannot change (remove it and set another)`, { fields: moved });
    if (value === undefined) return [];
    const next = parseValue(value, state.fields);
    return JSON.stringify(next) === JSON.stringify(state.fields[words.value]) ? [] : [{ type: words.events.changed, data: { [words.id]: id, [words.value]: next } }];
  };
  // The kind's own types name the same shapes (its state, commands and events); checked by its decider tests.
  return { initialState: { status: 'none' } as S, evolve: evolve as never, decide: decide as never };
}
