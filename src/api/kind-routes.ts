import { z } from 'zod';
import { type KindsAsData, OfferedKind } from '../commands/kinds.ts';
import type { Module } from '../domain/role/index.ts';
import { commonErrors } from './responses.ts';
import { type AnyRoute, defineRoute } from './route.ts';
import { settingRoutes } from './setting-routes.ts';

/**
 * The routes of kinds as data (activity kinds, ticket types): what a new record may take (`offered`, for anyone
 * who may view the module; mount it before the record's `/:id` routes) and the administrators' setting.
 */
export function kindRoutes(declaration: { kinds: KindsAsData; module: Module; tags: string[]; offeredPath: string; settingsPath: string; what: { one: string; many: string; record: string; builtIn: string } }): { offered: AnyRoute; settings: AnyRoute[] } {
  const { kinds, what } = declaration;
  return {
    offered: defineRoute({
      method: 'get',
      path: declaration.offeredPath,
      reads: [],
      summary: `The ${what.many} ${what.record} can have: the built-in ones and those an administrator added`,
      tags: declaration.tags,
      permission: [declaration.module, 'view'],
      responses: { 200: { description: `The ${what.many}`, schema: z.object({ items: z.array(OfferedKind) }) }, ...commonErrors },
      handler: async ({ services }) => ({ status: 200, body: { items: await kinds.offered(services.deps) } }),
    }),
    settings: settingRoutes({
      path: declaration.settingsPath,
      tags: declaration.tags,
      schema: kinds.Settings,
      read: { summary: `The ${what.many} administrators added (besides ${what.builtIn})`, done: 'Settings' },
      write: { summary: `Add, relabel or retire ${what.many} (a retired ${what.one} stays on the records that have it)`, done: 'Changed' },
      load: (deps) => kinds.settings(deps),
      save: ({ body, actor, services, meta }) => kinds.change(services.deps, body, actor, meta),
    }),
  };
}
