import { describe, expect, it } from 'vitest';
import { campaignPersonalValues, memberContactId } from '../../src/domain/campaign/personal.ts';

const fields = ['name', 'officePhone', 'mobile', 'email', 'birthday'];
const custom = new Set(['hobby']);
const values = (type: string, data: unknown) => Object.fromEntries(campaignPersonalValues(type, data, fields, custom));

describe("the contacts' personal values a campaign copies", () => {
  it('finds the contact a member is: its own membership, or a customer contact carried in the merge values; never a lead', () => {
    expect(memberContactId({ resource: 'contacts', recordId: 'p1', merge: {} })).toBe('p1');
    expect(memberContactId({ resource: 'customers', recordId: 'c1', merge: { contact: { id: 'p2', name: 'x' } } })).toBe('p2');
    expect(memberContactId({ resource: 'leads', recordId: 'l1', merge: { contact: { name: 'x' } } })).toBeUndefined();
  });

  it("in a frozen member list: each contact member's address, mobile, name and personal merge values, and its customer's contact summaries", () => {
    const members = [
      { resource: 'contacts', recordId: 'p1', email: 'a@x.cn', mobile: '', name: '甲', merge: { contact: { name: '甲', title: 'CFO', email: 'a@x.cn', custom: { hobby: 'h', colour: 'c' } }, customer: { name: 'Co', contacts: [{ id: 'p1', name: '甲' }, { id: 'p3', name: '丙', mobile: '139' }] } } },
      { resource: 'leads', recordId: 'l1', email: 'lead@x.cn', name: 'L', merge: { lead: { person: 'L' } } },
    ];
    expect(values('CampaignMembersListed', { members })).toEqual({
      p1: ['/members/0/email', '/members/0/name', '/members/0/merge/contact/name', '/members/0/merge/contact/email', '/members/0/merge/contact/custom/hobby', '/members/0/merge/customer/contacts/0/name'],
      p3: ['/members/0/merge/customer/contacts/1/name', '/members/0/merge/customer/contacts/1/mobile'],
    });
  });

  it("in a member's mail or text record, and in an automation's firing, where a contact is named", () => {
    expect(values('CampaignMailSending', { email: 'a@x.cn', contactId: 'p1' })).toEqual({ p1: ['/email'] });
    expect(values('CampaignMailSending', { email: 'lead@x.cn' })).toEqual({});
    expect(values('CampaignSmsSending', { mobile: '139', contactId: 'p1' })).toEqual({ p1: ['/mobile'] });
    expect(values('AutomationMailSending', { to: ['a@x.cn', 'lead@x.cn'], contactIds: ['p1', null] })).toEqual({ p1: ['/to/0'] });
    expect(values('AutomationScheduled', { about: { contactId: 'p1', email: 'a@x.cn' } })).toEqual({ p1: ['/about/email'] });
    expect(values('AutomationScheduled', { about: { leadId: 'l1', email: 'lead@x.cn' } })).toEqual({});
    expect(values('CampaignMailDelivered', { email: 'a@x.cn', contactId: 'p1' })).toEqual({});
  });
});
