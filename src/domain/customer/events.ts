import { z } from 'zod';
import type { EventsOf } from '../shared/decider.ts';
import { Money } from '../shared/money.ts';
import { ChangeSet } from '../shared/normalize.ts';
import { CustomValues } from '../customization/values.ts';

const text = (max: number) => z.string().trim().min(1).max(max);

/** The plain, changeable fields of a customer record (客户档案). */
export const CustomerFields = z.object({
  name: text(200).describe('Legal or trading name; unique company-wide after normalisation'),
  shortName: text(100).optional(),
  industry: text(100).optional(),
  region: text(100).optional().describe('Sales region, e.g. 华东 / East China'),
  address: text(500).optional(),
  postalCode: z.string().trim().regex(/^[A-Za-z0-9 -]{3,12}$/, 'Expected a postal code').optional(),
  phone: z.string().trim().regex(/^[+0-9()\- ]{3,40}$/, 'Expected a phone number').optional(),
  website: z.url({ protocol: /^https?$/ }).max(500).optional(),
  taxNumber: z.string().trim().regex(/^[A-Za-z0-9 .\-/]{5,40}$/, 'Expected a tax number').optional()
    .describe('Tax number (统一社会信用代码); unique company-wide after normalisation'),
  annualRevenue: Money.optional(),
  creditLimit: Money.optional().describe("Credit limit (信用额度): confirming an order whose amount plus the customer's open receivables exceeds it needs approval"),
  source: text(100).optional(),
  level: text(50).optional().describe('Customer level, e.g. A / B / C'),
  category: text(100).optional(),
  notes: z.string().max(10_000).optional(),
  custom: CustomValues.optional(),
});
export type CustomerFields = z.infer<typeof CustomerFields>;

export const CustomerRegistered = z.object({
  customerId: z.string(),
  ownerId: z.string(),
  /** The customer's code in the ERP (往来单位编码); null until the ERP bridge links it. Older events are upcast to null. */
  erpCode: z.string().min(1).max(40).nullable(),
  fields: CustomerFields,
});
export const CustomerChanged = z.object({ customerId: z.string(), changes: ChangeSet });
export const CustomerOwnerChanged = z.object({ customerId: z.string(), fromOwnerId: z.string().nullable(), ownerId: z.string() });
/** Put into the customer pool (公海): nobody owns it until someone claims it. */
export const CustomerReleased = z.object({ customerId: z.string(), fromOwnerId: z.string(), reason: z.string() });
export const CustomerClaimed = z.object({ customerId: z.string(), ownerId: z.string() });
export const CustomerArchived = z.object({ customerId: z.string(), reason: z.string().optional() });
export const CustomerRestored = z.object({ customerId: z.string() });
/**
 * Its member level (see member-levels.ts) changed, computed from what it bought or paid in the rules' window.
 * Everything about the change sits under `memberLevel`, so hiding that field hides the change in the history too.
 */
export const CustomerMemberLevelChanged = z.object({
  customerId: z.string(),
  memberLevel: z.object({
    from: z.string().nullable(),
    to: z.string().nullable(),
    /** What it bought or paid in the window when the level changed. */
    amount: Money,
    basis: z.enum(['orders', 'collections']),
    windowMonths: z.number().int(),
  }),
});

/** An undo took back its registration (an import undone): the record is gone, as if never registered; its history stays. */
export const CustomerDiscarded = z.object({ customerId: z.string() });
/** An undo brought back a discarded customer as it was (an undone import's undo). */
export const CustomerReinstated = z.object({
  customerId: z.string(),
  ownerId: z.string().nullable(),
  erpCode: z.string().min(1).max(40).nullable(),
  status: z.enum(['active', 'archived']),
  fields: CustomerFields,
});

/**
 * Merged into another customer (a merge of duplicates): its records moved to the survivor, and it now only points
 * there. Written on the duplicate; the survivor notes `CustomersMergedIn`.
 */
export const CustomerMerged = z.object({ customerId: z.string(), survivorId: z.string() });
/** A merge undone: the customer is itself again, with the status it had. */
export const CustomerUnmerged = z.object({ customerId: z.string(), status: z.enum(['active', 'archived']) });
/** The survivor of a merge: which duplicates were merged into it (history; its state is unchanged by it). */
export const CustomersMergedIn = z.object({ customerId: z.string(), mergedIds: z.array(z.string()).min(1) });

/** Linked to a record of the ERP (the ERP bridge), or to another one when a sync conflict was settled; null: unlinked. */
export const CustomerErpLinked = z.object({ customerId: z.string(), erpCode: z.string().min(1).max(40).nullable(), fromErpCode: z.string().nullable() });

/** Its events' schemas, by type (checked on every append). */
export const customerEventSchemas = { CustomerMerged, CustomerUnmerged, CustomersMergedIn, CustomerDiscarded, CustomerReinstated, CustomerRegistered, CustomerChanged, CustomerOwnerChanged, CustomerReleased, CustomerClaimed, CustomerArchived, CustomerRestored, CustomerMemberLevelChanged, CustomerErpLinked };
export type CustomerEvent = EventsOf<typeof customerEventSchemas>;

export const customerCategory = 'customer';
export const customerStream = (customerId: string): string => `${customerCategory}-${customerId}`;
