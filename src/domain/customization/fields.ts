import { customFieldsCategory } from '../categories.ts';
import { z } from 'zod';
import { DomainError } from '../shared/errors.ts';
import { Money } from '../shared/money.ts';

/**
 * Custom field definitions (自定义字段), one stream per resource. Values live under `custom` on the record and
 * in its events; requests are validated with a zod schema built from the definitions in force.
 */
/** A record's own entry (never one inherited from Object.prototype, such as `constructor`), or undefined. */
export const ownValue = <V>(record: Record<string, V>, key: string): V | undefined => (Object.hasOwn(record, key) ? record[key] : undefined);

export const fieldTypes = ['text', 'longtext', 'integer', 'decimal', 'money', 'date', 'datetime', 'boolean', 'select', 'multiselect', 'phone', 'email', 'url', 'reference'] as const;
export type FieldType = (typeof fieldTypes)[number];

export const FieldKey = z.string().regex(/^[a-z][a-zA-Z0-9]{0,39}$/, 'Expected camelCase letters and digits, starting with a lower-case letter (at most 40)');
export const Label = z.object({ 'zh-CN': z.string().trim().min(1).max(100), en: z.string().trim().min(1).max(100) }).strict();
export const OptionInput = z.union([z.string().trim().min(1).max(100), z.object({ value: z.string().trim().min(1).max(100), label: Label.partial().optional() }).strict()]);
export type Option = { value: string; label?: Partial<z.infer<typeof Label>> };

export interface FieldDefinition {
  key: string;
  label: z.infer<typeof Label>;
  type: FieldType;
  required: boolean;
  default?: unknown;
  options?: Option[];
  unique: boolean;
  referenceTo?: string;
  /** Holds personal data: encrypted per data subject where the record type is one (contacts), left out of exports without `personalData: export`. */
  personal?: boolean;
  retired: boolean;
}

export type FieldEvent =
  | { type: 'CustomFieldDefined'; data: { resource: string; field: Omit<FieldDefinition, 'retired'> } }
  | { type: 'CustomFieldChanged'; data: { resource: string; key: string; changes: Partial<Pick<FieldDefinition, 'label' | 'required' | 'default' | 'options' | 'personal'>> } }
  | { type: 'CustomFieldRetired'; data: { resource: string; key: string } };

export type FieldsState = { fields: Record<string, FieldDefinition> };

export type FieldCommand =
  | { type: 'DefineField'; resource: string; field: Omit<FieldDefinition, 'retired'>; referenceable: readonly string[]; standardFields: readonly string[] }
  | { type: 'ChangeField'; resource: string; key: string; changes: Partial<Pick<FieldDefinition, 'label' | 'required' | 'default' | 'options' | 'personal'>> }
  | { type: 'RetireField'; resource: string; key: string };

export const initialState: FieldsState = { fields: {} };

export function evolve(state: FieldsState, event: FieldEvent): FieldsState {
  switch (event.type) {
    case 'CustomFieldDefined':
      return { fields: { ...state.fields, [event.data.field.key]: { personal: false, ...event.data.field, retired: false } } };
    case 'CustomFieldChanged': {
      const field = ownValue(state.fields, event.data.key);
      return field ? { fields: { ...state.fields, [field.key]: { ...field, ...event.data.changes } } } : state;
    }
    case 'CustomFieldRetired': {
      const field = ownValue(state.fields, event.data.key);
      return field ? { fields: { ...state.fields, [field.key]: { ...field, retired: true } } } : state;
    }
  }
}

const needsOptions = (type: FieldType) => type === 'select' || type === 'multiselect';

function checkDefinition(field: Pick<FieldDefinition, 'key' | 'type' | 'options' | 'default' | 'unique' | 'referenceTo' | 'required' | 'label'>, referenceable: readonly string[]): void {
  // Names every JavaScript object already has (constructor, toString…) would read as set on every record.
  if (field.key in Object.prototype) throw new DomainError('field.key_reserved', `${field.key} is a reserved name; choose another key`, { key: field.key });
  if (needsOptions(field.type) && !field.options?.length) throw new DomainError('field.options_required', `A ${field.type} field needs options`, { key: field.key });
  if (!needsOptions(field.type) && field.options?.length) throw new DomainError('field.options_not_allowed', `A ${field.type} field takes no options`, { key: field.key });
  if (field.options && new Set(field.options.map((o) => o.value)).size !== field.options.length) throw new DomainError('field.duplicate_option', 'Option values must differ', { key: field.key });
  if (field.type === 'reference' && (!field.referenceTo || !referenceable.includes(field.referenceTo)))
    throw new DomainError('field.reference_unknown', `referenceTo must be one of: ${referenceable.join(', ')}`, { key: field.key, referenceTo: field.referenceTo });
  if (field.type !== 'reference' && field.referenceTo) throw new DomainError('field.reference_not_allowed', 'Only a reference field takes referenceTo', { key: field.key });
  if (field.unique && ['boolean', 'multiselect', 'longtext', 'money', 'select'].includes(field.type))
    throw new DomainError('field.unique_not_supported', `A ${field.type} field cannot be unique`, { key: field.key });
  if (field.default !== undefined) {
    const result = valueSchema(field as FieldDefinition).safeParse(field.default);
    if (!result.success) throw new DomainError('field.invalid_default', `The default is not a valid ${field.type}: ${result.error.issues[0]?.message}`, { key: field.key });
  }
}

export function decide(command: FieldCommand, state: FieldsState): FieldEvent[] {
  const existing = ownValue(state.fields, command.type === 'DefineField' ? command.field.key : command.key);
  switch (command.type) {
    case 'DefineField':
      if (existing) throw new DomainError('field.key_taken', `A field with key ${command.field.key} exists${existing.retired ? ' (retired)' : ''}; keys are never reused`, { key: command.field.key });
      if (command.standardFields.includes(command.field.key)) throw new DomainError('field.key_taken', `${command.field.key} is a standard field`, { key: command.field.key });
      checkDefinition(command.field, command.referenceable);
      return [{ type: 'CustomFieldDefined', data: { resource: command.resource, field: command.field } }];
    case 'ChangeField': {
      if (!existing || existing.retired) throw new DomainError('field.not_found', `No field ${command.key} on ${command.resource}`, { key: command.key });
      const changes = Object.fromEntries(Object.entries(command.changes).filter(([k, v]) => v !== undefined && JSON.stringify(v) !== JSON.stringify(existing[k as keyof FieldDefinition])));
      if (Object.keys(changes).length === 0) return [];
      const next = { ...existing, ...changes };
      checkDefinition(next, [next.referenceTo ?? '']);
      const removed = (existing.options ?? []).filter((o) => !(next.options ?? []).some((n) => n.value === o.value));
      if (removed.length) throw new DomainError('field.option_removed', `Options cannot be removed, records may use them: ${removed.map((o) => o.value).join(', ')}`, { key: command.key });
      return [{ type: 'CustomFieldChanged', data: { resource: command.resource, key: command.key, changes } }];
    }
    case 'RetireField':
      if (!existing) throw new DomainError('field.not_found', `No field ${command.key} on ${command.resource}`, { key: command.key });
      return existing.retired ? [] : [{ type: 'CustomFieldRetired', data: { resource: command.resource, key: command.key } }];
  }
}

export const fieldsDecider = { initialState, evolve, decide };
export const fieldsStream = (resource: string): string => `${customFieldsCategory}-${resource}`;

const optionValues = (field: FieldDefinition) => (field.options ?? []).map((o) => o.value) as [string, ...string[]];

/** The zod schema of one field's value. */
export function valueSchema(field: FieldDefinition): z.ZodType {
  switch (field.type) {
    case 'text':
      return z.string().trim().min(1).max(500);
    case 'longtext':
      return z.string().max(20_000);
    case 'integer':
      return z.number().int().min(Number.MIN_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER);
    case 'decimal':
      return z.number().finite();
    case 'money':
      return Money;
    case 'date':
      return z.iso.date();
    case 'datetime':
      return z.iso.datetime({ offset: true }).transform((value) => new Date(value).toISOString());
    case 'boolean':
      return z.boolean();
    case 'select':
      return z.enum(optionValues(field));
    case 'multiselect':
      return z.array(z.enum(optionValues(field))).max(100).refine((values) => new Set(values).size === values.length, 'Values must not repeat');
    case 'phone':
      return z.string().trim().regex(/^[+0-9()\- ]{3,40}$/, 'Expected a phone number');
    case 'email':
      return z.email().max(320);
    case 'url':
      return z.url({ protocol: /^https?$/ }).max(2000);
    case 'reference':
      return z.uuid('Expected the id of a record');
  }
}

/** Schemas built per definitions object and mode: a warm request validates with the schema built before (definitions are immutable). */
const builtSchemas = new WeakMap<Record<string, FieldDefinition>, Partial<Record<'create' | 'change', ReturnType<typeof buildCustomSchema>>>>();

/**
 * The schema of `custom` in a request: active fields only (a retired or unknown key is refused).
 * On create, required fields must be given unless they have a default; on change, a required field may be
 * changed but not cleared, and fields not mentioned are left alone (old records are never retroactively broken).
 */
export function customSchema(fields: Record<string, FieldDefinition>, mode: 'create' | 'change') {
  let built = builtSchemas.get(fields);
  if (!built) builtSchemas.set(fields, (built = {}));
  return (built[mode] ??= buildCustomSchema(fields, mode));
}

function buildCustomSchema(fields: Record<string, FieldDefinition>, mode: 'create' | 'change') {
  const shape: Record<string, z.ZodType> = {};
  for (const field of Object.values(fields)) {
    if (field.retired) continue;
    const value = valueSchema(field);
    shape[field.key] = mode === 'create' ? (field.required && field.default === undefined ? value : value.optional()) : field.required ? value.optional() : value.nullable().optional();
  }
  return z.object(shape).strict();
}

/** Fills defaults on create for fields the request left out. */
export function withDefaults(fields: Record<string, FieldDefinition>, custom: Record<string, unknown>): Record<string, unknown> {
  const result = { ...custom };
  for (const field of Object.values(fields)) if (!field.retired && result[field.key] === undefined && field.default !== undefined) result[field.key] = field.default;
  return result;
}

/** Parses a query-string value (`?custom.key=value`) into the field's type, for equality filters. */
export function queryValue(field: FieldDefinition, raw: string): { ok: true; value: unknown } | { ok: false; message: string } {
  let value: unknown = raw;
  if (field.type === 'integer' || field.type === 'decimal') value = raw.trim() === '' ? NaN : Number(raw);
  if (field.type === 'boolean') value = raw === 'true' ? true : raw === 'false' ? false : raw;
  if (field.type === 'multiselect') return optionValues(field).includes(raw) ? { ok: true, value: raw } : { ok: false, message: `Expected one of ${optionValues(field).join(', ')}` };
  if (field.type === 'money') return { ok: false, message: 'Money fields cannot be filtered by equality' };
  const result = valueSchema(field).safeParse(value);
  return result.success ? { ok: true, value: result.data } : { ok: false, message: result.error.issues[0]?.message ?? 'Invalid value' };
}
