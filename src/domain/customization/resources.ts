import { z } from 'zod';
import { contactCategory, contactEventSchemas, ContactFields, contactDecider } from '../contact/index.ts';
import { customerCategory, customerDecider, customerEventSchemas, revertCustomer } from '../customer/index.ts';
import { leadCategory, leadDecider } from '../lead/index.ts';
import { opportunityCategory, opportunityDecider } from '../opportunity/index.ts';
import { orderCategory, orderDecider } from '../order/index.ts';
import { productCategory, productDecider } from '../product/index.ts';
import { quoteCategory, quoteDecider } from '../quote/index.ts';
import { competitorResource } from '../competitor/index.ts';
import { activityResource } from '../activity/index.ts';
import { taskResource } from '../task/index.ts';
import { planResource } from '../plan/index.ts';
import { ticketResource } from '../ticket/resource.ts';
import { budgetResource, expenseResource } from '../expense/resource.ts';
import { targetResource } from '../target/resource.ts';
import { campaignResource } from '../campaign/resource.ts';
import { emailTemplateResource } from '../campaign/template.ts';
import { smsTemplateResource } from '../campaign/sms-template.ts';
import type { Module } from '../role/index.ts';
import type { Decider, DomainEvent } from '../shared/decider.ts';
import { moveByChange, moveByEvent, type MoveTo, revertible } from '../shared/revert.ts';

/** A record's state as every decider folds it: `none` until the record exists. */
export type RecordState = { status: string };
/** A record type's decider, as the machinery sees it (the commands it takes are the record type's own business). */
export type RecordDecider = Decider<never, DomainEvent, RecordState>;

/**
 * Whose data scope a record is in:
 * - `company`: reference data (the catalogue): everyone who may view the module sees every record;
 * - `owner`: the record's `ownerId` (null: in the pool, visible to everyone who may view the module), widened
 *   to the people `collaborators` names;
 * - `parent`: the scope of the record it belongs to (a contact is in scope when its customer is); `referable`
 *   says whether a request may still name it (a removed contact may be read but not referred to).
 */
export type RecordScope =
  | { by: 'company' }
  | { by: 'owner'; collaborators?(state: never): readonly string[] }
  | { by: 'parent'; resource: string; parentId(state: never): string; referable?(state: never): boolean }
  | { by: 'parties'; parties(state: never): RecordParties };

/**
 * The people a record of `parties` scope is in scope for (a service ticket): its owner (the assignee), the
 * members of a department (its queue), and the owner of the customer it is about; and whoever the data scope of
 * their role covers over those people. Its documents carry each one's department path, kept current.
 */
export interface RecordParties {
  ownerId: string | null;
  queueId: string | null;
  customerId: string;
}

/** What a list takes besides paging: its filters (zod, one per query parameter) and the fields it sorts by. */
export interface ListSpec {
  filters: z.ZodRawShape;
  sorts: readonly string[];
  defaultSort: string;
  /** Documents the list leaves out unless its filter asks for that value (merged customers: `?status=merged`). */
  unlessAsked?: { field: string; value: string };
}

/**
 * A resource an administrator can customise: custom fields, layouts, list views, related panels and field-level
 * security apply to it. Its list filters and sorts are declared here once: the list route's query schema, the
 * saved views' checks and the OpenAPI document all come from them.
 */
export interface ResourceSpec {
  name: string;
  /** One record, as errors name it (`lead.not_found`). */
  singular: string;
  /** Its label in English and Chinese: the OpenAPI tag of its routes. */
  tag: string;
  /** Its aggregate: a stream is `<category>-<id>`, folded by this decider. */
  decider: RecordDecider;
  scope: RecordScope;
  /**
   * The request-body field that names one of its records (`customerId`), wherever it appears in a body: it must
   * name a record in the caller's scope (404 otherwise); for company-wide data (`campaignId`), the caller must be
   * allowed to view its module (404 otherwise). Absent for a record type no body refers to by id.
   */
  referenceField?: string;
  /** Standard fields holding personal data (what erasing a person clears). */
  personalFields: readonly string[];
  /** Its records are people (data subjects): their personal fields are sealed under a key per record, erased with it. */
  dataSubject?: boolean;
  /** The field naming the customer a record belongs to (`self` for a customer): merge and the dossier follow it. */
  customerReference?: string;
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
  /** The sniffed content types its attachments may have (receipts: images and PDFs); default: every type the service keeps. */
  attachmentTypes?: readonly string[];
  /**
   * Fields naming records of another type (field → resource; a value is an id or a list of ids): each must name a
   * record that exists when a write sets it (404 `<singular>.not_found` naming the field otherwise). Ids of scoped
   * records in a body are also checked against the caller's scope (`referenceField`).
   */
  references?: Readonly<Record<string, string>>;
  /**
   * The events that take a record from its state `now` back to `before` (pure; see `shared/revert.ts`): what an undo
   * of a batch appends. A record type without it is reported as not undoable.
   */
  revert?(before: never, now: never): DomainEvent[];
  /**
   * How one of its records is pointed at another record it belongs to, by reference field: `customerId` when its
   * customer is merged into another (see `customerReference`), `contactId` when its contact is.
   */
  moves?: Readonly<Record<string, MoveTo>>;
  /** The zod schema of each of its events, checked when one is appended (see `event-schemas.ts`). */
  events?: Readonly<Record<string, z.ZodType>>;
  /**
   * A read model the machinery keeps for it (collection named like the resource): each document is the record's
   * folded state as `view` shows it, plus the envelope every list has. Bump `version` when `view` changes.
   */
  readModel?: {
    version: number;
    view(state: never): Record<string, unknown>;
    /** States the read model leaves out, as if the record did not exist (a removed one; its history stays readable). */
    gone?(state: never): boolean;
  };
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
    tag: 'Customers 客户',
    singular: 'customer',
    decider: customerDecider,
    scope: { by: 'owner' },
    referenceField: 'customerId',
    personalFields: ['phone', 'address'],
    customerReference: 'self',
    module: 'customers',
    category: customerCategory,
    standardFields: ['name', 'shortName', 'industry', 'region', 'address', 'postalCode', 'phone', 'website', 'taxNumber', 'annualRevenue', 'creditLimit', 'source', 'level', 'memberLevel', 'category', 'notes', 'ownerId', 'status', 'createdAt', 'updatedAt'],
    relatedPanels: ['contacts', 'opportunities', 'tickets'],
    list: {
      filters: {
        q: q('Searches name, short name, phone and contact names'),
        ownerId: id(),
        industry: text(100),
        region: text(100),
        level: text(50),
        memberLevel: text(40).describe('A member level key (see /api/v1/settings/member-levels)'),
        category: text(100),
        source: text(100),
        status: z.enum(['active', 'archived', 'merged']).optional().describe('Merged customers (duplicates merged into another) are listed only with status=merged'),
        erpCode: text(40).describe('The customer linked to this ERP record (往来单位编码)'),
      },
      sorts: ['name', 'createdAt', 'updatedAt'],
      defaultSort: '-updatedAt',
      unlessAsked: { field: 'status', value: 'merged' },
    },
    search: ['name', 'shortName', 'phone', 'contacts.name', 'contacts.mobile'],
    attachments: true,
    events: customerEventSchemas,
    revert: revertCustomer,
  },
  contacts: {
    name: 'contacts',
    tag: 'Contacts 联系人',
    singular: 'contact',
    decider: contactDecider,
    scope: { by: 'parent', resource: 'customers', parentId: (state: { customerId: string }) => state.customerId, referable: (state: RecordState) => state.status === 'active' },
    referenceField: 'contactId',
    personalFields: ['name', 'officePhone', 'mobile', 'email', 'birthday'],
    dataSubject: true,
    customerReference: 'customerId',
    module: 'contacts',
    category: contactCategory,
    standardFields: ['name', 'title', 'dealRole', 'officePhone', 'mobile', 'email', 'birthday', 'notes', 'customerId', 'customerName', 'ownerId', 'createdAt', 'updatedAt'],
    relatedPanels: ['tickets'],
    list: {
      filters: {
        q: q('Searches name, phones, email and customer name'),
        customerId: id(),
        ownerId: id(),
        dealRole: ContactFields.shape.dealRole.unwrap().optional(),
        status: z.enum(['merged']).optional().describe('Merged contacts (duplicates merged into another) are listed only with status=merged'),
        erpCode: text(40).describe('The contact linked to this ERP record'),
      },
      sorts: ['name', 'createdAt', 'updatedAt'],
      defaultSort: 'name',
      unlessAsked: { field: 'status', value: 'merged' },
    },
    search: ['name', 'mobile', 'officePhone', 'email', 'customerName'],
    attachments: false,
    events: contactEventSchemas,
    ...revertible(contactDecider, 'contactId', { moves: { customerId: moveByEvent('ContactMoved', 'contactId') }, changed: 'ContactChanged', created: { discarded: 'ContactDiscarded', reinstated: 'ContactReinstated' }, merged: { merged: 'ContactMerged', unmerged: 'ContactUnmerged' } }),
  },
  products: {
    name: 'products',
    tag: 'Products 存货档案',
    singular: 'product',
    decider: productDecider,
    scope: { by: 'company' },
    personalFields: [],
    module: 'products',
    category: productCategory,
    standardFields: ['code', 'name', 'specification', 'unit', 'category', 'standardPrice', 'taxRate', 'active', 'createdAt', 'updatedAt'],
    relatedPanels: [],
    list: {
      filters: { q: q(), category: text(100), active: z.enum(['true', 'false']).transform((v) => v === 'true').optional(), erpCode: text(40).describe("The product linked to this ERP record (存货编码 in the ERP)") },
      sorts: ['code', 'name', 'createdAt', 'updatedAt'],
      defaultSort: 'code',
    },
    search: ['code', 'name', 'specification', 'category'],
    attachments: false,
    ...revertible(productDecider, 'productId', { changed: 'ProductChanged', created: { discarded: 'ProductDiscarded', reinstated: 'ProductReinstated' } }),
    // 2: kept by the declared projection (was its own, version 1); 3: with its erpCode.
    readModel: { version: 3, view: (state: { fields: Record<string, unknown>; erpCode?: string | null }) => ({ ...state.fields, erpCode: state.erpCode ?? null }) },
  },
  leads: {
    name: 'leads',
    tag: 'Leads 线索',
    singular: 'lead',
    decider: leadDecider,
    ...revertible(leadDecider, 'leadId', { owner: 'LeadOwnerChanged', changed: 'LeadChanged', created: { discarded: 'LeadDiscarded', reinstated: 'LeadReinstated' } }),
    scope: { by: 'owner' },
    referenceField: 'leadId',
    personalFields: ['person', 'phone', 'email'],
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
    references: { campaignId: 'campaigns' },
  },
  opportunities: {
    name: 'opportunities',
    tag: 'Opportunities 商机',
    singular: 'opportunity',
    decider: opportunityDecider,
    ...revertible(opportunityDecider, 'opportunityId', { owner: 'OpportunityOwnerChanged', moves: { customerId: moveByChange('OpportunityChanged', 'opportunityId') } }),
    scope: { by: 'owner', collaborators: (state: { fields: { collaborators?: string[] } }) => state.fields.collaborators ?? [] },
    referenceField: 'opportunityId',
    personalFields: [],
    customerReference: 'customerId',
    module: 'opportunities',
    category: opportunityCategory,
    standardFields: ['name', 'customerId', 'customerName', 'amount', 'expectedCloseDate', 'source', 'campaignId', 'competitors', 'collaborators', 'notes', 'stage', 'status', 'ownerId', 'createdAt', 'updatedAt'],
    relatedPanels: [],
    list: {
      filters: { q: q(), stage: text(40), status: z.enum(['open', 'won', 'lost']).optional(), ownerId: id(), customerId: id(), competitors: id().describe('The deals this competitor is in (a competitor id)') },
      sorts: ['name', 'expectedCloseDate', 'createdAt', 'updatedAt'],
      defaultSort: '-updatedAt',
    },
    search: ['name'],
    attachments: true,
    references: { competitors: 'competitors', campaignId: 'campaigns' },
  },
  quotes: {
    name: 'quotes',
    tag: 'Quotes 报价',
    singular: 'quote',
    decider: quoteDecider,
    ...revertible(quoteDecider, 'quoteId', { owner: 'QuoteOwnerChanged', moves: { customerId: moveByEvent('QuoteMoved', 'quoteId') } }),
    scope: { by: 'owner' },
    referenceField: 'quoteId',
    personalFields: [],
    customerReference: 'customerId',
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
    tag: 'Orders 订单',
    singular: 'order',
    decider: orderDecider,
    ...revertible(orderDecider, 'orderId', { owner: 'OrderOwnerChanged', moves: { customerId: moveByEvent('OrderMoved', 'orderId') } }),
    scope: { by: 'owner' },
    referenceField: 'orderId',
    personalFields: [],
    customerReference: 'customerId',
    module: 'orders',
    category: orderCategory,
    standardFields: ['number', 'customerId', 'quoteId', 'currency', 'lines', 'totals', 'total', 'paid', 'receivable', 'dueDate', 'paymentTermsDays', 'status', 'ownerId', 'createdAt', 'updatedAt'],
    relatedPanels: ['tickets'],
    list: {
      filters: { q: q(), status: z.enum(['draft', 'confirmed', 'partially_shipped', 'shipped', 'completed', 'cancelled']).optional(), ownerId: id(), customerId: id() },
      sorts: ['number', 'createdAt', 'updatedAt', 'dueDate'],
      defaultSort: '-number',
    },
    search: ['number'],
    attachments: true,
  },
  competitors: competitorResource,
  activities: activityResource,
  tasks: taskResource,
  plans: planResource,
  tickets: ticketResource,
  expenses: expenseResource,
  budgets: budgetResource,
  targets: targetResource,
  campaigns: campaignResource,
  'email-templates': emailTemplateResource,
  'sms-templates': smsTemplateResource,
} as const satisfies Record<string, ResourceSpec>;

export type ResourceName = keyof typeof resourceSpecs;
export const resourceNames = Object.keys(resourceSpecs) as ResourceName[];
export const isResourceName = (name: string): name is ResourceName => Object.hasOwn(resourceSpecs, name);

/** A resource's spec, as the wide interface (lists of strings rather than literal tuples). */
export const specOf = (name: ResourceName): ResourceSpec => resourceSpecs[name];

/** The resource's spec by a name a caller gave (a route parameter, a reference field's target); undefined if none. */
export const resourceSpec = (name: string): ResourceSpec | undefined => (isResourceName(name) ? resourceSpecs[name] : undefined);

/** The stream of one record. */
export const recordStream = (spec: ResourceSpec, id: string): string => `${spec.category}-${id}`;

/** What a read of the resource's documents is scoped by besides their owner: collaborators, or the parties of a ticket. */
export const readScopeOf = (spec: ResourceSpec): { collaborators: boolean; parties: boolean } => ({
  collaborators: spec.scope.by === 'owner' && spec.scope.collaborators !== undefined,
  parties: spec.scope.by === 'parties',
});

/** The filter names a resource's list takes (saved views are checked against them). */
export const filterNames = (spec: ResourceSpec): string[] => Object.keys(spec.list.filters);
