import type { ReadStore } from '../infra/readstore/port.ts';
import { CONTACTS, type ContactDoc, CUSTOMERS, type CustomerDoc, EMBEDDED_CONTACTS } from './customers.ts';
import { type DataScope, orUnowned, withinScope } from '../access/scope.ts';

/** One customer in the actor's scope; a customer in the pool is visible to everyone who may view customers. */
export async function getCustomer(store: ReadStore, scope: DataScope, customerId: string): Promise<CustomerDoc | null> {
  return store.collection<CustomerDoc>(CUSTOMERS).findOne(withinScope(orUnowned(scope), { _id: customerId }));
}

/** A customer's most recently changed contacts (at most `limit`); the rest are paged by /contacts?customerId=. */
/** A customer's contacts as its page shows them: those merged into another contact are not its any more. */
export const customerContactsFilter = (customerId: string) => ({ customerId, status: { $ne: 'merged' } });

export async function contactsOfCustomer(store: ReadStore, scope: DataScope, customerId: string, limit = EMBEDDED_CONTACTS): Promise<ContactDoc[]> {
  return store.collection<ContactDoc>(CONTACTS).find(withinScope(scope, customerContactsFilter(customerId)), { sort: { updatedAt: -1, _id: -1 }, limit });
}

export async function getContact(store: ReadStore, scope: DataScope, contactId: string): Promise<ContactDoc | null> {
  return store.collection<ContactDoc>(CONTACTS).findOne(withinScope(scope, { _id: contactId }));
}

