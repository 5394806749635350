import { z } from 'zod';
import { authorize } from '../../commands/authorization.ts';
import {
  defaultPreferences,
  deleteView,
  getLayout,
  getListView,
  getPreferences,
  getRelatedPanels,
  putLayout,
  putListView,
  putPreferences,
  putRelatedPanels,
  savedViews,
  saveView,
} from '../../commands/customization.ts';
import { resourceNames, type ResourceName } from '../../domain/customization/resources.ts';
import { commonErrors, conflictError, notFoundError, staleError } from '../responses.ts';
import { type AnyRoute, defineRoute } from '../route.ts';

const Resource = z.enum(resourceNames as [ResourceName, ...ResourceName[]]);
const FieldName = z.string().min(1).max(60);
const Layout = z
  .object({ sections: z.array(z.object({ title: z.string().trim().min(1).max(100), fields: z.array(FieldName).max(200) }).strict()).min(1).max(50) })
  .strict()
  .meta({ id: 'Layout', description: 'Standard fields by name, custom fields as custom.<key>' });
const ListView = z.object({ columns: z.array(FieldName).min(1).max(100), sort: z.string().max(60).optional() }).strict().meta({ id: 'ListView' });
const SavedViewInput = z
  .object({ name: z.string().trim().min(1).max(100), filter: z.record(z.string(), z.string().max(200)).default({}), sort: z.string().max(60).optional(), columns: z.array(FieldName).max(100).default([]) })
  .strict()
  .meta({ id: 'SavedViewInput' });
const SavedView = SavedViewInput.extend({ id: z.string() }).meta({ id: 'SavedView' });
const RelatedPanels = z
  .object({ panels: z.array(z.object({ key: z.string().min(1).max(60), limit: z.number().int().min(1).max(50).default(5) }).strict()).max(20) })
  .strict()
  .meta({ id: 'RelatedPanels' });
const timezone = z.string().refine((zone) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}, 'Expected an IANA time zone such as Asia/Shanghai');
const Preferences = z
  .object({ language: z.enum(['zh-CN', 'en']), timezone, pageSize: z.number().int().min(10).max(200), theme: z.string().regex(/^[a-z][a-z0-9-]{0,39}$/, 'Expected a theme key') })
  .strict()
  .meta({ id: 'Preferences' });

const settingsTags = ['Customization 自定义'];
const meTags = ['Me 个人设置'];
const etag = (revision: bigint) => ({ ETag: `"${revision}"` });
const saved = (result: { revision: bigint; position: bigint; changed: boolean }, body: unknown) => ({
  status: 200,
  body,
  headers: { ...etag(result.revision), ...(result.changed ? { 'X-Position': String(result.position) } : {}) },
});

export const customizationRoutes: AnyRoute[] = [
  defineRoute({
    method: 'get',
    path: '/api/v1/settings/layouts/:resource/:kind',
    reads: [],
    summary: 'The edit or view page layout of a resource',
    tags: settingsTags,
    params: z.object({ resource: Resource, kind: z.enum(['edit', 'view']) }),
    responses: { 200: { description: 'Layout', schema: Layout }, ...commonErrors },
    async handler({ params, services }) {
      const { layout, revision } = await getLayout(services.deps, params.resource, params.kind);
      return { status: 200, body: layout, headers: etag(revision) };
    },
  }),
  defineRoute({
    method: 'put',
    path: '/api/v1/settings/layouts/:resource/:kind',
    summary: 'Arrange the edit or view page: sections of fields (unknown fields → 400)',
    tags: settingsTags,
    params: z.object({ resource: Resource, kind: z.enum(['edit', 'view']) }),
    body: Layout,
    conditional: true,
    responses: { 200: { description: 'Saved', schema: Layout }, ...commonErrors, ...staleError },
    async handler({ params, body, actor, services, meta }) {
      authorize(actor, 'settings', 'edit');
      return saved(await putLayout(services.deps, params.resource, params.kind, body, actor, meta), body);
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/settings/views/:resource',
    reads: [],
    summary: "The company's default list columns, order and sort for a resource",
    tags: settingsTags,
    params: z.object({ resource: Resource }),
    responses: { 200: { description: 'List view', schema: ListView }, ...commonErrors },
    async handler({ params, services }) {
      const { view, revision } = await getListView(services.deps, params.resource);
      return { status: 200, body: view, headers: etag(revision) };
    },
  }),
  defineRoute({
    method: 'put',
    path: '/api/v1/settings/views/:resource',
    summary: "Set the company's default list columns and sort",
    tags: settingsTags,
    params: z.object({ resource: Resource }),
    body: ListView,
    conditional: true,
    responses: { 200: { description: 'Saved', schema: ListView }, ...commonErrors, ...staleError },
    async handler({ params, body, actor, services, meta }) {
      authorize(actor, 'settings', 'edit');
      return saved(await putListView(services.deps, params.resource, body, actor, meta), body);
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/settings/related/:resource',
    reads: [],
    summary: "Which related lists a record's page shows, in which order, with how many items",
    tags: settingsTags,
    params: z.object({ resource: Resource }),
    responses: { 200: { description: 'Panels', schema: RelatedPanels }, ...commonErrors },
    async handler({ params, services }) {
      const { panels, revision } = await getRelatedPanels(services.deps, params.resource);
      return { status: 200, body: panels, headers: etag(revision) };
    },
  }),
  defineRoute({
    method: 'put',
    path: '/api/v1/settings/related/:resource',
    summary: "Choose a record page's related panels",
    tags: settingsTags,
    params: z.object({ resource: Resource }),
    body: RelatedPanels,
    conditional: true,
    responses: { 200: { description: 'Saved', schema: RelatedPanels }, ...commonErrors, ...staleError },
    async handler({ params, body, actor, services, meta }) {
      authorize(actor, 'settings', 'edit');
      return saved(await putRelatedPanels(services.deps, params.resource, body, actor, meta), body);
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/me/views/:resource',
    reads: [],
    summary: 'Your saved list views; name one with ?view=<id> on the list',
    tags: meTags,
    params: z.object({ resource: Resource }),
    responses: { 200: { description: 'Views', schema: z.object({ items: z.array(SavedView) }) }, ...commonErrors },
    async handler({ params, actor, services }) {
      return { status: 200, body: { items: (await savedViews(services.deps, actor.userId, params.resource)).views } };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/api/v1/me/views/:resource',
    summary: 'Save a list view: name, filter, sort, columns',
    tags: meTags,
    params: z.object({ resource: Resource }),
    body: SavedViewInput,
    responses: { 201: { description: 'Saved', schema: SavedView }, ...commonErrors, ...conflictError },
    async handler({ params, body, actor, services, meta }) {
      const view = await saveView(services.deps, params.resource, body, actor, meta);
      return { status: 201, body: view, headers: { Location: `/api/v1/me/views/${params.resource}/${view.id}` } };
    },
  }),
  defineRoute({
    method: 'put',
    path: '/api/v1/me/views/:resource/:viewId',
    summary: 'Replace one of your saved views',
    tags: meTags,
    params: z.object({ resource: Resource, viewId: z.uuid() }),
    body: SavedViewInput,
    responses: { 200: { description: 'Saved', schema: SavedView }, ...commonErrors, ...notFoundError, ...conflictError },
    async handler({ params, body, actor, services, meta }) {
      return { status: 200, body: await saveView(services.deps, params.resource, { ...body, id: params.viewId }, actor, meta) };
    },
  }),
  defineRoute({
    method: 'delete',
    path: '/api/v1/me/views/:resource/:viewId',
    summary: 'Delete one of your saved views',
    tags: meTags,
    params: z.object({ resource: Resource, viewId: z.uuid() }),
    responses: { 204: { description: 'Deleted' }, ...commonErrors, ...notFoundError },
    async handler({ params, actor, services, meta }) {
      await deleteView(services.deps, params.resource, params.viewId, actor, meta);
      return { status: 204, body: null };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/me/preferences',
    reads: [],
    summary: 'Your preferences: language, time zone, page size, theme',
    tags: meTags,
    responses: { 200: { description: 'Preferences', schema: Preferences }, ...commonErrors },
    async handler({ actor, services }) {
      const { preferences, revision } = await getPreferences(services.deps, actor.userId);
      return { status: 200, body: preferences, headers: etag(revision) };
    },
  }),
  defineRoute({
    method: 'put',
    path: '/api/v1/me/preferences',
    summary: 'Set your preferences',
    description: `Defaults: ${JSON.stringify(defaultPreferences)}`,
    tags: meTags,
    body: Preferences,
    conditional: true,
    responses: { 200: { description: 'Saved', schema: Preferences }, ...commonErrors, ...staleError },
    async handler({ body, actor, services, meta }) {
      return saved(await putPreferences(services.deps, body, actor, meta), body);
    },
  }),
];
