import { orderNumberCategory } from '../domain/categories.ts';
import { companyToday } from './company.ts';
import type { z } from 'zod';
import { customerDecider, customerStream } from '../domain/customer/index.ts';
import { type CreditCheck, type OrderCommand, type OrderState, orderStream } from '../domain/order/index.ts';
import { productDecider, productStream } from '../domain/product/index.ts';
import { type QuoteCommand, type QuoteState } from '../domain/quote/index.ts';
import { receivableOf } from '../projections/erp.ts';
import { DomainError } from '../domain/shared/errors.ts';
import { type LineInput, type PricedLine, priceLine, sumLines } from '../domain/shared/totals.ts';
import type { Actor, CommandDeps, RequestMeta } from './context.ts';
import { assertOwner } from './customers.ts';
import { load } from './pipeline.ts';
import { getEmployee, systemActor } from './employees.ts';
import { roleDecider, roleStream } from '../domain/role/index.ts';
import type { Doc, ReadStore } from '../infra/readstore/port.ts';
import type { Money } from '../domain/shared/money.ts';
import { invalidateApprovalRequest, planApproval } from './approvals.ts';
import { openRequestedApproval } from './approval-subjects.ts';
import { type NumberSeries, takeNumber, withdrawUnlessWritten, writeNumbered } from './numbering.ts';
export { ABANDONED_NUMBER_MS } from './numbering.ts';
import { RecordHandler, type RecordRules } from './record-handler.ts';


/** Prices lines against the catalogue: the product must exist and be active; price and tax default from it. */
export async function priceLines(deps: CommandDeps, currency: string, lines: z.infer<typeof LineInput>[], meta: RequestMeta): Promise<PricedLine[]> {
  if (lines.length === 0) throw new DomainError('document.no_lines', 'At least one line is needed');
  const priced: PricedLine[] = [];
  for (const [index, line] of lines.entries()) {
    const { state } = await load(deps, productDecider, productStream(line.productId));
    if (state.status === 'none') throw new DomainError('document.product_unknown', `lines.${index}: no product ${line.productId}`, { line: index, productId: line.productId });
    if (!state.fields.active) throw new DomainError('document.product_inactive', `lines.${index}: product ${state.fields.code} is not active`, { line: index, productId: line.productId });
    if (line.unitPrice === undefined && state.fields.standardPrice.currency !== currency)
      throw new DomainError('document.currency_mismatch', `lines.${index}: ${state.fields.code} is priced in ${state.fields.standardPrice.currency}; give a unitPrice in ${currency}`, { line: index });
    priced.push(
      priceLine({
        id: meta.ids.newId(),
        productId: line.productId,
        quantity: line.quantity,
        unitPrice: line.unitPrice ?? state.fields.standardPrice.amount,
        discountPercent: line.discountPercent,
        taxRate: line.taxRate ?? state.fields.taxRate,
      }),
    );
  }
  return priced;
}

async function assertCustomer(deps: CommandDeps, customerId: string): Promise<void> {
  const { state } = await load(deps, customerDecider, customerStream(customerId));
  if (state.status === 'none') throw new DomainError('document.customer_unknown', `Customer ${customerId} does not exist`, { customerId });
  if (state.status === 'archived') throw new DomainError('document.customer_archived', `Customer ${customerId} is archived`, { customerId });
}

export interface QuoteInput {
  customerId: string;
  opportunityId?: string;
  currency: string;
  validUntil: string;
  lines: z.infer<typeof LineInput>[];
  notes?: string;
  custom?: Record<string, unknown>;
  ownerId?: string;
}

const documentRules = <C, S extends { status: string; custom?: Record<string, unknown> }>(resource: 'quotes' | 'orders'): RecordRules<C, S> => ({
  resource,
  fieldsOf: (state) => (state.status === 'none' ? undefined : { custom: state.custom ?? {} }),
});
export const quoteRules = documentRules<QuoteCommand, QuoteState>('quotes');
export const orderRules = documentRules<OrderCommand, OrderState>('orders');
const quotes = (deps: CommandDeps, actor: Actor, meta: RequestMeta) => new RecordHandler(quoteRules, deps, actor, meta);
const orders = (deps: CommandDeps, actor: Actor, meta: RequestMeta) => new RecordHandler(orderRules, deps, actor, meta);

/**
 * What drafting a quote and creating an order both do first: a new id, the owner (the actor unless given) and
 * the customer checked, the lines priced.
 */
async function newDocument(
  deps: CommandDeps,
  input: { customerId: string; currency: string; lines: z.infer<typeof LineInput>[]; ownerId?: string },
  actor: Actor,
  meta: RequestMeta,
) {
  const id = meta.ids.newId();
  const ownerId = input.ownerId ?? actor.userId;
  await assertOwner(deps, ownerId);
  await assertCustomer(deps, input.customerId);
  const lines = await priceLines(deps, input.currency, input.lines, meta);
  return { id, ownerId, lines };
}

export async function createQuote(deps: CommandDeps, input: QuoteInput, actor: Actor, meta: RequestMeta) {
  const { id, ownerId, lines } = await newDocument(deps, input, actor, meta);
  const current = { version: 1, lines, totals: sumLines(lines), validUntil: input.validUntil, ...(input.notes ? { notes: input.notes } : {}) };
  const result = await quotes(deps, actor, meta).create(
    { custom: input.custom },
    (quoteId, fields) => ({
      type: 'CreateQuote',
      quoteId,
      customerId: input.customerId,
      ...(input.opportunityId ? { opportunityId: input.opportunityId } : {}),
      ownerId,
      currency: input.currency,
      current,
      ...(fields.custom ? { custom: fields.custom } : {}),
    }),
    id,
  );
  return { ...result, quoteId: result.id };
}

export async function reviseQuote(deps: CommandDeps, quoteId: string, input: { lines: z.infer<typeof LineInput>[]; validUntil: string; notes?: string }, actor: Actor, meta: RequestMeta) {
  const { state } = await quotes(deps, actor, meta).load(quoteId);
  if (state.status === 'none') throw new DomainError('quote.not_found', `Quote ${quoteId} does not exist`, { quoteId });
  const lines = await priceLines(deps, state.currency, input.lines, meta);
  const result = await quotes(deps, actor, meta).run(quoteId, { type: 'ReviseQuote', quoteId, lines, totals: sumLines(lines), validUntil: input.validUntil, ...(input.notes ? { notes: input.notes } : {}) });
  // A new version: the approval asked for the old one no longer stands (a later decision on it opens nothing).
  const pending = state.approval?.status === 'pending' ? state.approval.approvalId : null;
  if (result.changed && pending) await invalidateApprovalRequest(deps, pending, state.current.version + 1, { ...meta, requestId: `${meta.requestId}:invalidate` });
  return result;
}

/** Sends a draft quote; a line discounting more than its owner's role maximum needs the quote approved first (409 quote.approval_required). */
export async function sendQuote(deps: CommandDeps, quoteId: string, actor: Actor, meta: RequestMeta) {
  const handler = quotes(deps, actor, meta);
  const [today, { state }] = await Promise.all([companyToday(deps), handler.load(quoteId)]);
  const maxDiscountPercent = state.status === 'none' ? null : await maxDiscountOf(deps, state.ownerId);
  return handler.run(quoteId, { type: 'SendQuote', quoteId, today, maxDiscountPercent });
}

/**
 * The largest line discount an employee gives without approval (null: no limit): the most generous of their roles'
 * maximums, a role without one setting no limit; someone without roles gives none.
 */
export async function maxDiscountOf(deps: CommandDeps, employeeId: string): Promise<number | null> {
  const employee = await getEmployee(deps, employeeId);
  if (!employee || employee.roleIds.length === 0) return 0;
  let max = 0;
  for (const roleId of employee.roleIds) {
    const { state } = await load(deps, roleDecider, roleStream(roleId));
    if (state.status === 'none') continue;
    if (state.maxDiscountPercent === undefined || state.maxDiscountPercent === null) return null;
    max = Math.max(max, state.maxDiscountPercent);
  }
  return max;
}

/** Asks for the approval a quote's discount needs (the strictest applying quote policy; none: the owner's manager). */
export async function requestQuoteApproval(deps: CommandDeps, readStore: ReadStore, quoteId: string, actor: Actor, meta: RequestMeta) {
  const handler = quotes(deps, actor, meta);
  const { state } = await handler.load(quoteId);
  if (state.status === 'none') throw new DomainError('quote.not_found', `Quote ${quoteId} does not exist`, { quoteId });
  const maxDiscountPercent = await maxDiscountOf(deps, state.ownerId);
  const approval = await planApproval(deps, readStore, { kind: 'quote', submitterId: state.ownerId, approvalId: meta.ids.newId(), facts: { amount: { amount: state.current.totals.total, currency: state.currency }, discountOverRoleMax: true }, required: true });
  const request = { documentId: quoteId, submittedBy: state.ownerId, approval: approval!, at: deps.clock.now().toISOString() };
  const result = await handler.run(quoteId, { type: 'RequestQuoteApproval', quoteId, maxDiscountPercent, request });
  await openRequestedApproval(deps, 'quote', (await handler.load(quoteId)).events, meta);
  return { ...result, approvalId: (result.state as { approval?: { approvalId: string } }).approval?.approvalId ?? null };
}

/** Asks for the approval an order over its customer's credit needs (the strictest applying order policy; none: the owner's manager). */
export async function requestOrderApproval(deps: CommandDeps, readStore: ReadStore, orderId: string, actor: Actor, meta: RequestMeta) {
  const handler = orders(deps, actor, meta);
  const { state } = await handler.load(orderId);
  if (state.status === 'none') throw new DomainError('order.not_found', `Order ${orderId} does not exist`, { orderId });
  const credit = await creditCheck(deps, readStore, state);
  const approval = await planApproval(deps, readStore, { kind: 'order', submitterId: state.ownerId, approvalId: meta.ids.newId(), facts: { amount: { amount: state.totals.total, currency: state.currency }, overCredit: true }, required: true });
  const request = { documentId: orderId, submittedBy: state.ownerId, approval: approval!, at: deps.clock.now().toISOString() };
  const result = await handler.run(orderId, { type: 'RequestOrderApproval', orderId, credit, request });
  await openRequestedApproval(deps, 'order', (await handler.load(orderId)).events, meta);
  return { ...result, approvalId: (result.state as { approval?: { approvalId: string } }).approval?.approvalId ?? null };
}

/**
 * A customer's credit against an order: its limit, its open receivables (confirmed orders not yet paid, this one aside;
 * with the ERP's receivables, those plus the orders confirmed since) and the order's amount; null without a limit.
 */
export async function creditCheck(deps: CommandDeps, readStore: ReadStore, order: Extract<OrderState, { orderId: string }>): Promise<CreditCheck | null> {
  const { state: customer } = await load(deps, customerDecider, customerStream(order.customerId));
  const creditLimit = customer.status === 'none' ? undefined : customer.fields.creditLimit;
  if (!creditLimit) return null;
  // What the ERP's books say it owes, when the ERP reports it in the limit's currency; then only the orders confirmed
  // since the ERP's figure (not yet in its books) are added from the CRM, and otherwise all of the CRM's open ones.
  const erp = await receivableOf(readStore, customer.status === 'none' ? null : customer.erpCode);
  const booked = erp && erp.balance.currency === creditLimit.currency ? erp : null;
  const open = await readStore.collection<Doc & { receivable: Money }>('orders').find({
    customerId: order.customerId,
    _id: { $ne: order.orderId },
    status: { $in: ['confirmed', 'partially_shipped', 'shipped'] },
    'receivable.currency': creditLimit.currency,
    ...(booked ? { confirmedOn: { $gte: booked.asOf.slice(0, 10) } } : {}),
  });
  const openReceivables = { amount: (booked?.balance.amount ?? 0) + open.reduce((sum, doc) => sum + doc.receivable.amount, 0), currency: creditLimit.currency };
  return { creditLimit, openReceivables, orderAmount: { amount: order.totals.total, currency: order.currency } };
}

export const applyQuoteOutcome = (deps: CommandDeps, quoteId: string, approvalId: string, outcome: 'approved' | 'rejected', meta: RequestMeta) =>
  quotes(deps, systemActor, meta).run(quoteId, { type: 'ApplyApprovalOutcome', quoteId, approvalId, outcome });
export const applyOrderOutcome = (deps: CommandDeps, orderId: string, approvalId: string, outcome: 'approved' | 'rejected', meta: RequestMeta) =>
  orders(deps, systemActor, meta).run(orderId, { type: 'ApplyApprovalOutcome', orderId, approvalId, outcome });

export const rejectQuote = (deps: CommandDeps, quoteId: string, reason: string, actor: Actor, meta: RequestMeta) => quotes(deps, actor, meta).run(quoteId, { type: 'RejectQuote', quoteId, reason });

// ---- Order numbers: SO-<year>-<6 digits>, unique and gap-free within a year ----

/** Order numbers: a number withdrawn from an order that was never written makes its late creation take a new one. */
export const orderNumbers: NumberSeries = {
  category: orderNumberCategory,
  prefix: 'SO',
  assigned: 'OrderNumberAssigned',
  idField: 'orderId',
  singular: 'order',
  withdrawnCode: 'order.number_withdrawn',
  withdraw: (deps, orderId, number, actor, meta) =>
    withdrawUnlessWritten('order', () => orders(deps, actor, meta).run(orderId, { type: 'WithdrawOrderNumber', orderId, number }, { ...meta, requestId: `${meta.requestId}:withdraw:${orderId}`, ifMatch: undefined })),
};

/** Takes the next order number of the year for `orderId` (see `takeNumber`). */
export const takeOrderNumber = (deps: CommandDeps, orderId: string, actor: Actor, meta: RequestMeta, withdrawn: readonly string[] = []) => takeNumber(orderNumbers, deps, orderId, actor, meta, withdrawn);

export interface OrderInput {
  customerId: string;
  currency: string;
  lines: PricedLine[];
  paymentTermsDays: number;
  quoteId?: string;
  ownerId: string;
  custom?: Record<string, unknown>;
}

export async function createOrderFrom(deps: CommandDeps, orderId: string, input: OrderInput, actor: Actor, meta: RequestMeta) {
  const result = await writeNumbered(orderNumbers, deps, orderId, actor, meta, (number) => orders(deps, actor, meta).run(orderId, { type: 'CreateOrder', orderId, number, ...input, totals: sumLines(input.lines) }));
  return { ...result, orderId };
}

export async function createOrder(
  deps: CommandDeps,
  input: { customerId: string; currency: string; lines: z.infer<typeof LineInput>[]; paymentTermsDays: number; ownerId?: string; custom?: Record<string, unknown> },
  actor: Actor,
  meta: RequestMeta,
) {
  const { id, ownerId, lines } = await newDocument(deps, input, actor, meta);
  const order = { customerId: input.customerId, currency: input.currency, lines, paymentTermsDays: input.paymentTermsDays, ownerId };
  return orders(deps, actor, meta).createWith({ custom: input.custom }, (orderId, fields, handler) => createOrderFrom(handler.deps, orderId, { ...order, ...(fields.custom ? { custom: fields.custom } : {}) }, actor, meta), id);
}

/** Accepting a sent quote creates its order (draft, same lines and totals), retry-safe by the order id it records. */
export async function acceptQuote(deps: CommandDeps, quoteId: string, paymentTermsDays: number, actor: Actor, meta: RequestMeta) {
  const { state } = await quotes(deps, actor, meta).load(quoteId);
  if (state.status === 'none') throw new DomainError('quote.not_found', `Quote ${quoteId} does not exist`, { quoteId });
  const orderInput = () => ({ customerId: state.customerId, currency: state.currency, lines: state.current.lines, paymentTermsDays, quoteId, ownerId: state.ownerId });
  if (state.status === 'accepted' && state.orderId) {
    // Accepted, but the order was never written (interrupted): finish the job with the order id it recorded.
    if ((await deps.eventStore.readStream(orderStream(state.orderId), { maxCount: 1 })).length === 0)
      return { ...(await createOrderFrom(deps, state.orderId, orderInput(), actor, meta)), quoteRevision: 0n };
    throw new DomainError('quote.already_accepted', 'The quote was accepted already', { quoteId, orderId: state.orderId });
  }
  const orderId = meta.ids.newId();
  const accepted = await quotes(deps, actor, meta).run(quoteId, { type: 'AcceptQuote', quoteId, orderId, today: await companyToday(deps) });
  const order = await createOrderFrom(deps, orderId, orderInput(), actor, meta);
  return { ...order, quoteRevision: accepted.revision };
}

const orderCommand = (deps: CommandDeps, orderId: string, command: OrderCommand, actor: Actor, meta: RequestMeta) => orders(deps, actor, meta).run(orderId, command);

/**
 * Confirms a draft order. With the read models (every confirmation through the API), an order whose amount plus its
 * customer's open receivables exceeds the credit limit needs approval first (409 order.credit_exceeded naming the
 * figures); the system's own confirmations (seed, fixtures) pass none.
 */
export async function confirmOrder(deps: CommandDeps, orderId: string, actor: Actor, meta: RequestMeta, readStore?: ReadStore) {
  const handler = orders(deps, actor, meta);
  const [today, { state }] = await Promise.all([companyToday(deps), handler.load(orderId)]);
  const credit = readStore && state.status !== 'none' ? await creditCheck(deps, readStore, state) : null;
  return handler.run(orderId, { type: 'ConfirmOrder', orderId, today, credit });
}
export const cancelOrder = (deps: CommandDeps, orderId: string, reason: string, actor: Actor, meta: RequestMeta) => orderCommand(deps, orderId, { type: 'CancelOrder', orderId, reason }, actor, meta);

export async function shipOrder(deps: CommandDeps, orderId: string, input: { shippedAt: string; lines: { lineId: string; quantity: number }[] }, actor: Actor, meta: RequestMeta) {
  const shipmentId = meta.ids.newId();
  return { ...(await orderCommand(deps, orderId, { type: 'ShipOrder', orderId, shipmentId, shippedAt: input.shippedAt, lines: input.lines }, actor, meta)), shipmentId };
}

export async function receivePayment(deps: CommandDeps, orderId: string, input: { amount: { amount: number; currency: string }; receivedAt: string; method: string }, actor: Actor, meta: RequestMeta) {
  const paymentId = meta.ids.newId();
  const command: OrderCommand = { type: 'ReceivePayment', orderId, paymentId, amount: input.amount.amount, currency: input.amount.currency, receivedAt: input.receivedAt, method: input.method };
  return { ...(await orderCommand(deps, orderId, command, actor, meta)), paymentId };
}

export async function changeDocumentOwner(deps: CommandDeps, kind: 'quote' | 'order', id: string, ownerId: string, actor: Actor, meta: RequestMeta) {
  await assertOwner(deps, ownerId);
  return kind === 'quote'
    ? quotes(deps, actor, meta).run(id, { type: 'ChangeQuoteOwner', quoteId: id, ownerId })
    : orderCommand(deps, id, { type: 'ChangeOrderOwner', orderId: id, ownerId }, actor, meta);
}
