import { z } from 'zod';
import { authorize } from '../../commands/authorization.ts';
import { acceptQuote, cancelOrder, changeDocumentOwner, confirmOrder, createOrder, createQuote, receivePayment, rejectQuote, requestOrderApproval, requestQuoteApproval, reviseQuote, sendQuote, shipOrder } from '../../commands/documents.ts';
import { type OrderState } from '../../domain/order/index.ts';
import { effectiveStatus, QuoteExtras, type QuoteState } from '../../domain/quote/index.ts';
import { DomainError } from '../../domain/shared/errors.ts';
import { Money } from '../../domain/shared/money.ts';
import { LineInput } from '../../domain/shared/totals.ts';
import { ORDERS, SALES_MONTHLY } from '../../projections/orders.ts';
import { TARGETS } from '../../projections/targets.ts';
import { rankingOwners, rankingReport, receivablesReport } from '../../projections/reports.ts';
import { RankingSettings, rankingSettings } from '../../commands/ranking-settings.ts';
import { settingRoutes } from '../setting-routes.ts';
import { readFilter } from '../../access/scope.ts';
import { amountColumn, fieldColumns } from '../csv.ts';
import { reportRoute, reportScope } from '../report-routes.ts';
import { recordAction, recordInScope, recordRoutes } from '../records.ts';
import { resourceSpecs } from '../../domain/customization/resources.ts';
import { recordWriteErrors } from '../responses.ts';
import { AssignBody, type AnyRoute, defineRoute, EmptyBody, Id, IdParams, ReasonBody } from '../route.ts';
import { isHidden } from '../field-security.ts';
import type { Actor } from '../../commands/context.ts';

/** A credit refusal names the figures, but not the customer's credit limit to someone for whom it is hidden. */
function withoutHiddenCredit(error: unknown, actor: Actor): unknown {
  if (!(error instanceof DomainError) || error.code !== 'order.credit_exceeded' || !isHidden(actor, 'customers', 'creditLimit')) return error;
  const { creditLimit: _limit, exceededBy: _by, ...details } = error.details as Record<string, unknown>;
  return new DomainError(error.code, "The order plus the customer's open receivables exceed its credit limit: it is confirmed once approved (POST /api/v1/orders/:id/request-approval)", details);
}

const Currency = z.string().regex(/^[A-Z]{3}$/, 'Expected an ISO-4217 currency code').default('CNY');
const Line = z.object({ id: z.string(), productId: z.string(), quantity: z.number(), unitPrice: z.number().int(), discountPercent: z.number(), taxRate: z.number(), net: z.number().int(), tax: z.number().int(), total: z.number().int() });
const Totals = z.object({ net: z.number().int(), tax: z.number().int(), total: z.number().int() });


// ---- Quotes (报价) ----
const quoteTags = [resourceSpecs.quotes.tag];
const QuoteInput = QuoteExtras.extend({
  customerId: Id,
  opportunityId: Id.optional(),
  currency: Currency,
  validUntil: z.iso.date(),
  lines: z.array(LineInput).min(1).max(200),
  ownerId: Id.optional(),
})
  .strict()
  .meta({ id: 'QuoteInput', description: 'Totals per line, half-up: net = q × price × (1 − discount%), tax = net × rate%, total = net + tax; sums of lines.' });
const QuoteView = z
  .object({ id: z.string(), customerId: z.string(), currency: z.string(), version: z.number().int(), lines: z.array(Line), totals: Totals, total: Money, validUntil: z.string(), status: z.enum(['draft', 'sent', 'accepted', 'rejected', 'expired']), versions: z.array(z.unknown()), ownerId: z.string() })
  .meta({ id: 'Quote' });

const quoteRoutes: AnyRoute[] = [
  ...recordRoutes<QuoteState>({
    resource: 'quotes',
    asOfView: (state) => (state.status === 'none' ? {} : { customerId: state.customerId, currency: state.currency, ...state.current, status: state.status, ownerId: state.ownerId }),
    columns: [...fieldColumns('id', 'customerId', 'version'), amountColumn('total'), ...fieldColumns('currency', 'validUntil', 'status', 'ownerId', 'createdAt')],
    view: QuoteView,
    present: (doc, services) => ({ ...doc, status: effectiveStatus(doc.status as 'sent', doc.validUntil as string, services.clock.now().toISOString().slice(0, 10)) }),
    create: {
      summary: 'Draft a quote (报价) with priced lines',
      done: 'Drafted',
      body: QuoteInput,
      run: async ({ body, actor, services, meta }) => {
        const { ownerId, opportunityId, notes, custom, ...rest } = body as z.infer<typeof QuoteInput>;
        const result = await createQuote(services.deps, { ...rest, ...(ownerId ? { ownerId } : {}), ...(opportunityId ? { opportunityId } : {}), ...(notes ? { notes } : {}), ...(custom ? { custom } : {}) }, actor, meta);
        return { ...result, id: result.quoteId };
      },
    },
    actions: [
      recordAction({
        action: 'revise',
        writes: ['status', 'version'],
        summary: 'Revise a draft or sent quote: a new version (earlier versions stay readable), back to draft',
        body: z.object({ lines: z.array(LineInput).min(1).max(200), validUntil: z.iso.date(), notes: z.string().max(10_000).optional() }).strict(),
        done: 'Revised',
        run: ({ params, body, actor, services, meta }) => reviseQuote(services.deps, params.id, body, actor, meta),
      }),
      recordAction({
        action: 'send',
        summary: "Send a draft quote to the customer; one with a line discounting more than its owner's role maximum (maxDiscountPercent) is sent once approved (409 quote.approval_required until then)",
        body: EmptyBody,
        run: ({ params, actor, services, meta }) => sendQuote(services.deps, params.id, actor, meta),
      }),
      recordAction({
        action: 'request-approval',
        summary: "Ask for the approval a discount over the owner's role maximum needs (the strictest applying quote policy; none: the owner's manager); a new version asks again",
        description: '409 quote.approval_not_needed when no line is over the maximum. The approval is bound to the quote version; the quote may be sent once it is approved.',
        body: EmptyBody,
        writes: [],
        answer: { approvalId: z.string().nullable() },
        done: 'Asked',
        run: ({ params, actor, services, meta }) => requestQuoteApproval(services.deps, services.readStore, params.id, actor, meta),
      }),
      recordAction({ action: 'reject', summary: 'Record that the customer rejected a sent quote', body: ReasonBody, run: ({ params, body, actor, services, meta }) => rejectQuote(services.deps, params.id, body.reason, actor, meta) }),
      recordAction({
        action: 'assign',
        writes: ['ownerId'],
        summary: 'Change the owner of a quote',
        body: AssignBody,
        permission: 'assign',
        done: 'Owner changed',
        run: ({ params, body, actor, services, meta }) => changeDocumentOwner(services.deps, 'quote', params.id, body.ownerId, actor, meta),
      }),
    ],
  }),
  defineRoute({
    method: 'post',
    path: '/api/v1/quotes/:id/accept',
    summary: 'The customer accepted: creates the order (draft) and answers its id',
    tags: quoteTags,
    params: IdParams,
    body: z.object({ paymentTermsDays: z.number().int().min(0).max(365).default(30) }).strict(),
    conditional: true,
    responses: { 200: { description: 'Accepted', schema: z.object({ orderId: z.string(), number: z.string() }) }, ...recordWriteErrors },
    async handler({ params, body, actor, services, meta }) {
      authorize(actor, 'quotes', 'edit');
      authorize(actor, 'orders', 'create');
      await recordInScope(services, actor, 'quotes', params.id);
      const result = await acceptQuote(services.deps, params.id, body.paymentTermsDays, actor, meta);
      return { status: 200, body: { orderId: result.orderId, number: result.number }, headers: { 'X-Position': String(result.position), Location: `/api/v1/orders/${result.orderId}` } };
    },
  }),
];

// ---- Orders (订单) ----
const OrderView = z
  .object({
    id: z.string(),
    number: z.string(),
    customerId: z.string(),
    lines: z.array(Line.extend({ shippedQuantity: z.number() })),
    total: Money,
    paid: Money,
    receivable: Money,
    dueDate: z.string().optional(),
    status: z.enum(['draft', 'confirmed', 'partially_shipped', 'shipped', 'completed', 'cancelled']),
    ownerId: z.string(),
    erpAcknowledgement: z
      .object({ erpDocumentNumber: z.string(), erpVersion: z.number().int(), orderVersion: z.number().int(), status: z.enum(['accepted', 'rejected']), reason: z.string().optional(), at: z.string() })
      .optional()
      .describe("The ERP's answer (erp.order-ack): its sales order number (销售订单号), or why it rejected the order"),
  })
  .meta({ id: 'Order' });

const OrderInput = z
  .object({ customerId: Id, currency: Currency, lines: z.array(LineInput).min(1).max(200), paymentTermsDays: z.number().int().min(0).max(365).default(30), ownerId: Id.optional(), custom: QuoteExtras.shape.custom })
  .strict()
  .meta({ id: 'OrderInput' });

const orderRoutes: AnyRoute[] = recordRoutes<OrderState>({
  resource: 'orders',
  asOfView: (state) => (state.status === 'none' ? {} : { number: state.number, customerId: state.customerId, currency: state.currency, lines: state.lines, totals: state.totals, paid: state.paid, status: state.status, dueDate: state.dueDate, ownerId: state.ownerId }),
  columns: [...fieldColumns('id', 'number', 'customerId'), amountColumn('total'), amountColumn('paid'), amountColumn('receivable'), ...fieldColumns('currency', 'dueDate', 'status', 'ownerId', 'createdAt')],
  view: OrderView,
  create: {
    summary: 'Create an order directly (numbered SO-<year>-<6 digits>)',
    done: 'Created',
    body: OrderInput,
    answer: { number: z.string() },
    run: async ({ body, actor, services, meta }) => {
      const { ownerId, custom, ...rest } = body as z.infer<typeof OrderInput>;
      const result = await createOrder(services.deps, { ...rest, ...(ownerId ? { ownerId } : {}), ...(custom ? { custom } : {}) }, actor, meta);
      return { ...result, id: result.orderId };
    },
  },
  actions: [
    recordAction({
      action: 'confirm',
      summary: "Confirm a draft order: its due date follows from the payment terms. Over the customer's credit limit (its open receivables plus this order), it is confirmed once approved (409 order.credit_exceeded naming the figures until then)",
      body: EmptyBody,
      async run({ params, actor, services, meta }) {
        try {
          return await confirmOrder(services.deps, params.id, actor, meta, services.readStore);
        } catch (error) {
          throw withoutHiddenCredit(error, actor);
        }
      },
    }),
    recordAction({
      action: 'request-approval',
      summary: "Ask for the approval an order over its customer's credit needs (the strictest applying order policy; none: the owner's manager)",
      description: "409 order.approval_not_needed when the order stays within the customer's credit.",
      body: EmptyBody,
      writes: [],
      answer: { approvalId: z.string().nullable() },
      done: 'Asked',
      run: ({ params, actor, services, meta }) => requestOrderApproval(services.deps, services.readStore, params.id, actor, meta),
    }),
    recordAction({ action: 'cancel', summary: 'Cancel an order without shipments or payments', body: ReasonBody, permission: 'delete', run: ({ params, body, actor, services, meta }) => cancelOrder(services.deps, params.id, body.reason, actor, meta) }),
    recordAction({
      action: 'shipments',
      summary: 'Record a shipment; never more than ordered per line (409 order.over_shipment)',
      done: 'Shipped',
      bodyNamesFields: false,
      body: z
        .object({ shippedAt: z.iso.datetime({ offset: true }).transform((v) => new Date(v).toISOString()), lines: z.array(z.object({ lineId: z.string().min(1).max(100), quantity: z.number().positive().max(1e9) }).strict()).min(1).max(200) })
        .strict(),
      answer: { shipmentId: z.string() },
      run: ({ params, body, actor, services, meta }) => shipOrder(services.deps, params.id, body, actor, meta),
    }),
    recordAction({
      action: 'payments',
      summary: 'Record a payment received (回款); an overpayment is refused (409 order.overpayment)',
      done: 'Recorded',
      bodyNamesFields: false,
      writes: ['paid', 'receivable'],
      body: z.object({ amount: Money, receivedAt: z.iso.datetime({ offset: true }).transform((v) => new Date(v).toISOString()), method: z.string().trim().min(1).max(50).describe('e.g. bank_transfer, acceptance_bill') }).strict(),
      answer: { paymentId: z.string() },
      run: async ({ params, body, actor, services, meta }) => {
        if (body.amount.amount <= 0) throw new DomainError('order.payment_not_positive', 'A payment is a positive amount');
        return receivePayment(services.deps, params.id, body, actor, meta);
      },
    }),
    recordAction({
      action: 'assign',
      writes: ['ownerId'],
      summary: 'Change the owner of an order',
      body: AssignBody,
      permission: 'assign',
      done: 'Owner changed',
      run: ({ params, body, actor, services, meta }) => changeDocumentOwner(services.deps, 'order', params.id, body.ownerId, actor, meta),
    }),
  ],
});

const reportRoutes: AnyRoute[] = [
  reportRoute({
    name: 'receivables',
    summary: 'Receivables (应收): orders with money to collect due before a day; overdue and due, with sums',
    answer: 'Receivables',
    reads: [ORDERS],
    query: z.object({ dueBefore: z.iso.date().optional().describe('Default: the first day of next month (this month\'s due and overdue)'), currency: Currency }).strict(),
    compute(query, actor, services) {
      const now = services.clock.now();
      const firstOfNextMonth = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)).toISOString().slice(0, 10);
      return receivablesReport(services.readStore, readFilter(actor), { dueBefore: query.dueBefore ?? firstOfNextMonth, today: now.toISOString().slice(0, 10), currency: query.currency });
    },
  }),
  reportRoute({
    name: 'ranking',
    summary: 'Sales ranking of a month per salesperson, by confirmed orders or by collections: your data scope, and the peers the ranking setting shows (GET/PUT /api/v1/settings/ranking)',
    answer: "Ranking: each salesperson's rank, orders and amount, collections, and their own target for the month in what the ranking is by (null: none set) with attainment (the amount ÷ the target)",
    reads: [SALES_MONTHLY, TARGETS],
    query: z.object({ period: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'Expected YYYY-MM'), by: z.enum(['orders', 'collections']).default('orders'), departmentId: Id.optional(), currency: Currency }).strict(),
    compute: async (query, actor, services) => {
      const scoped = await reportScope(services, actor, { departmentId: query.departmentId });
      const { peers } = (await rankingSettings.read(services.deps)).value;
      return rankingReport(services.readStore, await rankingOwners(services.readStore, actor, scoped, peers, query.departmentId !== undefined), query);
    },
  }),
  ...settingRoutes({
    path: '/api/v1/settings/ranking',
    tags: ['Reports'],
    schema: RankingSettings,
    read: { summary: 'Whom the sales ranking shows besides each caller\'s data scope (peers: none, department or company)', done: 'Settings' },
    write: { summary: 'Change whom the sales ranking shows', done: 'Changed' },
    load: rankingSettings.read,
    save: ({ body, actor, services, meta }) => rankingSettings.write(services.deps, body, actor, meta),
  }),
];

export const documentRoutes: AnyRoute[] = [...quoteRoutes, ...orderRoutes, ...reportRoutes];
