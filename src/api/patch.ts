import { z } from 'zod';

/**
 * The PATCH schema of a record's plain fields: every field optional; an optional field may be `null`
 * (clears it), a required one may not. Unknown fields are refused.
 */
export function patchSchema<Shape extends z.ZodRawShape>(fields: z.ZodObject<Shape>, id: string) {
  const shape: Record<string, z.ZodType> = {};
  for (const [name, schema] of Object.entries(fields.shape) as [string, z.ZodType][]) {
    shape[name] = schema instanceof z.ZodOptional ? (schema.unwrap() as z.ZodType).nullable().optional() : schema.optional();
  }
  return z.object(shape).strict().meta({ id }) as unknown as z.ZodType<{ [K in keyof Shape]?: unknown }>;
}
