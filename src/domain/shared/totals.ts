import { z } from 'zod';
import { DomainError } from './errors.ts';

/**
 * Line totals in integer minor units, one rounding rule everywhere (per line, half-up):
 *   net   = round_half_up(quantity × unitPrice × (1 − discountPercent / 100))
 *   tax   = round_half_up(net × taxRate / 100)
 *   total = net + tax
 * and a document's totals are the sums of its lines' net, tax and total. Quantities carry at most 3 decimals,
 * percentages at most 2; the arithmetic is exact (BigInt), so no float ever touches money.
 */
const decimals = (places: number) => (v: number) => Math.abs(v * 10 ** places - Math.round(v * 10 ** places)) < 1e-6;

export const LineInput = z
  .object({
    productId: z.uuid(),
    quantity: z.number().positive().max(1e9).refine(decimals(3), 'At most 3 decimals'),
    unitPrice: z.number().int().min(0).max(1e13).optional().describe("Minor units in the document's currency; default: the product's standard price"),
    discountPercent: z.number().min(0).max(100).refine(decimals(2), 'At most 2 decimals').default(0),
    taxRate: z.number().min(0).max(100).refine(decimals(2), 'At most 2 decimals').optional().describe("Percent; default: the product's tax rate"),
  })
  .strict();

export interface PricedLine {
  id: string;
  productId: string;
  quantity: number;
  unitPrice: number;
  discountPercent: number;
  taxRate: number;
  net: number;
  tax: number;
  total: number;
}
export interface Totals {
  net: number;
  tax: number;
  total: number;
}

const halfUp = (numerator: bigint, denominator: bigint): bigint => (numerator * 2n + denominator) / (denominator * 2n);

export function priceLine(line: Omit<PricedLine, 'net' | 'tax' | 'total'>): PricedLine {
  const quantity = BigInt(Math.round(line.quantity * 1000));
  const discount = BigInt(Math.round(line.discountPercent * 100));
  const taxRate = BigInt(Math.round(line.taxRate * 100));
  const net = halfUp(quantity * BigInt(line.unitPrice) * (10_000n - discount), 1000n * 10_000n);
  const tax = halfUp(net * taxRate, 10_000n);
  const result = { ...line, net: Number(net), tax: Number(tax), total: Number(net + tax) };
  if (!Number.isSafeInteger(result.total)) throw new DomainError('document.amount_too_large', 'A line total is too large');
  return result;
}

export function sumLines(lines: readonly Pick<PricedLine, 'net' | 'tax' | 'total'>[]): Totals {
  const totals = lines.reduce((sum, line) => ({ net: sum.net + line.net, tax: sum.tax + line.tax, total: sum.total + line.total }), { net: 0, tax: 0, total: 0 });
  if (!Number.isSafeInteger(totals.total)) throw new DomainError('document.amount_too_large', 'The total is too large');
  return totals;
}
