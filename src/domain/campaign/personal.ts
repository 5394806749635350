import { pointerTo } from '../shared/personal-data.ts';

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const present = (value: unknown) => value !== undefined && value !== null && value !== '';

/**
 * The contact a campaign member is (a contact's own membership, or one of a customer's contacts, whose summary
 * the member's merge values carry); none for a lead.
 */
export function memberContactId(member: unknown): string | undefined {
  if (!isObject(member)) return undefined;
  if (member.resource === 'contacts' && typeof member.recordId === 'string') return member.recordId;
  const contact = isObject(member.merge) ? member.merge.contact : undefined;
  return member.resource === 'customers' && isObject(contact) && typeof contact.id === 'string' ? contact.id : undefined;
}

/** `{ contactId }` of the contact a member is, or nothing (to spread into a record). */
export const contactOfMember = (member: unknown): { contactId?: string } => {
  const contactId = memberContactId(member);
  return contactId ? { contactId } : {};
};

/**
 * The contacts' personal values a campaign's events copy out of the contacts' own streams, by contact: a frozen
 * member list (each contact member's address, mobile and name, its merge values, and its customer's embedded
 * contact summaries), a member's mail or text record (the address or number it went to), and an automation's
 * firing (the address of the contact it is about, the addresses it mailed). They are sealed
 * under each contact's key like the contact's own events, so erasing the contact reaches them too.
 */
export function campaignPersonalValues(type: string, data: unknown, contactFields: readonly string[], customKeys: ReadonlySet<string>): Map<string, string[]> {
  const found = new Map<string, string[]>();
  const add = (contactId: string, pointer: string) => found.set(contactId, [...(found.get(contactId) ?? []), pointer]);
  if (!isObject(data)) return found;
  if ((type === 'CampaignMailSending' || type === 'CampaignSmsSending') && typeof data.contactId === 'string') {
    const field = type === 'CampaignMailSending' ? 'email' : 'mobile';
    if (present(data[field])) add(data.contactId, pointerTo(field));
    return found;
  }
  if (type === 'AutomationMailSending' && Array.isArray(data.to) && Array.isArray(data.contactIds)) {
    data.contactIds.forEach((contactId: unknown, i: number) => {
      if (typeof contactId === 'string' && present((data.to as unknown[])[i])) add(contactId, pointerTo('to', String(i)));
    });
    return found;
  }
  if (type === 'AutomationScheduled' && isObject(data.about)) {
    if (typeof data.about.contactId === 'string' && present(data.about.email)) add(data.about.contactId, pointerTo('about', 'email'));
    return found;
  }
  if (type !== 'CampaignMembersListed' || !Array.isArray(data.members)) return found;
  data.members.forEach((member: unknown, i: number) => {
    if (!isObject(member)) return;
    const at = (...keys: string[]) => pointerTo('members', String(i), ...keys);
    const contactId = memberContactId(member);
    if (contactId) {
      for (const field of ['email', 'mobile', 'name']) if (present(member[field])) add(contactId, at(field));
      const contact = isObject(member.merge) ? member.merge.contact : undefined;
      if (isObject(contact)) {
        for (const field of contactFields) if (present(contact[field])) add(contactId, at('merge', 'contact', field));
        if (isObject(contact.custom)) for (const key of Object.keys(contact.custom)) if (customKeys.has(key) && present(contact.custom[key])) add(contactId, at('merge', 'contact', 'custom', key));
      }
    }
    const customer = isObject(member.merge) ? member.merge.customer : undefined;
    if (isObject(customer) && Array.isArray(customer.contacts))
      customer.contacts.forEach((summary: unknown, j: number) => {
        if (!isObject(summary) || typeof summary.id !== 'string') return;
        for (const field of ['name', 'mobile', 'email']) if (present(summary[field])) add(summary.id, at('merge', 'customer', 'contacts', String(j), field));
      });
  });
  return found;
}
