import { type ContactCommand, contactDecider, type ContactFields, type ContactState, contactStream, type CustomerFacts } from '../domain/contact/index.ts';
import { customerDecider, customerStream } from '../domain/customer/index.ts';
import type { Actor, CommandDeps, RequestMeta } from './context.ts';
import { type Executed, execute, load } from './pipeline.ts';

async function customerFacts(deps: CommandDeps, customerId: string): Promise<CustomerFacts> {
  const { state } = await load(deps, customerDecider, customerStream(customerId));
  return { customerId, exists: state.status !== 'none', archived: state.status === 'archived' };
}

export interface ContactResult extends Executed<ContactState> {
  contactId: string;
}

export async function addContact(
  deps: CommandDeps,
  input: { customerId: string; fields: ContactFields },
  actor: Actor,
  meta: RequestMeta,
): Promise<ContactResult> {
  const contactId = meta.ids.newId();
  const command: ContactCommand = {
    type: 'AddContact',
    contactId,
    customer: await customerFacts(deps, input.customerId),
    fields: input.fields,
  };
  return { ...(await execute(deps, contactDecider, contactStream(contactId), command, actor, meta)), contactId };
}

export async function changeContact(
  deps: CommandDeps,
  contactId: string,
  input: { changes: Partial<Record<keyof ContactFields, unknown>>; customerId?: string },
  actor: Actor,
  meta: RequestMeta,
): Promise<ContactResult> {
  const moveTo = input.customerId ? await customerFacts(deps, input.customerId) : undefined;
  const command: ContactCommand = { type: 'ChangeContact', contactId, changes: input.changes, ...(moveTo ? { moveTo } : {}) };
  return { ...(await execute(deps, contactDecider, contactStream(contactId), command, actor, meta)), contactId };
}

export async function removeContact(deps: CommandDeps, contactId: string, actor: Actor, meta: RequestMeta): Promise<ContactResult> {
  const command: ContactCommand = { type: 'RemoveContact', contactId };
  return { ...(await execute(deps, contactDecider, contactStream(contactId), command, actor, meta)), contactId };
}
