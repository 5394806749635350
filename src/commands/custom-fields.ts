import type { z } from 'zod';
import { customSchema, type FieldCommand, type FieldDefinition, fieldsDecider, fieldsStream, withDefaults } from '../domain/customization/fields.ts';
import { resourceNames, type ResourceName, specOf, resourceSpec } from '../domain/customization/resources.ts';
import { DomainError } from '../domain/shared/errors.ts';
import type { Actor, CommandDeps, RequestMeta } from './context.ts';
import { execute, load } from './pipeline.ts';
import { isScoped, recordExists, recordVisible, referenceVisible } from './references.ts';
import { claim, isHeld, release, type ReservationHolderCheck } from './reservations.ts';

/** Custom values that fail their definitions; the API answers 400 naming `custom.<key>`. */
export class CustomFieldsInvalidError extends Error {
  constructor(readonly issues: z.core.$ZodIssue[]) {
    super('Invalid custom field values');
    this.name = 'CustomFieldsInvalidError';
  }
}

export async function fieldsOf(deps: CommandDeps, resource: ResourceName): Promise<Record<string, FieldDefinition>> {
  return (await load(deps, fieldsDecider, fieldsStream(resource))).state.fields;
}

export async function defineField(deps: CommandDeps, resource: ResourceName, field: Omit<FieldDefinition, 'retired'>, actor: Actor, meta: RequestMeta) {
  const spec = specOf(resource);
  const command: FieldCommand = { type: 'DefineField', resource, field, referenceable: resourceNames, standardFields: spec.standardFields };
  return execute(deps, fieldsDecider, fieldsStream(resource), command, actor, meta);
}

export const changeField = (deps: CommandDeps, resource: ResourceName, key: string, changes: Extract<FieldCommand, { type: 'ChangeField' }>['changes'], actor: Actor, meta: RequestMeta) =>
  execute(deps, fieldsDecider, fieldsStream(resource), { type: 'ChangeField', resource, key, changes }, actor, meta);

export const retireField = (deps: CommandDeps, resource: ResourceName, key: string, actor: Actor, meta: RequestMeta) =>
  execute(deps, fieldsDecider, fieldsStream(resource), { type: 'RetireField', resource, key }, actor, meta);

/** Reads a record's current custom values, for the unique-value holder check. */
export type CustomOf = (recordId: string) => Promise<Record<string, unknown> | undefined>;

const uniqueValue = (value: unknown) => String(value).normalize('NFKC').trim().toLowerCase();

export interface PreparedCustom {
  /** Create: the full custom object (defaults filled). Change: dotted `custom.<key>` changes. */
  values: Record<string, unknown>;
  /** Unique values claimed for the record; release them if the write fails, and the replaced ones after it. */
  claimed: { scope: string; value: string }[];
  replaced: { scope: string; value: string }[];
}

/**
 * Validates custom values against the definitions in force, fills defaults on create, checks references,
 * and claims unique values for `recordId`.
 */
export async function prepareCustom(
  deps: CommandDeps,
  resource: ResourceName,
  input: unknown,
  mode: 'create' | 'change',
  recordId: string,
  current: Record<string, unknown>,
  customOf: CustomOf,
  actor: Actor,
  meta: RequestMeta,
): Promise<PreparedCustom> {
  const fields = await fieldsOf(deps, resource);
  const parsed = customSchema(fields, mode).safeParse(input ?? {});
  if (!parsed.success) throw new CustomFieldsInvalidError(parsed.error.issues);
  const given = parsed.data as Record<string, unknown>;
  const values = mode === 'create' ? withDefaults(fields, given) : given;
  for (const [key, value] of Object.entries(values)) {
    const field = fields[key]!;
    if (field.type !== 'reference' || value === null) continue;
    // A scoped record must be in the actor's scope; one outside it answers as if it did not exist.
    const target = resourceSpec(field.referenceTo!);
    const found = target !== undefined && (isScoped(target.name) ? await referenceVisible(deps, actor, target, String(value)) : await recordExists(deps, target, String(value)));
    if (!found)
      throw new DomainError('field.reference_not_found', `custom.${key}: no ${field.referenceTo} with id ${String(value)} in your data scope`, {
        field: `custom.${key}`,
        errors: [{ path: `custom.${key}`, message: `No ${field.referenceTo} with this id in your data scope` }],
      });
  }
  const claimed: PreparedCustom['claimed'] = [];
  const replaced: PreparedCustom['replaced'] = [];
  for (const [key, value] of Object.entries(values)) {
    const field = fields[key]!;
    if (!field.unique) continue;
    const scope = `custom.${resource}.${key}`;
    const before = current[key];
    if (before !== undefined && before !== null && uniqueValue(before) !== uniqueValue(value)) replaced.push({ scope, value: uniqueValue(before) });
    if (value === null || (before !== undefined && uniqueValue(before) === uniqueValue(value))) continue;
    const check: ReservationHolderCheck = {
      holds: async (holderId) => {
        const other = await customOf(holderId);
        return other?.[key] !== undefined && uniqueValue(other[key]) === uniqueValue(value);
      },
      exists: async (holderId) => (await customOf(holderId)) !== undefined,
    };
    try {
      await claim(deps, scope, uniqueValue(value), recordId, check, actor, meta);
      claimed.push({ scope, value: uniqueValue(value) });
    } catch (error) {
      for (const done of claimed) await release(deps, done.scope, done.value, recordId, actor, meta).catch(() => undefined);
      if (isHeld(error)) {
        // The holder is named only to someone who may see it.
        const holder = String(error.details.holderId);
        const visible = !isScoped(resource) || (await recordVisible(deps, actor, specOf(resource), holder));
        throw new DomainError('field.value_taken', `custom.${key}: another record has this value already`, { field: `custom.${key}`, ...(visible ? { existingId: holder } : {}) });
      }
      throw error;
    }
  }
  const result = mode === 'create' ? values : Object.fromEntries(Object.entries(values).map(([key, value]) => [`custom.${key}`, value]));
  return { values: result, claimed, replaced };
}

/** Releases unique custom values (after a failed write, or the replaced ones after a successful change). */
export async function releaseCustom(deps: CommandDeps, keys: { scope: string; value: string }[], recordId: string, actor: Actor, meta: RequestMeta): Promise<void> {
  for (const key of keys) await release(deps, key.scope, key.value, recordId, actor, meta).catch(() => undefined);
}

/**
 * A change set with its `custom` part validated and turned into dotted `custom.<key>` changes (the shape every
 * decider takes). `current` is the record's custom values, undefined when the record does not exist (the
 * decider then refuses the change).
 */
export async function customChanges(
  deps: CommandDeps,
  resource: ResourceName,
  changes: Record<string, unknown>,
  recordId: string,
  current: Record<string, unknown> | undefined,
  customOf: CustomOf,
  actor: Actor,
  meta: RequestMeta,
): Promise<{ changes: Record<string, unknown> } & Omit<PreparedCustom, 'values'>> {
  const { custom, ...plain } = changes;
  if (custom === undefined || current === undefined) return { changes: plain, claimed: [], replaced: [] };
  const prepared = await prepareCustom(deps, resource, custom, 'change', recordId, current, customOf, actor, meta);
  return { changes: { ...plain, ...prepared.values }, claimed: prepared.claimed, replaced: prepared.replaced };
}
