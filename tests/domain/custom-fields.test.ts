import { describe, expect, it } from 'vitest';
import { customSchema, type FieldDefinition, fieldsDecider, type FieldEvent, fieldsStream, ownValue, queryValue, valueSchema, withDefaults } from '../../src/domain/customization/fields.ts';
import { fold } from '../../src/domain/shared/decider.ts';
import { specFor } from '../support/spec.ts';

const label = { 'zh-CN': '等级', en: 'Level' };
const text = (key: string, extra: Partial<FieldDefinition> = {}): Omit<FieldDefinition, 'retired'> => ({ key, label, type: 'text', required: false, unique: false, ...extra });
const define = (field: Omit<FieldDefinition, 'retired'>) => ({ type: 'DefineField' as const, resource: 'customers', field, referenceable: ['customers', 'contacts'], standardFields: ['name', 'phone'] });
const defined = (field: Omit<FieldDefinition, 'retired'>): FieldEvent => ({ type: 'CustomFieldDefined', data: { resource: 'customers', field } });
const select = text('level', { type: 'select', options: [{ value: 'A' }, { value: 'B' }] });
const def = (extra: Partial<FieldDefinition>): FieldDefinition => ({ ...text('f'), retired: false, ...extra });

describe('custom field definitions: every decision pinned', () => {
  const { given } = specFor(fieldsDecider);

  it('defines a field once; keys are never reused, standard names and object built-ins are refused', () => {
    given([]).when(define(text('region'))).then([defined(text('region'))]);
    expect(given([defined(text('region'))]).when(define(text('region'))).thenThrows('field.key_taken').details).toEqual({ key: 'region' });
    const retired: FieldEvent = { type: 'CustomFieldRetired', data: { resource: 'customers', key: 'region' } };
    expect(given([defined(text('region')), retired]).when(define(text('region'))).thenThrows('field.key_taken').message).toContain('(retired)');
    given([]).when(define(text('phone'))).thenThrows('field.key_taken');
    given([]).when(define(text('constructor'))).thenThrows('field.key_reserved');
    given([]).when(define(text('toString'))).thenThrows('field.key_reserved');
  });

  it('options: required for select and multiselect, refused elsewhere, never twice the same value', () => {
    given([]).when(define(select)).then([defined(select)]);
    given([]).when(define(text('m', { type: 'multiselect', options: [] }))).thenThrows('field.options_required');
    given([]).when(define(text('m', { type: 'select' }))).thenThrows('field.options_required');
    given([]).when(define(text('t', { options: [{ value: 'A' }] }))).thenThrows('field.options_not_allowed');
    given([]).when(define(text('t', { options: [] }))).then([defined(text('t', { options: [] }))]);
    given([]).when(define(text('s', { type: 'select', options: [{ value: 'A' }, { value: 'A' }] }))).thenThrows('field.duplicate_option');
  });

  it('references: to a record type that can be referred to, and only on reference fields', () => {
    given([]).when(define(text('r', { type: 'reference', referenceTo: 'contacts' }))).then([defined(text('r', { type: 'reference', referenceTo: 'contacts' }))]);
    expect(given([]).when(define(text('r', { type: 'reference', referenceTo: 'planets' }))).thenThrows('field.reference_unknown').details).toEqual({ key: 'r', referenceTo: 'planets' });
    given([]).when(define(text('r', { type: 'reference' }))).thenThrows('field.reference_unknown');
    given([]).when(define(text('t', { referenceTo: 'contacts' }))).thenThrows('field.reference_not_allowed');
  });

  it('uniqueness only for types whose values compare as one value', () => {
    for (const type of ['boolean', 'multiselect', 'longtext', 'money', 'select'] as const)
      given([]).when(define(text('u', { type, unique: true, ...(type.includes('select') ? { options: [{ value: 'A' }] } : {}) }))).thenThrows('field.unique_not_supported');
    for (const type of ['text', 'integer', 'phone', 'email'] as const) given([]).when(define(text('u', { type, unique: true }))).then([defined(text('u', { type, unique: true }))]);
  });

  it('a default must be a valid value of the field', () => {
    given([]).when(define(text('n', { type: 'integer', default: 5 }))).then([defined(text('n', { type: 'integer', default: 5 }))]);
    expect(given([]).when(define(text('n', { type: 'integer', default: 'five' }))).thenThrows('field.invalid_default').details).toEqual({ key: 'n' });
    given([]).when(define({ ...select, default: 'C' })).thenThrows('field.invalid_default');
  });

  it('changes what differs on an active field; options may grow, never shrink', () => {
    const base = [defined(select)];
    given(base).when({ type: 'ChangeField', resource: 'customers', key: 'level', changes: { required: true, label } }).then([{ type: 'CustomFieldChanged', data: { resource: 'customers', key: 'level', changes: { required: true } } }]);
    given(base).when({ type: 'ChangeField', resource: 'customers', key: 'level', changes: { label, required: false, default: undefined } }).thenNothing();
    const grown = [{ value: 'A' }, { value: 'B' }, { value: 'C' }];
    given(base).when({ type: 'ChangeField', resource: 'customers', key: 'level', changes: { options: grown } }).then([{ type: 'CustomFieldChanged', data: { resource: 'customers', key: 'level', changes: { options: grown } } }]);
    expect(given(base).when({ type: 'ChangeField', resource: 'customers', key: 'level', changes: { options: [{ value: 'A' }] } }).thenThrows('field.option_removed').message).toContain('B');
    given(base).when({ type: 'ChangeField', resource: 'customers', key: 'level', changes: { default: 'Z' } }).thenThrows('field.invalid_default');
    expect(given(base).when({ type: 'ChangeField', resource: 'customers', key: 'nope', changes: { required: true } }).thenThrows('field.not_found').details).toEqual({ key: 'nope' });
    const retired: FieldEvent = { type: 'CustomFieldRetired', data: { resource: 'customers', key: 'level' } };
    given([...base, retired]).when({ type: 'ChangeField', resource: 'customers', key: 'level', changes: { required: true } }).thenThrows('field.not_found');
    const reference = text('r', { type: 'reference', referenceTo: 'contacts' });
    given([defined(reference)]).when({ type: 'ChangeField', resource: 'customers', key: 'r', changes: { required: true } }).then([{ type: 'CustomFieldChanged', data: { resource: 'customers', key: 'r', changes: { required: true } } }]);
  });

  it('retires once; an unknown field is not found; the state follows', () => {
    const retired: FieldEvent = { type: 'CustomFieldRetired', data: { resource: 'customers', key: 'level' } };
    given([defined(select)]).when({ type: 'RetireField', resource: 'customers', key: 'level' }).then([retired]);
    given([defined(select), retired]).when({ type: 'RetireField', resource: 'customers', key: 'level' }).thenNothing();
    given([]).when({ type: 'RetireField', resource: 'customers', key: 'level' }).thenThrows('field.not_found');
    const changed: FieldEvent = { type: 'CustomFieldChanged', data: { resource: 'customers', key: 'level', changes: { required: true } } };
    expect(fold(fieldsDecider, [defined(select), changed, retired]).fields.level).toEqual({ ...select, personal: false, required: true, retired: true });
    expect(fold(fieldsDecider, [changed, retired])).toEqual({ fields: {} });
    expect(fieldsStream('customers')).toBe('customfields-customers');
    expect(ownValue({ a: 1 }, 'a')).toBe(1);
    expect(ownValue({ a: 1 }, 'toString')).toBeUndefined();
  });
});

describe('custom field values', () => {
  const ok = (field: FieldDefinition, value: unknown) => valueSchema(field).safeParse(value).success;
  it('each type takes its own values', () => {
    expect([ok(def({ type: 'text' }), 'x'), ok(def({ type: 'text' }), ' '), ok(def({ type: 'text' }), 'x'.repeat(501))]).toEqual([true, false, false]);
    expect([ok(def({ type: 'longtext' }), ''), ok(def({ type: 'longtext' }), 'x'.repeat(20_001))]).toEqual([true, false]);
    expect([ok(def({ type: 'integer' }), 3), ok(def({ type: 'integer' }), 3.5), ok(def({ type: 'integer' }), 2 ** 60)]).toEqual([true, false, false]);
    expect([ok(def({ type: 'decimal' }), 3.5), ok(def({ type: 'decimal' }), Infinity)]).toEqual([true, false]);
    expect([ok(def({ type: 'money' }), { amount: 100, currency: 'CNY' }), ok(def({ type: 'money' }), 100)]).toEqual([true, false]);
    expect([ok(def({ type: 'date' }), '2026-11-30'), ok(def({ type: 'date' }), '2026-13-01')]).toEqual([true, false]);
    expect(valueSchema(def({ type: 'datetime' })).parse('2026-11-30T08:00:00+08:00')).toBe('2026-11-30T00:00:00.000Z');
    expect([ok(def({ type: 'boolean' }), false), ok(def({ type: 'boolean' }), 'false')]).toEqual([true, false]);
    const options = [{ value: 'A' }, { value: 'B' }];
    expect([ok(def({ type: 'select', options }), 'A'), ok(def({ type: 'select', options }), 'C')]).toEqual([true, false]);
    expect([ok(def({ type: 'multiselect', options }), ['A', 'B']), ok(def({ type: 'multiselect', options }), ['A', 'A']), ok(def({ type: 'multiselect', options }), ['C'])]).toEqual([true, false, false]);
    expect([ok(def({ type: 'phone' }), '+86 139'), ok(def({ type: 'phone' }), 'call me')]).toEqual([true, false]);
    expect([ok(def({ type: 'email' }), 'a@b.cn'), ok(def({ type: 'email' }), 'a@')]).toEqual([true, false]);
    expect([ok(def({ type: 'url' }), 'https://x.cn'), ok(def({ type: 'url' }), 'ftp://x.cn'), ok(def({ type: 'url' }), 'javascript:alert(1)')]).toEqual([true, false, false]);
    expect([ok(def({ type: 'reference' }), '0193a4c2-7f3e-7b1a-9c1d-2f4e6a8b0c11'), ok(def({ type: 'reference' }), 'r1')]).toEqual([true, false]);
  });

  it('a request names active fields only; required ones on create unless defaulted; a required one is never cleared', () => {
    const fields = { need: def({ key: 'need', required: true }), opt: def({ key: 'opt' }), withDefault: def({ key: 'withDefault', required: true, default: 'd' }), old: def({ key: 'old', retired: true }) };
    const create = customSchema(fields, 'create');
    expect(create.safeParse({ need: 'x' }).success).toBe(true);
    expect(create.safeParse({}).success).toBe(false);
    expect(create.safeParse({ need: 'x', old: 'y' }).success).toBe(false);
    expect(create.safeParse({ need: 'x', other: 'y' }).success).toBe(false);
    expect(create.safeParse({ need: 'x', opt: null }).success).toBe(false);
    const change = customSchema(fields, 'change');
    expect(change.safeParse({}).success).toBe(true);
    expect(change.safeParse({ opt: null }).success).toBe(true);
    expect(change.safeParse({ need: null }).success).toBe(false);
    expect(change.safeParse({ need: 'y' }).success).toBe(true);
    expect(withDefaults(fields, { need: 'x' })).toEqual({ need: 'x', withDefault: 'd' });
    expect(withDefaults(fields, { need: 'x', withDefault: 'mine' })).toEqual({ need: 'x', withDefault: 'mine' });
    expect(withDefaults({ old: def({ key: 'old', retired: true, default: 'z' }) }, {})).toEqual({});
  });

  it('query values are parsed into the field type; money cannot be filtered by equality', () => {
    expect(queryValue(def({ type: 'integer' }), '42')).toEqual({ ok: true, value: 42 });
    expect(queryValue(def({ type: 'integer' }), '')).toMatchObject({ ok: false });
    expect(queryValue(def({ type: 'decimal' }), ' ')).toMatchObject({ ok: false });
    expect(queryValue(def({ type: 'decimal' }), '1.5')).toEqual({ ok: true, value: 1.5 });
    expect(queryValue(def({ type: 'boolean' }), 'true')).toEqual({ ok: true, value: true });
    expect(queryValue(def({ type: 'boolean' }), 'false')).toEqual({ ok: true, value: false });
    expect(queryValue(def({ type: 'boolean' }), 'yes')).toMatchObject({ ok: false });
    const options = [{ value: 'A' }, { value: 'B' }];
    expect(queryValue(def({ type: 'multiselect', options }), 'A')).toEqual({ ok: true, value: 'A' });
    expect(queryValue(def({ type: 'multiselect', options }), 'C')).toEqual({ ok: false, message: 'Expected one of A, B' });
    expect(queryValue(def({ type: 'money' }), '100')).toEqual({ ok: false, message: 'Money fields cannot be filtered by equality' });
    expect(queryValue(def({ type: 'text' }), 'abc')).toEqual({ ok: true, value: 'abc' });
  });
});
