import { z } from 'zod';
import { authorize } from '../commands/authorization.ts';
import type { Actor } from '../commands/context.ts';
import { getRelatedPanels } from '../commands/customization.ts';
import { type ResourceName, specOf } from '../domain/customization/resources.ts';
import type { RouteServices as Services } from './route.ts';
import { notFound } from './history.ts';
import { commonErrors, notFoundError } from './responses.ts';
import { type AnyRoute, defineRoute, IdParams } from './route.ts';

/** Loads one related panel of a record: its first `limit` items in the actor's scope and how many there are; null omits it (not permitted). */
export type PanelLoader = (services: Services, actor: Actor, recordId: string, limit: number) => Promise<{ items: unknown[]; total: number } | null>;

const RelatedAnswer = z
  .object({ panels: z.array(z.object({ key: z.string(), items: z.array(z.record(z.string(), z.unknown())), total: z.number().int() })) })
  .meta({ id: 'RelatedAnswer' });

/**
 * `GET /api/v1/<resources>/:id/related`: the panels configured for the resource (settings/related), each with
 * its first items. A resource with related lists plugs in with its loaders; `visible` checks the record's scope.
 */
export function relatedRoute(resource: ResourceName, visible: (services: Services, actor: Actor, id: string) => Promise<boolean>, loaders: Record<string, PanelLoader>): AnyRoute {
  const spec = specOf(resource);
  return defineRoute({
    method: 'get',
    path: `/api/v1/${resource}/:id/related`,
    reads: [resource, ...spec.relatedPanels],
    summary: `A ${resource.replace(/s$/, '')}'s related lists, as configured in /api/v1/settings/related/${resource}`,
    tags: ['Customization 自定义'],
    fields: { resource, shape: 'related' },
    params: IdParams,
    responses: { 200: { description: 'Panels with their first items', schema: RelatedAnswer }, ...commonErrors, ...notFoundError },
    async handler({ params, actor, services }) {
      authorize(actor, spec.module, 'view');
      if (!(await visible(services, actor, params.id))) throw notFound(resource.replace(/s$/, ''), params.id);
      const { panels } = await getRelatedPanels(services.deps, resource);
      const answer = [];
      for (const panel of panels.panels) {
        const loader = loaders[panel.key];
        if (!loader) continue;
        const loaded = await loader(services, actor, params.id, panel.limit);
        if (loaded) answer.push({ key: panel.key, ...loaded });
      }
      return { status: 200, body: { panels: answer } };
    },
  });
}
