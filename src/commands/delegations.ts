import { Delegation, delegatorsOf } from '../domain/approval/index.ts';
import { DomainError } from '../domain/shared/errors.ts';
import type { ReadStore } from '../infra/readstore/port.ts';
import type { Actor, CommandDeps, RequestMeta } from './context.ts';
import { getEmployee } from './employees.ts';
import { invalidField } from './errors.ts';
import { readSetting, writeSetting } from './settings.ts';
import { DELEGATIONS, type DelegationDoc } from '../projections/delegations.ts';

/** Each person's delegation is a setting of their own (`delegation.<employeeId>`): every change is kept, with who made it. */
export const DELEGATION_KEY_PREFIX = 'delegation.';
const keyOf = (employeeId: string) => `${DELEGATION_KEY_PREFIX}${employeeId}`;

export async function myDelegation(deps: CommandDeps, employeeId: string): Promise<{ value: Delegation | null; revision: bigint }> {
  const { value, revision } = await readSetting<Delegation | null>(deps, keyOf(employeeId));
  return { value: value ?? null, revision };
}

/** Names a delegate for a period: an enabled colleague other than oneself, until a time still to come. */
export async function setDelegation(deps: CommandDeps, delegation: Delegation, actor: Actor, meta: RequestMeta) {
  if (delegation.delegateId === actor.userId) throw invalidField('delegateId', 'Name someone other than yourself', delegation.delegateId);
  const delegate = await getEmployee(deps, delegation.delegateId);
  if (!delegate) throw new DomainError('employee.not_found', `Employee ${delegation.delegateId} does not exist`, { errors: [{ path: 'delegateId', message: 'No employee with this id' }] });
  if (delegate.status === 'disabled') throw invalidField('delegateId', 'This employee is disabled', delegation.delegateId);
  if (Date.parse(delegation.to) <= deps.clock.now().getTime()) throw invalidField('to', 'The delegation must end in the future', delegation.to);
  const value = { delegateId: delegation.delegateId, from: new Date(delegation.from).toISOString(), to: new Date(delegation.to).toISOString() };
  return writeSetting(deps, keyOf(actor.userId), value, actor, meta);
}

export const clearDelegation = (deps: CommandDeps, actor: Actor, meta: RequestMeta) => writeSetting(deps, keyOf(actor.userId), null, actor, meta);

/** Whose approval steps `actorId` may act on at `at` (as their delegate), from the delegations read model. */
export async function delegatorsFor(store: ReadStore, actorId: string, at: string): Promise<string[]> {
  const docs = await store.collection<DelegationDoc>(DELEGATIONS).find({ delegateId: actorId });
  return delegatorsOf(actorId, at, docs.map((doc) => ({ delegatorId: doc._id, delegateId: doc.delegateId, from: doc.from, to: doc.to })));
}
