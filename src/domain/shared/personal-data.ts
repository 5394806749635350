/** What a personal value reads as once its data subject was erased (crypto-shredding): in records, lists, history and rebuilds. */
export const ERASED = '[erased]';

/** The subject an event says was erased (its key destroyed): a contact's `PersonalDataErased` names it. */
export const erasedSubjectOf = (event: { type: string; data: unknown }): string | undefined =>
  event.type === 'PersonalDataErased' ? (event.data as { subjectId?: string }).subjectId : undefined;

/** A JSON pointer (RFC 6901) to a path of keys in an event's data. */
export const pointerTo = (...keys: readonly string[]): string => keys.map((key) => '/' + key.replaceAll('~', '~0').replaceAll('/', '~1')).join('');

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Where a record event's data holds personal values: in its fields (`/fields/mobile`, `/fields/custom/hobby`) and
 * in its changes (`/changes/mobile`, `/changes/custom.hobby`), by the record type's standard personal fields and
 * its custom fields marked personal. A cleared value (null) holds nothing.
 */
export function personalPointers(data: unknown, standard: readonly string[], custom: ReadonlySet<string>): string[] {
  if (!isObject(data)) return [];
  const pointers: string[] = [];
  const present = (value: unknown) => value !== undefined && value !== null;
  if (isObject(data.fields)) {
    for (const field of standard) if (present(data.fields[field])) pointers.push(pointerTo('fields', field));
    const values = data.fields.custom;
    if (isObject(values)) for (const key of Object.keys(values)) if (custom.has(key) && present(values[key])) pointers.push(pointerTo('fields', 'custom', key));
  }
  if (isObject(data.changes))
    for (const [key, value] of Object.entries(data.changes))
      if (present(value) && (standard.includes(key) || (key.startsWith('custom.') && custom.has(key.slice(7))))) pointers.push(pointerTo('changes', key));
  return pointers;
}

/** Each personal field of a record (`name`, `custom.<key>`) that holds a value, set to `[erased]`. */
export function erasedFields<T extends Record<string, unknown>>(fields: T, erased: readonly string[]): T {
  const next: Record<string, unknown> = { ...fields };
  for (const path of erased) {
    if (!path.startsWith('custom.')) {
      if (next[path] !== undefined && next[path] !== null) next[path] = ERASED;
      continue;
    }
    const custom = next.custom;
    const key = path.slice(7);
    if (isObject(custom) && custom[key] !== undefined && custom[key] !== null) next.custom = { ...custom, [key]: ERASED };
  }
  return next as T;
}
