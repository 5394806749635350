import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openServices } from '../src/app/wiring.ts';
import { bulkDeps, stableMeta } from '../src/app/jobs.ts';
import { registerCustomer } from '../src/commands/customers.ts';
import { hireEmployee, systemActor } from '../src/commands/employees.ts';
import { runMassChange, startMassChange } from '../src/commands/mass-change.ts';
import { runUndo, startUndo } from '../src/commands/undo.ts';
import { loadConfig } from '../src/infra/config.ts';
import { silentLogger } from '../src/infra/logger.ts';

/**
 * A batch of `records` changes undone (`undo_batch_10k_s`): that many customers on the embedded default, one mass
 * update setting two fields on all of them, then its undo timed from the request to the read models showing every
 * customer as it was (the undo's compensating events appended one record at a time, each at the revision it read).
 */
export async function undoBench(records: number) {
  const dir = mkdtempSync(join(tmpdir(), 'crm-bench-undo-'));
  const services = await openServices(loadConfig({ CRM_DATA_DIR: dir, CRM_ADMIN_PASSWORD: 'bench-password-1', LOG_LEVEL: 'error' }), { logger: silentLogger, purpose: 'bench', startTimers: false });
  try {
    const { deps } = services;
    const meta = () => services.requestMeta('bench');
    const { employeeId } = await hireEmployee(deps, { fields: { name: 'Bench owner', departmentId: null }, roleIds: [] }, systemActor, meta());
    const ids: string[] = [];
    for (let i = 0; i < records; i++) ids.push((await registerCustomer(deps, { fields: { name: `Undo bench customer ${i}`, level: 'C' }, ownerId: employeeId }, systemActor, meta())).customerId);
    await services.runner.waitFor(await services.eventStore.headPosition(), 600_000);
    let began = performance.now();
    const { batchId } = await startMassChange(deps, ids, { set: { level: 'A', region: '华东' } }, { filter: {} }, systemActor, meta());
    await runMassChange(deps, batchId, systemActor, stableMeta(services)(`batch:${batchId}`));
    await services.runner.waitFor(await services.eventStore.headPosition(), 600_000);
    const changeSeconds = (performance.now() - began) / 1000;
    began = performance.now();
    const { undoBatchId } = await startUndo(deps, batchId, false, systemActor, meta());
    const outcome = await runUndo(bulkDeps(services), undoBatchId, systemActor, stableMeta(services)(`undo:${undoBatchId}`));
    await services.runner.waitFor(await services.eventStore.headPosition(), 600_000);
    const undoSeconds = (performance.now() - began) / 1000;
    return { records: outcome.records, changeSeconds, undoSeconds };
  } finally {
    await services.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
