import { z } from 'zod';
import type { EventsOf } from '../shared/decider.ts';
import { ChangeSet } from '../shared/normalize.ts';
import { CustomValues } from '../customization/values.ts';

const text = (max: number) => z.string().trim().min(1).max(max);
const phone = z.string().trim().regex(/^[+0-9()\- ]{3,40}$/, 'Expected a phone number');

/** The plain, changeable fields of a contact (联系人). */
export const ContactFields = z.object({
  name: text(100),
  title: text(100).optional().describe('Job title'),
  dealRole: z
    .enum(['decision_maker', 'influencer', 'user', 'technical', 'financial', 'gatekeeper', 'other'])
    .optional()
    .describe('Role in the deal (决策人 / 影响者 / 使用者 / 技术 / 财务 / 把关者 / 其他)'),
  officePhone: phone.optional(),
  mobile: phone.optional(),
  email: z.email().max(320).optional(),
  birthday: z.iso.date().optional(),
  notes: z.string().max(10_000).optional(),
  custom: CustomValues.optional(),
});
export type ContactFields = z.infer<typeof ContactFields>;

/** `erpCode`: added by the ERP bridge for that ERP record. */
export const ContactAdded = z.object({ contactId: z.string(), customerId: z.string(), fields: ContactFields, erpCode: z.string().min(1).max(40).optional() });
/** Linked to a record of the ERP (the ERP bridge), or unlinked (null). */
export const ContactErpLinked = z.object({ contactId: z.string(), erpCode: z.string().min(1).max(40).nullable(), fromErpCode: z.string().nullable() });
export const ContactChanged = z.object({ contactId: z.string(), changes: ChangeSet });
export const ContactMoved = z.object({ contactId: z.string(), fromCustomerId: z.string(), customerId: z.string() });
export const ContactRemoved = z.object({ contactId: z.string(), customerId: z.string() });
/** The contact's personal data was erased (crypto-shredding): its key is gone, its personal values read `[erased]`. */
export const PersonalDataErased = z.object({
  contactId: z.string(),
  customerId: z.string(),
  /** The data subject whose key was destroyed (`contact-<id>`). */
  subjectId: z.string(),
  /** The fields erased: standard by name, custom as `custom.<key>`. */
  fields: z.array(z.string()),
});

/** An undo took back its creation (an import undone): gone, as if never added; its history stays. */
export const ContactDiscarded = z.object({ contactId: z.string() });
/** An undo brought back a discarded contact as it was: its fields (sealed, as when added) and the rest of its state. */
export const ContactReinstated = z.object({ contactId: z.string(), fields: z.record(z.string(), z.unknown()), state: z.record(z.string(), z.unknown()) });

/** Merged into another contact (a duplicate): its activities, tasks and tickets moved to the survivor. */
export const ContactMerged = z.object({ contactId: z.string(), survivorId: z.string() });
/** A merge undone: the contact is itself again. */
export const ContactUnmerged = z.object({ contactId: z.string() });

/** Its events' schemas, by type (checked on every append). */
export const contactEventSchemas = { ContactErpLinked, ContactMerged, ContactUnmerged, ContactDiscarded, ContactReinstated, ContactAdded, ContactChanged, ContactMoved, ContactRemoved, PersonalDataErased };
export type ContactEvent = EventsOf<typeof contactEventSchemas>;

export const contactCategory = 'contact';
export const contactStream = (contactId: string): string => `${contactCategory}-${contactId}`;
