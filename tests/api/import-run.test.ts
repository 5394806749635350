import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importDeps } from '../../src/app/jobs.ts';
import type { Actor } from '../../src/commands/context.ts';
import { startBatch } from '../../src/commands/batches.ts';
import { importStatus, startImport } from '../../src/commands/imports.ts';
import { factEvent } from '../../src/commands/pipeline.ts';
import { importStream } from '../../src/domain/import/index.ts';
import { runImport } from '../../src/commands/import-run.ts';
import type { EventStore } from '../../src/infra/eventstore/port.ts';
import { CUSTOMERS } from '../../src/projections/customers.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { digests } from '../support/digests.ts';
import { multipartFile } from '../support/multipart.ts';
import { expectProblem } from '../support/problem.ts';

const header = '客户名称,统一社会信用代码,客户等级,年营业额,负责人,备注';
const mapping = { 客户名称: 'name', 统一社会信用代码: 'taxNumber', 客户等级: 'level', 年营业额: 'annualRevenue', 负责人: 'ownerUsername', 备注: 'notes' };
const caughtUp = async (app: TestApp) => app.services.runner.waitFor(await app.services.eventStore.headPosition(), 10_000);

describe('imports: the run, its error report, its undo, a crash', () => {
  let app: TestApp;
  let existing: string;
  beforeAll(async () => {
    app = await startTestApp();
    await app.userWithToken('run.owner', ['salesperson'], await app.department('Run owners'));
    existing = (await app.request('POST', '/api/v1/customers', { body: { name: '上海华东机械有限公司', taxNumber: '91310000MA1FL0XX1K', level: 'C' } })).body.id;
    await caughtUp(app);
  });
  afterAll(async () => app.close());
  const upload = async (csv: string) => (await app.request('POST', '/api/v1/imports', multipartFile('客户.csv', csv, 'file', 'text/csv', { resource: 'customers' }))).body.id as string;
  async function finished(importId: string) {
    for (const deadline = Date.now() + 60_000; Date.now() < deadline; ) {
      const status = await app.request('GET', `/api/v1/imports/${importId}`);
      if (status.body.status === 'completed') return status.body;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error('import did not complete');
  }

  it('runs as one batch: creates and updates as the dry run said, counts, an error report of the failed rows; its undo restores every document', async () => {
    const rows = ['上海华东机械有限公司,91310000MA1FL0XX1K,A,,,老客户', '杭州西湖纺织厂,,B,"1,200,000.50",run.owner,', '宁波港口物流,,B,,nobody.here,', '苏州园林建材,,B,一百万,,', '杭州西湖纺织厂,,C,,,', '广州白云电器,,A,,,'];
    const importId = await upload(`${header}\n${rows.join('\n')}\n`);
    const before = await digests(app.services.readStore, CUSTOMERS, [existing]);
    const dryRun = await app.request('POST', `/api/v1/imports/${importId}/dry-run`, { body: { mapping, matchBy: 'taxNumber' } });
    expect(dryRun.body.summary).toEqual({ create: 2, update: 1, skip: 1, error: 2 });
    const run = await app.request('POST', `/api/v1/imports/${importId}/run`, { body: { mapping, matchBy: 'taxNumber' } });
    expect(run.status, JSON.stringify(run.body)).toBe(202);
    const done = await finished(importId);
    expect(done).toMatchObject({ status: 'completed', rows: 6, done: 6, created: 2, updated: 1, skipped: 1, failed: 2, batchId: run.body.batchId });
    expectProblem(await app.request('POST', `/api/v1/imports/${importId}/run`, { body: { mapping } }), 409, 'import.already_run');
    await caughtUp(app);
    const created = await app.request('GET', `/api/v1/customers?q=${encodeURIComponent('杭州西湖纺织厂')}`);
    expect(created.body.items).toHaveLength(1);
    expect(created.body.items[0]).toMatchObject({ level: 'B', annualRevenue: { amount: 120_000_050, currency: 'CNY' } });
    expect((await app.request('GET', `/api/v1/customers/${existing}`)).body.notes).toBe('老客户');

    const report = await app.request('GET', `/api/v1/imports/${importId}/errors`);
    expect(report.status).toBe(200);
    expect(report.headers.get('content-type')).toContain('text/csv');
    const text = String(report.body).replace(/^\ufeff/, '');
    expect(text.split('\r\n').filter(Boolean)).toEqual([
      '行 Row,客户名称,统一社会信用代码,客户等级,年营业额,负责人,备注,错误 Errors',
      '4,宁波港口物流,,B,,nobody.here,,负责人: No employee has the login name nobody.here',
      '5,苏州园林建材,,B,一百万,,,"年营业额: Expected an amount such as 1234.56, not ""一百万"""',
    ]);

    const batch = await app.request('GET', `/api/v1/batches/${run.body.batchId}`);
    expect(batch.body).toMatchObject({ kind: 'import', records: 3, status: 'completed' });
    const createdIds = (await app.services.readStore.collection(CUSTOMERS).find({ name: { $in: ['杭州西湖纺织厂', '广州白云电器'] } })).map((d) => d._id);
    expect(createdIds).toHaveLength(2);
    const undo = await app.request('POST', `/api/v1/batches/${run.body.batchId}/undo`, { body: {} });
    expect(undo.status).toBe(202);
    for (const deadline = Date.now() + 30_000; Date.now() < deadline && (await app.request('GET', `/api/v1/batches/${undo.body.batchId}`)).body.status !== 'completed'; ) await caughtUp(app);
    await caughtUp(app);
    expect(await digests(app.services.readStore, CUSTOMERS, [existing, ...createdIds])).toEqual({ ...before, ...Object.fromEntries(createdIds.map((id) => [id, 'absent'])) });
    // The names are free again: the same file can be imported once more.
    const again = await upload(`${header}\n${rows.join('\n')}\n`);
    const second = await app.request('POST', `/api/v1/imports/${again}/dry-run`, { body: { mapping, matchBy: 'taxNumber' } });
    expect(second.body.summary).toEqual({ create: 2, update: 1, skip: 1, error: 2 });
  });

  /** Starts a run as the version before ordered row ids did: its ImportStarted has no rowIdTime. */
  async function startedAsBefore(importId: string, actor: Actor): Promise<{ batchId: string }> {
    const status = (await importStatus(app.services.deps, importId))!;
    const meta = app.services.requestMeta('before');
    const batchId = meta.ids.newId();
    await app.services.deps.eventStore.append(importStream(importId), [factEvent(app.services.deps, meta, actor.userId, { type: 'ImportStarted', data: { importId, batchId, mapping, policy: {} } })], status.revision);
    await startBatch(app.services.deps, { kind: 'import', resource: 'customers', summary: { importId, fileName: status.fileName, rows: status.rows } }, actor, meta, batchId);
    return { batchId };
  }

  it.each([
    ['begun by this version: record and event ids follow the rows', 'ordered'],
    ['begun by the version before: its name-based ids are kept', 'before'],
  ] as const)('a crash in the middle of a run, then the resume: every row once, nothing twice (%s)', async (_, begun) => {
    const rows = Array.from({ length: 600 }, (_, i) => `断点续传客户 ${begun} ${i},,B,,,`);
    const importId = await upload(`${header}\n${rows.join('\n')}\n`);
    const status = (await importStatus(app.services.deps, importId))!;
    const { actor } = await app.userWithToken(`crash.runner.${begun}`, ['admin']);
    const { batchId } = begun === 'ordered' ? await startImport(app.services.deps, status, { mapping, policy: {} }, actor, app.services.requestMeta('crash')) : await startedAsBefore(importId, actor);
    // The event store fails after 1,050 appends (a claim and a record per row): the first part of 500 rows is noted,
    // the second stops part-way, as a crash would stop it.
    let appends = 0;
    const real = app.services.deps.eventStore;
    const failing: EventStore = Object.assign(Object.create(real) as EventStore, {
      append: (...args: Parameters<EventStore['append']>) => (appends++ >= 1_050 ? Promise.reject(new Error('crash')) : real.append(...args)),
      appendAtomically: undefined,
    });
    const crashed = await runImport({ ...importDeps(app.services), eventStore: failing }, importId, actor, app.services.requestMeta('crash')).then(() => 'finished', (error: Error) => error.message);
    expect(crashed).toBe('crash');
    const interrupted = (await importStatus(app.services.deps, importId))!;
    expect(interrupted).toMatchObject({ status: 'running', done: 500, created: 500 });
    await runImport(importDeps(app.services), importId, actor, app.services.requestMeta('resume'));
    expect(await importStatus(app.services.deps, importId)).toMatchObject({ status: 'completed', done: 600, created: 600, failed: 0 });
    // Every row's customer once, in the log itself (the read models may still be catching up).
    const registered = (await app.services.eventStore.readAll({ filter: { categories: ['customer'] } })).filter((event) => event.type === 'CustomerRegistered' && event.metadata.batchId === batchId);
    expect(registered).toHaveLength(600);
    expect(new Set(registered.map((event) => (event.data as { fields: { name: string } }).fields.name)).size).toBe(600);
    const row = (event: (typeof registered)[number]) => Number((event.data as { fields: { name: string } }).fields.name.split(' ').at(-1));
    const inRowOrder = [...registered].sort((a, b) => row(a) - row(b));
    const customerIds = inRowOrder.map((event) => event.streamId.slice('customer-'.length));
    if (begun === 'ordered') {
      // UUIDv7s that sort as the rows do, the events' ids as well, so the log's indexes take them in order.
      expect(customerIds.every((id) => id[14] === '7')).toBe(true);
      expect([...customerIds].sort()).toEqual(customerIds);
      expect(inRowOrder.map((event) => event.id).sort()).toEqual(inRowOrder.map((event) => event.id));
    } else {
      // Name-based (version 8), as the version that began the run made them.
      expect(customerIds.every((id) => id[14] === '8')).toBe(true);
    }
  });
});
