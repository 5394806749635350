import { z } from 'zod';

/** Money in integer minor units (fen / cents) with an ISO-4217 currency code. Never a float. */
export const Money = z
  .object({
    amount: z.number().int().min(-1e15).max(1e15).describe('Amount in minor units (fen/cents), an integer'),
    currency: z.string().regex(/^[A-Z]{3}$/, 'Expected an ISO-4217 currency code such as CNY'),
  })
  .strict()
  .meta({ id: 'Money', description: 'Money in integer minor units with an ISO-4217 currency' });
export type Money = z.infer<typeof Money>;

