import { randomUUID } from 'node:crypto';
import { prng } from '../src/cli/seed-data.ts';
import type { RecordedEvent } from '../src/infra/eventstore/port.ts';

const DAY = 86_400_000;
const STAGES = ['initial_contact', 'needs_confirmed', 'proposal', 'negotiation'];
/** Where the history starts: 24 months before December 2026. */
export const HISTORY_START = Date.parse('2024-12-01T01:00:00.000Z');
const SPAN_DAYS = 730;

/**
 * Two years of a sales organisation as events, in the order they happened (positions and stream revisions as a
 * log would give them): 4 departments, 20 salespeople; `opportunities` opportunities created evenly over
 * Dec 2024 – Nov 2026, each moved through 0–3 stages and a quarter won, a fifth lost (by reason, half of them to
 * a competitor); a lead for every two (half converted), a customer for every five, and an order for every five
 * (confirmed, most paid in part, some cancelled). About 3 events per opportunity. Deterministic but for its ids.
 */
export function* salesHistory(opportunities: number, seed = 24): Generator<RecordedEvent> {
  const random = prng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const revisions = new Map<string, number>();
  let position = 0;
  const recorded = (streamId: string, type: string, data: Record<string, unknown>, at: number): RecordedEvent => {
    const revision = revisions.get(streamId) ?? 0;
    revisions.set(streamId, revision + 1);
    return { id: randomUUID(), streamId, type, data, revision: BigInt(revision), position: 0n, metadata: { actor: 'bench', at: new Date(at).toISOString(), correlationId: 'bench', schemaVersion: 1 } };
  };
  // Events wait in the bucket of their day, and each day's are handed out in time order.
  const buckets = new Map<number, { at: number; make: () => RecordedEvent }[]>();
  const later = (at: number, make: () => RecordedEvent) => {
    const day = Math.floor((at - HISTORY_START) / DAY);
    if (!buckets.has(day)) buckets.set(day, []);
    buckets.get(day)!.push({ at, make });
  };
  const departments = Array.from({ length: 4 }, () => randomUUID());
  const owners = Array.from({ length: 20 }, () => randomUUID());
  const competitors = Array.from({ length: 12 }, () => randomUUID());
  for (const [i, departmentId] of departments.entries()) later(HISTORY_START, () => recorded(`department-${departmentId}`, 'DepartmentCreated', { departmentId, name: `销售${i + 1}部`, parentId: null }, HISTORY_START));
  for (const [i, employeeId] of owners.entries())
    later(HISTORY_START, () => recorded(`employee-${employeeId}`, 'EmployeeHired', { employeeId, fields: { name: `销售 ${i + 1}`, departmentId: departments[i % 4] }, roleIds: [] }, HISTORY_START));

  const createdOn = (i: number) => Math.floor((i / opportunities) * SPAN_DAYS);
  let next = 0;
  for (let day = 0; next < opportunities || buckets.size > 0; day++) {
    for (; next < opportunities && createdOn(next) === day; next++) schedule(next);
    const due = buckets.get(day);
    if (!due) continue;
    buckets.delete(day);
    due.sort((a, b) => a.at - b.at);
    for (const { make } of due) {
      const event = make();
      yield { ...event, position: BigInt(++position) };
    }
  }

  function schedule(i: number) {
    const at = HISTORY_START + createdOn(i) * DAY + (i % 10) * 3_600_000;
    const ownerId = owners[i % owners.length]!;
    const customerId = randomUUID();
    if (i % 5 === 0) later(at, () => recorded(`customer-${customerId}`, 'CustomerRegistered', { customerId, ownerId, erpCode: null, fields: { name: `客户 ${i}` } }, at));
    if (i % 2 === 0) {
      const leadId = randomUUID();
      const source = pick(['展会', '官网', '老客户介绍']);
      later(at, () => recorded(`lead-${leadId}`, 'LeadCreated', { leadId, ownerId, fields: { company: `线索 ${i}`, source } }, at));
      if (i % 4 === 0) later(at + DAY, () => recorded(`lead-${leadId}`, 'LeadConverted', { leadId, customerId, contactId: randomUUID() }, at + DAY));
    }
    const opportunityId = randomUUID();
    const stream = `opportunity-${opportunityId}`;
    const amount = { amount: (10 + Math.floor(random() * 500)) * 10_000_00, currency: 'CNY' };
    later(at, () => recorded(stream, 'OpportunityCreated', { opportunityId, ownerId, stage: STAGES[0], fields: { name: `项目 ${i}`, customerId, amount, expectedCloseDate: '2027-06-30' } }, at));
    const moves = Math.floor(random() * 4);
    for (let m = 1; m <= moves; m++) later(at + m * 5 * DAY, () => recorded(stream, 'OpportunityStageChanged', { opportunityId, from: STAGES[m - 1], stage: STAGES[m] }, at + m * 5 * DAY));
    const fate = random();
    const closedAt = at + (moves + 3) * 5 * DAY;
    if (fate < 0.25) later(closedAt, () => recorded(stream, 'OpportunityWon', { opportunityId, from: STAGES[moves], stage: 'won' }, closedAt));
    else if (fate < 0.45) {
      const lost = { opportunityId, from: STAGES[moves], stage: 'lost', reason: pick(['价格', '交期', '技术']), ...(random() < 0.5 ? { competitor: pick(competitors) } : {}) };
      later(closedAt, () => recorded(stream, 'OpportunityLost', lost, closedAt));
    }
    if (i % 5 === 1) {
      const orderId = randomUUID();
      const total = (1 + Math.floor(random() * 100)) * 10_000_00;
      const confirmedAt = at + 2 * DAY;
      const confirmedOn = new Date(confirmedAt).toISOString().slice(0, 10);
      later(at + DAY, () => recorded(`order-${orderId}`, 'OrderCreated', { orderId, number: `SO-${i}`, customerId, ownerId, currency: 'CNY', lines: [], totals: { subtotal: total, tax: 0, total }, paymentTermsDays: 30 }, at + DAY));
      later(confirmedAt, () => recorded(`order-${orderId}`, 'OrderConfirmed', { orderId, confirmedOn, dueDate: new Date(confirmedAt + 30 * DAY).toISOString().slice(0, 10) }, confirmedAt));
      if (i % 25 === 1) later(confirmedAt + DAY, () => recorded(`order-${orderId}`, 'OrderCancelled', { orderId, reason: '取消' }, confirmedAt + DAY));
      else if (random() < 0.8) {
        const paidAt = confirmedAt + Math.floor(random() * 60) * DAY;
        const paid = { orderId, paymentId: randomUUID(), amount: Math.round(total * pick([0.3, 0.5, 1])), currency: 'CNY', receivedAt: new Date(paidAt).toISOString(), method: 'bank_transfer' };
        later(paidAt, () => recorded(`order-${orderId}`, 'PaymentReceived', paid, paidAt));
      }
    }
  }
}
