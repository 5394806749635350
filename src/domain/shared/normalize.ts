/**
 * Normalisations used for company-wide uniqueness. Two names that a person would call "the same company"
 * must normalise equally: full-width and half-width forms (NFKC), case, whitespace and punctuation,
 * including Chinese brackets, are ignored.
 */
export function normalizeName(name: string): string {
  return name
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\s\p{P}\p{S}]+/gu, '');
}

/** Tax numbers (统一社会信用代码 and foreign VAT ids): upper case, without spaces, dots and dashes. */
export function normalizeTaxNumber(taxNumber: string): string {
  return taxNumber.normalize('NFKC').toUpperCase().replace(/[\s.\-_/]+/g, '');
}

/** Keeps only the fields whose value differs from `current`; `null` in `changes` clears a field. */
export function diffFields<T extends Record<string, unknown>>(
  current: T,
  changes: Partial<Record<keyof T, unknown>>,
): Partial<Record<keyof T, unknown>> {
  const diff: Partial<Record<keyof T, unknown>> = {};
  for (const key of Object.keys(changes) as (keyof T)[]) {
    const next = changes[key];
    if (next === undefined) continue;
    const before = current[key];
    if (next === null ? before === undefined || before === null : JSON.stringify(before) === JSON.stringify(next)) continue;
    diff[key] = next;
  }
  return diff;
}

/** Applies a change set: `null` removes the field, any other value replaces it. */
export function applyChanges<T extends Record<string, unknown>>(current: T, changes: Record<string, unknown>): T {
  const next: Record<string, unknown> = { ...current };
  for (const [key, value] of Object.entries(changes)) {
    if (value === null) delete next[key];
    else if (value !== undefined) next[key] = value;
  }
  return next as T;
}
