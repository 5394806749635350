import { randomUUID } from 'node:crypto';
import { prng } from '../src/cli/seed-data.ts';
import type { RecordedEvent } from '../src/infra/eventstore/port.ts';
import { EmbeddedReadStore } from '../src/infra/readstore/embedded.ts';
import { KPI_METRIC_KEYS, kpiReport, type KpiGrouping } from '../src/projections/kpi.ts';
import { leadsProjection } from '../src/projections/leads.ts';
import { opportunitiesProjection } from '../src/projections/opportunities.ts';
import { ordersProjection } from '../src/projections/orders.ts';
import type { Projection } from '../src/projections/projection.ts';
import { reportMirror } from '../src/projections/reports.ts';
import { teamProjection } from '../src/projections/team.ts';

const DAY = 86_400_000;
const STAGES = ['initial_contact', 'needs_confirmed', 'proposal', 'negotiation'];

/**
 * The KPI report (`kpi_report_p95_ms`) over `opportunities` opportunities of 20 salespeople in 4 departments spread
 * over 24 months (Dec 2024 – Nov 2026), with a lead for every two of them (half converted), a customer for every
 * five, and an order for every five of them (confirmed, most paid in part, some cancelled), applied event by event
 * to the real projections' counters in the embedded read store. Then the report is asked, all metrics, in turns:
 * one month's totals (the headline: the dashboard's cards), a quarter by salesperson, and the 24 months by month
 * (each with the previous period and last year).
 */
export async function kpiReportBench(opportunities: number, runs: number) {
  const store = new EmbeddedReadStore();
  const projections: Projection[] = [opportunitiesProjection, leadsProjection, ordersProjection, teamProjection];
  for (const projection of projections) await projection.setup(store);
  const random = prng(24);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  let position = 0;
  const recorded = (streamId: string, type: string, data: Record<string, unknown>, at: number): RecordedEvent =>
    ({ id: randomUUID(), streamId, type, data, revision: 0n, position: BigInt(++position), metadata: { actor: 'bench', at: new Date(at).toISOString(), correlationId: 'bench', schemaVersion: 1 } }) as unknown as RecordedEvent;
  const apply = async (event: RecordedEvent) => {
    const category = event.streamId.slice(0, event.streamId.indexOf('-'));
    for (const projection of projections) if (projection.categories.includes(category)) await projection.apply(event, store);
  };

  const departments = Array.from({ length: 4 }, () => randomUUID());
  const owners = Array.from({ length: 20 }, () => randomUUID());
  const competitors = Array.from({ length: 12 }, () => randomUUID());
  const start = Date.parse('2024-12-01T01:00:00.000Z');
  for (const [i, departmentId] of departments.entries()) await apply(recorded(`department-${departmentId}`, 'DepartmentCreated', { departmentId, name: `销售${i + 1}部`, parentId: null }, start));
  for (const [i, employeeId] of owners.entries())
    await apply(recorded(`employee-${employeeId}`, 'EmployeeHired', { employeeId, fields: { name: `销售 ${i + 1}`, departmentId: departments[i % 4] }, roleIds: [] }, start));

  const began = performance.now();
  const span = 730;
  for (let i = 0; i < opportunities; i++) {
    const at = start + Math.floor((i / opportunities) * span) * DAY + (i % 10) * 3_600_000;
    const ownerId = owners[i % owners.length]!;
    const customerId = randomUUID();
    if (i % 5 === 0) await apply(recorded(`customer-${customerId}`, 'CustomerRegistered', { customerId, ownerId, erpCode: null, fields: { name: `客户 ${i}` } }, at));
    if (i % 2 === 0) {
      const leadId = randomUUID();
      await apply(recorded(`lead-${leadId}`, 'LeadCreated', { leadId, ownerId, fields: { company: `线索 ${i}`, source: pick(['展会', '官网', '老客户介绍']) } }, at));
      if (i % 4 === 0) await apply(recorded(`lead-${leadId}`, 'LeadConverted', { leadId, customerId, contactId: randomUUID() }, at + DAY));
    }
    const opportunityId = randomUUID();
    const stream = `opportunity-${opportunityId}`;
    await apply(recorded(stream, 'OpportunityCreated', { opportunityId, ownerId, stage: STAGES[0], fields: { name: `项目 ${i}`, customerId, amount: { amount: (10 + Math.floor(random() * 500)) * 10_000_00, currency: 'CNY' }, expectedCloseDate: '2027-06-30' } }, at));
    const moves = Math.floor(random() * 4);
    for (let m = 1; m <= moves; m++) await apply(recorded(stream, 'OpportunityStageChanged', { opportunityId, from: STAGES[m - 1], stage: STAGES[m] }, at + m * 5 * DAY));
    const fate = random();
    if (fate < 0.25) await apply(recorded(stream, 'OpportunityWon', { opportunityId, from: STAGES[moves], stage: 'won' }, at + (moves + 3) * 5 * DAY));
    else if (fate < 0.45) await apply(recorded(stream, 'OpportunityLost', { opportunityId, from: STAGES[moves], stage: 'lost', reason: pick(['价格', '交期', '技术']), ...(random() < 0.5 ? { competitor: pick(competitors) } : {}) }, at + (moves + 3) * 5 * DAY));
    if (i % 5 === 1) {
      const orderId = randomUUID();
      const total = (1 + Math.floor(random() * 100)) * 10_000_00;
      const confirmedAt = at + 2 * DAY;
      const confirmedOn = new Date(confirmedAt).toISOString().slice(0, 10);
      await apply(recorded(`order-${orderId}`, 'OrderCreated', { orderId, number: `SO-${i}`, customerId, ownerId, currency: 'CNY', lines: [], totals: { subtotal: total, tax: 0, total }, paymentTermsDays: 30 }, at + DAY));
      await apply(recorded(`order-${orderId}`, 'OrderConfirmed', { orderId, confirmedOn, dueDate: new Date(confirmedAt + 30 * DAY).toISOString().slice(0, 10) }, confirmedAt));
      if (i % 25 === 1) await apply(recorded(`order-${orderId}`, 'OrderCancelled', { orderId, reason: '取消' }, confirmedAt + DAY));
      else if (random() < 0.8) {
        const paidAt = confirmedAt + Math.floor(random() * 60) * DAY;
        await apply(recorded(`order-${orderId}`, 'PaymentReceived', { orderId, paymentId: randomUUID(), amount: Math.round(total * pick([0.3, 0.5, 1])), currency: 'CNY', receivedAt: new Date(paidAt).toISOString(), method: 'bank_transfer' }, paidAt));
      }
    }
  }
  const applySeconds = (performance.now() - began) / 1000;

  const asks: { name: string; from: string; to: string; groupBy?: KpiGrouping }[] = [
    { name: 'one month', from: '2026-11-01', to: '2026-12-01' },
    { name: 'a quarter by salesperson', from: '2026-09-01', to: '2026-12-01', groupBy: 'owner' },
    { name: '24 months by month', from: '2024-12-01', to: '2026-12-01', groupBy: 'month' },
  ];
  const timings = asks.map(() => [] as number[]);
  for (let i = 0; i < runs; i++) {
    const ask = asks[i % asks.length]!;
    const t = performance.now();
    await kpiReport(store, reportMirror, null, { ...ask, metrics: KPI_METRIC_KEYS, currency: 'CNY', tomorrow: '2026-12-02' });
    timings[i % asks.length]!.push(performance.now() - t);
  }
  const pct = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((p / 100) * values.length))]!;
  await store.close();
  // The headline is the dashboard's question: one month, every metric, with the previous period and last year.
  return { p95: pct(timings[0]!, 95), byAsk: asks.map((ask, i) => ({ name: ask.name, p50: pct(timings[i]!, 50), p95: pct(timings[i]!, 95) })), events: position, applySeconds };
}
