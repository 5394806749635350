import { consentOf, suppressed } from '../commands/campaign-mail.ts';
import type { Actor } from '../commands/context.ts';
import type { AudienceFilter } from '../domain/campaign/index.ts';
import { type CampaignMember, isBookkeeping, isMobile, localeOf, memberIdFor, normalizeMobile, smsMemberIdFor, smsSuppressionOf } from '../domain/campaign/members.ts';
import { specOf } from '../domain/customization/resources.ts';
import { listInBatches } from '../projections/lists.ts';
import { hiddenFields } from './field-security.ts';
import { listQuery } from './list-query.ts';
import { listSelection } from './list.ts';
import { HttpProblem, validationProblem } from './problem.ts';
import type { RouteServices } from './route.ts';

/** The most members one audience takes (a larger one is split into campaigns by region, owner, …). */
export const MAX_AUDIENCE = 200_000;
const BATCH = 500;
const EMAIL = /^[^\s@<>",]+@[^\s@<>",]+\.[^\s@<>",]+$/;

/** A person an audience may take: an address, a name, and the records the merge fields read. */
interface Candidate {
  email: string;
  mobile: string;
  name: string;
  resource: AudienceFilter['resource'];
  recordId: string;
  ownerId: string | null;
  departmentPath: string | null;
  locale: 'zh-CN' | 'en';
  merge: Record<string, Record<string, unknown>>;
}

/** A record's fields as merge fields see them: no bookkeeping, nothing the sender may not see. */
function mergeable(doc: Record<string, unknown>, hidden: ReadonlySet<string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(doc)) if (!isBookkeeping(key) && !hidden.has(key)) out[key] = value;
  if (out.custom && typeof out.custom === 'object') out.custom = Object.fromEntries(Object.entries(out.custom as Record<string, unknown>).filter(([key]) => !hidden.has(`custom.${key}`)));
  return out;
}

/**
 * The people a list query selects, in the caller's data scope (the list route's own selection: its filters, `q`,
 * saved views, field security): a contact, each contact of a customer, a lead; each with an address.
 */
async function* candidates(services: RouteServices, actor: Actor, filter: AudienceFilter, path: string): AsyncGenerator<Candidate> {
  const spec = specOf(filter.resource);
  const parsed = listQuery(spec.list.filters, spec.list.sorts).safeParse(filter.query);
  if (!parsed.success) throw validationProblem(parsed.error.issues.map((issue) => ({ ...issue, path: [path, 'query', ...issue.path] })), '');
  const selection = await listSelection({ query: parsed.data as never, actor, services }, { resource: filter.resource });
  const hidden = hiddenFields(actor, filter.resource);
  const customerHidden = hiddenFields(actor, 'customers');
  for await (const batch of listInBatches<Record<string, unknown> & { _id: string }>(services.readStore, selection.collection, selection.scope, selection.request, BATCH)) {
    if (filter.resource === 'leads') {
      for (const lead of batch) {
        const fields = mergeable(lead, hidden);
        yield { email: String(lead.email ?? ''), mobile: String(lead.mobile ?? lead.phone ?? ''), name: String(lead.person ?? ''), resource: 'leads', recordId: lead._id, ownerId: (lead.ownerId as string | null) ?? null, departmentPath: (lead.departmentPath as string | null) ?? null, locale: localeOf(lead), merge: { lead: fields, contact: { name: lead.person, email: lead.email }, customer: { name: lead.company } } };
      }
      continue;
    }
    const customerIds = [...new Set(batch.map((doc) => (filter.resource === 'customers' ? doc._id : String(doc.customerId))))];
    const customers = new Map((await services.readStore.collection('customers').find({ _id: { $in: customerIds } })).map((doc) => [doc._id, doc as Record<string, unknown>]));
    if (filter.resource === 'customers') {
      for (const customer of batch)
        for (const contact of (customer.contacts as { id: string; name: string; email?: string; mobile?: string }[] | undefined) ?? [])
          yield { email: contact.email ?? '', mobile: contact.mobile ?? '', name: contact.name, resource: 'customers', recordId: customer._id, ownerId: (customer.ownerId as string | null) ?? null, departmentPath: (customer.departmentPath as string | null) ?? null, locale: localeOf(customer), merge: { contact: { ...contact }, customer: mergeable(customer, customerHidden) } };
      continue;
    }
    for (const contact of batch) {
      const customer = customers.get(String(contact.customerId));
      yield { email: String(contact.email ?? ''), mobile: String(contact.mobile ?? ''), name: String(contact.name ?? ''), resource: 'contacts', recordId: contact._id, ownerId: (contact.ownerId as string | null) ?? null, departmentPath: (contact.departmentPath as string | null) ?? null, locale: localeOf(contact), merge: { contact: mergeable(contact, hidden), customer: customer ? mergeable(customer, customerHidden) : {} } };
    }
  }
}

/** How a channel reaches people: the address it takes from a candidate, whether it is valid, the member id, whether it is suppressed. */
const CHANNELS = {
  email: {
    addressOf: (person: Candidate) => person.email.trim().toLowerCase(),
    valid: (address: string) => EMAIL.test(address),
    memberId: memberIdFor,
    suppressed: async (services: RouteServices, address: string) => suppressed(services.deps, address),
    fields: (person: Candidate) => ({ email: person.email.trim() }),
  },
  sms: {
    addressOf: (person: Candidate) => normalizeMobile(person.mobile),
    valid: isMobile,
    memberId: smsMemberIdFor,
    suppressed: async (services: RouteServices, address: string) => smsSuppressionOf(await consentOf(services.deps, address)) !== undefined,
    fields: (person: Candidate) => ({ email: '', mobile: normalizeMobile(person.mobile) }),
  },
} as const;

/**
 * A campaign's member list as of now: the people the filter selects, one member per address (an email address, or a
 * mobile number for an SMS campaign; the first record wins), less those the exclusion filters select, the addresses
 * excluded by hand, the suppression list (opted out) and records without a valid address.
 */
export async function buildAudience(services: RouteServices, actor: Actor, input: { filter: AudienceFilter; exclude: AudienceFilter[]; excludeEmails: string[]; channel: 'email' | 'sms' }): Promise<{ members: CampaignMember[]; excluded: number }> {
  const channel = CHANNELS[input.channel];
  const excluded = new Set(input.excludeEmails.map((address) => (input.channel === 'sms' ? normalizeMobile(address) : address.trim().toLowerCase())));
  for (const [i, filter] of input.exclude.entries()) for await (const person of candidates(services, actor, filter, `exclude.${i}`)) excluded.add(channel.addressOf(person));
  const members = new Map<string, CampaignMember>();
  let left = 0;
  for await (const person of candidates(services, actor, input.filter, 'filter')) {
    const address = channel.addressOf(person);
    if (!channel.valid(address) || excluded.has(address)) {
      left += 1;
      continue;
    }
    const memberId = channel.memberId(address);
    if (members.has(memberId)) continue;
    if (members.size >= MAX_AUDIENCE)
      throw new HttpProblem(413, 'audience.too_large', 'Audience too large', `An audience takes at most ${MAX_AUDIENCE} members; narrow the filter (a region, an owner, a level) and split the mailing into campaigns`, { maxMembers: MAX_AUDIENCE });
    members.set(memberId, { memberId, ...channel.fields(person), name: person.name, resource: person.resource, recordId: person.recordId, ownerId: person.ownerId, departmentPath: person.departmentPath, locale: person.locale, merge: person.merge });
  }
  const kept: CampaignMember[] = [];
  for (const member of members.values()) {
    if (await channel.suppressed(services, member.mobile ?? member.email)) left += 1;
    else kept.push(member);
  }
  return { members: kept, excluded: left };
}
