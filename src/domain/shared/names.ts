// (A module of its own, with no imports: the log's upcasters use it, and the reading thread loads them.)

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
