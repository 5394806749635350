import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openServices } from '../src/app/wiring.ts';
import { hireEmployee, systemActor } from '../src/commands/employees.ts';
import { createDepartment } from '../src/commands/org.ts';
import { loadConfig } from '../src/infra/config.ts';
import { silentLogger } from '../src/infra/logger.ts';
import type { EventStore, EventToAppend } from '../src/infra/eventstore/port.ts';
import { prng } from '../src/cli/seed-data.ts';

/**
 * A realistic event log for the replay benchmark, written straight into the event store (the commands are
 * measured elsewhere): per customer a registration, 1–4 changes, 3 contacts, and one opportunity moved
 * through 1–3 stages, some won or lost (about 10 events a customer); timestamps spread over 90 days.
 * `customersOnly`: the registrations and changes alone (about 3.5 events a customer), for the scale runs.
 */
export async function writeDataset(store: EventStore, customers: number, ownerIds: string[], customersOnly = false): Promise<{ events: number; customers: number; contacts: number; opportunities: number }> {
  const random = prng(99);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const industries = ['机械制造', '电子元器件', '化工材料', '国际贸易', '汽车零部件'];
  const regions = ['华东', '华南', '华北', '西南'];
  const start = Date.UTC(2026, 7, 1);
  let events = 0;
  const meta = (at: number) => ({ actor: 'bench', at: new Date(at).toISOString(), correlationId: 'bench', requestId: randomUUID(), schemaVersion: 1 });
  const event = (type: string, data: unknown, at: number): EventToAppend => ({ id: randomUUID(), type, data, metadata: meta(at) });
  for (let i = 0; i < customers; i++) {
    const at = start + Math.floor(random() * 90) * 86_400_000 + i;
    const customerId = randomUUID();
    const ownerId = pick(ownerIds);
    const customerEvents = [event('CustomerRegistered', { customerId, ownerId, erpCode: null, fields: { name: `基准客户 ${i} 有限公司`, industry: pick(industries), region: pick(regions), level: pick(['A', 'B', 'C']), phone: `021-${String(10_000_000 + i)}` } }, at)];
    // Follow-ups change the record now and then: about 2.5 changes per customer.
    for (let u = 0; u < 1 + Math.floor(random() * 4); u++) customerEvents.push(event('CustomerChanged', { customerId, changes: { level: pick(['A', 'B', 'C']), notes: `跟进 ${u}` } }, at + 1000 + u));
    await store.append(`customer-${customerId}`, customerEvents, 'no_stream');
    events += customerEvents.length;
    if (customersOnly) continue;
    for (let c = 0; c < 3; c++) {
      const contactId = randomUUID();
      await store.append(`contact-${contactId}`, [event('ContactAdded', { contactId, customerId, fields: { name: `联系人 ${i}-${c}`, mobile: `139${String(10_000_000 + i * 3 + c).slice(-8)}` } }, at + 2000 + c)], 'no_stream');
      events += 1;
    }
    const opportunityId = randomUUID();
    const stages = ['initial_contact', 'needs_confirmed', 'proposal', 'negotiation'];
    const opportunityEvents = [event('OpportunityCreated', { opportunityId, ownerId, stage: stages[0], fields: { name: `项目 ${i}`, customerId, amount: { amount: Math.round(10 + random() * 500) * 10_000_00, currency: 'CNY' }, expectedCloseDate: '2026-12-31' } }, at + 5000)];
    const moves = 1 + Math.floor(random() * 3);
    for (let m = 1; m <= moves; m++) opportunityEvents.push(event('OpportunityStageChanged', { opportunityId, from: stages[m - 1], stage: stages[m] }, at + m * 86_400_000));
    const fate = random();
    if (fate < 0.2) opportunityEvents.push(event('OpportunityWon', { opportunityId, from: stages[moves], stage: 'won' }, at + (moves + 2) * 86_400_000));
    else if (fate < 0.35) opportunityEvents.push(event('OpportunityLost', { opportunityId, from: stages[moves], stage: 'lost', reason: '价格' }, at + (moves + 2) * 86_400_000));
    await store.append(`opportunity-${opportunityId}`, opportunityEvents, 'no_stream');
    events += opportunityEvents.length;
  }
  return { events, customers, contacts: customersOnly ? 0 : customers * 3, opportunities: customersOnly ? 0 : customers };
}

/**
 * A fresh data directory whose log holds 4 departments of 5 salespeople and the dataset of `customers`
 * (`customersOnly` as for writeDataset), with the services open on it (no projections started).
 */
export async function benchDataDir(customers: number, customersOnly = false) {
  const dir = mkdtempSync(join(tmpdir(), 'crm-bench-'));
  const services = await openServices(loadConfig({ CRM_DATA_DIR: dir, CRM_ADMIN_PASSWORD: 'bench-password-1', LOG_LEVEL: 'error' }), { logger: silentLogger, startProjections: false, purpose: 'bench' });
  const meta = () => services.requestMeta('bench');
  const ownerIds: string[] = [];
  for (let d = 0; d < 4; d++) {
    const { departmentId } = await createDepartment(services.deps, { name: `Dept ${d}` }, systemActor, meta());
    for (let e = 0; e < 5; e++) ownerIds.push((await hireEmployee(services.deps, { fields: { name: `Seller ${d}.${e}`, departmentId }, roleIds: [] }, systemActor, meta())).employeeId);
  }
  const dataset = await writeDataset(services.eventStore, customers, ownerIds, customersOnly);
  return { dir, services, ownerIds, dataset };
}
