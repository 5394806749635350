import { settingsCategory } from '../domain/categories.ts';
import { createHash } from 'node:crypto';
import { WrongExpectedRevisionError } from '../infra/eventstore/port.ts';
import type { Actor, CommandDeps, RequestMeta } from './context.ts';
import { factEvent } from './pipeline.ts';
import { PreconditionFailedError } from './errors.ts';

/**
 * Settings documents (layouts, list views, related panels, preferences, the pool rule): each key is a
 * stream whose last `SettingChanged` holds the value, so every change is kept with who made it and when.
 * `If-Match` applies as everywhere; an unchanged value appends nothing.
 */
export const settingStream = (key: string): string => `${settingsCategory}-${createHash('sha256').update(key).digest('hex').slice(0, 40)}`;

export async function readSetting<T>(deps: CommandDeps, key: string): Promise<{ value: T | undefined; revision: bigint }> {
  const events = await deps.eventStore.readStream(settingStream(key));
  const last = events[events.length - 1];
  return { value: last ? ((last.data as { value: T }).value ?? undefined) : undefined, revision: last ? last.revision : -1n };
}

export async function writeSetting<T>(deps: CommandDeps, key: string, value: T, actor: Actor, meta: RequestMeta): Promise<{ revision: bigint; position: bigint; changed: boolean }> {
  const current = await readSetting<T>(deps, key);
  if (meta.ifMatch !== undefined && meta.ifMatch !== current.revision) throw new PreconditionFailedError(key, meta.ifMatch, current.revision);
  if (JSON.stringify(current.value) === JSON.stringify(value)) return { revision: current.revision, position: 0n, changed: false };
  try {
    const result = await deps.eventStore.append(
      settingStream(key),
      [factEvent(deps, meta, actor.userId, { type: 'SettingChanged', data: { key, value } })],
      current.revision < 0n ? 'no_stream' : current.revision,
    );
    return { revision: result.nextExpectedRevision, position: result.position, changed: true };
  } catch (error) {
    if (error instanceof WrongExpectedRevisionError) throw new PreconditionFailedError(key, current.revision, typeof error.actual === 'bigint' ? error.actual : -1n);
    throw error;
  }
}

/**
 * A company setting with a default until an administrator saves one (the business calendar, the expense and
 * approval rules): `read` answers the value in force and the revision, `write` saves a new one.
 */
export function settingWithDefault<T>(key: string, fallback: T) {
  return {
    key,
    async read(deps: CommandDeps): Promise<{ value: T; revision: bigint }> {
      const { value, revision } = await readSetting<T>(deps, key);
      return { value: value ?? fallback, revision };
    },
    write: (deps: CommandDeps, value: T, actor: Actor, meta: RequestMeta) => writeSetting(deps, key, value, actor, meta),
  };
}
