import type { Module } from '../role/index.ts';

/**
 * The resources an administrator can customise. A resource added later plugs in with one entry here (and, for
 * its commands, a loader in commands/resources.ts): custom fields, layouts, list views, related panels and
 * field-level security then apply to it.
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
  /** The filters and sort fields its list takes (saved views are checked against them). */
  filters: readonly string[];
  sorts: readonly string[];
  /**
   * The fields a list's `q` searches (a nested resource's as `<key>.<field>`, e.g. a customer's embedded
   * `contacts.mobile`). A caller for whom one is hidden searches only the others.
   */
  search: readonly string[];
}

export const resourceSpecs: Record<string, ResourceSpec> = {
  customers: {
    name: 'customers',
    module: 'customers',
    category: 'customer',
    standardFields: ['name', 'shortName', 'industry', 'region', 'address', 'postalCode', 'phone', 'website', 'taxNumber', 'annualRevenue', 'source', 'level', 'category', 'notes', 'ownerId', 'status', 'createdAt', 'updatedAt'],
    relatedPanels: ['contacts', 'opportunities'],
    filters: ['q', 'ownerId', 'industry', 'region', 'level', 'category', 'source', 'status'],
    sorts: ['name', 'createdAt', 'updatedAt'],
    search: ['name', 'shortName', 'phone', 'contacts.name', 'contacts.mobile'],
  },
  contacts: {
    name: 'contacts',
    module: 'contacts',
    category: 'contact',
    standardFields: ['name', 'title', 'dealRole', 'officePhone', 'mobile', 'email', 'birthday', 'notes', 'customerId', 'customerName', 'ownerId', 'createdAt', 'updatedAt'],
    relatedPanels: [],
    filters: ['q', 'customerId', 'ownerId', 'dealRole'],
    sorts: ['name', 'createdAt', 'updatedAt'],
    search: ['name', 'mobile', 'officePhone', 'email', 'customerName'],
  },
};

Object.assign(resourceSpecs, {
  products: {
    name: 'products',
    module: 'products',
    category: 'product',
    standardFields: ['code', 'name', 'specification', 'unit', 'category', 'standardPrice', 'taxRate', 'active', 'createdAt', 'updatedAt'],
    relatedPanels: [],
    filters: ['q', 'category', 'active'],
    sorts: ['code', 'name', 'createdAt', 'updatedAt'],
    search: ['code', 'name', 'specification', 'category'],
  },
  leads: {
    name: 'leads',
    module: 'leads',
    category: 'lead',
    standardFields: ['company', 'person', 'phone', 'email', 'source', 'campaignId', 'notes', 'status', 'ownerId', 'createdAt', 'updatedAt'],
    relatedPanels: [],
    filters: ['q', 'status', 'ownerId', 'source'],
    sorts: ['company', 'createdAt', 'updatedAt'],
    search: ['company', 'person', 'phone', 'email'],
  },
  opportunities: {
    name: 'opportunities',
    module: 'opportunities',
    category: 'opportunity',
    standardFields: ['name', 'customerId', 'customerName', 'amount', 'expectedCloseDate', 'source', 'campaignId', 'competitors', 'collaborators', 'notes', 'stage', 'status', 'ownerId', 'createdAt', 'updatedAt'],
    relatedPanels: [],
    filters: ['q', 'stage', 'status', 'ownerId', 'customerId'],
    sorts: ['name', 'expectedCloseDate', 'createdAt', 'updatedAt'],
    search: ['name', 'competitors'],
  },
  quotes: {
    name: 'quotes',
    module: 'quotes',
    category: 'quote',
    standardFields: ['customerId', 'opportunityId', 'currency', 'lines', 'totals', 'validUntil', 'notes', 'status', 'version', 'ownerId', 'createdAt', 'updatedAt'],
    relatedPanels: [],
    filters: ['q', 'status', 'ownerId', 'customerId', 'opportunityId'],
    sorts: ['createdAt', 'updatedAt', 'validUntil'],
    search: ['notes'],
  },
  orders: {
    name: 'orders',
    module: 'orders',
    category: 'order',
    standardFields: ['number', 'customerId', 'quoteId', 'currency', 'lines', 'totals', 'total', 'paid', 'receivable', 'dueDate', 'paymentTermsDays', 'status', 'ownerId', 'createdAt', 'updatedAt'],
    relatedPanels: [],
    filters: ['q', 'status', 'ownerId', 'customerId'],
    sorts: ['number', 'createdAt', 'updatedAt', 'dueDate'],
    search: ['number'],
  },
} satisfies Record<string, ResourceSpec>);

export const resourceNames = Object.keys(resourceSpecs);
