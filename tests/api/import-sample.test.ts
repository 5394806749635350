import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CUSTOMERS } from '../../src/projections/customers.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { multipartFile } from '../support/multipart.ts';

/** The README's walk-through with the sample shipped in examples/: upload, dry run, run, find the duplicates, undo. */
describe('the sample import in examples/', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => app.close());
  const caughtUp = async () => app.services.runner.waitFor(await app.services.eventStore.headPosition(), 10_000);

  it('reads as GB18030, dry-runs with its errors named, runs, shows its duplicates, merges and unmerges them, and is undone', async () => {
    const bytes = readFileSync(new URL('../../examples/customers-import-sample.csv', import.meta.url));
    const uploaded = await app.request('POST', '/api/v1/imports', multipartFile('customers-import-sample.csv', bytes, 'file', 'text/csv', { resource: 'customers' }));
    expect(uploaded.status).toBe(201);
    expect(uploaded.body).toMatchObject({ format: 'csv', encoding: 'gb18030', rows: 29 });
    const mapping = uploaded.body.suggestedMapping;
    expect(Object.values(mapping).filter(Boolean)).toHaveLength(11);
    const body = { mapping, matchBy: 'taxNumber' };
    const dryRun = await app.request('POST', `/api/v1/imports/${uploaded.body.id}/dry-run`, { body });
    expect(dryRun.body.summary).toEqual({ create: 23, update: 0, skip: 2, error: 4 });
    const errors = await app.request('POST', `/api/v1/imports/${uploaded.body.id}/dry-run?action=error`, { body });
    expect(errors.body.results.map((r: { row: number; errors: { field: string }[] }) => [r.row, r.errors.map((e) => e.field)])).toEqual([
      [9, ['annualRevenue']],
      [10, ['ownerUsername']],
      [11, ['phone']],
      [15, ['name']],
    ]);
    expect(errors.body.results[3].errors[0]).toEqual({ field: 'name', column: '客户名称', message: 'Required: the cell is empty' });
    const run = await app.request('POST', `/api/v1/imports/${uploaded.body.id}/run`, { body });
    expect(run.status).toBe(202);
    for (const deadline = Date.now() + 30_000; Date.now() < deadline && (await app.request('GET', `/api/v1/imports/${uploaded.body.id}`)).body.status !== 'completed'; ) await new Promise((r) => setTimeout(r, 20));
    expect((await app.request('GET', `/api/v1/imports/${uploaded.body.id}`)).body).toMatchObject({ status: 'completed', created: 23, skipped: 2, failed: 4 });
    await caughtUp();
    const duplicates = await app.request('GET', '/api/v1/customers/duplicate-candidates');
    expect(duplicates.body.items[0]).toMatchObject({ reasons: ['name', 'phone'] });
    expect(duplicates.body.items[0].customers.map((c: { name: string }) => c.name).sort()).toEqual(['上海华东机械有限公司', '华东机械（上海）有限公司']);
    const completed = async (batchId: string) => {
      for (const deadline = Date.now() + 30_000; Date.now() < deadline && (await app.request('GET', `/api/v1/batches/${batchId}`)).body.status !== 'completed'; ) await caughtUp();
      await caughtUp();
      return (await app.request('GET', `/api/v1/batches/${batchId}`)).body;
    };
    // Merge the pair into the one with the legal name, keeping the duplicate's phone; then unmerge.
    const [survivor, victim] = [...duplicates.body.items[0].customers].sort((a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name, 'zh-CN')) as { id: string; name: string }[];
    const keep = survivor!.name === '上海华东机械有限公司' ? [survivor!, victim!] : [victim!, survivor!];
    const merge = await app.request('POST', `/api/v1/customers/${keep[0]!.id}/merge`, { body: { victimIds: [keep[1]!.id], fieldChoices: { phone: keep[1]!.id } } });
    expect(merge.status).toBe(202);
    expect(await completed(merge.body.batchId)).toMatchObject({ kind: 'merge', skipped: 0 });
    expect((await app.request('GET', `/api/v1/customers/${keep[1]!.id}`)).body).toMatchObject({ status: 'merged', mergedInto: keep[0]!.id });
    const unmerge = await app.request('POST', `/api/v1/batches/${merge.body.batchId}/undo`, { body: {} });
    expect(await completed(unmerge.body.batchId)).toMatchObject({ kind: 'undo', skipped: 0 });
    expect((await app.request('GET', `/api/v1/customers/${keep[1]!.id}`)).body.status).toBe('active');
    // The import's undo then finds nothing changed since (the merge was undone) and takes every customer away.
    const undo = await app.request('POST', `/api/v1/batches/${run.body.batchId}/undo`, { body: {} });
    for (const deadline = Date.now() + 30_000; Date.now() < deadline && (await app.request('GET', `/api/v1/batches/${undo.body.batchId}`)).body.status !== 'completed'; ) await caughtUp();
    await caughtUp();
    expect((await app.request('GET', `/api/v1/batches/${undo.body.batchId}`)).body).toMatchObject({ skipped: 0, conflicts: [] });
    expect(await app.services.readStore.collection(CUSTOMERS).countDocuments({})).toBe(0);
  });
});
