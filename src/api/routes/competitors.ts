import { z } from 'zod';
import { addCompetitor, archiveCompetitor, changeCompetitor, restoreCompetitor } from '../../commands/competitors.ts';
import { CompetitorFields, type CompetitorState } from '../../domain/competitor/index.ts';
import { fieldColumns } from '../csv.ts';
import { recordAction, recordRoutes } from '../records.ts';
import { type AnyRoute, EmptyBody } from '../route.ts';

const CompetitorView = CompetitorFields.extend({ id: z.string(), revision: z.number().int(), createdAt: z.string(), updatedAt: z.string(), status: z.enum(['active', 'archived']) }).meta({ id: 'Competitor' });

/** The competitors archive (竞争对手): company-wide, named in opportunities' `competitors`. */
export const competitorRoutes: AnyRoute[] = recordRoutes<CompetitorState>({
  resource: 'competitors',
  view: CompetitorView,
  columns: fieldColumns('id', 'name', 'website', 'strengths', 'weaknesses', 'products', 'status', 'createdAt', 'updatedAt'),
  asOfView: (state) => (state.status === 'none' ? {} : { ...state.fields, status: state.status }),
  create: {
    summary: 'Add a competitor; names are unique (409 competitor.duplicate)',
    body: CompetitorFields.strict().meta({ id: 'CompetitorInput', examples: [{ name: '德国精密泵业', website: 'https://pumps.example.de', strengths: '品牌知名度高', weaknesses: '交期长' }] }),
    run: async ({ body, actor, services, meta }) => addCompetitor(services.deps, body as CompetitorFields, actor, meta),
  },
  patch: { summary: 'Change a competitor', fields: CompetitorFields, schemaId: 'CompetitorPatch', run: ({ params, body, actor, services, meta }) => changeCompetitor(services.deps, params.id, body, actor, meta) },
  actions: [
    recordAction({ action: 'archive', summary: 'Archive a competitor (deals that name it keep it)', body: EmptyBody, permission: 'delete', done: 'Archived', run: ({ params, actor, services, meta }) => archiveCompetitor(services.deps, params.id, actor, meta) }),
    recordAction({ action: 'restore', summary: 'Restore an archived competitor', body: EmptyBody, permission: 'delete', done: 'Restored', run: ({ params, actor, services, meta }) => restoreCompetitor(services.deps, params.id, actor, meta) }),
  ],
});
