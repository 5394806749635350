import { z } from 'zod';
import type { ImportResource } from '../domain/import/mapping.ts';
import type { Actor, CommandDeps, RequestMeta } from './context.ts';
import { PreconditionFailedError } from './errors.ts';
import { ImportRequest } from './import-rows.ts';
import { readSetting, writeSetting } from './settings.ts';

/**
 * Import templates (导入模板): a column mapping, with its match key and policy, saved under a name per record type,
 * so the next file from the same old system or ERP is mapped at once. Company-wide: whoever imports that record type
 * uses them. Kept as one company setting per record type.
 */
export const ImportTemplate = ImportRequest.extend({
  mapping: z.record(z.string().min(1).max(200), z.string().nullable()).refine((mapping) => Object.values(mapping).some(Boolean), { message: 'Map at least one column' }),
}).meta({ id: 'ImportTemplate' });
export type ImportTemplate = z.infer<typeof ImportTemplate>;

export interface SavedTemplate extends ImportTemplate {
  name: string;
  resource: ImportResource;
  savedBy: string;
  savedAt: string;
}

const settingKey = (resource: ImportResource) => `import-templates:${resource}`;

/** A record type's saved templates, by name. */
export async function importTemplates(deps: CommandDeps, resource: ImportResource): Promise<Record<string, SavedTemplate>> {
  return (await readSetting<Record<string, SavedTemplate>>(deps, settingKey(resource))).value ?? {};
}

/** Changes the templates of a record type: read, changed, written at the revision read (again after a concurrent change). */
async function changeTemplates(deps: CommandDeps, resource: ImportResource, change: (templates: Record<string, SavedTemplate>) => Record<string, SavedTemplate>, actor: Actor, meta: RequestMeta): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const current = await readSetting<Record<string, SavedTemplate>>(deps, settingKey(resource));
    try {
      await writeSetting(deps, settingKey(resource), change({ ...current.value }), actor, { ...meta, ifMatch: current.revision });
      return;
    } catch (error) {
      if (!(error instanceof PreconditionFailedError) || attempt >= 4) throw error;
    }
  }
}

/** Saves a template under a name (replacing one of that name). */
export async function saveImportTemplate(deps: CommandDeps, resource: ImportResource, name: string, template: ImportTemplate, actor: Actor, meta: RequestMeta): Promise<SavedTemplate> {
  const saved: SavedTemplate = { name, resource, ...template, savedBy: actor.userId, savedAt: deps.clock.now().toISOString() };
  await changeTemplates(deps, resource, (templates) => ({ ...templates, [name]: saved }), actor, meta);
  return saved;
}

/** Deletes a template; false when there was none of that name. */
export async function deleteImportTemplate(deps: CommandDeps, resource: ImportResource, name: string, actor: Actor, meta: RequestMeta): Promise<boolean> {
  if (!(name in (await importTemplates(deps, resource)))) return false;
  await changeTemplates(deps, resource, ({ [name]: _gone, ...rest }) => rest, actor, meta);
  return true;
}

/** The template that fits a file best: every column it maps is in the file, and it maps the most of them (undefined: none fits). */
export function fittingTemplate(templates: Readonly<Record<string, SavedTemplate>>, columns: readonly string[]): SavedTemplate | undefined {
  const fits = Object.values(templates)
    .map((template) => ({ template, mapped: Object.entries(template.mapping).filter(([, target]) => target).map(([column]) => column) }))
    .filter(({ mapped }) => mapped.every((column) => columns.includes(column)))
    .sort((a, b) => b.mapped.length - a.mapped.length || b.template.savedAt.localeCompare(a.template.savedAt));
  return fits[0]?.template;
}
