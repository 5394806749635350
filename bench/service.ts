import { randomUUID } from 'node:crypto';
import type { RecordedEvent } from '../src/infra/eventstore/port.ts';
import { EmbeddedReadStore } from '../src/infra/readstore/embedded.ts';
import { serviceProjection, serviceReport } from '../src/projections/service.ts';

const DAY = 86_400_000;

/**
 * The service report over `tickets` tickets (`service_report_p95_ms`): a quarter of a service desk's tickets (30
 * engineers, 5,000 customers, five types), each opened, started, worked, resolved with its SLA outcome and, for
 * most, surveyed, applied to the service projection's counters in the embedded read store; then the quarter's
 * report asked again and again by engineer (and, for the note, by customer and by type).
 */
export async function serviceReportBench(tickets: number, runs: number): Promise<{ p95: number; p50: number; byCustomerP95: number; byCustomerP50: number; byTypeP95: number; events: number; applySeconds: number }> {
  const store = new EmbeddedReadStore();
  await serviceProjection.setup(store);
  const engineers = Array.from({ length: 30 }, () => randomUUID());
  const customers = Array.from({ length: 5_000 }, () => randomUUID());
  const types = ['repair', 'consultation', 'complaint', 'return', 'other'];
  const start = Date.parse('2026-09-01T01:00:00.000Z');
  let position = 0;
  const at = (ms: number) => new Date(ms).toISOString();
  const recorded = (ticketId: string, type: string, data: Record<string, unknown>, when: number): RecordedEvent =>
    ({ id: randomUUID(), streamId: `ticket-${ticketId}`, type, data: { ticketId, ...data }, revision: 0n, position: BigInt(++position), metadata: { actor: 'bench', at: at(when), correlationId: 'bench', schemaVersion: 1 } }) as unknown as RecordedEvent;
  const clock = (state: string, breached = false) => ({ state, dueAt: null, warnAt: null, remainingMs: 0, warned: breached, breached });
  const began = performance.now();
  for (let i = 0; i < tickets; i++) {
    const ticketId = randomUUID();
    const engineer = engineers[i % engineers.length]!;
    const opened = start + Math.floor((i / tickets) * 90) * DAY + (i % 8) * 3_600_000;
    const late = i % 9 === 0;
    const events = [
      recorded(ticketId, 'TicketOpened', { number: `SR-2026-${i}`, createdBy: 'bench', assigneeId: engineer, queueId: null, customerLevel: null, fields: { type: types[i % types.length], channel: 'phone', priority: 'normal', customerId: customers[i % customers.length], subject: 'Bench', description: 'Bench' }, at: at(opened) }, opened),
      recorded(ticketId, 'TicketStarted', { by: engineer, at: at(opened + 600_000) }, opened + 600_000),
      recorded(ticketId, 'SlaTargetsSet', { firstResponse: clock('stopped'), resolution: clock('running') }, opened + 600_000),
      recorded(ticketId, 'WorkLogged', { entryId: randomUUID(), employeeId: engineer, minutes: 30 + (i % 90), kind: 'remote', on: at(opened).slice(0, 10) }, opened + 3_600_000),
      recorded(ticketId, 'TicketResolved', { by: engineer, resolution: 'done', at: at(opened + 7_200_000) }, opened + 7_200_000),
      recorded(ticketId, 'SlaTargetsSet', { firstResponse: clock('stopped'), resolution: clock('stopped', late) }, opened + 7_200_000),
      ...(i % 3 === 0 ? [] : [recorded(ticketId, 'SurveyAnswered', { surveyId: randomUUID(), score: 1 + (i % 5), at: at(opened + DAY) }, opened + DAY)]),
    ];
    for (const event of events) await serviceProjection.apply(event, store);
  }
  const applySeconds = (performance.now() - began) / 1000;
  const query = (groupBy: 'engineer' | 'customer' | 'type') => ({ from: '2026-09-01', to: '2026-12-01', groupBy });
  const time = async (groupBy: 'engineer' | 'customer' | 'type', count: number) => {
    const timings: number[] = [];
    for (let i = 0; i < count; i++) {
      const t = performance.now();
      await serviceReport(store, query(groupBy), { engineers: null, customers: null });
      timings.push(performance.now() - t);
    }
    return timings.sort((a, b) => a - b);
  };
  const pct = (values: number[], p: number) => values[Math.min(values.length - 1, Math.floor((p / 100) * values.length))]!;
  const byEngineer = await time('engineer', runs);
  const byCustomer = await time('customer', Math.max(20, Math.floor(runs / 5)));
  const byType = await time('type', runs);
  return { p95: pct(byEngineer, 95), p50: pct(byEngineer, 50), byCustomerP95: pct(byCustomer, 95), byCustomerP50: pct(byCustomer, 50), byTypeP95: pct(byType, 95), events: position, applySeconds };
}
