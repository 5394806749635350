import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { addContact, changeContact, removeContact } from '../../src/commands/contacts.ts';
import { changeActivity, logActivity, removeActivity } from '../../src/commands/activities.ts';
import { archiveCustomer, changeCustomer, changeCustomerOwner, registerCustomer } from '../../src/commands/customers.ts';
import { findEmployeeByUsername, hireEmployee, systemActor } from '../../src/commands/employees.ts';
import { silentLogger } from '../../src/infra/logger.ts';
import { EmbeddedReadStore } from '../../src/infra/readstore/embedded.ts';
import { customersProjection } from '../../src/projections/customers.ts';
import { readModelDigest } from '../../src/projections/digest.ts';
import { ProjectionRunner } from '../../src/projections/runner.ts';
import { startTestApp, type TestApp } from '../support/app.ts';

/** A realistic little history: registrations, changes, contacts added, changed, moved and removed. */
async function writeHistory(app: TestApp) {
  const { deps } = app.services;
  const meta = () => app.services.requestMeta('test');
  const east = await app.department('East');
  const owner = (await hireEmployee(deps, { fields: { name: 'Owner', departmentId: east }, roleIds: [] }, systemActor, meta())).employeeId;
  const customers = [];
  for (let i = 0; i < 12; i++) customers.push((await registerCustomer(deps, { fields: { name: `Projected ${i}`, industry: i % 2 ? 'A' : 'B' }, ownerId: owner }, systemActor, meta())).customerId);
  const contacts = [];
  for (let i = 0; i < 20; i++)
    contacts.push((await addContact(deps, { customerId: customers[i % 12]!, fields: { name: `Person ${i}`, mobile: `1390000${String(i).padStart(4, '0')}` } }, systemActor, meta())).contactId);
  await changeCustomer(deps, customers[0]!, { name: 'Projected Zero Renamed', phone: '021-1' }, systemActor, meta());
  await changeCustomerOwner(deps, customers[1]!, (await findEmployeeByUsername(deps, 'admin'))!.employeeId, systemActor, meta());
  await archiveCustomer(deps, customers[2]!, 'test', systemActor, meta());
  await changeContact(deps, contacts[0]!, { changes: { title: 'Boss' } }, systemActor, meta());
  await changeContact(deps, contacts[1]!, { changes: {}, customerId: customers[3]! }, systemActor, meta());
  await removeContact(deps, contacts[2]!, systemActor, meta());
  // Activities: the customers' and contacts' last contact and day counts.
  const at = (hoursAgo: number) => new Date(Date.now() - hoursAgo * 3_600_000).toISOString();
  const activities = [];
  for (let i = 0; i < 6; i++) activities.push((await logActivity(deps, { kind: 'call', customerId: customers[i % 3]!, contactId: contacts[i % 3 === 2 ? 2 + 12 : i % 3]!, occurredAt: at(i * 30), summary: `Call ${i}` }, systemActor, meta())).id);
  await changeActivity(deps, activities[0]!, { occurredAt: at(200), contactId: null }, systemActor, meta());
  await removeActivity(deps, activities[1]!, systemActor, meta());
  return { customers, contacts };
}

describe('customers projection', () => {
  it('live projection equals a full rebuild, and a rebuild twice gives the same documents', async () => {
    const app = await startTestApp();
    try {
      await writeHistory(app);
      await app.services.runner.waitFor(await app.services.eventStore.headPosition(), 2000);
      const live = await readModelDigest(app.services.readStore, [customersProjection]);
      const fresh = new EmbeddedReadStore();
      const rebuilder = new ProjectionRunner(app.services.eventStore, fresh, [customersProjection], silentLogger);
      const progress: number[] = [];
      const count = await rebuilder.rebuild((done) => progress.push(done), 7);
      expect(count).toBeGreaterThan(30);
      expect(progress.length).toBeGreaterThan(3);
      expect(await readModelDigest(fresh, [customersProjection])).toBe(live);
      await rebuilder.rebuild();
      expect(await readModelDigest(fresh, [customersProjection])).toBe(live);
    } finally {
      await app.close();
    }
  });

  it('applying every event twice changes nothing (idempotent by position)', async () => {
    const app = await startTestApp();
    try {
      await writeHistory(app);
      const events = await app.services.eventStore.readAll({ filter: { categories: customersProjection.categories } });
      const once = new EmbeddedReadStore();
      const twice = new EmbeddedReadStore();
      for (const event of events) await customersProjection.apply(event, once);
      for (const event of events) {
        await customersProjection.apply(event, twice);
        await customersProjection.apply(event, twice);
      }
      // A replay from an older checkpoint: everything again after the first half.
      for (const event of events.slice(events.length / 2)) await customersProjection.apply(event, twice);
      expect(await readModelDigest(twice, [customersProjection])).toBe(await readModelDigest(once, [customersProjection]));
      const doc = await once.collection('customers').findOne({ name: 'Projected Zero Renamed' });
      expect(doc).toMatchObject({ revision: 1, phone: '021-1' });
      // Counted per added, moved and removed contact: equal to a count of the contact documents.
      for (const customer of await once.collection('customers').find({})) expect([customer.name, customer.contactCount]).toEqual([customer.name, await once.collection('contacts').countDocuments({ customerId: customer._id })]);
      // A rename reaches the customer's contacts; a change the contacts do not carry leaves them as they were.
      expect((await once.collection('contacts').find({ customerId: doc!._id })).map((c) => c.customerName)).toEqual(['Projected Zero Renamed', 'Projected Zero Renamed']);
    } finally {
      await app.close();
    }
  });

  it('resumes from its checkpoint after a restart, and rebuilds when its version changes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crm-proj-'));
    const first = await startTestApp({ CRM_DATA_DIR: dir });
    await writeHistory(first);
    const head = await first.services.eventStore.headPosition();
    await first.services.runner.waitFor(head, 2000);
    const digest = await readModelDigest(first.services.readStore, [customersProjection]);
    await first.close();

    const second = await startTestApp({ CRM_DATA_DIR: dir });
    try {
      expect(second.services.runner.status()[0]!.position).toBe(head);
      expect(await readModelDigest(second.services.readStore, [customersProjection])).toBe(digest);
      const bumped = { ...customersProjection, version: customersProjection.version + 1 };
      const runner = new ProjectionRunner(second.services.eventStore, second.services.readStore, [bumped], silentLogger);
      await second.services.readStore.collection('customers').insertOne({ _id: 'stray' });
      await runner.start();
      await runner.waitFor(head, 2000);
      await runner.stop();
      expect(await second.services.readStore.collection('customers').findOne({ _id: 'stray' })).toBeNull();
      expect(await readModelDigest(second.services.readStore, [customersProjection])).toBe(digest);
    } finally {
      await second.close();
    }
  });
});
