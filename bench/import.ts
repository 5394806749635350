import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importDeps } from '../src/app/jobs.ts';
import { openServices } from '../src/app/wiring.ts';
import { actorOf } from '../src/commands/access.ts';
import { hireEmployee, systemActor } from '../src/commands/employees.ts';
import { runImport } from '../src/commands/import-run.ts';
import { importStatus, recordUpload, startImport } from '../src/commands/imports.ts';
import { loadConfig } from '../src/infra/config.ts';
import { silentLogger } from '../src/infra/logger.ts';
import { readTable } from '../src/infra/tabular/index.ts';

/**
 * A customers import of `rows` rows on the embedded default (`import_rows_per_s`): a UTF-8 CSV of distinct customers
 * (name, tax number, level, phone, annual revenue, notes) uploaded, then run, timed from the run's start until the
 * import is completed and the read models show every customer.
 */
export async function importBench(rows: number) {
  const dir = mkdtempSync(join(tmpdir(), 'crm-bench-import-'));
  const services = await openServices(loadConfig({ CRM_DATA_DIR: dir, CRM_ADMIN_PASSWORD: 'bench-password-1', LOG_LEVEL: 'error' }), { logger: silentLogger, purpose: 'bench', startTimers: false });
  try {
    const { deps } = services;
    const meta = () => services.requestMeta('bench');
    const { employeeId } = await hireEmployee(deps, { fields: { name: 'Bench importer', departmentId: null }, roleIds: [] }, systemActor, meta());
    const actor = (await actorOf(deps, employeeId))!;
    const lines = ['客户名称,统一社会信用代码,客户等级,联系电话,年营业额,备注'];
    for (let i = 0; i < rows; i++) lines.push(`导入基准客户${i}有限公司,91310000BENCH${String(i).padStart(7, '0')},${'ABC'[i % 3]},021-${String(50_000_000 + i)},${(i % 1000) * 1000}.50,第${i}行`);
    const bytes = Buffer.from(`${lines.join('\r\n')}\r\n`, 'utf8');
    const table = await readTable(bytes, { maxRows: rows });
    const sha256 = await services.blobs.put(bytes);
    const { importId } = await recordUpload(deps, { resource: 'customers', fileName: 'bench.csv', sha256, size: bytes.length, format: 'csv', encoding: 'utf-8', columns: table.header, rows: table.rows.length }, actor, meta());
    const mapping = { 客户名称: 'name', 统一社会信用代码: 'taxNumber', 客户等级: 'level', 联系电话: 'phone', 年营业额: 'annualRevenue', 备注: 'notes' };
    const began = performance.now();
    await startImport(deps, (await importStatus(deps, importId))!, { mapping, policy: {} }, actor, meta());
    await runImport(importDeps(services), importId, actor, services.requestMeta(`import:${importId}`));
    const runSeconds = (performance.now() - began) / 1000;
    await services.runner.waitFor(await services.eventStore.headPosition(), 600_000);
    const seconds = (performance.now() - began) / 1000;
    const status = (await importStatus(deps, importId))!;
    return { rows, created: status.created, failed: status.failed, seconds, runSeconds };
  } finally {
    await services.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
