import { recordStream, type ResourceName, specOf } from '../domain/customization/resources.ts';
import type { DomainEvent } from '../domain/shared/decider.ts';
import { DomainError } from '../domain/shared/errors.ts';
import type { Actor, CommandDeps, RequestMeta } from './context.ts';
import { RecordHandler } from './record-handler.ts';

/**
 * The commands of a catalog record type (see domain/shared/catalog): create, change, archive, restore, through the
 * one record handler. `name` and `idField` are the catalog's (e.g. `EmailTemplate`, `templateId`).
 */
export function catalogCommands<Fields extends Record<string, unknown>>(resource: ResourceName, name: string, idField: string) {
  const handler = (deps: CommandDeps, actor: Actor, meta: RequestMeta) => new RecordHandler<Record<string, unknown> & { type: string }, { status: string }>({ resource }, deps, actor, meta);
  const command = (verb: string, id: string, rest: Record<string, unknown> = {}) => ({ type: `${verb}${name}`, [idField]: id, ...rest });
  return {
    create: (deps: CommandDeps, fields: Fields, actor: Actor, meta: RequestMeta) => handler(deps, actor, meta).create(fields, (id, all) => command('Create', id, { fields: all })),
    change: (deps: CommandDeps, id: string, changes: Record<string, unknown>, actor: Actor, meta: RequestMeta) => handler(deps, actor, meta).change(id, changes, (plain) => command('Change', id, { changes: plain })),
    archive: (deps: CommandDeps, id: string, actor: Actor, meta: RequestMeta) => handler(deps, actor, meta).run(id, command('Archive', id)),
    restore: (deps: CommandDeps, id: string, actor: Actor, meta: RequestMeta) => handler(deps, actor, meta).run(id, command('Restore', id)),
  };
}

/**
 * A catalog record as it was at `revision` (default: now), active: what a send uses, however it changed since.
 * An unknown or archived one answers `<code>.not_found`.
 */
export async function catalogRecordAt<Fields>(deps: CommandDeps, resource: ResourceName, code: string, id: string, revision?: number): Promise<{ fields: Fields; revision: number }> {
  const spec = specOf(resource);
  const events = await deps.eventStore.readStream(recordStream(spec, id));
  const upTo = revision === undefined ? events : events.filter((event) => event.revision <= BigInt(revision));
  const decider = spec.decider as unknown as { initialState: { status: string }; evolve(state: { status: string }, event: DomainEvent): { status: string } };
  const state = upTo.reduce((current, event) => decider.evolve(current, event), decider.initialState) as { status: string; fields?: Fields };
  if (state.status !== 'active' || !state.fields) throw new DomainError(`${code}.not_found`, `${spec.singular.replace(/_/g, ' ')} ${id} does not exist`, { id });
  return { fields: state.fields, revision: Number(upTo.at(-1)!.revision) };
}
