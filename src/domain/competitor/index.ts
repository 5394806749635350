import { z } from 'zod';
import type { EventsOf } from '../shared/decider.ts';
import { CustomValues } from '../customization/values.ts';
import type { ResourceSpec } from '../customization/resources.ts';
import { DomainError } from '../shared/errors.ts';
import { ChangeSet, diffFields, withChanges } from '../shared/normalize.ts';

/** A competitor (竞争对手) the sales team meets in its deals: company-wide reference data. */
export const CompetitorFields = z.object({
  name: z.string().trim().min(1).max(200),
  website: z.url().max(500).optional(),
  strengths: z.string().trim().min(1).max(2000).optional().describe('优势'),
  weaknesses: z.string().trim().min(1).max(2000).optional().describe('劣势'),
  products: z.string().trim().min(1).max(2000).optional().describe('Their products that compete with ours'),
  custom: CustomValues.optional(),
});
export type CompetitorFields = z.infer<typeof CompetitorFields>;

export const CompetitorAdded = z.object({ competitorId: z.string(), fields: CompetitorFields });
export const CompetitorChanged = z.object({ competitorId: z.string(), changes: ChangeSet });
export const CompetitorArchived = z.object({ competitorId: z.string() });
export const CompetitorRestored = z.object({ competitorId: z.string() });

/** Its events' schemas, by type (checked on every append). */
export const competitorEventSchemas = { CompetitorAdded, CompetitorChanged, CompetitorArchived, CompetitorRestored };
export type CompetitorEvent = EventsOf<typeof competitorEventSchemas>;
export type CompetitorState = { status: 'none' } | { status: 'active' | 'archived'; competitorId: string; fields: CompetitorFields };
export type CompetitorCommand =
  | { type: 'AddCompetitor'; competitorId: string; fields: CompetitorFields }
  | { type: 'ChangeCompetitor'; competitorId: string; changes: Record<string, unknown> }
  | { type: 'ArchiveCompetitor'; competitorId: string }
  | { type: 'RestoreCompetitor'; competitorId: string };

export const initialState: CompetitorState = { status: 'none' };

export function evolve(state: CompetitorState, event: CompetitorEvent): CompetitorState {
  if (event.type === 'CompetitorAdded') return { status: 'active', competitorId: event.data.competitorId, fields: event.data.fields };
  if (state.status === 'none') return state;
  switch (event.type) {
    case 'CompetitorChanged':
      return withChanges(state, event.data.changes);
    case 'CompetitorArchived':
      return { ...state, status: 'archived' };
    case 'CompetitorRestored':
      return { ...state, status: 'active' };
  }
}

export function decide(command: CompetitorCommand, state: CompetitorState): CompetitorEvent[] {
  const { competitorId } = command;
  if (command.type === 'AddCompetitor') {
    if (state.status !== 'none') throw new DomainError('competitor.already_exists', `Competitor ${competitorId} already exists`, { competitorId });
    return [{ type: 'CompetitorAdded', data: { competitorId, fields: command.fields } }];
  }
  if (state.status === 'none') throw new DomainError('competitor.not_found', `Competitor ${competitorId} does not exist`, { competitorId });
  switch (command.type) {
    case 'ChangeCompetitor': {
      if (state.status === 'archived') throw new DomainError('competitor.archived', 'An archived competitor cannot be changed; restore it first', { competitorId });
      if (command.changes.name === null) throw new DomainError('competitor.field_required', 'name cannot be cleared', { field: 'name' });
      const changes = diffFields(state.fields, command.changes);
      return Object.keys(changes).length ? [{ type: 'CompetitorChanged', data: { competitorId, changes } }] : [];
    }
    case 'ArchiveCompetitor':
      return state.status === 'archived' ? [] : [{ type: 'CompetitorArchived', data: { competitorId } }];
    case 'RestoreCompetitor':
      return state.status === 'active' ? [] : [{ type: 'CompetitorRestored', data: { competitorId } }];
  }
}

export const competitorDecider = { initialState, evolve, decide };
export const competitorCategory = 'competitor';

export { competitorIdFor, competitorReferences, isCompetitorName } from './references.ts';

const optional = (schema: z.ZodType) => schema.optional();

/** The competitors archive as a record type: its registry entry (listed in `resources.ts`). */
export const competitorResource = {
  name: 'competitors',
  singular: 'competitor',
  tag: 'Competitors 竞争对手',
  module: 'opportunities',
  category: competitorCategory,
  decider: competitorDecider,
  scope: { by: 'company' },
  personalFields: [],
  standardFields: ['name', 'website', 'strengths', 'weaknesses', 'products', 'status', 'createdAt', 'updatedAt'],
  relatedPanels: [],
  list: {
    filters: { q: optional(z.string().trim().min(1).max(200)), status: optional(z.enum(['active', 'archived'])) },
    sorts: ['name', 'createdAt', 'updatedAt'],
    defaultSort: 'name',
  },
  search: ['name', 'products'],
  attachments: false,
  events: competitorEventSchemas,
  readModel: { version: 1, view: (state: Exclude<CompetitorState, { status: 'none' }>) => ({ ...state.fields, status: state.status }) },
} as const satisfies ResourceSpec;
