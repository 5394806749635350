import type { FieldDefinition } from '../domain/customization/fields.ts';
import { type ResourceName, filterNames, isResourceName, specOf } from '../domain/customization/resources.ts';
import { DomainError } from '../domain/shared/errors.ts';
import type { Actor, CommandDeps, RequestMeta } from './context.ts';
import { fieldsOf } from './custom-fields.ts';
import { readSetting, writeSetting } from './settings.ts';

/** Layouts, list views, related panels and preferences: settings documents checked against the resource. */
export interface Layout {
  sections: { title: string; fields: string[] }[];
}
export interface ListView {
  columns: string[];
  sort?: string;
}
export interface SavedView extends ListView {
  id: string;
  name: string;
  filter: Record<string, string>;
}
export interface RelatedPanels {
  panels: { key: string; limit: number }[];
}

/** Every field name a layout, view or column may use: standard fields and active custom fields (`custom.<key>`). */
export async function knownFields(deps: CommandDeps, resource: ResourceName): Promise<{ names: Set<string>; custom: Record<string, FieldDefinition> }> {
  const custom = await fieldsOf(deps, resource);
  const names = new Set([...specOf(resource).standardFields, ...Object.values(custom).filter((f) => !f.retired).map((f) => `custom.${f.key}`)]);
  return { names, custom };
}

/** Fields a layout, view or panel list names that the resource does not have (the API answers 400 with their paths). */
export class UnknownFieldsError extends Error {
  constructor(readonly problems: { path: string; message: string }[]) {
    super(`Unknown fields: ${problems.map((p) => p.path).join(', ')}`);
    this.name = 'UnknownFieldsError';
  }
}

async function checkFields(deps: CommandDeps, resource: ResourceName, fields: { path: string; name: string }[]): Promise<void> {
  const { names } = await knownFields(deps, resource);
  const problems = fields.filter((f) => !names.has(f.name)).map((f) => ({ path: f.path, message: `Unknown field ${f.name} on ${resource}` }));
  const seen = new Set<string>();
  for (const f of fields) {
    if (seen.has(f.name)) problems.push({ path: f.path, message: `${f.name} appears twice` });
    seen.add(f.name);
  }
  if (problems.length) throw new UnknownFieldsError(problems);
}

function checkSort(resource: ResourceName, sort: string | undefined, path: string, known: Set<string>): void {
  if (sort === undefined) return;
  const field = sort.replace(/^-/, '');
  if (!specOf(resource).list.sorts.includes(field) && !(field.startsWith('custom.') && known.has(field))) throw new UnknownFieldsError([{ path, message: `Cannot sort ${resource} by ${field}` }]);
}

export const layoutKey = (resource: ResourceName, kind: 'edit' | 'view') => `layout.${resource}.${kind}`;

export async function getLayout(deps: CommandDeps, resource: ResourceName, kind: 'edit' | 'view') {
  const { value, revision } = await readSetting<Layout>(deps, layoutKey(resource, kind));
  return { layout: value ?? { sections: [{ title: 'General', fields: specOf(resource).standardFields.filter((f) => !['createdAt', 'updatedAt', 'status'].includes(f)) }] }, revision };
}

export async function putLayout(deps: CommandDeps, resource: ResourceName, kind: 'edit' | 'view', layout: Layout, actor: Actor, meta: RequestMeta) {
  await checkFields(deps, resource, layout.sections.flatMap((section, i) => section.fields.map((name, j) => ({ path: `sections.${i}.fields.${j}`, name }))));
  return writeSetting(deps, layoutKey(resource, kind), layout, actor, meta);
}

export async function getListView(deps: CommandDeps, resource: ResourceName) {
  const { value, revision } = await readSetting<ListView>(deps, `listview.${resource}`);
  return { view: value ?? { columns: ['name', 'ownerId', 'updatedAt'].filter((c) => specOf(resource).standardFields.includes(c)), sort: '-updatedAt' }, revision };
}

export async function putListView(deps: CommandDeps, resource: ResourceName, view: ListView, actor: Actor, meta: RequestMeta) {
  await checkFields(deps, resource, view.columns.map((name, i) => ({ path: `columns.${i}`, name })));
  const { names } = await knownFields(deps, resource);
  checkSort(resource, view.sort, 'sort', names);
  return writeSetting(deps, `listview.${resource}`, view, actor, meta);
}

const viewsKey = (userId: string, resource: ResourceName) => `views.${userId}.${resource}`;

export async function savedViews(deps: CommandDeps, userId: string, resource: ResourceName): Promise<{ views: SavedView[]; revision: bigint }> {
  const { value, revision } = await readSetting<SavedView[]>(deps, viewsKey(userId, resource));
  return { views: value ?? [], revision };
}

/** Saves a personal view (new when `id` is absent); filters and sorts must be ones the list takes. */
export async function saveView(deps: CommandDeps, resource: ResourceName, input: Omit<SavedView, 'id'> & { id?: string }, actor: Actor, meta: RequestMeta): Promise<SavedView> {
  const spec = specOf(resource);
  const { names, custom } = await knownFields(deps, resource);
  await checkFields(deps, resource, input.columns.map((name, i) => ({ path: `columns.${i}`, name })));
  checkSort(resource, input.sort, 'sort', names);
  const badFilters = Object.keys(input.filter).filter((key) => !filterNames(spec).includes(key) && !(key.startsWith('custom.') && custom[key.slice(7)] && !custom[key.slice(7)]!.retired));
  if (badFilters.length) throw new UnknownFieldsError(badFilters.map((key) => ({ path: `filter.${key}`, message: `${resource} cannot be filtered by ${key}` })));
  const { views } = await savedViews(deps, actor.userId, resource);
  const id = input.id ?? meta.ids.newId();
  if (input.id && !views.some((v) => v.id === input.id)) throw new DomainError('view.not_found', `View ${input.id} does not exist`, { viewId: input.id });
  if (views.some((v) => v.name === input.name && v.id !== id)) throw new DomainError('view.name_taken', `You have a view named ${input.name} already`);
  const view: SavedView = { id, name: input.name, filter: input.filter, columns: input.columns, ...(input.sort ? { sort: input.sort } : {}) };
  await writeSetting(deps, viewsKey(actor.userId, resource), [...views.filter((v) => v.id !== id), view], actor, meta);
  return view;
}

export async function deleteView(deps: CommandDeps, resource: ResourceName, viewId: string, actor: Actor, meta: RequestMeta): Promise<void> {
  const { views } = await savedViews(deps, actor.userId, resource);
  if (!views.some((v) => v.id === viewId)) throw new DomainError('view.not_found', `View ${viewId} does not exist`, { viewId });
  await writeSetting(deps, viewsKey(actor.userId, resource), views.filter((v) => v.id !== viewId), actor, meta);
}

export async function getRelatedPanels(deps: CommandDeps, resource: ResourceName) {
  const { value, revision } = await readSetting<RelatedPanels>(deps, `related.${resource}`);
  return { panels: value ?? { panels: specOf(resource).relatedPanels.map((key) => ({ key, limit: 5 })) }, revision };
}

export async function putRelatedPanels(deps: CommandDeps, resource: ResourceName, panels: RelatedPanels, actor: Actor, meta: RequestMeta) {
  const available = specOf(resource).relatedPanels;
  const problems = panels.panels
    .map((panel, i) => ({ panel, i }))
    .filter(({ panel, i }) => !available.includes(panel.key) || panels.panels.findIndex((p) => p.key === panel.key) !== i)
    .map(({ panel, i }) => ({ path: `panels.${i}.key`, message: available.includes(panel.key) ? `${panel.key} appears twice` : `${resource} has no related ${panel.key}; available: ${available.join(', ') || 'none'}` }));
  if (problems.length) throw new UnknownFieldsError(problems);
  return writeSetting(deps, `related.${resource}`, panels, actor, meta);
}

export interface Preferences {
  language: 'zh-CN' | 'en';
  timezone: string;
  pageSize: number;
  theme: string;
}
export const defaultPreferences: Preferences = { language: 'zh-CN', timezone: 'Asia/Shanghai', pageSize: 50, theme: 'default' };

export async function getPreferences(deps: CommandDeps, userId: string) {
  const { value, revision } = await readSetting<Preferences>(deps, `preferences.${userId}`);
  return { preferences: { ...defaultPreferences, ...value }, revision };
}

export const putPreferences = (deps: CommandDeps, preferences: Preferences, actor: Actor, meta: RequestMeta) => writeSetting(deps, `preferences.${actor.userId}`, preferences, actor, meta);

/** Field rules name existing resources and their fields (standard, or active custom fields). */
export async function checkFieldSecurity(deps: CommandDeps, rules: Record<string, Record<string, string>>): Promise<void> {
  const problems: { path: string; message: string }[] = [];
  for (const [resource, fields] of Object.entries(rules)) {
    if (!isResourceName(resource)) {
      problems.push({ path: `fieldSecurity.${resource}`, message: `Unknown resource ${resource}` });
      continue;
    }
    const { names } = await knownFields(deps, resource);
    for (const field of Object.keys(fields)) if (!names.has(field)) problems.push({ path: `fieldSecurity.${resource}.${field}`, message: `Unknown field ${field} on ${resource}` });
  }
  if (problems.length) throw new UnknownFieldsError(problems);
}
