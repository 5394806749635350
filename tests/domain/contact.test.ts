import { describe, expect, it } from 'vitest';
import { type ContactEvent, contactDecider, contactStream } from '../../src/domain/contact/index.ts';
import { resourceSpecs } from '../../src/domain/customization/resources.ts';
import { fold } from '../../src/domain/shared/decider.ts';
import { specFor } from '../support/spec.ts';

const { given } = specFor(contactDecider);
const id = 'p-1';
const customer = { customerId: 'c-1', exists: true, archived: false };
const added: ContactEvent = { type: 'ContactAdded', data: { contactId: id, customerId: 'c-1', fields: { name: '王伟', mobile: '13800000000' } } };

describe('contact decider', () => {
  it('merges a contact into another, which then takes no changes; an unmerge and a discard are reverted exactly', () => {
    const merged: ContactEvent = { type: 'ContactMerged', data: { contactId: id, survivorId: 'p-2' } };
    given([added]).when({ type: 'MergeContactInto', contactId: id, survivorId: 'p-2' }).then([merged]);
    given([added]).when({ type: 'MergeContactInto', contactId: id, survivorId: id }).thenThrows('contact.merge_self');
    given([added, merged]).when({ type: 'ChangeContact', contactId: id, changes: { title: 'x' } }).thenThrows('contact.merged');
    const active = fold(contactDecider, [added]);
    const now = fold(contactDecider, [added, merged]);
    const revert = resourceSpecs.contacts.revert as unknown as (before: unknown, now: unknown) => ContactEvent[];
    expect(revert(active, now)).toEqual([{ type: 'ContactUnmerged', data: { contactId: id } }]);
    expect(revert(active, now).reduce(contactDecider.evolve, now)).toEqual(active);
    expect(revert(now, active)).toEqual([merged]);
    expect(revert(contactDecider.initialState, active)).toEqual([{ type: 'ContactDiscarded', data: { contactId: id } }]);
    const { fields, ...rest } = active as { fields: unknown };
    expect(revert(active, contactDecider.initialState)).toEqual([{ type: 'ContactReinstated', data: { contactId: id, fields, state: rest } }]);
    expect(revert(active, contactDecider.initialState).reduce(contactDecider.evolve, contactDecider.initialState)).toEqual(active);
  });

  it('adds a contact to an existing customer', () =>
    given([]).when({ type: 'AddContact', contactId: id, customer, fields: added.data.fields }).then([added]));

  it('refuses a contact for an unknown customer', () =>
    given([])
      .when({ type: 'AddContact', contactId: id, customer: { ...customer, exists: false }, fields: { name: 'X' } })
      .thenThrows('contact.customer_unknown'));

  it('refuses a contact for an archived customer', () =>
    given([])
      .when({ type: 'AddContact', contactId: id, customer: { ...customer, archived: true }, fields: { name: 'X' } })
      .thenThrows('contact.customer_archived'));

  it('refuses to add the same id twice', () =>
    given([added]).when({ type: 'AddContact', contactId: id, customer, fields: { name: 'X' } }).thenThrows('contact.already_exists'));

  it('changes fields that differ', () =>
    given([added])
      .when({ type: 'ChangeContact', contactId: id, changes: { name: '王伟', title: '采购经理', mobile: null } })
      .then([{ type: 'ContactChanged', data: { contactId: id, changes: { title: '采购经理', mobile: null } } }]));

  it('moves a contact to another customer', () =>
    given([added])
      .when({ type: 'ChangeContact', contactId: id, changes: {}, moveTo: { customerId: 'c-2', exists: true, archived: false } })
      .then([{ type: 'ContactMoved', data: { contactId: id, fromCustomerId: 'c-1', customerId: 'c-2' } }]));

  it('refuses a move to an unknown customer', () =>
    given([added])
      .when({ type: 'ChangeContact', contactId: id, changes: {}, moveTo: { customerId: 'c-2', exists: false, archived: false } })
      .thenThrows('contact.customer_unknown'));

  it('does nothing for a change to the same values and the same customer', () =>
    given([added]).when({ type: 'ChangeContact', contactId: id, changes: { name: '王伟' }, moveTo: customer }).thenNothing());

  it('refuses to clear the name', () =>
    given([added]).when({ type: 'ChangeContact', contactId: id, changes: { name: null } }).thenThrows('contact.name_required'));

  it('removes a contact', () =>
    given([added]).when({ type: 'RemoveContact', contactId: id }).then([{ type: 'ContactRemoved', data: { contactId: id, customerId: 'c-1' } }]));

  it('refuses to change or remove a removed or unknown contact', () => {
    const removed: ContactEvent = { type: 'ContactRemoved', data: { contactId: id, customerId: 'c-1' } };
    given([added, removed]).when({ type: 'RemoveContact', contactId: id }).thenThrows('contact.not_found');
    given([added, removed]).when({ type: 'ChangeContact', contactId: id, changes: { title: 'X' } }).thenThrows('contact.not_found');
    given([]).when({ type: 'RemoveContact', contactId: id }).thenThrows('contact.not_found');
  });
});

describe('contact decider: the rest pinned', () => {
  const moved: ContactEvent = { type: 'ContactMoved', data: { contactId: id, fromCustomerId: 'c-1', customerId: 'c-2' } };
  it('changes and moves in one command, each when it differs; refusals name the customer', () => {
    given([added]).when({ type: 'ChangeContact', contactId: id, changes: { mobile: null }, moveTo: { customerId: 'c-2', exists: true, archived: false } }).then([
      { type: 'ContactChanged', data: { contactId: id, changes: { mobile: null } } },
      moved,
    ]);
    given([added]).when({ type: 'ChangeContact', contactId: id, changes: {}, moveTo: customer }).thenNothing();
    expect(given([added]).when({ type: 'ChangeContact', contactId: id, changes: {}, moveTo: { customerId: 'c-3', exists: true, archived: true } }).thenThrows('contact.customer_archived').details).toEqual({ customerId: 'c-3' });
    expect(given([added]).when({ type: 'ChangeContact', contactId: id, changes: {}, moveTo: { customerId: 'c-4', exists: false, archived: false } }).thenThrows('contact.customer_unknown').details).toEqual({ customerId: 'c-4' });
    expect(given([]).when({ type: 'RemoveContact', contactId: id }).thenThrows('contact.not_found').details).toEqual({ contactId: id });
  });

  it('folds changes, moves and removal; ignores them before the contact exists', () => {
    const changed: ContactEvent = { type: 'ContactChanged', data: { contactId: id, changes: { mobile: null, title: 'CFO' } } };
    const removed: ContactEvent = { type: 'ContactRemoved', data: { contactId: id, customerId: 'c-2' } };
    expect(fold(contactDecider, [added, changed, moved, removed])).toEqual({ status: 'removed', contactId: id, customerId: 'c-2', fields: { name: '王伟', title: 'CFO' } });
    expect(fold(contactDecider, [changed, moved, removed])).toEqual({ status: 'none' });
    given([added, moved]).when({ type: 'RemoveContact', contactId: id }).then([removed]);
    expect(contactStream(id)).toBe(`contact-${id}`);
  });

  it('erases the personal data once, of a removed contact too; an erased contact takes no more changes', () => {
    const erase = { type: 'EraseContactPersonalData' as const, contactId: id, subjectId: `contact-${id}`, fields: ['name', 'mobile', 'email', 'custom.hobby'] };
    const erased: ContactEvent = { type: 'PersonalDataErased', data: { contactId: id, customerId: 'c-1', subjectId: `contact-${id}`, fields: erase.fields } };
    given([added]).when(erase).then([erased]);
    given([added, { type: 'ContactRemoved', data: { contactId: id, customerId: 'c-1' } }]).when(erase).then([erased]);
    given([]).when(erase).thenThrows('contact.not_found');
    given([added, erased]).when(erase).thenThrows('contact.erased');
    given([added, erased]).when({ type: 'ChangeContact', contactId: id, changes: { mobile: '13900000000' } }).thenThrows('contact.erased');
    given([added, erased]).when({ type: 'RemoveContact', contactId: id }).then([{ type: 'ContactRemoved', data: { contactId: id, customerId: 'c-1' } }]);
    // The fold reads the personal values that were set as erased; the others and the unset ones stay as they were.
    const withCustom: ContactEvent = { type: 'ContactAdded', data: { contactId: id, customerId: 'c-1', fields: { name: '王伟', title: 'CFO', custom: { hobby: 'golf', colour: 'red' } } } };
    expect(fold(contactDecider, [withCustom, erased])).toEqual({ status: 'active', contactId: id, customerId: 'c-1', erased: true, fields: { name: '[erased]', title: 'CFO', custom: { hobby: '[erased]', colour: 'red' } } });
  });
});
