import { assertConvertible, type LeadCommand, type LeadFields, type LeadState } from '../domain/lead/index.ts';
import { customerDecider, customerStream } from '../domain/customer/index.ts';
import { DomainError } from '../domain/shared/errors.ts';
import type { Money } from '../domain/shared/money.ts';
import { seededIds } from '../infra/ids.ts';
import { addContact } from './contacts.ts';
import type { Actor, CommandDeps, RequestMeta } from './context.ts';
import { assertOwner, registerCustomer } from './customers.ts';
import { createOpportunity } from './opportunities.ts';
import { load } from './pipeline.ts';
import { RecordHandler, type RecordRules } from './record-handler.ts';

export const leadRules: RecordRules<LeadCommand, LeadState> = {
  resource: 'leads',
};

const leads = (deps: CommandDeps, actor: Actor, meta: RequestMeta) => new RecordHandler(leadRules, deps, actor, meta);

export async function createLead(deps: CommandDeps, input: { fields: LeadFields; ownerId?: string }, actor: Actor, meta: RequestMeta) {
  const ownerId = input.ownerId ?? actor.userId;
  await assertOwner(deps, ownerId);
  const result = await leads(deps, actor, meta).create(input.fields, (leadId, fields) => ({ type: 'CreateLead', leadId, ownerId, fields: fields as LeadFields }));
  return { ...result, leadId: result.id };
}

export const changeLead = (deps: CommandDeps, leadId: string, changes: Record<string, unknown>, actor: Actor, meta: RequestMeta) =>
  leads(deps, actor, meta).change(leadId, changes, (plain) => ({ type: 'ChangeLead', leadId, changes: plain }));

export const markLead = (deps: CommandDeps, leadId: string, status: 'working' | 'qualified', actor: Actor, meta: RequestMeta) =>
  leads(deps, actor, meta).run(leadId, { type: 'MarkLead', leadId, status });

export const disqualifyLead = (deps: CommandDeps, leadId: string, reason: string, actor: Actor, meta: RequestMeta) =>
  leads(deps, actor, meta).run(leadId, { type: 'DisqualifyLead', leadId, reason });

export async function changeLeadOwner(deps: CommandDeps, leadId: string, ownerId: string, actor: Actor, meta: RequestMeta) {
  await assertOwner(deps, ownerId);
  return leads(deps, actor, meta).run(leadId, { type: 'ChangeLeadOwner', leadId, ownerId });
}

export interface Conversion {
  customerId: string;
  contactId: string;
  opportunityId?: string;
  position: bigint;
  revision: bigint;
}

/**
 * Converts a lead: creates (or links) the customer, adds the person as a contact, optionally opens an
 * opportunity, and records the conversion on the lead. Every step runs under one request id derived from the
 * lead, with ids seeded from it: a retried or interrupted conversion re-targets the very same records and
 * recognises the steps already done, so it never creates a second customer.
 */
export async function convertLead(
  deps: CommandDeps,
  leadId: string,
  input: { customerId?: string; createOpportunity?: { name: string; amount: Money; expectedCloseDate: string } },
  actor: Actor,
  meta: RequestMeta,
): Promise<Conversion> {
  const loaded = await leads(deps, actor, meta).load(leadId);
  const lead: LeadState = loaded.state;
  assertConvertible(lead, leadId);
  const seed = `convert:${leadId}`;
  const step: RequestMeta = { correlationId: meta.correlationId, requestId: seed, ids: seededIds(seed, new Date(loaded.events[0]!.metadata.at).getTime()) };
  let customerId = input.customerId;
  if (customerId) {
    const { state } = await load(deps, customerDecider, customerStream(customerId));
    if (state.status === 'none') throw new DomainError('lead.customer_unknown', `Customer ${customerId} does not exist`, { customerId });
  } else {
    const fields = { name: lead.fields.company, ...(lead.fields.phone ? { phone: lead.fields.phone } : {}), ...(lead.fields.source ? { source: lead.fields.source } : {}) };
    customerId = (await registerCustomer(deps, { fields, ownerId: lead.ownerId }, actor, step)).customerId;
  }
  const contactFields = { name: lead.fields.person, ...(lead.fields.phone ? { mobile: lead.fields.phone } : {}), ...(lead.fields.email ? { email: lead.fields.email } : {}) };
  const { contactId } = await addContact(deps, { customerId, fields: contactFields }, actor, step);
  let opportunityId: string | undefined;
  if (input.createOpportunity) {
    const fields = { ...input.createOpportunity, customerId, ...(lead.fields.source ? { source: lead.fields.source } : {}), ...(lead.fields.campaignId ? { campaignId: lead.fields.campaignId } : {}) };
    opportunityId = (await createOpportunity(deps, { fields, ownerId: lead.ownerId }, actor, step)).opportunityId;
  }
  const result = await leads(deps, actor, step).run(leadId, { type: 'RecordConversion', leadId, customerId, contactId, ...(opportunityId ? { opportunityId } : {}) });
  return { customerId, contactId, ...(opportunityId ? { opportunityId } : {}), position: result.position, revision: result.revision };
}
