import { type CustomerCommand, customerDecider, type CustomerFields, type CustomerState, customerStream } from '../domain/customer/index.ts';
import { DomainError } from '../domain/shared/errors.ts';
import { normalizeName, normalizeTaxNumber } from '../domain/shared/normalize.ts';
import type { Actor, CommandDeps, RequestMeta } from './context.ts';
import { type Executed, execute, load } from './pipeline.ts';
import { recordVisible, scopedKinds } from './references.ts';
import { claim, isHeld, releaseQuietly, type ReservationHolderCheck } from './reservations.ts';
import { getEmployee } from './employees.ts';
import { type CustomOf, customChanges, prepareCustom } from './custom-fields.ts';

/** The company-wide unique keys of a customer: its normalised name and its normalised tax number. */
const uniqueKeys = [
  { scope: 'customer.name', field: 'name', of: (fields: Partial<CustomerFields>) => (fields.name ? normalizeName(fields.name) : undefined) },
  {
    scope: 'customer.taxNumber',
    field: 'taxNumber',
    of: (fields: Partial<CustomerFields>) => (fields.taxNumber ? normalizeTaxNumber(fields.taxNumber) : undefined),
  },
] as const;

async function loadCustomer(deps: CommandDeps, customerId: string): Promise<CustomerState> {
  return (await load(deps, customerDecider, customerStream(customerId))).state;
}

function holderCheck(deps: CommandDeps, key: (typeof uniqueKeys)[number], value: string): ReservationHolderCheck {
  return {
    holds: async (holderId) => {
      const state = await loadCustomer(deps, holderId);
      return state.status !== 'none' && key.of(state.fields) === value;
    },
    exists: async (holderId) => (await loadCustomer(deps, holderId)).status !== 'none',
  };
}

/** Claims every unique key `fields` sets for `customerId`; all or none. Returns the keys it claimed. */
async function claimKeys(
  deps: CommandDeps,
  customerId: string,
  fields: Partial<CustomerFields>,
  actor: Actor,
  meta: RequestMeta,
): Promise<{ scope: string; value: string }[]> {
  const claimed: { scope: string; value: string }[] = [];
  try {
    for (const key of uniqueKeys) {
      const value = key.of(fields);
      if (value === undefined) continue;
      try {
        await claim(deps, key.scope, value, customerId, holderCheck(deps, key, value), actor, meta);
      } catch (error) {
        if (!isHeld(error)) throw error;
        // The existing customer is named only to someone who may see it.
        const existingCustomerId = String(error.details.holderId);
        const visible = await recordVisible(deps, actor, scopedKinds.customers!, existingCustomerId);
        throw new DomainError(
          'customer.duplicate',
          `A customer with this ${key.field === 'name' ? 'name' : 'tax number'} already exists${visible ? `: ${existingCustomerId}` : ' (outside your data scope)'}`,
          { field: key.field, ...(visible ? { existingCustomerId } : {}) },
        );
      }
      claimed.push({ scope: key.scope, value });
    }
    return claimed;
  } catch (error) {
    await releaseKeys(deps, claimed, customerId, actor, meta);
    throw error;
  }
}

async function releaseKeys(
  deps: CommandDeps,
  keys: { scope: string; value: string }[],
  customerId: string,
  actor: Actor,
  meta: RequestMeta,
): Promise<void> {
  for (const key of keys) await releaseQuietly(deps, key.scope, key.value, customerId, actor, meta);
}

/** An owner must be a known employee who is not disabled. */
export async function assertOwner(deps: CommandDeps, ownerId: string): Promise<void> {
  const owner = await getEmployee(deps, ownerId);
  if (!owner) throw new DomainError('customer.owner_unknown', `Owner ${ownerId} is not a known employee`, { ownerId });
  if (owner.status === 'disabled') throw new DomainError('customer.owner_disabled', `Employee ${ownerId} is disabled and cannot own customers`, { ownerId });
}

const customOfCustomer = (deps: CommandDeps): CustomOf => async (customerId) => {
  const state = await loadCustomer(deps, customerId);
  return state.status === 'none' ? undefined : (state.fields.custom ?? {});
};

export interface CustomerResult extends Executed<CustomerState> {
  customerId: string;
}

export async function registerCustomer(
  deps: CommandDeps,
  input: { fields: CustomerFields; ownerId?: string },
  actor: Actor,
  meta: RequestMeta,
): Promise<CustomerResult> {
  const customerId = meta.ids.newId();
  const ownerId = input.ownerId ?? actor.userId;
  await assertOwner(deps, ownerId);
  const { custom: given, ...plain } = input.fields;
  const custom = await prepareCustom(deps, 'customers', given, 'create', customerId, {}, customOfCustomer(deps), actor, meta);
  const fields: CustomerFields = { ...plain, ...(Object.keys(custom.values).length ? { custom: custom.values } : {}) };
  let claimed: { scope: string; value: string }[] = [];
  try {
    claimed = await claimKeys(deps, customerId, fields, actor, meta);
    const command: CustomerCommand = { type: 'RegisterCustomer', customerId, ownerId, fields };
    const result = await execute(deps, customerDecider, customerStream(customerId), command, actor, meta);
    return { ...result, customerId };
  } catch (error) {
    await releaseKeys(deps, [...claimed, ...custom.claimed], customerId, actor, meta);
    throw error;
  }
}

/** Changes plain fields; a new name or tax number is claimed first and the old one released after. */
export async function changeCustomer(
  deps: CommandDeps,
  customerId: string,
  changes: Partial<Record<keyof CustomerFields, unknown>>,
  actor: Actor,
  meta: RequestMeta,
): Promise<CustomerResult> {
  const before = await loadCustomer(deps, customerId);
  const previous: Partial<CustomerFields> = before.status === 'none' ? {} : before.fields;
  const claimable: Partial<CustomerFields> = {};
  const released: { scope: string; value: string }[] = [];
  if (before.status === 'active') {
    for (const key of uniqueKeys) {
      if (!(key.field in changes)) continue;
      const next = changes[key.field] === null ? undefined : key.of({ [key.field]: changes[key.field] } as Partial<CustomerFields>);
      const old = key.of(previous);
      if (next === old) continue;
      if (next !== undefined) Object.assign(claimable, { [key.field]: changes[key.field] });
      if (old !== undefined) released.push({ scope: key.scope, value: old });
    }
  }
  const custom = await customChanges(deps, 'customers', changes, customerId, before.status === 'active' ? (before.fields.custom ?? {}) : undefined, customOfCustomer(deps), actor, meta);
  let claimed: { scope: string; value: string }[] = [];
  let result: Executed<CustomerState>;
  try {
    claimed = await claimKeys(deps, customerId, claimable, actor, meta);
    result = await execute(deps, customerDecider, customerStream(customerId), { type: 'ChangeCustomer', customerId, changes: custom.changes }, actor, meta);
  } catch (error) {
    await releaseKeys(deps, [...claimed, ...custom.claimed], customerId, actor, meta);
    throw error;
  }
  if (result.changed) await releaseKeys(deps, [...released, ...custom.replaced], customerId, actor, meta);
  return { ...result, customerId };
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
  return { ...(await execute(deps, customerDecider, customerStream(customerId), command, actor, meta)), customerId };
}

/** Puts a customer into the pool (公海); `reason` says why (e.g. `released`, `no_follow_up_30_days`). */
export async function releaseCustomer(deps: CommandDeps, customerId: string, reason: string, actor: Actor, meta: RequestMeta): Promise<CustomerResult> {
  const command: CustomerCommand = { type: 'ReleaseCustomer', customerId, reason };
  return { ...(await execute(deps, customerDecider, customerStream(customerId), command, actor, meta)), customerId };
}

/**
 * Takes a customer from the pool. The append is conditional on the revision the claimer saw, and a concurrent
 * claim makes the command re-decide against the new state, so the second claimer gets customer.already_claimed.
 */
export async function claimCustomer(deps: CommandDeps, customerId: string, actor: Actor, meta: RequestMeta): Promise<CustomerResult> {
  const command: CustomerCommand = { type: 'ClaimCustomer', customerId, ownerId: actor.userId };
  return { ...(await execute(deps, customerDecider, customerStream(customerId), command, actor, meta)), customerId };
}

export async function archiveCustomer(
  deps: CommandDeps,
  customerId: string,
  reason: string | undefined,
  actor: Actor,
  meta: RequestMeta,
): Promise<CustomerResult> {
  const command: CustomerCommand = { type: 'ArchiveCustomer', customerId, ...(reason ? { reason } : {}) };
  return { ...(await execute(deps, customerDecider, customerStream(customerId), command, actor, meta)), customerId };
}

export async function restoreCustomer(deps: CommandDeps, customerId: string, actor: Actor, meta: RequestMeta): Promise<CustomerResult> {
  const command: CustomerCommand = { type: 'RestoreCustomer', customerId };
  return { ...(await execute(deps, customerDecider, customerStream(customerId), command, actor, meta)), customerId };
}
