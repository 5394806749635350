/** A document number, `<prefix>-<year>-<sequence, 6 digits or more>`: SO-2026-000042, SR-2026-000007. */
export const formatNumber = (prefix: string, year: number, sequence: number): string => `${prefix}-${year}-${String(sequence).padStart(6, '0')}`;
