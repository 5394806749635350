import { z } from 'zod';
import { reinstatedState } from '../shared/revert.ts';
import { CustomValues } from '../customization/values.ts';
import { DomainError } from '../shared/errors.ts';
import { Money } from '../shared/money.ts';
import { diffFields, withChanges } from '../shared/normalize.ts';

/** Tax rates in percent with at most two decimals (13, 9, 6, 1.5); computed as integer basis points. */
export const TaxRate = z.number().min(0).max(100).refine((v) => Number.isInteger(Math.round(v * 100)) && Math.abs(v * 100 - Math.round(v * 100)) < 1e-9, 'At most two decimals');

/** A product (存货档案) in the company catalogue. */
export const ProductFields = z.object({
  code: z.string().trim().regex(/^[A-Za-z0-9._\-/]{1,40}$/, 'Expected 1 to 40 letters, digits or . _ - /'),
  name: z.string().trim().min(1).max(200),
  specification: z.string().trim().min(1).max(500).optional(),
  unit: z.string().trim().min(1).max(20).describe('e.g. 台 / 件 / kg'),
  category: z.string().trim().min(1).max(100).optional(),
  standardPrice: Money,
  taxRate: TaxRate.describe('Percent, e.g. 13 for 13% VAT'),
  active: z.boolean().default(true),
  custom: CustomValues.optional(),
});
export type ProductFields = z.infer<typeof ProductFields>;

export type ProductEvent =
  /** `erpCode`: created by the ERP bridge for that ERP record. */
  | { type: 'ProductCreated'; data: { productId: string; fields: ProductFields; erpCode?: string } }
  /** Linked to a record of the ERP (the ERP bridge), or unlinked (null). */
  | { type: 'ProductErpLinked'; data: { productId: string; erpCode: string | null; fromErpCode: string | null } }
  | { type: 'ProductChanged'; data: { productId: string; changes: Record<string, unknown> } }
  /** An undo took back its creation (an import undone); `ProductReinstated` brings it back as it was. */
  | { type: 'ProductDiscarded'; data: { productId: string } }
  | { type: 'ProductReinstated'; data: { productId: string; fields: Record<string, unknown>; state: Record<string, unknown> } };
export type ProductState = { status: 'none' } | { status: 'active'; productId: string; fields: ProductFields; erpCode?: string | null };
export type ProductCommand =
  | { type: 'CreateProduct'; productId: string; fields: ProductFields; erpCode?: string }
  | { type: 'ChangeProduct'; productId: string; changes: Record<string, unknown> }
  | { type: 'LinkProductToErp'; productId: string; erpCode: string | null };

export const initialState: ProductState = { status: 'none' };
export function evolve(state: ProductState, event: ProductEvent): ProductState {
  if (event.type === 'ProductCreated') return { status: 'active', ...event.data };
  if (event.type === 'ProductReinstated') return reinstatedState<ProductState>(event.data);
  if (event.type === 'ProductDiscarded') return initialState;
  if (state.status === 'none') return state;
  if (event.type === 'ProductErpLinked') return { ...state, erpCode: event.data.erpCode };
  return withChanges(state, event.data.changes);
}
export function decide(command: ProductCommand, state: ProductState): ProductEvent[] {
  if (command.type === 'CreateProduct') {
    if (state.status !== 'none') throw new DomainError('product.already_exists', `Product ${command.productId} already exists`);
    return [{ type: 'ProductCreated', data: { productId: command.productId, fields: command.fields, ...(command.erpCode ? { erpCode: command.erpCode } : {}) } }];
  }
  if (state.status === 'none') throw new DomainError('product.not_found', `Product ${command.productId} does not exist`, { productId: command.productId });
  if (command.type === 'LinkProductToErp') {
    const current = state.erpCode ?? null;
    return command.erpCode === current ? [] : [{ type: 'ProductErpLinked', data: { productId: state.productId, erpCode: command.erpCode, fromErpCode: current } }];
  }
  for (const required of ['code', 'name', 'unit', 'standardPrice', 'taxRate', 'active'])
    if (command.changes[required] === null) throw new DomainError('product.field_required', `${required} cannot be cleared`, { field: required });
  const changes = diffFields(state.fields, command.changes);
  return Object.keys(changes).length ? [{ type: 'ProductChanged', data: { productId: state.productId, changes } }] : [];
}
export const productDecider = { initialState, evolve, decide };
export const productCategory = 'product';
export const productStream = (id: string) => `${productCategory}-${id}`;
