import { describe, expect, it } from 'vitest';
import { cellValue, changesByPolicy, rowValues } from '../../src/domain/import/rows.ts';
import type { FieldDefinition } from '../../src/domain/customization/fields.ts';

describe('reading a row\'s cells', () => {
  it('reads amounts into minor units of the company currency, and refuses what it would have to guess', () => {
    expect(cellValue('money', '¥1,234.5', 'CNY')).toEqual({ ok: true, value: { amount: 123_450, currency: 'CNY' } });
    expect(cellValue('money', '-0.01', 'CNY')).toEqual({ ok: true, value: { amount: -1, currency: 'CNY' } });
    expect(cellValue('money', '1.234', 'CNY').ok).toBe(false);
    expect(cellValue('money', '一百万', 'CNY').ok).toBe(false);
    expect(cellValue('money', '  ', 'CNY')).toEqual({ ok: true, value: undefined });
  });
  it('reads dates as Chinese and Western spreadsheets write them, yes and no in both languages, numbers with percent', () => {
    for (const text of ['2026-01-02', '2026/1/2', '2026.1.2', '2026年1月2日', '2026-01-02T00:00:00.000Z']) expect(cellValue('date', text, 'CNY')).toEqual({ ok: true, value: '2026-01-02' });
    expect(cellValue('date', '2026-02-30', 'CNY').ok).toBe(false);
    expect(cellValue('boolean', '是', 'CNY')).toEqual({ ok: true, value: true });
    expect(cellValue('boolean', 'No', 'CNY')).toEqual({ ok: true, value: false });
    expect(cellValue('boolean', 'maybe', 'CNY').ok).toBe(false);
    expect(cellValue('number', '13%', 'CNY')).toEqual({ ok: true, value: 13 });
  });
  it('maps a row by column, reads custom fields by their definitions, and names the column of each problem', () => {
    const custom = { tier: { key: 'tier', type: 'select', options: [{ value: 'gold' }, { value: 'silver' }], retired: false } as unknown as FieldDefinition };
    const { values, errors } = rowValues(['Acme', 'gold', 'x', 'ignored'], ['名称', '层级', '营业额', '其他'], { 名称: 'name', 层级: 'custom.tier', 营业额: 'annualRevenue', 其他: null }, { annualRevenue: 'money' }, custom, 'CNY');
    expect(values).toEqual({ name: 'Acme', 'custom.tier': 'gold' });
    expect(errors).toEqual([{ field: 'annualRevenue', column: '营业额', message: 'Expected an amount such as 1234.56, not "x"' }]);
  });
});

describe('update-on-match policies', () => {
  const current = { name: 'Acme', level: 'C', custom: { tier: 'silver' } };
  const incoming = { name: 'Acme', level: 'A', notes: 'new', 'custom.tier': 'gold' };
  it('fillIfEmpty (the default) sets only empty fields; overwrite sets different ones; keep never', () => {
    expect(changesByPolicy(current, incoming, {})).toEqual({ notes: 'new' });
    expect(changesByPolicy(current, incoming, { '*': 'overwrite' })).toEqual({ level: 'A', notes: 'new', 'custom.tier': 'gold' });
    expect(changesByPolicy(current, incoming, { '*': 'overwrite', level: 'keep', notes: 'keep' })).toEqual({ 'custom.tier': 'gold' });
  });
});
