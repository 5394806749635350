/**
 * A business rule refused a command. `code` is stable and machine-readable (`customer.duplicate`);
 * the API maps codes ending in `.not_found` (or `_not_found`, as in `field.reference_not_found`) to 404 and every
 * other code to 409.
 */
export class DomainError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const isNotFound = (error: DomainError): boolean => /[._]not_found$/.test(error.code);
/** Something that existed and is no longer usable (an expired survey, one replaced by a newer one): 410. */
export const isGone = (error: DomainError): boolean => GONE.has(error.code);
const GONE = new Set(['survey.expired', 'survey.superseded']);
