import type { Actor } from '../commands/context.ts';
import { HttpProblem } from './problem.ts';

/**
 * Field-level security: per role, a field of a resource (standard by name, custom as `custom.<key>`) may be
 * hidden or read-only. Hidden fields are taken out of every response the actor reads (records, lists, exports,
 * history, related panels); writing a hidden or read-only field is refused with 403 naming it.
 */
type Json = Record<string, unknown>;
export type ResponseShape = 'record' | 'page' | 'history' | 'related';

const hiddenOf = (actor: Actor, resource: string) =>
  Object.entries(actor.fieldRules[resource] ?? {})
    .filter(([, rule]) => rule === 'hidden')
    .map(([field]) => field);

export const hiddenFields = (actor: Actor, resource: string): Set<string> => new Set(hiddenOf(actor, resource));

/** Nested resources a record carries (a customer's embedded contact summaries and contacts). */
export const NESTED_RESOURCES: Readonly<Record<string, Readonly<Record<string, string>>>> = { customers: { contacts: 'contacts' } };
const nested = NESTED_RESOURCES;

/** Every path hidden for the actor in a resource's documents: its own fields and its nested resources' (`contacts.mobile`). */
export const hiddenPaths = (actor: Actor, resource: string): string[] => [
  ...hiddenOf(actor, resource),
  ...Object.entries(nested[resource] ?? {}).flatMap(([key, inner]) => hiddenOf(actor, inner).map((field) => `${key}.${field}`)),
];

/** Whether a field (`name`, `custom.<key>`, or a nested resource's `contacts.mobile`) is hidden for the actor. */
export function isHidden(actor: Actor, resource: string, path: string): boolean {
  if (actor.fieldRules[resource]?.[path] === 'hidden') return true;
  const dot = path.indexOf('.');
  const inner = dot > 0 ? nested[resource]?.[path.slice(0, dot)] : undefined;
  return inner !== undefined && actor.fieldRules[inner]?.[path.slice(dot + 1)] === 'hidden';
}

function withoutFields(record: Json, hidden: string[]): Json {
  const out: Json = { ...record };
  for (const field of hidden) {
    if (field.startsWith('custom.')) {
      const custom = out.custom as Json | undefined;
      if (custom && typeof custom === 'object') {
        const { [field.slice(7)]: _gone, ...kept } = custom;
        out.custom = kept;
      }
    } else delete out[field];
  }
  return out;
}

export function redactRecord(actor: Actor, resource: string, record: unknown): unknown {
  if (!record || typeof record !== 'object' || Array.isArray(record)) return record;
  let out = withoutFields(record as Json, hiddenOf(actor, resource));
  for (const [key, inner] of Object.entries(nested[resource] ?? {}))
    if (Array.isArray(out[key])) out = { ...out, [key]: (out[key] as unknown[]).map((item) => redactRecord(actor, inner, item)) };
  return out;
}

/** History data: a record's fields (`fields`), its changes (`changes`, dotted custom keys) and plain data keys. */
function redactEventData(actor: Actor, resource: string, data: Json): Json {
  const hidden = hiddenOf(actor, resource);
  let out = withoutFields(data, hidden);
  if (out.fields && typeof out.fields === 'object') out = { ...out, fields: withoutFields(out.fields as Json, hidden) };
  if (out.changes && typeof out.changes === 'object') out = { ...out, changes: Object.fromEntries(Object.entries(out.changes as Json).filter(([key]) => !hidden.includes(key))) };
  return out;
}

export function redact(actor: Actor, resource: string, shape: ResponseShape, body: unknown): unknown {
  // Related panels hold other resources' records (a customer's tickets): each is judged by its own rules.
  if (shape !== 'related' && !actor.fieldRules[resource] && !Object.values(nested[resource] ?? {}).some((r) => actor.fieldRules[r])) return body;
  const value = body as Json;
  switch (shape) {
    case 'record':
      return redactRecord(actor, resource, body);
    case 'page':
      return { ...value, items: (value.items as unknown[]).map((item) => redactRecord(actor, resource, item)) };
    case 'history':
      return { ...value, items: (value.items as Json[]).map((item) => ({ ...item, data: redactEventData(actor, resource, item.data as Json) })) };
    case 'related':
      return { ...value, panels: (value.panels as Json[]).map((panel) => ({ ...panel, items: (panel.items as unknown[]).map((item) => redactRecord(actor, String(panel.key), item)) })) };
  }
}

/** Refuses a write that sets a hidden or read-only field (403 naming the first one). */
export function assertWritable(actor: Actor, resource: string, body: unknown): void {
  if (!body || typeof body !== 'object') return;
  const record = body as Json;
  assertFieldsWritable(actor, resource, [
    ...Object.keys(record).filter((key) => key !== 'custom'),
    ...(record.custom && typeof record.custom === 'object' ? Object.keys(record.custom as Json).map((key) => `custom.${key}`) : []),
  ]);
}

/** Refuses a change to these fields when one is hidden or read-only for the actor (403 naming them). */
export function assertFieldsWritable(actor: Actor, resource: string, written: readonly string[]): void {
  const rules = actor.fieldRules[resource];
  if (!rules) return;
  const refused = [...new Set(written)].filter((field) => rules[field] !== undefined);
  if (refused.length)
    throw new HttpProblem(403, 'field.readonly', 'Field not writable', `You may not change ${refused.join(', ')}`, { fields: refused, errors: refused.map((path) => ({ path, message: 'Read-only for your role' })) });
}
