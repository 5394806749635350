import { z } from 'zod';

/** (In a module of its own, which the log's upcasters load without zod.) */
export { normalizeName } from './names.ts';

/** Tax numbers (统一社会信用代码 and foreign VAT ids): upper case, without spaces, dots and dashes. */
export function normalizeTaxNumber(taxNumber: string): string {
  return taxNumber.normalize('NFKC').toUpperCase().replace(/[\s.\-_/]+/g, '');
}

/**
 * Phone numbers compared as digits only (full-width digits folded), without an international prefix (00 or +)
 * and without China's country code 86 before a longer number: "+86 139-0000 1111" and "13900001111" are one
 * number. Fewer than 5 digits is no number at all (empty string).
 */
export function normalizePhone(phone: string): string {
  let digits = phone.normalize('NFKC').replace(/\D+/g, '').replace(/^00/, '');
  if (digits.startsWith('86') && digits.length > 11) digits = digits.slice(2);
  return digits.length >= 5 ? digits : '';
}

const readPath = (record: Record<string, unknown>, key: string): unknown =>
  key.split('.').reduce<unknown>((value, part) => (value && typeof value === 'object' ? (value as Record<string, unknown>)[part] : undefined), record);

/**
 * Keeps only the fields whose value differs from `current`; `null` in `changes` clears a field.
 * A dotted key (`custom.creditLimit`) addresses a nested value.
 */
export function diffFields<T extends Record<string, unknown>>(current: T, changes: Partial<Record<keyof T, unknown>> | Record<string, unknown>): Record<string, unknown> {
  const diff: Record<string, unknown> = {};
  for (const [key, next] of Object.entries(changes)) {
    if (next === undefined) continue;
    const before = readPath(current, key);
    if (next === null ? before === undefined || before === null : JSON.stringify(before) === JSON.stringify(next)) continue;
    diff[key] = next;
  }
  return diff;
}

/** A record's state with a change set applied to its fields. */
export const withChanges = <S extends { fields: object }>(state: S, changes: Record<string, unknown>): S => ({ ...state, fields: applyChanges(state.fields as Record<string, unknown>, changes) });

/** Applies a change set: `null` removes the field, any other value replaces it; dotted keys reach nested values. */
export function applyChanges<T extends Record<string, unknown>>(current: T, changes: Record<string, unknown>): T {
  const next: Record<string, unknown> = { ...current };
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) continue;
    const path = key.split('.');
    let target = next;
    for (const part of path.slice(0, -1)) {
      const inner = target[part];
      target = target[part] = inner && typeof inner === 'object' && !Array.isArray(inner) ? { ...(inner as Record<string, unknown>) } : {};
    }
    const last = path[path.length - 1]!;
    if (value === null) delete target[last];
    else target[last] = value;
  }
  return next as T;
}

/** A change set as events carry it: the changed fields only, `null` for a field that was cleared. */
export const ChangeSet = z.record(z.string(), z.unknown()).describe('Changed fields only; null means the field was cleared');

/** An instant as ISO 8601 with an offset, kept as UTC (`…Z`): how every time a client sends is stored. */
export const Instant = z.iso.datetime({ offset: true }).transform((value) => new Date(value).toISOString());
