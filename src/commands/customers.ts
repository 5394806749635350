import { type CustomerCommand, type CustomerFields, type CustomerState } from '../domain/customer/index.ts';
import { DomainError } from '../domain/shared/errors.ts';
import { normalizeName, normalizeTaxNumber } from '../domain/shared/normalize.ts';
import type { Actor, CommandDeps, RequestMeta } from './context.ts';
import type { Executed } from './pipeline.ts';
import { RecordHandler, type RecordRules } from './record-handler.ts';
import { getEmployee } from './employees.ts';

const duplicate = (field: 'name' | 'taxNumber') => (_given: unknown, existingCustomerId: string | undefined) =>
  new DomainError(
    'customer.duplicate',
    `A customer with this ${field === 'name' ? 'name' : 'tax number'} already exists${existingCustomerId ? `: ${existingCustomerId}` : ' (outside your data scope)'}`,
    { field, ...(existingCustomerId ? { existingCustomerId } : {}) },
  );

/** A customer's company-wide unique keys are its normalised name and its normalised tax number. */
export const customerRules: RecordRules<CustomerCommand, CustomerState> = {
  resource: 'customers',
  // A merged customer holds no values: its name and tax number are free for its survivor (or anyone) to take.
  fieldsOf: (state) => (state.status === 'none' || state.status === 'merged' ? undefined : state.fields),
  uniqueFields: [
    { scope: 'customer.name', field: 'name', normalize: (value) => (typeof value === 'string' && value ? normalizeName(value) : undefined), taken: duplicate('name') },
    { scope: 'customer.taxNumber', field: 'taxNumber', normalize: (value) => (typeof value === 'string' && value ? normalizeTaxNumber(value) : undefined), taken: duplicate('taxNumber') },
  ],
};

/** The customer command handler (for work beyond the functions below, such as member levels). */
export const customerHandler = (deps: CommandDeps, actor: Actor, meta: RequestMeta) => new RecordHandler(customerRules, deps, actor, meta);
const customers = customerHandler;

/** An owner must be a known employee who is not disabled. */
export async function assertOwner(deps: CommandDeps, ownerId: string): Promise<void> {
  const owner = await getEmployee(deps, ownerId);
  if (!owner) throw new DomainError('customer.owner_unknown', `Owner ${ownerId} is not a known employee`, { ownerId });
  if (owner.status === 'disabled') throw new DomainError('customer.owner_disabled', `Employee ${ownerId} is disabled and cannot own customers`, { ownerId });
}

export interface CustomerResult extends Executed<CustomerState> {
  customerId: string;
}

export async function registerCustomer(
  deps: CommandDeps,
  input: { fields: CustomerFields; ownerId?: string; erpCode?: string },
  actor: Actor,
  meta: RequestMeta,
): Promise<CustomerResult> {
  const ownerId = input.ownerId ?? actor.userId;
  await assertOwner(deps, ownerId);
  const result = await customers(deps, actor, meta).create(input.fields, (customerId, fields) => ({ type: 'RegisterCustomer', customerId, ownerId, fields: fields as CustomerFields, ...(input.erpCode ? { erpCode: input.erpCode } : {}) }));
  return { ...result, customerId: result.id };
}

/** Changes plain fields; a new name or tax number is claimed first and the old one released after. */
export async function changeCustomer(
  deps: CommandDeps,
  customerId: string,
  changes: Partial<Record<keyof CustomerFields, unknown>>,
  actor: Actor,
  meta: RequestMeta,
): Promise<CustomerResult> {
  return { ...(await customers(deps, actor, meta).change(customerId, changes, (plain) => ({ type: 'ChangeCustomer', customerId, changes: plain }))), customerId };
}

export async function changeCustomerOwner(
  deps: CommandDeps,
  customerId: string,
  ownerId: string,
  actor: Actor,
  meta: RequestMeta,
): Promise<CustomerResult> {
  await assertOwner(deps, ownerId);
  const command: CustomerCommand = { type: 'ChangeCustomerOwner', customerId, ownerId };
  return { ...(await customers(deps, actor, meta).run(customerId, command)), customerId };
}

/** Puts a customer into the pool (公海); `reason` says why (e.g. `released`, `no_follow_up_30_days`). */
export async function releaseCustomer(deps: CommandDeps, customerId: string, reason: string, actor: Actor, meta: RequestMeta): Promise<CustomerResult> {
  const command: CustomerCommand = { type: 'ReleaseCustomer', customerId, reason };
  return { ...(await customers(deps, actor, meta).run(customerId, command)), customerId };
}

/**
 * Takes a customer from the pool. The append is conditional on the revision the claimer saw, and a concurrent
 * claim makes the command re-decide against the new state, so the second claimer gets customer.already_claimed.
 */
export async function claimCustomer(deps: CommandDeps, customerId: string, actor: Actor, meta: RequestMeta): Promise<CustomerResult> {
  const command: CustomerCommand = { type: 'ClaimCustomer', customerId, ownerId: actor.userId };
  return { ...(await customers(deps, actor, meta).run(customerId, command)), customerId };
}

export async function archiveCustomer(
  deps: CommandDeps,
  customerId: string,
  reason: string | undefined,
  actor: Actor,
  meta: RequestMeta,
): Promise<CustomerResult> {
  const command: CustomerCommand = { type: 'ArchiveCustomer', customerId, ...(reason ? { reason } : {}) };
  return { ...(await customers(deps, actor, meta).run(customerId, command)), customerId };
}

export async function restoreCustomer(deps: CommandDeps, customerId: string, actor: Actor, meta: RequestMeta): Promise<CustomerResult> {
  const command: CustomerCommand = { type: 'RestoreCustomer', customerId };
  return { ...(await customers(deps, actor, meta).run(customerId, command)), customerId };
}
