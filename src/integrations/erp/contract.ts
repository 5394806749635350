import { createHash } from 'node:crypto';
import { z } from 'zod';
import { Money } from '../../domain/shared/money.ts';
import { TaxRate } from '../../domain/product/index.ts';

/**
 * The ERP bridge's published contract: one zod schema per Kafka topic, each with a version. Inbound topics
 * (`erp.*`) carry the ERP's master data and answers; outbound topics (`crm.erp.*`) carry what the CRM hands the
 * ERP. The JSON Schema files under docs/erp-contract are generated from these (`npm run erp:schemas`), and a
 * test fails when a schema changes while its version stays: a change that breaks a consumer needs a new version.
 */

const code = z.string().trim().min(1).max(40);
const text = (max: number) => z.string().trim().min(1).max(max);
const instant = z.iso.datetime({ offset: false }).describe('ISO-8601 UTC, e.g. 2026-12-03T08:00:00Z');

/** What every inbound value carries: the ERP's code of the record and a version that grows with each ERP change. */
const inbound = {
  erpCode: code.describe("The record's code in the ERP (往来单位编码, 存货编码, 职员编码…): the key of its upserts"),
  erpVersion: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).describe('Grows with each ERP change of the record; an older version arriving after a newer one changes nothing'),
  retired: z.boolean().optional().describe('true: retired in the ERP (停用); the CRM archives or disables the record'),
};

export const ErpEmployee = z
  .object({
    ...inbound,
    name: text(100),
    username: z.string().trim().regex(/^[a-z0-9._-]{3,40}$/, 'Expected 3 to 40 lowercase letters, digits or . _ -').optional().describe('Its login name in the CRM, to find an employee the CRM has (the bridge opens no logins and gives no roles: an administrator does)'),
    email: z.email().max(200).optional(),
    mobile: z.string().trim().regex(/^[+0-9()\- ]{3,40}$/, 'Expected a phone number').optional(),
    departmentName: text(100).optional().describe('Its department, by name (a CRM department of that name)'),
  })
  .strict()
  .meta({ title: 'erp.employee', description: 'An employee (职员) as the ERP keeps it' });

export const ErpCustomer = z
  .object({
    ...inbound,
    name: text(200),
    shortName: text(100).optional(),
    taxNumber: z.string().trim().regex(/^[A-Za-z0-9 .\-/]{5,40}$/, 'Expected a tax number').optional().describe('统一社会信用代码; links an ERP customer to the CRM customer holding it'),
    address: text(500).optional(),
    phone: z.string().trim().regex(/^[+0-9()\- ]{3,40}$/, 'Expected a phone number').optional(),
  })
  .strict()
  .meta({ title: 'erp.customer', description: 'A customer (往来单位) as the ERP keeps it' });

export const ErpContact = z
  .object({
    ...inbound,
    customerErpCode: code.describe("Its customer's erpCode"),
    name: text(100),
    title: text(100).optional(),
    mobile: z.string().trim().regex(/^[+0-9()\- ]{3,40}$/, 'Expected a phone number').optional(),
    email: z.email().max(200).optional(),
  })
  .strict()
  .meta({ title: 'erp.contact', description: "A contact person of an ERP customer" });

export const ErpProduct = z
  .object({
    ...inbound,
    name: text(200),
    spec: text(500).optional().describe('规格型号'),
    unit: text(20),
    category: text(100).optional(),
    standardPrice: Money,
    taxRate: TaxRate.describe('Percent, e.g. 13 for 13% VAT'),
  })
  .strict()
  .meta({ title: 'erp.product', description: 'A product (存货档案) as the ERP keeps it' });

export const ErpInventory = z
  .object({
    ...inbound,
    erpCode: code.describe("The product's erpCode"),
    warehouse: text(100).describe('The warehouse (仓库) code or name'),
    quantity: z.number().min(-1e12).max(1e12).refine((v) => Number.isInteger(Math.round(v * 1000)) && Math.abs(v * 1000 - Math.round(v * 1000)) < 1e-6, 'At most 3 decimals').describe('On hand, in the product unit'),
    available: z.number().min(-1e12).max(1e12).optional().describe('On hand less what is reserved, when the ERP tells'),
    asOf: instant,
  })
  .strict()
  .meta({ title: 'erp.inventory', description: "A product's stock in one warehouse (现存量); erpVersion grows per product and warehouse" });

export const ErpReceivable = z
  .object({
    ...inbound,
    erpCode: code.describe("The customer's erpCode"),
    balance: Money.describe('What the customer owes in total (应收余额)'),
    overdue: Money.optional().describe('Of which overdue'),
    asOf: instant,
  })
  .strict()
  .meta({ title: 'erp.receivable', description: "A customer's receivables in the ERP (应收款)" });

export const ErpOrderAck = z
  .object({
    ...inbound,
    erpCode: code.describe('The ERP sales order number (销售订单号)'),
    orderId: z.string().min(1).max(100).describe('The CRM order id the ERP document was made from'),
    orderVersion: z.number().int().min(0).describe('The order version (crm.erp.order `version`) acknowledged'),
    status: z.enum(['accepted', 'rejected']),
    reason: text(500).optional().describe('Why the ERP rejected it'),
    at: instant,
  })
  .strict()
  .meta({ title: 'erp.order-ack', description: 'The ERP acknowledges a CRM order: accepted with its document number, or rejected' });

/** What every outbound value carries: a message id that is the same for every publication of the same version. */
const outbound = {
  messageId: z.string().min(1).max(200).describe('Deterministic: the same record version always has the same id, so a consumer can deduplicate'),
  version: z.number().int().min(0).describe('The version of the CRM record sent (grows with each change)'),
  at: instant.describe('When the CRM recorded this version'),
};
const customerRef = z.object({ crmId: z.string(), erpCode: code.nullable(), name: text(200) }).strict();

export const CrmErpCustomer = z
  .object({
    ...outbound,
    crmId: z.string(),
    erpCode: code.nullable().describe('null until the ERP linked it'),
    name: text(200),
    shortName: text(100).optional(),
    taxNumber: z.string().optional(),
    address: z.string().optional(),
    phone: z.string().optional(),
    status: z.enum(['active', 'archived']),
  })
  .strict()
  .meta({ title: 'crm.erp.customer', description: 'A CRM customer as an ERP 往来单位; sent before its first order' });

export const CrmErpOrder = z
  .object({
    ...outbound,
    orderId: z.string(),
    number: z.string().describe('The CRM order number, SO-<year>-<6 digits>'),
    customer: customerRef,
    currency: z.string().regex(/^[A-Z]{3}$/),
    status: z.enum(['confirmed', 'cancelled']).describe('confirmed: the sales order to book; cancelled: the CRM cancelled it after confirming it (v2)'),
    cancelReason: text(500).optional().describe('Why it was cancelled (with status cancelled)'),
    confirmedOn: z.iso.date(),
    dueDate: z.iso.date(),
    lines: z
      .array(
        z
          .object({
            lineNo: z.number().int().min(1),
            productId: z.string(),
            productCode: code,
            productErpCode: code.nullable(),
            quantity: z.number().positive(),
            unitPrice: z.number().int().min(0).describe('Minor units'),
            discountPercent: z.number().min(0).max(100),
            taxRate: z.number().min(0).max(100),
            net: z.number().int(),
            tax: z.number().int(),
            total: z.number().int(),
          })
          .strict(),
      )
      .min(1),
    totals: z.object({ net: z.number().int(), tax: z.number().int(), total: z.number().int() }).strict().describe('Minor units; the sums of the lines'),
  })
  .strict()
  .meta({ title: 'crm.erp.order', description: 'A confirmed CRM order as an ERP sales order (销售订单), with lines and tax; sent again, cancelled, when the CRM cancels it' });

export const CrmErpPayment = z
  .object({
    ...outbound,
    paymentId: z.string(),
    orderId: z.string(),
    orderNumber: z.string(),
    customer: customerRef,
    amount: Money,
    receivedAt: z.string(),
    method: z.string(),
  })
  .strict()
  .meta({ title: 'crm.erp.payment', description: 'A collection on a CRM order as an ERP receipt (收款单)' });

export interface TopicContract {
  direction: 'inbound' | 'outbound';
  /** Bumped whenever the schema changes (the contract test holds the fingerprint of each version). */
  version: number;
  schema: z.ZodType;
}

export const erpContract = {
  'erp.employee': { direction: 'inbound', version: 1, schema: ErpEmployee },
  'erp.customer': { direction: 'inbound', version: 1, schema: ErpCustomer },
  'erp.contact': { direction: 'inbound', version: 1, schema: ErpContact },
  'erp.product': { direction: 'inbound', version: 1, schema: ErpProduct },
  'erp.inventory': { direction: 'inbound', version: 1, schema: ErpInventory },
  'erp.receivable': { direction: 'inbound', version: 1, schema: ErpReceivable },
  'erp.order-ack': { direction: 'inbound', version: 1, schema: ErpOrderAck },
  'crm.erp.customer': { direction: 'outbound', version: 1, schema: CrmErpCustomer },
  // 2: status (confirmed or cancelled): a confirmed order the CRM cancels is sent again, cancelled.
  'crm.erp.order': { direction: 'outbound', version: 2, schema: CrmErpOrder },
  'crm.erp.payment': { direction: 'outbound', version: 1, schema: CrmErpPayment },
} as const satisfies Record<string, TopicContract>;

export type ErpTopic = keyof typeof erpContract;
export const erpTopics = Object.keys(erpContract) as ErpTopic[];
export type InboundTopic = { [T in ErpTopic]: (typeof erpContract)[T]['direction'] extends 'inbound' ? T : never }[ErpTopic];
export const inboundTopics = erpTopics.filter((topic): topic is InboundTopic => erpContract[topic].direction === 'inbound');
export type InboundValue<T extends InboundTopic> = z.infer<(typeof erpContract)[T]['schema']>;

/** A topic's JSON Schema (draft 2020-12), with its contract version. */
export function jsonSchemaOf(topic: ErpTopic): Record<string, unknown> {
  const { schema, version, direction } = erpContract[topic];
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' }) as Record<string, unknown>;
  return { ...json, $id: `urn:crm:erp-contract:${topic}:v${version}`, title: topic, 'x-version': version, 'x-direction': direction };
}

/** The files the contract is published as (docs/erp-contract): one JSON Schema per topic, and each version's fingerprint. */
export const CONTRACT_DIR = 'docs/erp-contract';
export const schemaFileOf = (topic: ErpTopic): string => `${topic}.schema.json`;
/** The fingerprint of a topic's schema: what the contract test compares across versions. */
export const fingerprintOf = (topic: ErpTopic): string => createHash('sha256').update(JSON.stringify(jsonSchemaOf(topic))).digest('hex');
/** docs/erp-contract/versions.json: per topic, the fingerprint of every version published. */
export type ContractVersions = Record<string, Record<string, string>>;
