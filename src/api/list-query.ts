import { z } from 'zod';

const CUSTOM_KEY = /^custom\.[a-z][a-zA-Z0-9]{0,39}$/;
const CUSTOM_SORT = /^-?custom\.[a-z][a-zA-Z0-9]{0,39}$/;

/**
 * The query schema of a list route: its standard parameters, plus `custom.<key>=value` filters and
 * `sort=[-]custom.<key>`. Any other parameter is refused (400), so a typo never silently widens a list.
 */
/**
 * A list's filter as a body names it (a mass update's `filter`): the list's own filters, `q`, a saved `view` and
 * `custom.<key>=value`; anything else is refused (400), as on the list route.
 */
export function listFilter<S extends z.ZodRawShape>(shape: S) {
  return z
    .object({ view: z.string().uuid().optional().describe('A saved view whose filter applies'), ...shape })
    .catchall(z.string().max(200))
    .superRefine((value, ctx) => {
      for (const key of Object.keys(value)) if (!['view', ...Object.keys(shape)].includes(key) && !CUSTOM_KEY.test(key)) ctx.addIssue({ code: 'custom', path: [key], message: 'Unknown filter' });
    });
}

export function listQuery<S extends z.ZodRawShape>(shape: S, sortable: readonly string[]) {
  const sorts = sortable.flatMap((field) => [field, `-${field}`]) as [string, ...string[]];
  return z
    .object({
      limit: z.coerce.number().int().min(1).max(200).default(50),
      cursor: z.string().max(2000).regex(/^[A-Za-z0-9_-]+$/, 'Expected the nextCursor of the previous page').optional().describe('The nextCursor of the previous page (opaque)'),
      sort: z
        .union([z.enum(sorts), z.string().regex(CUSTOM_SORT, 'Expected [-]custom.<key>')], { error: `Expected one of ${sorts.join(', ')} or [-]custom.<key>` })
        .optional()
        .describe('A field, descending with a leading -; default: the saved view\'s, else the company list view\'s sort'),
      view: z.string().uuid().optional().describe('A saved view (GET /api/v1/me/views/<resource>) whose filter, sort and columns apply'),
      ...shape,
    })
    .catchall(z.string().max(200))
    .superRefine((value, ctx) => {
      for (const key of Object.keys(value))
        if (!['limit', 'cursor', 'sort', 'view', ...Object.keys(shape)].includes(key) && !CUSTOM_KEY.test(key)) ctx.addIssue({ code: 'custom', path: [key], message: 'Unknown filter' });
    });
}
