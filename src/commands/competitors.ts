import { type CompetitorCommand, type CompetitorFields, type CompetitorState, competitorIdFor, isCompetitorName } from '../domain/competitor/index.ts';
import { opportunityCategory } from '../domain/opportunity/index.ts';
import { DomainError } from '../domain/shared/errors.ts';
import { normalizeName } from '../domain/shared/normalize.ts';
import type { EventStore } from '../infra/eventstore/port.ts';
import type { Actor, CommandDeps, RequestMeta } from './context.ts';
import { RecordHandler, type RecordRules } from './record-handler.ts';
import { readSetting, writeSetting } from './settings.ts';

export const competitorRules: RecordRules<CompetitorCommand, CompetitorState> = {
  resource: 'competitors',
  uniqueFields: [
    {
      scope: 'competitor.name',
      field: 'name',
      normalize: (name) => (typeof name === 'string' && name ? normalizeName(name) : undefined),
      taken: (name, holderId) => new DomainError('competitor.duplicate', `A competitor named ${String(name)} exists already`, { ...(holderId ? { existingCompetitorId: holderId } : {}) }),
    },
  ],
};

const competitors = (deps: CommandDeps, actor: Actor, meta: RequestMeta) => new RecordHandler(competitorRules, deps, actor, meta);

export const addCompetitor = (deps: CommandDeps, fields: CompetitorFields, actor: Actor, meta: RequestMeta, id?: string) =>
  competitors(deps, actor, meta).create(fields, (competitorId, all) => ({ type: 'AddCompetitor', competitorId, fields: all as CompetitorFields }), id);

export const changeCompetitor = (deps: CommandDeps, competitorId: string, changes: Record<string, unknown>, actor: Actor, meta: RequestMeta) =>
  competitors(deps, actor, meta).change(competitorId, changes, (plain) => ({ type: 'ChangeCompetitor', competitorId, changes: plain }));

export const archiveCompetitor = (deps: CommandDeps, competitorId: string, actor: Actor, meta: RequestMeta) => competitors(deps, actor, meta).run(competitorId, { type: 'ArchiveCompetitor', competitorId });

export const restoreCompetitor = (deps: CommandDeps, competitorId: string, actor: Actor, meta: RequestMeta) => competitors(deps, actor, meta).run(competitorId, { type: 'RestoreCompetitor', competitorId });

const MIGRATED_KEY = 'competitor-names-migrated';
const PAGE = 1000;

/**
 * The start-up migration for opportunities written when competitors were free text: every distinct old name (as
 * normalised for uniqueness) becomes a competitor record, with the id the upcast of those events gives it
 * (`competitorIdFor`), so old deals point at real records. It reads the events as stored (`stored`, before the
 * upcast turns names into ids). Idempotent: a competitor that exists is left alone, a name another competitor
 * holds already is reported and skipped, and once a run completes a setting records it so later starts skip the
 * scan. Returns how many competitors it created.
 */
export async function migrateCompetitorNames(
  deps: CommandDeps,
  stored: Pick<EventStore, 'readAll'>,
  actor: Actor,
  meta: () => RequestMeta,
  onSkipped: (name: string, reason: string) => void = () => undefined,
): Promise<number> {
  if ((await readSetting<boolean>(deps, MIGRATED_KEY)).value) return 0;
  const names = new Map<string, string>();
  let scanned = 0;
  for (let after: bigint | undefined; ; ) {
    const events = await stored.readAll({ ...(after !== undefined ? { after } : {}), filter: { categories: [opportunityCategory], eventTypes: ['OpportunityCreated', 'OpportunityChanged'] }, maxCount: PAGE });
    scanned += events.length;
    for (const event of events) {
      const data = event.data as { fields?: { competitors?: unknown }; changes?: { competitors?: unknown } };
      const entries = data.fields?.competitors ?? data.changes?.competitors;
      if (!Array.isArray(entries)) continue;
      for (const entry of entries) if (typeof entry === 'string' && isCompetitorName(entry) && !names.has(competitorIdFor(entry))) names.set(competitorIdFor(entry), entry.trim());
    }
    if (events.length < PAGE) break;
    after = events.at(-1)!.position;
  }
  let created = 0;
  for (const [id, name] of names) {
    if ((await competitors(deps, actor, meta()).load(id)).state.status !== 'none') continue;
    try {
      await addCompetitor(deps, { name: name.slice(0, 200) }, actor, meta(), id);
      created += 1;
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      onSkipped(name, error.code);
    }
  }
  // A log without opportunities has nothing to migrate, now or later (new events name ids): nothing to record.
  if (scanned > 0) await writeSetting(deps, MIGRATED_KEY, true, actor, meta());
  return created;
}
