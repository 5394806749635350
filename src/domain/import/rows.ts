import { z } from 'zod';
import { type FieldDefinition, valueSchema } from '../customization/fields.ts';

/**
 * Turning a spreadsheet row into a record's fields (pure): each mapped cell read as its field's kind (amounts in
 * minor units of the company's currency, numbers, yes/no, dates), then the whole checked against the record type's
 * schema, each problem named by its field and column.
 */
export type CellKind = 'text' | 'money' | 'number' | 'boolean' | 'date';
export type Policy = 'overwrite' | 'fillIfEmpty' | 'keep';

/** What a row's problem names: the field, the column it came from, and what is wrong. */
export interface RowError {
  field: string;
  column?: string;
  message: string;
}

/** A cell's text as a value of its kind; empty text is no value (undefined). */
export function cellValue(kind: CellKind, text: string, currency: string): { ok: true; value: unknown } | { ok: false; message: string } {
  const raw = text.trim();
  if (raw === '') return { ok: true, value: undefined };
  switch (kind) {
    case 'text':
      return { ok: true, value: raw };
    case 'money': {
      // "¥1,234.56", "1234.5", "CNY 1 234,00" are not all one format: commas and spaces group thousands, a dot
      // separates the fen; anything else is refused rather than guessed.
      const cleaned = raw.replace(/^(¥|￥|CNY|RMB|\$|USD|EUR|€)\s*/i, '').replace(/[,\s]/g, '');
      if (!/^-?\d+(\.\d{1,2})?$/.test(cleaned)) return { ok: false, message: `Expected an amount such as 1234.56, not "${raw}"` };
      const [whole, fraction = ''] = cleaned.replace('-', '').split('.');
      const amount = Number(whole) * 100 + Number(fraction.padEnd(2, '0'));
      if (!Number.isSafeInteger(amount)) return { ok: false, message: `The amount ${raw} is too large` };
      return { ok: true, value: { amount: cleaned.startsWith('-') ? -amount : amount, currency } };
    }
    case 'number': {
      const number = Number(raw.replace(/%$/, '').replace(/,/g, ''));
      return Number.isFinite(number) ? { ok: true, value: number } : { ok: false, message: `Expected a number, not "${raw}"` };
    }
    case 'boolean': {
      const yes = ['true', 'yes', 'y', '1', '是', '启用', '有效', '√'];
      const no = ['false', 'no', 'n', '0', '否', '停用', '禁用', '无效', '×'];
      const lower = raw.toLowerCase();
      if (yes.includes(lower)) return { ok: true, value: true };
      if (no.includes(lower)) return { ok: true, value: false };
      return { ok: false, message: `Expected yes or no (是/否), not "${raw}"` };
    }
    case 'date': {
      // 2026-01-02, 2026/1/2, 2026.1.2, 2026年1月2日, or an ISO instant (an XLSX date cell).
      const match = /^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:T00:00:00(?:\.000)?Z)?$/.exec(raw);
      if (!match) return { ok: false, message: `Expected a date such as 2026-01-02, not "${raw}"` };
      const date = `${match[1]}-${match[2]!.padStart(2, '0')}-${match[3]!.padStart(2, '0')}`;
      return Number.isNaN(Date.parse(`${date}T00:00:00Z`)) || new Date(`${date}T00:00:00Z`).toISOString().slice(0, 10) !== date ? { ok: false, message: `${raw} is no date` } : { ok: true, value: date };
    }
  }
}

/** The kind a custom field's cells are read as. */
const customKind = (field: FieldDefinition): CellKind | 'custom' => (field.type === 'money' ? 'money' : 'custom');

/**
 * A row's values by target: each mapped, non-empty cell read as its kind (standard fields by `kinds`, text unless
 * named there; custom fields by their definitions; other targets, such as references by name, as text).
 */
export function rowValues(
  row: readonly string[],
  columns: readonly string[],
  mapping: Readonly<Record<string, string | null>>,
  kinds: Readonly<Record<string, CellKind>>,
  custom: Readonly<Record<string, FieldDefinition>>,
  currency: string,
): { values: Record<string, unknown>; errors: RowError[] } {
  const values: Record<string, unknown> = {};
  const errors: RowError[] = [];
  columns.forEach((column, index) => {
    const target = mapping[column];
    if (!target) return;
    const text = row[index] ?? '';
    if (target.startsWith('custom.')) {
      const field = custom[target.slice('custom.'.length)];
      if (!field || text.trim() === '') return;
      const kind = customKind(field);
      const read = kind === 'money' ? cellValue('money', text, currency) : customValue(field, text);
      if (read.ok) values[target] = read.value;
      else errors.push({ field: target, column, message: read.message });
      return;
    }
    const read = cellValue(kinds[target] ?? 'text', text, currency);
    if (!read.ok) errors.push({ field: target, column, message: read.message });
    else if (read.value !== undefined) values[target] = read.value;
  });
  return { values, errors };
}

/** A custom field's cell, read by its definition (a multiselect's options separated by commas or 、). */
function customValue(field: FieldDefinition, text: string): { ok: true; value: unknown } | { ok: false; message: string } {
  const raw = text.trim();
  let value: unknown = raw;
  if (field.type === 'integer' || field.type === 'decimal') value = Number(raw.replace(/,/g, ''));
  if (field.type === 'boolean') {
    const read = cellValue('boolean', raw, 'CNY');
    if (!read.ok) return read;
    value = read.value;
  }
  if (field.type === 'date') {
    const read = cellValue('date', raw, 'CNY');
    if (!read.ok) return read;
    value = read.value;
  }
  if (field.type === 'multiselect') value = raw.split(/[,，、;；]/).map((part) => part.trim()).filter(Boolean);
  const parsed = valueSchema(field).safeParse(value);
  return parsed.success ? { ok: true, value: parsed.data } : { ok: false, message: parsed.error.issues[0]?.message ?? 'Invalid value' };
}

/** The standard fields of `values` (no `custom.` keys, no references) with the custom ones nested under `custom`. */
export function asFields(values: Readonly<Record<string, unknown>>, standard: readonly string[]): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  const custom: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(values)) {
    if (key.startsWith('custom.')) custom[key.slice('custom.'.length)] = value;
    else if (standard.includes(key)) fields[key] = value;
  }
  return Object.keys(custom).length ? { ...fields, custom } : fields;
}

/** A zod failure as row errors, each naming the field and the column it came from. */
export function schemaErrors(error: z.ZodError, columnOf: (field: string) => string | undefined): RowError[] {
  return error.issues.map((issue) => {
    const field = issue.path.join('.') || 'row';
    const column = columnOf(field);
    // A required field whose column is empty says so (zod's own words are about types).
    const message = issue.code === 'invalid_type' && issue.message.endsWith('received undefined') ? 'Required: the cell is empty' : issue.message;
    return { field, ...(column ? { column } : {}), message };
  });
}

const isEmpty = (value: unknown) => value === undefined || value === null || value === '';
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * The changes an update-on-match makes to a record's current fields: per field (`custom.<key>` for a custom one),
 * `overwrite` sets a different value, `fillIfEmpty` only a field that is empty now, `keep` never changes it. The
 * policy of a field not named is `policy['*']`, else `fillIfEmpty`.
 */
export function changesByPolicy(current: Readonly<Record<string, unknown>>, incoming: Readonly<Record<string, unknown>>, policy: Readonly<Record<string, Policy>>): Record<string, unknown> {
  const changes: Record<string, unknown> = {};
  const currentCustom = (current.custom ?? {}) as Record<string, unknown>;
  for (const [key, value] of Object.entries(incoming)) {
    if (value === undefined) continue;
    const now = key.startsWith('custom.') ? currentCustom[key.slice('custom.'.length)] : current[key];
    const rule = policy[key] ?? policy['*'] ?? 'fillIfEmpty';
    if (rule === 'keep' || same(now, value)) continue;
    if (rule === 'fillIfEmpty' && !isEmpty(now)) continue;
    changes[key] = value;
  }
  return changes;
}
