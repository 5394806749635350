import { describe, expect, it } from 'vitest';
import { registerCustomer } from '../../src/commands/customers.ts';
import { findEmployeeByUsername, systemActor } from '../../src/commands/employees.ts';
import { silentLogger } from '../../src/infra/logger.ts';
import { EmbeddedReadStore } from '../../src/infra/readstore/embedded.ts';
import { allProjections } from '../../src/projections/all.ts';
import { readModelDigest } from '../../src/projections/digest.ts';
import { ProjectionRunner } from '../../src/projections/runner.ts';
import { startTestApp } from '../support/app.ts';

describe('catching up with a staging store (as for a remote read store)', () => {
  it('replays an existing log in process, loads it, follows new events, and resumes from its checkpoints after a restart', async () => {
    const app = await startTestApp();
    try {
      const meta = () => app.services.requestMeta('test');
      const ownerId = (await findEmployeeByUsername(app.services.deps, 'admin'))!.employeeId;
      for (let i = 0; i < 20; i++) await registerCustomer(app.services.deps, { fields: { name: `Catch-up ${i}` }, ownerId }, systemActor, meta());
      const target = new EmbeddedReadStore();
      let stagings = 0;
      const runner = new ProjectionRunner(app.services.eventStore, target, allProjections, silentLogger, () => {
        stagings += 1;
        return new EmbeddedReadStore();
      });
      await runner.start();
      await runner.waitFor(await app.services.eventStore.headPosition(), 5000);
      expect(stagings).toBe(1);
      await registerCustomer(app.services.deps, { fields: { name: 'Arrived later' }, ownerId }, systemActor, meta());
      const head = await app.services.eventStore.headPosition();
      await runner.waitFor(head, 5000);
      await app.services.runner.waitFor(head, 5000);
      expect(await readModelDigest(target, allProjections)).toBe(await readModelDigest(app.services.readStore, allProjections));
      await runner.stop();

      const again = new ProjectionRunner(app.services.eventStore, target, allProjections, silentLogger, () => {
        stagings += 1;
        return new EmbeddedReadStore();
      });
      await again.start();
      expect(again.status().map((s) => s.position)).toEqual(allProjections.map(() => head));
      expect(stagings).toBe(1);
      await again.stop();
    } finally {
      await app.close();
    }
  });
});
