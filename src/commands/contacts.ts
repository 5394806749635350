import { type ContactCommand, type ContactFields, type ContactState, type CustomerFacts } from '../domain/contact/index.ts';
import { customerDecider, customerStream } from '../domain/customer/index.ts';
import type { Actor, CommandDeps, RequestMeta } from './context.ts';
import type { Executed } from './pipeline.ts';
import { load } from './pipeline.ts';
import { RecordHandler, type RecordRules } from './record-handler.ts';

async function customerFacts(deps: CommandDeps, customerId: string): Promise<CustomerFacts> {
  const { state } = await load(deps, customerDecider, customerStream(customerId));
  return { customerId, exists: state.status !== 'none', archived: state.status === 'archived' };
}

export interface ContactResult extends Executed<ContactState> {
  contactId: string;
}

export const contactRules: RecordRules<ContactCommand, ContactState> = {
  resource: 'contacts',
};

/** The contact command handler (for work beyond the functions below, such as merges). */
export const contactHandler = (deps: CommandDeps, actor: Actor, meta: RequestMeta) => new RecordHandler(contactRules, deps, actor, meta);
const contacts = contactHandler;

/** `erpCode`: added by the ERP bridge for that ERP record. */
export async function addContact(deps: CommandDeps, input: { customerId: string; fields: ContactFields; erpCode?: string }, actor: Actor, meta: RequestMeta): Promise<ContactResult> {
  const handler = contacts(deps, actor, meta);
  const contactId = meta.ids.newId();
  const customer = await customerFacts(deps, input.customerId);
  const result = await handler.create(input.fields, (id, fields) => ({ type: 'AddContact', contactId: id, customer, fields: fields as ContactFields, ...(input.erpCode ? { erpCode: input.erpCode } : {}) }), contactId);
  return { ...result, contactId };
}

export async function changeContact(
  deps: CommandDeps,
  contactId: string,
  input: { changes: Partial<Record<keyof ContactFields, unknown>>; customerId?: string },
  actor: Actor,
  meta: RequestMeta,
): Promise<ContactResult> {
  const moveTo = input.customerId ? await customerFacts(deps, input.customerId) : undefined;
  const result = await contacts(deps, actor, meta).change(contactId, input.changes, (changes) => ({ type: 'ChangeContact', contactId, changes, ...(moveTo ? { moveTo } : {}) }));
  return { ...result, contactId };
}

export async function removeContact(deps: CommandDeps, contactId: string, actor: Actor, meta: RequestMeta): Promise<ContactResult> {
  return { ...(await contacts(deps, actor, meta).run(contactId, { type: 'RemoveContact', contactId })), contactId };
}
