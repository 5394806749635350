import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultStages } from '../src/domain/opportunity/index.ts';
import { ManualClock } from '../src/infra/clock.ts';
import { SqliteEventStore } from '../src/infra/eventstore/sqlite.ts';
import type { StreamWrite } from '../src/infra/eventstore/port.ts';
import { silentLogger } from '../src/infra/logger.ts';
import { EmbeddedReadStore } from '../src/infra/readstore/embedded.ts';
import { allProjections } from '../src/projections/all.ts';
import { AsOfModels } from '../src/projections/as-of.ts';
import { FUNNEL } from '../src/projections/opportunities.ts';
import { funnelReport } from '../src/projections/reports.ts';
import { ProjectionRunner } from '../src/projections/runner.ts';
import { salesHistory } from './sales-history.ts';

/**
 * `asof_funnel_ms`: the funnel as it stood on a past day, over a log of about `events` events (two years of
 * sales, salesHistory) in the embedded SQLite store. Cold: the funnel's read model is rebuilt from the log cut
 * at that day (everything the report reads: the opportunities projection), then the report runs on it; warm:
 * the same day asked again (the model is cached). Asked for a day a year back (half the log) and, with
 * `lastDay`, for the last day (all of it).
 */
export async function asOfFunnelBench(events: number, options: { lastDay?: boolean } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'crm-bench-asof-'));
  const store = new SqliteEventStore({ path: join(dir, 'events.sqlite') });
  try {
    const began = performance.now();
    let written = 0;
    // Written in transactions of 2,000 events (one stream write each, as they happened).
    let writes: StreamWrite[] = [];
    for (const event of salesHistory(Math.round(events / 4.46))) {
      writes.push({ streamId: event.streamId, events: [{ id: event.id, type: event.type, data: event.data, metadata: event.metadata }], expected: 'any' });
      written += 1;
      if (writes.length >= 2000) {
        await store.appendAtomically(writes);
        writes = [];
      }
    }
    if (writes.length) await store.appendAtomically(writes);
    const writeSeconds = (performance.now() - began) / 1000;
    const live = new EmbeddedReadStore();
    const runner = new ProjectionRunner(store, live, allProjections, silentLogger);
    const models = new AsOfModels(runner, live, new ManualClock(new Date('2026-12-01T00:00:00.000Z')), silentLogger, { maxModels: 4, ttlMs: 3_600_000 });
    const range = { from: '2024-01-01', to: '2027-01-01', currency: 'CNY' };
    const ask = async (day: string) => {
      const t = performance.now();
      const model = models.model(new Date(`${day}T16:00:00.000Z`), [FUNNEL]);
      const report = await funnelReport(await model.ready, defaultStages, null, range);
      return { ms: performance.now() - t, applied: model.applied, counted: report.stages.reduce((n, stage) => n + (stage.count), 0) };
    };
    const yearBack = await ask('2025-11-30');
    const yearBackWarm = await ask('2025-11-30');
    const lastDay = options.lastDay ? await ask('2026-11-30') : undefined;
    await live.close();
    return { events: written, writeSeconds, yearBack, yearBackWarm, lastDay };
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
