import { type ContactCommand, contactDecider, type ContactFields, type ContactState, contactStream, type CustomerFacts } from '../domain/contact/index.ts';
import { customerDecider, customerStream } from '../domain/customer/index.ts';
import type { Actor, CommandDeps, RequestMeta } from './context.ts';
import { type CustomOf, customChanges, prepareCustom, releaseCustom } from './custom-fields.ts';
import { type Executed, execute, load } from './pipeline.ts';

async function customerFacts(deps: CommandDeps, customerId: string): Promise<CustomerFacts> {
  const { state } = await load(deps, customerDecider, customerStream(customerId));
  return { customerId, exists: state.status !== 'none', archived: state.status === 'archived' };
}

export interface ContactResult extends Executed<ContactState> {
  contactId: string;
}

const customOfContact = (deps: CommandDeps): CustomOf => async (contactId) => {
  const { state } = await load(deps, contactDecider, contactStream(contactId));
  return state.status === 'none' ? undefined : (state.fields.custom ?? {});
};

export async function addContact(
  deps: CommandDeps,
  input: { customerId: string; fields: ContactFields },
  actor: Actor,
  meta: RequestMeta,
): Promise<ContactResult> {
  const contactId = meta.ids.newId();
  const { custom: given, ...plain } = input.fields;
  const custom = await prepareCustom(deps, 'contacts', given, 'create', contactId, {}, customOfContact(deps), actor, meta);
  const command: ContactCommand = {
    type: 'AddContact',
    contactId,
    customer: await customerFacts(deps, input.customerId),
    fields: { ...plain, ...(Object.keys(custom.values).length ? { custom: custom.values } : {}) },
  };
  try {
    return { ...(await execute(deps, contactDecider, contactStream(contactId), command, actor, meta)), contactId };
  } catch (error) {
    await releaseCustom(deps, custom.claimed, contactId, actor, meta);
    throw error;
  }
}

export async function changeContact(
  deps: CommandDeps,
  contactId: string,
  input: { changes: Partial<Record<keyof ContactFields, unknown>>; customerId?: string },
  actor: Actor,
  meta: RequestMeta,
): Promise<ContactResult> {
  const moveTo = input.customerId ? await customerFacts(deps, input.customerId) : undefined;
  const { state } = await load(deps, contactDecider, contactStream(contactId));
  const custom = await customChanges(deps, 'contacts', input.changes, contactId, state.status === 'active' ? (state.fields.custom ?? {}) : undefined, customOfContact(deps), actor, meta);
  const command: ContactCommand = { type: 'ChangeContact', contactId, changes: custom.changes, ...(moveTo ? { moveTo } : {}) };
  try {
    const result = await execute(deps, contactDecider, contactStream(contactId), command, actor, meta);
    if (result.changed) await releaseCustom(deps, custom.replaced, contactId, actor, meta);
    return { ...result, contactId };
  } catch (error) {
    await releaseCustom(deps, custom.claimed, contactId, actor, meta);
    throw error;
  }
}

export async function removeContact(deps: CommandDeps, contactId: string, actor: Actor, meta: RequestMeta): Promise<ContactResult> {
  const command: ContactCommand = { type: 'RemoveContact', contactId };
  return { ...(await execute(deps, contactDecider, contactStream(contactId), command, actor, meta)), contactId };
}
