import { z } from 'zod';
import { contactCategory, customerCategory, leadCategory, opportunityCategory, orderCategory, productCategory, quoteCategory } from '../categories.ts';
import { ContactFields } from '../contact/events.ts';
import type { Module } from '../role/index.ts';

/** What a list takes besides paging: its filters (zod, one per query parameter) and the fields it sorts by. */
export interface ListSpec {
  filters: z.ZodRawShape;
  sorts: readonly string[];
  defaultSort: string;
}

/**
 * A resource an administrator can customise: custom fields, layouts, list views, related panels and field-level
 * security apply to it. Its list filters and sorts are declared here once: the list route's query schema, the
 * saved views' checks and the OpenAPI document all come from them.
 */
export interface ResourceSpec {
  name: string;
  /** The permission module guarding it. */
  module: Module;
  /** The event-stream category of its records. */
  category: string;
  /** Standard field names (layouts, list columns and field-level security refer to them). */
  standardFields: readonly string[];
  /** Related lists its record page can show, e.g. a customer's contacts. */
  relatedPanels: readonly string[];
  list: ListSpec;
  /**
   * The fields a list's `q` searches (a nested resource's as `<key>.<field>`, e.g. a customer's embedded
   * `contacts.mobile`). A caller for whom one is hidden searches only the others.
   */
  search: readonly string[];
  /** Its records take attachments (upload, list, download routes). */
  attachments: boolean;
}

const q = (what?: string) => {
  const text = z.string().trim().min(1).max(200).optional();
  return what ? text.describe(what) : text;
};
const id = () => z.string().max(100).optional();
const text = (max: number) => z.string().max(max).optional();

export const resourceSpecs = {
  customers: {
    name: 'customers',
    module: 'customers',
    category: customerCategory,
    standardFields: ['name', 'shortName', 'industry', 'region', 'address', 'postalCode', 'phone', 'website', 'taxNumber', 'annualRevenue', 'source', 'level', 'category', 'notes', 'ownerId', 'status', 'createdAt', 'updatedAt'],
    relatedPanels: ['contacts', 'opportunities'],
    list: {
      filters: {
        q: q('Searches name, short name, phone and contact names'),
        ownerId: id(),
        industry: text(100),
        region: text(100),
        level: text(50),
        category: text(100),
        source: text(100),
        status: z.enum(['active', 'archived']).optional(),
      },
      sorts: ['name', 'createdAt', 'updatedAt'],
      defaultSort: '-updatedAt',
    },
    search: ['name', 'shortName', 'phone', 'contacts.name', 'contacts.mobile'],
    attachments: true,
  },
  contacts: {
    name: 'contacts',
    module: 'contacts',
    category: contactCategory,
    standardFields: ['name', 'title', 'dealRole', 'officePhone', 'mobile', 'email', 'birthday', 'notes', 'customerId', 'customerName', 'ownerId', 'createdAt', 'updatedAt'],
    relatedPanels: [],
    list: {
      filters: { q: q('Searches name, phones, email and customer name'), customerId: id(), ownerId: id(), dealRole: ContactFields.shape.dealRole.unwrap().optional() },
      sorts: ['name', 'createdAt', 'updatedAt'],
      defaultSort: 'name',
    },
    search: ['name', 'mobile', 'officePhone', 'email', 'customerName'],
    attachments: false,
  },
  products: {
    name: 'products',
    module: 'products',
    category: productCategory,
    standardFields: ['code', 'name', 'specification', 'unit', 'category', 'standardPrice', 'taxRate', 'active', 'createdAt', 'updatedAt'],
    relatedPanels: [],
    list: {
      filters: { q: q(), category: text(100), active: z.enum(['true', 'false']).transform((v) => v === 'true').optional() },
      sorts: ['code', 'name', 'createdAt', 'updatedAt'],
      defaultSort: 'code',
    },
    search: ['code', 'name', 'specification', 'category'],
    attachments: false,
  },
  leads: {
    name: 'leads',
    module: 'leads',
    category: leadCategory,
    standardFields: ['company', 'person', 'phone', 'email', 'source', 'campaignId', 'notes', 'status', 'ownerId', 'createdAt', 'updatedAt'],
    relatedPanels: [],
    list: {
      filters: { q: q(), status: z.enum(['new', 'working', 'qualified', 'disqualified', 'converted']).optional(), ownerId: id(), source: text(100) },
      sorts: ['company', 'createdAt', 'updatedAt'],
      defaultSort: '-updatedAt',
    },
    search: ['company', 'person', 'phone', 'email'],
    attachments: true,
  },
  opportunities: {
    name: 'opportunities',
    module: 'opportunities',
    category: opportunityCategory,
    standardFields: ['name', 'customerId', 'customerName', 'amount', 'expectedCloseDate', 'source', 'campaignId', 'competitors', 'collaborators', 'notes', 'stage', 'status', 'ownerId', 'createdAt', 'updatedAt'],
    relatedPanels: [],
    list: {
      filters: { q: q(), stage: text(40), status: z.enum(['open', 'won', 'lost']).optional(), ownerId: id(), customerId: id() },
      sorts: ['name', 'expectedCloseDate', 'createdAt', 'updatedAt'],
      defaultSort: '-updatedAt',
    },
    search: ['name', 'competitors'],
    attachments: true,
  },
  quotes: {
    name: 'quotes',
    module: 'quotes',
    category: quoteCategory,
    standardFields: ['customerId', 'opportunityId', 'currency', 'lines', 'totals', 'validUntil', 'notes', 'status', 'version', 'ownerId', 'createdAt', 'updatedAt'],
    relatedPanels: [],
    list: {
      filters: { q: q(), status: z.enum(['draft', 'sent', 'accepted', 'rejected']).optional(), ownerId: id(), customerId: id(), opportunityId: id() },
      sorts: ['createdAt', 'updatedAt', 'validUntil'],
      defaultSort: '-updatedAt',
    },
    search: ['notes'],
    attachments: true,
  },
  orders: {
    name: 'orders',
    module: 'orders',
    category: orderCategory,
    standardFields: ['number', 'customerId', 'quoteId', 'currency', 'lines', 'totals', 'total', 'paid', 'receivable', 'dueDate', 'paymentTermsDays', 'status', 'ownerId', 'createdAt', 'updatedAt'],
    relatedPanels: [],
    list: {
      filters: { q: q(), status: z.enum(['draft', 'confirmed', 'partially_shipped', 'shipped', 'completed', 'cancelled']).optional(), ownerId: id(), customerId: id() },
      sorts: ['number', 'createdAt', 'updatedAt', 'dueDate'],
      defaultSort: '-number',
    },
    search: ['number'],
    attachments: true,
  },
} as const satisfies Record<string, ResourceSpec>;

export type ResourceName = keyof typeof resourceSpecs;
export const resourceNames = Object.keys(resourceSpecs) as ResourceName[];
export const isResourceName = (name: string): name is ResourceName => Object.hasOwn(resourceSpecs, name);

/** A resource's spec, as the wide interface (lists of strings rather than literal tuples). */
export const specOf = (name: ResourceName): ResourceSpec => resourceSpecs[name];

/** The resource's spec by a name a caller gave (a route parameter, a reference field's target); undefined if none. */
export const resourceSpec = (name: string): ResourceSpec | undefined => (isResourceName(name) ? resourceSpecs[name] : undefined);

/** The filter names a resource's list takes (saved views are checked against them). */
export const filterNames = (spec: ResourceSpec): string[] => Object.keys(spec.list.filters);
